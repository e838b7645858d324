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


def test_a_220_greeting_is_good_and_the_check_says_quit(listener):
    result = smtp_banner.check("0", str(listener["port"]), timeout=5)
    assert result["ok"] is True and result["host"] == "127.0.0.1" and result["line"] == "220 mail.company.com ESMTP"
    assert result["error"] == "" and result["tries"] == 1
    deadline = time.time() + 10
    while not listener["heard"] and time.time() < deadline:
        time.sleep(0.05)
    assert listener["heard"] == [b"QUIT\r\n"]
    assert smtp_banner.describe(result) == "SMTP on 127.0.0.1:%d answers: 220 mail.company.com ESMTP" % listener["port"]


def test_another_greeting_is_not_qmail_smtpd(listener):
    listener["greeting"] = b"554 no SMTP service here\r\n"
    result = smtp_banner.check("127.0.0.1", listener["port"], timeout=5)
    assert result["ok"] is False and "is not 220" in result["error"] and "554 no SMTP" in result["error"]


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
