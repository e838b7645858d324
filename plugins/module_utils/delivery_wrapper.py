# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The delivery wrapper that .qmail pipes use instead of a bare qmail-remote.

qmail-remote always exits 0; this sh script turns its reports into the exit codes
qmail-local understands (0 delivered, 100 bounce, 111 retry).  routing_table writes
it to qmail_delivery_wrapper together with the routing files.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shlex

SCRIPT = r"""#!/bin/sh
# teamware-qmail-remote: deliver a message by SMTP from a .qmail pipe without losing it.
# Installed by teamware.qmail (routing_table): changes made here are overwritten.
#
# qmail-remote always exits 0 and writes its verdict to stdout as NUL-terminated
# reports.  Piped to directly from a .qmail file (as the Teamware integration
# document shows), qmail-local therefore counts every failure as a delivery and
# the message is lost.  This wrapper reads the reports and exits the way
# qmail-local understands:
#   0    delivered: the recipient was accepted (r) and so was the message (K)
#   100  permanent failure: recipient (h) or message (D) refused; qmail bounces
#   111  temporary failure: recipient (s) or message (Z) deferred, no report at
#        all, or a usage error; qmail keeps the message and retries
# A temporary report wins over a permanent one ("450 to RCPT" is followed by
# "D Giving up"), so mail is deferred rather than bounced when in doubt.
#
# Usage in a .qmail file, one recipient per line:
#   | /usr/local/bin/teamware-qmail-remote HOST "$SENDER" "$RECIPIENT"
# HOST goes through control/smtproutes like any remote host.

qmail_remote='@QMAIL_DIR@/bin/qmail-remote'

if [ "$#" -lt 3 ]; then
  echo "teamware-qmail-remote: usage: HOST SENDER RECIPIENT...; check the .qmail line. (#4.3.5)"
  exit 111
fi
if [ ! -x "$qmail_remote" ]; then
  echo "teamware-qmail-remote: $qmail_remote is missing or not executable. (#4.3.5)"
  exit 111
fi

# One line per report: newlines inside a report become spaces, NULs end lines.
reports=$("$qmail_remote" "$@" | tr '\n\000' ' \n')

temporary=0
permanent=0
delivered=0
while IFS= read -r report; do
  case $report in
    r*) ;;
    K*) delivered=1 ;;
    s*|Z*) temporary=1 ;;
    h*|D*) permanent=1 ;;
    *) continue ;;
  esac
  # qmail-local puts this text into its log and into the bounce.
  printf '%s\n' "${report#?}"
done <<REPORTS
$reports
REPORTS

if [ "$temporary" = 1 ]; then
  exit 111
fi
if [ "$permanent" = 1 ]; then
  exit 100
fi
if [ "$delivered" = 1 ]; then
  exit 0
fi
echo "teamware-qmail-remote: qmail-remote gave no verdict. (#4.3.0)"
exit 111
"""


def render(qmail_dir):
    """The wrapper for a qmail installed in qmail_dir (a validated absolute path)."""
    return SCRIPT.replace("'@QMAIL_DIR@/bin/qmail-remote'", shlex.quote(qmail_dir + "/bin/qmail-remote"))
