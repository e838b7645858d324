# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which entries of qmail's files are the collection's, and which are the host's own.

A real qmail host serves more than Teamware Office: backup-MX domains in rcpthosts,
other software's virtual domains and their users/assign lines, partner routes in
smtproutes.  The collection owns entries, not files.  It records on the host what it
wrote (the state file, see ``State``); every other entry is *foreign* and is kept with
its meaning for qmail.  Where a foreign entry contradicts the method, nothing changes
and the run stops, naming the file, the entry and the two ways out.

Pure functions: the ``routing_table`` module reads the files and writes the results.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.teamware.qmail.plugins.module_utils import owed_actions

STATE_FORMAT = owed_actions.STATE_FORMAT
STATE_NAME = owed_actions.STATE_NAME

# The files whose lines the collection shares with the host, by the kind routing_table gives them, and the name
# an admin writes in qmail_take_over.
LINE_FILES = (("rcpthosts", "rcpthosts"), ("locals", "locals"), ("virtualdomains", "virtualdomains"),
              ("smtproutes", "smtproutes"), ("users_assign", "users/assign"))
FILE_NAMES = dict(LINE_FILES)
KIND_OF_NAME = dict((name, kind) for kind, name in LINE_FILES)

HEADER_PREFIXES = ("# Managed by Ansible (teamware.qmail)", "# Method: ", "# teamware.qmail:")
BLOCK_HEADER = ("# teamware.qmail: the lines below are written by Ansible from the inventory; "
                "the lines above are the host's own and are kept")

FOREIGN_CHOICES = ("keep", "remove")
# In the host's own lines of users/assign: where qmail-newu's closing '.' stood (the lines after it are no entries).
AFTER_END = object()
PENDING_ACTIONS = ("hup_qmail_send", "rebuild_users_cdb")
# The actions the state file remembers until they ran: a HUP leaves no trace on the host.
UNTRACED_ACTIONS = ("hup_qmail_send",)


class OwnershipError(Exception):
    """Foreign entries contradict the inventory: a list of conflict dicts (file, line, entry, reason)."""

    def __init__(self, conflicts):
        Exception.__init__(self, render_conflicts(conflicts))
        self.conflicts = conflicts


def render_conflicts(conflicts):
    """One message for all conflicts, with the two ways out."""
    parts = ["%s: line %r %s (to let the collection replace it, add %r to qmail_take_over)"
             % (c["file"], c["line"], c["reason"], c["entry"]) for c in conflicts]
    return ("Entries on the host that the collection did not write contradict the inventory, nothing changed: %s. "
            "Either take each entry over (qmail_take_over lists what the collection may replace) or change the "
            "inventory so that it agrees with the host." % "; ".join(parts))


class State:
    """What the collection wrote on the host, and what it still owes the host.

    lines: kind -> the entry lines it wrote; dot_qmail: paths of its .qmail files; pending: actions
    (PENDING_ACTIONS) recorded before a change and cleared after they ran; route_checked: the digest of the deploy
    check's settings when it last passed on these entries (dropped whenever they change); legacy: no state file was
    found, but the control files carry the marker of a version that owned whole files.
    """

    def __init__(self, lines=None, dot_qmail=(), pending=(), method=None, legacy=False, found=False,
                 route_checked=None):
        self.lines = dict((kind, list((lines or {}).get(kind, []))) for kind, _name in LINE_FILES)
        self.dot_qmail = sorted(set(dot_qmail))
        self.pending = [action for action in PENDING_ACTIONS if action in pending]
        self.method = method
        self.legacy = legacy
        self.found = found
        self.route_checked = route_checked

    @classmethod
    def parse(cls, text, path="state file"):
        """A State from the file's text; None text = no state file.  Raises ValueError (owed_actions.StateFileError) for a
        damaged file or a pending action this version does not know."""
        if text is None:
            return cls()
        try:
            data = owed_actions.parse(text, path)
        except owed_actions.StateFileError as exc:
            raise owed_actions.StateFileError("%s; move it away to let the collection start afresh" % exc)
        if not isinstance(data.get("lines"), dict):
            raise owed_actions.StateFileError("%s is not a teamware.qmail state file of format %d: no lines"
                                              % (path, STATE_FORMAT))
        pending = owed_actions.actions(data, "pending", PENDING_ACTIONS, path)
        lines = dict((KIND_OF_NAME.get(name, name), list(value)) for name, value in data["lines"].items())
        checked = data.get("route_checked")
        return cls(lines, data.get("dot_qmail", []), pending, data.get("method"), found=True,
                   route_checked=checked if isinstance(checked, str) else None)

    def render(self):
        """The state file's text: stable JSON an admin can read."""
        data = {
            "format": STATE_FORMAT,
            "written_by": "teamware.qmail (Ansible); the entries the collection wrote. Do not edit: edit the inventory.",
            "method": self.method,
            "lines": dict((name, self.lines[kind]) for kind, name in LINE_FILES),
            "dot_qmail": self.dot_qmail,
            "pending": self.pending,
        }
        if self.route_checked:
            data["route_checked"] = self.route_checked
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    def owns_line(self, kind, line):
        return self.legacy or line in self.lines[kind]


def is_header(line):
    return line.startswith(HEADER_PREFIXES)


def line_key(kind, line):
    """The key qmail looks an entry up by (lower case), or None for a line that is no entry."""
    text = line.rstrip(" \t")
    if kind == "users_assign":
        if text in ("", ".") or text[0] not in "=+":
            return None
        return text[0] + text[1:].split(":", 1)[0].lower()
    if not text or text.startswith("#"):
        return None
    if kind in ("virtualdomains", "smtproutes"):
        return text.split(":", 1)[0].lower()
    return text.lower()


def key_domain(kind, key):
    """The domain a virtualdomains/smtproutes/locals key names ('user@domain' keys: the domain)."""
    if kind == "virtualdomains" and "@" in key:
        return key.rsplit("@", 1)[1]
    return key


def split_lines(kind, text, state):
    """The current file's lines as (foreign lines to keep as they are, our previous entry lines)."""
    foreign, ours = [], []
    if text is None:
        return foreign, ours
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for index, line in enumerate(lines):
        if is_header(line):
            continue
        if kind == "users_assign" and line.rstrip(" \t") == ".":
            # qmail-newu stops at '.': what follows it is no entry, and stays after the '.' (see render)
            foreign.append(AFTER_END)
            foreign += lines[index + 1:]
            break
        if line_key(kind, line) is not None and state.owns_line(kind, line):
            ours.append(line)
        else:
            foreign.append(line)
    return foreign, ours


def render(kind, foreign, desired, header):
    """A line file's content: the host's own lines first, exactly as they were, then the collection's block.

    header: the collection's comment lines (none for users/assign, where qmail-newu allows no comments).
    Returns None when there is nothing at all (virtualdomains and smtproutes are then removed).
    """
    if kind == "users_assign":
        before, after = (foreign[:foreign.index(AFTER_END)], foreign[foreign.index(AFTER_END) + 1:]) \
            if AFTER_END in foreign else (foreign, [])
        return "".join("%s\n" % line for line in before + desired + ["."] + after)
    if not foreign and not desired:
        return None
    block = (header if not foreign else [BLOCK_HEADER] + header[1:]) + desired
    return "".join("%s\n" % line for line in foreign + block)


class Merge:
    """The outcome for one line file: what stays foreign, what was adopted or taken over, and the conflicts."""

    def __init__(self, kind):
        self.kind = kind
        self.foreign = []
        self.adopted = []
        self.taken_over = []
        self.removed = []
        self.conflicts = []

    @property
    def kept(self):
        entries = self.foreign[:self.foreign.index(AFTER_END)] if AFTER_END in self.foreign else self.foreign
        return [line for line in entries if line_key(self.kind, line) is not None]


def entry_name(kind, key):
    """How an admin names a foreign entry in qmail_take_over: 'virtualdomains:tw.company.com'."""
    return "%s:%s" % (FILE_NAMES[kind], key)


def merge(kind, foreign, desired, take_over, foreign_entries, claims):
    """Sort the host's own lines of one file: adopt the ones the collection would write anyway, drop what the
    admin lets it take over (or all of them with foreign_entries 'remove'), and find the ones that contradict it."""
    result = Merge(kind)
    wanted = set(line.rstrip(" \t") for line in desired)
    ended = False
    for line in foreign:
        ended = ended or line is AFTER_END
        key = None if ended else line_key(kind, line)
        if key is None:
            result.foreign.append(line)
        elif line.rstrip(" \t") in wanted:
            result.adopted.append(line)
        elif entry_name(kind, key) in take_over:
            result.taken_over.append(line)
        elif foreign_entries == "remove":
            result.removed.append(line)
        else:
            reason = contradiction(kind, key, claims)
            if reason:
                result.conflicts.append({"file": FILE_NAMES[kind], "line": line, "entry": entry_name(kind, key),
                                         "reason": reason})
            result.foreign.append(line)
    return result


class Claims:
    """What the collection's own entries claim: the keys of each file, the domains qmail makes local, virtual or
    routes, and the Teamware user prefix (user-based routing)."""

    def __init__(self, desired, user_prefix=None):
        self.keys = dict((kind, set(line_key(kind, line) for line in lines if line_key(kind, line) is not None))
                         for kind, lines in desired.items())
        self.local = self.keys.get("locals", set())
        self.virtual = set(key_domain("virtualdomains", key) for key in self.keys.get("virtualdomains", ()))
        self.routed = self.keys.get("smtproutes", set())
        self.user_prefix = (user_prefix or "").lower() or None


def _domain_claim(domain, claims):
    if domain in claims.local:
        return "locals"
    if domain in claims.virtual:
        return "virtualdomains"
    if domain in claims.routed:
        return "smtproutes"
    return None


def _virtual_catches(key, domain):
    """Whether a virtualdomains key catches a domain: exact, a '.suffix' of it, or the empty catch-all."""
    return key == domain or key == "" or (key.startswith(".") and domain.endswith(key))


def contradiction(kind, key, claims):
    """Why a foreign entry contradicts the collection's entries, or None when both can stand."""
    if key in claims.keys.get(kind, ()):
        return "gives %r another value than the inventory" % key
    if kind == "locals":
        owner = _domain_claim(key, claims)
        if owner and owner != "locals":
            return "makes %r local, but the method routes it through %s" % (key, owner)
    elif kind == "virtualdomains":
        domain = key_domain(kind, key)
        owner = _domain_claim(domain, claims)
        if owner:
            return "maps %r elsewhere, but the collection puts it in %s" % (domain, owner)
        caught = sorted(d for d in claims.routed if d and not d.startswith(".") and _virtual_catches(key, d))
        if caught:
            return "catches %s before smtproutes can route it to Teamware Office" % ", ".join(caught)
    elif kind == "smtproutes":
        owner = _domain_claim(key, claims)
        if owner and owner != "smtproutes":
            return "routes %r elsewhere, but the collection puts it in %s" % (key, owner)
    elif kind == "users_assign":
        return _assign_contradiction(key, claims)
    return None


def _assign_contradiction(key, claims):
    prefix = claims.user_prefix
    if prefix is None:
        return None
    name = key[1:]
    if key.startswith("=") and name.startswith(prefix):
        return "takes %r, which starts with the Teamware prefix %r" % (name, prefix)
    if key.startswith("+") and (name.startswith(prefix) or prefix.startswith(name)):
        return "is a wildcard %r that overlaps the Teamware prefix %r" % (name, prefix)
    return None
