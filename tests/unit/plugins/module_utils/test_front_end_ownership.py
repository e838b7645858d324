# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host's own lines of the front ends' files: what is kept, what contradicts the inventory (issue 13)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import front_end_files
from ansible_collections.teamware.qmail.plugins.module_utils import front_end_ownership as feo
from ansible_collections.teamware.qmail.plugins.module_utils import relay

RULES = "/etc/tcp.smtp"
MARKER = front_end_files.HOSTS_ALLOW_MARKER
BEGIN, END = MARKER.replace("{mark}", "BEGIN"), MARKER.replace("{mark}", "END")


def clients(*values):
    return relay.relay_clients(list(values), "qmail_relay_clients")


def merged(text, *values, **kwargs):
    return feo.merge_rules(RULES, text, clients(*values), kwargs.get("take_over", ()))


# ---------------------------------------------------------------- tcpserver rules: kept


def test_no_file_and_a_file_of_the_collection_are_wholly_the_collections():
    ours = feo.files_text(relay.tcprules_lines(clients("127.", "192.0.2.10")))
    for text in (None, ours, relay.MARKER + "\n10.9.9.9:deny\n"):
        result = merged(text, "127.", "192.0.2.10")
        assert result.foreign == [] and result.conflicts == []
        assert feo.render_rules(result, clients("127.", "192.0.2.10")) == ours


def test_the_hosts_own_rules_are_kept_in_order_before_the_collections_block():
    text = "# admin's rules\n=mx.partner.example:allow,RELAYCLIENT=\"\"\n10.9.9.9:deny\n"
    result = merged(text, "127.")
    assert result.conflicts == [] and result.kept == ["=mx.partner.example:allow,RELAYCLIENT=\"\"", "10.9.9.9:deny"]
    rendered = feo.render_rules(result, clients("127."))
    assert rendered.startswith(text)
    lines = rendered.splitlines()
    assert lines[3] == feo.RULES_BEGIN and lines[-1] == feo.RULES_END
    assert '127.:allow,RELAYCLIENT=""' in lines and ":allow" in lines
    # The next run reads the same file back: the host's lines, then the same block.
    again = merged(rendered, "127.")
    assert again.foreign == result.foreign and feo.render_rules(again, clients("127.")) == rendered


def test_the_documents_rule_is_adopted_and_a_dropped_client_leaves_the_block():
    result = merged('192.0.2.10:allow,RELAYCLIENT=""\n', "192.0.2.10")
    assert result.foreign == [] and result.conflicts == []
    text = '# mine\n' + feo.RULES_BEGIN + '\n127.:allow,RELAYCLIENT=""\n:allow\n' + feo.RULES_END + '\n'
    result = merged(text, "192.0.2.10")
    rendered = feo.render_rules(result, clients("192.0.2.10"))
    assert "127." not in rendered and '192.0.2.10:allow,RELAYCLIENT=""' in rendered and rendered.startswith("# mine\n")


def test_host_rules_that_agree_are_kept_and_the_collection_writes_no_second_rule_for_them():
    text = ':allow,QMAILQUEUE="/var/qmail/bin/qmail-scanner-queue"\n127.:allow,RELAYCLIENT="",RBLSMTPD=""\n'
    result = merged(text, "127.", "192.0.2.10")
    assert result.conflicts == [] and result.served == {"", "127."}
    rendered = feo.render_rules(result, clients("127.", "192.0.2.10"))
    rules = [line for line in rendered.splitlines() if not line.startswith("#")]
    assert rules == text.splitlines() + ['192.0.2.10:allow,RELAYCLIENT=""']


# ---------------------------------------------------------------- tcpserver rules: conflicts


@pytest.mark.parametrize("line, entry, reason", [
    ("192.0.2.10:deny", "tcprules:192.0.2.10", "refuses 192.0.2.10, which qmail_relay_clients lets relay"),
    ("192.0.2.10:allow", "tcprules:192.0.2.10", "does not set RELAYCLIENT for 192.0.2.10"),
    ("10.1.2.3:deny", "tcprules:10.1.2.3", "refuses 10.1.2.3, which qmail_relay_clients lets relay (10.1.)"),
    (':allow,RELAYCLIENT=""', "tcprules:default", "an open relay"),
    (":deny", "tcprules:default", "refuses every client that qmail_relay_clients does not list"),
])
def test_rules_that_contradict_the_relay_clients(line, entry, reason):
    result = merged("# hand-made\n" + line + "\n", "192.0.2.10", "10.1.")
    assert [(c["file"], c["line"], c["entry"]) for c in result.conflicts] == [(RULES, line, entry)]
    assert reason in result.conflicts[0]["reason"]
    message = feo.render_conflicts(result.conflicts)
    assert "nothing changed" in message and RULES in message and line in message
    assert "add %r to qmail_take_over" % entry in message and "change the inventory" in message


def test_rules_that_coexist_with_the_relay_clients():
    # Less specific than a client (tcpserver takes the client's own rule first), other addresses, host names.
    text = "10.:deny\n198.51.100.7:deny\n=spam.example:deny\n192.0.2.:allow,RELAYCLIENT=\"\"\n"
    assert merged(text, "10.1.2.3").conflicts == []


def test_taking_a_rule_over_replaces_it():
    result = merged(":deny\n192.0.2.10:deny\n# kept\n", "192.0.2.10", take_over=["tcprules:default", "tcprules:192.0.2.10"])
    assert result.conflicts == [] and result.taken_over == [":deny", "192.0.2.10:deny"]
    rendered = feo.render_rules(result, clients("192.0.2.10"))
    assert rendered.startswith("# kept\n" + feo.RULES_BEGIN) and ":deny" not in rendered


# ---------------------------------------------------------------- inetd.conf


def inetd(**kwargs):
    return relay.InetdSettings.from_vars(prefix="inetd_", **kwargs)


DOCUMENT_LINE = "smtp stream tcp nowait qmaild /usr/sbin/tcpd /var/qmail/bin/tcp-env /var/qmail/bin/qmail-smtpd"


@pytest.mark.parametrize("line", [
    DOCUMENT_LINE,
    "smtp stream tcp nowait qmaild /var/qmail/bin/tcp-env tcp-env /var/qmail/bin/qmail-smtpd",
    "587 stream tcp nowait qmaild /usr/sbin/tcpd /var/qmail/bin/tcp-env -R /var/qmail/bin/qmail-smtpd",
    "pop3 stream tcp nowait root /var/qmail/bin/qmail-popup qmail-popup mail /bin/checkpassword",
    "#smtp stream tcp nowait root /usr/sbin/exim4 exim4 -bs",
    "10.0.0.1:smtp stream tcp nowait root /usr/sbin/exim4 exim4 -bs",
])
def test_inetd_lines_that_coexist_or_are_replaced_by_the_collections_line(line):
    assert feo.inetd_conflicts("/etc/inetd.conf", line + "\n", inetd(bind_address="127.0.0.1")) == []


@pytest.mark.parametrize("line, entry", [
    ("smtp stream tcp nowait root /usr/sbin/exim4 exim4 -bs", "inetd.conf:smtp"),
    ("25 stream tcp nowait mail /usr/sbin/tcpd /usr/sbin/sendmail -bs", "inetd.conf:25"),
    ("127.0.0.1:smtp stream tcp nowait root /usr/sbin/exim4 exim4 -bs", "inetd.conf:127.0.0.1:smtp"),
])
def test_an_inetd_line_running_another_program_on_the_port_is_a_conflict(line, entry):
    found = feo.inetd_conflicts("/etc/inetd.conf", "# comment\n" + line + "\n", inetd())
    assert [(c["line"], c["entry"]) for c in found] == [(line, entry)]
    assert "serves port" in found[0]["reason"] and "qmail-smtpd there" in found[0]["reason"]
    assert feo.inetd_conflicts("/etc/inetd.conf", line + "\n", inetd(), take_over=[entry]) == []


def test_the_shape_regexp_keeps_other_ports_unless_they_are_the_collections_old_line():
    import re
    settings = inetd()
    regexp = re.compile(settings.service_regexp())
    assert regexp.search(DOCUMENT_LINE)
    assert regexp.search(DOCUMENT_LINE.replace("smtp", "2525", 1))
    assert not regexp.search("587 stream tcp nowait qmaild /usr/sbin/tcpd /var/qmail/bin/tcp-env -R /var/qmail/bin/qmail-smtpd")
    assert not regexp.search("587 stream tcp nowait qmaild /var/qmail/bin/tcp-env tcp-env /var/qmail/bin/qmail-smtpd")


# ---------------------------------------------------------------- hosts.allow


def allow(text, *values, **kwargs):
    return feo.hosts_allow_conflicts("/etc/hosts.allow", text, MARKER, clients(*values), take_over=kwargs.get("take_over", ()))


@pytest.mark.parametrize("line, entry", [
    ("tcp-env: ALL: setenv = RELAYCLIENT", "hosts.allow:tcp-env:ALL"),
    ("ALL: ALL: setenv RELAYCLIENT", "hosts.allow:ALL:ALL"),
])
def test_hosts_allow_granting_relayclient_to_all_is_an_open_relay(line, entry):
    for text in (line + "\n", BEGIN + "\ntcp-env: 127.: setenv = RELAYCLIENT\n" + END + "\n" + line + "\n"):
        found = allow(text, "127.")
        assert [(c["line"], c["entry"]) for c in found] == [(line, entry)] and "open relay" in found[0]["reason"]
        assert allow(text, "127.", take_over=[entry]) == []


def test_hosts_allow_line_above_the_block_that_answers_a_relay_client_without_relayclient():
    text = "tcp-env: 192.0.2.: DENY\n" + BEGIN + "\ntcp-env: 192.0.2.10: setenv = RELAYCLIENT\n" + END + "\n"
    found = allow(text, "192.0.2.10")
    assert [c["entry"] for c in found] == ["hosts.allow:tcp-env:192.0.2."] and "192.0.2.10" in found[0]["reason"]
    # Below the block, or without a block (the role puts a new one at the top), tcpd never reaches it for the client.
    assert allow(BEGIN + "\n" + END + "\ntcp-env: 192.0.2.: DENY\n", "192.0.2.10") == []
    assert allow("tcp-env: 192.0.2.: DENY\n", "192.0.2.10") == []


def test_hosts_allow_lines_that_coexist():
    text = ("sshd: 192.0.2.1\nqmail-smtpd: ALL: setenv = RELAYCLIENT\ntcp-env: 198.51.100.: setenv = RELAYCLIENT\n"
            "tcp-env: ALL EXCEPT 10.: setenv = RELAYCLIENT\n" + BEGIN + "\n" + END + "\n")
    assert [c["entry"] for c in allow(text, "127.")] == []
    taken = feo.hosts_allow_taken_over("  tcp-env: ALL: setenv = RELAYCLIENT\nsshd: ALL\n", MARKER,
                                       take_over=["hosts.allow:tcp-env:ALL"])
    assert taken == ["  tcp-env: ALL: setenv = RELAYCLIENT"]


# ---------------------------------------------------------------- the whole front end


def test_host_conflicts_look_at_the_chosen_front_end_and_at_inetd_conf():
    texts = {"/etc/tcp.smtp": ":deny\n", "/etc/inetd.conf": "smtp stream tcp nowait root /usr/sbin/exim4 exim4 -bs\n",
             "/etc/hosts.allow": "tcp-env: ALL: setenv = RELAYCLIENT\n"}
    tcpserver = feo.host_conflicts({"kind": "tcpserver"}, clients("127."), texts.get)
    assert [c["entry"] for c in tcpserver] == ["inetd.conf:smtp", "tcprules:default"]
    assert "puts tcpserver there" in tcpserver[0]["reason"]
    inetd_found = feo.host_conflicts({"kind": "inetd", "port": "25"}, clients("127."), texts.get)
    assert [c["entry"] for c in inetd_found] == ["inetd.conf:smtp", "hosts.allow:tcp-env:ALL"]
    assert feo.host_conflicts({"kind": "inetd"}, clients("127."), {}.get) == []
