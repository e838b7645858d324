# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The relay clients of a host: the tcpserver rules (tcprules input) and hosts.allow lines for tcp-env that set RELAYCLIENT.

Pure Python; relay_clients reads the files through a qmail_host.HostView.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re


def parse_rule(line):
    """(address, action, variables) of one tcprules line, or None for a comment or a blank line."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    address, dummy, instructions = text.partition(":")
    action, dummy, rest = instructions.partition(",")
    env = {}
    while rest:
        name, eq, rest = rest.partition("=")
        if not eq:
            break
        value = ""
        if rest:
            end = rest.find(rest[0], 1)
            value, rest = (rest[1:], "") if end < 0 else (rest[1:end], rest[end + 1:])
        env[name.strip().lstrip(",")] = value
        rest = rest.lstrip(",")
    return address, action.strip(), env


def parse_tcp_rules(text):
    """Rules of a tcpserver rules file (tcprules input) that set RELAYCLIENT.

    Returns a list of dicts: address, action (allow/deny), relayclient (value or None), line.
    """
    rules = []
    for number, raw in enumerate((text or "").split("\n"), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if ":" not in line:
            continue
        address, action, env = parse_rule(line)
        rules.append({"address": address, "action": action, "relayclient": env.get("RELAYCLIENT"),
                      "line": number, "source": "tcp_rules"})
    return rules


def parse_hosts_allow(text):
    """hosts.allow lines for tcp-env that set RELAYCLIENT (tcp_wrappers' extended option syntax)."""
    rules = []
    logical = []
    current = ""
    for raw in (text or "").split("\n"):
        if raw.endswith("\\"):
            current += raw[:-1]
            continue
        logical.append(current + raw)
        current = ""
    if current:
        logical.append(current)
    for number, line in enumerate(logical, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = [field.strip() for field in line.split(":")]
        if len(fields) < 3:
            continue
        daemons = [d for d in re.split(r"[\s,]+", fields[0]) if d]
        if "tcp-env" not in daemons and "ALL" not in daemons:
            continue
        relay = None
        action = "allow"
        for option in fields[2:]:
            # "keyword = value" or "keyword value" (hosts_options(5)); setenv's value is "NAME [VALUE]".
            match = re.match(r"^([A-Za-z_]+)\s*(?:=\s*)?(.*)$", option)
            if not match:
                continue
            keyword, value = match.group(1), match.group(2).strip()
            if keyword == "setenv":
                name, dummy, rest = value.partition(" ")
                if name == "RELAYCLIENT":
                    relay = rest.strip()
            elif keyword in ("deny", "allow"):
                action = keyword
        for client in re.split(r"[\s,]+", fields[1]):
            if client:
                rules.append({"address": client, "action": action, "relayclient": relay, "line": number,
                              "source": "hosts_allow"})
    return rules


def relay_clients(view, tcp_rules=None, hosts_allow=None, tcp_rules_cdb=None):
    """The clients that get RELAYCLIENT: tcpserver rules (the text file) and hosts.allow lines for tcp-env.

    view: a qmail_host.HostView.  Returns (clients, warnings, notes); each client is a dict address, action,
    relayclient, line, source, path, effective.
    """
    clients = []
    warnings = []
    notes = []
    if tcp_rules:
        text = _read_optional(view, tcp_rules, warnings)
        if text is not None:
            clients.extend(_allowed(parse_tcp_rules(text), tcp_rules))
            _check_compiled(view, tcp_rules, tcp_rules_cdb or tcp_rules + ".cdb", warnings)
    if hosts_allow:
        text = _read_optional(view, hosts_allow, warnings)
        if text is not None:
            clients.extend(_allowed(parse_hosts_allow(text), hosts_allow))
    for rule in clients:
        rule["effective"] = True
        if re.match(r"^\d{1,3}(\.\d{1,3}){0,2}$", rule["address"]):
            rule["effective"] = False
            warnings.append("%s line %d: %r is a partial address without its trailing dot: %s matches it as a whole "
                            "address, so no client gets RELAYCLIENT from it (write %s.)"
                            % (rule["path"], rule["line"], rule["address"],
                               "tcpserver" if rule["source"] == "tcp_rules" else "tcp_wrappers", rule["address"]))
        if rule["relayclient"]:
            notes.append("%s line %d sets RELAYCLIENT=%r: qmail-smtpd appends it to every recipient of %s"
                         % (rule["path"], rule["line"], rule["relayclient"], rule["address"]))
    if not clients:
        notes.append("no relay client found (RELAYCLIENT is set for no address): only the rcpthosts domains are accepted")
    return clients, warnings, notes


def _allowed(rules, path):
    """The rules that allow a client and set RELAYCLIENT, each with its file's path."""
    found = []
    for rule in rules:
        rule["path"] = path
        if rule["relayclient"] is not None and rule["action"] == "allow":
            found.append(rule)
    return found


def _check_compiled(view, tcp_rules, cdb_path, warnings):
    """tcpserver reads only the compiled rules: warn when they are missing or older than the text."""
    rules_stat = view.stat(tcp_rules)
    cdb_stat = view.stat(cdb_path)
    if cdb_stat is None:
        warnings.append("%s exists but %s does not: tcpserver reads only the compiled rules; run tcprules"
                        % (tcp_rules, cdb_path))
    elif rules_stat is not None and rules_stat.st_mtime > cdb_stat.st_mtime:
        warnings.append("%s is older than %s: tcpserver still uses the old rules; run tcprules" % (cdb_path, tcp_rules))


def _read_optional(view, path, warnings):
    try:
        return view.read_text(path)
    except (IOError, OSError) as exc:
        warnings.append("cannot read %s: %s" % (path, exc))
        return None
