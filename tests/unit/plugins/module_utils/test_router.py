# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The route checks (router.py and its parts): where qmail delivers an address, checked on temporary qmail trees.

Three layers:
* the lookups one by one (control files, rewrite, smtproutes, rcpthosts, the shell);
* every integration method: the routing core computes the files, the tree gets
  them (users/cdb compiled with pure-cdb exactly as qmail-newu compiles
  users/assign), and each address is routed;
* the pitfalls, and comparisons with the real qmail-getpw and qmail-local of an
  installed qmail (skipped loudly without one).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import pwd
import shutil
import stat
import subprocess
import uuid

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import delivery_programs
from ansible_collections.teamware.qmail.plugins.module_utils import local_delivery
from ansible_collections.teamware.qmail.plugins.module_utils import pipe_lines
from ansible_collections.teamware.qmail.plugins.module_utils import qmail_config
from ansible_collections.teamware.qmail.plugins.module_utils import qmail_host
from ansible_collections.teamware.qmail.plugins.module_utils import router as router_module
from ansible_collections.teamware.qmail.plugins.module_utils import routing
from ansible_collections.teamware.qmail.plugins.module_utils import shell_parse
from ansible_collections.teamware.qmail.plugins.module_utils.router import DEFAULT_SENDER, Options, Router

from ....qmail_installation import require_qmail

cdblib = pytest.importorskip("cdblib", reason="pure-cdb is needed to build users/cdb (pip install pure-cdb)")

ALIAS_UID = 7790
TWU_UID = 7503


# ---------------------------------------------------------------- a qmail tree


def compile_assign(lines):
    """users/cdb records from users/assign lines, as qmail-newu.c builds them."""
    records = []
    wildchars = b""
    for line in lines:
        if line.startswith("."):
            break
        colon = line.index(":")
        raw = line.encode("utf-8")
        if line[0] == "+":
            key = ("!" + line[1:colon]).encode("utf-8").lower()
            if colon >= 2 and raw[colon - 1:colon] not in wildchars:
                wildchars += raw[colon - 1:colon]
        else:
            key = ("!" + line[1:colon]).encode("utf-8").lower() + b"\0"
        fields = line[colon + 1:].split(":")
        assert len(fields) >= 7, "users/assign line %r lacks its trailing colon" % line
        records.append((key, "\0".join(fields[:6]).encode("utf-8")))
    records.append((b"", wildchars))
    return records


class OwnerView(qmail_host.HostView):
    """A HostView whose homes belong to the tree's fake users (no root needed)."""

    def __init__(self, qmail_dir, passwd_file, owners):
        super(OwnerView, self).__init__(qmail_dir, passwd_file, qmail_host.make_cdb_opener(cdblib))
        self.owners = owners

    def stat(self, path):
        st = super(OwnerView, self).stat(path)
        if st is None or os.path.normpath(path) not in self.owners:
            return st
        return FakeStat(st, self.owners[os.path.normpath(path)])


class FakeStat:
    def __init__(self, real, uid):
        self.st_mode = real.st_mode
        self.st_mtime = real.st_mtime
        self.st_uid = uid


class Tree:
    """A qmail installation in a temporary directory: control files, users, homes, passwd."""

    def __init__(self, base):
        self.base = str(base)
        self.qmail = os.path.join(self.base, "qmail")
        for sub in ("control", "users", "bin", "alias"):
            os.makedirs(os.path.join(self.qmail, sub))
        self.bin = os.path.join(self.base, "usr", "bin")
        os.makedirs(self.bin)
        for name in ("preline", "forward", "qmail-remote"):
            self.program(os.path.join(self.qmail, "bin", name))
        self.torecvm = self.program(os.path.join(self.bin, "torecvm"))
        self.wrapper = self.program(os.path.join(self.bin, "teamware-qmail-remote"))
        self.passwd_file = os.path.join(self.base, "passwd")
        self.passwd_lines = []
        self.owners = {}
        self.accounts = {}
        self.add_user("root", 0, 0, os.path.join(self.base, "root"))
        self.add_user("alias", ALIAS_UID, ALIAS_UID, os.path.join(self.qmail, "alias"))
        self.control("me", ["mail.company.com"])

    def program(self, path):
        """A stand-in program that records its arguments (NUL-separated) in PATH.args and reads its input."""
        with open(path, "w") as handle:
            handle.write("#!/bin/sh\nprintf '%s\\0' \"$@\" > \"$0.args\"\ncat > /dev/null\nexit 0\n")
        os.chmod(path, 0o755)
        return path

    def add_user(self, name, uid, gid, home, make_home=True, owner=None, mode=0o755):
        self.passwd_lines.append("%s:x:%d:%d::%s:/bin/sh" % (name, uid, gid, home))
        with open(self.passwd_file, "w") as handle:
            handle.write("".join(line + "\n" for line in self.passwd_lines))
        if make_home:
            if not os.path.isdir(home):
                os.makedirs(home)
            os.chmod(home, mode)
            self.owners[os.path.normpath(home)] = uid if owner is None else owner
        account = routing.Account(name, uid, gid, home)
        self.accounts[name] = account
        return account

    def control(self, name, lines):
        path = os.path.join(self.qmail, "control", name)
        if lines is None:
            if os.path.exists(path):
                os.unlink(path)
            return
        self.write(path, lines)

    def write(self, path, lines, mode=0o644):
        with open(path, "w") as handle:
            handle.write("".join(line + "\n" for line in lines))
        os.chmod(path, mode)
        return path

    def assign(self, lines, compile_cdb=True):
        self.write(os.path.join(self.qmail, "users", "assign"), lines)
        if compile_cdb:
            with open(os.path.join(self.qmail, "users", "cdb"), "wb") as handle:
                writer = cdblib.Writer(handle)
                for key, value in compile_assign(lines):
                    writer.put(key, value)
                writer.finalize()

    def apply(self, table):
        """Write what routing.compute() computed: control files, users/assign + cdb, .qmail files."""
        for name, lines in table["control"].items():
            self.control(name, lines if lines or name in ("rcpthosts", "locals") else None)
        self.assign(table["users_assign"])
        for entry in table["dot_qmail"]:
            self.write(entry["path"], entry["lines"], int(entry["mode"], 8))

    def view(self):
        return OwnerView(self.qmail, self.passwd_file, self.owners)

    def router(self, **options):
        options.setdefault("delivery_wrappers", [self.wrapper])
        return Router(self.view(), Options(**options))


@pytest.fixture
def tree(tmp_path):
    return Tree(tmp_path)


def home_of(tree, name):
    return tree.accounts[name].home


# ---------------------------------------------------------------- the lookups one by one


def test_control_lines_keep_cr_and_skip_comments():
    text = "# comment\ncompany.com  \n\n tw.company.com\nx.com\r\nlast"
    assert qmail_config.control_lines(text) == ["company.com", " tw.company.com", "x.com\r", "last"]
    assert qmail_config.control_first_line("mail.company.com \t\nsecond\n") == "mail.company.com"
    assert qmail_config.control_first_line(None) is None


def test_constmap_case_insensitive_last_line_wins():
    cmap = qmail_config.ConstMap(["Tw.Company.com:first", "tw.company.COM:second", "nocolon"], True)
    assert cmap.get("TW.company.com") == "second"
    assert "nocolon" not in cmap


def test_control_file_warnings(tree):
    tree.control("locals", ["company.com\r"])
    tree.control("rcpthosts", ["company.com", "company.com"])
    router = tree.router()
    assert any("line 1 ends with a CR" in w for w in router.warnings)
    assert any("lists 'company.com' more than once" in w for w in router.warnings)


@pytest.mark.parametrize("host, route, relay, port", [
    ("tw.company.com", "tw.company.com:[127.0.0.1]:2025", "[127.0.0.1]", 2025),
    ("a.b.tw.company.com", ".b.tw.company.com:[10.0.0.2]", "[10.0.0.2]", 25),
    ("x.tw.company.com", ".tw.company.com:", None, 25),
    ("example.org", ":smarthost.company.com:587", "smarthost.company.com", 587),
])
def test_smtproutes_most_specific_wins_whatever_the_order(tree, host, route, relay, port):
    tree.control("smtproutes", [":smarthost.company.com:587", ".tw.company.com:", ".b.tw.company.com:[10.0.0.2]",
                                "tw.company.com:[127.0.0.1]:2025"])
    found = tree.router().config.smtproute(host)
    assert (found["route"], found["relay"], found["port"], found["mx"]) == (route, relay, port, relay is None)


def test_rewrite_locals_first_then_virtualdomains_in_qmail_order(tree):
    tree.control("locals", ["company.com"])
    tree.control("virtualdomains", [":catchall", ".company.com:sub", ".x.company.com:longer", "tw.company.com:twu",
                                    "boss@tw.company.com:boss", "company.com:never", "ext.org:"])
    config = tree.router().config
    assert config.rewrite("john@company.com")[:2] == ("local", "john@company.com")
    assert config.rewrite("john@tw.company.com")[:2] == ("virtual", "twu-john@tw.company.com")
    assert config.rewrite("boss@TW.company.com")[:2] == ("virtual", "boss-boss@TW.company.com")
    assert config.rewrite("a@y.x.company.com")[:2] == ("virtual", "longer-a@y.x.company.com")
    assert config.rewrite("a@y.company.com")[:2] == ("virtual", "sub-a@y.company.com")
    assert config.rewrite("a@elsewhere.org")[:2] == ("virtual", "catchall-a@elsewhere.org")
    assert config.rewrite("a@ext.org")[:2] == ("remote", "a@ext.org")


def test_rewrite_envnoathost_and_percenthack(tree):
    tree.control("locals", ["company.com"])
    tree.control("envnoathost", ["company.com"])
    tree.control("percenthack", ["relay.company.com"])
    config = tree.router().config
    klass, address, details = config.rewrite("john")
    assert (klass, address, details["envnoathost"]) == ("local", "john@company.com", True)
    klass, address, details = config.rewrite("bob%company.com@relay.company.com")
    assert (klass, address, details["percenthack"]) == ("local", "bob@company.com", True)


def test_rcpthosts_exact_and_suffix(tree):
    tree.control("rcpthosts", ["company.com", ".tw.company.com"])
    config = tree.router().config
    assert config.smtpd_accepts("a@Company.Com")[:2] == (True, "company.com")
    assert config.smtpd_accepts("a@x.tw.company.com")[:2] == (True, ".tw.company.com")
    assert config.smtpd_accepts("a@tw.company.com")[0] is False
    assert config.smtpd_accepts("a@sub.company.com")[0] is False
    assert config.smtpd_accepts("postmaster")[0] is True


def test_rcpthosts_missing_is_an_open_relay_and_empty_refuses_all(tree):
    router = tree.router()
    assert any("OPEN RELAY" in w for w in router.warnings)
    route = router.route("anyone@anywhere.example")
    assert route["accepted_by_smtpd"]["stranger"] is True
    assert any("OPEN RELAY" in w for w in route["warnings"])
    tree.control("rcpthosts", [])
    router = tree.router()
    assert any("refuses every recipient" in w for w in router.warnings)
    route = router.route("john@mail.company.com")
    assert route["accepted_by_smtpd"] == dict(route["accepted_by_smtpd"], stranger=False, relay_client=True)
    assert "refused" in route["summary"]


def test_relay_clients_from_tcp_rules_and_hosts_allow(tree):
    rules = tree.write(os.path.join(tree.base, "tcp.smtp"), [
        "# Teamware Office", "192.0.2.10:allow,RELAYCLIENT=\"\"", "127.:allow,RELAYCLIENT=\"\",TCPREMOTEHOST=\"x\"",
        "198.51.100.:deny", ":allow"])
    allow = tree.write(os.path.join(tree.base, "hosts.allow"), [
        "tcp-env: 1.2.3.4: setenv = RELAYCLIENT", "tcp-env:1.2.3: setenv = RELAYCLIENT", "sshd: ALL"])
    clients, warnings = tree.router().relay_clients(rules, allow)[:2]
    assert [(c["address"], c["source"]) for c in clients] == [
        ("192.0.2.10", "tcp_rules"), ("127.", "tcp_rules"), ("1.2.3.4", "hosts_allow"), ("1.2.3", "hosts_allow")]
    assert any("tcp.smtp.cdb does not" in w for w in warnings)
    assert [c["effective"] for c in clients] == [True, True, True, False]
    assert any("hosts.allow line 2: '1.2.3' is a partial address without its trailing dot" in w for w in warnings)


@pytest.mark.parametrize("line, words, unquoted", [
    ('torecvm -f"$SENDER" -r"$RECIPIENT"', ["torecvm", "-fs@x.org", "-rjohn@company.com"], []),
    ('prog $SENDER "$LOCAL"', ["prog", "s@x.org", "john"], ["SENDER"]),
    ("prog '$SENDER' \\$LOCAL", ["prog", "$SENDER", "$LOCAL"], []),
    ('prog ${LOCAL}@"$HOST" end', ["prog", "john@company.com", "end"], ["LOCAL"]),
    ('prog $EMPTY "" x', ["prog", "", "x"], []),
    ('prog $SPACED', ["prog", "a", "b"], []),
    ('prog "$SPACED"', ["prog", " a b "], []),
    ('prog x # comment $SENDER', ["prog", "x"], []),
])
def test_shell_expansion(line, words, unquoted):
    env = {"SENDER": "s@x.org", "RECIPIENT": "john@company.com", "LOCAL": "john", "HOST": "company.com", "EMPTY": "",
           "SPACED": " a b "}
    shell = shell_parse.parse_shell(line, env)
    assert shell.simple
    assert shell.words == words
    assert [n for n in shell.unquoted if n in delivery_programs.SENDER_CONTROLLED] == unquoted


def test_shell_substitution_is_not_simple_and_quotes_inside_are_respected():
    line = 'case "$(printf %s "$HOST" | tr "[:upper:]" "[:lower:]")" in tw.*) ;; *) exit 100 ;; esac'
    shell = shell_parse.parse_shell(line, {"HOST": "x"})
    assert not shell.simple
    assert shell.unquoted == []
    shell = shell_parse.parse_shell('echo "$(echo $SENDER)" | mail x', {"SENDER": "s"})
    assert shell.unquoted == ["SENDER"]


def test_environment_like_qmail_local():
    env = local_delivery.local_environment("alias", "/var/qmail/alias", "Tw.John-X.y", "-", "Tw.John-X.y", "mail.Company.COM", "s p@x")
    assert env["RECIPIENT"] == "Tw.John-X.y@mail.Company.COM"
    assert (env["EXT2"], env["EXT3"], env["EXT4"]) == ("X.y", "", "")
    assert (env["HOST2"], env["HOST3"], env["HOST4"]) == ("mail.Company", "mail", "mail")
    assert env["RPLINE"] == 'Return-Path: <"s p"@x>\n'
    assert env["DTLINE"] == "Delivered-To: Tw.John-X.y@mail.Company.COM\n"


def test_python_cdb_adapter():
    class FakeDb:
        def get(self, key):
            if isinstance(key, bytes):
                raise TypeError("str keys only")
            return {"": ".", "!x\0": "u\x00"}.get(key)

    class FakeModule:
        @staticmethod
        def init(path):
            return FakeDb()
    get = qmail_host.make_cdb_opener(FakeModule)("/nonexistent")
    assert get(b"") == b"."
    assert get(b"!x\0") == b"u\0"
    assert get(b"!y") is None
    with pytest.raises(qmail_host.CdbUnavailable):
        qmail_host.make_cdb_opener(None)("/x")


# ---------------------------------------------------------------- users/cdb and qmail-getpw


def test_users_cdb_exact_beats_wildcard_longest_wildcard_wins(tree):
    twu = tree.add_user("twu", TWU_UID, TWU_UID, os.path.join(tree.base, "home", "twu"))
    tree.assign([
        "+tw.:twu:%d:%d:%s:-::" % (TWU_UID, TWU_UID, twu.home),
        "+tw.x:twu:%d:%d:%s:-:x-:" % (TWU_UID, TWU_UID, twu.home),
        "=tw.boss:twu:%d:%d:%s:-:boss:" % (TWU_UID, TWU_UID, twu.home),
        "."])
    router = tree.router()
    found = router.lookup_user("Tw.John")
    assert (found["source"], found["assign"], found["user"], found["dash"], found["ext"]) == ("users/cdb", "+tw.", "twu", "-", "John")
    found = router.lookup_user("tw.xavier")
    assert (found["assign"], found["ext"]) == ("+tw.x", "x-avier")
    found = router.lookup_user("TW.BOSS")
    assert (found["assign"], found["ext"]) == ("=tw.boss", "boss")
    assert router.lookup_user("john")["source"] == "alias"


def test_getpw_name_and_name_anything(tree):
    home = os.path.join(tree.base, "home", "john")
    tree.add_user("john", 1000, 1000, home)
    tree.add_user("john-doe", 1001, 1001, os.path.join(tree.base, "home", "john-doe"))
    tree.add_user("nohome", 1002, 1002, os.path.join(tree.base, "home", "nohome"), make_home=False)
    tree.add_user("stolen", 1003, 1003, os.path.join(tree.base, "home", "stolen"), owner=0)
    tree.add_user("zero", 0, 0, os.path.join(tree.base, "home", "zero"))
    router = tree.router()

    def key(local):
        found = router.lookup_user(local)
        return found["source"], found["user"], found["dash"], found["ext"]
    assert key("John") == ("passwd", "john", "", "")
    assert key("john-Foo-bar") == ("passwd", "john", "-", "Foo-bar")
    assert key("john-doe-x") == ("passwd", "john-doe", "-", "x")
    assert key("john.doe") == ("alias", "alias", "-", "john.doe")
    assert key("nohome-x") == ("alias", "alias", "-", "nohome-x")
    assert key("stolen") == ("alias", "alias", "-", "stolen")
    assert key("zero") == ("alias", "alias", "-", "zero")
    assert [s["user"] for s in router.lookup_user("stolen")["skipped"]] == ["stolen"]


def test_qmail_file_search_order_and_default(tree):
    home = os.path.join(tree.base, "home", "john")
    tree.add_user("john", 1000, 1000, home)
    tree.write(os.path.join(home, ".qmail-a-b-c"), ["./exact/"])
    tree.write(os.path.join(home, ".qmail-a-default"), ["./a-default/"])
    tree.write(os.path.join(home, ".qmail-default"), ["./default/"])
    tree.write(os.path.join(home, ".qmail-x:y"), ["./dotted/"])
    tree.control("locals", ["company.com"])
    tree.control("rcpthosts", ["company.com"])
    router = tree.router()

    def chosen(address):
        route = router.route(address)
        return os.path.basename(route["local"]["dot_qmail"]), route["local"]["environment"].get("DEFAULT")
    assert chosen("john-a-b-c@company.com") == (".qmail-a-b-c", None)
    assert chosen("john-A-B-Z@company.com") == (".qmail-a-default", "B-Z")
    assert chosen("john-b@company.com") == (".qmail-default", "b")
    assert chosen("john-X.Y@company.com") == (".qmail-x:y", None)
    route = router.route("john@company.com")
    assert route["local"]["dot_qmail"] is None and route["local"]["default_delivery"] == "./Maildir/"
    # no ~john/Maildir: qmail-local defers ("Unable to chdir to maildir. (#4.2.1)", seen on real qmail)
    assert route["final"][0]["type"] == "defer" and route["final"][0]["path"] == home + "/Maildir/"
    assert any("Maildir %s/Maildir/ of user john is missing" % home in w for w in route["warnings"])
    make_maildir(os.path.join(home, "Maildir"))
    route = router.route("john@company.com")
    assert route["final"][0]["type"] == "maildir" and route["final"][0]["path"] == home + "/Maildir/"
    assert route["warnings"] == []


# ---------------------------------------------------------------- every integration method


def make_maildir(path):
    for part in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, part), exist_ok=True)


def method_tree(tree, method, **extra):
    """The document's example, written into the tree by the routing core."""
    twu = tree.add_user("twu", TWU_UID, TWU_UID, os.path.join(tree.base, "home", "twu"))
    variables = {
        "teamware_integration_method": method,
        "qmail_dir": tree.qmail,
        "qmail_local_domains": ["company.com"],
        "teamware_server": "tw.server.company.com",
        "teamware_server_address": "127.0.0.1",
        "teamware_smtp_port": 2025,
        "teamware_torecvm": tree.torecvm,
        "qmail_delivery_wrapper": tree.wrapper,
        "qmail_aliases": {"postmaster": ["admin@tw.company.com"]},
    }
    variables.update(extra)
    table = routing.compute(variables, twu, tree.accounts["alias"], ["root", "alias", "twu"])
    tree.apply(table)
    return table


DOMAIN = {"teamware_routing": "domain", "teamware_domains": ["tw.company.com"]}
USER = {"teamware_routing": "user", "teamware_domains": ["company.com"], "teamware_user_prefix": "tw."}

METHOD_CASES = [
    pytest.param("none", {"teamware_domains": ["tw.company.com"]}, "john@tw.company.com",
                 "john@tw.company.com -> Teamware Office by SMTP to the MX of tw.company.com [remote, MX]"
                 " | from other hosts: refused, not in rcpthosts (relay clients only)", "remote_smtp", id="2-none"),
    pytest.param("torecvm_alias", DOMAIN, "john@tw.company.com",
                 "john@tw.company.com -> Teamware Office by torecvm into /to/smtp [alias, ~alias/.qmail-default]",
                 "teamware_torecvm", id="5.1.1-domain"),
    pytest.param("torecvm_alias", USER, "tw.john@company.com",
                 "tw.john@company.com -> Teamware Office by torecvm into /to/smtp [alias, ~alias/.qmail-default]",
                 "teamware_torecvm", id="5.1.1-user"),
    pytest.param("torecvm_virtualdomains", {"teamware_domains": ["tw.company.com"]}, "john@tw.company.com",
                 "john@tw.company.com -> Teamware Office by torecvm into /to/smtp [virtualdomains tw.company.com:twu, "
                 "passwd twu, ~twu/.qmail-default]", "teamware_torecvm", id="5.1.2"),
    pytest.param("torecvm_users", {"teamware_domains": ["company.com"], "teamware_user_prefix": "tw."}, "tw.john@company.com",
                 "tw.john@company.com -> Teamware Office by torecvm into /to/smtp [users/cdb +tw. -> twu, ~twu/.qmail-default]",
                 "teamware_torecvm", id="5.1.3"),
    pytest.param("smtp_smtproutes", {"teamware_domains": ["tw.company.com"]}, "john@tw.company.com",
                 "john@tw.company.com -> Teamware Office by SMTP via [127.0.0.1]:2025 "
                 "[remote, smtproutes tw.company.com:[127.0.0.1]:2025]", "remote_smtp", id="5.2.1"),
    pytest.param("smtp_alias", DOMAIN, "john@tw.company.com",
                 "john@tw.company.com -> Teamware Office by SMTP via tw.server.company.com ([127.0.0.1]:2025) "
                 "[alias, ~alias/.qmail-default]", "teamware_smtp", id="5.2.2-domain"),
    pytest.param("smtp_alias", USER, "tw.john@company.com",
                 "tw.john@company.com -> Teamware Office by SMTP via tw.server.company.com ([127.0.0.1]:2025) "
                 "[alias, ~alias/.qmail-default]", "teamware_smtp", id="5.2.2-user"),
    pytest.param("smtp_users", {"teamware_domains": ["company.com"], "teamware_user_prefix": "tw."}, "tw.john@company.com",
                 "tw.john@company.com -> Teamware Office by SMTP via tw.server.company.com ([127.0.0.1]:2025) "
                 "[users/cdb +tw. -> twu, ~twu/.qmail-default]", "teamware_smtp", id="5.2.3"),
    pytest.param("smtp_forward", dict(USER, teamware_rewrite_domain="tw.company.com"), "tw.john@company.com",
                 "tw.john@company.com -> forward to tw.john@tw.company.com [alias, ~alias/.qmail-default] -> "
                 "Teamware Office by SMTP via [127.0.0.1]:2025 [remote, smtproutes tw.company.com:[127.0.0.1]:2025]",
                 "remote_smtp", id="5.2.4"),
]


@pytest.mark.parametrize("method, extra, address, summary, final_type", METHOD_CASES)
def test_every_method_routes_the_teamware_address(tree, method, extra, address, summary, final_type):
    method_tree(tree, method, **extra)
    router = tree.router(teamware_domains=extra.get("teamware_domains"), teamware_user_prefix=extra.get("teamware_user_prefix"),
                         teamware_servers=["[127.0.0.1]:2025"])
    assert router.warnings == []
    route = router.route(address)
    assert route["summary"] == summary
    assert [leaf["type"] for leaf in route["final"]] == [final_type]
    if routing.METHODS[method].routes_mail:
        assert route["final"][0]["teamware"] is True
        assert route["warnings"] == []
        assert route["accepted_by_smtpd"]["stranger"] is True


def test_users_method_in_detail(tree):
    method_tree(tree, "smtp_users", teamware_domains=["company.com"], teamware_user_prefix="tw.")
    route = tree.router().route("Tw.John@Company.com")
    local = route["local"]
    assert (route["class"], local["lookup"], local["assign"], local["user"], local["uid"], local["dash"], local["ext"]) == (
        "local", "users/cdb", "+tw.", "twu", TWU_UID, "-", "John")
    assert local["dot_qmail_tried"] == [home_of(tree, "twu") + "/.qmail-john", home_of(tree, "twu") + "/.qmail-default"]
    assert local["environment"]["DEFAULT"] == "John"
    leaf = route["final"][0]
    assert (leaf["host"], leaf["relay"], leaf["port"], leaf["safe"], leaf["recipients"]) == (
        "tw.server.company.com", "[127.0.0.1]", 2025, True, ["Tw.John@Company.com"])


def test_virtualdomains_method_builds_the_address_from_default_and_host(tree):
    method_tree(tree, "torecvm_virtualdomains", teamware_domains=["tw.company.com"])
    route = tree.router().route("John.Woo@TW.company.com")
    assert route["rewritten"] == "twu-John.Woo@TW.company.com"
    local = route["local"]
    assert (local["lookup"], local["user"], local["ext"], local["environment"]["DEFAULT"]) == ("passwd", "twu", "John.Woo", "John.Woo")
    leaf = route["final"][0]
    assert leaf["recipients"] == ["John.Woo@TW.company.com"]
    assert leaf["preline"] is True and leaf["directory"] == "/to/smtp" and leaf["sender"] == DEFAULT_SENDER


@pytest.mark.parametrize("method, extra", [
    ("torecvm_alias", DOMAIN), ("smtp_alias", USER), ("smtp_forward", dict(USER, teamware_rewrite_domain="tw.company.com"))])
def test_alias_guards_bounce_what_is_not_teamware(tree, method, extra):
    method_tree(tree, method, **extra)
    route = tree.router().route("typo@company.com")
    assert route["final"][0]["type"] == "bounce"
    assert route["final"][0]["reason"].startswith(local_delivery.MSG_NO_MAILBOX)


def test_alias_file_of_the_core_forwards_postmaster(tree):
    method_tree(tree, "smtp_smtproutes", teamware_domains=["tw.company.com"])
    route = tree.router(teamware_domains=["tw.company.com"]).route("Postmaster@company.com")
    assert route["summary"] == ("Postmaster@company.com -> forward to admin@tw.company.com [alias, ~alias/.qmail-postmaster] -> "
                                "Teamware Office by SMTP via [127.0.0.1]:2025 [remote, smtproutes tw.company.com:[127.0.0.1]:2025]")
    assert route["final"][0]["chain"] == ["Postmaster@company.com", "admin@tw.company.com"]


# ---------------------------------------------------------------- pitfalls


def test_teamware_address_that_is_a_linux_user_lands_in_a_mailbox(tree):
    method_tree(tree, "torecvm_alias", **DOMAIN)
    home = os.path.join(tree.base, "home", "john")
    tree.add_user("john", 1000, 1000, home)
    make_maildir(os.path.join(home, "Maildir"))
    route = tree.router(teamware_domains=["tw.company.com"]).route("john@tw.company.com")
    assert route["final"][0]["type"] == "maildir"
    assert route["final"][0]["teamware"] is False
    assert any("Teamware address john@tw.company.com lands in the Linux maildir" in w for w in route["warnings"])


def test_forward_loop_is_detected(tree):
    tree.control("locals", ["company.com"])
    tree.control("rcpthosts", ["company.com"])
    alias = home_of(tree, "alias")
    tree.write(os.path.join(alias, ".qmail-a"), ["&b@company.com"])
    tree.write(os.path.join(alias, ".qmail-b"), ["| %s/bin/forward \"$LOCAL\"x@company.com" % tree.qmail])
    tree.write(os.path.join(alias, ".qmail-bx"), ["a@company.com"])
    route = tree.router().route("a@company.com")
    assert route["final"][0]["type"] == "bounce" and route["final"][0]["reason"] == local_delivery.MSG_LOOP
    assert route["final"][0]["chain"] == ["a@company.com", "b@company.com", "bx@company.com", "a@company.com"]
    assert any("forward LOOP: a@company.com -> b@company.com -> bx@company.com -> a@company.com" in w for w in route["warnings"])
    assert "forward to b@company.com [alias, ~alias/.qmail-a] -> forward to bx@company.com" in route["summary"]


def test_forward_depth_limit(tree):
    tree.control("locals", ["company.com"])
    tree.control("rcpthosts", ["company.com"])
    tree.write(os.path.join(home_of(tree, "alias"), ".qmail-default"), ['| %s/bin/forward "$LOCAL"x@company.com' % tree.qmail])
    route = tree.router(max_depth=3).route("a@company.com")
    assert route["final"][0]["type"] == "unknown"
    assert route["final"][0]["chain"] == ["a@company.com", "ax@company.com", "axx@company.com", "axxx@company.com",
                                          "axxxx@company.com"]
    assert any("longer than 3 hops" in w for w in route["warnings"])


def test_bare_qmail_remote_pipe_loses_mail(tree):
    method_tree(tree, "smtp_alias", **DOMAIN)
    alias = home_of(tree, "alias")
    tree.write(os.path.join(alias, ".qmail-default"), ['| qmail-remote tw.server.company.com "$SENDER" "$RECIPIENT"'])
    route = tree.router(teamware_domains=["tw.company.com"]).route("john@tw.company.com")
    leaf = route["final"][0]
    assert (leaf["type"], leaf["safe"], leaf["relay"], leaf["port"]) == ("teamware_smtp", False, "[127.0.0.1]", 2025)
    assert any("bare qmail-remote pipe" in w and "LOST" in w for w in route["warnings"])
    assert "BARE qmail-remote" in route["summary"]


def test_unquoted_variables_in_a_pipe(tree):
    method_tree(tree, "torecvm_users", teamware_domains=["company.com"], teamware_user_prefix="tw.")
    twu = home_of(tree, "twu")
    tree.write(os.path.join(twu, ".qmail-default"), ["| %s -d/to/smtp -pA -f$SENDER -r$DEFAULT@tw.company.com" % tree.torecvm])
    router = tree.router(sender="")
    route = router.route("tw.john@company.com")
    assert route["local"]["lines"][0]["unquoted"] == ["SENDER", "DEFAULT"]
    assert any("unquoted $SENDER, $DEFAULT" in w for w in route["warnings"])
    # A bounce (empty sender): the unquoted $SENDER vanishes, -f takes the next word and the recipient is gone.
    assert route["local"]["lines"][0]["argv"][1:] == ["-d/to/smtp", "-pA", "-f", "-rjohn@tw.company.com"]
    leaf = route["final"][0]
    assert (leaf["type"], leaf["sender"], leaf["recipients"]) == ("teamware_torecvm", "-rjohn@tw.company.com", [])


def test_document_sender_instead_of_default_is_visible(tree):
    method_tree(tree, "torecvm_virtualdomains", teamware_domains=["tw.company.com"])
    tree.write(os.path.join(home_of(tree, "twu"), ".qmail-default"),
               ['| %s -d/to/smtp -pA -f"$SENDER" -r"$SENDER"@"$HOST"' % tree.torecvm])
    route = tree.router().route("john@tw.company.com")
    assert route["final"][0]["recipients"] == ["sender@example.net@tw.company.com"]


@pytest.mark.parametrize("mode, reason, words", [
    (0o777, local_delivery.MSG_HOME_WRITABLE, "world-writable"),
    (0o1755, local_delivery.MSG_HOME_STICKY, "sticky"),
])
def test_world_writable_or_sticky_home_defers(tree, mode, reason, words):
    tree.control("locals", ["company.com"])
    tree.add_user("john", 1000, 1000, os.path.join(tree.base, "home", "john"), mode=mode)
    route = tree.router().route("john@company.com")
    assert route["final"][0] == dict(route["final"][0], type="defer", reason=reason)
    assert any(words in w for w in route["warnings"])


def test_writable_dot_qmail_defers(tree):
    tree.control("locals", ["company.com"])
    home = os.path.join(tree.base, "home", "john")
    tree.add_user("john", 1000, 1000, home)
    tree.write(os.path.join(home, ".qmail"), ["./Maildir/"], mode=0o666)
    route = tree.router().route("john@company.com")
    assert route["final"][0]["reason"] == local_delivery.MSG_QMAIL_WRITABLE
    assert any(".qmail is world-writable" in w for w in route["warnings"])


def test_blank_first_line_and_x_bit(tree):
    tree.control("locals", ["company.com"])
    home = os.path.join(tree.base, "home", "john")
    tree.add_user("john", 1000, 1000, home)
    tree.write(os.path.join(home, ".qmail-blank"), ["", "./Maildir/"])
    tree.write(os.path.join(home, ".qmail-x"), ["&bob@example.org", "./Maildir/"], mode=0o744)
    tree.write(os.path.join(home, ".qmail-list"), ["+list", "&bob@example.org", "|prog"])
    router = tree.router()
    assert router.route("john-blank@company.com")["final"][0]["reason"] == local_delivery.MSG_BLANK_FIRST
    route = router.route("john-x@company.com")
    assert [leaf["type"] for leaf in route["final"]] == ["defer"] and route["final"][0]["reason"] == local_delivery.MSG_XBIT_FILE
    assert route["final"][0]["reason"] == local_delivery.MSG_XBIT_FILE
    assert any("are not sent" in n for n in route["notes"])
    assert router.route("john-list@company.com")["final"][0]["reason"] == local_delivery.MSG_XBIT_PROG


def test_users_cdb_older_than_assign(tree):
    twu = tree.add_user("twu", TWU_UID, TWU_UID, os.path.join(tree.base, "home", "twu"))
    tree.assign(["+tw.:twu:%d:%d:%s:-::" % (TWU_UID, TWU_UID, twu.home), "."])
    assign = os.path.join(tree.qmail, "users", "assign")
    cdb = os.path.join(tree.qmail, "users", "cdb")
    os.utime(cdb, (1000000000, 1000000000))
    assert any("users/cdb is older than users/assign" in w for w in tree.router().warnings)
    os.unlink(cdb)
    assert any("users/cdb does not exist" in w for w in tree.router().warnings)
    tree.assign(["."], compile_cdb=False)
    os.utime(assign, None)
    assert tree.router().warnings == [w for w in tree.router().warnings if "users/" not in w]


def test_virtual_domain_user_that_qmail_getpw_skips(tree):
    method_tree(tree, "torecvm_virtualdomains", teamware_domains=["tw.company.com"])
    tree.owners[os.path.normpath(home_of(tree, "twu"))] = 0
    route = tree.router(teamware_domains=["tw.company.com"]).route("john@tw.company.com")
    assert route["local"]["lookup"] == "alias" and route["local"]["ext"] == "twu-john"
    assert route["final"][0]["type"] == "bounce"
    assert any("passwd user twu of tw.company.com:twu is skipped by qmail-getpw (home" in w for w in route["warnings"])
    assert any("does not reach Teamware Office" in w for w in route["warnings"])


def test_routing_user_with_uid_0_is_deferred(tree):
    tree.control("locals", ["company.com"])
    home = os.path.join(tree.base, "home", "twu")
    tree.add_user("twu", 0, 0, home)
    tree.assign(["+tw.:twu:0:0:%s:-::" % home, "."])
    route = tree.router().route("tw.john@company.com")
    assert route["final"][0]["type"] == "defer" and route["final"][0]["reason"] == local_delivery.MSG_ROOT
    assert any("uid 0" in w for w in route["warnings"])


def test_root_goes_to_alias_and_without_alias_file_bounces(tree):
    tree.control("locals", ["company.com"])
    route = tree.router().route("root@company.com")
    assert route["local"]["lookup"] == "alias"
    assert route["final"][0]["reason"] == local_delivery.MSG_NO_MAILBOX
    assert any("root has uid 0" in n for n in route["notes"])


def test_missing_program_is_reported(tree):
    tree.control("locals", ["company.com"])
    tree.write(os.path.join(home_of(tree, "alias"), ".qmail-default"), ['| /opt/nowhere/torecvm -f"$SENDER" -r"$RECIPIENT"'])
    route = tree.router().route("x@company.com")
    assert any("/opt/nowhere/torecvm does not exist" in w for w in route["warnings"])


def test_a_program_that_cannot_be_looked_at_is_not_called_missing(tree, deny_access):
    # torecvm behind a directory the check may not search: the route is unknown and says why, never the presence
    # check's "does not exist ... deferred" (the delivery may well work as qmail-local's user).
    method_tree(tree, "torecvm_alias", **DOMAIN)
    deny_access("stat", tree.torecvm)
    route = tree.router().route("john@tw.company.com")
    assert route["final"][0]["type"] == "unknown" and tree.torecvm in route["final"][0]["reason"]
    assert "Permission denied" in route["final"][0]["reason"]
    assert any("run the module as root (become)" in w for w in route["warnings"])
    assert not any("does not exist" in w for w in route["warnings"])


def test_a_damaged_users_cdb_is_unknown_without_the_become_hint(tree):
    # qmail-newu writes cdb.tmp and renames it: a users/cdb shorter than its header is no file qmail-newu left
    tree.control("locals", ["company.com"])
    tree.write(os.path.join(tree.qmail, "users", "cdb"), [])
    route = tree.router().route("john@company.com")
    assert route["final"][0]["type"] == "unknown" and "CDB too small" in route["final"][0]["reason"]
    assert any("cannot read what qmail reads for john@company.com" in w for w in route["warnings"])
    assert not any("become" in w for w in route["warnings"])


def test_a_program_behind_a_link_loop_is_not_called_missing(tree):
    # os.path.exists says False for a loop as for a missing file; qmail's sh would fail with ELOOP, not ENOENT.
    method_tree(tree, "torecvm_alias", **DOMAIN)
    os.unlink(tree.torecvm)
    os.symlink(tree.torecvm, tree.torecvm)
    route = tree.router().route("john@tw.company.com")
    assert route["final"][0]["type"] == "unknown" and tree.torecvm in route["final"][0]["reason"]
    assert not any("does not exist" in w for w in route["warnings"])
    os.unlink(tree.torecvm)
    route = tree.router().route("john@tw.company.com")
    assert any("%s does not exist on this host" % tree.torecvm in w for w in route["warnings"])


def test_teamware_address_by_prefix_that_bounces_is_flagged(tree):
    tree.control("locals", ["company.com"])
    route = tree.router(teamware_domains=["company.com"], teamware_user_prefix="tw.").route("tw.john@company.com")
    assert route["teamware_address"] is True
    assert any("does not reach Teamware Office (bounce)" in w for w in route["warnings"])


def test_unreadable_file_is_reported_per_address(tree, monkeypatch):
    tree.control("locals", ["company.com"])
    router = tree.router()
    router.view.passwd()

    def denied(path):
        raise OSError(13, "Permission denied", path)
    monkeypatch.setattr(router.view, "read_text", denied)
    tree.write(os.path.join(home_of(tree, "alias"), ".qmail-x"), ["./Maildir/"])
    route = router.route("x@company.com")
    assert route["final"][0]["type"] == "defer" and route["final"][0]["reason"].startswith("Unable to open ")
    monkeypatch.setattr(router.view, "stat", denied)
    route = router.route("y@company.com")
    assert route["final"][0]["type"] == "unknown"
    assert any("run the module as root" in w for w in route["warnings"])


def test_local_domain_missing_from_rcpthosts(tree):
    tree.control("locals", ["company.com", "localhost"])
    tree.control("rcpthosts", ["other.com"])
    warnings = tree.router().warnings
    assert any("local domain company.com is not in control/rcpthosts" in w for w in warnings)
    assert not any("localhost" in w for w in warnings)


# ---------------------------------------------------------------- the real qmail


def run_qmail_local(qmail, args, message=None, env=None):
    """Real qmail-local; returns (exit code, stdout lines, stderr text)."""
    stdin = open(message, "rb") if message else open(os.devnull, "rb")
    try:
        proc = subprocess.run([os.path.join(qmail, "bin", "qmail-local")] + args, stdin=stdin, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env or {"PATH": "/usr/bin:/bin"}, timeout=30, check=False)
    finally:
        stdin.close()
    return proc.returncode, proc.stdout.decode().splitlines(), proc.stderr.decode().strip()


def predicted_sayit(route):
    """What qmail-local -n would print for our reading of the lines."""
    said = []
    for entry in route["local"]["lines"]:
        if entry.get("type") in ("maildir", "mbox"):
            said.append("%s %s" % (entry["type"], entry["text"]))
        elif entry.get("type") == "program":
            said.append("program %s" % entry["text"][1:])
        elif entry.get("type") == "forward":
            said.append("forward %s" % entry["target"])
    return said


NOW_SCENARIOS = [
    # (files {name: (lines, mode)}, home mode, local, dash, ext)
    pytest.param({".qmail-tw:john-default": (["# c", "./md/", "&x@example.org", "| prog \"$LOCAL\"", "./mbox  "], 0o644),
                  ".qmail-default": (["./wrong/"], 0o644)}, 0o755, "Tw.John-X", "-", "Tw.John-X", id="prefix-default"),
    pytest.param({".qmail-default": (["./default/"], 0o644)}, 0o755, "twu-john", "-", "john", id="virtual-default"),
    pytest.param({".qmail-john": (["bob@example.org", "", "./exact/"], 0o644), ".qmail-default": (["./d/"], 0o644)},
                 0o755, "john", "-", "john", id="exact"),
    pytest.param({}, 0o755, "xyz", "-", "xyz", id="no-file-with-dash"),
    pytest.param({}, 0o755, "john", "", "", id="no-file-no-dash"),
    pytest.param({".qmail": ([], 0o644)}, 0o755, "john", "", "", id="empty-file"),
    pytest.param({".qmail-default": (["", "./x/"], 0o644)}, 0o755, "a", "-", "a", id="blank-first-line"),
    pytest.param({".qmail-default": (["./x/"], 0o666)}, 0o755, "a", "-", "a", id="writable-qmail"),
    pytest.param({".qmail-default": (["./x/"], 0o644)}, 0o777, "a", "-", "a", id="writable-home"),
    pytest.param({".qmail-default": (["&a@b.c", "|prog"], 0o755)}, 0o755, "a", "-", "a", id="x-bit"),
    pytest.param({".qmail-default": (["+list", "./x/"], 0o644)}, 0o755, "a", "-", "a", id="plus-list"),
]


@pytest.mark.parametrize("files, home_mode, local, dash, ext", NOW_SCENARIOS)
def test_lines_and_errors_match_real_qmail_local_dry_run(tree, files, home_mode, local, dash, ext):
    qmail = require_qmail("qmail-local")
    home = os.path.join(tree.base, "home", "u")
    os.makedirs(home)
    os.chmod(home, home_mode)
    for name, (lines, mode) in files.items():
        tree.write(os.path.join(home, name), lines, mode)
    # qmail-local -n says what it would do without delivering: the Maildirs it names must be there for the
    # prediction to say "deliver" too
    for line in ["./Maildir/"] + [line for lines, _mode in files.values() for line in lines]:
        if line.startswith("./") and line.endswith("/"):
            make_maildir(os.path.join(home, line[2:]))
    code, said, error = run_qmail_local(qmail, ["-n", "u", home, local, dash, ext, "company.com", "s@x.org", "./Maildir/"])
    route = tree.router().qmail_local("u", home, local, dash, ext, "company.com", "s@x.org")
    stops = [d for d in route["destinations"] if d["type"] in ("bounce", "defer")]
    if code == 0:
        assert not stops, error
        assert said[:-1] == predicted_sayit(route)
        assert said[-1].startswith("did ")
    else:
        assert [(d["type"], d["reason"]) for d in stops] == [({100: "bounce", 111: "defer"}[code], error)]
        assert said[:-1] == predicted_sayit(route)[:len(said) - 1] if said else True


ENV_SCENARIOS = [
    pytest.param(".qmail-tw:john-default", "alias", "Tw.John-X.y", "-", "Tw.John-X.y", "mail.Company.COM", "s p@x.org", id="prefix"),
    pytest.param(".qmail-default", "twu", "twu-John.Woo", "-", "John.Woo", "tw.company.com", "", id="virtual-bounce-sender"),
    pytest.param(".qmail-foo-default", "u", "u-foo-default", "-", "foo-default", "company.com", "a@b", id="literal-default"),
    pytest.param(".qmail", "u", "u", "", "", "localhost", "a@b", id="plain"),
]


@pytest.mark.parametrize("name, user, local, dash, ext, host, sender", ENV_SCENARIOS)
def test_environment_and_argv_match_real_qmail_local(tree, name, user, local, dash, ext, host, sender):
    qmail = require_qmail("qmail-local")
    home = os.path.join(tree.base, "home", "u")
    os.makedirs(home)
    os.chmod(home, 0o755)
    out = os.path.join(tree.base, "out")
    probe = 'printf "%s\\n" "$SENDER" $LOCAL -r"$DEFAULT"@"$HOST" x$EXT2'
    tree.write(os.path.join(home, name), ["| env -0 > %s.env" % out, "| %s > %s.argv" % (probe, out)])
    message = tree.write(os.path.join(tree.base, "message"), ["From: a@b", "", "body"])
    code, said, error = run_qmail_local(qmail, [user, home, local, dash, ext, host, sender, "./Maildir/"], message)
    assert code == 0, error
    with open(out + ".env", "rb") as handle:
        real = dict(item.decode().split("=", 1) for item in handle.read().split(b"\0") if item)
    route = tree.router().qmail_local(user, home, local, dash, ext, host, sender)
    predicted = route["local"]["environment"]
    for key in ("PATH", "PWD", "SHLVL", "_", "UFLINE"):
        real.pop(key, None)
    assert predicted == real
    with open(out + ".argv") as handle:
        real_argv = handle.read().split("\n")[:-1]
    assert shell_parse.parse_shell(probe, predicted).words[2:] == real_argv


REAL_RUN_CASES = [
    pytest.param("torecvm_alias", DOMAIN, "john@tw.company.com", "torecvm", id="5.1.1-domain"),
    pytest.param("torecvm_alias", DOMAIN, "typo@company.com", None, id="5.1.1-domain-guard"),
    pytest.param("torecvm_alias", USER, "Tw.John@Company.com", "torecvm", id="5.1.1-user"),
    pytest.param("torecvm_alias", USER, "john.doe@company.com", None, id="5.1.1-user-guard"),
    pytest.param("torecvm_alias", USER, "TW.JOHN@COMPANY.COM", "torecvm", id="5.1.1-user-upper-case"),
    pytest.param("torecvm_alias", USER, "Tw.@company.com", None, id="5.1.1-user-guard-prefix-alone"),
    pytest.param("smtp_alias", DOMAIN, "john@Company.COM", None, id="5.2.2-domain-guard"),
    pytest.param("torecvm_virtualdomains", {"teamware_domains": ["tw.company.com"]}, "John.Woo@tw.company.com", "torecvm", id="5.1.2"),
    pytest.param("torecvm_users", USER, "tw.John@company.com", "torecvm", id="5.1.3"),
    pytest.param("smtp_alias", DOMAIN, "john@TW.company.com", "teamware-qmail-remote", id="5.2.2"),
    pytest.param("smtp_users", USER, "tw.john@company.com", "teamware-qmail-remote", id="5.2.3"),
    pytest.param("smtp_forward", dict(USER, teamware_rewrite_domain="tw.company.com"), "tw.john@company.com", "forward", id="5.2.4"),
]


def previous_version_lines(tree, table):
    """Rewrite the table's .qmail files as earlier versions of the collection wrote them: every check (guard,
    presence check) on a pipe line of its own, then the delivery without exec (a sh per line)."""
    for entry in table["dot_qmail"]:
        lines = []
        for line in entry["lines"]:
            if not line.startswith("|"):
                lines.append(line)
                continue
            checks, rest = pipe_lines.split_checks(pipe_lines.pipe_command(line))
            lines += ["| " + check["command"] for check in checks] + (["| " + rest] if rest else [])
        tree.write(entry["path"], lines, int(entry["mode"], 8))


@pytest.mark.parametrize("layout", ["one line", "previous version"])
@pytest.mark.parametrize("method, extra, address, program, ", REAL_RUN_CASES)
def test_core_files_run_by_real_qmail_local(tree, method, extra, address, program, layout):
    """The routing core's .qmail files, run by the real qmail-local and /bin/sh with stand-in programs.

    Our prediction (the guard lines' verdict, the program and its expanded arguments) must be what
    really happens, for the one pipe line the collection writes and for the separate lines of earlier versions.
    preline is qmail's own (linked from the installation, outside the repository).
    """
    qmail = require_qmail("qmail-local", "preline")
    os.unlink(os.path.join(tree.qmail, "bin", "preline"))
    os.symlink(os.path.join(qmail, "bin", "preline"), os.path.join(tree.qmail, "bin", "preline"))
    table = method_tree(tree, method, **extra)
    if layout == "previous version":
        previous_version_lines(tree, table)
    if tree.accounts["twu"].uid and os.geteuid() != 0:
        pytest.skip("qmail-local runs the programs as the current user; needs root for the tree's homes")
    route = tree.router().route(address)
    local = route["local"]
    sender = "sender@example.net"
    args = [local["user"], local["home"], local["local"], local["dash"], local["ext"], local["host"], sender, "./Maildir/"]
    message = tree.write(os.path.join(tree.base, "message"), ["From: a@b", "To: %s" % address, "", "body"])
    code, said, error = run_qmail_local(qmail, args, message)
    leaf = route["final"][0]
    if program is None:
        assert code == 100, (said, error)
        assert leaf["type"] == "bounce"
        assert leaf["reason"].startswith(said[0])
        return
    assert code == 0, (said, error)
    stand_in = {"torecvm": tree.torecvm, "teamware-qmail-remote": tree.wrapper,
                "forward": os.path.join(tree.qmail, "bin", "forward")}[program]
    with open(stand_in + ".args", "rb") as handle:
        real_argv = handle.read().decode().split("\0")[:-1]
    predicted = [entry["argv"] for entry in local["lines"] if entry.get("argv") and os.path.basename(entry["argv"][0]) == program]
    assert [argv[1:] for argv in predicted] == [real_argv]


@pytest.fixture(scope="module")
def real_users(tmp_path_factory):
    """Temporary passwd users for qmail-getpw, removed afterwards."""
    require_qmail("qmail-getpw")
    if os.geteuid() != 0 or not shutil.which("useradd"):
        pytest.skip("NEEDS REAL QMAIL: creating test users needs root and useradd")
    base = tmp_path_factory.mktemp("getpw")
    os.chmod(str(base), 0o755)
    tag = "rcq" + uuid.uuid4().hex[:5]
    created = []
    specs = [(tag, "own"), (tag + "-b", "own"), (tag + ".dot", "own"), (tag + "nohome", "missing"), (tag + "root", "root")]
    try:
        for name, kind in specs:
            home = os.path.join(str(base), name)
            subprocess.run(["useradd", "-M", "-N", "-s", "/usr/sbin/nologin", "-d", home, name], check=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            created.append(name)
            if kind != "missing":
                os.mkdir(home)
                os.chmod(home, 0o755)
                if kind == "own":
                    entry = pwd.getpwnam(name)
                    os.chown(home, entry.pw_uid, entry.pw_gid)
        yield tag
    finally:
        for name in created:
            subprocess.run(["userdel", name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)


def test_user_lookup_matches_real_qmail_getpw(real_users, tmp_path):
    qmail = require_qmail("qmail-getpw")
    tag = real_users
    locals_ = [tag, tag.upper(), tag + "-x", tag + "-B-c.d", tag + "-b", tag + "-b-c", tag + ".dot", tag + ".dot-x", tag + ".Dot-Y",
               tag + "nohome", tag + "nohome-x", tag + "root", tag + "root-x", "root", "root-x", "alias-foo.Bar", "alias",
               "qmaild", "nobody-x", "Tw.John", "-" + tag, "x" * 40 + "-y", "a-b-c-d-e"]
    view = qmail_host.HostView(str(tmp_path), "/etc/passwd")
    router = Router(view)
    for local in locals_:
        proc = subprocess.run([os.path.join(qmail, "bin", "qmail-getpw"), local], stdout=subprocess.PIPE, check=True)
        fields = proc.stdout.split(b"\0")[:6]
        real = (fields[0].decode(), int(fields[1]), int(fields[2]), fields[3].decode(), fields[4].decode(), fields[5].decode())
        found = router.lookup_user(local)
        ours = (found["user"], found["uid"], found["gid"], found["home"], found["dash"], found["ext"])
        assert ours == real, local


def test_qmail_file_owner_check_uses_real_stat(tmp_path):
    """Without the fake owners: a home owned by root does not make its passwd user a mail user."""
    home = tmp_path / "home"
    home.mkdir()
    passwd = tmp_path / "passwd"
    passwd.write_text("alias:x:7790:7790::%s:/bin/sh\nbob:x:%d:100::%s:/bin/sh\n" % (tmp_path, os.getuid() + 1, home))
    (tmp_path / "control").mkdir()
    router = Router(qmail_host.HostView(str(tmp_path), str(passwd)))
    found = router.lookup_user("bob")
    assert found["source"] == "alias"
    assert "owned by uid %d" % os.stat(str(home)).st_uid in found["skipped"][0]["reason"]
    assert stat.S_ISDIR(os.stat(str(home)).st_mode)


@pytest.mark.parametrize("given, queued", [
    ('"tw.john"@company.com', "tw.john@company.com"),
    ('"tw.a;id"@company.com', "tw.a;id@company.com"),
    ('tw.\\"x@company.com', 'tw."x@company.com'),
    ("@relay.example,@other.example:tw.john@company.com", "tw.john@company.com"),
    ("tw.john@company.com", "tw.john@company.com"),
])
def test_smtpd_queued_address_as_qmail_smtpd_addrparse(given, queued):
    assert router_module.smtpd_queued_address(given) == queued


def test_a_quoted_local_part_is_routed_as_qmail_smtpd_queues_it(tree):
    """qmail-smtpd strips the quotes before it queues: users/assign and $DEFAULT see the plain name."""
    method_tree(tree, "smtp_users", teamware_domains=["company.com"], teamware_user_prefix="tw.")
    route = tree.router(teamware_domains=["company.com"], teamware_user_prefix="tw.").route('"tw.john"@company.com')
    assert route["queued_as"] == "tw.john@company.com"
    assert route["local"]["assign"] == "+tw." and route["final"][0]["teamware"] is True
    assert any("qmail-smtpd queues" in note for note in route["notes"])
