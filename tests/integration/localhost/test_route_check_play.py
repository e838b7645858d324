# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy check (playbooks/route_check.yml, the last play of site.yml) against localhost on a temporary tree."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import sys

import pytest

from .fake_host import GID, UID, FakeHost
from .playbook_helpers import REPO, run_playbook, snapshot
from .test_qmail_role import METHODS

SITE = os.path.join(REPO, "site.yml")
ROUTE_CHECK = os.path.join(REPO, "playbooks", "route_check.yml")

pytestmark = [
    pytest.mark.skipif(not shutil.which("tcprules"), reason="needs tcprules (Debian package ucspi-tcp)"),
    pytest.mark.skipif(sys.version_info < (3,), reason="Python 3"),
]
pytest.importorskip("cdblib", reason="pure-cdb is needed to compile users/cdb (pip install pure-cdb)")

# qmail-newu for the fake tree: compiles users/assign into users/cdb as qmail-newu.c does, so that
# qmail_route_info reads the users/cdb qmail would read (the FakeHost stub only touches it).
QMAIL_NEWU = r'''#!{python}
import os
import cdblib

qmail = {qmail!r}
with open({log!r}, "a") as handle:
    handle.write("qmail-newu\n")
records, wildchars = [], b""
with open(os.path.join(qmail, "users", "assign"), "rb") as handle:
    for line in handle.read().split(b"\n"):
        if not line or line.startswith(b"."):
            break
        colon = line.index(b":")
        key = b"!" + line[1:colon].lower()
        if line[:1] == b"+":
            if colon >= 2 and line[colon - 1:colon] not in wildchars:
                wildchars += line[colon - 1:colon]
        else:
            key += b"\0"
        records.append((key, b"\0".join(line[colon + 1:].split(b":")[:6])))
records.append((b"", wildchars))
with open(os.path.join(qmail, "users", "cdb.tmp"), "wb") as handle:
    writer = cdblib.Writer(handle)
    for key, value in records:
        writer.put(key, value)
    writer.finalize()
os.rename(os.path.join(qmail, "users", "cdb.tmp"), os.path.join(qmail, "users", "cdb"))
'''

RIGHT = {
    "tw.john@company.com": "teamware_torecvm",
    "root@company.com": "forward:admin@company.com",
    "johnw@company.com": "mailbox:johnw",
    "someone@example.org": "remote",
}
WRONG = dict(RIGHT, **{
    "tw.john@company.com": "mailbox:twu",
    "johnw@company.com": "teamware",
})


@pytest.fixture
def host(tmp_path):
    """torecvm_users on a fake tree with a real users/cdb, a Linux user johnw and the alias user in passwd."""
    host = FakeHost(tmp_path / "host")
    path = os.path.join(host.qmail, "bin", "qmail-newu")
    host.write(path, QMAIL_NEWU.format(python=sys.executable, qmail=host.qmail, log=host.log))
    os.chmod(path, 0o755)
    host.stub(os.path.join(host.qmail, "bin", "preline"))
    johnw = os.path.join(host.root, "home", "johnw")
    # a real Maildir: without it qmail-local defers (Unable to chdir to maildir), and so does the route check
    for part in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(johnw, "Maildir", part))
    for home in (johnw, host.alias, host.twu):
        if os.getuid() == 0:
            os.chown(home, UID, GID)
    with open("/etc/passwd") as handle:
        passwd = [line for line in handle.read().splitlines() if not line.startswith(("alias:", "johnw:", "twu:"))]
    passwd += ["alias:x:%d:%d::%s:/usr/sbin/nologin" % (UID, GID, host.alias),
               "twu:x:%d:%d::%s:/usr/sbin/nologin" % (UID, GID, host.twu),
               "johnw:x:%d:%d::%s:/bin/sh" % (UID, GID, johnw)]
    host.passwd = os.path.join(host.root, "passwd")
    host.write(host.passwd, "\n".join(passwd) + "\n")
    return host


def site_variables(host, **extra):
    method = "torecvm_users"
    return host.site_variables("tcpserver", teamware_integration_method=method, teamware_route_check_passwd_file=host.passwd,
                               **dict(METHODS[method], **extra))


def test_site_asserts_the_expected_routes_and_shows_the_summary(tmp_path, host):
    site = run_playbook(SITE, tmp_path, site_variables(host, teamware_expected_routes=RIGHT))
    assert site.returncode == 0, site.output
    assert "All 4 expected routes are right" in site.output
    assert "tw.john@company.com -> Teamware Office by torecvm" in site.output
    assert "johnw@company.com -> maildir" in site.output

    before = snapshot(host.root)
    wrong = run_playbook(ROUTE_CHECK, tmp_path, site_variables(host, teamware_expected_routes=WRONG))
    assert wrong.returncode != 0
    assert wrong.changed() == 0
    assert "tw.john@company.com: expected mailbox:twu, got teamware_torecvm" in wrong.output
    assert "johnw@company.com: expected teamware, got mailbox:johnw" in wrong.output
    assert "someone@example.org: expected" not in wrong.output
    assert "root@company.com: expected" not in wrong.output

    off = run_playbook(ROUTE_CHECK, tmp_path, site_variables(host, teamware_expected_routes=WRONG, teamware_route_check=False))
    assert off.returncode == 0, off.output
    assert "Ask qmail where the addresses go" not in off.output

    sample = run_playbook(ROUTE_CHECK, tmp_path, site_variables(host), check=True)
    assert sample.returncode == 0, sample.output
    assert sample.changed() == 0
    for address in ("root@company.com ->", "postmaster@company.com ->", "tw.john@company.com ->"):
        assert address in sample.output
    assert "expected routes are right" not in sample.output
    assert snapshot(host.root) == before


@pytest.mark.parametrize("extra, message", [
    (dict(teamware_route_check_sample={"tw.john@company.com": "teamware"}),
     "teamware_route_check_sample must be a list of addresses"),
    (dict(teamware_route_check_sample=["tw.john@company.com", ["postmaster@company.com"]]),
     "teamware_route_check_sample[1]: ['postmaster@company.com'] is not an address"),
    (dict(teamware_expected_routes={"tw.john @company.com": "teamware"}),
     "teamware_expected_routes: 'tw.john @company.com' is not an address: it contains white space"),
])
def test_a_wrong_route_check_variable_is_named_by_the_variable(tmp_path, host, extra, message):
    """The deploy check alone: the inventory variable is named (checked on the controller), never the option of
    qmail_route_info it becomes (addresses), and the module is not asked."""
    result = run_playbook(ROUTE_CHECK, tmp_path, site_variables(host, **extra))
    assert result.returncode != 0
    assert message in result.output, result.output
    assert "argument 'addresses'" not in result.output and "'expected'" not in result.output


def test_check_mode_on_a_fresh_tree_does_not_assert(tmp_path, host):
    variables = site_variables(host, teamware_expected_routes=WRONG)
    before = snapshot(host.root)
    result = run_playbook(SITE, tmp_path, variables, check=True)
    assert result.returncode == 0, result.output
    assert "teamware_expected_routes is not asserted" in result.output
    assert "expected mailbox:twu" not in result.output
    assert snapshot(host.root) == before


ASK_TASK = "TASK [Ask qmail where the addresses go] "


def test_a_site_run_checks_a_host_until_a_check_passed_on_what_is_there_now(tmp_path, host):
    first = run_playbook(SITE, tmp_path, site_variables(host, teamware_expected_routes=RIGHT))
    assert first.returncode == 0, first.output
    assert ASK_TASK in first.output  # the routing changed: qmail_route_info is asked after qmail-newu and the HUP
    assert "All 4 expected routes are right" in first.output
    with open(os.path.join(host.qmail, "control", "teamware-qmail.json")) as handle:
        assert '"route_checked"' in handle.read()

    # nothing new since the check that passed: no check, no module call for it
    again = run_playbook(SITE, tmp_path, site_variables(host, teamware_expected_routes=RIGHT))
    assert again.returncode == 0 and again.changed() == 0, again.output
    assert ASK_TASK not in again.output and "expected routes are right" not in again.output

    # other expectations are new: checked, and the wrong routes stop the run; the record of the last check that passed
    # is dropped (the one change), so a rerun with the same inventory checks (and fails) again
    state = os.path.join(host.qmail, "control", "teamware-qmail.json")
    before = snapshot(host.root)
    for attempt in range(2):
        wrong = run_playbook(SITE, tmp_path, site_variables(host, teamware_expected_routes=WRONG))
        assert wrong.returncode != 0 and wrong.changed() == (1 if attempt == 0 else 0), wrong.output
        assert ASK_TASK in wrong.output
        assert "tw.john@company.com: expected mailbox:twu, got teamware_torecvm" in wrong.output
        assert "johnw@company.com: expected teamware, got mailbox:johnw" in wrong.output
        after = snapshot(host.root)
        key = os.path.relpath(state, host.root)
        assert dict((k, v) for k, v in after.items() if k != key) == dict((k, v) for k, v in before.items() if k != key)
        with open(state) as handle:
            assert '"route_checked"' not in handle.read()
    # the same expectations as the last check that passed: no record any more, so it is checked (and passes)
    right = run_playbook(SITE, tmp_path, site_variables(host, teamware_expected_routes=RIGHT))
    assert right.returncode == 0 and ASK_TASK in right.output, right.output

    # teamware_route_check_every_run: checked although nothing is new; the record stands as it was
    every = run_playbook(SITE, tmp_path,
                         site_variables(host, teamware_expected_routes=RIGHT, teamware_route_check_every_run=True))
    assert every.returncode == 0 and every.changed() == 0, every.output
    assert ASK_TASK in every.output and "All 4 expected routes are right" in every.output

    # teamware_route_check: false: no answer is asked for, and nothing is checked
    off = run_playbook(SITE, tmp_path, site_variables(host, teamware_expected_routes=WRONG, teamware_route_check=False))
    assert off.returncode == 0 and off.changed() == 0, off.output
    assert ASK_TASK not in off.output and "expected routes are right" not in off.output


class Greeter:
    """A listener on 127.0.0.1 that greets like qmail-smtpd (or not) and reads the client's QUIT."""

    def __init__(self, greeting):
        import socket
        import threading
        self.greeting = greeting
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.heard = []
        self.thread = threading.Thread(target=self.serve)
        self.thread.daemon = True
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _address = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                conn.sendall(self.greeting)
                try:
                    self.heard.append(conn.recv(100))
                except OSError:
                    pass

    def close(self):
        import socket
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() of the thread
        except OSError:
            pass
        self.sock.close()
        self.thread.join(10)


def test_the_deploy_check_reads_the_smtp_greeting(tmp_path, host):
    assert run_playbook(SITE, tmp_path, site_variables(host)).returncode == 0
    greeter = Greeter(b"220 mail.company.com ESMTP\r\n")
    try:
        good = run_playbook(ROUTE_CHECK, tmp_path,
                            site_variables(host, teamware_route_check_smtp=True, ucspi_tcp_port=str(greeter.port)))
        assert good.returncode == 0, good.output
        assert "SMTP on 127.0.0.1:%d answers: 220 mail.company.com ESMTP" % greeter.port in good.output
        assert b"QUIT\r\n" in greeter.heard
    finally:
        greeter.close()
    # the same port with nobody listening: the check fails, naming it
    refused = run_playbook(ROUTE_CHECK, tmp_path,
                           site_variables(host, teamware_route_check_smtp=True, ucspi_tcp_port=str(greeter.port)))
    assert refused.returncode != 0
    assert "No SMTP service: SMTP on 127.0.0.1:%d: cannot connect" % greeter.port in refused.output
    wrong = Greeter(b"554 go away\r\n")
    try:
        result = run_playbook(ROUTE_CHECK, tmp_path,
                              site_variables(host, teamware_route_check_smtp=True, ucspi_tcp_port=str(wrong.port)))
        assert result.returncode != 0
        assert "the greeting is not qmail-smtpd's: expected '220 mail.company.com ESMTP', got '554 go away'" in result.output
    finally:
        wrong.close()
    # issue 14: another daemon's 220 is not qmail-smtpd's greeting (control/me: mail.company.com, no smtpgreeting)
    foreign = Greeter(b"220 mail.company.com ESMTP Postfix (Debian/GNU)\r\n")
    try:
        result = run_playbook(ROUTE_CHECK, tmp_path,
                              site_variables(host, teamware_route_check_smtp=True, ucspi_tcp_port=str(foreign.port)))
        assert result.returncode != 0, result.output
        assert ("the greeting is not qmail-smtpd's: expected '220 mail.company.com ESMTP', got '220 mail.company.com "
                "ESMTP Postfix (Debian/GNU)'") in result.output, result.output
    finally:
        foreign.close()
