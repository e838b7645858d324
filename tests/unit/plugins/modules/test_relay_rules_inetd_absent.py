# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""relay_rules, format hosts_allow, state absent: hosts.allow's block stays until inetd has let go of the port.

Until inetd rereads inetd.conf it still serves the port through tcpd, which reads hosts.allow at every connection;
without the block the relay clients lose RELAYCLIENT (553).  The "inetd" is this test's own process (program: the
Python interpreter, pid file: its pid) with a real socket listening on 127.0.0.1; closing it is inetd's HUP.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import socket
import sys
import time

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import front_end_files
from ansible_collections.teamware.qmail.plugins.module_utils import inetd_front_end
from ansible_collections.teamware.qmail.plugins.modules import relay_rules

from ....loopback import free_port
from .conftest import run_module

BEGIN = front_end_files.HOSTS_ALLOW_MARKER.replace("{mark}", "BEGIN")
END = front_end_files.HOSTS_ALLOW_MARKER.replace("{mark}", "END")
ALLOW = "tcp-env: 127.: setenv = RELAYCLIENT"
STATE = "teamware-qmail-inetd.json"


def text(*lines):
    return "".join(line + "\n" for line in lines)


class Inetd(object):
    """This process as inetd: its pid file, and a socket on the port while it serves the old inetd.conf."""

    def __init__(self, tmp_path):
        self.port = free_port()
        self.pid_file = tmp_path / "inetd.pid"
        self.pid_file.write_text("%d\n" % os.getpid())
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", self.port))
        self.socket.listen(1)

    def hup(self):
        """inetd rereads an inetd.conf without the line: it lets go of the port."""
        self.socket.close()

    def args(self, etc, **extra):
        return dict(dict(format="hosts_allow", relay_clients=["127."], variable_prefix="inetd_", port=str(self.port),
                         inetd_conf=str(etc / "inetd.conf"), hosts_allow=str(etc / "hosts.allow"),
                         inetd_pid_file=str(self.pid_file), inetd_program=os.path.realpath(sys.executable)), **extra)


@pytest.fixture
def inetd(tmp_path):
    made = Inetd(tmp_path)
    yield made
    made.hup()


@pytest.fixture
def enabled(capsys, etc, inetd):
    """inetd.conf's line and the block written, the HUP of that change cleared; the host's own lines beside them."""
    for dummy in range(2):  # written, then the HUP of the change cleared
        run_module(relay_rules, capsys, inetd.args(etc, completed_actions=["hup_inetd"]))
    assert not (etc / STATE).exists()
    (etc / "hosts.allow").write_text((etc / "hosts.allow").read_text() + text("sshd: ALL"))
    return etc


def run(capsys, args, check=False, diff=False):
    return run_module(relay_rules, capsys, args, check=check, diff=diff)


@pytest.fixture
def warned(monkeypatch):
    """What the module passed to module.warn(), in order."""
    texts = []
    monkeypatch.setattr(relay_rules.AnsibleModule, "warn", lambda self, text: texts.append(text))
    return texts


def owed(etc):
    path = etc / STATE
    return json.loads(path.read_text())["owed"] if path.exists() else None


def test_the_block_stays_until_inetd_had_its_hup(capsys, enabled, inetd, warned):
    etc = enabled
    first = run(capsys, inetd.args(etc, state="absent"))
    # the line is gone and the HUP recorded; tcpd, which inetd still runs for the old line, keeps the block
    assert first["changed"] is True and first["inetd_holds_port"] is True
    assert [c["kind"] for c in first["changes"]] == ["state", "inetd.conf"]
    assert first["owed_actions"] == ["hup_inetd"] and owed(etc) == ["hup_inetd"]
    assert "smtp" not in (etc / "inetd.conf").read_text()
    assert (etc / "hosts.allow").read_text() == text(BEGIN, ALLOW, END, "sshd: ALL")
    assert warned == []
    inetd.hup()
    last = run(capsys, inetd.args(etc, state="absent", completed_actions=first["owed_actions"]))
    assert last["changed"] is True and last["inetd_holds_port"] is False and last["owed_actions"] == []
    assert [(c["kind"], c["action"]) for c in last["changes"]] == [("state", "remove"), ("hosts.allow", "write")]
    assert (etc / "hosts.allow").read_text() == text("sshd: ALL") and owed(etc) is None
    settled = run(capsys, inetd.args(etc, state="absent"))
    assert settled["changed"] is False and settled["changes"] == []


def test_a_run_killed_before_the_hup_keeps_the_block_until_the_next_run_sent_it(capsys, enabled, inetd):
    etc = enabled
    run(capsys, inetd.args(etc, state="absent"))
    # the run was killed here; the next one: its first call owes the HUP still, and the block stays
    again = run(capsys, inetd.args(etc, state="absent"))
    assert again["changed"] is False and again["owed_actions"] == ["hup_inetd"] and again["inetd_holds_port"] is True
    assert (etc / "hosts.allow").read_text().startswith(BEGIN)
    inetd.hup()
    last = run(capsys, inetd.args(etc, state="absent", completed_actions=["hup_inetd"]))
    assert last["owed_actions"] == [] and (etc / "hosts.allow").read_text() == text("sshd: ALL")


def test_check_mode_and_diff_show_the_whole_plan_at_once(capsys, enabled, inetd):
    etc = enabled
    before = dict((name, (etc / name).read_text()) for name in os.listdir(str(etc)))
    planned = run(capsys, inetd.args(etc, state="absent"), check=True, diff=True)
    assert dict((name, (etc / name).read_text()) for name in os.listdir(str(etc))) == before
    assert planned["inetd_holds_port"] is True and planned["owed_actions"] == ["hup_inetd"]
    assert [c["kind"] for c in planned["changes"]] == ["state", "hosts.allow", "inetd.conf"]
    diffs = dict((d["after_header"], d) for d in planned["diff"])
    assert diffs[str(etc / "hosts.allow")]["after"] == text("sshd: ALL")
    assert "smtp" not in diffs[str(etc / "inetd.conf")]["after"]


def test_an_inetd_that_does_not_run_lets_the_block_go_at_once(capsys, enabled, inetd):
    etc = enabled
    inetd.pid_file.write_text("")
    absent = run(capsys, inetd.args(etc, state="absent"))
    assert absent["inetd_holds_port"] is False and absent["owed_actions"] == ["hup_inetd"]
    assert [c["kind"] for c in absent["changes"]] == ["state", "hosts.allow", "inetd.conf"]
    assert (etc / "hosts.allow").read_text() == text("sshd: ALL")


def test_a_hup_the_module_did_not_see_arrive_keeps_the_block_and_warns(capsys, enabled, inetd, monkeypatch, warned):
    """The caller says the HUP ran (completed_actions) but inetd still listens (it did not reread inetd.conf in time):
    the block stays (after a wait for inetd to let go) and the run says so; the first run after a HUP that arrives
    takes it out.  (The inetd role passes only a HUP it sent: with inetd_reload_method none nothing is completed.)"""
    etc = enabled
    monkeypatch.setattr(inetd_front_end, "HUP_WAIT", 0.5)
    run(capsys, inetd.args(etc, state="absent"))
    cleared = run(capsys, inetd.args(etc, state="absent", completed_actions=["hup_inetd"]))
    assert cleared["owed_actions"] == [] and cleared["inetd_holds_port"] is True
    assert [(c["kind"], c["action"]) for c in cleared["changes"]] == [("state", "remove")]
    assert (etc / "hosts.allow").read_text().startswith(BEGIN)
    assert len(warned) == 1
    assert "the relay clients' block stays in %s until inetd rereads it (send it a HUP)" % (etc / "hosts.allow") in warned[0]
    # a look in check mode shows the block's removal still to come
    assert [c["kind"] for c in run(capsys, inetd.args(etc, state="absent"), check=True)["changes"]] == ["hosts.allow"]
    inetd.hup()
    after = run(capsys, inetd.args(etc, state="absent"))
    assert after["changed"] is True and (etc / "hosts.allow").read_text() == text("sshd: ALL")
    assert len(warned) == 1


def test_a_hup_the_caller_did_not_send_stays_owed_until_inetd_lets_go_of_the_port(capsys, enabled, inetd, warned):
    """inetd_reload_method none: the role sends no HUP and completes none; the HUP stays owed (the look in check mode
    says the same), nothing waits or warns; once inetd has let go of the port (the admin's HUP) the next call takes
    the block out and the owed HUP with it."""
    etc = enabled
    first = run(capsys, inetd.args(etc, state="absent"))
    assert first["owed_actions"] == ["hup_inetd"] and first["inetd_holds_port"] is True
    started = time.time()
    last = run(capsys, inetd.args(etc, state="absent"))
    assert time.time() - started < inetd_front_end.HUP_WAIT
    assert last["owed_actions"] == ["hup_inetd"] and last["changed"] is False and warned == []
    assert run(capsys, inetd.args(etc, state="absent"), check=True)["owed_actions"] == ["hup_inetd"]
    assert (etc / "hosts.allow").read_text().startswith(BEGIN)
    inetd.hup()
    looked = run(capsys, inetd.args(etc, state="absent"), check=True)
    assert looked["owed_actions"] == [] and [c["kind"] for c in looked["changes"]] == ["state", "hosts.allow"]
    after = run(capsys, inetd.args(etc, state="absent"))
    assert after["owed_actions"] == [] and after["inetd_holds_port"] is False
    assert (etc / "hosts.allow").read_text() == text("sshd: ALL")
    assert not os.path.exists(str(etc / "teamware-qmail-inetd.json")) and warned == []


def test_the_call_after_the_hup_waits_for_inetd_to_let_go_of_the_port(capsys, enabled, inetd, monkeypatch):
    etc = enabled
    run(capsys, inetd.args(etc, state="absent"))
    looks = []
    real = inetd_front_end.front_end_service.inetd_holds_port

    def slow_inetd(*args):
        looks.append(args)
        if len(looks) == 3:
            inetd.hup()  # inetd rereads inetd.conf a moment after the HUP
        return real(*args)

    monkeypatch.setattr(inetd_front_end.front_end_service, "inetd_holds_port", slow_inetd)
    last = run(capsys, inetd.args(etc, state="absent", completed_actions=["hup_inetd"]))
    # held twice, then let go: the module looked again and did not give up
    assert len(looks) == 3 and last["inetd_holds_port"] is False
    assert (etc / "hosts.allow").read_text() == text("sshd: ALL")


def test_enabling_writes_the_block_before_inetd_conf(capsys, etc, inetd):
    """The symmetric case: the relay clients are in hosts.allow before inetd.conf gets the line that inetd will read
    after its HUP (the plan's order, which write follows)."""
    enabled = run(capsys, inetd.args(etc))
    assert [c["kind"] for c in enabled["changes"]] == ["state", "hosts.allow", "inetd.conf"]
    assert "inetd_holds_port" not in enabled


def test_a_pid_file_that_cannot_be_read_stops_the_module_before_any_change(capsys, enabled, inetd, monkeypatch):
    etc = enabled
    before = dict((name, (etc / name).read_text()) for name in os.listdir(str(etc)))

    read_text = inetd_front_end.front_end_service.files.read_text

    def pid_file_unreadable(path):
        if path == str(inetd.pid_file):
            raise PermissionError(13, "Permission denied", path)
        return read_text(path)

    monkeypatch.setattr(inetd_front_end.front_end_service.files, "read_text", pid_file_unreadable)
    failed = run(capsys, inetd.args(etc, state="absent"))
    assert failed["failed"] is True
    assert failed["msg"].startswith("inetd_pid_file: cannot tell whether inetd still serves port %s" % inetd.port)
    assert "nothing changed" in failed["msg"]
    monkeypatch.undo()
    assert dict((name, (etc / name).read_text()) for name in os.listdir(str(etc))) == before
