# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""discovery.py: hosts configured by hand from the document, and hosts written by the collection (round trip)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import discovery, discovery_parse, pipe_lines, routing
from ansible_collections.teamware.qmail.tests.method_examples import METHOD_SETTINGS

from .document_example import ALIAS, BASE, TWU

PASSWD = [{"name": "alias", "uid": 999, "gid": 995, "home": "/var/qmail/alias"},
          {"name": "twu", "uid": 503, "gid": 503, "home": "/home/twu"},
          {"name": "john", "uid": 1001, "gid": 1001, "home": "/home/john"}]
AH = "/var/qmail/alias"
TOMBSMTP_TW = "own_node = tw.company.com\n"
TO_INI_2025 = "[MIME]\nsmtp_port = 2025\n"


def host(control=None, assign=None, dot=None, **extra):
    files = {"control/me": "mail.company.com\n", "control/rcpthosts": "company.com\n", "control/locals": "company.com\n"}
    files.update(control or {})
    if assign is not None:
        files["users/assign"] = assign
    data = {"files": files, "passwd": PASSWD, "dot_qmail": dot or {},
            "tcp_rules": '127.:allow,RELAYCLIENT=""\n192.0.2.10:allow,RELAYCLIENT=""\n'}
    data.update(extra)
    return data


def undecided_items(found):
    return [u["item"] for u in found["undecided"]]


# ------------------------------------------------------------------ the document's own lines, method by method

def test_5_1_1_document_line_with_tombsmtp_is_domain_routing_and_unsafe_catch_all():
    found = discovery.discover(host(
        {"control/rcpthosts": "company.com\ntw.company.com\n", "control/locals": "company.com\ntw.company.com\n"},
        dot={AH: {".qmail-default": '| /usr/bin/torecvm -d/to/smtp -pA -f"$SENDER" -r"$RECIPIENT"\n'}},
        tombsmtp_ini=TOMBSMTP_TW))
    assert found["method"] == "torecvm_alias" and found["section"] == "5.1.1"
    var = found["variables"]
    assert (var["teamware_routing"], var["teamware_domains"], var["qmail_local_domains"]) == (
        "domain", ["tw.company.com"], ["company.com"])
    problems = " ".join(u["problem"] for u in found["unsafe"])
    assert "without preline" in problems and "every address" in problems
    assert var["qmail_take_over"] == ["/var/qmail/alias/.qmail-default"]
    assert found["undecided"] == []


def test_5_1_1_without_the_teamware_side_is_undecided():
    found = discovery.discover(host(
        {"control/rcpthosts": "company.com\ntw.company.com\n", "control/locals": "company.com\ntw.company.com\n"},
        dot={AH: {".qmail-default": '| /usr/bin/torecvm -d/to/smtp -pA -f"$SENDER" -r"$RECIPIENT"\n'}}))
    assert found["method"] == "torecvm_alias"
    assert "teamware_domains" in undecided_items(found)
    assert "teamware_domains" not in found["variables"]


def test_5_1_2_document_lines_and_the_sender_mistake():
    found = discovery.discover(host(
        {"control/rcpthosts": "company.com\ntw.company.com\n", "control/virtualdomains": "tw.company.com:twu\n"},
        dot={"/home/twu": {".qmail-default": '| /usr/bin/torecvm -d/to/smtp -pA -f"$SENDER" -r"$SENDER"@"$HOST"\n'}}))
    assert found["method"] == "torecvm_virtualdomains" and found["undecided"] == []
    var = found["variables"]
    assert (var["teamware_domains"], var["teamware_routing_user"], var["qmail_local_domains"]) == (
        ["tw.company.com"], "twu", ["company.com"])
    corrections = dict((u["correction"], u) for u in found["unsafe"])
    assert '-r"$DEFAULT"@"$HOST"' in corrections
    assert var["qmail_take_over"] == ["/home/twu/.qmail-default"]
    assert any('-r"$DEFAULT"@"$HOST"' in line for line in corrections['-r"$DEFAULT"@"$HOST"']["site_yml_writes"])
    assert found["foreign"] == []


def test_5_1_3_document_lines_with_the_rewrite():
    found = discovery.discover(host(
        assign="+tw.:twu:503:503:/home/twu:-::\n.\n",
        dot={"/home/twu": {".qmail-default": '| /usr/bin/torecvm -d/to/smtp -pA -f"$SENDER" -r"$DEFAULT"@tw.company.com\n'}}))
    assert found["method"] == "torecvm_users" and found["undecided"] == []
    var = found["variables"]
    assert (var["teamware_user_prefix"], var["teamware_routing_user"], var["teamware_domains"],
            var["teamware_rewrite_domain"]) == ("tw.", "twu", ["company.com"], "tw.company.com")


def test_5_2_1_document_line():
    found = discovery.discover(host({"control/rcpthosts": "company.com\ntw.company.com\n",
                                     "control/smtproutes": "tw.company.com:tw.server.company.com:2025\n"}))
    assert found["method"] == "smtp_smtproutes" and found["undecided"] == []
    var = found["variables"]
    assert (var["teamware_domains"], var["teamware_server"], var["teamware_smtp_port"]) == (
        ["tw.company.com"], "tw.server.company.com", 2025)
    assert "qmail_take_over" not in var and found["unsafe"] == []
    assert var["qmail_relay_clients"] == ["127.", "192.0.2.10"] and var["qmail_smtp_front_end"] == "tcpserver"


def test_5_2_1_same_host_with_wildcard_and_default_route():
    found = discovery.discover(host({"control/rcpthosts": "company.com\ntw.company.com\n",
                                     "control/smtproutes": "tw.company.com:[127.0.0.1]:2025\n.tw.company.com:\n:[127.0.0.1]:2025\n"}))
    var = found["variables"]
    assert (var["teamware_server_address"], var["teamware_default_route"]) == ("127.0.0.1", True)
    assert var["qmail_extra_smtproutes"] == [{"domain": ".tw.company.com", "relay": ""}]


def test_5_2_2_document_lines_user_routing_leaves_the_prefix_undecided():
    found = discovery.discover(host(
        {"control/smtproutes": "tw.server.company.com:[127.0.0.1]:2025\n"},
        dot={AH: {".qmail-default": '| qmail-remote tw.server.company.com "$SENDER" "$LOCAL"@tw.company.com\n',
                  ".qmail-root": '| qmail-remote tw.server.com "$SENDER" admin@"$HOST"\n'}}))
    assert found["method"] == "smtp_alias"
    var = found["variables"]
    assert (var["teamware_server"], var["teamware_server_address"], var["teamware_smtp_port"],
            var["teamware_rewrite_domain"], var["teamware_routing"]) == (
        "tw.server.company.com", "127.0.0.1", 2025, "tw.company.com", "user")
    assert set(undecided_items(found)) >= {"teamware_user_prefix", "qmail_aliases"}
    bare = [u for u in found["unsafe"] if "always exits 0" in u["problem"]]
    assert sorted(u["file"] for u in bare) == ["/var/qmail/alias/.qmail-default", "/var/qmail/alias/.qmail-root"]
    assert any(f["file"] == "/var/qmail/alias/.qmail-root" and f["variable"] is None for f in found["foreign"])


def test_5_2_2_domain_routing_with_tombsmtp():
    found = discovery.discover(host(
        {"control/rcpthosts": "company.com\ntw.company.com\n", "control/locals": "company.com\ntw.company.com\n",
         "control/smtproutes": "tw.server.company.com:[1.2.3.4]:2025\n"},
        dot={AH: {".qmail-default": '| qmail-remote tw.server.company.com "$SENDER" "$RECIPIENT"\n'}},
        tombsmtp_ini=TOMBSMTP_TW, to_ini=TO_INI_2025))
    assert found["method"] == "smtp_alias" and found["undecided"] == []
    var = found["variables"]
    assert (var["teamware_routing"], var["teamware_domains"], var["teamware_server_address"]) == (
        "domain", ["tw.company.com"], "1.2.3.4")


def test_5_2_3_document_lines():
    found = discovery.discover(host(
        assign="+tw.:twu:503:503:/home/twu:-::\n.\n",
        dot={"/home/twu": {".qmail-default": '| qmail-remote tw.server.com "$SENDER" "$RECIPIENT"\n'}}))
    assert found["method"] == "smtp_users" and found["undecided"] == []
    var = found["variables"]
    assert (var["teamware_server"], var["teamware_smtp_port"], var["teamware_user_prefix"]) == ("tw.server.com", 25, "tw.")
    assert [u["file"] for u in found["unsafe"]] == ["/home/twu/.qmail-default"]


def test_5_2_4_document_lines_leave_the_prefix_undecided():
    found = discovery.discover(host(
        {"control/smtproutes": "tw.company.com:[127.0.0.1]:2025\n"},
        dot={AH: {".qmail-default": '| forward "$LOCAL"@tw.company.com\n'}},
        tombsmtp_ini="own_node = company.com\nown_node = A:tw.company.com\n"))
    assert found["method"] == "smtp_forward"
    var = found["variables"]
    assert (var["teamware_rewrite_domain"], var["teamware_server_address"], var["teamware_smtp_port"],
            var["teamware_domains"]) == ("tw.company.com", "127.0.0.1", 2025, ["company.com"])
    assert "teamware_user_prefix" in undecided_items(found)
    assert "qmail_extra_smtproutes" not in var


def test_no_integration_is_none():
    found = discovery.discover(host())
    assert found["method"] == "none" and found["section"] == "2"


# ------------------------------------------------------------------ what the collection writes: the round trip

def written_host(method, **extra):
    variables = dict(BASE, teamware_integration_method=method, qmail_aliases={"root": ["admin@company.com"]})
    variables.update(METHOD_SETTINGS[method])
    variables.update(extra)
    table = routing.compute(variables, TWU, ALIAS, ["alias", "twu", "john"])
    files = {"control/me": "mail.company.com\n"}
    header = routing.MANAGED_MARKER + "\n# Method: %s\n" % method
    for name, lines in table["control"].items():
        files["control/" + name] = header + "".join(x + "\n" for x in lines)
    files["users/assign"] = "".join(x + "\n" for x in table["users_assign"])
    dot = {}
    for entry in table["dot_qmail"]:
        dot.setdefault(os.path.dirname(entry["path"]), {})[os.path.basename(entry["path"])] = \
            "".join(x + "\n" for x in entry["lines"])
    return variables, table, host(files, dot=dot)


@pytest.mark.parametrize("method", sorted(METHOD_SETTINGS))
def test_round_trip_of_what_the_collection_writes(method):
    variables, table, data = written_host(method)
    found = discovery.discover(data)
    assert found["method"] == method
    assert found["undecided"] == [] and found["unsafe"] == []
    var = found["variables"]
    assert "qmail_take_over" not in var
    settings = dict((k, val) for k, val in var.items() if k in routing.DEFAULTS)
    again = routing.compute(settings, TWU, ALIAS, ["alias", "twu", "john"])
    for key in ("control", "users_assign", "dot_qmail"):
        assert again[key] == table[key], key
    assert var["qmail_aliases"] == {"root": ["admin@company.com"]}


def previous_version(text):
    """A .qmail file as earlier versions wrote it: each check on a pipe line of its own, the delivery without exec."""
    lines = []
    for line in text.rstrip("\n").split("\n"):
        if line.startswith("|"):
            checks, rest = pipe_lines.split_checks(pipe_lines.pipe_command(line))
            lines += ["| " + check["command"] for check in checks] + (["| " + rest] if rest else [])
        else:
            lines.append(line)
    return "".join(line + "\n" for line in lines)


@pytest.mark.parametrize("method", sorted(METHOD_SETTINGS))
def test_hosts_of_the_previous_version_are_read_as_the_collections(method):
    """A host set up by an earlier version (a sh per line) is discovered as the same method and variables; its
    files carry the marker, so they are the collection's to rewrite (no qmail_take_over)."""
    variables, table, data = written_host(method)
    old = dict((home, dict((name, previous_version(text)) for name, text in files.items()))
               for home, files in data["dot_qmail"].items())
    if any(text.count("\n|") > 1 for files in old.values() for text in files.values()):
        assert old != data["dot_qmail"]
    found = discovery.discover(dict(data, dot_qmail=old))
    assert found == discovery.discover(data)
    assert "qmail_take_over" not in found["variables"]


def test_a_hand_made_copy_of_the_previous_versions_lines_is_taken_over():
    """Without the marker the file is the host's own: read the same, and listed in qmail_take_over, since site.yml
    would write the one line in its place."""
    variables, table, data = written_host("smtp_users")
    home = "/home/twu"
    marked = data["dot_qmail"][home][".qmail-default"]
    hand_made = previous_version(marked).split("\n", 1)[1]
    assert hand_made.count("\n") == 2
    found = discovery.discover(dict(data, dot_qmail=dict(data["dot_qmail"], **{home: {".qmail-default": hand_made}})))
    assert found["method"] == "smtp_users" and found["undecided"] == [] and found["unsafe"] == []
    assert found["variables"]["qmail_take_over"] == [home + "/.qmail-default"]


@pytest.mark.parametrize("method, extra", [
    ("smtp_alias", dict(teamware_routing="domain", teamware_domains=["tw.company.com"], teamware_server_address="127.0.0.1",
                        teamware_user_prefix=None)),
    ("torecvm_users", dict(teamware_rewrite_domain="tw.company.com", teamware_torecvm_reports="F", teamware_root="/opt/to")),
    ("smtp_users", dict(teamware_server_address="1.2.3.4")),
])
def test_round_trip_variants(method, extra):
    variables, table, data = written_host(method, **extra)
    found = discovery.discover(data)
    settings = dict((k, val) for k, val in found["variables"].items() if k in routing.DEFAULTS)
    assert found["undecided"] == []
    again = routing.compute(settings, TWU, ALIAS, ["alias", "twu", "john"])
    assert [again[k] for k in ("control", "users_assign", "dot_qmail")] == [table[k] for k in ("control", "users_assign", "dot_qmail")]


# ------------------------------------------------------------------ the host's own entries

FOREIGN = {
    "control/rcpthosts": "company.com\ntw.company.com\nbackup.example.org\nother.example\n",
    "control/virtualdomains": "other.example:other.example\n",
    "control/smtproutes": "tw.company.com:[127.0.0.1]:2025\npartner.example:[192.0.2.7]\n",
}
FOREIGN_ASSIGN = "+other.example-:vpopmail:89:89:/home/vpopmail/domains/other.example:-::\n.\n"


def test_foreign_entries_are_listed_and_mapped_to_the_extra_variables():
    found = discovery.discover(host(FOREIGN, assign=FOREIGN_ASSIGN,
                                    dot={AH: {".qmail-root": "admin@company.com\n", ".qmail-postmaster": "",
                                              ".qmail-webmaster": "&john\n"}}))
    assert found["method"] == "smtp_smtproutes" and found["undecided"] == []
    var = found["variables"]
    assert var["qmail_extra_rcpthosts"] == ["backup.example.org", "other.example"]
    assert var["qmail_extra_virtualdomains"] == [{"domain": "other.example", "prepend": "other.example"}]
    assert var["qmail_extra_smtproutes"] == [{"domain": "partner.example", "relay": "[192.0.2.7]"}]
    assert var["qmail_extra_users"] == [{"prefix": "other.example-", "user": "vpopmail", "uid": 89, "gid": 89,
                                         "home": "/home/vpopmail/domains/other.example"}]
    assert var["qmail_aliases"] == {"root": ["admin@company.com"], "webmaster": ["john"]}
    assert var["qmail_take_over"] == ["/var/qmail/alias/.qmail-root"]
    files = sorted((f["file"], f["variable"]) for f in found["foreign"])
    assert ("/var/qmail/alias/.qmail-postmaster", None) in files
    assert ("control/smtproutes", "qmail_extra_smtproutes") in files
    assert ("users/assign", "qmail_extra_users") in files
    assert ("control/smtproutes", None) not in files


def test_a_backup_mx_route_beside_another_method_is_foreign():
    found = discovery.discover(host(
        {"control/rcpthosts": "company.com\nbackup.example.org\n", "control/smtproutes": "backup.example.org:[192.0.2.9]\n"},
        assign="+tw.:twu:503:503:/home/twu:-::\n.\n",
        dot={"/home/twu": {".qmail-default": '| /var/qmail/bin/preline -f /usr/bin/torecvm -d/to/smtp -pA -f"$SENDER" -r"$RECIPIENT"\n'}}))
    assert found["method"] == "torecvm_users"
    assert found["variables"]["qmail_extra_smtproutes"] == [{"domain": "backup.example.org", "relay": "[192.0.2.9]"}]


# ------------------------------------------------------------------ undecided

def test_two_methods_are_undecided():
    found = discovery.discover(host(
        {"control/rcpthosts": "company.com\ntw.company.com\n", "control/virtualdomains": "tw.company.com:twu\n"},
        dot={"/home/twu": {".qmail-default": '| /usr/bin/torecvm -d/to/smtp -pA -f"$SENDER" -r"$DEFAULT"@"$HOST"\n'},
             AH: {".qmail-default": '| /usr/bin/torecvm -d/to/smtp -pA -f"$SENDER" -r"$RECIPIENT"\n'}}))
    assert found["method"] == "undecided" and found["section"] is None
    assert "more than one place" in found["undecided"][0]["reason"]
    assert sorted(c["method"] for c in found["candidates"]) == ["torecvm_alias", "torecvm_virtualdomains"]


def test_routes_to_two_relays_are_undecided_unless_tombsmtp_says():
    control = {"control/rcpthosts": "company.com\ntw.company.com\nbackup.example.org\n",
               "control/smtproutes": "tw.company.com:[127.0.0.1]:2025\nbackup.example.org:[192.0.2.9]\n"}
    assert discovery.discover(host(control))["method"] == "undecided"
    found = discovery.discover(host(control, tombsmtp_ini=TOMBSMTP_TW))
    assert found["method"] == "smtp_smtproutes"
    assert found["variables"]["qmail_extra_rcpthosts"] == ["backup.example.org"]


def test_multiple_local_domains_with_user_routing_are_undecided():
    found = discovery.discover(host(
        {"control/locals": "company.com\nmail.company.com\n"}, assign="+tw.:twu:503:503:/home/twu:-::\n.\n",
        dot={"/home/twu": {".qmail-default": '| qmail-remote tw.server.com "$SENDER" "$RECIPIENT"\n'}}))
    assert "teamware_domains" in undecided_items(found)


def test_a_port_that_contradicts_to_ini_is_undecided():
    found = discovery.discover(host({"control/rcpthosts": "company.com\ntw.company.com\n",
                                     "control/smtproutes": "tw.company.com:[127.0.0.1]:2026\n"},
                                    to_ini=TO_INI_2025))
    assert "teamware_smtp_port" in undecided_items(found)


# ------------------------------------------------------------------ the front ends

def test_destroyed_tcprules_file_is_recovered_from_the_cdb():
    cdblib = pytest.importorskip("cdblib")
    import io
    out = io.BytesIO()
    with cdblib.Writer(out) as writer:
        writer.put(b"127.", b"A+RELAYCLIENT=\0")
        writer.put(b"10.0.0.5", b"D")
        writer.put(b"", b"A")
    found = discovery.discover(host(tcp_rules=None, tcp_rules_cdb=out.getvalue()))
    assert found["variables"]["qmail_relay_clients"] == ["127."]
    assert any("destroyed" in u["problem"] for u in found["unsafe"])
    assert any(f["note"].startswith("LOST") for f in found["foreign"] if f["variable"] is None)


def test_an_empty_cdb_from_the_documents_tcprules_line_leaves_the_relay_clients_undecided():
    """Real tcprules truncates its temporary file (the document names the rules file itself) before it reads its
    input: 'tcprules /etc/tcp.smtp.cdb /etc/tcp.smtp < /etc/tcp.smtp' leaves an empty cdb and no rules file."""
    cdblib = pytest.importorskip("cdblib")
    import io
    out = io.BytesIO()
    with cdblib.Writer(out):
        pass
    found = discovery.discover(host(tcp_rules=None, tcp_rules_cdb=out.getvalue()))
    assert "qmail_relay_clients" in undecided_items(found)
    reason = [u["reason"] for u in found["undecided"] if u["item"] == "qmail_relay_clients"][0]
    assert "holds no rule" in reason and "127." in reason
    problem = [u["problem"] for u in found["unsafe"] if "destroyed" in u["problem"]][0]
    assert "no client may relay" in problem and "read back" not in problem
    assert found["variables"]["qmail_smtp_front_end"] == "tcpserver"


def test_inetd_and_hosts_allow_with_the_documents_dotless_prefix():
    found = discovery.discover(host(
        tcp_rules=None, inetd_conf="smtp stream tcp nowait qmaild /usr/sbin/tcpd /var/qmail/bin/tcp-env /var/qmail/bin/qmail-smtpd\n",
        hosts_allow="tcp-env:1.2.3.4: setenv = RELAYCLIENT\ntcp-env:1.2.3: setenv = RELAYCLIENT\n"))
    var = found["variables"]
    assert (var["qmail_smtp_front_end"], var["qmail_relay_clients"]) == ("inetd", ["1.2.3.4", "1.2.3."])
    assert [u["correction"] for u in found["unsafe"]] == ["written as '1.2.3.'"]


def test_both_front_ends_are_undecided():
    found = discovery.discover(host(inetd_conf="smtp stream tcp nowait qmaild /usr/sbin/tcpd /var/qmail/bin/tcp-env "
                                               "/var/qmail/bin/qmail-smtpd\n"))
    assert "qmail_smtp_front_end" in undecided_items(found)


# ------------------------------------------------------------------ parsing details

def test_users_cdb_is_read_back_as_assign_lines():
    cdblib = pytest.importorskip("cdblib")
    import io
    out = io.BytesIO()
    with cdblib.Writer(out) as writer:
        writer.put(b"!tw.", b"twu\x00503\x00503\x00/home/twu\x00-\x00")
        writer.put(b"!bob\x00", b"bob\x001005\x001005\x00/home/bob\x00\x00")
        writer.put(b"", b".")
    assert discovery_parse.assign_from_users_cdb(out.getvalue()) == (
        "+tw.:twu:503:503:/home/twu:-::\n=bob:bob:1005:1005:/home/bob:::\n.\n")


def test_homes_to_read():
    data = host({"control/virtualdomains": "tw.company.com:twu\nother.example:other.example\n"}, assign=FOREIGN_ASSIGN)
    assert discovery.homes_to_read(data) == ["/var/qmail/alias", "/home/twu", "/home/vpopmail/domains/other.example"]


def test_the_hosts_own_tcpserver_rules_are_reported_as_kept():
    found = discovery.discover(host(tcp_rules='127.:allow,RELAYCLIENT=""\n198.51.100.7:deny\n'))
    assert found["variables"]["qmail_relay_clients"] == ["127."]
    notes = [f["note"] for f in found["foreign"] if f["line"] == "198.51.100.7:deny"]
    assert len(notes) == 1 and notes[0].startswith("kept")


def test_the_marker_is_routing_tables_own_line_and_nothing_like_it():
    # One source: discovery reads the line routing_table writes (routing.MANAGED_MARKER), and a .qmail file is the
    # collection's only when routing_table would say so too (routing_files.is_marked).
    assert discovery_parse.dot_qmail_line(routing.MANAGED_MARKER) == [{"type": "marker", "line": routing.MANAGED_MARKER}]
    look_alike = "# Managed by Ansible (teamware.qmail) by hand, once"
    assert [info["type"] for info in discovery_parse.dot_qmail_line(look_alike)] == ["comment"]
