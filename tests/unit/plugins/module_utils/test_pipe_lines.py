# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pipe_lines: every pipe line teamware.qmail writes reads back to what it was built from.

routing.py builds the lines, the route checks (delivery_programs.py) parse them; the exact text of
the lines is held by test_routing_document.py against the document's examples.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shutil
import subprocess

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import pipe_lines
from ansible_collections.teamware.qmail.plugins.module_utils import shell_parse

ENV = {"SENDER": "s@x.example", "RECIPIENT": "tw.john@tw.company.com", "LOCAL": "tw.john", "HOST": "tw.company.com",
       "DEFAULT": "john"}


@pytest.mark.parametrize("variable, patterns, message, code", [
    ("HOST", ["tw.company.com"], "Sorry, no mailbox here by that name. (#5.1.1)", 100),
    ("HOST", ["tw.company.com", "*.tw.company.com", "other.example"], "Sorry, no mailbox here by that name. (#5.1.1)", 100),
    ("LOCAL", ["tw.*"], "Sorry, no mailbox here by that name. (#5.1.1)", 100),
    ("LOCAL", ["tw_2-x.?*"], "Sorry, no mailbox here by that name. (#5.1.1)", 100),
    ("EXT2", ["a?b", "?*"], "try later (#4.3.0)", 111),
])
def test_guard_round_trip(variable, patterns, message, code):
    line = pipe_lines.build_guard(variable, patterns, message, code)
    parsed = pipe_lines.parse_guard(pipe_lines.pipe_command(line))
    assert parsed == {"variable": variable, "patterns": patterns, "message": message, "code": code,
                      "lower": False, "shell_patterns": [pipe_lines.fold_case(pattern) for pattern in patterns]}
    assert pipe_lines.parse_presence_check(pipe_lines.pipe_command(line)) is None


def test_guard_is_one_case_without_a_process():
    """Each letter in both cases: sh matches it itself (no command substitution, no tr: no fork, no exec)."""
    line = pipe_lines.build_guard("LOCAL", ["tw.?*"], "no")
    assert line == '| case "$LOCAL" in [tT][wW].?*) ;; *) echo "no"; exit 100 ;; esac'
    assert "$(" not in line and "tr " not in line


@pytest.mark.parametrize("pattern", ["Tw.company.com", "[xy]*", "a b", "a)b", "a|b", 'a"b', "a$b", ""])
def test_guard_refuses_patterns_it_cannot_fold(pattern):
    with pytest.raises(ValueError, match="guard pattern"):
        pipe_lines.build_guard("HOST", [pattern], "no")


def test_guard_of_earlier_versions_is_still_read():
    """Hosts configured by an earlier version (and hand-made copies of it) lower-case the variable with tr."""
    command = ('case "$(printf %s "$HOST" | tr "[:upper:]" "[:lower:]")" in tw.company.com|other.example) ;; '
               '*) echo "Sorry, no mailbox here by that name. (#5.1.1)"; exit 100 ;; esac')
    assert pipe_lines.parse_guard(command) == {
        "variable": "HOST", "patterns": ["tw.company.com", "other.example"],
        "message": "Sorry, no mailbox here by that name. (#5.1.1)", "code": 100,
        "lower": True, "shell_patterns": ["tw.company.com", "other.example"]}


def test_hand_made_guard_without_tr_is_read_case_sensitive():
    """A guard without tr whose letters are not folded matches case-sensitively in sh, and is read that way."""
    parsed = pipe_lines.parse_guard('case "$HOST" in Company.com|[tT]w.example) ;; *) echo "x"; exit 100 ;; esac')
    assert parsed["lower"] is False
    assert parsed["patterns"] == ["Company.com", "tw.example"]
    assert parsed["shell_patterns"] == ["Company.com", "[tT]w.example"]


SH = shutil.which("sh")


@pytest.mark.skipif(SH is None, reason="no /bin/sh")
@pytest.mark.parametrize("variable, patterns, value", [
    ("HOST", ["tw.company.com"], "tw.company.com"),
    ("HOST", ["tw.company.com"], "TW.Company.COM"),
    ("HOST", ["tw.company.com"], "tw.company.com.evil"),
    ("HOST", ["tw.company.com"], "twXcompany.com"),
    ("HOST", ["company.com", "tw.company.com"], "Company.com"),
    ("LOCAL", ["tw.?*"], "Tw.John"),
    ("LOCAL", ["tw.?*"], "tw."),
    ("LOCAL", ["tw.?*"], "TW."),
    ("LOCAL", ["tw.?*"], "john"),
    ("LOCAL", ["tw.?*"], 'tw.a;id$(x)"`'),
    ("DEFAULT", ["?*"], ""),
    ("DEFAULT", ["?*"], "john"),
])
def test_guard_in_real_sh_agrees_with_the_route_check(variable, patterns, value):
    """The line run by a real sh (as qmail-local runs it) exits as the route check's reading of it says."""
    from ansible_collections.teamware.qmail.plugins.module_utils import delivery_programs
    line = pipe_lines.build_guard(variable, patterns, "no mailbox")
    env = {"PATH": "/usr/bin:/bin", variable: value}
    done = subprocess.run([SH, "-c", pipe_lines.pipe_command(line)], env=env, stdout=subprocess.PIPE, check=False)
    effect = delivery_programs._guard_effect(pipe_lines.parse_guard(pipe_lines.pipe_command(line)), env)
    assert (done.returncode, effect["kind"]) in ((0, "pass"), (100, "bounce"))
    if done.returncode == 100:
        assert done.stdout == b"no mailbox\n"


def test_guard_default_exit_bounces():
    assert pipe_lines.parse_guard(pipe_lines.pipe_command(pipe_lines.build_guard("HOST", ["a"], "no")))["code"] == 100


@pytest.mark.parametrize("path", ["/usr/bin/torecvm", "/opt/teamware/bin/torecvm", "/opt/tw~1/torecvm"])
def test_presence_check_round_trip(path):
    line = pipe_lines.build_presence_check(path)
    assert pipe_lines.parse_presence_check(pipe_lines.pipe_command(line)) == {
        "path": path, "message": pipe_lines.presence_message(path), "code": 111}
    assert pipe_lines.parse_guard(pipe_lines.pipe_command(line)) is None
    custom = pipe_lines.build_presence_check(path, "gone", 75)
    assert pipe_lines.parse_presence_check(pipe_lines.pipe_command(custom)) == {"path": path, "message": "gone", "code": 75}


def _argv(line):
    shell = shell_parse.parse_shell(pipe_lines.pipe_command(line), ENV)
    assert shell.simple
    return shell.words


@pytest.mark.parametrize("preline", [None, "/var/qmail/bin/preline"])
@pytest.mark.parametrize("recipient, expected", [
    ('"$RECIPIENT"', "tw.john@tw.company.com"),
    ('"$DEFAULT"@"$HOST"', "john@tw.company.com"),
    ('"$LOCAL"@tw.example', "tw.john@tw.example"),
])
def test_torecvm_delivery_round_trip(preline, recipient, expected):
    line = pipe_lines.build_torecvm_delivery("/usr/bin/torecvm", "/to/smtp", "A", recipient, preline=preline)
    argv = _argv(line)
    if preline:
        assert argv[:2] == [preline, "-f"]
        argv = argv[2:]
    assert argv[0] == "/usr/bin/torecvm"
    assert pipe_lines.parse_torecvm_options(argv[1:]) == {"d": "/to/smtp", "p": "A", "f": ENV["SENDER"], "r": [expected]}


def test_torecvm_options_separate_and_repeated():
    assert pipe_lines.parse_torecvm_options(["-d", "/to/smtp", "-x", "-rA", "-r", "B"]) == {"d": "/to/smtp", "r": ["A", "B"]}


@pytest.mark.parametrize("host", ["tw.server.company.com", "[192.0.2.7]"])
def test_smtp_delivery_round_trip(host):
    line = pipe_lines.build_smtp_delivery("/usr/local/bin/teamware-qmail-remote", host, '"$RECIPIENT"')
    argv = _argv(line)
    assert argv[0] == "/usr/local/bin/teamware-qmail-remote"
    assert pipe_lines.parse_smtp_arguments(argv) == {"host": host, "sender": ENV["SENDER"], "recipients": [ENV["RECIPIENT"]]}
    assert pipe_lines.parse_smtp_arguments(argv[:3]) is None


def test_forward_round_trip():
    line = pipe_lines.build_forward("/var/qmail/bin/forward", '"$LOCAL"@tw.example')
    assert _argv(line) == ["/var/qmail/bin/forward", "tw.john@tw.example"]


def test_pipe_command_needs_a_pipe_line():
    assert pipe_lines.pipe_command("| true") == " true"
    with pytest.raises(ValueError):
        pipe_lines.pipe_command("&someone@example.com")


# ---------------------------------------------------------------- one pipe line: the checks and the delivery joined

HOST_GUARD = pipe_lines.build_guard("HOST", ["company.com"], "Sorry, no mailbox here by that name. (#5.1.1)")
PREFIX_GUARD = pipe_lines.build_guard("LOCAL", ["tw.?*"], "Sorry, no mailbox here by that name. (#5.1.1)")
WRAPPER_LINE = pipe_lines.build_smtp_delivery("/usr/local/bin/teamware-qmail-remote", "tw.server.company.com",
                                              '"$LOCAL"@tw.company.com')
# ~alias/.qmail-default of smtp_alias with user routing, as the previous version wrote it: a sh per line
PREVIOUS_VERSION = [
    '| case "$HOST" in [cC][oO][mM][pP][aA][nN][yY].[cC][oO][mM]) ;; *) echo "Sorry, no mailbox here by that name. '
    '(#5.1.1)"; exit 100 ;; esac',
    '| case "$LOCAL" in [tT][wW].?*) ;; *) echo "Sorry, no mailbox here by that name. (#5.1.1)"; exit 100 ;; esac',
    '| /usr/local/bin/teamware-qmail-remote tw.server.company.com "$SENDER" "$LOCAL"@tw.company.com',
]


def test_one_line_joins_the_checks_and_execs_the_delivery():
    line = pipe_lines.one_line([HOST_GUARD, PREFIX_GUARD, WRAPPER_LINE])
    assert line == ("| " + pipe_lines.pipe_command(PREVIOUS_VERSION[0]).strip() + "; "
                    + pipe_lines.pipe_command(PREVIOUS_VERSION[1]).strip() + "; exec "
                    + pipe_lines.pipe_command(PREVIOUS_VERSION[2]).strip())
    assert pipe_lines.one_line([WRAPPER_LINE]) == "| exec " + pipe_lines.pipe_command(WRAPPER_LINE).strip()
    assert pipe_lines.one_line([HOST_GUARD]) == HOST_GUARD


def test_one_line_takes_only_checks_before_the_delivery():
    """A program before the delivery would lose its exit code (99, 100, 111) on a joined line: refused."""
    with pytest.raises(ValueError, match="only guards and presence checks"):
        pipe_lines.one_line([HOST_GUARD, "| /bin/true", WRAPPER_LINE])


@pytest.mark.parametrize("lines", [PREVIOUS_VERSION, [pipe_lines.one_line(PREVIOUS_VERSION)]], ids=["separate", "joined"])
def test_split_checks_reads_the_previous_versions_lines_and_the_joined_line_alike(lines):
    checks = []
    rests = []
    for line in lines:
        found, rest = pipe_lines.split_checks(pipe_lines.pipe_command(line))
        checks += found
        rests += [rest] if rest else []
    assert [(check["type"], check["parts"]["variable"], check["parts"]["patterns"]) for check in checks] == [
        ("guard", "HOST", ["company.com"]), ("guard", "LOCAL", ["tw.?*"])]
    assert [check["command"] for check in checks] == [pipe_lines.pipe_command(line).strip() for line in PREVIOUS_VERSION[:2]]
    assert rests == ['/usr/local/bin/teamware-qmail-remote tw.server.company.com "$SENDER" "$LOCAL"@tw.company.com']


def test_split_checks_of_a_torecvm_line_and_of_lines_without_checks():
    presence = pipe_lines.build_presence_check("/opt/tw~1/torecvm")
    delivery = pipe_lines.build_torecvm_delivery("/opt/tw~1/torecvm", "/to/smtp", "A", '"$RECIPIENT"', "/var/qmail/bin/preline")
    checks, rest = pipe_lines.split_checks(pipe_lines.pipe_command(pipe_lines.one_line([HOST_GUARD, presence, delivery])))
    assert [check["type"] for check in checks] == ["guard", "presence"]
    assert checks[1]["parts"] == {"path": "/opt/tw~1/torecvm", "message": pipe_lines.presence_message("/opt/tw~1/torecvm"),
                                  "code": 111}
    assert rest == pipe_lines.pipe_command(delivery).strip()
    assert pipe_lines.split_checks(" exec /bin/cat") == ([], "/bin/cat")
    assert pipe_lines.split_checks(" /usr/bin/procmail -d x") == ([], "/usr/bin/procmail -d x")
    # a guard glued to a program by && is no check of the collection: the line is read as one program
    glued = pipe_lines.pipe_command(HOST_GUARD) + " && /bin/cat"
    assert pipe_lines.split_checks(glued) == ([], glued.strip())
    assert pipe_lines.parse_guard(pipe_lines.pipe_command(pipe_lines.one_line([HOST_GUARD, WRAPPER_LINE]))) is None


class _View:
    @staticmethod
    def exists(path):
        import os
        return os.path.exists(path)


def _stand_in(tmp_path, name="forward"):
    """A delivery program that records its argv (NUL-separated) and stdin and exits with $STAND_IN_EXIT."""
    path = tmp_path / name
    path.write_text('#!/bin/sh\nfor a in "$@"; do printf "%%s\\0" "$a"; done > %s.args\ncat > %s.stdin\n'
                    'echo "stand-in says $STAND_IN_EXIT"\nexit "$STAND_IN_EXIT"\n' % (path, path))
    path.chmod(0o755)
    return str(path)


def _run_joined(line, env, stdin=b"From: a@b\n\nbody\n"):
    done = subprocess.run([SH, "-c", pipe_lines.pipe_command(line)], env=dict(env, PATH="/usr/bin:/bin"), input=stdin,
                          stdout=subprocess.PIPE, check=False)
    return done.returncode, done.stdout


def _route_check(line, env):
    from ansible_collections.teamware.qmail.plugins.module_utils import delivery_programs
    programs = delivery_programs.Programs(_View(), None, ())
    result = {"warnings": [], "notes": []}
    return programs.effect(pipe_lines.pipe_command(line), env, {"user": "alias", "dot_qmail": ".qmail-default"}, result)


@pytest.mark.skipif(SH is None, reason="no /bin/sh")
@pytest.mark.parametrize("host, local, passes", [
    ("company.com", "tw.john", True),
    ("Company.COM", "TW.John", True),
    ("company.com", 'tw.a;id$(x)"`\\ b', True),
    ("company.com", "tw.", False),
    ("company.com", "john", False),
    ("other.example", "tw.john", False),
    ("company.com.evil", "tw.john", False),
])
@pytest.mark.parametrize("code", [0, 99, 100, 111])
def test_joined_line_in_real_sh_agrees_with_the_route_check(tmp_path, host, local, passes, code):
    """One sh runs the guards and execs the delivery: a guard that fails bounces (100, its message) before the
    program runs; otherwise the line exits with the program's own code (0 and 99 pass, 100 bounces, 111 defers), the
    program gets the message on stdin and its arguments as plain text, whatever the local part holds."""
    forward = _stand_in(tmp_path)
    line = pipe_lines.one_line([HOST_GUARD, PREFIX_GUARD, pipe_lines.build_forward(forward, '"$LOCAL"@tw.company.com')])
    env = {"HOST": host, "LOCAL": local, "SENDER": "s@x.example", "STAND_IN_EXIT": str(code)}
    returncode, said = _run_joined(line, env)
    effect = _route_check(line, env)
    if not passes:
        assert (returncode, said) == (100, b"Sorry, no mailbox here by that name. (#5.1.1)\n")
        assert effect["kind"] == "bounce" and effect["dest"]["reason"].startswith("Sorry, no mailbox")
        assert not (tmp_path / "forward.args").exists()
        return
    assert (returncode, said) == (code, b"stand-in says %d\n" % code)
    assert (tmp_path / "forward.args").read_bytes() == ("%s@tw.company.com\0" % local).encode()
    assert (tmp_path / "forward.stdin").read_bytes() == b"From: a@b\n\nbody\n"
    assert effect["kind"] == "deliver" and effect["dest"]["targets"] == [{"address": local + "@tw.company.com"}]
    assert [check["guard"] for check in effect["entry"]["checks"]] == ["pass", "pass"]


@pytest.mark.skipif(SH is None, reason="no /bin/sh")
def test_joined_torecvm_line_defers_while_the_program_is_missing(tmp_path):
    missing = str(tmp_path / "torecvm")
    line = pipe_lines.one_line([pipe_lines.build_guard("DEFAULT", ["?*"], "no mailbox"),
                                pipe_lines.build_presence_check(missing),
                                pipe_lines.build_torecvm_delivery(missing, "/to/smtp", "A", '"$RECIPIENT"')])
    env = {"DEFAULT": "john", "RECIPIENT": "tw.john@company.com", "SENDER": ""}
    assert _run_joined(line, env) == (111, (pipe_lines.presence_message(missing) + "\n").encode())
    effect = _route_check(line, env)
    assert effect["kind"] == "defer" and effect["dest"]["reason"] == pipe_lines.presence_message(missing)
    assert [check.get("guard") for check in effect["entry"]["checks"]] == ["pass", "fail"]
    assert _run_joined(line, dict(env, DEFAULT=""))[0] == 100


@pytest.mark.skipif(SH is None, reason="no /bin/sh")
def test_a_joined_line_whose_program_is_gone_defers(tmp_path):
    """exec of a missing program: sh exits 127, which qmail-local takes as a deferral, never as delivered."""
    line = pipe_lines.one_line([HOST_GUARD, pipe_lines.build_forward(str(tmp_path / "gone"), '"$LOCAL"')])
    returncode, _said = _run_joined(line, {"HOST": "company.com", "LOCAL": "tw.john"})
    assert returncode == 127
    from ansible_collections.teamware.qmail.plugins.module_utils import delivery_programs
    assert delivery_programs.exit_kind(returncode) == "defer"
