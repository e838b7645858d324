# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""smtp_banner: qmail-smtpd's greeting on the host's own address, never anywhere else."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import threading
import time

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import smtp_banner


@pytest.fixture
def listener():
    """A listener on 127.0.0.1 that sends the greeting it is given and records what the client said."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    state = {"greeting": b"220 mail.company.com ESMTP\r\n", "heard": []}

    def serve():
        while True:
            try:
                conn, _address = sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                if state["greeting"]:
                    conn.sendall(state["greeting"])
                try:
                    state["heard"].append(conn.recv(100))
                except OSError:
                    pass

    thread = threading.Thread(target=serve)
    thread.daemon = True
    thread.start()
    state["port"] = sock.getsockname()[1]
    yield state
    sock.shutdown(socket.SHUT_RDWR)
    sock.close()
    thread.join(10)


@pytest.fixture
def qmail(tmp_path):
    """A qmail_dir with control/me (mail.company.com)."""
    (tmp_path / "control").mkdir()
    (tmp_path / "control" / "me").write_text("mail.company.com\n")
    return tmp_path


def test_qmail_smtpds_own_greeting_is_good_and_the_check_says_quit(listener, qmail):
    greeting = smtp_banner.expected_greeting(str(qmail))
    assert greeting == ("220 mail.company.com ESMTP", str(qmail / "control" / "me"))
    result = smtp_banner.check("0", str(listener["port"]), timeout=5, greeting=greeting)
    assert result["ok"] is True and result["host"] == "127.0.0.1" and result["line"] == "220 mail.company.com ESMTP"
    assert result["error"] == "" and result["tries"] == 1 and "note" not in result
    assert result["expected"] == "220 mail.company.com ESMTP" and result["expected_from"] == str(qmail / "control" / "me")
    deadline = time.time() + 10
    while not listener["heard"] and time.time() < deadline:
        time.sleep(0.05)
    assert listener["heard"] == [b"QUIT\r\n"]
    assert smtp_banner.describe(result) == "SMTP on 127.0.0.1:%d answers: 220 mail.company.com ESMTP" % listener["port"]


@pytest.mark.parametrize("greeting", [b"220 mail ESMTP Postfix\r\n", b"220 mail.company.com ESMTP Exim 4.96\r\n",
                                      b"220 mail.company.com ESMTP \r\n", b"220 other.company.com ESMTP\r\n"])
def test_a_foreign_220_greeting_is_not_qmail_smtpds(listener, qmail, greeting):
    listener["greeting"] = greeting
    result = smtp_banner.check("127.0.0.1", listener["port"], timeout=5, greeting=smtp_banner.expected_greeting(str(qmail)))
    line = greeting.decode().rstrip("\r\n")
    assert result["ok"] is False and result["line"] == line
    assert result["error"] == "the greeting is not qmail-smtpd's: expected '220 mail.company.com ESMTP', got '%s'" % line
    assert smtp_banner.describe(result) == "SMTP on 127.0.0.1:%d: %s" % (listener["port"], result["error"])


def test_smtpgreeting_comes_before_me(listener, qmail):
    # notqmail: control_rldef(&greeting, "control/smtpgreeting", 1, NULL): its first line, trailing white space stripped
    (qmail / "control" / "smtpgreeting").write_text("mx1.company.com Teamware gateway \t\nsecond line\n")
    greeting = smtp_banner.expected_greeting(str(qmail))
    assert greeting == ("220 mx1.company.com Teamware gateway ESMTP", str(qmail / "control" / "smtpgreeting"))
    listener["greeting"] = b"220 mx1.company.com Teamware gateway ESMTP\r\n"
    assert smtp_banner.check("127.0.0.1", listener["port"], timeout=5, greeting=greeting)["ok"] is True
    # control/me's greeting is not qmail-smtpd's while smtpgreeting exists
    listener["greeting"] = b"220 mail.company.com ESMTP\r\n"
    wrong = smtp_banner.check("127.0.0.1", listener["port"], timeout=5, greeting=greeting)
    assert wrong["ok"] is False and "expected '220 mx1.company.com Teamware gateway ESMTP'" in wrong["error"]


def test_an_empty_smtpgreeting_is_an_empty_greeting(listener, qmail):
    # control_readline reads an empty first line: qmail-smtpd says "220 " + "" + " ESMTP", not control/me
    (qmail / "control" / "smtpgreeting").write_text("")
    greeting = smtp_banner.expected_greeting(str(qmail))
    assert greeting == ("220  ESMTP", str(qmail / "control" / "smtpgreeting"))
    listener["greeting"] = b"220  ESMTP\r\n"
    assert smtp_banner.check("127.0.0.1", listener["port"], timeout=5, greeting=greeting)["ok"] is True
    listener["greeting"] = b"220 mail.company.com ESMTP\r\n"
    assert smtp_banner.check("127.0.0.1", listener["port"], timeout=5, greeting=greeting)["ok"] is False


def test_without_the_control_files_any_220_passes_and_the_result_says_so(listener, tmp_path):
    greeting = smtp_banner.expected_greeting(str(tmp_path))
    assert greeting[0] is None
    assert greeting[1] == "%s does not exist; %s does not exist" % (tmp_path / "control" / "smtpgreeting",
                                                                    tmp_path / "control" / "me")
    listener["greeting"] = b"220 mail ESMTP Postfix\r\n"
    result = smtp_banner.check("127.0.0.1", listener["port"], timeout=5, greeting=greeting)
    assert result["ok"] is True and result["expected"] == "" and result["expected_from"] == ""
    assert result["note"] == "qmail-smtpd's greeting is unknown (%s): any 220 line passes" % greeting[1]
    assert smtp_banner.describe(result).endswith("answers: 220 mail ESMTP Postfix (%s)" % result["note"])
    listener["greeting"] = b"554 no SMTP service here\r\n"
    refused = smtp_banner.check("127.0.0.1", listener["port"], timeout=5, greeting=greeting)
    assert refused["ok"] is False and refused["error"] == "the greeting is not 220 (qmail-smtpd's): 554 no SMTP service here"


def test_an_unreadable_smtpgreeting_is_not_replaced_by_me(qmail):
    # control_readline fails on it (not ENOENT): qmail-smtpd stops there, so control/me is not the greeting
    (qmail / "control" / "smtpgreeting").mkdir()
    line, source = smtp_banner.expected_greeting(str(qmail))
    assert line is None and source.startswith("cannot read %s: " % (qmail / "control" / "smtpgreeting"))


def test_another_greeting_is_not_qmail_smtpd(listener, qmail):
    listener["greeting"] = b"554 no SMTP service here\r\n"
    result = smtp_banner.check("127.0.0.1", listener["port"], timeout=5, greeting=smtp_banner.expected_greeting(str(qmail)))
    assert result["ok"] is False and result["error"] == ("the greeting is not qmail-smtpd's: expected "
                                                         "'220 mail.company.com ESMTP', got '554 no SMTP service here'")


def test_nobody_listening_is_an_error_and_wait_tries_again():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    times = iter([0.0, 0.0, 0.6, 1.2])
    slept = []
    result = smtp_banner.check("", port, timeout=1, wait=1, clock=lambda: next(times), sleep=slept.append)
    assert result["ok"] is False and result["error"].startswith("cannot connect") and result["tries"] == 3
    assert slept == [0.5, 0.5]


@pytest.mark.parametrize("host", ["192.0.2.1", "mail.example.com", "8.8.8.8"])
def test_only_the_hosts_own_addresses(host):
    with pytest.raises(smtp_banner.BannerError):
        smtp_banner.local_host(host)


@pytest.mark.parametrize("host, expected", [("", "127.0.0.1"), ("0", "127.0.0.1"), ("*", "127.0.0.1"), (None, "127.0.0.1"),
                                            ("127.0.0.5", "127.0.0.5")])
def test_any_address_means_loopback(host, expected):
    assert smtp_banner.local_host(host) == expected


@pytest.mark.parametrize("port, expected", [("25", 25), (2525, 2525), ("smtp", 25)])
def test_ports(port, expected):
    assert smtp_banner.port_number(port) == expected


@pytest.mark.parametrize("port", ["0", "70000", "no-such-service"])
def test_bad_ports(port):
    with pytest.raises(smtp_banner.BannerError):
        smtp_banner.port_number(port)
