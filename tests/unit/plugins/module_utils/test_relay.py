# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""relay.py: relay clients, tcprules lines, hosts.allow lines, the inetd.conf line, tcpserver's run scripts.

The rendered rules are also fed to the real tcprules/tcprulescheck (ucspi-tcp) and to the
real tcpdmatch (tcpd) to confirm which client addresses get RELAYCLIENT; those tests are
skipped, loudly, when the programs are missing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shutil
import subprocess

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import front_end_files
from ansible_collections.teamware.qmail.plugins.module_utils import relay
from ansible_collections.teamware.qmail.plugins.module_utils.validators import InvalidValue, ValidationError

DOCUMENT_INETD_LINE = "smtp stream tcp nowait qmaild /usr/sbin/tcpd /var/qmail/bin/tcp-env /var/qmail/bin/qmail-smtpd"

VALID = [
    # value, pattern written to the rules, partial
    ("1.2.3.4", "1.2.3.4", False),
    ("192.0.2.10", "192.0.2.10", False),
    ("255.255.255.255", "255.255.255.255", False),
    ("0.0.0.0", "0.0.0.0", False),
    ("1.2.3", "1.2.3.", True),
    ("1.2.3.", "1.2.3.", True),
    ("10.1", "10.1.", True),
    ("10.1.", "10.1.", True),
    ("127.", "127.", True),
    ("127", "127.", True),
    ("1.2.3.4.", "1.2.3.4", False),
]

INVALID = [
    # value, a piece of the reason
    (127.0, "is a number, not a string"),
    (127, "is a number, not a string"),
    (True, "not a string"),
    (None, "not a string"),
    (["1.2.3.4"], "not a string"),
    ("", "is empty"),
    (" 1.2.3.4", "white space"),
    ("1.2.3.4 ", "white space"),
    ("1.2.3.4\t", "white space"),
    ("1.2. 3", "contains white space"),
    ("1.2.3.4 5.6.7.8", "contains white space"),
    ("1.2.3.4\n", "CR, LF or NUL"),
    ("1.2.3.4\r", "CR, LF or NUL"),
    ("1.2.3.4\n:allow", "CR, LF or NUL"),
    ("1.2.3.4\0", "CR, LF or NUL"),
    ("1.2.3.0/24", "write '1.2.3.'"),
    ("10.0.0.0/8", "write '10.'"),
    ("192.0.2.1/32", "write '192.0.2.1'"),
    ("1.2.3.0/25", "only whole octets"),
    ("0.0.0.0/0", "open relay"),
    ("1.2.3.37-53", "address range"),
    ("10.2-3.", "address range"),
    ("1.2.3.256", "octet '256'"),
    ("01.2.3.4", "octet '01'"),
    ("1.2.3.4.5", "1 to 4 octets"),
    ("1..2", "octet ''"),
    (".", "octet ''"),
    ("..", "octet ''"),
    (".1.2", "octet ''"),
    ("a.b.c.d", "host names"),
    ("mail.example.com", "host names"),
    ("=mail.example.com", "host names"),
    ("joe@1.2.3.4", "host names"),
    ("1.2.3.4:allow", "give only the address"),
    ('1.2.3.4:allow,RELAYCLIENT=""', "give only the address"),
    (":allow", "give only the address"),
    ("*", "octet"),
    ("ALL", "host names"),
    ("::1", "give only the address"),
]


@pytest.mark.parametrize("value,pattern,partial", VALID)
def test_valid_clients(value, pattern, partial):
    client = relay.relay_client(value)
    assert client.pattern == pattern
    assert client.partial is partial


@pytest.mark.parametrize("value,reason", INVALID)
def test_invalid_clients(value, reason):
    with pytest.raises(InvalidValue) as info:
        relay.relay_client(value)
    assert reason in str(info.value)


@pytest.mark.parametrize("value,reason", INVALID)
def test_invalid_clients_are_named_by_variable_and_index(value, reason):
    with pytest.raises(ValidationError) as info:
        relay.relay_clients(["127.", value], "ucspi_tcp_relay_clients")
    assert info.value.problems[0][0] == "ucspi_tcp_relay_clients[1]"
    assert reason in info.value.problems[0][1]


@pytest.mark.parametrize("values,first,second", [
    (["1.2.3.4", "1.2.3.4"], 0, 1),
    (["1.2.3", "1.2.3."], 0, 1),
    (["127.", "10.", "127"], 0, 2),
    (["1.2.3.4", "1.2.3.4."], 0, 1),
])
def test_duplicates_are_refused(values, first, second):
    with pytest.raises(ValidationError) as info:
        relay.relay_clients(values, "inetd_relay_clients")
    assert info.value.problems == [
        ("inetd_relay_clients[%d]" % second,
         "%r repeats inetd_relay_clients[%d] (%r); list each client once" % (values[second], first, values[first]))]


def test_every_problem_is_reported_at_once():
    with pytest.raises(ValidationError) as info:
        relay.relay_clients(["1.2.3.4", 127.0, "x y", "1.2.3.4", "1.2.3.0/24"], "v")
    assert [problem[0] for problem in info.value.problems] == ["v[1]", "v[2]", "v[3]", "v[4]"]
    assert str(info.value).startswith("v[1]: 127.0 is a number")


@pytest.mark.parametrize("values", ["127.", {"127.": 1}, 127, b"127."])
def test_the_list_itself_must_be_a_list(values):
    with pytest.raises(ValidationError) as info:
        relay.relay_clients(values, "ucspi_tcp_relay_clients")
    assert info.value.problems[0][0] == "ucspi_tcp_relay_clients"
    assert "must be a list" in info.value.problems[0][1]


def test_none_and_empty_mean_nobody_relays():
    assert relay.relay_clients(None, "v") == []
    assert relay.relay_clients([], "v") == []


def test_order_is_kept():
    clients = relay.relay_clients(["192.0.2.10", "127.", "10.1"], "v")
    assert [c.pattern for c in clients] == ["192.0.2.10", "127.", "10.1."]


# ------------------------------------------------------------------ rendering


def test_tcprules_lines():
    clients = relay.relay_clients(["127.", "192.0.2.10", "10.1"], "v")
    assert relay.tcprules_lines(clients) == [
        relay.MARKER,
        "# Clients that may relay (qmail-smtpd skips rcpthosts when RELAYCLIENT is set):",
        '127.:allow,RELAYCLIENT=""',
        '192.0.2.10:allow,RELAYCLIENT=""',
        '10.1.:allow,RELAYCLIENT=""',
        "# Everybody else may connect, but only mail for control/rcpthosts is accepted:",
        ":allow",
    ]


def test_tcprules_lines_without_clients_end_with_the_default_rule():
    lines = relay.tcprules_lines([])
    assert [line for line in lines if not line.startswith("#")] == [":allow"]


def test_hosts_allow_lines():
    clients = relay.relay_clients(["1.2.3.4", "1.2.3", "127."], "v")
    assert relay.hosts_allow_lines(clients) == [
        "tcp-env: 1.2.3.4: setenv = RELAYCLIENT",
        "tcp-env: 1.2.3.: setenv = RELAYCLIENT",
        "tcp-env: 127.: setenv = RELAYCLIENT",
    ]


def test_hosts_allow_lines_without_clients_are_a_comment():
    assert [line[0] for line in relay.hosts_allow_lines([])] == ["#"]


@pytest.mark.parametrize("daemon", ["", "tcp env", "a:b", "/var/qmail/bin/tcp-env", "x\n"])
def test_hosts_allow_daemon_name_is_checked(daemon):
    with pytest.raises(InvalidValue):
        relay.hosts_allow_lines([], daemon)


def test_inetd_line_is_the_documents_by_default():
    assert relay.InetdSettings.from_vars().line() == DOCUMENT_INETD_LINE


@pytest.mark.parametrize("settings,line", [
    (dict(bind_address="127.0.0.1"),
     "127.0.0.1:smtp stream tcp nowait qmaild /usr/sbin/tcpd /var/qmail/bin/tcp-env /var/qmail/bin/qmail-smtpd"),
    (dict(bind_address="*"), "*:smtp stream tcp nowait qmaild /usr/sbin/tcpd /var/qmail/bin/tcp-env /var/qmail/bin/qmail-smtpd"),
    (dict(bind_address=None), DOCUMENT_INETD_LINE),
    (dict(port="2525", qmail_dir="/opt/qmail", tcpd="/usr/local/sbin/tcpd", user="smtpd"),
     "2525 stream tcp nowait smtpd /usr/local/sbin/tcpd /opt/qmail/bin/tcp-env /opt/qmail/bin/qmail-smtpd"),
    (dict(port=25), "25 stream tcp nowait qmaild /usr/sbin/tcpd /var/qmail/bin/tcp-env /var/qmail/bin/qmail-smtpd"),
])
def test_inetd_line_variants(settings, line):
    assert relay.InetdSettings.from_vars(**settings).line() == line


@pytest.mark.parametrize("settings,variable", [
    (dict(bind_address="0"), "inetd_bind_address"),
    (dict(bind_address="localhost"), "inetd_bind_address"),
    (dict(bind_address="127.0.0.1 "), "inetd_bind_address"),
    (dict(port="smtp\n"), "inetd_port"),
    (dict(port="70000"), "inetd_port"),
    (dict(port="s m t p"), "inetd_port"),
    (dict(port=True), "inetd_port"),
    (dict(qmail_dir="var/qmail"), "inetd_qmail_dir"),
    (dict(qmail_dir="/var/qmail; rm -rf /"), "inetd_qmail_dir"),
    (dict(tcpd="/usr/sbin/tcpd x"), "inetd_tcpd"),
    (dict(user="Qmail D"), "inetd_user"),
])
def test_inetd_settings_errors_name_the_variable(settings, variable):
    with pytest.raises(ValidationError) as info:
        relay.InetdSettings.from_vars(prefix="inetd_", **settings)
    assert [problem[0] for problem in info.value.problems] == [variable]


# Lines of an inetd.conf and whether service_regexp matches them (default settings): the lines the collection replaces.
INETD_LINES = [
    (DOCUMENT_INETD_LINE, True),
    ("smtp stream tcp nowait root /usr/sbin/sendmail sendmail -bs", True),
    ("smtp\tstream\ttcp\tnowait\tqmaild\t/usr/sbin/tcpd\t/var/qmail/bin/tcp-env /var/qmail/bin/qmail-smtpd", True),
    ("25 stream tcp nowait qmaild /usr/sbin/tcpd /var/qmail/bin/tcp-env /var/qmail/bin/qmail-smtpd", True),
    ("127.0.0.1:smtp stream tcp nowait qmaild /usr/sbin/tcpd /var/qmail/bin/tcp-env /var/qmail/bin/qmail-smtpd", True),
    ("  smtp stream tcp nowait qmaild /usr/sbin/tcpd /var/qmail/bin/tcp-env /var/qmail/bin/qmail-smtpd", True),
    ("2525 stream tcp nowait qmaild /usr/sbin/tcpd /var/qmail/bin/tcp-env /var/qmail/bin/qmail-smtpd", True),
    ("#smtp stream tcp nowait qmaild /usr/sbin/tcpd /var/qmail/bin/tcp-env /var/qmail/bin/qmail-smtpd", False),
    ("# smtp stream tcp nowait root /usr/sbin/sendmail", False),
    ("  # 2525 stream tcp nowait qmaild /usr/sbin/tcpd /var/qmail/bin/tcp-env /var/qmail/bin/qmail-smtpd", False),
    ("#<off># smtp stream tcp nowait root /usr/sbin/exim exim -bs", False),
    ("smtps stream tcp nowait root /usr/sbin/stunnel", False),
    ("submission stream tcp nowait qmaild /usr/sbin/tcpd /var/qmail/bin/tcp-env /var/qmail/bin/qmail-smtpd-other", False),
    ("discard stream tcp nowait root internal", False),
    ("", False),
]


@pytest.mark.parametrize("line,service", INETD_LINES)
def test_inetd_regexp(line, service):
    settings = relay.InetdSettings.from_vars()
    assert bool(re.search(settings.service_regexp(), line + "\n")) is service


def test_inetd_regexps_on_another_port_leave_smtp_alone():
    settings = relay.InetdSettings.from_vars(port="2525", qmail_dir="/opt/qmail")
    assert not re.search(settings.service_regexp(), "smtp stream tcp nowait root /usr/sbin/sendmail sendmail -bs")
    assert re.search(settings.service_regexp(), "2525 stream tcp nowait qmaild /usr/sbin/tcpd /opt/qmail/bin/tcp-env /opt/qmail/bin/qmail-smtpd")
    assert re.search(settings.service_regexp(), "smtp stream tcp nowait qmaild /usr/sbin/tcpd /opt/qmail/bin/tcp-env /opt/qmail/bin/qmail-smtpd")


def test_tcpserver_run_script_follows_the_document():
    settings = relay.TcpserverSettings.from_vars(uid=995, gid=994)
    assert settings.argv() == ["tcpserver", "-v", "-x", "/etc/tcp.smtp.cdb", "-u", "995", "-g", "994", "0", "smtp",
                               "/var/qmail/bin/qmail-smtpd"]
    script = settings.run_script()
    assert script.startswith("#!/bin/sh\n")
    assert script.endswith("exec tcpserver -v -x /etc/tcp.smtp.cdb -u 995 -g 994 0 smtp /var/qmail/bin/qmail-smtpd 2>&1\n")
    assert settings.log_run_script().endswith("exec setuidgid qmaill multilog t ./main\n")


@pytest.mark.parametrize("settings,argv_tail", [
    (dict(log_level="quiet"), ["tcpserver", "-q"]),
    (dict(log_level="errors"), ["tcpserver", "-Q"]),
    (dict(bind_address="127.0.0.1", port="2525"), ["127.0.0.1", "2525", "/var/qmail/bin/qmail-smtpd"]),
    (dict(port=25), ["0", "25", "/var/qmail/bin/qmail-smtpd"]),
    (dict(probe="/tmp/probe"), ["smtp", "/tmp/probe"]),
    (dict(qmail_dir="/opt/qmail"), ["/opt/qmail/bin/qmail-smtpd"]),
    (dict(extra_options=["-R", "-H", "-c100"]), ["tcpserver", "-v", "-R", "-H", "-c100", "-x"]),
    (dict(uid=None, gid=None), ["-u", "UNKNOWN", "-g", "UNKNOWN"]),
])
def test_tcpserver_argv_variants(settings, argv_tail):
    argv = relay.TcpserverSettings.from_vars(**dict(dict(uid=1, gid=2), **settings)).argv()
    text = " ".join(argv)
    assert " ".join(argv_tail) in text


def test_splogger():
    script = relay.TcpserverSettings.from_vars(uid=1, gid=2, logger="splogger", log_user="qmaill").log_run_script()
    assert script.endswith("exec setuidgid qmaill /var/qmail/bin/splogger smtpd 3\n")


@pytest.mark.parametrize("settings,variable", [
    (dict(bind_address=""), "ucspi_tcp_bind_address"),
    (dict(bind_address="*"), "ucspi_tcp_bind_address"),
    (dict(bind_address="1.2.3"), "ucspi_tcp_bind_address"),
    (dict(port="smtp;reboot"), "ucspi_tcp_port"),
    (dict(port="0"), "ucspi_tcp_port"),
    (dict(rules_cdb="tcp.smtp.cdb"), "ucspi_tcp_rules_cdb"),
    (dict(qmail_dir="/var/qmail/"), None),
    (dict(log_level="debug"), "ucspi_tcp_log_level"),
    (dict(logger="syslog"), "ucspi_tcp_logger"),
    (dict(log_user="root\n"), "ucspi_tcp_log_user"),
    (dict(probe="probe"), "ucspi_tcp_probe"),
    (dict(uid="qmaild"), "ucspi_tcp_user"),
    (dict(uid=-1), "ucspi_tcp_user"),
    (dict(gid="x"), "ucspi_tcp_group"),
    (dict(extra_options="-R"), "ucspi_tcp_extra_options"),
    (dict(extra_options=["-R", "-x/etc/other.cdb"]), "ucspi_tcp_extra_options[1]"),
    (dict(extra_options=["-u0"]), "ucspi_tcp_extra_options[0]"),
    (dict(extra_options=["R"]), "ucspi_tcp_extra_options[0]"),
    (dict(extra_options=["-c 100"]), "ucspi_tcp_extra_options[0]"),
    (dict(extra_options=["-R;id"]), "ucspi_tcp_extra_options[0]"),
])
def test_tcpserver_settings_errors_name_the_variable(settings, variable):
    arguments = dict(dict(uid=1, gid=2), **settings)
    if variable is None:
        relay.TcpserverSettings.from_vars(prefix="ucspi_tcp_", **arguments)
        return
    with pytest.raises(ValidationError) as info:
        relay.TcpserverSettings.from_vars(prefix="ucspi_tcp_", **arguments)
    assert [problem[0] for problem in info.value.problems] == [variable]


# ------------------------------------------------------------------ real tcprules / tcpdmatch

# Relay clients, and client addresses with whether each must get RELAYCLIENT.
ORACLE_CASES = [
    (["127."], [("127.0.0.1", True), ("127.1.2.3", True), ("128.0.0.1", False), ("12.7.0.1", False)]),
    (["192.0.2.10"], [("192.0.2.10", True), ("192.0.2.100", False), ("192.0.2.1", False), ("192.0.2.11", False)]),
    (["1.2.3"], [("1.2.3.4", True), ("1.2.3.255", True), ("1.2.30.4", False), ("1.2.4.3", False)]),
    (["10.1."], [("10.1.0.1", True), ("10.10.0.1", False), ("10.11.2.3", False), ("110.1.0.1", False)]),
    (["10"], [("10.0.0.1", True), ("100.0.0.1", False), ("1.10.0.1", False)]),
    (["127.0.0.2", "10.1.2.", "172.16"], [("127.0.0.2", True), ("127.0.0.3", False), ("10.1.2.9", True), ("10.1.20.9", False),
                                          ("172.16.9.9", True), ("172.160.0.1", False)]),
    ([], [("127.0.0.1", False), ("192.0.2.10", False)]),
]


def _need(program, package):
    path = shutil.which(program) or next((p for p in ("/usr/sbin/" + program, "/usr/bin/" + program) if os.path.exists(p)), None)
    if not path:
        pytest.skip("SKIPPED LOUDLY: %s is not installed (apt-get install %s); the real-program oracle did not run" % (program, package))
    return path


@pytest.mark.parametrize("clients,probes", ORACLE_CASES)
def test_real_tcprules_gives_relayclient_to_exactly_the_clients(tmp_path, clients, probes):
    tcprules = _need("tcprules", "ucspi-tcp")
    tcprulescheck = _need("tcprulescheck", "ucspi-tcp")
    parsed = relay.relay_clients(clients, "v")
    rules = "".join(line + "\n" for line in relay.tcprules_lines(parsed))
    cdb = str(tmp_path / "tcp.smtp.cdb")
    done = subprocess.run([tcprules, cdb, cdb + ".tmp"], input=rules.encode(), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    assert not os.path.exists(cdb + ".tmp")
    for address, relays in probes:
        env = dict(os.environ, TCPREMOTEIP=address)
        env.pop("TCPREMOTEHOST", None)
        env.pop("TCPREMOTEINFO", None)
        out = subprocess.run([tcprulescheck, cdb], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             universal_newlines=True, timeout=30, check=False).stdout
        assert "allow connection" in out, out
        assert ("set environment variable RELAYCLIENT=" in out) is relays, (address, out)
        assert any(client.matches(address) for client in parsed) is relays


@pytest.mark.parametrize("clients,probes", ORACLE_CASES)
def test_real_tcpdmatch_matches_exactly_the_clients(tmp_path, clients, probes):
    tcpdmatch = _need("tcpdmatch", "tcpd")
    parsed = relay.relay_clients(clients, "v")
    (tmp_path / "hosts.allow").write_text("".join(line + "\n" for line in relay.hosts_allow_lines(parsed)))
    # Oracle: whatever matches no relay line falls through to hosts.deny, which here refuses it, so
    # "granted" means "matched a setenv = RELAYCLIENT line". (The role never writes hosts.deny; tcpd's
    # default without a hosts.deny entry lets every client in.) Debian's tcpdmatch sends the "matched"
    # and "option" lines to syslog, hence this detour.
    (tmp_path / "hosts.deny").write_text("ALL: ALL\n")
    for address, relays in probes:
        out = subprocess.run([tcpdmatch, "-d", "tcp-env", address], cwd=str(tmp_path), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, universal_newlines=True, timeout=30, check=False).stdout
        assert "server:   process  tcp-env" in out, out
        expected = "access:   granted" if relays else "access:   denied"
        assert expected in out, (address, out)


# ---------------------------------------------------------------- read-only looks at inetd.conf and hosts.allow


def test_matching_lines_finds_the_collections_lines():
    settings = relay.InetdSettings.from_vars(bind_address="127.0.0.1")
    text = ("#smtp stream tcp nowait root /usr/sbin/sendmail sendmail -bs\n"
            "%s\n25 stream tcp nowait root /bin/false false\nftp stream tcp nowait root /usr/sbin/ftpd ftpd\n" % settings.line())
    assert front_end_files.matching_lines(text, settings.service_regexp()) == [settings.line(), "25 stream tcp nowait root /bin/false false"]
    assert front_end_files.matching_lines(None, settings.service_regexp()) == []


def test_has_block_looks_for_either_marker_line():
    marker = "# {mark} teamware.qmail inetd role"
    assert front_end_files.has_block("a\n# BEGIN teamware.qmail inetd role\n", marker)
    assert front_end_files.has_block("# END teamware.qmail inetd role  \n", marker)
    assert not front_end_files.has_block("# BEGIN teamware.qmail inetd role, another\n", marker)
    assert not front_end_files.has_block(None, marker)


def test_service_directory_paths_are_checked_together():
    service = relay.ServiceDirectory.from_vars("/var/qmail/supervise", "/service", prefix="ucspi_tcp_")
    assert (service.real_dir, service.link) == ("/var/qmail/supervise/qmail-smtpd", "/service/qmail-smtpd")
    with pytest.raises(ValidationError) as caught:
        relay.ServiceDirectory.from_vars("/service", "/service", prefix="ucspi_tcp_")
    assert [problem[0] for problem in caught.value.problems] == ["ucspi_tcp_supervise_dir"]
    with pytest.raises(ValidationError) as caught:
        relay.ServiceDirectory.from_vars("supervise", "/service", ".x", prefix="ucspi_tcp_")
    assert [problem[0] for problem in caught.value.problems] == ["ucspi_tcp_supervise_dir", "ucspi_tcp_service_name"]
