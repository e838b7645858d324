# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pipe_lines: every pipe line teamware.qmail writes reads back to what it was built from.

routing.py builds the lines, the route checks (delivery_programs.py) parse them; the exact text of
the lines is held by test_routing_document.py against the document's examples.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import pipe_lines
from ansible_collections.teamware.qmail.plugins.module_utils import shell_parse

ENV = {"SENDER": "s@x.example", "RECIPIENT": "tw.john@tw.company.com", "LOCAL": "tw.john", "HOST": "tw.company.com",
       "DEFAULT": "john"}


@pytest.mark.parametrize("variable, patterns, message, code", [
    ("HOST", ["tw.company.com"], "Sorry, no mailbox here by that name. (#5.1.1)", 100),
    ("HOST", ["tw.company.com", "*.tw.company.com", "other.example"], "Sorry, no mailbox here by that name. (#5.1.1)", 100),
    ("LOCAL", ["tw.*"], "Sorry, no mailbox here by that name. (#5.1.1)", 100),
    ("EXT2", ["a?b", "[xy]*"], "try later (#4.3.0)", 111),
])
def test_guard_round_trip(variable, patterns, message, code):
    line = pipe_lines.build_guard(variable, patterns, message, code)
    assert pipe_lines.parse_guard(pipe_lines.pipe_command(line)) == {
        "variable": variable, "patterns": patterns, "message": message, "code": code}
    assert pipe_lines.parse_presence_check(pipe_lines.pipe_command(line)) is None


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
