# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The route of an address in words: one line per address, as the modules' summary shows it.

Pure Python; reads the route dicts router.py returns.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def unique(items):
    """items without repeats, in their first order."""
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _tilde(path, user, home):
    if home and user and (path == home or path.startswith(home.rstrip("/") + "/")):
        return "~%s%s" % (user, path[len(home.rstrip("/")):])
    return path


def describe_lookup(info):
    """Which lookup found the user that delivers: users/cdb, passwd or alias."""
    if info.get("lookup") == "users/cdb":
        return "users/cdb %s -> %s" % (info["assign"], info["user"])
    if info.get("lookup") == "passwd":
        return "passwd %s" % info["user"]
    if info.get("lookup") == "alias":
        return "alias"
    return "user lookup failed"


def _how(route):
    parts = []
    klass = route.get("class")
    if klass == "remote":
        remote = route.get("remote") or {}
        parts.append("remote")
        if route.get("rewrite", {}).get("virtualdomains"):
            parts.append("virtualdomains %s (empty prefix: not virtual)" % route["rewrite"]["virtualdomains"])
        parts.append("smtproutes %s" % remote["route"] if remote.get("route") else "MX")
        return ", ".join(parts)
    if klass == "virtual":
        parts.append("virtualdomains %s" % route["rewrite"]["virtualdomains"])
    info = route.get("local")
    if not info:
        return ", ".join(parts) or (klass or "")
    parts.append(describe_lookup(info))
    if info.get("dot_qmail"):
        text = _tilde(info["dot_qmail"], info["user"], info["home"])
        if info.get("default_delivery"):
            text += " (empty: default delivery %s)" % info["default_delivery"].strip()
        parts.append(text)
    elif info.get("dot_qmail_tried"):
        text = "no .qmail file"
        if info.get("default_delivery"):
            text += ": default delivery %s" % info["default_delivery"].strip()
        parts.append(text)
    return ", ".join(parts)


def _relay_text(dest):
    if dest.get("relay"):
        if dest["port"] != 25:
            return "%s:%d" % (dest["relay"], dest["port"])
        return dest["relay"]
    return "MX" if dest["port"] == 25 else "MX, port %d" % dest["port"]


def describe_destination(dest, address=None):
    kind = dest["type"]
    if kind == "teamware_torecvm":
        text = "Teamware Office by torecvm"
        if dest.get("directory"):
            text += " into %s" % dest["directory"]
        if dest.get("recipients") and dest["recipients"] != [address]:
            text += " for %s" % ", ".join(dest["recipients"])
        return text
    if kind == "teamware_smtp":
        text = "Teamware Office by SMTP via %s (%s)" % (dest["host"], _relay_text(dest))
        if dest.get("recipients") and dest["recipients"] != [address]:
            text += " for %s" % ", ".join(dest["recipients"])
        if not dest.get("safe"):
            text += " by a BARE qmail-remote (mail lost when it fails)"
        return text
    if kind == "remote_smtp":
        who = "Teamware Office" if dest.get("teamware") else "remote"
        if dest.get("relay"):
            return "%s by SMTP via %s" % (who, _relay_text(dest))
        return "%s by SMTP to the MX of %s%s" % (who, dest["host"], "" if dest["port"] == 25 else " port %d" % dest["port"])
    if kind in ("maildir", "mbox"):
        return "%s %s of user %s" % (kind, dest["path"], dest["user"])
    if kind == "program":
        return "program '|%s' as %s" % (dest["command"], dest["user"])
    if kind == "bounce":
        return "BOUNCE (%s)" % dest["reason"]
    if kind == "defer":
        return "DEFER (%s)" % dest["reason"]
    if kind == "discard":
        return "discarded (%s)" % dest["reason"]
    return "%s (%s)" % (kind, dest.get("reason", ""))


def describe_route(route):
    """The route of one address, without the address: 'DEST [how]' or 'forward to X [how] -> ...'."""
    dests = route.get("destinations", [])
    address = route.get("address")
    plain = [describe_destination(d, address) for d in dests if d["type"] != "forward"]
    forwards = [d for d in dests if d["type"] == "forward"]
    targets = [t for d in forwards for t in d["targets"]]
    pieces = list(plain)
    if targets:
        pieces.append("forward to %s" % ", ".join(t["address"] for t in targets))
    text = " + ".join(pieces) if pieces else "nothing"
    how = _how(route)
    if how:
        text += " [%s]" % how
    inner = []
    for target in targets:
        if target.get("route") is None:
            continue
        sub = describe_route(target["route"])
        inner.append(sub if len(targets) == 1 else "%s: %s" % (target["address"], sub))
    if inner:
        text += " -> " + ("; ".join(inner) if len(inner) == 1 else "(%s)" % "; ".join(inner))
    return text


def summary_line(route):
    text = "%s -> %s" % (route["address"], describe_route(route))
    smtpd = route.get("accepted_by_smtpd") or {}
    if smtpd and not smtpd.get("stranger"):
        text += " | from other hosts: refused, not in rcpthosts (relay clients only)"
    if route.get("warnings"):
        text += " | %d WARNING%s" % (len(route["warnings"]), "" if len(route["warnings"]) == 1 else "S")
    return text
