# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""site.yml really killed between a write and the action it owes the host, then finished by the next run.

Each run of ansible-playbook gets a process group of its own. The stand-in of the action that follows the write kills
the run on its first call, before it does anything: SIGKILL to the run's process group (ansible-playbook) and to its
own (the worker, which ansible-core puts in a session of its own, the module and the stand-in), as an admin's kill or a
lost controller leaves it. Later calls do what the stand-in does (record the action)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import signal

import pytest

from .fake_host import GID, UID, FakeHost
from .playbook_helpers import REPO, run_playbook, snapshot
from .test_qmail_role import METHODS

SITE = os.path.join(REPO, "site.yml")

pytestmark = pytest.mark.skipif(not shutil.which("tcprules"), reason="needs tcprules (Debian package ucspi-tcp)")

# Kills the run on the first call that matches, once: the group whose id is in {pgid} (ansible-playbook), then the
# stand-in's own group (ansible-core's worker calls setsid: it, the module and the stand-in are a group of their own,
# which the first kill does not reach). /bin/sh may be dash, whose kill takes no "--".
KILLER = """#!/bin/sh
if [ -e "{armed}" ] && {{ [ -z "{arg}" ] || [ "$1" = "{arg}" ]; }}; then
    rm -f "{armed}"
    kill -KILL -"$(cat "{pgid}")"
    kill -KILL 0
    exit 137
fi
echo "$(basename "$0") $*" >> {log}
{extra}
"""


def read(path):
    with open(path) as handle:
        return handle.read()


class Case:
    """front_end, method and settings of the first run (on_host: those that name a path on the host); what the second
    changes; the stand-in that kills (a path under the host's root, the first argument it kills on, what it does
    besides recording); the action's record; the state file that owes it (under the host's root, removed once it
    ran; None when the record is kept elsewhere)."""

    def __init__(self, name, method, change, stand_in, action, front_end="tcpserver", arg="", extra="", state=None,
                 on_host=lambda host: {}, **base):
        self.name, self.method, self.change, self.front_end, self.base = name, method, change, front_end, base
        self.stand_in, self.arg, self.extra, self.action, self.on_host = stand_in, arg, extra, action, on_host
        self.state = state

    def variables(self, host, changed):
        settings = dict(METHODS[self.method], teamware_integration_method=self.method, **self.base)
        settings.update(self.on_host(host))
        settings.update(self.change(host) if changed else {})
        return host.site_variables(self.front_end, **settings)


def newu_written(host):
    assign = os.path.join(host.qmail, "users", "assign")
    assert "=bob:bob:%d:%d:" % (UID, GID) in read(assign)
    # what tells the next run that qmail-newu is owed: users/cdb older than users/assign
    assert os.stat(os.path.join(host.qmail, "users", "cdb")).st_mtime < os.stat(assign).st_mtime


def hup_written(host):
    assert "other.example:other" in read(os.path.join(host.qmail, "control", "virtualdomains"))
    assert json.loads(read(os.path.join(host.qmail, "control", "teamware-qmail.json")))["pending"] == ["hup_qmail_send"]


def connector_written(host):
    assert "no_relay = 0" in read(os.path.join(host.root, "to", "to.ini"))
    assert host.actions() == ["qmailctl stop"]


def tcpserver_written(host):
    service = os.path.join(host.root, "supervise", "qmail-smtpd")
    assert "tcpserver -q" in read(os.path.join(service, "run"))
    assert json.loads(read(os.path.join(service, "teamware-qmail.json")))["owed"] == ["restart_tcpserver"]


def inetd_written(host):
    assert read(os.path.join(host.root, "etc", "inetd.conf")).startswith("2525 stream tcp nowait nobody ")
    assert json.loads(read(os.path.join(host.root, "etc", "teamware-qmail-inetd.json")))["owed"] == ["hup_inetd"]


def send_service_dir(host):
    return os.path.join(host.qmail, "supervise", "qmail-send")


def restart_written(host):
    assert read(os.path.join(send_service_dir(host), "run")).endswith(" qmail-start ./Mailbox\n")
    state = json.loads(read(os.path.join(send_service_dir(host), "teamware-qmail.json")))
    assert state["owed"] == ["restart_qmail_send"]


def bob(host):
    return dict(qmail_extra_users=[dict(address="bob", user="bob", uid=UID, gid=GID, home=os.path.join(host.root, "bob"))])


CASES = [
    (Case("qmail-newu", "smtp_smtproutes", bob, "var/qmail/bin/qmail-newu", "qmail-newu",
          extra='touch "{qmail}/users/cdb"'), newu_written),
    (Case("qmail-send HUP", "smtp_smtproutes",
          lambda host: dict(qmail_extra_virtualdomains=[dict(domain="other.example", prepend="other")]),
          "qmailctl", "qmailctl hup", arg="hup"), hup_written),
    (Case("connector start", "smtp_smtproutes", lambda host: dict(mime_connector_no_relay=0),
          "qmailctl", "qmailctl start", arg="start", state="to/teamware-qmail-connector.state"), connector_written),
    (Case("tcpserver svc -t", "smtp_smtproutes", lambda host: dict(ucspi_tcp_log_level="quiet"),
          "tools/svc", "svc -t {root}/supervise/qmail-smtpd", arg="-t", state="supervise/qmail-smtpd/teamware-qmail.json"),
     tcpserver_written),
    (Case("inetd HUP", "torecvm_users", lambda host: dict(inetd_port="2525"), "tools/start-stop-daemon",
          "start-stop-daemon --stop --signal HUP --quiet --pidfile /run/inetd.pid --exec /usr/sbin/inetd",
          front_end="inetd", inetd_reload_method="pidfile", state="etc/teamware-qmail-inetd.json"), inetd_written),
    # qmail-send under daemontools (its run script holds the default delivery; the fake host's scan directory)
    (Case("qmail-send svc -t", "smtp_smtproutes", lambda host: dict(qmail_default_delivery="./Mailbox"),
          "tools/svc", "svc -t {root}/service/qmail-send", arg="-t", qmail_send_service_manage=True,
          state="var/qmail/supervise/qmail-send/teamware-qmail.json",
          on_host=lambda host: dict(qmail_service_dir=os.path.join(host.root, "service"))), restart_written),
]


@pytest.fixture
def host(tmp_path, monkeypatch):
    """The fake host, with stand-ins of daemontools' svok and svc and of start-stop-daemon first in PATH (supervise
    runs every service directory there is)."""
    fake = FakeHost(tmp_path / "host")
    tools = os.path.join(fake.root, "tools")
    os.makedirs(tools)
    for name, extra in (("svok", 'test -d "$1"'), ("svc", ""), ("start-stop-daemon", "")):
        fake.stub(os.path.join(tools, name), extra)
    monkeypatch.setenv("PATH", tools + os.pathsep + os.environ["PATH"])
    return fake


def actions(host):
    """What the stand-ins were asked to do, but svok (which only looks whether supervise runs a service)."""
    return [done for done in host.actions() if not done.startswith("svok ")]


def files(host):
    found = snapshot(host.root)
    found.pop(os.path.relpath(host.log, host.root), None)
    return found


def arm(host, tmp_path, case):
    """The stand-in of the case's action kills the run on its first matching call; returns the run's pgid file."""
    pgid, armed = os.path.join(str(tmp_path), "run.pgid"), os.path.join(str(tmp_path), "armed")
    host.write(armed, "")
    host.write(os.path.join(host.root, case.stand_in),
               KILLER.format(armed=armed, arg=case.arg, pgid=pgid, log=host.log,
                             extra=case.extra.format(qmail=host.qmail)))
    return pgid, armed


@pytest.mark.parametrize("case, written", CASES, ids=[case.name for case, _written in CASES])
def test_a_killed_run_is_finished_by_the_next(tmp_path, host, case, written):
    first = run_playbook(SITE, tmp_path, case.variables(host, changed=False))
    assert first.returncode == 0, first.output
    pgid, armed = arm(host, tmp_path, case)
    action = case.action.format(root=host.root)
    host.clear_actions()

    killed = run_playbook(SITE, tmp_path, case.variables(host, changed=True), pgid_file=pgid)
    assert killed.returncode == -signal.SIGKILL, killed.output
    assert not os.path.exists(armed) and "PLAY RECAP" not in killed.output, killed.output
    written(host)
    assert case.state is None or os.path.exists(os.path.join(host.root, case.state))
    assert action not in host.actions(), killed.output

    host.clear_actions()
    rerun = run_playbook(SITE, tmp_path, case.variables(host, changed=True))
    assert rerun.returncode == 0, rerun.output
    # the killed run wrote the files: the next does the action it was owed, once, and nothing else (the connector's
    # start comes without a stop; svok only looks)
    assert actions(host) == [action], rerun.output
    # and clears its record (qmail-newu's is users/cdb's age, the HUP's in the routing's state file: the settled run
    # below, which does nothing, checks those)
    assert case.state is None or not os.path.exists(os.path.join(host.root, case.state))

    host.clear_actions()
    before = files(host)
    settled = run_playbook(SITE, tmp_path, case.variables(host, changed=True))
    assert settled.returncode == 0 and settled.changed() == 0, settled.output
    assert actions(host) == [] and files(host) == before
