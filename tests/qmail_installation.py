# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the tests find a real qmail installation (never part of this repository).

TEAMWARE_QMAIL_DIR names an installed qmail (default /var/qmail when it has
bin/qmail-remote).  Tests that need it call ``require_qmail()``; without one they
are skipped with a reason that starts with SKIP_PREFIX, and tests/conftest.py
prints a loud summary of how many were skipped.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

SKIP_PREFIX = "NEEDS REAL QMAIL"


def qmail_dir():
    candidate = os.environ.get("TEAMWARE_QMAIL_DIR", "/var/qmail")
    if os.path.isfile(os.path.join(candidate, "bin", "qmail-remote")):
        return candidate
    return None


def require_qmail(*programs):
    """The qmail directory, or skip the test loudly."""
    found = qmail_dir()
    if found is None:
        pytest.skip("%s: no qmail installation (set TEAMWARE_QMAIL_DIR to an installed qmail, e.g. /var/qmail)" % SKIP_PREFIX)
    for program in programs:
        if not os.access(os.path.join(found, "bin", program), os.X_OK):
            pytest.skip("%s: %s/bin/%s is missing" % (SKIP_PREFIX, found, program))
    return found
