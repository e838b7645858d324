# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The qmail-remote wrapper gives qmail-local the exit codes it needs.

Two layers: the recorded reports of a real qmail-remote (notqmail 1.09) fed
through a stand-in, which runs everywhere; and the real qmail-remote against an
SMTP listener on loopback, which needs a qmail installation.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import socketserver
import subprocess
import threading

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import delivery_wrapper

from ..loopback import free_port
from ..qmail_installation import require_qmail

MESSAGE = b"From: a@example.test\nTo: b@example.test\nSubject: wrapper test\n\nhello\n"

# What notqmail 1.09's qmail-remote printed in each case (exit status always 0).
RECORDED = {
    "accepted": b"r\x00K127.0.0.1 accepted message.\nRemote host said: 250 ok queued as 12345\n\x00",
    "rcpt_450": b"s127.0.0.1 does not like recipient.\nRemote host said: 450 mailbox busy, try later\n\x00DGiving up on 127.0.0.1.\n\x00",
    "rcpt_550": b"h127.0.0.1 does not like recipient.\nRemote host said: 550 no such user here\n\x00DGiving up on 127.0.0.1.\n\x00",
    "refused": b"ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n\x00",
    "data_451": b"r\x00Z127.0.0.1 failed after I sent the message.\nRemote host said: 451 try later\n\x00",
    "data_554": b"r\x00D127.0.0.1 failed after I sent the message.\nRemote host said: 554 no\n\x00",
    "nothing": b"",
}


def render_wrapper(directory, qmail_dir):
    text = delivery_wrapper.render(qmail_dir)
    path = os.path.join(str(directory), "teamware-qmail-remote")
    with open(path, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o755)
    return path


@pytest.fixture
def fake_qmail(tmp_path):
    """A qmail tree whose qmail-remote replays a recorded report and logs its arguments."""
    qmail = tmp_path / "qmail"
    (qmail / "bin").mkdir(parents=True)
    remote = qmail / "bin" / "qmail-remote"
    remote.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$0.args"\ncat > "$0.stdin"\ncat "$0.report"\n')
    remote.chmod(0o755)
    return qmail


@pytest.mark.parametrize("case, code", [
    ("accepted", 0), ("rcpt_450", 111), ("rcpt_550", 100), ("refused", 111),
    ("data_451", 111), ("data_554", 100), ("nothing", 111),
])
def test_reports_become_exit_codes(tmp_path, fake_qmail, case, code):
    (fake_qmail / "bin" / "qmail-remote.report").write_bytes(RECORDED[case])
    wrapper = render_wrapper(tmp_path, str(fake_qmail))
    done = subprocess.run([wrapper, "tw.server.company.com", "", "john@tw.company.com"], input=MESSAGE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20, check=False)
    assert done.returncode == code, done.stdout
    # the empty sender of a bounce survives as an argument of its own
    args = (fake_qmail / "bin" / "qmail-remote.args").read_text().split("\n")
    assert args[:3] == ["tw.server.company.com", "", "john@tw.company.com"]
    assert (fake_qmail / "bin" / "qmail-remote.stdin").read_bytes() == MESSAGE
    if RECORDED[case]:
        assert b"\x00" not in done.stdout and done.stdout.strip()


@pytest.mark.parametrize("argv", [[], ["host"], ["host", "sender"]])
def test_a_broken_dot_qmail_line_defers(tmp_path, fake_qmail, argv):
    wrapper = render_wrapper(tmp_path, str(fake_qmail))
    done = subprocess.run([wrapper] + argv, input=MESSAGE, stdout=subprocess.PIPE, timeout=20, check=False)
    assert done.returncode == 111


def test_a_missing_qmail_remote_defers(tmp_path):
    wrapper = render_wrapper(tmp_path, str(tmp_path / "nowhere"))
    done = subprocess.run([wrapper, "h", "s", "r"], input=MESSAGE, stdout=subprocess.PIPE, timeout=20, check=False)
    assert done.returncode == 111 and b"missing" in done.stdout


class Listener(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, rcpt_reply, data_reply):
        self.rcpt_reply = rcpt_reply
        self.data_reply = data_reply
        self.messages = []
        socketserver.ThreadingTCPServer.__init__(self, ("127.0.0.1", 0), SMTPHandler)


class SMTPHandler(socketserver.StreamRequestHandler):
    timeout = 20

    def reply(self, text):
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self):
        self.reply("220 wrapper-test ESMTP")
        envelope = []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line.decode("latin-1").strip().upper()
            if verb.startswith(("HELO", "EHLO")):
                self.reply("250 wrapper-test")
            elif verb.startswith("MAIL FROM"):
                envelope = [line.decode().strip()]
                self.reply("250 ok")
            elif verb.startswith("RCPT TO"):
                envelope.append(line.decode().strip())
                self.reply(self.server.rcpt_reply)
            elif verb == "DATA":
                self.reply("354 go ahead")
                body = []
                while True:
                    data = self.rfile.readline()
                    if data in (b".\r\n", b".\n", b""):
                        break
                    body.append(data)
                if self.server.data_reply.startswith("250"):
                    self.server.messages.append((envelope, b"".join(body)))
                self.reply(self.server.data_reply)
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


def run_real_wrapper(tmp_path, qmail_dir, port, sender="sender@example.test"):
    """Run the wrapper with the real qmail-remote; smtproutes comes from a private mount namespace."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare to give qmail-remote a private control/smtproutes")
    control = tmp_path / "control"
    shutil.copytree(os.path.join(qmail_dir, "control"), str(control))
    (control / "smtproutes").write_text("tw.server.company.com:[127.0.0.1]:%d\n" % port)
    (control / "timeoutconnect").write_text("5\n")
    (control / "timeoutremote").write_text("20\n")
    wrapper = render_wrapper(tmp_path, qmail_dir)
    script = 'mount --bind "$1" "$2/control" && shift 2 && exec "$@"'
    return subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", str(control), qmail_dir,
                           wrapper, "tw.server.company.com", sender, "john@tw.company.com"],
                          input=MESSAGE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=False)


@pytest.mark.parametrize("rcpt_reply, data_reply, code", [
    ("250 ok", "250 ok queued", 0),
    ("450 mailbox busy, try later", "250 ok", 111),
    ("550 no such user here", "250 ok", 100),
    ("250 ok", "451 try again later", 111),
    ("250 ok", "554 message refused", 100),
])
def test_real_qmail_remote_against_a_loopback_listener(tmp_path, rcpt_reply, data_reply, code):
    qmail_dir = require_qmail("qmail-remote")
    listener = Listener(rcpt_reply, data_reply)
    thread = threading.Thread(target=listener.serve_forever, daemon=True)
    thread.start()
    try:
        done = run_real_wrapper(tmp_path, qmail_dir, listener.server_address[1])
    finally:
        listener.shutdown()
        listener.server_close()
    assert done.returncode == code, (done.stdout, done.stderr)
    if code == 0:
        assert len(listener.messages) == 1
        envelope, body = listener.messages[0]
        assert envelope == ["MAIL FROM:<sender@example.test>", "RCPT TO:<john@tw.company.com>"]
        assert b"Subject: wrapper test" in body


def test_real_qmail_remote_with_nobody_listening_defers(tmp_path):
    qmail_dir = require_qmail("qmail-remote")
    done = run_real_wrapper(tmp_path, qmail_dir, free_port())
    assert done.returncode == 111, (done.stdout, done.stderr)
    assert b"establish an SMTP connection" in done.stdout


def test_real_qmail_remote_passes_a_bounce_with_empty_sender(tmp_path):
    qmail_dir = require_qmail("qmail-remote")
    listener = Listener("250 ok", "250 ok")
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    try:
        done = run_real_wrapper(tmp_path, qmail_dir, listener.server_address[1], sender="")
    finally:
        listener.shutdown()
        listener.server_close()
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert listener.messages[0][0][0] == "MAIL FROM:<>"
