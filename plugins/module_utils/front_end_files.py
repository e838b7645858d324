# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the relay front ends' files hold now, read only, so that nothing runs when nothing must change.

* tcpserver: whether tcprules must compile the rules file into its cdb;
* inetd + tcpd: what of the inetd role's line is in inetd.conf and of its block in hosts.allow, and whether
  ansible.builtin.lineinfile and blockinfile would change them.

Pure Python, no Ansible imports (relay.py validates and renders what the front ends must hold).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import stat

# The marker of the inetd role's block in hosts.allow, as ansible.builtin.blockinfile takes it.
HOSTS_ALLOW_MARKER = "# {mark} teamware.qmail inetd role: SMTP relay clients (tcpd rereads this file at every connection)"
# The mode and owner (root:root) the inetd role gives inetd.conf and hosts.allow.
CONFIG_FILE_MODE = 0o644


def cdb_reason(rules_file, rules_cdb, change):
    """Why tcprules must run, or '' when the cdb matches the rules file (change: files.plan of the rules file)."""
    if change is not None:
        # Any rewrite of the rules file (content, or only mode) makes it newer than the cdb.
        return "rules changed" if set(change["reasons"]) & set(["content", "create"]) else "rules file rewritten"
    if not os.path.exists(rules_cdb):
        return "cdb missing"
    if os.stat(rules_cdb).st_mtime_ns < os.stat(rules_file).st_mtime_ns:
        return "cdb older than rules"
    return ""


def encoded(text):
    return None if text is None else text.encode("utf-8", "surrogateescape")


def inetd_conf_state(path, text, line, regexp, other_regexp):
    """What of the inetd role's line inetd.conf (text; None: no file) holds: inetd_conf_lines (found by regexp),
    inetd_conf_other_lines (by other_regexp: another smtp line) and inetd_conf_current (nothing to do)."""
    lines = matching_lines(text, regexp)
    other = matching_lines(text, other_regexp)
    current = not other and lineinfile_keeps(encoded(text), regexp, line) and owned_by_root(path, CONFIG_FILE_MODE)
    return {"inetd_conf_lines": lines, "inetd_conf_other_lines": other, "inetd_conf_current": current}


def hosts_allow_state(path, text, marker, lines):
    """What of the inetd role's block hosts.allow (text; None: no file) holds: hosts_allow_block (a marker line is
    there) and hosts_allow_current (exactly the block of these lines, nothing to do)."""
    current = blockinfile_keeps(encoded(text), marker, "\n".join(lines)) and owned_by_root(path, CONFIG_FILE_MODE)
    return {"hosts_allow_block": has_block(text, marker), "hosts_allow_current": current}


def inetd_files_current(found, state):
    """Whether inetd.conf and hosts.allow are as the state (present or absent) wants them (found: both *_state)."""
    if state == "present":
        return found["inetd_conf_current"] and found["hosts_allow_current"]
    return not found["inetd_conf_lines"] and not found["hosts_allow_block"]


def matching_lines(text, regexp):
    """Lines of text that lineinfile's regexp finds (with and without their line end, to be safe)."""
    if not text:
        return []
    pattern = re.compile(regexp)
    return [line.rstrip("\r\n") for line in text.splitlines(True)
            if pattern.search(line) or pattern.search(line.rstrip("\r\n"))]


def has_block(text, marker):
    """Whether text holds a BEGIN or END line of blockinfile's marker."""
    if not text:
        return False
    wanted = set(marker.replace("{mark}", mark) for mark in ("BEGIN", "END"))
    return any(line.strip() in wanted for line in text.splitlines())


# What ansible.builtin.lineinfile and blockinfile would do, so that the inetd role calls them only when a file
# must change (a run that changes nothing then costs the one module call that reads the files).  Both work on
# bytes; so do these.


def _byte_lines(data, ends):
    return re.findall(ends, data)


def lineinfile_keeps(data, regexp, line):
    """Whether lineinfile (regexp, line, state present) leaves ``data`` (bytes; None: no file) as it is.

    It replaces the last line the regexp finds with ``line`` and a newline; the file stays as it is when
    that line is already exactly that.  When the regexp finds nothing it adds the line: a change.
    """
    if data is None:
        return False
    pattern = re.compile(regexp.encode("utf-8", "surrogateescape"))
    lines = _byte_lines(data, b"[^\n]*\n|[^\n]+$")
    found = [index for index, current in enumerate(lines) if pattern.search(current)]
    return bool(found) and lines[found[-1]] == line.encode("utf-8", "surrogateescape") + b"\n"


def blockinfile_keeps(data, marker, block):
    """Whether blockinfile (state present) leaves ``data`` (bytes; None: no file) as it is.

    It finds the last BEGIN and the last END marker line and puts the block between them; the file stays
    as it is when exactly the marked block is already there.
    """
    if data is None:
        return False
    begin = marker.replace("{mark}", "BEGIN").encode("utf-8", "surrogateescape") + b"\n"
    end = marker.replace("{mark}", "END").encode("utf-8", "surrogateescape") + b"\n"
    body = block.encode("utf-8", "surrogateescape")
    if body and not body.endswith(b"\n"):
        body += b"\n"
    wanted = [begin] + _byte_lines(body, b"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$") + [end] if body else []
    lines = _byte_lines(data, b"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
    first = last = None
    for index, current in enumerate(lines):
        if current == begin:
            first = index
        if current == end:
            last = index
    if first is None or last is None:
        return not wanted
    if first > last or (first > 0 and not lines[first - 1].endswith(b"\n")):
        return False
    return lines[first:last + 1] == wanted


def owned_by_root(path, mode):
    """Whether path is a regular file of root:root with exactly this mode (what the inetd role sets)."""
    try:
        status = os.stat(path)
    except OSError:
        return False
    return stat.S_ISREG(status.st_mode) and status.st_uid == 0 and status.st_gid == 0 and stat.S_IMODE(status.st_mode) == mode
