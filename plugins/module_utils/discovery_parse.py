# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading a hand-configured qmail host's files for discovery.py: control files, users/assign, .qmail lines,
tcpserver rules, inetd.conf, hosts.allow and the Teamware Office ini files.

Pure Python, no Ansible imports.  Each function takes the text of a file (None: the file does not exist) and
returns plain data; nothing here decides which integration method a host implements.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.teamware.qmail.plugins.module_utils import cdb_reader
from ansible_collections.teamware.qmail.plugins.module_utils import pipe_lines
from ansible_collections.teamware.qmail.plugins.module_utils import qmail_config
from ansible_collections.teamware.qmail.plugins.module_utils import routing


_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def control_lines(text):
    """A multi-line control file as qmail reads it (qmail_config.control_lines), or None when it does not exist."""
    if text is None:
        return None
    return qmail_config.control_lines(text)


def first_line(text):
    if text is None:
        return None
    return text.split("\n", 1)[0].rstrip(" \t") or None


def colon_map(lines):
    """'key:value' lines (virtualdomains, smtproutes) as (key lower-cased, value, line) triples."""
    entries = []
    for line in lines or ():
        if ":" not in line:
            continue
        key, value = line.split(":", 1)
        entries.append((key.lower(), value, line))
    return entries


def route_value(value):
    """An smtproutes value 'relay[:port]' as (relay, port); port None when not given."""
    if value.startswith("["):
        end = value.find("]")
        relay, rest = value[:end + 1], value[end + 1:]
        port = rest[1:] if rest.startswith(":") else ""
    else:
        relay, _sep, port = value.partition(":")
    return relay, (int(port) if port.isdigit() else None)


def assign_entries(text):
    """users/assign lines up to '.' as dicts: line, exact (bool), local, user, uid, gid, home, dash, ext, ok."""
    entries = []
    for line in (text or "").split("\n"):
        if line == ".":
            break
        if not line or line[0] not in "=+":
            continue
        fields = line[1:].split(":")
        entry = {"line": line, "exact": line[0] == "=", "local": fields[0], "ok": len(fields) >= 8}
        if entry["ok"]:
            entry.update(user=fields[1], uid=fields[2], gid=fields[3], home=fields[4], dash=fields[5], ext=fields[6])
        entries.append(entry)
    return entries


def assign_from_users_cdb(data):
    """users/assign text rebuilt from users/cdb (qmail-newu's records: '!local\\0' exact, '!prefix' wildcard)."""
    lines = []
    for key, value in cdb_reader.records(data):
        if not key.startswith(b"!"):
            continue
        exact = key.endswith(b"\0")
        local = (key[1:-1] if exact else key[1:]).decode("utf-8", "surrogateescape")
        fields = value.decode("utf-8", "surrogateescape").split("\0")[:6]
        fields += [""] * (6 - len(fields))
        lines.append("%s%s:%s:" % ("=" if exact else "+", local, ":".join(fields)))
    return "".join(line + "\n" for line in lines + ["."])


def split_words(raw):
    """Words of a shell command line as written (quotes kept), split at unquoted blanks."""
    words, current, quote, escaped = [], "", None, False
    for char in raw:
        if escaped:
            current += char
            escaped = False
        elif char == "\\" and quote != "'":
            current += char
            escaped = True
        elif quote:
            current += char
            if char == quote:
                quote = None
        elif char in "\"'":
            current += char
            quote = char
        elif char in " \t":
            if current:
                words.append(current)
            current = ""
        else:
            current += char
    if current:
        words.append(current)
    return words


def dequote(word):
    """(the word without its quotes, the variables used outside double quotes)."""
    text, unquoted, quote = "", [], None
    i = 0
    while i < len(word):
        char = word[i]
        if quote == "'" and char != "'":
            text += char
        elif char in "\"'" and quote in (None, char):
            quote = None if quote else char
        elif char == "$" and quote is None:
            match = _VARIABLE.match(word, i)
            if match:
                unquoted.append(match.group(1))
                text += "$" + match.group(1)
                i = match.end()
                continue
            text += char
        elif char == "$":
            match = _VARIABLE.match(word, i)
            if match:
                text += "$" + match.group(1)
                i = match.end()
                continue
            text += char
        else:
            text += char
        i += 1
    return text, unquoted


def recipient(expression):
    """What a recipient argument hands on: dict kind (original, document_sender, rewrite, fixed, other),
    domain (rewrite), user_variable and the unquoted variables."""
    text, unquoted = dequote(expression)
    result = {"raw": expression, "text": text, "unquoted": unquoted, "domain": None, "user_variable": None}
    if text in ("$RECIPIENT", "$LOCAL@$HOST"):
        result["kind"] = "original"
    elif text == "$DEFAULT@$HOST":
        result["kind"] = "original"
        result["user_variable"] = "DEFAULT"
    elif text == "$SENDER@$HOST":
        result["kind"] = "document_sender"
    elif re.match(r"^\$(DEFAULT|LOCAL)@[A-Za-z0-9.-]+$", text):
        result["kind"] = "rewrite"
        result["user_variable"], result["domain"] = text[1:].split("@", 1)
        result["domain"] = result["domain"].lower()
    elif "$" not in text.replace("$HOST", "") and "@" in text:
        result["kind"] = "fixed"
    else:
        result["kind"] = "other"
    return result


def dot_qmail_lines(text):
    """A .qmail file as the dicts of dot_qmail_line, one after the other: a pipe line that joins checks and the
    delivery (pipe_lines.one_line, what the collection writes) gives one dict for each check and one for the
    delivery, each with the whole line; a file of separate lines (earlier versions, by hand) reads the same."""
    found = []
    for line in (text or "").rstrip("\n").split("\n") if text else ():
        found += dot_qmail_line(line)
    return found


def dot_qmail_line(line):
    """One line of a .qmail file as a list of dicts with 'type': comment, marker, guard, present, torecvm,
    qmail_remote, forward_program, forward, maildir, mbox, program, blank (more than one for a joined pipe line)."""
    if line == routing.MANAGED_MARKER:
        return [{"type": "marker", "line": line}]
    if line.startswith("#"):
        return [{"type": "comment", "line": line}]
    if not line.strip():
        return [{"type": "blank", "line": line}]
    if line.startswith("|"):
        return _pipe(line)
    if line.startswith("&"):
        return [{"type": "forward", "line": line, "address": line[1:].strip()}]
    if line.startswith(".") or line.startswith("/"):
        return [{"type": "maildir" if line.rstrip().endswith("/") else "mbox", "line": line}]
    return [{"type": "forward", "line": line, "address": line.strip()}]


def _pipe(line):
    checks, rest = pipe_lines.split_checks(line[1:])
    found = []
    for check in checks:
        parts = check["parts"]
        if check["type"] == "guard":
            found.append({"type": "guard", "line": line, "variable": parts["variable"], "patterns": parts["patterns"]})
        else:
            found.append({"type": "present", "line": line, "program": parts["path"]})
    if checks and not rest:
        return found
    return found + [_program(line, rest)]


def _program(line, command):
    """The program of a pipe line (command: the line after '|' and its checks, without exec)."""
    words = split_words(command.strip())
    info = {"type": "program", "line": line, "words": words, "preline": False}
    while words and dequote(words[0])[0].rsplit("/", 1)[-1] == "preline":
        info["preline"] = True
        words = words[1:]
        while words and words[0].startswith("-"):
            words = words[1:]
    if not words:
        return info
    program = dequote(words[0])[0]
    name = program.rsplit("/", 1)[-1]
    info["program"] = program
    if name == "torecvm":
        info.update(type="torecvm", options=_torecvm_options(words[1:]))
        info["recipient"] = recipient(info["options"].get("r", ""))
    elif name in ("qmail-remote", "teamware-qmail-remote") and len(words) >= 4:
        info.update(type="qmail_remote", host=dequote(words[1])[0], sender=words[2], bare=name == "qmail-remote",
                    recipient=recipient(words[3]), extra=len(words) > 4)
    elif name == "forward" and len(words) >= 2:
        info.update(type="forward_program", recipient=recipient(words[1]))
    return info


def _torecvm_options(words):
    options = {}
    for word in words:
        if word.startswith("-") and len(word) >= 2:
            options[word[1]] = word[2:]
    return options


def unquoted_variables(info):
    """The qmail variables a pipe line uses without double quotes (sh word-splits them)."""
    found = []
    for word in info.get("words", ()):
        found += [name for name in dequote(word)[1] if name not in found]
    return found


def tcp_rules(text):
    """Rules of a tcpserver rules file: dicts address, action, env (name -> value), line."""
    rules = []
    for line in (text or "").split("\n"):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or ":" not in stripped:
            continue
        address, _sep, instructions = stripped.partition(":")
        parts = instructions.split(",")
        env = {}
        for part in parts[1:]:
            name, eq, value = part.partition("=")
            if eq:
                env[name.strip()] = value.strip().strip('"').strip("'")
        rules.append({"address": address, "action": parts[0].strip(), "env": env, "line": line})
    return rules


def tcp_rules_from_cdb(data):
    """Rules recovered from a tcprules cdb (value: 'A' or 'D', then '+NAME=VALUE\\0' settings)."""
    rules = []
    for key, value in cdb_reader.records(data):
        text = value.decode("utf-8", "surrogateescape")
        action = {"A": "allow", "D": "deny"}.get(text[:1], text[:1])
        env = {}
        for item in text[1:].split("\0"):
            if item.startswith("+") and "=" in item:
                name, _eq, val = item[1:].partition("=")
                env[name] = val
        rules.append({"address": key.decode("utf-8", "surrogateescape"), "action": action, "env": env, "line": None})
    return rules


def hosts_allow(text):
    """tcp-env lines of hosts.allow: dicts clients (list), relayclient (bool), line."""
    found = []
    for line in (text or "").replace("\\\n", "").split("\n"):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = [field.strip() for field in stripped.split(":")]
        if len(fields) < 2 or "tcp-env" not in re.split(r"[\s,]+", fields[0]):
            continue
        relay = any(re.match(r"^setenv\s*=?\s*RELAYCLIENT(\s|$)", option) for option in fields[2:])
        found.append({"clients": [c for c in re.split(r"[\s,]+", fields[1]) if c], "relayclient": relay, "line": line})
    return found


def inetd_smtp_lines(text):
    """Active inetd.conf lines for the smtp port that run qmail-smtpd."""
    lines = []
    for line in (text or "").split("\n"):
        words = line.split()
        if words and not words[0].startswith("#") and words[0].split(":")[-1] in ("smtp", "25") and "qmail-smtpd" in line:
            lines.append(line)
    return lines


def ini_values(text):
    """An ini file as {section (None at top level): {key: [values]}}, keys lower-cased, comments skipped."""
    sections = {None: {}}
    current = None
    for line in (text or "").split("\n"):
        stripped = line.strip()
        if not stripped or stripped[0] in ";#":
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            current = stripped[1:-1].strip()
            sections.setdefault(current, {})
            continue
        key, eq, value = stripped.partition("=")
        if eq:
            sections[current].setdefault(key.strip().lower(), []).append(value.strip())
    return sections
