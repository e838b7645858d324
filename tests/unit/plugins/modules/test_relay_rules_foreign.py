# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""relay_rules on front-end files that hold the host's own lines: kept, or a conflict with nothing changed (issue 13)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import subprocess

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import front_end_ownership
from .test_relay_rules import rules_args, run, tree_listing

HOST_RULES = ('# the admin\'s rules\n:allow,QMAILQUEUE="/var/qmail/bin/qmail-scanner-queue"\n'
              '198.51.100.7:deny\n192.0.2.:allow,RELAYCLIENT=""\n')


def test_the_hosts_own_rules_are_kept_and_a_second_run_changes_nothing(capsys, etc, fake_tcprules):
    tcprules, _log = fake_tcprules
    (etc / "tcp.smtp").write_text(HOST_RULES)
    result = run(capsys, rules_args(etc, tcprules), diff=True)
    assert result["changed"] and result["kept"] == HOST_RULES.splitlines()[1:]
    text = (etc / "tcp.smtp").read_text()
    assert text.startswith(HOST_RULES) and front_end_ownership.RULES_BEGIN in text
    # The host's default rule answers everybody else: the collection writes no second one.
    assert [line for line in text.splitlines() if line.startswith(":")] == HOST_RULES.splitlines()[1:2]
    assert '127.:allow,RELAYCLIENT=""' in text and '192.0.2.10:allow,RELAYCLIENT=""' in text
    assert run(capsys, rules_args(etc, tcprules))["changed"] is False


@pytest.mark.parametrize("check", [False, True])
@pytest.mark.parametrize("line, entry", [
    ("192.0.2.10:deny", "tcprules:192.0.2.10"),
    ("127.0.0.1:allow", "tcprules:127.0.0.1"),
    (':allow,RELAYCLIENT=""', "tcprules:default"),
])
def test_a_contradicting_rule_stops_the_module_with_nothing_changed(capsys, etc, fake_tcprules, line, entry, check):
    tcprules, _log = fake_tcprules
    (etc / "tcp.smtp").write_text("# mine\n" + line + "\n")
    before = tree_listing(etc), (etc / "tcp.smtp").read_text()
    result = run(capsys, rules_args(etc, tcprules), check=check)
    assert result["failed"] and [c["entry"] for c in result["conflicts"]] == [entry]
    assert "nothing changed" in result["msg"] and str(etc / "tcp.smtp") in result["msg"] and line in result["msg"]
    assert "qmail_take_over" in result["msg"]
    assert (tree_listing(etc), (etc / "tcp.smtp").read_text()) == before
    taken = run(capsys, rules_args(etc, tcprules, take_over=[entry]), check=check)
    assert taken.get("failed") is not True and taken["changed"]
    if not check:
        assert line not in (etc / "tcp.smtp").read_text().splitlines() and "# mine" in (etc / "tcp.smtp").read_text()


def test_real_tcprules_compiles_the_hosts_rules_with_the_collections(capsys, etc):
    tcprules, tcprulescheck = shutil.which("tcprules"), shutil.which("tcprulescheck")
    if not tcprules or not tcprulescheck:
        pytest.skip("SKIPPED LOUDLY: ucspi-tcp is not installed (tcprules, tcprulescheck)")
    (etc / "tcp.smtp").write_text(HOST_RULES)
    assert run(capsys, rules_args(etc, tcprules))["changed"]

    def check(address):
        return subprocess.run([tcprulescheck, str(etc / "tcp.smtp.cdb")], env=dict(os.environ, TCPREMOTEIP=address),
                              stdout=subprocess.PIPE, check=False, universal_newlines=True).stdout

    assert "RELAYCLIENT" in check("192.0.2.10") and "RELAYCLIENT" in check("127.0.0.1")
    assert "deny" in check("198.51.100.7")
    assert "QMAILQUEUE" in check("203.0.113.5") and "RELAYCLIENT" not in check("203.0.113.5")


INETD_SMTP = "smtp stream tcp nowait qmaild /usr/sbin/tcpd /var/qmail/bin/tcp-env /var/qmail/bin/qmail-smtpd"
MARKER = front_end_ownership.front_end_files.HOSTS_ALLOW_MARKER


def inetd_args(etc, **extra):
    args = dict(format="hosts_allow", relay_clients=["127."], inetd_conf=str(etc / "inetd.conf"),
                hosts_allow=str(etc / "hosts.allow"))
    args.update(extra)
    return args


@pytest.mark.parametrize("state", ["present", "absent"])
def test_inetd_line_of_another_program_on_the_port_is_a_conflict(capsys, etc, state):
    (etc / "inetd.conf").write_text("smtp stream tcp nowait root /usr/sbin/exim4 exim4 -bs\n")
    (etc / "hosts.allow").write_text("")
    result = run(capsys, inetd_args(etc, state=state))
    assert result["failed"] and [c["entry"] for c in result["conflicts"]] == ["inetd.conf:smtp"]
    assert ("puts qmail-smtpd there" if state == "present" else "puts tcpserver") in result["msg"]
    taken = run(capsys, inetd_args(etc, state=state, take_over=["inetd.conf:smtp"]))
    assert taken["inetd_conf_lines"] == ["smtp stream tcp nowait root /usr/sbin/exim4 exim4 -bs"]


def test_inetd_keeps_a_submission_line_and_replaces_the_documents_line(capsys, etc):
    submission = "587 stream tcp nowait qmaild /var/qmail/bin/tcp-env tcp-env /var/qmail/bin/qmail-smtpd"
    (etc / "inetd.conf").write_text(INETD_SMTP.replace("qmaild", "root") + "\n" + submission + "\n")
    (etc / "hosts.allow").write_text("")
    result = run(capsys, inetd_args(etc))
    assert result["inetd_conf_other_lines"] == [INETD_SMTP.replace("qmaild", "root")]
    assert submission not in result["inetd_conf_lines"]


def test_hosts_allow_open_relay_is_a_conflict_and_taken_over_lines_are_returned(capsys, etc):
    (etc / "inetd.conf").write_text(INETD_SMTP + "\n")
    (etc / "hosts.allow").write_text("sshd: ALL\ntcp-env: ALL: setenv = RELAYCLIENT\n")
    result = run(capsys, inetd_args(etc))
    assert result["failed"] and [c["entry"] for c in result["conflicts"]] == ["hosts.allow:tcp-env:ALL"]
    assert "open relay" in result["msg"]
    taken = run(capsys, inetd_args(etc, take_over=["hosts.allow:tcp-env:ALL"]))
    assert taken["hosts_allow_remove"] == ["tcp-env: ALL: setenv = RELAYCLIENT"]
    assert taken["hosts_allow_current"] is False and taken["files_current"] is False
