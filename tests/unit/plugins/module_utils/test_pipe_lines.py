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
