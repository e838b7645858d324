# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Does anything answer on the host's own SMTP port with qmail-smtpd's 220 greeting?

The SMTP front end's files can be right while nothing listens on port 25 (inetd installed but not running,
svscan not running), or while another daemon (postfix, exim...) answers there.  The line must be qmail-smtpd's own
greeting on this host, exactly (expected_greeting: from qmail's control files).  This connects from the managed
host to its own loopback or the front end's bind address, reads the greeting line, sends QUIT and closes.  It never
connects anywhere else: an address the host does not own is refused before any connection (a socket can only be
bound to a local address).

Pure Python, no Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket
import time

LOOPBACK = "127.0.0.1"
# tcpserver's "0" and inetd's empty or "*" address: every local address; the check then uses loopback.
ANY_ADDRESS = ("", "0", "*", "0.0.0.0")
DEFAULT_TIMEOUT = 5.0
MAX_LINE = 1000


class BannerError(ValueError):
    pass


def port_number(port):
    """A port number from a number or a service name (smtp: 25)."""
    text = str(port).strip()
    if text.isdigit():
        number = int(text)
    else:
        try:
            number = socket.getservbyname(text, "tcp")
        except OSError:
            number = 25 if text == "smtp" else None
    if number is None or not 0 < number < 65536:
        raise BannerError("port %r is not a port number or a known TCP service name" % (port,))
    return number


def local_host(host):
    """The address to connect to: loopback for an any-address, else the address itself, which must be the host's own."""
    text = "" if host is None else str(host).strip()
    if text in ANY_ADDRESS:
        return LOOPBACK
    if not _is_ipv4(text):
        raise BannerError("host %r is not an IPv4 address; the SMTP check connects only to the host's own addresses" % text)
    if text.startswith("127."):
        return text
    if not _is_own(text):
        raise BannerError("host %s is not an address of this host; the SMTP check connects only to the host's own "
                          "addresses (loopback or the front end's bind address)" % text)
    return text


def _is_ipv4(text):
    parts = text.split(".")
    return len(parts) == 4 and all(part.isdigit() and int(part) < 256 for part in parts)


def _is_own(address):
    """A socket can be bound only to an address of the host itself."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.bind((address, 0))
        return True
    except OSError:
        return False
    finally:
        probe.close()


def _read_line(sock):
    data = b""
    while b"\n" not in data and len(data) < MAX_LINE:
        chunk = sock.recv(MAX_LINE)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", "replace")


def read_once(host, port, timeout=DEFAULT_TIMEOUT):
    """Connect, read one line, say QUIT. Returns (line, error): error is '' when a line was read."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((host, port))
        line = _read_line(sock)
        try:
            sock.sendall(b"QUIT\r\n")
        except OSError:
            pass
        return line, "" if line else "the connection closed without a greeting"
    except socket.timeout:
        return "", "no greeting within %g seconds" % timeout
    except OSError as exc:
        return "", "cannot connect: %s" % (getattr(exc, "strerror", None) or exc)
    finally:
        sock.close()


def _first_line(path):
    """control_readline (notqmail's control.c): the first line, trailing spaces, tabs and the newline stripped."""
    from ansible_collections.teamware.qmail.plugins.module_utils import qmail_config  # only where a greeting is read
    with open(path, "rb") as handle:
        return qmail_config.control_first_line(handle.read().decode("utf-8", "replace"))


def expected_greeting(qmail_dir):
    """qmail-smtpd's own greeting line on this host, as notqmail's qmail-smtpd.c works it out:
    control_rldef(&greeting, "control/smtpgreeting", 1, NULL) - the first line of control/smtpgreeting (an empty
    file gives an empty greeting), or control/me's when that file does not exist - then "220 " + greeting + " ESMTP".

    Returns (line, source): source the file it came from; line None when neither file can be read (qmail-smtpd
    itself would stop with "421 unable to read controls"), with source saying why.
    """
    problems = []
    for name in ("smtpgreeting", "me"):
        path = os.path.join(qmail_dir or "", "control", name)
        try:
            return "220 %s ESMTP" % _first_line(path), path
        except FileNotFoundError:
            problems.append("%s does not exist" % path)
        except OSError as exc:
            problems.append("cannot read %s: %s" % (path, getattr(exc, "strerror", None) or exc))
            break  # control_readline fails on it: qmail-smtpd does not go on to control/me
    return None, "; ".join(problems)


def _verdict(line, error, expected):
    """(ok, error) for a line read: exactly the expected greeting, or (expected None) any 220 line."""
    if error or not line:
        return False, error
    if expected is None:
        if line.startswith("220"):
            return True, ""
        return False, "the greeting is not 220 (qmail-smtpd's): %s" % line
    if line == expected:
        return True, ""
    return False, "the greeting is not qmail-smtpd's: expected '%s', got '%s'" % (expected, line)


def check(host, port, timeout=DEFAULT_TIMEOUT, wait=0.0, clock=time.time, sleep=time.sleep, greeting=(None, "")):
    """qmail-smtpd's greeting on host:port (host: the bind address; loopback for any address).

    greeting is expected_greeting's answer: the line must be exactly it; when it is unknown (None) any line that starts
    with 220 passes, and the result says so (note).  Tries again until ``wait`` seconds have passed (a front end that
    was just started or restarted needs a moment).
    Returns a dict: host, port, ok, line, error, tries, expected ('' when unknown), expected_from, and note when the
    expected greeting is unknown.
    """
    address, number = local_host(host), port_number(port)
    expected, source = greeting
    deadline = clock() + max(0.0, float(wait))
    tries = 0
    while True:
        tries += 1
        line, error = read_once(address, number, float(timeout))
        ok, error = _verdict(line, error, expected)
        if ok or clock() >= deadline:
            result = {"host": address, "port": number, "ok": ok, "line": line, "error": error, "tries": tries,
                      "expected": expected or "", "expected_from": source if expected is not None else ""}
            if expected is None:
                result["note"] = "qmail-smtpd's greeting is unknown (%s): any 220 line passes" % (source or "not looked up")
            return result
        sleep(0.5)


def describe(result):
    """One line for people: what answered where."""
    where = "%s:%d" % (result["host"], result["port"])
    if result["ok"]:
        note = " (%s)" % result["note"] if result.get("note") else ""
        return "SMTP on %s answers: %s%s" % (where, result["line"], note)
    return "SMTP on %s: %s" % (where, result["error"])
