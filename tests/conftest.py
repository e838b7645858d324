# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Say loudly how many tests were skipped for lack of a real qmail installation."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .qmail_installation import SKIP_PREFIX


def pytest_terminal_summary(terminalreporter):
    skipped = [report for report in terminalreporter.stats.get("skipped", [])
               if SKIP_PREFIX in str(getattr(report, "longrepr", ""))]
    if skipped:
        terminalreporter.write_sep("!", "%d TESTS SKIPPED: NO REAL QMAIL INSTALLATION" % len(skipped), red=True, bold=True)
        terminalreporter.write_line("Install qmail outside this repository and set TEAMWARE_QMAIL_DIR (see docs/testing.md).")
