# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which lines of the SMTP front ends' files are the collection's, and which are the host's own.

A hand-configured qmail host often has more in its front end than relay clients: rules that set
QMAILQUEUE or RBLSMTPD for everybody, an exception that refuses one address, a submission port in
inetd.conf, hosts.allow lines of other daemons.  Those lines are kept, in their order.  The
collection's own lines are recorded in the file itself:

* the tcpserver rules file: a file that starts with relay.MARKER is wholly the collection's (as the
  collection has always written it); in any other file the collection's rules are the lines between
  RULES_BEGIN and RULES_END, and every line outside them is the host's own;
* inetd.conf: the collection's line is the one for the SMTP port (the inetd role replaces it); other
  lines are the host's own unless they have exactly the collection's shape on another port;
* hosts.allow: the collection's block between the inetd role's markers.

A host line that contradicts the inventory stops the run before any change, naming the file, the
line and the entry (to put in qmail_take_over) - the same message shape as ownership.render_conflicts:

* a rule for a relay client's address (or an address inside a relay client's prefix) that refuses it
  or does not set RELAYCLIENT; a default rule (or hosts.allow line for ALL) that sets RELAYCLIENT for
  every client (an open relay); a default rule that refuses every client the inventory does not list;
* an inetd.conf line for the SMTP port that runs another program than qmail-smtpd;
* a hosts.allow line for tcp-env above the collection's block that answers a relay client without
  RELAYCLIENT (tcpd takes the first line that matches).

A host rule that agrees with the inventory (a relay client's rule that sets RELAYCLIENT, maybe with
more variables; a default rule that allows without RELAYCLIENT) is kept as the host's own, and the
collection writes no rule of its own for that address: tcpserver would use only the first one.

Pure Python, no Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.teamware.qmail.plugins.module_utils import front_end_files
from ansible_collections.teamware.qmail.plugins.module_utils import ownership
from ansible_collections.teamware.qmail.plugins.module_utils import relay
from ansible_collections.teamware.qmail.plugins.module_utils.relay_parsers import parse_rule

RULES_BEGIN = ("# BEGIN teamware.qmail: relay rules written by Ansible from the inventory; "
               "the lines outside this block are the host's own and are kept")
RULES_END = "# END teamware.qmail"
_PARTIAL = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){0,3}\.?")


def _conflict(path, line, entry, reason):
    return {"file": path, "line": line, "entry": entry, "reason": reason}


def render_conflicts(conflicts):
    """The front end's conflicts in the message shape of the routing files' conflicts."""
    return ownership.render_conflicts(conflicts)


# ---------------------------------------------------------------- tcpserver rules


def split_rules_file(text):
    """The host's own lines of a tcpserver rules file (text; None: no file), in their order."""
    if text is None:
        return []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if lines and lines[0] == relay.MARKER:
        return []
    foreign, inside = [], False
    for line in lines:
        if line == RULES_BEGIN:
            inside = True
        elif inside:
            inside = line != RULES_END
        else:
            foreign.append(line)
    return foreign


def rule_entry(address):
    """How qmail_take_over names a rule: tcprules:ADDRESS, tcprules:default for the default rule (a name that ends
    with a colon would be a mapping key in YAML)."""
    return "tcprules:%s" % (address or "default")


def _inside(address, client):
    """Whether a rule's address is a relay client's address or lies inside a relay client's prefix."""
    if not _PARTIAL.fullmatch(address):
        return False
    return address == client.pattern or (client.partial and address.startswith(client.pattern))


def _rule_contradiction(address, action, env, clients):
    grants = action == "allow" and "RELAYCLIENT" in env
    if address == "":
        if grants:
            return "lets every client relay (an open relay), but only qmail_relay_clients may"
        if action != "allow":
            return ("refuses every client that qmail_relay_clients does not list, but other servers must deliver mail "
                    "for control/rcpthosts (the default rule :allow)")
        return None
    for client in clients:
        if _inside(address, client) and not grants:
            what = "refuses" if action != "allow" else "does not set RELAYCLIENT for"
            return "%s %s, which qmail_relay_clients lets relay (%s)" % (what, address, client.pattern)
    return None


class RulesMerge:
    """The outcome for the rules file: the host's lines kept, taken over or in conflict; the collection's rules."""

    def __init__(self):
        self.foreign = []
        self.taken_over = []
        self.conflicts = []
        self.served = set()

    @property
    def kept(self):
        return [line for line in self.foreign if parse_rule(line) is not None]


def merge_rules(path, text, clients, take_over=()):
    """Sort the host's own lines of the rules file against the relay clients (see the module docstring)."""
    result = RulesMerge()
    wanted = set(relay.tcprules_lines(clients)[2:])
    for line in split_rules_file(text):
        rule = parse_rule(line)
        if rule is None:
            result.foreign.append(line)
            continue
        address, action, env = rule
        entry = rule_entry(address)
        if line.strip() in wanted:
            continue
        if entry in take_over:
            result.taken_over.append(line)
            continue
        reason = _rule_contradiction(address, action, env, clients)
        if reason:
            result.conflicts.append(_conflict(path, line, entry, reason))
        elif address in [c.pattern for c in clients] + [""]:
            result.served.add(address)
        result.foreign.append(line)
    return result


def render_rules(merged, clients):
    """The rules file: wholly the collection's (relay.tcprules_lines) when the host has no lines of its own, else the
    host's lines as they were, then the collection's block (without the rules a host rule already answers)."""
    ours = relay.tcprules_lines([c for c in clients if c.pattern not in merged.served])
    if "" in merged.served:
        ours = ours[:-2]
    if not merged.foreign:
        return files_text(ours)
    return files_text(merged.foreign + [RULES_BEGIN] + ours[1:] + [RULES_END])


def files_text(lines):
    return "".join(line + "\n" for line in lines)


# ---------------------------------------------------------------- inetd.conf


def _inetd_fields(line):
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    fields = text.split()
    if len(fields) < 6:
        return None
    bind, dummy, service = fields[0].rpartition(":")
    return bind, service, fields


def _same_port(bind, service, settings):
    if service not in settings.services():
        return False
    own = settings.bind
    return bind in ("", "*") or own in ("", "*") or bind == own


def inetd_conflicts(path, text, settings, take_over=(), wanted_by="qmail-smtpd"):
    """inetd.conf lines for the SMTP port (any local address that overlaps) that run another program than this
    qmail-smtpd: inetd would serve the port with it (wanted_by: what the inventory puts on the port)."""
    conflicts = []
    for line in (text or "").split("\n"):
        found = _inetd_fields(line)
        if found is None:
            continue
        bind, service, fields = found
        if not _same_port(bind, service, settings) or fields[-1] == settings.qmail_smtpd:
            continue
        entry = "inetd.conf:%s" % fields[0]
        if entry in take_over:
            continue
        program = " ".join(fields[5:])
        conflicts.append(_conflict(path, line.strip(), entry, "serves port %s with %s, but the inventory puts %s there"
                                   % (service, program, wanted_by)))
    return conflicts


# ---------------------------------------------------------------- hosts.allow


def hosts_allow_entries(text, marker):
    """(line, daemons, clients, options, above_block) of each rule line of hosts.allow outside the marked block."""
    begin, end = (marker.replace("{mark}", mark) for mark in ("BEGIN", "END"))
    entries, inside, seen_block = [], False, False
    for line in (text or "").split("\n"):
        stripped = line.strip()
        if stripped == begin:
            inside = seen_block = True
            continue
        if stripped == end:
            inside = False
            continue
        if inside or not stripped or stripped.startswith("#"):
            continue
        fields = [field.strip() for field in stripped.split(":")]
        if len(fields) < 2:
            continue
        daemons = [d for d in re.split(r"[\s,]+", fields[0]) if d]
        clients = [c for c in re.split(r"[\s,]+", fields[1]) if c]
        entries.append([line.rstrip("\r"), daemons, clients, fields[2:], not seen_block])
    # A new block goes to the top of the file: without one, no line is above it.
    return [tuple(entry[:4]) + (entry[4] and seen_block,) for entry in entries]


def _sets_relayclient(options):
    allowed = not any(option.lower() == "deny" for option in options)
    return allowed and any(re.match(r"setenv\s*(?:=\s*|\s)RELAYCLIENT(?:\s|$)", option) for option in options)


def _client_matches(pattern, client):
    if pattern == "ALL":
        return True
    if pattern.endswith("."):
        return client.pattern.startswith(pattern)
    return pattern == client.pattern


def hosts_allow_conflicts(path, text, marker, clients, daemon="tcp-env", take_over=()):
    """hosts.allow lines for tcp-env (or ALL daemons) outside the collection's block that make an open relay, or that
    answer a relay client without RELAYCLIENT before the block can (tcpd uses the first line that matches; the inetd
    role puts a new block at the top of the file)."""
    conflicts = []
    for line, daemons, patterns, options, above in hosts_allow_entries(text, marker):
        if daemon not in daemons and "ALL" not in daemons:
            continue
        entry = "hosts.allow:%s:%s" % (",".join(daemons), ",".join(patterns))
        if entry in take_over:
            continue
        relays = _sets_relayclient(options)
        if relays and "ALL" in patterns and "EXCEPT" not in patterns:
            conflicts.append(_conflict(path, line.strip(), entry,
                                       "lets every client relay (an open relay), but only qmail_relay_clients may"))
            continue
        shadowed = [c.pattern for c in clients if any(_client_matches(p, c) for p in patterns)]
        if above and shadowed and not relays and "EXCEPT" not in patterns:
            conflicts.append(_conflict(path, line.strip(), entry,
                                       "answers %s before the collection's block, without RELAYCLIENT, but "
                                       "qmail_relay_clients lets it relay" % ", ".join(shadowed)))
    return conflicts


def hosts_allow_taken_over(text, marker, daemon="tcp-env", take_over=()):
    """The lines of hosts.allow that qmail_take_over lets the inetd role remove."""
    return [line for line, daemons, patterns, dummy, dummy2 in hosts_allow_entries(text, marker)
            if (daemon in daemons or "ALL" in daemons)
            and "hosts.allow:%s:%s" % (",".join(daemons), ",".join(patterns)) in take_over]


# ---------------------------------------------------------------- the whole front end, before any change


def host_conflicts(spec, clients, read, take_over=()):
    """Every conflict of the chosen front end's files, for a check before anything on the host changes.

    spec: kind (tcpserver or inetd), rules_file, inetd_conf, hosts_allow, hosts_allow_marker, qmail_dir, tcpd, user,
    bind_address, port (None: the roles' defaults); clients: relay.relay_clients; read: path -> text or None.
    With tcpserver, inetd.conf is looked at too: the inetd role's absent state would remove its lines for the port.
    """
    kind = spec.get("kind") or "tcpserver"
    bind = spec.get("bind_address")
    settings = relay.InetdSettings.from_vars(
        prefix="inetd_", qmail_dir=spec.get("qmail_dir") or "/var/qmail", tcpd=spec.get("tcpd") or "/usr/sbin/tcpd",
        user=spec.get("user") or "qmaild", bind_address="" if bind in (None, "0", "*") else bind,
        port=spec.get("port") or "smtp")
    inetd_conf = spec.get("inetd_conf") or "/etc/inetd.conf"
    conflicts = inetd_conflicts(inetd_conf, read(inetd_conf), settings, take_over,
                                "tcpserver" if kind == "tcpserver" else "qmail-smtpd")
    if kind == "tcpserver":
        rules_file = spec.get("rules_file") or "/etc/tcp.smtp"
        conflicts += merge_rules(rules_file, read(rules_file), clients, take_over).conflicts
    else:
        hosts_allow = spec.get("hosts_allow") or "/etc/hosts.allow"
        marker = spec.get("hosts_allow_marker") or front_end_files.HOSTS_ALLOW_MARKER
        conflicts += hosts_allow_conflicts(hosts_allow, read(hosts_allow), marker, clients, settings.daemon, take_over)
    return conflicts
