# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a '|' line of a .qmail file does: the guards and presence checks teamware.qmail writes
(pipe_lines.py), torecvm, qmail-remote and its wrapper, forward, bouncesaying, true and exit.

Pure Python; the line is split as sh would (shell_parse.py), programs are looked for through a
qmail_host.HostView and hosts in smtproutes through a qmail_config.QmailConfig.  router.py calls
Programs.effect for each pipe line.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import posixpath
import re

from ansible_collections.teamware.qmail.plugins.module_utils import pipe_lines
from ansible_collections.teamware.qmail.plugins.module_utils import route_summary
from ansible_collections.teamware.qmail.plugins.module_utils import shell_parse
from ansible_collections.teamware.qmail.plugins.module_utils.qmail_config import lower

# Variables a remote sender controls (through the envelope), which a pipe must quote.
SENDER_CONTROLLED = ("SENDER", "NEWSENDER", "RECIPIENT", "LOCAL", "DEFAULT", "EXT", "EXT2", "EXT3", "EXT4",
                     "HOST", "HOST2", "HOST3", "HOST4")
BOUNCE_CODES = (100, 64, 65, 70, 76, 77, 78, 112)

_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def exit_kind(code):
    """What qmail-local makes of a program's exit code: bounce, pass (0 and 99) or defer."""
    if code in BOUNCE_CODES:
        return "bounce"
    return "pass" if code in (0, 99) else "defer"


class Programs:
    """The delivery programs of one host: view (qmail_host.HostView), config (qmail_config.QmailConfig) and
    the paths of the qmail-remote wrappers (delivery_wrappers)."""

    def __init__(self, view, config, delivery_wrappers):
        self.view = view
        self.config = config
        self.delivery_wrappers = delivery_wrappers

    def effect(self, command, env, info, result):
        """What a '|' line does.  Returns {"kind": deliver|pass|bounce|defer, "dest": ..., "entry": ...}.

        command: the line after '|'; env: qmail-local's environment; info: the local delivery (user, dot_qmail);
        warnings and notes are added to result.  The collection's checks (guards, presence check) are read at the
        front of the line (pipe_lines.split_checks): alone on their line, or joined with the delivery on one line,
        where the first check that fails ends the line with its exit code, as sh does.
        """
        checks, rest = pipe_lines.split_checks(command)
        if not checks:
            return self._program_effect(command, env, info, result)
        done = []
        for check in checks:
            if check["type"] == "guard":
                effect = _guard_effect(check["parts"], env)
            else:
                effect = self._presence_effect(check["parts"], result)
            if len(checks) == 1 and not rest:
                return effect  # a check alone on its line (earlier versions, hand-made files)
            done.append(effect["entry"])
            if effect["kind"] != "pass":
                return dict(effect, entry={"checks": done})
        if not rest:
            return {"kind": "pass", "entry": {"checks": done}}
        effect = self._program_effect(rest, env, info, result)
        return dict(effect, entry=dict(effect.get("entry", {}), checks=done))

    def _program_effect(self, command, env, info, result):
        """What the program of a '|' line (or of the rest of a joined line) does."""
        shell = shell_parse.parse_shell(command, env)
        entry = {}
        _check_variables(shell, command, env, info, result, entry)
        dest = {"type": "program", "command": command, "user": info["user"], "teamware": None}
        if not shell.simple or not shell.words:
            return {"kind": "deliver", "dest": dest, "entry": entry}
        argv, preline = self._command_argv(shell.words, result)
        if not argv:
            return {"kind": "deliver", "dest": dest, "entry": entry}
        entry["argv"] = argv
        name = posixpath.basename(argv[0])
        if name == "torecvm":
            return self._torecvm(argv, preline, info, result, entry)
        if name in ("qmail-remote", "teamware-qmail-remote") or argv[0] in self.delivery_wrappers:
            return self._qmail_remote(argv, name, info, result, entry)
        if name == "forward":
            self._check_program(argv[0], result)
            if len(argv) >= 2:
                dest = {"type": "forward", "via": "forward", "program": argv[0],
                        "targets": [{"address": target} for target in argv[1:]]}
            return {"kind": "deliver", "dest": dest, "entry": entry}
        builtin = _builtin_effect(name, argv, entry)
        if builtin is not None:
            return builtin
        if "/" in argv[0]:
            self._check_program(argv[0], result)
        return {"kind": "deliver", "dest": dest, "entry": entry}

    def _presence_effect(self, presence, result):
        path = presence["path"]
        entry = {"program": "presence check", "path": path}
        if self.view.exists(path):
            entry["guard"] = "pass"
            return {"kind": "pass", "entry": entry}
        entry["guard"] = "fail"
        kind = exit_kind(presence["code"])
        result["warnings"].append("%s does not exist on this host: deliveries are deferred until it is installed" % path)
        return {"kind": kind, "dest": {"type": kind, "reason": presence["message"]}, "entry": entry}

    def _command_argv(self, words, result):
        """The program's argv without exec, leading assignments and preline (with its options); (argv, preline)."""
        argv = list(words)
        while argv and (argv[0] == "exec" or _ASSIGNMENT.match(argv[0])):
            argv.pop(0)
        preline = False
        if argv and posixpath.basename(argv[0]) == "preline":
            preline = True
            self._check_program(argv[0], result)
            argv.pop(0)
            while argv and argv[0].startswith("-") and argv[0] != "-":
                if argv.pop(0) == "--":
                    break
        return argv, preline

    def _torecvm(self, argv, preline, info, result, entry):
        self._check_program(argv[0], result)
        options = pipe_lines.parse_torecvm_options(argv[1:])
        dest = {"type": "teamware_torecvm", "program": argv[0], "argv": argv, "preline": preline, "user": info["user"],
                "directory": options.get("d"), "sender": options.get("f"), "recipients": options.get("r", []),
                "reports": options.get("p"), "teamware": True}
        if not preline:
            result["notes"].append("torecvm runs without preline: Teamware Office gets no Return-Path, so it cannot send "
                                   "receipt notifications")
        return {"kind": "deliver", "dest": dest, "entry": entry}

    def _qmail_remote(self, argv, name, info, result, entry):
        """qmail-remote itself (always exits 0: mail is lost when it fails) or a wrapper that reports by exit code."""
        safe = name != "qmail-remote"
        if "/" in argv[0]:
            self._check_program(argv[0], result)
        elif name == "qmail-remote":
            result["notes"].append("'qmail-remote' without a path must be in qmail-start's PATH")
        arguments = pipe_lines.parse_smtp_arguments(argv)
        if arguments is None:
            reason = "%s needs HOST SENDER RECIPIENT...: it gets %d argument(s)" % (name, len(argv) - 1)
            return {"kind": "defer", "dest": {"type": "defer", "reason": reason}, "entry": entry}
        host = arguments["host"]
        route = self.config.smtproute(host)
        dest = {"type": "teamware_smtp", "program": argv[0], "safe": safe, "host": host, "relay": route["relay"],
                "port": route["port"], "route": route["route"], "mx": route["mx"], "sender": arguments["sender"],
                "recipients": arguments["recipients"], "user": info["user"], "teamware": True}
        if not safe:
            result["warnings"].append("bare qmail-remote pipe in %s: qmail-remote always exits 0, so mail is LOST "
                                      "(counted as delivered) when %s is down or refuses it; use the "
                                      "teamware-qmail-remote wrapper" % (info.get("dot_qmail") or "the default delivery",
                                                                         host))
        if route["relay"] and not route["relay"].startswith("["):
            result["notes"].append("qmail-remote resolves %s through DNS only (not /etc/hosts)" % route["relay"])
        elif route["mx"] and not host.startswith("["):
            result["notes"].append("qmail-remote looks up the MX of %s in DNS (no smtproutes entry)" % host)
        return {"kind": "deliver", "dest": dest, "entry": entry}

    def _check_program(self, path, result):
        if path.startswith("/") and not self.view.exists(path):
            result["warnings"].append("%s does not exist on this host: sh exits 127 and qmail-local defers the delivery" % path)


def _guard_effect(guard, env):
    """A guard passes when the variable (lower-cased first by earlier versions' tr) matches a pattern as sh matches
    it; otherwise its exit code decides."""
    value = env.get(guard["variable"], "")
    if guard["lower"]:
        value = lower(value)
    patterns = guard["patterns"]
    entry = {"program": "guard", "variable": guard["variable"], "patterns": patterns}
    if any(fnmatch.fnmatchcase(value, pattern) for pattern in guard["shell_patterns"]):
        entry["guard"] = "pass"
        return {"kind": "pass", "entry": entry}
    entry["guard"] = "fail"
    kind = exit_kind(guard["code"])
    reason = "%s (guard: $%s=%r matches none of %s)" % (guard["message"], guard["variable"], value, "|".join(patterns))
    return {"kind": kind, "dest": {"type": kind, "reason": reason}, "entry": entry}


def _check_variables(shell, command, env, info, result, entry):
    """Warn about unquoted variables a remote sender controls and about $DEFAULT where qmail-local sets none."""
    risky = [name for name in shell.unquoted if name in SENDER_CONTROLLED]
    if risky:
        entry["unquoted"] = route_summary.unique(risky)
        result["warnings"].append("unquoted %s in the pipe '|%s' (%s): sh word-splits values that remote senders "
                                  "control; write \"$%s\"" % (", ".join("$" + r for r in route_summary.unique(risky)),
                                                              command, info.get("dot_qmail") or "default delivery",
                                                              risky[0]))
    if "DEFAULT" in shell.used and "DEFAULT" not in env:
        result["warnings"].append("'|%s' uses $DEFAULT, which qmail-local sets only when a *default file is read: "
                                  "it is empty here (%s)" % (command, info.get("dot_qmail")))


def _builtin_effect(name, argv, entry):
    """bouncesaying MESSAGE, true and exit N; None for any other program."""
    if name == "bouncesaying" and len(argv) == 2:
        return {"kind": "bounce", "dest": {"type": "bounce", "reason": argv[1]}, "entry": entry}
    if name == "true" and len(argv) == 1:
        return {"kind": "pass", "entry": entry}
    if name == "exit" and len(argv) == 2 and argv[1].isdigit():
        code = int(argv[1])
        if code in (0, 99):
            return {"kind": "pass", "entry": entry}
        kind = "bounce" if code in BOUNCE_CODES else "defer"
        return {"kind": kind, "dest": {"type": kind, "reason": "exit %d" % code}, "entry": entry}
    return None
