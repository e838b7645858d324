# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The generated relay configuration in the real front ends.

* real tcpserver with the cdb that tcprules compiled from relay.tcprules_lines();
* real openbsd-inetd + tcpd with relay.InetdSettings.line() and relay.hosts_allow_lines();

first with a probe in place of qmail-smtpd (it prints whether RELAYCLIENT is set), then, when
qmail is installed under /var/qmail, with the real tcp-env and qmail-smtpd, where RCPT TO a
foreign domain must get 250 from the relay client and 553 from any other client.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import relay

from .conftest import (ALLOWED, REFUSED, ask_probe, free_port, ids, loud_skip, need, rcpt_code, real_qmail_available,
                       relays, start_inetd, wait_for_port, write, write_probe)

CLIENTS = ["127.0.0.2", "10.99."]


def compile_rules(work, clients):
    rules = write(os.path.join(work, "etc", "tcp.smtp"),
                  "".join(line + "\n" for line in relay.tcprules_lines(relay.relay_clients(clients, "ucspi_tcp_relay_clients"))))
    cdb = os.path.join(work, "etc", "tcp.smtp.cdb")
    with open(rules, "rb") as handle:
        subprocess.run(["tcprules", cdb, cdb + ".tmp"], stdin=handle, check=True, timeout=30)
    return cdb


def start_tcpserver(processes, work, cdb, program, port):
    uid, gid = ids("qmaild", "nofiles")
    settings = relay.TcpserverSettings.from_vars(rules_cdb=cdb, uid=uid, gid=gid, bind_address="127.0.0.1", port=str(port),
                                                 probe=program if program != "qmail" else None, extra_options=["-R"])
    proc = processes.start(settings.argv(), os.path.join(work, "tcpserver.log"))
    assert wait_for_port(port), open(os.path.join(work, "tcpserver.log")).read()
    return proc


def inetd_files(work, clients, qmail_dir, port):
    settings = relay.InetdSettings.from_vars(qmail_dir=qmail_dir, bind_address="127.0.0.1", port=str(port))
    conf = write(os.path.join(work, "etc", "inetd.conf"), "# test inetd.conf\n%s\n" % settings.line())
    lines = relay.hosts_allow_lines(relay.relay_clients(clients, "inetd_relay_clients"), settings.daemon)
    allow = write(os.path.join(work, "etc", "hosts.allow"), "".join(line + "\n" for line in lines))
    return conf, allow


def test_tcpserver_gives_relayclient_only_to_the_relay_client(processes, world_tmp):
    need("tcprules", "tcpserver")
    probe = write_probe(os.path.join(world_tmp, "probe"))
    cdb = compile_rules(world_tmp, CLIENTS)
    port = free_port()
    start_tcpserver(processes, world_tmp, cdb, probe, port)
    allowed = ask_probe(port, ALLOWED)
    assert allowed.startswith("RELAYCLIENT=set TCPREMOTEIP=127.0.0.2 "), allowed
    refused = ask_probe(port, REFUSED)
    assert refused.startswith("RELAYCLIENT=unset TCPREMOTEIP=127.0.0.3 "), refused
    # -u/-g: the probe runs as qmaild, not as root.
    assert allowed.split("uid=")[1].strip() == str(ids("qmaild", "nofiles")[0])
    # New rules take effect at the next connection, without restarting tcpserver.
    compile_rules(world_tmp, ["127.0.0.3"])
    assert relays(port, REFUSED) is True
    assert relays(port, ALLOWED) is False


def test_inetd_and_tcpd_give_relayclient_only_to_the_relay_client(processes, world_tmp):
    need("/usr/sbin/inetd", "/usr/sbin/tcpd", "unshare", "nsenter")
    fake_qmail = os.path.join(world_tmp, "qmail")
    # tcpd names the daemon after the program it runs: the probe must be called tcp-env.
    write_probe(os.path.join(fake_qmail, "bin"))
    port = free_port()
    conf, allow = inetd_files(world_tmp, CLIENTS, fake_qmail, port)
    before = system_files()
    start_inetd(processes, world_tmp, conf, allow)
    assert wait_for_port(port), open(os.path.join(world_tmp, "inetd.log")).read()
    assert relays(port, ALLOWED) is True
    assert relays(port, REFUSED) is False
    # The system's own files were neither changed nor shadowed outside the namespace.
    assert system_files() == before


def system_files():
    found = {}
    for path in ("/etc/hosts.allow", "/etc/hosts.deny", "/run/inetd.pid"):
        try:
            with open(path, "rb") as handle:
                found[path] = (os.stat(path).st_ino, handle.read())
        except FileNotFoundError:
            found[path] = None
    return found


@pytest.mark.parametrize("front_end", ["tcpserver", "inetd"])
def test_real_qmail_smtpd_relays_only_for_the_relay_client(processes, world_tmp, front_end):
    reason = real_qmail_available()
    if reason:
        loud_skip("%s; the real qmail-smtpd check did not run" % reason)
    port = free_port()
    if front_end == "tcpserver":
        need("tcprules", "tcpserver")
        cdb = compile_rules(world_tmp, CLIENTS)
        start_tcpserver(processes, world_tmp, cdb, "qmail", port)
    else:
        need("/usr/sbin/inetd", "/usr/sbin/tcpd", "unshare")
        conf, allow = inetd_files(world_tmp, CLIENTS, "/var/qmail", port)
        start_inetd(processes, world_tmp, conf, allow)
        assert wait_for_port(port), open(os.path.join(world_tmp, "inetd.log")).read()
    assert rcpt_code(port, ALLOWED)[0] == 250
    code, message = rcpt_code(port, REFUSED)
    assert code == 553, message
    assert "isn't in my list of allowed rcpthosts" in message
