# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""site.yml switches a host from inetd to tcpserver: hosts.allow's relay block goes only after inetd's HUP.

Until inetd rereads inetd.conf it still serves the port through tcpd, which reads hosts.allow at every connection:
without the block the relay clients would lose RELAYCLIENT (553).  A stand-in for inetd (a Python script started by
the test, stopped by its id) reads inetd.conf at start and at every HUP and listens on 127.0.0.1 on the port while
the file has an active line for it; start-stop-daemon is a stand-in on PATH that writes down what hosts.allow and
inetd.conf hold when it sends the HUP.  No svscan, no real inetd (tests/integration/localhost/test_front_end_running.py
runs those as root).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from ...loopback import free_port
from .fake_host import FakeHost
from .playbook_helpers import REPO, run_playbook
from .test_qmail_role import METHODS

SITE = os.path.join(REPO, "site.yml")

pytestmark = pytest.mark.skipif(not shutil.which("tcprules"), reason="needs tcprules (Debian package ucspi-tcp)")

FAKE_INETD = r'''
import os, select, signal, socket, sys
conf, port, pid_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
hup = [True]
signal.signal(signal.SIGHUP, lambda *_: hup.__setitem__(0, True))
listener = None
with open(pid_file, "w") as handle:
    handle.write("%d\n" % os.getpid())
while True:
    if hup[0]:
        hup[0] = False
        with open(conf) as handle:
            wanted = any(line.split()[0].rpartition(":")[2] == str(port) for line in handle
                         if line.strip() and not line.lstrip().startswith("#"))
        if wanted and listener is None:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", port))
            listener.listen(5)
        elif not wanted and listener is not None:
            listener.close()
            listener = None
    try:
        ready = select.select([listener] if listener else [], [], [], 0.1)[0]
    except InterruptedError:
        continue
    for sock in ready:
        sock.accept()[0].close()
'''

# start-stop-daemon --stop --signal HUP --quiet --pidfile PID --exec PROGRAM: what the two files hold, then the HUP
HUP_EXTRA = """if [ -e "{once}" ]; then rm -f "{once}"; exit 2; fi
grep -q 'BEGIN teamware.qmail' "{allow}" && echo "hosts.allow at the HUP: block" >> "{log}" || echo "hosts.allow at the HUP: no block" >> "{log}"
grep -q 'qmail-smtpd' "{conf}" && echo "inetd.conf at the HUP: line" >> "{log}" || echo "inetd.conf at the HUP: no line" >> "{log}"
kill -HUP "$(cat "{pid}")"
"""


class Host(FakeHost):
    def __init__(self, root):
        FakeHost.__init__(self, root)
        self.port = free_port()
        self.etc = os.path.join(self.root, "etc")
        self.site_variables()  # makes etc
        self.conf = os.path.join(self.etc, "inetd.conf")
        self.allow = os.path.join(self.etc, "hosts.allow")
        self.state = os.path.join(self.etc, "teamware-qmail-inetd.json")
        self.pid_file = os.path.join(self.root, "inetd.pid")
        self.once = os.path.join(self.root, "hup-fails-once")
        self.tools = os.path.join(self.root, "tools")
        os.makedirs(self.tools)
        self.stub(os.path.join(self.tools, "start-stop-daemon"),
                  HUP_EXTRA.format(once=self.once, allow=self.allow, conf=self.conf, log=self.log, pid=self.pid_file))
        self.write(self.conf, "")
        self.inetd = None

    def start_inetd(self):
        script = os.path.join(self.root, "fake-inetd.py")
        self.write(script, FAKE_INETD)
        self.inetd = subprocess.Popen([sys.executable, script, self.conf, str(self.port), self.pid_file])
        deadline = time.time() + 10
        while not os.path.exists(self.pid_file) and time.time() < deadline:
            time.sleep(0.05)

    def stop_inetd(self):
        if self.inetd is not None:
            os.kill(self.inetd.pid, signal.SIGTERM)
            self.inetd.wait()

    def listening(self):
        with open("/proc/net/tcp") as handle:
            return any(fields[3] == "0A" and fields[1].endswith(":%04X" % self.port)
                       for fields in (line.split() for line in list(handle)[1:]))

    def front_end(self, front_end):
        return self.site_variables(front_end, teamware_integration_method="torecvm_users", inetd_port=str(self.port),
                                   inetd_reload_method="pidfile", inetd_pid_file=self.pid_file,
                                   inetd_program=os.path.realpath(sys.executable), **METHODS["torecvm_users"])

    def has_block(self):
        with open(self.allow) as handle:
            return "BEGIN teamware.qmail" in handle.read()


@pytest.fixture
def host(tmp_path, monkeypatch):
    made = Host(tmp_path / "host")
    monkeypatch.setenv("PATH", made.tools + os.pathsep + os.environ["PATH"])
    made.start_inetd()
    yield made
    made.stop_inetd()


def wait_until(predicate, timeout=10.0):
    deadline = time.time() + timeout
    while not predicate() and time.time() < deadline:
        time.sleep(0.1)
    return predicate()


def hups(host):
    return [action for action in host.actions() if "at the HUP" in action or action.startswith("start-stop-daemon")]


def test_the_relay_block_goes_after_inetd_let_go_of_the_port(tmp_path, host):
    on_inetd = run_playbook(SITE, tmp_path, host.front_end("inetd"))
    assert on_inetd.returncode == 0, on_inetd.output
    assert host.listening() and host.has_block()
    # enabling: the block was in place before inetd reread inetd.conf with the new line
    assert hups(host)[1:] == ["hosts.allow at the HUP: block", "inetd.conf at the HUP: line"]

    host.clear_actions()
    to_tcpserver = run_playbook(SITE, tmp_path, host.front_end("tcpserver"))
    assert to_tcpserver.returncode == 0, to_tcpserver.output
    # the first relay_rules call took the line out and left the block; the HUP came next; the block went after it
    assert hups(host) == [
        "start-stop-daemon --stop --signal HUP --quiet --pidfile %s --exec %s" % (host.pid_file, os.path.realpath(sys.executable)),
        "hosts.allow at the HUP: block", "inetd.conf at the HUP: no line"]
    assert not host.has_block() and not host.listening() and not os.path.exists(host.state)
    assert os.path.islink(os.path.join(host.root, "service", "qmail-smtpd"))
    assert "block stays" not in to_tcpserver.output

    host.clear_actions()
    settled = run_playbook(SITE, tmp_path, host.front_end("tcpserver"))
    assert settled.returncode == 0 and settled.changed() == 0, settled.output
    assert hups(host) == []


def test_a_run_killed_before_the_hup_leaves_the_block_and_the_next_run_sends_it_first(tmp_path, host):
    assert run_playbook(SITE, tmp_path, host.front_end("inetd")).returncode == 0
    host.write(host.once, "")
    killed = run_playbook(SITE, tmp_path, host.front_end("tcpserver"))
    assert killed.returncode != 0, killed.output
    # inetd still serves the old line, through tcpd, with the relay clients' block
    assert "qmail-smtpd" not in open(host.conf).read()
    assert host.listening() and host.has_block()
    with open(host.state) as handle:
        assert json.load(handle)["owed"] == ["hup_inetd"]

    # check mode shows the whole plan: the block goes (as it will after the HUP), and nothing changes
    looked = run_playbook(SITE, tmp_path, host.front_end("tcpserver"), check=True, diff=True)
    assert looked.returncode == 0, looked.output
    assert "-# BEGIN teamware.qmail inetd role" in looked.output, looked.output
    assert host.has_block() and host.listening()

    host.clear_actions()
    rerun = run_playbook(SITE, tmp_path, host.front_end("tcpserver"))
    assert rerun.returncode == 0, rerun.output
    assert [action for action in hups(host) if "at the HUP" in action] == [
        "hosts.allow at the HUP: block", "inetd.conf at the HUP: no line"]
    assert not host.has_block() and not host.listening() and not os.path.exists(host.state)


def test_reload_method_none_leaves_the_hup_owed_and_clears_nothing_it_did_not_send(tmp_path, host):
    """inetd_reload_method none: the role sends no HUP, so it clears none (only what ran is completed_actions): the HUP
    stays owed, as the look in check mode says, the module does not wait for inetd to let go, and nothing warns that
    the block stays (the owed HUP says why); the first run after the admin's HUP takes the block out, and the owed HUP
    with it (inetd no longer listens on the port)."""
    assert run_playbook(SITE, tmp_path, host.front_end("inetd")).returncode == 0
    none = dict(host.front_end("tcpserver"), inetd_reload_method="none")
    looked = run_playbook(SITE, tmp_path, none, check=True)
    assert looked.returncode == 0, looked.output
    host.clear_actions()
    switched = run_playbook(SITE, tmp_path, none)
    # the chosen front end refuses while inetd still serves the port, saying to send the HUP
    assert switched.returncode != 0 and "with inetd_reload_method: none, send inetd its HUP" in switched.output
    assert hups(host) == [] and host.listening() and host.has_block()
    assert "block stays" not in switched.output and "until inetd rereads it" not in switched.output
    with open(host.state) as handle:
        assert json.load(handle)["owed"] == ["hup_inetd"]

    os.kill(host.inetd.pid, signal.SIGHUP)  # the admin's HUP
    assert wait_until(lambda: not host.listening())
    after = run_playbook(SITE, tmp_path, none)
    assert after.returncode == 0, after.output
    assert not host.has_block() and hups(host) == []
    # inetd let go of the port: the HUP owed before arrived, and nothing is owed any more
    assert not os.path.exists(host.state)
    assert os.path.islink(os.path.join(host.root, "service", "qmail-smtpd"))
