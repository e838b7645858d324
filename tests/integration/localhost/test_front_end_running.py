# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""site.yml switches the SMTP front end on a host where the other daemon is not running, and leaves the chosen one
running and greeting with 220 on its port (or fails saying why it cannot).

Real svscan/supervise/tcpserver and inetd + tcpd on the temporary tree of FakeHost, on one free port of 127.0.0.1;
a script that greets like qmail-smtpd stands in for it. inetd runs in a private mount namespace (its start command
bind-mounts the tree's hosts.allow, an empty hosts.deny and the tree's run directory), as in tests/integration/relay.
Every process is started by the test and stopped by its id.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shutil
import signal

import pytest

from ..relay.conftest import Processes, free_port, namespace_usable, wait_for_port
from .fake_host import FakeHost
from .playbook_helpers import REPO, run_playbook
from .test_qmail_role import METHODS

SITE = os.path.join(REPO, "site.yml")
GREETING = """#!/bin/sh
echo "220 fake.qmail.test ESMTP"
read line
echo "221 fake.qmail.test"
"""
START_INETD = """#!/bin/sh
exec unshare -m --propagation private sh -c 'mount --bind {allow} /etc/hosts.allow && mount --bind {deny} /etc/hosts.deny \
&& mount --bind {run} /run && exec /usr/sbin/inetd {conf}'
"""


def missing():
    if os.geteuid() != 0:
        return "not root (mount namespaces, tcpserver -u 0)"
    for program in ("tcprules", "tcpserver", "svscan", "svok", "svstat", "svc", "multilog", "setuidgid", "unshare",
                    "start-stop-daemon", "/usr/sbin/inetd", "/usr/sbin/tcpd"):
        if not (shutil.which(program) or os.path.exists(program)):
            return "%s is not installed" % program
    return namespace_usable()


pytestmark = pytest.mark.skipif(bool(missing()), reason="SKIPPED LOUDLY: %s" % missing())


class Host(FakeHost):
    def __init__(self, root):
        FakeHost.__init__(self, root)
        self.port = free_port()
        self.run_dir = os.path.join(self.root, "run")
        os.makedirs(self.run_dir)
        # qmail-smtpd's greeting on this host: control/smtpgreeting's first line (before control/me's)
        self.write(os.path.join(self.qmail, "control", "smtpgreeting"), "fake.qmail.test\n")
        self.greeting = os.path.join(self.root, "greeting")
        self.write(self.greeting, GREETING)
        os.chmod(self.greeting, 0o755)
        # tcpd runs <qmail>/bin/tcp-env: here the greeting
        shutil.copy(self.greeting, os.path.join(self.qmail, "bin", "tcp-env"))
        self.start_inetd = os.path.join(self.root, "start-inetd")
        self.pid_file = os.path.join(self.run_dir, "inetd.pid")
        self.site_variables()  # makes etc, service, supervise and the Teamware Office root, before svscan starts

    def front_end(self, front_end, **extra):
        variables = self.site_variables(front_end, teamware_integration_method="smtp_smtproutes", **METHODS["smtp_smtproutes"])
        etc = os.path.join(self.root, "etc")
        self.write(os.path.join(etc, "hosts.deny.empty"), "")
        self.write(self.start_inetd, START_INETD.format(allow=os.path.join(etc, "hosts.allow"), deny=os.path.join(etc, "hosts.deny.empty"),
                                                        run=self.run_dir, conf=os.path.join(etc, "inetd.conf")))
        os.chmod(self.start_inetd, 0o755)
        variables.update(
            ucspi_tcp_ensure_running=True, inetd_ensure_running=True, teamware_route_check_smtp=True,
            ucspi_tcp_user="root", ucspi_tcp_group="root", ucspi_tcp_log_user="root", inetd_user="root",
            ucspi_tcp_bind_address="127.0.0.1", ucspi_tcp_port=str(self.port), ucspi_tcp_probe=self.greeting,
            inetd_bind_address="127.0.0.1", inetd_port=str(self.port),
            inetd_reload_method="pidfile", inetd_pid_file=self.pid_file, inetd_start_command=self.start_inetd,
        )
        variables.update(extra)
        return variables

    def inetd_pid(self):
        try:
            with open(self.pid_file) as handle:
                pid = int(handle.read().strip())
            return pid if os.path.realpath("/proc/%d/exe" % pid) == "/usr/sbin/inetd" else None
        except (OSError, ValueError):
            return None

    def stop_inetd(self):
        pid = self.inetd_pid()
        if pid:
            os.kill(pid, signal.SIGTERM)


@pytest.fixture
def host(tmp_path):
    made = Host(tmp_path / "host")
    yield made
    made.stop_inetd()


@pytest.fixture
def processes():
    procs = Processes()
    yield procs
    procs.stop_all()


def start_svscan(processes, host):
    return processes.start(["svscan", os.path.join(host.root, "service")], os.path.join(host.root, "svscan.log"))


def test_switching_to_a_stopped_inetd_starts_it_and_back_to_tcpserver_needs_svscan(tmp_path, host, processes):
    svscan = start_svscan(processes, host)
    tcpserver = run_playbook(SITE, tmp_path, host.front_end("tcpserver"))
    assert tcpserver.returncode == 0, tcpserver.output
    assert "answers: 220 fake.qmail.test ESMTP" in tcpserver.output
    assert host.inetd_pid() is None

    # inetd is installed but not running: the run takes tcpserver out, writes the files and starts inetd
    to_inetd = run_playbook(SITE, tmp_path, host.front_end("inetd"))
    assert to_inetd.returncode == 0, to_inetd.output
    assert host.inetd_pid(), to_inetd.output
    assert "Start inetd, which is not running, with inetd_start_command" in to_inetd.output
    assert "SMTP on 127.0.0.1:%d answers: 220 fake.qmail.test ESMTP" % host.port in to_inetd.output
    settled = run_playbook(SITE, tmp_path, host.front_end("inetd"))
    assert settled.returncode == 0 and settled.changed() == 0, settled.output

    # back to tcpserver while svscan is not running: the run fails saying why; with svscan it settles
    processes.stop(svscan)
    no_svscan = run_playbook(SITE, tmp_path, host.front_end("tcpserver", ucspi_tcp_start_timeout=3))
    assert no_svscan.returncode != 0
    assert "is svscan running on %s" % os.path.join(host.root, "service") in no_svscan.output
    assert wait_for_port(host.port, closed=True)
    start_svscan(processes, host)
    # the failed run left tcpserver's files written: with svscan back, tcpserver serves the port and the front end has
    # nothing left to do, but the last check that passed was on inetd: the check is due
    to_tcpserver = run_playbook(SITE, tmp_path, host.front_end("tcpserver"))
    assert to_tcpserver.returncode == 0, to_tcpserver.output
    assert "SMTP on 127.0.0.1:%d answers: 220 fake.qmail.test ESMTP" % host.port in to_tcpserver.output
    settled = run_playbook(SITE, tmp_path, host.front_end("tcpserver"))
    assert settled.returncode == 0 and settled.changed() == 0, settled.output


def test_nothing_listening_fails_the_run_and_the_deploy_check(tmp_path, host):
    """inetd chosen, inetd cannot be started (a start command that does nothing): the run fails saying why."""
    variables = host.front_end("inetd", inetd_start_command="true", inetd_start_timeout=2)
    result = run_playbook(SITE, tmp_path, variables)
    assert result.returncode != 0
    assert "Nothing serves SMTP on 127.0.0.1:%d as qmail-smtpd: inetd is not running" % host.port in result.output


def test_an_inetd_that_never_reread_the_right_line_gets_a_hup(tmp_path, host, processes):
    """inetd.conf already holds the role's line, but the running inetd read the file before it was there (an admin's
    edit without a HUP): the run sends the HUP, inetd serves the port, and the next run changes nothing."""
    start_svscan(processes, host)
    first = run_playbook(SITE, tmp_path, host.front_end("inetd"))
    assert first.returncode == 0, first.output
    conf = os.path.join(host.root, "etc", "inetd.conf")
    with open(conf) as handle:
        right = handle.read()
    # inetd rereads a file without the line (stops serving), then the line comes back without a HUP
    host.write(conf, "".join(line for line in right.splitlines(True) if str(host.port) not in line))
    os.kill(host.inetd_pid(), signal.SIGHUP)
    assert wait_for_port(host.port, closed=True)
    host.write(conf, right)
    stale = run_playbook(SITE, tmp_path, host.front_end("inetd"))
    assert stale.returncode == 0, stale.output
    assert re.search(r"TASK \[teamware.qmail.inetd : Send inetd a HUP through its pid file\] \**\nchanged:", stale.output), stale.output
    assert "SMTP on 127.0.0.1:%d answers: 220 fake.qmail.test ESMTP" % host.port in stale.output
    settled = run_playbook(SITE, tmp_path, host.front_end("inetd"))
    assert settled.returncode == 0 and settled.changed() == 0, settled.output
