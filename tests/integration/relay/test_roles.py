# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ucspi_tcp and inetd roles against localhost (ansible-playbook -c local) on a temporary tree.

Files, second run changed=0, --check on a fresh tree changes nothing; then the real daemons on
what the roles wrote: svscan/supervise/tcpserver on the role's service directory (rules change
without a restart, a run script change restarts, absent stops it), and inetd + tcpd on the role's
inetd.conf and hosts.allow (hosts.allow changes without a HUP, an inetd.conf change HUPs inetd
through its pid file, absent removes the line). A probe stands in for qmail-smtpd.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import pwd
import re
import subprocess
import time

import pytest

from ..localhost.playbook_helpers import run_playbook, snapshot
from .conftest import (ALLOWED, REFUSED, free_port, ids, need, relays, rebind_hosts_allow, start_inetd, wait_for_port,
                       write, write_probe)

PLAYBOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "relay_roles.yml")
HUP_TASK = "TASK [teamware.qmail.inetd : Send inetd a HUP through its pid file]"
RESTART_TASK = "TASK [teamware.qmail.ucspi_tcp : Restart qmail-smtpd (svc -t), whose run script changed]"


def handler_status(handler, output):
    """The status line of a handler or task, or None when it did not run (the role ends before it unless a restart
    is owed)."""
    match = re.search(re.escape(handler) + r" \**\n(\w+):", output)
    return match and match.group(1)


class Tree:
    def __init__(self, root):
        self.root = root
        self.etc = os.path.join(root, "etc")
        self.service = os.path.join(root, "service")
        self.supervise = os.path.join(root, "supervise")
        self.real = os.path.join(self.supervise, "qmail-smtpd")
        self.link = os.path.join(self.service, "qmail-smtpd")
        self.run = os.path.join(root, "run")
        self.fake_qmail = os.path.join(root, "qmail")
        for path in (self.etc, self.service, self.run):
            os.makedirs(path)
            os.chmod(path, 0o755)
        # tcpd looks the daemon up by the file name of what it runs: <inetd_qmail_dir>/bin/tcp-env.
        write_probe(os.path.join(self.fake_qmail, "bin"))
        self.probe = write_probe(os.path.join(root, "probe"), "probe")
        self.tcp_port = free_port()
        self.inetd_port = free_port()

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def read(self, *parts):
        with open(self.path(*parts)) as handle:
            return handle.read()

    def variables(self, tcpserver="present", inetd="absent", **extra):
        variables = dict(
            ucspi_tcp_state=tcpserver,
            ucspi_tcp_manage_packages=False,
            # the probe stands in for qmail-smtpd and does not greet with 220 (tests/integration/localhost/
            # test_front_end_running.py checks the running front ends)
            ucspi_tcp_ensure_running=False,
            inetd_ensure_running=False,
            ucspi_tcp_relay_clients=[ALLOWED],
            ucspi_tcp_rules_file=os.path.join(self.etc, "tcp.smtp"),
            ucspi_tcp_rules_cdb=os.path.join(self.etc, "tcp.smtp.cdb"),
            ucspi_tcp_service_dir=self.service,
            ucspi_tcp_supervise_dir=self.supervise,
            ucspi_tcp_bind_address="127.0.0.1",
            ucspi_tcp_port=str(self.tcp_port),
            ucspi_tcp_probe=self.probe,
            inetd_state=inetd,
            inetd_manage_packages=False,
            inetd_relay_clients=[ALLOWED],
            inetd_conf=os.path.join(self.etc, "inetd.conf"),
            inetd_hosts_allow=os.path.join(self.etc, "hosts.allow"),
            inetd_qmail_dir=self.fake_qmail,
            inetd_bind_address="127.0.0.1",
            inetd_port=str(self.inetd_port),
            inetd_pid_file=os.path.join(self.run, "inetd.pid"),
        )
        variables.update(extra)
        return variables


@pytest.fixture
def tree(world_tmp):
    return Tree(world_tmp)


def play(tmp_path, variables, check=False, diff=False):
    result = run_playbook(PLAYBOOK, tmp_path, variables, check=check, diff=diff)
    assert result.returncode == 0, result.output
    return result


def svstat_pid(directory):
    out = subprocess.run(["svstat", directory], stdout=subprocess.PIPE, universal_newlines=True, timeout=30, check=False).stdout
    match = re.search(r": up \(pid (\d+)\)", out)
    return int(match.group(1)) if match else None


def wait_until(predicate, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return predicate()


@pytest.mark.parametrize("front_end", ["tcpserver", "inetd"])
def test_check_mode_on_a_fresh_tree_changes_nothing(tmp_path, tree, front_end):
    variables = tree.variables(tcpserver="present" if front_end == "tcpserver" else "absent",
                               inetd="present" if front_end == "inetd" else "absent")
    before = snapshot(tree.root)
    result = play(tmp_path, variables, check=True, diff=True)
    assert result.changed() > 0
    assert snapshot(tree.root) == before


def test_both_present_on_one_port_is_refused(tmp_path, tree):
    variables = tree.variables(tcpserver="present", inetd="present", inetd_port="smtp", ucspi_tcp_port="25")
    before = snapshot(tree.root)
    result = run_playbook(PLAYBOOK, tmp_path, variables)
    assert result.returncode != 0
    assert "would both serve port smtp; set one of inetd_state and ucspi_tcp_state to absent" in result.output
    assert snapshot(tree.root) == before


def test_bad_relay_client_fails_before_anything_changes(tmp_path, tree):
    variables = tree.variables(ucspi_tcp_relay_clients=["127.", "192.0.2.0/24", "127."])
    before = snapshot(tree.root)
    result = run_playbook(PLAYBOOK, tmp_path, variables)
    assert result.returncode != 0
    assert "ucspi_tcp_relay_clients[1]: '192.0.2.0/24' is in CIDR notation" in result.output
    assert "ucspi_tcp_relay_clients[2]: '127.' repeats ucspi_tcp_relay_clients[0]" in result.output
    assert snapshot(tree.root) == before


def test_tcpserver_role_under_svscan(tmp_path, tree, processes):
    need("tcprules", "tcpserver", "svscan", "svok", "svstat", "svc", "multilog", "setuidgid")
    uid, gid = ids("qmaild", "nofiles")
    qmaill = pwd.getpwnam("qmaill").pw_uid

    first = play(tmp_path, tree.variables(), diff=True)
    assert first.changed() > 0
    assert '127.0.0.2:allow,RELAYCLIENT=""\n' in tree.read("etc", "tcp.smtp")
    assert tree.read("etc", "tcp.smtp").endswith("\n:allow\n")
    assert os.path.exists(tree.path("etc", "tcp.smtp.cdb"))
    assert not os.path.exists(tree.path("etc", "tcp.smtp.cdb.tmp"))
    run_script = tree.read("supervise", "qmail-smtpd", "run")
    assert run_script.endswith("exec tcpserver -v -x %s -u %d -g %d 127.0.0.1 %d %s 2>&1\n"
                               % (tree.path("etc", "tcp.smtp.cdb"), uid, gid, tree.tcp_port, tree.probe))
    assert tree.read("supervise", "qmail-smtpd", "log", "run").endswith("exec setuidgid qmaill multilog t ./main\n")
    assert os.stat(tree.path("supervise", "qmail-smtpd", "log", "main")).st_uid == qmaill
    assert os.readlink(tree.link) == tree.real
    assert not os.path.exists(tree.path("etc", "inetd.conf"))

    assert play(tmp_path, tree.variables()).changed() == 0

    # The real thing: svscan on the role's scan directory.
    processes.start(["svscan", tree.service], os.path.join(tree.root, "svscan.log"))
    assert wait_until(lambda: svstat_pid(tree.real)), tree.read("svscan.log")
    assert wait_for_port(tree.tcp_port), tree.read("svscan.log")
    assert relays(tree.tcp_port, ALLOWED) is True
    assert relays(tree.tcp_port, REFUSED) is False
    pid = svstat_pid(tree.real)

    # New relay clients: new rules and cdb, no restart, effective at the next connection.
    changed = play(tmp_path, tree.variables(ucspi_tcp_relay_clients=[REFUSED]))
    assert changed.changed() > 0
    assert handler_status(RESTART_TASK, changed.output) in (None, "skipping"), changed.output
    assert svstat_pid(tree.real) == pid
    assert relays(tree.tcp_port, REFUSED) is True
    assert relays(tree.tcp_port, ALLOWED) is False

    # A changed run script restarts tcpserver (svc -t); supervise runs the new one.
    quiet = tree.variables(ucspi_tcp_relay_clients=[REFUSED], ucspi_tcp_log_level="quiet")
    restarted = play(tmp_path, quiet)
    assert handler_status(RESTART_TASK, restarted.output) == "changed", restarted.output
    new_pid = wait_until(lambda: (svstat_pid(tree.real) or pid) != pid and svstat_pid(tree.real))
    assert new_pid and new_pid != pid
    assert wait_for_port(tree.tcp_port)
    assert relays(tree.tcp_port, REFUSED) is True
    assert play(tmp_path, quiet).changed() == 0
    # multilog got tcpserver's -v messages of the first run script.
    current = tree.path("supervise", "qmail-smtpd", "log", "main", "current")
    assert wait_until(lambda: os.path.exists(current) and "tcpserver: status" in tree.read(current))

    # absent: out of the scan directory, stopped, supervise gone; files stay.
    absent = tree.variables(tcpserver="absent")
    assert play(tmp_path, absent).changed() > 0
    assert not os.path.lexists(tree.link)
    assert wait_for_port(tree.tcp_port, closed=True)
    assert wait_until(lambda: subprocess.run(["svok", tree.real], timeout=30, check=False).returncode != 0)
    assert play(tmp_path, absent).changed() == 0


def test_inetd_role_with_real_inetd_and_tcpd(tmp_path, tree, processes):
    need("/usr/sbin/inetd", "/usr/sbin/tcpd", "unshare", "nsenter", "start-stop-daemon")
    inetd_conf = tree.path("etc", "inetd.conf")
    hosts_allow = tree.path("etc", "hosts.allow")
    # The admin's file: comments, an old commented smtp line, and a stale active line on our port.
    write(inetd_conf, "# admin's inetd.conf\n#smtp stream tcp nowait root /usr/sbin/sendmail sendmail -bs\n"
                      "127.0.0.1:%d stream tcp nowait root /bin/false false\n" % tree.inetd_port)
    write(hosts_allow, "# admin's hosts.allow\nsshd: 192.0.2.1\n")
    variables = tree.variables(tcpserver="absent", inetd="present")

    before = snapshot(tree.root)
    # The stale line is the host's own and runs another program on the port: the role stops, nothing changed,
    # until the inventory takes it over.
    refused = run_playbook(PLAYBOOK, tmp_path, variables, check=True)
    assert refused.returncode != 0 and "inetd.conf:127.0.0.1:%d" % tree.inetd_port in refused.output, refused.output
    assert snapshot(tree.root) == before
    variables["inetd_take_over"] = ["inetd.conf:127.0.0.1:%d" % tree.inetd_port]
    assert play(tmp_path, variables, check=True, diff=True).changed() > 0
    assert snapshot(tree.root) == before

    first = play(tmp_path, variables)
    assert first.changed() > 0
    line = ("127.0.0.1:%d stream tcp nowait qmaild /usr/sbin/tcpd %s/bin/tcp-env %s/bin/qmail-smtpd"
            % (tree.inetd_port, tree.fake_qmail, tree.fake_qmail))
    assert tree.read("etc", "inetd.conf") == (
        "# admin's inetd.conf\n#smtp stream tcp nowait root /usr/sbin/sendmail sendmail -bs\n%s\n" % line)
    allow = tree.read("etc", "hosts.allow")
    assert allow.startswith("# BEGIN teamware.qmail inetd role")
    assert "tcp-env: 127.0.0.2: setenv = RELAYCLIENT\n" in allow
    assert allow.endswith("# admin's hosts.allow\nsshd: 192.0.2.1\n")
    assert not os.path.exists(tree.path("etc", "tcp.smtp"))
    assert play(tmp_path, variables).changed() == 0

    inetd = start_inetd(processes, tree.root, inetd_conf, hosts_allow, run_dir=tree.run)
    assert wait_for_port(tree.inetd_port), tree.read("inetd.log")
    assert wait_until(lambda: os.path.exists(tree.path("run", "inetd.pid")))
    assert relays(tree.inetd_port, ALLOWED) is True
    assert relays(tree.inetd_port, REFUSED) is False

    # New relay clients: only hosts.allow changes, no HUP; tcpd reads it at the next connection.
    clients = tree.variables(tcpserver="absent", inetd="present", inetd_relay_clients=["127.0.0.3"])
    changed = play(tmp_path, clients)
    assert changed.changed() == 1
    assert handler_status(HUP_TASK, changed.output) in (None, "skipping"), changed.output
    rebind_hosts_allow(inetd, hosts_allow)
    assert relays(tree.inetd_port, REFUSED) is True
    assert relays(tree.inetd_port, ALLOWED) is False

    # A changed inetd.conf line (another port): the role HUPs inetd through its pid file.
    old_port, tree.inetd_port = tree.inetd_port, free_port()
    moved = tree.variables(tcpserver="absent", inetd="present", inetd_relay_clients=["127.0.0.3"])
    hup = play(tmp_path, moved)
    assert handler_status(HUP_TASK, hup.output) == "changed", hup.output
    assert wait_for_port(tree.inetd_port), tree.read("inetd.log")
    assert wait_for_port(old_port, closed=True)
    assert relays(tree.inetd_port, REFUSED) is True
    assert tree.read("etc", "inetd.conf").count("qmail-smtpd") == 1
    assert play(tmp_path, moved).changed() == 0

    # absent: the line and the block go, inetd is told, the admin's lines stay.
    absent = tree.variables(tcpserver="absent", inetd="absent")
    assert play(tmp_path, absent).changed() > 0
    assert tree.read("etc", "inetd.conf") == "# admin's inetd.conf\n#smtp stream tcp nowait root /usr/sbin/sendmail sendmail -bs\n"
    assert tree.read("etc", "hosts.allow") == "# admin's hosts.allow\nsshd: 192.0.2.1\n"
    assert wait_for_port(tree.inetd_port, closed=True)
    assert play(tmp_path, absent).changed() == 0
