"""SMTP listener of the Teamware Office MIME connector SIMULATOR (tests only; loopback traffic only)."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time

import pytest

from simulator_helpers import BIN_DIR, free_port, write_root
from teamware_office_simulator import store

BODY = b'From: a@example.org\r\nSubject: test\r\n\r\nhello\r\n'


def client(server) -> smtplib.SMTP:
    return smtplib.SMTP('127.0.0.1', server.port, timeout=5)


class RawClient:
    """Line-level SMTP client for exact bytes."""

    def __init__(self, server):
        self.sock = socket.create_connection(('127.0.0.1', server.port), timeout=5)
        self.file = self.sock.makefile('rb')

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def reply(self) -> tuple[int, str]:
        lines = []
        while True:
            line = self.file.readline().decode()
            assert line, 'connection closed'
            lines.append(line[4:].rstrip('\r\n'))
            if line[3] == ' ':
                return int(line[:3]), '\n'.join(lines)

    def cmd(self, line: str) -> tuple[int, str]:
        self.send(line.encode() + b'\r\n')
        return self.reply()

    def close(self):
        self.file.close()
        self.sock.close()


def spool_of(root):
    return os.path.join(root, 'smtp')


def test_accept_and_store(tw_root, smtp_server):
    server = smtp_server(tw_root)
    with client(server) as smtp:
        code, text = smtp.ehlo('qmail.company.com')
        assert code == 250 and b'PIPELINING' in text
        assert smtp.mail('sender@example.org') == (250, b'2.1.0 sender <sender@example.org> ok')
        code, text = smtp.rcpt('john@tw.company.com')
        assert code == 250 and b'john@company.com' in text
        assert smtp.rcpt('mary@company.com')[0] == 250
        code, text = smtp.data(BODY)
        assert code == 250 and b'queued as' in text
    (record,) = store.list_messages(spool_of(tw_root))
    assert record['via'] == 'smtp'
    assert record['sender'] == 'sender@example.org'
    assert record['recipients'] == ['john@tw.company.com', 'mary@company.com']
    assert record['teamware_addresses'] == ['john@company.com', 'mary@company.com']
    assert record['helo'] == 'qmail.company.com'
    assert record['client_address'].startswith('127.0.0.1:')
    assert record['reports'] is None
    assert record['subject'] == 'test'
    assert store.read_message(record) == BODY.replace(b'\r\n', b'\n')


def test_greeting_says_simulator(tw_root, smtp_server):
    raw = RawClient(smtp_server(tw_root, hostname='tw.server.company.com'))
    code, text = raw.reply()
    assert code == 220 and 'SIMULATOR' in text and text.startswith('tw.server.company.com ')
    assert raw.cmd('QUIT')[0] == 221
    raw.close()


def test_refuse_550(tmp_path, smtp_server):
    root = write_root(tmp_path, mime={'mode': 'list', 'allow': 'accepted.domain.com'})
    with client(smtp_server(root)) as smtp:
        smtp.ehlo()
        smtp.mail('a@example.org')
        code, text = smtp.rcpt('x@elsewhere.org')
        assert code == 550 and text.startswith(b'5.7.1') and b'mode=list' in text
        assert smtp.rcpt('x@accepted.domain.com')[0] == 250
        assert smtp.data(BODY)[0] == 250
    (record,) = store.list_messages(spool_of(root))
    assert record['recipients'] == ['x@accepted.domain.com']


def test_no_relay_refusal(tmp_path, smtp_server):
    root = write_root(tmp_path, mime={'no_relay': '1'})
    with client(smtp_server(root)) as smtp:
        smtp.ehlo()
        smtp.mail('a@example.org')
        code, text = smtp.rcpt('x@elsewhere.org')
        assert code == 550 and b'relaying denied' in text
        assert smtp.rcpt('x@tw.company.com')[0] == 250


def test_all_recipients_refused_then_data_503(tmp_path, smtp_server):
    root = write_root(tmp_path, mime={'mode': 'strict'})
    with client(smtp_server(root)) as smtp:
        smtp.ehlo()
        smtp.mail('a@example.org')
        assert smtp.rcpt('x@elsewhere.org')[0] == 550
        assert smtp.docmd('DATA')[0] == 503
    assert store.list_messages(spool_of(root)) == []


def test_empty_sender(tw_root, smtp_server):
    with client(smtp_server(tw_root)) as smtp:
        smtp.ehlo()
        assert smtp.docmd('MAIL FROM:<>') == (250, b'2.1.0 sender <> ok')
        assert smtp.rcpt('john@company.com')[0] == 250
        assert smtp.data(BODY)[0] == 250
    (record,) = store.list_messages(spool_of(tw_root))
    assert record['sender'] == ''


def test_dot_unstuffing_and_bare_lf(tw_root, smtp_server):
    raw = RawClient(smtp_server(tw_root))
    assert raw.reply()[0] == 220
    # qmail-remote style: HELO, then pipelined commands in one write
    assert raw.cmd('HELO qmail.company.com')[0] == 250
    raw.send(b'MAIL FROM:<a@example.org>\r\nRCPT TO:<john@tw.company.com>\r\nDATA\r\n')
    assert [raw.reply()[0] for _reply in range(3)] == [250, 250, 354]
    raw.send(b'Subject: dots\r\n\r\n..\r\n...two\r\n.x\r\nbare lf\n.\r\n')
    code, text = raw.reply()
    assert code == 250, text
    assert raw.cmd('QUIT')[0] == 221
    raw.close()
    (record,) = store.list_messages(spool_of(tw_root))
    assert store.read_message(record) == b'Subject: dots\n\n.\n..two\nx\nbare lf\n'


def test_defer_rcpt(tw_root, smtp_server):
    with client(smtp_server(tw_root, defer_rcpt=True)) as smtp:
        smtp.ehlo()
        smtp.mail('a@example.org')
        code, text = smtp.rcpt('john@company.com')
        assert code == 451 and text.startswith(b'4.3.0')
        assert smtp.docmd('DATA')[0] == 503
    assert store.list_messages(spool_of(tw_root)) == []


def test_bad_sequences_and_other_commands(tw_root, smtp_server):
    raw = RawClient(smtp_server(tw_root))
    raw.reply()
    assert raw.cmd('MAIL FROM:<a@example.org>')[0] == 503      # before HELO
    assert raw.cmd('RCPT TO:<john@company.com>')[0] == 503     # before MAIL
    assert raw.cmd('DATA')[0] == 503
    assert raw.cmd('EHLO')[0] == 501
    assert raw.cmd('EHLO client')[0] == 250
    assert raw.cmd('RCPT TO:<john@company.com>')[0] == 503
    assert raw.cmd('MAIL FROM:<a@example.org>')[0] == 250
    assert raw.cmd('MAIL FROM:<b@example.org>')[0] == 503      # nested MAIL
    assert raw.cmd('DATA')[0] == 503                           # no RCPT
    assert raw.cmd('RCPT TO:<postmaster>')[0] == 553
    assert raw.cmd('RCPT TO:<>')[0] == 553
    assert raw.cmd('RCPT TO:john@company.com')[0] == 250       # tolerated without <>
    assert raw.cmd('RSET')[0] == 250
    assert raw.cmd('DATA')[0] == 503                           # RSET cleared the transaction
    assert raw.cmd('NOOP')[0] == 250
    assert raw.cmd('VRFY john')[0] == 252
    assert raw.cmd('EXPN list')[0] == 502
    assert raw.cmd('STARTTLS')[0] == 502
    assert raw.cmd('FOO')[0] == 500
    assert raw.cmd('MAIL FROM:<a@example.org> SIZE=10 BODY=8BITMIME')[0] == 250
    assert raw.cmd('RCPT TO:<john@company.com> NOTIFY=NEVER')[0] == 555
    assert raw.cmd('RSET')[0] == 250
    assert raw.cmd('MAIL FROM:<a@example.org> FOO=BAR')[0] == 555
    assert raw.cmd('MAIL FROM a@example.org')[0] == 501
    assert raw.cmd('QUIT')[0] == 221
    raw.close()


def test_line_limits(tw_root, smtp_server):
    raw = RawClient(smtp_server(tw_root, max_size=5000))
    raw.reply()
    assert raw.cmd('NOOP ' + 'x' * 600)[0] == 500
    assert raw.cmd('EHLO client')[0] == 250
    assert raw.cmd('MAIL FROM:<a@example.org> SIZE=6000')[0] == 552
    assert raw.cmd('MAIL FROM:<a@example.org>')[0] == 250
    assert raw.cmd('RCPT TO:<john@company.com>')[0] == 250
    assert raw.cmd('DATA')[0] == 354
    raw.send(b'Subject: long\r\n\r\n' + b'y' * 1200 + b'\r\n.\r\n')
    assert raw.reply()[0] == 500
    assert raw.cmd('MAIL FROM:<a@example.org>')[0] == 250
    assert raw.cmd('RCPT TO:<john@company.com>')[0] == 250
    assert raw.cmd('DATA')[0] == 354
    raw.send(b'Subject: big\r\n\r\n' + (b'z' * 900 + b'\r\n') * 7 + b'.\r\n')
    assert raw.reply()[0] == 552
    # the session is still usable afterwards
    assert raw.cmd('MAIL FROM:<a@example.org>')[0] == 250
    assert raw.cmd('RCPT TO:<john@company.com>')[0] == 250
    assert raw.cmd('DATA')[0] == 354
    raw.send(b'Subject: fine\r\n\r\n' + b'w' * 998 + b'\r\n.\r\n')
    assert raw.reply()[0] == 250
    raw.close()
    (record,) = store.list_messages(spool_of(tw_root))
    assert record['subject'] == 'fine'


def test_configuration_reread_every_session(tw_root, smtp_server):
    server = smtp_server(tw_root)
    with client(server) as smtp:
        smtp.ehlo()
        smtp.mail('a@example.org')
        assert smtp.rcpt('x@elsewhere.org')[0] == 250
    write_root(tw_root, mime={'mode': 'strict'})
    with client(server) as smtp:
        smtp.ehlo()
        smtp.mail('a@example.org')
        assert smtp.rcpt('x@elsewhere.org')[0] == 550
        assert smtp.rcpt('x@tw.company.com')[0] == 250


def test_sendmail_1_at_session_start_gives_421(tw_root, smtp_server):
    server = smtp_server(tw_root)
    write_root(tw_root, mime={'sendmail': '1'})
    raw = RawClient(server)
    code, text = raw.reply()
    assert code == 421 and 'sendmail=1' in text
    raw.close()


def test_configuration_error_gives_421(tw_root, smtp_server):
    server = smtp_server(tw_root)
    write_root(tw_root, mime={'mode': 'bogus'})
    with pytest.raises(smtplib.SMTPConnectError) as info:
        client(server)
    assert info.value.smtp_code == 421


def test_store_failure_gives_451(tw_root, smtp_server, tmp_path):
    server = smtp_server(tw_root, spool_dir=str(tmp_path / 'missing-spool'))
    with client(server) as smtp:
        smtp.ehlo()
        smtp.mail('a@example.org')
        smtp.rcpt('john@company.com')
        code, text = smtp.data(BODY)
        assert code == 451 and text.startswith(b'4.3.0')


def test_concurrent_clients(tw_root, smtp_server):
    server = smtp_server(tw_root)
    # a slow client keeps its session open while the others deliver
    slow = RawClient(server)
    assert slow.reply()[0] == 220
    assert slow.cmd('HELO slow')[0] == 250
    errors = []
    barrier = threading.Barrier(8)

    def send(n):
        try:
            with client(server) as smtp:
                barrier.wait(5)
                smtp.sendmail('a@example.org', ['user%d@tw.company.com' % n], b'Subject: %d\r\n\r\nbody\r\n' % n)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == []
    assert slow.cmd('QUIT')[0] == 221
    slow.close()
    records = store.list_messages(spool_of(tw_root))
    assert sorted(r['subject'] for r in records) == [str(n) for n in range(8)]
    assert sorted(r['teamware_addresses'][0] for r in records) == ['user%d@company.com' % n for n in range(8)]


def _serve(args, **kwargs):
    return subprocess.Popen([sys.executable, os.path.join(BIN_DIR, 'teamware-office-simulator'), 'serve'] + args,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def _wait_for_file(path, proc, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path) as handle:
                text = handle.read()
            if text.endswith('\n'):
                return text.strip()
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError('%s not written' % path)


def test_sendmail_1_refuses_to_start(tmp_path):
    root = write_root(tmp_path, mime={'sendmail': '1'})
    proc = _serve(['--root', root, '--bind', '127.0.0.1', '--port', '0'])
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 2
    assert b'sendmail = 1' in err and b'torecvm' in err


def test_serve_subprocess_smtp_port_and_sigterm(tmp_path):
    port = free_port()
    root = write_root(tmp_path / 'to', mime={'smtp_port': str(port)}, spool=False)
    pidfile = str(tmp_path / 'sim.pid')
    proc = _serve(['--root', root, '--bind', '127.0.0.1', '--pidfile', pidfile, '--port-file', str(tmp_path / 'port')])
    try:
        assert _wait_for_file(pidfile, proc) == str(proc.pid)
        assert _wait_for_file(str(tmp_path / 'port'), proc) == str(port)
        with smtplib.SMTP('127.0.0.1', port, timeout=5) as smtp:
            smtp.sendmail('', ['john@tw.company.com'], BODY)
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert not os.path.exists(pidfile)
    assert b'stopped' in err and b'stored' in err and b'RCPT TO:<john@tw.company.com> accepted' in err
    (record,) = store.list_messages(spool_of(root))
    assert record['sender'] == ''


def test_a_burst_of_connections_is_greeted(tw_root):
    """qmail-send opens up to concurrencyremote (20) connections at once: every one gets its greeting at once, none is
    left in a full listen backlog (socketserver's default of 5) waiting for a greeting that never comes."""
    from teamware_office_simulator.smtp_server import make_server
    server = make_server(tw_root, bind='127.0.0.1', port=0)
    socks = []
    try:
        for _number in range(30):  # the listener accepts nothing yet: the connections wait in the backlog
            socks.append(socket.create_connection(("127.0.0.1", server.port), timeout=1))
        thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
        thread.start()
        for sock in socks:
            sock.settimeout(0.5)
            assert sock.recv(4).startswith(b'220')
    finally:
        for sock in socks:
            sock.close()
        server.shutdown()
        server.server_close()
