# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The route checks (router.py) against the real qmail programs that read users/cdb, smtproutes and rcpthosts.

qmail's programs find their files under the compiled-in /var/qmail.  To feed them
a test tree without touching the live configuration, each program runs in a
private mount namespace (``unshare -m``) where the test's directory is
bind-mounted over /var/qmail/users or /var/qmail/control; the host never sees
the mount.  Needs root, util-linux's unshare and an installed qmail; otherwise
the tests are skipped loudly.

* qmail-newu compiles users/assign: its users/cdb must hold exactly the records
  the unit tests write with pure-cdb, and the router must find the same user in
  it (including qmail-newu's quirk: a wildcard ending in an upper-case letter
  never matches).
* qmail-remote connects where the router says smtproutes sends the host.
* qmail-smtpd accepts or refuses RCPT TO as the router says rcpthosts (and
  morercpthosts.cdb, built by the real qmail-newmrh) decide.
* tcprulescheck sets RELAYCLIENT for the rules the router lists as relay clients.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import socket
import subprocess
import threading

import pytest

# tests/conftest.py makes ansible_collections.teamware.qmail importable.
from ...qmail_installation import SKIP_PREFIX, require_qmail  # noqa: E402
from ...unit.plugins.module_utils.test_router import Tree, compile_assign  # noqa: E402

from ansible_collections.teamware.qmail.plugins.module_utils import qmail_host  # noqa: E402
from ansible_collections.teamware.qmail.plugins.module_utils.router import Router  # noqa: E402

cdblib = pytest.importorskip("cdblib", reason="pure-cdb is needed (pip install pure-cdb)")


def namespace_ok():
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    proc = subprocess.run(["unshare", "-m", "true"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    return proc.returncode == 0


@pytest.fixture(scope="module")
def qmail():
    found = require_qmail("qmail-newu", "qmail-remote", "qmail-smtpd", "qmail-newmrh")
    if not namespace_ok():
        pytest.skip("%s: running qmail on a test tree needs root and 'unshare -m' (private mount namespace)" % SKIP_PREFIX)
    return found


def in_namespace(qmail, binds, argv, **kwargs):
    """Run argv with each (source, target under qmail) bind-mounted, in a private mount namespace."""
    script = " && ".join("mount --bind '%s' '%s'" % (src, os.path.join(qmail, dst)) for src, dst in binds)
    return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script + ' && exec "$@"', "sh"] + argv,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=False, **kwargs)


@pytest.fixture
def tree(tmp_path):
    return Tree(tmp_path)


ASSIGNS = [
    pytest.param(
        ["+tw.:twu:7503:7503:/home/twu:-::", "=Tw.Boss:twu:7503:7503:/home/twu:-:boss:", "."],
        {"Tw.John": ("users/cdb", "twu", "-", "John"), "TW.BOSS": ("users/cdb", "twu", "-", "boss"),
         "tw.boss-x": ("users/cdb", "twu", "-", "boss-x"), "xavier": ("alias", "alias", "-", "xavier")},
        id="teamware"),
    pytest.param(
        # "+X": qmail-newu records 'X' as a wildcard character, qmail-lspawn looks for 'x': it never matches.
        ["+X:u:1:1:/h:-:p-:", "+:catch:2:2:/c:-::", "+a-b-:ab:3:3:/ab:-:x:", "=a:a:4:4:/a:::", "."],
        {"xavier": ("users/cdb", "catch", "-", "xavier"), "a-b-c": ("users/cdb", "ab", "-", "xc"),
         "A": ("users/cdb", "a", "", ""), "a-b": ("users/cdb", "catch", "-", "a-b"), "Tw.John": ("users/cdb", "catch", "-", "Tw.John")},
        id="quirks"),
]


@pytest.mark.parametrize("lines, expected", ASSIGNS)
def test_users_cdb_of_real_qmail_newu(qmail, tree, lines, expected):
    users = os.path.join(tree.qmail, "users")
    tree.write(os.path.join(users, "assign"), lines)
    proc = in_namespace(qmail, [(users, "users")], [os.path.join(qmail, "bin", "qmail-newu")])
    assert proc.returncode == 0, proc.stderr
    with open(os.path.join(users, "cdb"), "rb") as handle:
        real = sorted(cdblib.Reader(handle.read()).items())
    assert real == sorted(compile_assign(lines))
    # The same lookups on qmail-newu's own users/cdb.
    router = tree.router()
    for local, want in expected.items():
        found = router.lookup_user(local)
        assert (found["source"], found["user"], found["dash"], found["ext"]) == want, local


class Listener:
    """A TCP port on 127.0.0.1 that greets with 554, so qmail-remote gives up at once; records connections."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self.thread = threading.Thread(target=self.serve)
        self.thread.daemon = True
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn = self.sock.accept()[0]
            except OSError:
                return
            self.hits += 1
            try:
                conn.sendall(b"554 route check test listener\r\n")
                conn.recv(1024)
            except OSError:
                pass
            conn.close()

    def close(self):
        self.sock.close()


def test_smtproutes_of_real_qmail_remote(qmail, tree):
    listeners = [Listener() for dummy in range(4)]
    try:
        exact, suffix, longer, default = [listener.port for listener in listeners]
        tree.control("smtproutes", [
            ":[127.0.0.1]:%d" % default,
            ".company.invalid:[127.0.0.1]:%d" % suffix,
            "tw.company.invalid:[127.0.0.1]:%d" % exact,
            ".b.company.invalid:[127.0.0.1]:%d" % longer,
            ".mx.company.invalid:",
        ])
        config = tree.router().config
        by_port = dict((listener.port, listener) for listener in listeners)
        for host in ("tw.company.invalid", "TW.Company.Invalid", "x.tw.company.invalid", "a.b.company.invalid",
                     "b.company.invalid", "elsewhere.invalid", "[192.0.2.1]"):
            predicted = config.smtproute(host)
            before = dict((port, listener.hits) for port, listener in by_port.items())
            proc = in_namespace(qmail, [(os.path.join(tree.qmail, "control"), "control")],
                                [os.path.join(qmail, "bin", "qmail-remote"), host, "s@x.invalid", "r@%s" % host])
            assert proc.returncode == 0, proc.stderr
            hit = [port for port, listener in by_port.items() if listener.hits > before[port]]
            assert hit == [predicted["port"]], (host, proc.stdout)
        predicted = config.smtproute("x.mx.company.invalid")
        assert predicted["mx"] and predicted["route"] == ".mx.company.invalid:"
        before = sum(listener.hits for listener in listeners)
        proc = in_namespace(qmail, [(os.path.join(tree.qmail, "control"), "control")],
                            [os.path.join(qmail, "bin", "qmail-remote"), "x.mx.company.invalid", "s@x.invalid", "r@x"])
        assert sum(listener.hits for listener in listeners) == before, proc.stdout
    finally:
        for listener in listeners:
            listener.close()


def smtpd_answers(qmail, control, recipients, relayclient=False):
    script = "HELO test\r\nMAIL FROM:<s@x.invalid>\r\n" + "".join("RCPT TO:<%s>\r\n" % r for r in recipients) + "QUIT\r\n"
    env = {"PATH": "/usr/bin:/bin", "TCPREMOTEIP": "192.0.2.9", "TCPLOCALIP": "127.0.0.1"}
    if relayclient:
        env["RELAYCLIENT"] = ""
    proc = in_namespace(qmail, [(control, "control")], [os.path.join(qmail, "bin", "qmail-smtpd")],
                        input=script.encode(), env=env)
    lines = proc.stdout.decode().split("\r\n")
    # greeting, HELO, MAIL, then one answer per RCPT
    return [line[:3] == "250" for line in lines[3:3 + len(recipients)]]


RECIPIENTS = ["a@company.com", "a@COMPANY.com", "a@sub.company.com", "a@tw.company.com", "a@x.tw.company.com",
              "a@more.example", "a@y.more.example", "a@elsewhere.example", "nodomain"]


@pytest.mark.parametrize("rcpthosts, more", [
    (["company.com", ".tw.company.com"], None),
    (["company.com"], ["more.example", ".more.example"]),
    ([], None),
    (None, None),
], ids=["exact-and-suffix", "morercpthosts", "empty", "missing"])
def test_rcpthosts_of_real_qmail_smtpd(qmail, tree, rcpthosts, more):
    control = os.path.join(tree.qmail, "control")
    tree.control("rcpthosts", rcpthosts)
    if more is not None:
        tree.control("morercpthosts", more)
        proc = in_namespace(qmail, [(control, "control")], [os.path.join(qmail, "bin", "qmail-newmrh")])
        assert proc.returncode == 0, proc.stderr
    config = tree.router().config
    assert smtpd_answers(qmail, control, RECIPIENTS) == [config.smtpd_accepts(r)[0] for r in RECIPIENTS]
    assert smtpd_answers(qmail, control, RECIPIENTS, relayclient=True) == [True] * len(RECIPIENTS)


def test_relay_clients_agree_with_tcprulescheck(tree):
    if not (shutil.which("tcprules") and shutil.which("tcprulescheck")):
        pytest.skip("%s: ucspi-tcp's tcprules and tcprulescheck are not installed" % SKIP_PREFIX)
    rules = tree.write(os.path.join(tree.base, "tcp.smtp"), [
        "192.0.2.10:allow,RELAYCLIENT=\"\"", "127.:allow,RELAYCLIENT=\"\"", "10.9.8:allow,RELAYCLIENT=\"\"",
        "198.51.100.7:deny", ":allow"])
    with open(rules) as handle:
        subprocess.run(["tcprules", rules + ".cdb", rules + ".tmp"], stdin=handle, check=True)
    clients, warnings = tree.router().relay_clients(rules, None)[:2]
    assert len(warnings) == 1 and "'10.9.8' is a partial address without its trailing dot" in warnings[0]
    listed = set(client["address"] for client in clients if client["effective"])
    for address, ip in (("192.0.2.10", "192.0.2.10"), ("127.", "127.0.0.1"), (None, "10.1.2.3"), (None, "198.51.100.7"),
                        (None, "10.9.8.7")):
        proc = subprocess.run(["tcprulescheck", rules + ".cdb"], env={"TCPREMOTEIP": ip}, stdout=subprocess.PIPE, check=False)
        relay = "set environment variable RELAYCLIENT=" in proc.stdout.decode()
        assert relay == (address in listed), (ip, proc.stdout)


def test_route_check_reads_the_live_host_without_changing_it(qmail):
    """The live /var/qmail: every local address resolves, and nothing is written."""
    control = os.path.join(qmail, "control")
    before = dict((name, os.stat(os.path.join(control, name)).st_mtime) for name in os.listdir(control))
    router = Router(qmail_host.HostView(qmail, "/etc/passwd", qmail_host.make_cdb_opener(cdblib)))
    me = router.config.me
    for local in ("root", "postmaster", "mailer-daemon", "nobody-at-all"):
        route = router.route("%s@%s" % (local, me))
        assert route["class"] == "local"
        assert route["final"], route
    after = dict((name, os.stat(os.path.join(control, name)).st_mtime) for name in os.listdir(control))
    assert before == after
