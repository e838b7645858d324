# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pipe lines teamware.qmail writes into .qmail files, built and read back in one place.

routing.py writes them (build_*), the route checks (delivery_programs.py) read them (parse_*):

* the guard: bounce unless a qmail variable matches one of some patterns, whatever the case of its letters (each
  letter of a pattern is written as a bracket of both cases, [tT]: sh matches it without a process; lines of
  earlier versions lower-cased the variable with tr first, and are still read);
* the presence check before torecvm: defer while the program is missing;
* the delivery lines: torecvm (optionally through preline), the qmail-remote wrapper and forward;
* one_line: the checks (guards, presence check) and the delivery joined into ONE pipe line,
  'case ... esac; test -x ... || { ...; }; exec DELIVERY', which is what the collection writes:
  qmail-local starts one sh per pipe line, so one line costs one sh per message instead of one per
  check.  sh runs the checks as builtins and execs the delivery program in its own place, so the
  line exits with a failed check's code (100 bounce, 111 defer) or with the program's own.

build_* return a whole .qmail line ('| ...'); parse_* take the command qmail-local hands to
sh, that is, what follows the '|' (pipe_command of a line).  split_checks reads a command as the
checks at its front and the rest (a joined line, or a check alone on its own line as earlier
versions and hand-made files have them).  Pure Python.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import shlex

GUARD_EXIT = 100
PRESENCE_EXIT = 111

# A check ends the command, or is followed by '; ' and the rest of a joined line.
_END = r'\s*(?:;\s*|$)'
_GUARD_TAIL = r' in (?P<patterns>[^)]*)\) ;; \*\) echo "(?P<message>[^"]*)"; exit (?P<code>\d+) ;; esac' + _END
_GUARD = re.compile(r'\s*case "\$(?P<var>[A-Za-z_][A-Za-z0-9_]*)"' + _GUARD_TAIL)
# The guard of earlier versions: a command substitution and tr (three forks and an exec per line and message).
_GUARD_TR = re.compile(r'\s*case "\$\(printf %s "\$(?P<var>[A-Za-z_][A-Za-z0-9_]*)" \| tr "\[:upper:\]" "\[:lower:\]"\)"'
                       + _GUARD_TAIL)
_GUARD_PATTERN = re.compile(r"^[a-z0-9._*?-]+$")
_FOLDED_LETTER = re.compile(r"\[([a-z])([A-Z])\]")
_PRESENCE = re.compile(r'\s*test -x (?P<path>[^\s;]+) \|\| \{ echo "(?P<message>[^"]*)"; exit (?P<code>\d+); \}' + _END)
_EXEC = re.compile(r"^exec\s+")


def quote(value):
    """Shell-quote an inventory value for a pipe line (validated values come out unchanged)."""
    return shlex.quote(value)


def pipe_command(line):
    """The command of a '|' line: what qmail-local hands to sh."""
    if not line.startswith("|"):
        raise ValueError("not a pipe line: %r" % line)
    return line[1:]


def fold_case(pattern):
    """A lower-case sh pattern that matches whatever the case: each ASCII letter becomes [xX] (tw.?* -> [tT][wW].?*)."""
    return "".join("[%s%s]" % (char, char.upper()) if "a" <= char <= "z" else char for char in pattern)


def unfold_case(pattern):
    """fold_case's pattern read back: [xX] -> x; anything else as it stands."""
    return _FOLDED_LETTER.sub(lambda match: match.group(1) if match.group(2) == match.group(1).upper() else match.group(0),
                              pattern)


def build_guard(variable, patterns, message, code=GUARD_EXIT):
    """A pipe line that exits code (100: bounce) with message unless $variable matches a pattern in any case.

    patterns: lower-case letters, digits, '.', '_', '-' and the wildcards '*' and '?' (domains, a prefix followed by
    ?*).  sh runs the line without starting a process: no command substitution, no tr.
    """
    for pattern in patterns:
        if not _GUARD_PATTERN.match(pattern):
            raise ValueError("guard pattern %r: only lower-case letters, digits, '.', '_', '-', '*' and '?'" % pattern)
    return ('| case "$%s" in %s) ;; *) echo "%s"; exit %d ;; esac'
            % (variable, "|".join(fold_case(pattern) for pattern in patterns), message, code))


def parse_guard(command):
    """A guard's parts, or None when command is no guard (alone): dict variable, patterns (lower case, as given to
    build_guard), message, code, and how sh matches: lower (the variable is lower-cased first: earlier versions'
    tr) and shell_patterns (the patterns as written)."""
    found = _guard_at(command, 0)
    return found[0] if found and found[1] == len(command) else None


def _guard_at(command, start):
    """(the guard's parts, where the text after it starts) when a guard starts at start, else None."""
    match = _GUARD.match(command, start)
    lowered = False
    if not match:
        match = _GUARD_TR.match(command, start)
        lowered = True
    if not match:
        return None
    written = match.group("patterns").split("|")
    return ({"variable": match.group("var"), "patterns": [unfold_case(pattern) for pattern in written],
             "message": match.group("message"), "code": int(match.group("code")),
             "lower": lowered, "shell_patterns": written}, match.end())


def presence_message(path):
    """What the presence check says while path is missing."""
    return "%s is missing; is Teamware Office installed? (#4.3.0)" % path


def build_presence_check(path, message=None, code=PRESENCE_EXIT):
    """A pipe line that exits code (111: defer) while the program at path is missing.

    preline exits 100 (bounce) when it cannot run a missing program; the mail must wait instead.
    """
    if message is None:
        message = presence_message(path)
    return '| test -x %s || { echo "%s"; exit %d; }' % (quote(path), message, code)


def parse_presence_check(command):
    """A presence check's parts (dict path, message, code), or None when command is none (alone)."""
    found = _presence_at(command, 0)
    return found[0] if found and found[1] == len(command) else None


def _presence_at(command, start):
    match = _PRESENCE.match(command, start)
    if not match:
        return None
    return ({"path": match.group("path").strip("'"), "message": match.group("message"),
             "code": int(match.group("code"))}, match.end())


def split_checks(command):
    """The checks at the front of a pipe command, and the rest: ([{"type": "guard" | "presence", "parts": ...,
    "command": its text}], rest).

    rest is what follows the last check ('' for a check alone on its line, as earlier versions wrote them), with
    a leading 'exec' (one_line's) taken off: sh runs the same program with or without it.  A command that starts
    with no check gives ([], rest).
    """
    checks = []
    position = 0
    while position < len(command):
        found = _guard_at(command, position)
        kind = "guard"
        if not found:
            found = _presence_at(command, position)
            kind = "presence"
        if not found:
            break
        text = command[position:found[1]].strip().rstrip(";").rstrip()
        checks.append({"type": kind, "parts": found[0], "command": text})
        position = found[1]
    return checks, _EXEC.sub("", command[position:].strip())


def one_line(lines):
    """The pipe lines (checks, then at most one delivery line) joined into one: 'check; check; exec delivery'.

    Each line but the last must be a check (a guard or a presence check): sh carries on after a check that
    passes, and a check that fails ends the line with its own exit code, as qmail-local stops at a check of its
    own line that exits 100 or 111.  The last line's program is exec'ed: the line exits with its code (99, 100,
    111 and the rest mean what they meant on a line of their own), and sh starts no process for it.
    """
    commands = [pipe_command(line).strip() for line in lines]
    for command in commands[:-1]:
        if parse_guard(command) is None and parse_presence_check(command) is None:
            raise ValueError("only guards and presence checks can come before the delivery of a joined line: %r"
                             % command)
    last = commands[-1]
    if parse_guard(last) is None and parse_presence_check(last) is None and not _EXEC.match(last):
        commands[-1] = "exec " + last
    return "| " + "; ".join(commands)


def build_torecvm_delivery(torecvm, directory, reports, recipient, preline=None):
    """The torecvm line: -d directory -p reports -f "$SENDER" -r recipient (a shell expression), through preline -f."""
    prefix = "%s -f " % quote(preline) if preline else ""
    return '| %s%s -d%s -p%s -f"$SENDER" -r%s' % (prefix, quote(torecvm), quote(directory), reports, recipient)


def parse_torecvm_options(args):
    """torecvm's -d -p -f -r options, attached (-d/to/smtp) or separate (-d /to/smtp); -r may repeat."""
    options = {}
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if len(arg) < 2 or arg[0] != "-" or arg[1] not in "dpfr":
            continue
        value = arg[2:]
        if not value and index < len(args):
            value = args[index]
            index += 1
        if arg[1] == "r":
            options.setdefault("r", []).append(value)
        else:
            options[arg[1]] = value
    return options


def build_smtp_delivery(wrapper, host, recipient):
    """The delivery wrapper's line: wrapper HOST "$SENDER" recipient (a shell expression), qmail-remote's arguments."""
    return '| %s %s "$SENDER" %s' % (quote(wrapper), quote(host), recipient)


def build_forward(forward, target):
    """qmail's forward program with one target (a shell expression)."""
    return "| %s %s" % (quote(forward), target)


def parse_smtp_arguments(argv):
    """qmail-remote's arguments in an argv (program HOST SENDER RECIPIENT...): dict host, sender, recipients, or None
    when there are too few."""
    if len(argv) < 4:
        return None
    return {"host": argv[1], "sender": argv[2], "recipients": argv[3:]}
