# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Entries the inventory declares beside Teamware Office's: other domains qmail relays for, other virtual
domains, other users/assign entries.

A host's own entries are kept without being declared (see ownership.py); declaring them makes them the
collection's: validated like the rest, written in the collection's block, and removed when the inventory drops
them.  qmail_extra_smtproutes lives in routing.py with the routes of the methods.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.teamware.qmail.plugins.module_utils import validators as v

# A field of a users/assign or virtualdomains line: no ':' (the separator), no white space, nothing qmail-newu or
# qmail-send would read as another field or line.
_FIELD = re.compile(r"^[A-Za-z0-9_.+=@-]+$")
_USER_KEYS = set(["address", "prefix", "user", "uid", "gid", "home", "dash", "extension"])


def _field(value, what):
    value = v._text(value, what) if isinstance(value, str) else value
    if not isinstance(value, str) or not _FIELD.match(value):
        raise v.InvalidValue("%s %r may use only letters, digits and _ . + = @ -" % (what, value))
    return value


def _number(value, what):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise v.InvalidValue("%s must be a whole number above 0 (qmail refuses to deliver as root), not %r" % (what, value))
    return value


def rcpthosts(problems, value, taken):
    """qmail_extra_rcpthosts: domains qmail-smtpd accepts mail for besides qmail's and Teamware's (backup MX)."""
    name = "qmail_extra_rcpthosts"
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        problems.add(name, "must be a list of domains, not %r" % (value,))
        return []
    result = []
    for item in value:
        cleaned = problems.check(name, v.domain, item, True)
        if cleaned is None:
            continue
        if cleaned in result or cleaned in taken:
            problems.add(name, "domain %r is listed twice (or is already in %s)" % (cleaned, taken.get(cleaned, name)))
            continue
        result.append(cleaned)
    return result


def virtualdomains(problems, value, taken):
    """qmail_extra_virtualdomains: [{domain, prepend}] lines 'domain:prepend' of other software."""
    name = "qmail_extra_virtualdomains"
    if not isinstance(value, (list, tuple)):
        problems.add(name, "must be a list of {domain, prepend} entries, not %r" % (value,))
        return []
    lines, seen = [], set()
    for entry in value:
        if not isinstance(entry, dict) or set(entry) != set(["domain", "prepend"]):
            problems.add(name, "entry %r must have 'domain' and 'prepend' (e.g. {domain: other.com, prepend: vpopmail})"
                         % (entry,))
            continue
        domain = problems.check(name, v.domain, entry["domain"], True)
        prepend = problems.check(name, _field, entry["prepend"], "prepend")
        if domain is None or prepend is None:
            continue
        if domain in seen or domain in taken:
            problems.add(name, "domain %r is listed twice (or is already in %s)" % (domain, taken.get(domain, name)))
            continue
        seen.add(domain)
        lines.append("%s:%s" % (domain, prepend))
    return lines


def users(problems, value, prefix):
    """qmail_extra_users: users/assign entries as data; an entry with 'address' is exact (=), with 'prefix' a
    wildcard (+).  prefix: the Teamware user prefix (user-based routing), which no entry may overlap."""
    name = "qmail_extra_users"
    if not isinstance(value, (list, tuple)):
        problems.add(name, "must be a list of users/assign entries, not %r" % (value,))
        return []
    lines, seen = [], set()
    for entry in value:
        line = problems.check(name, _user_line, entry, prefix)
        if line is None:
            continue
        key = line.split(":", 1)[0].lower()
        if key in seen:
            problems.add(name, "%r is listed twice" % key)
            continue
        seen.add(key)
        lines.append(line)
    return lines


def _user_line(entry, prefix):
    if not isinstance(entry, dict) or set(entry) - _USER_KEYS or ("address" in entry) == ("prefix" in entry):
        raise v.InvalidValue("entry %r needs 'address' (exact) or 'prefix' (wildcard), 'user', 'uid', 'gid' and "
                             "'home', and may have 'dash' and 'extension'" % (entry,))
    missing = [key for key in ("user", "uid", "gid", "home") if key not in entry]
    if missing:
        raise v.InvalidValue("entry %r lacks %s" % (entry, ", ".join(missing)))
    exact = "address" in entry
    local = entry["address"] if exact else entry["prefix"]
    local = _field(local, "address" if exact else "prefix") if (exact or local != "") else ""
    if prefix and (local.lower().startswith(prefix) or (not exact and prefix.startswith(local.lower()))):
        raise v.InvalidValue("%r overlaps the Teamware user prefix %r: Teamware Office's mail would go to %s"
                             % (local, prefix, entry["user"]))
    fields = [("=" if exact else "+") + local, v.user_name(entry["user"]), str(_number(entry["uid"], "uid")),
              str(_number(entry["gid"], "gid")), v.absolute_path(entry["home"])]
    dash = entry.get("dash", "-" if not exact else "")
    if dash not in ("", "-"):
        raise v.InvalidValue("dash must be '-' or '', not %r" % (dash,))
    extension = entry.get("extension", "")
    fields += [dash, _field(extension, "extension") if extension else ""]
    return ":".join(fields) + ":"
