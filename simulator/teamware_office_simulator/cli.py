"""Command line of the Teamware Office MIME connector SIMULATOR (tests only).

``teamware-office-simulator`` is NOT Teamware Office.  Sub-commands:

* ``serve``   run the simulated SMTP listener of the MIME connector;
* ``list``    show the messages the simulator accepted (``--json`` for tools);
* ``wait``    wait until the spool holds at least N messages;
* ``clear``   delete the stored messages;
* ``config``  show how the simulator reads to.ini and tombsmtp.ini;
* ``check``   apply the acceptance rule to addresses;
* ``torecvm`` the simulated torecvm (same as bin/torecvm).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading

from . import BANNER, SIMULATOR_NAME, __version__
from . import store, torecvm
from .config import ConfigError, check_recipient, load_config
from .smtp_server import DEFAULT_MAX_SIZE, DEFAULT_TIMEOUT, make_server

EXIT_CONFIG = 2
DEFAULT_ROOT = '/to'

LOG = logging.getLogger('teamware_office_simulator')


def _setup_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter('%(asctime)s ' + SIMULATOR_NAME + '[%(process)d]: %(message)s'))
    LOG.addHandler(handler)
    LOG.setLevel(logging.INFO)
    LOG.propagate = False


def _error(text: str) -> None:
    sys.stderr.write('%s: %s\n' % (SIMULATOR_NAME, text))


def _spool_of(args: argparse.Namespace) -> str:
    if getattr(args, 'spool', None):
        return args.spool
    return os.path.join(args.root, 'smtp')


def _write_file(path: str, text: str) -> None:
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as handle:
        handle.write(text)
    os.replace(tmp, path)


def cmd_serve(args: argparse.Namespace) -> int:
    _setup_logging()
    try:
        cfg = load_config(args.root)
    except ConfigError as exc:
        _error('refusing to start: %s' % exc)
        return EXIT_CONFIG
    if cfg.sendmail:
        _error('refusing to start: %s/to.ini [MIME] sendmail = 1 means Teamware Office is configured as if '
               'sendmail is installed: inbound mail arrives through torecvm and no SMTP listener runs' % args.root)
        return EXIT_CONFIG
    port = args.port if args.port is not None else cfg.smtp_port
    spool = args.spool or cfg.spool_dir
    try:
        os.makedirs(spool, exist_ok=True)
    except OSError as exc:
        _error('refusing to start: cannot create spool directory %s: %s' % (spool, exc))
        return EXIT_CONFIG
    try:
        server = make_server(args.root, bind=args.bind, port=port, spool_dir=spool, defer_rcpt=args.defer_rcpt,
                             max_size=args.max_size, timeout=args.timeout, hostname=args.hostname)
    except OSError as exc:
        _error('cannot listen on %s port %s: %s' % (args.bind, port, exc))
        return 1
    stop = threading.Event()

    def _on_signal(signum, _frame):
        LOG.info('signal %d received, stopping', signum)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        if args.pidfile:
            _write_file(args.pidfile, '%d\n' % os.getpid())
        if args.port_file:
            _write_file(args.port_file, '%d\n' % server.port)
        thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.1}, name='smtp-listener', daemon=True)
        thread.start()
        LOG.info('%s %s listening on %s port %d, root %s, spool %s, mode=%s%s', BANNER, __version__, args.bind,
                 server.port, args.root, spool, cfg.mode, ', deferring every RCPT (--defer-rcpt)' if args.defer_rcpt else '')
        while not stop.wait(0.5):
            if not thread.is_alive():
                LOG.info('listener thread ended unexpectedly')
                return 1
        server.shutdown()
        thread.join(5)
        LOG.info('stopped')
        return 0
    finally:
        server.server_close()
        for path in (args.pidfile, args.port_file):
            if path:
                try:
                    os.unlink(path)
                except OSError:
                    pass


def _describe(record: dict) -> str:
    rcpts = ', '.join('%s%s' % (r, '' if t in (None, r) else ' (Teamware %s)' % t)
                      for r, t in zip(record.get('recipients') or [], record.get('teamware_addresses') or []))
    sender = record.get('sender')
    return '%s %s via=%s from=<%s> to=%s return-path=%s subject=%r' % (
        record.get('received_at'), record.get('id'), record.get('via'),
        '' if sender is None else sender, rcpts, record.get('return_path'), record.get('subject'))


def cmd_list(args: argparse.Namespace) -> int:
    messages = store.list_messages(_spool_of(args))
    if args.json:
        sys.stdout.write(json.dumps(messages, indent=2, sort_keys=True) + '\n')
    else:
        for record in messages:
            sys.stdout.write(_describe(record) + '\n')
    return 0


def cmd_wait(args: argparse.Namespace) -> int:
    messages = store.wait_for_messages(_spool_of(args), count=args.count, timeout=args.timeout)
    if args.json:
        sys.stdout.write(json.dumps(messages, indent=2, sort_keys=True) + '\n')
    else:
        sys.stdout.write('%d message(s)\n' % len(messages))
    return 0 if len(messages) >= args.count else 1


def cmd_clear(args: argparse.Namespace) -> int:
    count = store.clear(_spool_of(args))
    sys.stdout.write('removed %d message(s)\n' % count)
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    try:
        cfg = load_config(args.root)
    except ConfigError as exc:
        _error(str(exc))
        return EXIT_CONFIG
    sys.stdout.write(json.dumps(cfg.as_dict(), indent=2, sort_keys=True) + '\n')
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    try:
        cfg = load_config(args.root)
    except ConfigError as exc:
        _error(str(exc))
        return EXIT_CONFIG
    decisions = [check_recipient(cfg, address) for address in args.address]
    if args.json:
        sys.stdout.write(json.dumps([d.__dict__ for d in decisions], indent=2, sort_keys=True) + '\n')
    else:
        for d in decisions:
            if d.accepted:
                sys.stdout.write('accepted %s -> Teamware address %s: %s\n' % (d.address, d.teamware_address, d.reason))
            else:
                sys.stdout.write('refused  %s: %s\n' % (d.address, d.reason))
    return 0 if all(d.accepted for d in decisions) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=SIMULATOR_NAME,
        description='%s. For tests of the teamware.qmail collection only: it imitates the MIME connector '
                    '(SMTP listener, torecvm, to.ini/tombsmtp.ini acceptance rules) and stores what it accepts.' % BANNER)
    parser.add_argument('--version', action='version', version='%(prog)s ' + __version__ + ' (SIMULATOR)')
    sub = parser.add_subparsers(dest='command', metavar='COMMAND')
    sub.required = True

    def with_root(p: argparse.ArgumentParser) -> None:
        p.add_argument('--root', default=DEFAULT_ROOT, help='Teamware Office root with to.ini and tombsmtp.ini (default %(default)s)')

    def with_spool(p: argparse.ArgumentParser) -> None:
        with_root(p)
        p.add_argument('--spool', help='message directory (default ROOT/smtp)')

    p = sub.add_parser('serve', help='run the simulated SMTP listener (SIMULATOR, not Teamware Office)',
                       description='Run the SMTP listener of the MIME connector SIMULATOR. Refuses to start (exit 2) when '
                                   'to.ini [MIME] says sendmail = 1. Stops cleanly on SIGTERM/SIGINT.')
    with_spool(p)
    p.add_argument('--bind', default='0.0.0.0', help='address to listen on (default %(default)s)')
    p.add_argument('--port', type=int, help='port to listen on (default: to.ini [MIME] smtp_port, else 25; 0 = any free port)')
    p.add_argument('--pidfile', help='write the process id to this file (removed on exit)')
    p.add_argument('--port-file', help='write the port actually bound to this file (useful with --port 0)')
    p.add_argument('--defer-rcpt', action='store_true', help='answer every RCPT TO with 451 (simulate a temporary failure)')
    p.add_argument('--max-size', type=int, default=DEFAULT_MAX_SIZE, help='largest message accepted, in bytes (default %(default)s)')
    p.add_argument('--timeout', type=float, default=DEFAULT_TIMEOUT, help='idle timeout of a session in seconds (default %(default)s)')
    p.add_argument('--hostname', help='name used in the greeting (default: this host name)')
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser('list', help='list the messages the simulator accepted')
    with_spool(p)
    p.add_argument('--json', action='store_true', help='print the JSON records')
    p.set_defaults(func=cmd_list)

    p = sub.add_parser('wait', help='wait until the spool holds at least COUNT messages (exit 1 on timeout)')
    with_spool(p)
    p.add_argument('--count', type=int, default=1, help='number of messages to wait for (default %(default)s)')
    p.add_argument('--timeout', type=float, default=30.0, help='seconds (default %(default)s)')
    p.add_argument('--json', action='store_true', help='print the JSON records')
    p.set_defaults(func=cmd_wait)

    p = sub.add_parser('clear', help='delete the messages the simulator stored')
    with_spool(p)
    p.set_defaults(func=cmd_clear)

    p = sub.add_parser('config', help='print how the simulator reads to.ini and tombsmtp.ini (JSON)')
    with_root(p)
    p.set_defaults(func=cmd_config)

    p = sub.add_parser('check', help='apply the acceptance rule to addresses (exit 1 if one is refused)')
    with_root(p)
    p.add_argument('--json', action='store_true', help='print the decisions as JSON')
    p.add_argument('address', nargs='+', help='recipient address local@domain')
    p.set_defaults(func=cmd_check)

    sub.add_parser('torecvm', help='the simulated torecvm, e.g. torecvm -d/to/smtp -pA -f"$SENDER" -r"$RECIPIENT"',
                   add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of bin/teamware-office-simulator and ``python3 -m teamware_office_simulator``."""
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == 'torecvm':
        return torecvm.main(argv[1:])
    args = build_parser().parse_args(argv)
    return args.func(args)
