# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What qmail-lspawn and qmail-local look up on the host for one local delivery (notqmail 1.09).

* qmail-lspawn.c: users/cdb (``!local`` exact, then the longest wildcard whose last character is a
  wildcard character), else qmail-getpw.c (passwd user with uid != 0 owning an existing home, ``name``
  or ``name-anything``), else alias;
* qmail-local.c: the .qmail file search (extension lower-cased, '.' written ':', ``-default`` from the
  longest prefix), NEWSENDER, the environment of the delivery programs, and its messages.

Pure Python; the host is reached through a qmail_host.HostView.  router.py runs the deliveries.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath
import stat

from ansible_collections.teamware.qmail.plugins.module_utils import qmail_host
from ansible_collections.teamware.qmail.plugins.module_utils.qmail_config import lower, scan_ulong

AUTO_BREAK = "-"
GETPW_USERLEN = 32
AUTO_PATRN = 0o002

MSG_NO_MAILBOX = "Sorry, no mailbox here by that name. (#5.1.1)"
MSG_LOOP = "This message is looping: it already has my Delivered-To line. (#5.4.6)"
MSG_ROOT = "Not allowed to perform deliveries as root."
MSG_NOALIAS = "Unable to find alias user!"
MSG_HOME_WRITABLE = "Uh-oh: home directory is writable. (#4.7.0)"
MSG_HOME_STICKY = "Home directory is sticky: user is editing his .qmail file. (#4.2.1)"
MSG_QMAIL_WRITABLE = "Uh-oh: .qmail file is writable. (#4.7.0)"
MSG_BLANK_FIRST = "Uh-oh: first line of .qmail file is blank. (#4.2.1)"
MSG_XBIT_FILE = "Uh-oh: .qmail has file delivery but has x bit set. (#4.7.0)"
MSG_XBIT_PROG = "Uh-oh: .qmail has prog delivery but has x bit set. (#4.7.0)"


def lookup_user(view, local):
    """qmail-lspawn's nughde_get: users/cdb, then qmail-getpw.  Returns a dict."""
    lookup = {"local": local, "skipped": []}
    cdb_path = view.qmail_path("users", "cdb")
    key = ("!" + lower(local)).encode("utf-8", "surrogateescape")
    raw_local = local.encode("utf-8", "surrogateescape")
    data = None
    try:
        if view.stat(cdb_path) is not None:
            wildchars = view.cdb_get(cdb_path, b"")
            if wildchars is None:
                lookup["error"] = "Trouble reading users/cdb in qmail-lspawn."
                return lookup
            found = view.cdb_get(cdb_path, key + b"\0")
            if found is not None:
                data = found
                lookup["source"] = "users/cdb"
                lookup["assign"] = "=" + lower(local)
            else:
                for i in range(len(key), 0, -1):
                    if i == 1 or key[i - 1:i] in wildchars:
                        found = view.cdb_get(cdb_path, key[:i])
                        if found is not None:
                            data = found + raw_local[i - 1:]
                            lookup["source"] = "users/cdb"
                            lookup["assign"] = "+" + key[1:i].decode("utf-8", "surrogateescape")
                            break
    except qmail_host.CdbUnavailable:
        lookup["error"] = "users/cdb exists but no cdb library is available to read it"
        return lookup
    if data is not None:
        fields = data.split(b"\0")
        if len(fields) < 6:
            lookup["error"] = "Internal qmail-lspawn bug."
            return lookup
        text = [f.decode("utf-8", "surrogateescape") for f in fields]
        lookup.update(user=text[0], uid=scan_ulong(text[1]), gid=scan_ulong(text[2]), home=text[3], dash=text[4],
                      ext=text[5])
        return lookup
    return _getpw(view, local, lookup)


def _getpw(view, local, lookup):
    """qmail-getpw.c: a passwd user owns name and name-anything; everything else is alias's."""
    for end in range(len(local), -1, -1):
        if end < GETPW_USERLEN and (end == len(local) or local[end] == AUTO_BREAK):
            username = lower(local[:end])
            entry = view.getpwnam(username) if username else None
            if entry is not None:
                reason = None
                if entry.uid == 0:
                    reason = "uid 0"
                else:
                    st = view.stat(entry.home)
                    if st is None:
                        reason = "home %s does not exist" % entry.home
                    elif st.st_uid != entry.uid:
                        reason = "home %s is owned by uid %d, not by the user (uid %d)" % (entry.home, st.st_uid, entry.uid)
                if reason is None:
                    dash, ext = ("-", local[end + 1:]) if end < len(local) else ("", "")
                    lookup.update(source="passwd", user=entry.name, uid=entry.uid, gid=entry.gid, home=entry.home,
                                  dash=dash, ext=ext)
                    return lookup
                lookup["skipped"].append({"user": username, "reason": reason})
    entry = view.getpwnam("alias")
    if entry is None:
        lookup["error"] = MSG_NOALIAS
        return lookup
    lookup.update(source="alias", user=entry.name, uid=entry.uid, gid=entry.gid, home=entry.home, dash="-", ext=local)
    return lookup

# ---- qmail-local


def qmesearch(view, info):
    """The .qmail file qmail-local reads: (path or None, forward-only, DEFAULT or None, error dest or None)."""
    home = info["home"]
    dash = info["dash"]
    ext = info["ext"]
    safeext = lower(ext).replace(".", ":")
    candidates = [(".qmail" + dash + safeext, None)]
    if len(safeext) >= 7 and safeext.endswith("default"):
        candidates[0] = (candidates[0][0], len(safeext) - 7)
    for i in range(len(safeext), -1, -1):
        if i == 0 or safeext[i - 1] == "-":
            candidates.append((".qmail" + dash + safeext[:i] + "default", i))
    for name, cut in candidates:
        path = posixpath.join(home, name)
        info["dot_qmail_tried"].append(path)
        try:
            st = view.stat(path)
        except (IOError, OSError) as exc:
            return None, False, None, {"type": "defer", "reason": "Unable to open %s: %s. (#4.3.0)" % (path, exc)}
        if st is None or not stat.S_ISREG(st.st_mode):
            continue
        info["dot_qmail"] = path
        if st.st_mode & AUTO_PATRN:
            return path, False, None, {"type": "defer", "reason": MSG_QMAIL_WRITABLE}
        default = ext[cut:] if cut is not None and cut <= len(ext) else None
        return path, bool(st.st_mode & 0o100), default, None
    return None, False, None, None


def newsender(view, info, sender, local, host):
    """NEWSENDER: the sender, or the -owner address when a .qmail-owner file exists."""
    if not sender or sender == "#@[]":
        return sender
    base = posixpath.join(info["home"], ".qmail" + info["dash"] + lower(info["ext"]).replace(".", ":"))
    if view.stat(base + "-owner") is None:
        return sender
    if view.stat(base + "-owner-default") is not None:
        return "%s-owner-@%s-@[]" % (local, host)
    return "%s-owner@%s" % (local, host)


def local_environment(user, home, local, dash, ext, host, sender):
    """The variables qmail-local sets for delivery programs (DEFAULT and NEWSENDER are added by the caller)."""
    env = {"USER": user, "HOME": home, "LOCAL": local, "HOST": host, "SENDER": sender,
           "RECIPIENT": "%s@%s" % (local, host), "EXT": ext}
    env["DTLINE"] = "Delivered-To: %s\n" % env["RECIPIENT"].replace("\n", "_")
    env["RPLINE"] = "Return-Path: <%s>\n" % quote2(sender).replace("\n", "_")
    rest = ext
    for index in (2, 3, 4):
        cut = rest.find("-")
        rest = rest[cut + 1:] if cut >= 0 else ""
        env["EXT%d" % index] = rest
    i = len(host)
    for index in (2, 3, 4):
        cut = host.rfind(".", 0, i)
        i = cut if cut >= 0 else i
        env["HOST%d" % index] = host[:i]
    return env


_QUOTE_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-./=?^_`{|}~")


def _quote(box):
    """qmail's quote(): a local part in double quotes when RFC 821 needs it."""
    need = (not box or any(c not in _QUOTE_OK for c in box) or box.startswith(".") or box.endswith(".") or ".." in box)
    if not need:
        return box
    return '"%s"' % "".join("\\" + c if c in '\r\n"\\' else c for c in box)


def quote2(address):
    """qmail's quote2(): quote the part before the last '@' of an envelope address."""
    if not address:
        return address
    at = address.rfind("@")
    if at < 0:
        return _quote(address)
    return _quote(address[:at]) + address[at:]
