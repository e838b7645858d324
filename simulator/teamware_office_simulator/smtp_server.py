"""SMTP listener of the Teamware Office MIME connector SIMULATOR (tests only).

This is NOT Teamware Office.  A small, threaded SMTP server (socketserver,
standard library only) that behaves like the MIME connector configured "as
if sendmail is not installed" (section 5.2 of "Integrating Qmail with Teamware
Office"): it accepts or refuses each RCPT TO with the simulated to.ini /
tombsmtp.ini acceptance rule and stores every accepted message with its
envelope in the spool directory (``ROOT/smtp`` by default).

The configuration is re-read at the start of every SMTP session.  A session
that starts while to.ini says ``sendmail = 1`` is answered with 421 and closed.
"""

from __future__ import annotations

import logging
import re
import socket
import socketserver

from . import BANNER
from .config import ConfigError, check_recipient, load_config, split_address
from .store import store_message

LOG = logging.getLogger('teamware_office_simulator.smtp')

MAX_COMMAND_LINE = 512      # RFC 5321 4.5.3.1.4, CRLF included
MAX_TEXT_LINE = 1000        # RFC 5321 4.5.3.1.6, CRLF included
MAX_RECIPIENTS = 100
DEFAULT_MAX_SIZE = 20 * 1024 * 1024
DEFAULT_TIMEOUT = 120.0

_MAIL_RE = re.compile(r'^MAIL\s+FROM:\s*(<[^<>]*>|[^\s<>]+)\s*(.*)$', re.IGNORECASE)
_RCPT_RE = re.compile(r'^RCPT\s+TO:\s*(<[^<>]*>|[^\s<>]+)\s*(.*)$', re.IGNORECASE)
_UNIMPLEMENTED = ('EXPN', 'TURN', 'ETRN', 'AUTH', 'STARTTLS', 'BDAT', 'SEND', 'SOML', 'SAML')


class _ConnectionClosed(Exception):
    pass


def _strip_path(path: str) -> str:
    """<@route,@route:user@domain> or user@domain -> user@domain; <> -> ''."""
    if path.startswith('<') and path.endswith('>'):
        path = path[1:-1]
    if path.startswith('@') and ':' in path:
        path = path.split(':', 1)[1]
    return path.strip()


class SimulatorSMTPServer(socketserver.ThreadingTCPServer):
    """Threaded SMTP server of the simulator; one handler thread per client."""

    allow_reuse_address = True
    daemon_threads = True
    block_on_close = False
    # socketserver's default backlog of 5 overflows when qmail-send opens up to concurrencyremote (20) connections at
    # once: the kernel drops the handshake's last ACK, the client believes it is connected and qmail-remote waits
    # timeoutremote (1200 s) for a greeting that never comes.
    request_queue_size = 128

    def __init__(self, server_address, root: str, spool_dir: str | None = None, defer_rcpt: bool = False,
                 max_size: int = DEFAULT_MAX_SIZE, timeout: float = DEFAULT_TIMEOUT, hostname: str | None = None):
        host = server_address[0]
        if ':' in host:
            self.address_family = socket.AF_INET6
        self.root = root
        self.spool_dir = spool_dir
        self.defer_rcpt = defer_rcpt
        self.max_size = max_size
        self.session_timeout = timeout
        self.hostname = hostname or socket.gethostname() or 'localhost'
        super().__init__(server_address, SMTPHandler)

    @property
    def port(self) -> int:
        return self.server_address[1]


class SMTPHandler(socketserver.StreamRequestHandler):
    """One SMTP session."""

    server: SimulatorSMTPServer

    def setup(self) -> None:
        self.timeout = self.server.session_timeout
        super().setup()
        host, port = self.client_address[0], self.client_address[1]
        self.peer = '%s:%s' % (host, port)
        self.helo: str | None = None
        self.cfg = None
        self._reset()

    def _reset(self) -> None:
        self.sender: str | None = None
        self.recipients: list[str] = []
        self.teamware: list[str | None] = []

    # -- I/O ---------------------------------------------------------------

    def reply(self, code: int, text: str | list[str]) -> None:
        lines = text if isinstance(text, list) else [text]
        out = []
        for n, line in enumerate(lines):
            sep = ' ' if n == len(lines) - 1 else '-'
            out.append('%d%s%s\r\n' % (code, sep, line))
        self.wfile.write(''.join(out).encode('utf-8', 'replace'))

    def read_line(self, limit: int) -> tuple[bytes, bool]:
        """One line without its line end, and whether it was longer than ``limit``."""
        line = self.rfile.readline(limit)
        if not line:
            raise _ConnectionClosed()
        if not line.endswith(b'\n') and len(line) >= limit:
            while True:  # discard the rest of the over-long line
                rest = self.rfile.readline(65536)
                if not rest:
                    raise _ConnectionClosed()
                if rest.endswith(b'\n'):
                    return b'', True
        if line.endswith(b'\r\n'):
            line = line[:-2]
        elif line.endswith(b'\n'):
            line = line[:-1]
        return line, False

    def log(self, event: str) -> None:
        LOG.info('smtp %s %s', self.peer, event)

    # -- session -----------------------------------------------------------

    def handle(self) -> None:
        try:
            self._session()
        except _ConnectionClosed:
            self.log('connection closed by client')
        except socket.timeout:
            self.log('timeout')
            try:
                self.reply(421, '4.4.2 %s timeout, closing connection' % self.server.hostname)
            except OSError:
                pass
        except OSError as exc:
            self.log('connection error: %s' % exc)

    def _session(self) -> None:
        self.log('connect')
        try:
            self.cfg = load_config(self.server.root)
        except ConfigError as exc:
            self.log('configuration error: %s' % exc)
            self.reply(421, '4.3.0 %s configuration error, try again later (SIMULATOR)' % self.server.hostname)
            return
        if self.cfg.sendmail:
            self.log('refused session: to.ini [MIME] sendmail=1 (mail arrives through torecvm)')
            self.reply(421, '4.3.2 %s SMTP listener disabled: to.ini says sendmail=1 (SIMULATOR)' % self.server.hostname)
            return
        self.reply(220, '%s ESMTP %s' % (self.server.hostname, BANNER))
        while True:
            raw, too_long = self.read_line(MAX_COMMAND_LINE)
            if too_long:
                self.reply(500, '5.5.2 line too long')
                continue
            line = raw.decode('utf-8', 'replace').strip()
            verb = line.split(' ', 1)[0].upper() if line else ''
            arg = line[len(verb):].strip()
            if verb in ('EHLO', 'HELO'):
                self.do_helo(verb, arg)
            elif verb == 'MAIL':
                self.do_mail(line)
            elif verb == 'RCPT':
                self.do_rcpt(line)
            elif verb == 'DATA':
                if arg:
                    self.reply(501, '5.5.4 syntax: DATA')
                else:
                    self.do_data()
            elif verb == 'RSET':
                self._reset()
                self.reply(250, '2.0.0 ok')
            elif verb == 'NOOP':
                self.reply(250, '2.0.0 ok')
            elif verb == 'VRFY':
                self.reply(252, '2.1.5 cannot VRFY user, but will accept message and attempt delivery')
            elif verb == 'HELP':
                self.reply(214, '2.0.0 %s; commands: EHLO HELO MAIL RCPT DATA RSET NOOP VRFY QUIT' % BANNER)
            elif verb == 'QUIT':
                self.reply(221, '2.0.0 %s closing connection' % self.server.hostname)
                self.log('quit')
                return
            elif verb in _UNIMPLEMENTED:
                self.reply(502, '5.5.1 %s not implemented' % verb)
            else:
                self.reply(500, '5.5.1 command unrecognized')

    def do_helo(self, verb: str, arg: str) -> None:
        if not arg:
            self.reply(501, '5.5.4 syntax: %s hostname' % verb)
            return
        self.helo = arg
        self._reset()
        self.log('%s %s' % (verb, arg))
        if verb == 'HELO':
            self.reply(250, '%s Hello %s' % (self.server.hostname, arg))
        else:
            self.reply(250, ['%s Hello %s' % (self.server.hostname, arg), 'PIPELINING', '8BITMIME',
                             'ENHANCEDSTATUSCODES', 'SIZE %d' % self.server.max_size])

    def do_mail(self, line: str) -> None:
        if self.helo is None:
            self.reply(503, '5.5.1 send EHLO or HELO first')
            return
        if self.sender is not None:
            self.reply(503, '5.5.1 sender already given (RSET first)')
            return
        match = _MAIL_RE.match(line)
        if not match:
            self.reply(501, '5.5.4 syntax: MAIL FROM:<address>')
            return
        sender = _strip_path(match.group(1))
        for param in match.group(2).split():
            key, _sep, value = param.partition('=')
            key = key.upper()
            if key == 'SIZE':
                if not value.isdigit():
                    self.reply(501, '5.5.4 bad SIZE parameter')
                    return
                if int(value) > self.server.max_size:
                    self.reply(552, '5.3.4 message size exceeds fixed maximum message size')
                    return
            elif key == 'BODY' and value.upper() in ('7BIT', '8BITMIME'):
                continue
            else:
                self.reply(555, '5.5.4 MAIL parameter %s not supported' % param)
                return
        self.sender = sender
        self.log('MAIL FROM:<%s>' % sender)
        self.reply(250, '2.1.0 sender <%s> ok' % sender)

    def do_rcpt(self, line: str) -> None:
        if self.sender is None:
            self.reply(503, '5.5.1 need MAIL before RCPT')
            return
        match = _RCPT_RE.match(line)
        if not match:
            self.reply(501, '5.5.4 syntax: RCPT TO:<address>')
            return
        if match.group(2).strip():
            self.reply(555, '5.5.4 RCPT parameters not supported')
            return
        rcpt = _strip_path(match.group(1))
        if len(self.recipients) >= MAX_RECIPIENTS:
            self.reply(452, '4.5.3 too many recipients')
            return
        try:
            split_address(rcpt)
        except ValueError as exc:
            self.log('RCPT TO:<%s> refused: %s' % (rcpt, exc))
            self.reply(553, '5.1.3 %s' % exc)
            return
        if self.server.defer_rcpt:
            self.log('RCPT TO:<%s> deferred (--defer-rcpt)' % rcpt)
            self.reply(451, '4.3.0 <%s> temporarily not accepted, try again later (SIMULATOR --defer-rcpt)' % rcpt)
            return
        decision = check_recipient(self.cfg, rcpt)
        if not decision.accepted:
            self.log('RCPT TO:<%s> refused: %s' % (rcpt, decision.reason))
            self.reply(550, '5.7.1 <%s> refused: %s' % (rcpt, decision.reason))
            return
        self.recipients.append(rcpt)
        self.teamware.append(decision.teamware_address)
        self.log('RCPT TO:<%s> accepted (%s), Teamware address %s' % (rcpt, decision.reason, decision.teamware_address))
        self.reply(250, '2.1.5 <%s> ok, Teamware address <%s>' % (rcpt, decision.teamware_address))

    def do_data(self) -> None:
        if self.sender is None:
            self.reply(503, '5.5.1 need MAIL before DATA')
            return
        if not self.recipients:
            self.reply(503, '5.5.1 need RCPT before DATA (no valid recipients)')
            return
        self.reply(354, 'end data with <CR><LF>.<CR><LF>')
        lines: list[bytes] = []
        size = 0
        too_long = too_big = False
        while True:
            content, overflow = self.read_line(MAX_TEXT_LINE)
            if overflow:
                too_long = True
                continue
            if content == b'.':
                break
            if content.startswith(b'.'):
                content = content[1:]
            size += len(content) + 1
            if size > self.server.max_size:
                too_big = True
            if not (too_big or too_long):
                lines.append(content)
        if too_long:
            self.log('DATA refused: line longer than %d octets' % (MAX_TEXT_LINE - 2))
            self.reply(500, '5.5.2 message refused: line longer than %d octets' % (MAX_TEXT_LINE - 2))
        elif too_big:
            self.log('DATA refused: message larger than %d octets' % self.server.max_size)
            self.reply(552, '5.3.4 message size exceeds fixed maximum message size')
        else:
            raw = b''.join(line + b'\n' for line in lines)
            spool = self.server.spool_dir or self.cfg.spool_dir
            try:
                record = store_message(spool, raw, via='smtp', sender=self.sender, recipients=self.recipients,
                                       teamware_addresses=self.teamware, client_address=self.peer, helo=self.helo)
            except OSError as exc:
                self.log('cannot store message in %s: %s' % (spool, exc))
                self.reply(451, '4.3.0 cannot store message, try again later')
            else:
                self.log('message %s stored: from <%s> to %s, %d bytes' % (record['id'], self.sender, ', '.join(
                    '<%s>' % r for r in self.recipients), record['size']))
                self.reply(250, '2.0.0 ok: queued as %s' % record['id'])
        self._reset()


def make_server(root: str, bind: str = '0.0.0.0', port: int = 25, spool_dir: str | None = None, defer_rcpt: bool = False,
                max_size: int = DEFAULT_MAX_SIZE, timeout: float = DEFAULT_TIMEOUT, hostname: str | None = None) -> SimulatorSMTPServer:
    """Create (bind) a SimulatorSMTPServer; call serve_forever() to run it.  port 0 = any free port."""
    return SimulatorSMTPServer((bind, port), root=root, spool_dir=spool_dir, defer_rcpt=defer_rcpt,
                               max_size=max_size, timeout=timeout, hostname=hostname)
