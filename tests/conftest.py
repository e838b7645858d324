# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared by all tests: the collection on sys.path, and a loud count of tests skipped for lack of a real qmail."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .collection_root import make_importable
from .qmail_installation import SKIP_PREFIX

# Make the repository importable as ansible_collections.teamware.qmail (the repository root
# is the collection root); `make unit` sets PYTHONPATH itself, a plain `pytest tests` uses this.
try:
    import ansible_collections.teamware.qmail  # noqa: F401  pylint: disable=unused-import
except ImportError:
    make_importable()


def pytest_terminal_summary(terminalreporter):
    skipped = [report for report in terminalreporter.stats.get("skipped", [])
               if SKIP_PREFIX in str(getattr(report, "longrepr", ""))]
    if skipped:
        terminalreporter.write_sep("!", "%d TESTS SKIPPED: NO REAL QMAIL INSTALLATION" % len(skipped), red=True, bold=True)
        terminalreporter.write_line("Install qmail outside this repository and set TEAMWARE_QMAIL_DIR (see docs/testing.md).")
