"""``torecvm`` of the Teamware Office MIME connector SIMULATOR (tests only).

This is NOT the real Teamware Office torecvm.  It accepts the command line of
section 5.1 of "Integrating Qmail with Teamware Office"::

    | /usr/bin/torecvm -d/to/smtp -pA -f"$SENDER" -r"$RECIPIENT"

reads the message from standard input, applies the simulated acceptance rule
of ``to.ini``/``tombsmtp.ini`` to each recipient and stores the message with
its envelope in the ``-d`` directory.  Exit codes follow qmail's rules for
delivery programs: 0 delivered, 100 permanent failure (qmail bounces),
111 temporary failure (qmail retries).  What it prints on stdout ends up in
qmail's log or in the bounce.
"""

from __future__ import annotations

import os
import sys

from . import BANNER
from .config import ConfigError, check_recipient, load_config
from .store import store_message

EXIT_OK = 0
EXIT_PERMANENT = 100
EXIT_TEMPORARY = 111

REPORT_OPTIONS = ('A', 'F', 'N')
QMAIL_ENV = ('SENDER', 'NEWSENDER', 'RECIPIENT', 'USER', 'HOME', 'HOST', 'HOST2', 'HOST3', 'HOST4',
             'LOCAL', 'EXT', 'EXT2', 'EXT3', 'EXT4', 'DEFAULT', 'DTLINE', 'RPLINE', 'UFLINE')
PREFIX = 'torecvm SIMULATOR: '

USAGE = """\
usage: torecvm -dSPOOLDIR [-pA|-pF|-pN] [-fSENDER] -rRECIPIENT [-rRECIPIENT...] [--root DIR] < message

%s: this program only imitates Teamware Office's torecvm for tests.

Options must be written in the attached form of the integration document:
  -d/to/smtp     directory where message files are written (must exist, else exit 111)
  -pA, -pF, -pN  delivery reports: All (default), Failure only, None
  -f"$SENDER"    envelope sender; a bare -f is the empty sender <> of a bounce
  -r"$RECIPIENT" recipient, may be repeated; a bare -r or no -r at all is
                 a missing recipient (exit 100)
  --root DIR     Teamware Office root holding to.ini and tombsmtp.ini
                 (default: the parent of the -d directory)

Exit codes: 0 stored, 100 permanent failure (recipient missing or refused by
the to.ini/tombsmtp.ini acceptance rule), 111 temporary failure (bad command
line, missing directory, unreadable configuration, write error, any other
error).
""" % BANNER


class TemporaryFailure(Exception):
    """qmail should retry (exit 111)."""


class PermanentFailure(Exception):
    """qmail should bounce (exit 100)."""


class Arguments:
    """Parsed torecvm command line."""

    def __init__(self) -> None:
        self.spool_dir: str | None = None
        self.reports: str = 'A'
        self.sender: str | None = None
        self.recipients: list[str] = []
        self.empty_recipient = False
        self.root: str | None = None


def parse_args(argv: list[str]) -> Arguments:
    """Parse torecvm options (attached form).  Raises TemporaryFailure on a bad command line."""
    args = Arguments()
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == '--root':
            if i >= len(argv):
                raise TemporaryFailure('option --root needs a directory')
            args.root = argv[i]
            i += 1
        elif arg.startswith('--root='):
            args.root = arg[len('--root='):]
        elif arg.startswith('-d'):
            if not arg[2:]:
                raise TemporaryFailure('option -d needs a directory, written attached: -d/to/smtp')
            args.spool_dir = arg[2:]
        elif arg.startswith('-p'):
            value = arg[2:]
            if value not in REPORT_OPTIONS:
                raise TemporaryFailure('option -p%s: expected -pA, -pF or -pN' % value)
            args.reports = value
        elif arg.startswith('-f'):
            # "-f" alone is the empty envelope sender: never consume the next argument
            args.sender = arg[2:]
        elif arg.startswith('-r'):
            if arg[2:]:
                args.recipients.append(arg[2:])
            else:
                args.empty_recipient = True
        else:
            raise TemporaryFailure('unexpected argument %r (unquoted variable in the .qmail line?)' % arg)
    if args.spool_dir is None:
        raise TemporaryFailure('option -d (message directory) is missing')
    return args


def _say(text: str) -> None:
    try:
        sys.stdout.write(PREFIX + text + '\n')
        sys.stdout.flush()
    except Exception:  # nothing useful can be done if stdout is gone
        pass


def deliver(argv: list[str], stdin: bytes | None = None) -> tuple[int, dict | None]:
    """Run torecvm; return (exit code, stored JSON record or None).  Never raises."""
    try:
        return _deliver(argv, stdin)
    except TemporaryFailure as exc:
        _say('temporary failure: %s' % exc)
        return EXIT_TEMPORARY, None
    except PermanentFailure as exc:
        _say('permanent failure: %s' % exc)
        return EXIT_PERMANENT, None
    except BaseException as exc:  # never lose mail: any surprise is a temporary failure
        _say('temporary failure: internal error: %s: %s' % (type(exc).__name__, exc))
        return EXIT_TEMPORARY, None


def _deliver(argv: list[str], stdin: bytes | None) -> tuple[int, dict | None]:
    args = parse_args(argv)
    spool_dir = args.spool_dir or ''
    if not os.path.isdir(spool_dir):
        raise TemporaryFailure('message directory %s does not exist' % spool_dir)
    root = args.root or os.path.dirname(os.path.abspath(spool_dir).rstrip('/')) or '/'
    if stdin is None:
        stdin = sys.stdin.buffer.read()
    if args.empty_recipient or not args.recipients:
        raise PermanentFailure('recipient missing (empty or no -r option)')
    try:
        cfg = load_config(root)
    except ConfigError as exc:
        raise TemporaryFailure('configuration error: %s' % exc) from None
    teamware = []
    for rcpt in args.recipients:
        decision = check_recipient(cfg, rcpt)
        if not decision.accepted:
            raise PermanentFailure('recipient %s refused: %s' % (rcpt, decision.reason))
        teamware.append(decision.teamware_address)
    extra = {
        'argv': list(argv),
        'spool_dir': os.path.abspath(spool_dir),
        'root': root,
        'uid': os.getuid(),
        'gid': os.getgid(),
        'qmail_env': {name: os.environ[name] for name in QMAIL_ENV if name in os.environ},
    }
    try:
        record = store_message(spool_dir, stdin, via='torecvm', sender=args.sender, recipients=args.recipients,
                               teamware_addresses=teamware, reports=args.reports, extra=extra)
    except OSError as exc:
        raise TemporaryFailure('cannot write message to %s: %s' % (spool_dir, exc)) from None
    _say('stored message %s for %s (Teamware address %s)' % (record['id'], ', '.join(args.recipients), ', '.join(str(t) for t in teamware)))
    return EXIT_OK, record


def main(argv: list[str] | None = None) -> int:
    """Entry point of bin/torecvm."""
    try:
        if argv is None:
            argv = sys.argv[1:]
        if argv in (['-h'], ['--help']):
            sys.stdout.write(USAGE)
            return EXIT_OK
        code, _record = deliver(argv)
        return code
    except BaseException:  # belt and braces: never exit 1 with a traceback
        return EXIT_TEMPORARY


if __name__ == '__main__':
    sys.exit(main())
