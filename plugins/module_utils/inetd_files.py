# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inetd front end's two files as the collection writes them (relay_rules, format hosts_allow).

* inetd.conf: the collection's line for the SMTP port.  Every active line that relay.InetdSettings.service_regexp
  finds (a line for the port, or a line of the collection's shape on another port: the old line after a change of
  port or address) is the collection's: the line stays where it is, or takes the place of the first of them; the
  others go (two active lines for one port would fight over it); without one, the line is appended.  Every other line - comments, commented smtp
  lines, other services - is the host's own and stays as it is.  absent: every such line goes.
* hosts.allow: the block between the BEGIN and END marker lines (as ansible.builtin.blockinfile wrote it before the
  collection wrote the file itself, so that such a host sees no change), replaced where it is, or put at the top of the
  file when there is none (tcpd uses the first line that matches); the host's own lines that qmail_take_over names go;
  every other line stays.  absent: the block goes.

front_end_ownership decides which of the host's lines conflict with the inventory (the run stops before any change)
and which the inventory takes over.  The functions take and return text (None: no file) and never touch the host.

Pure Python, no Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_LINE = re.compile(r"[^\n]*\n|[^\n]+$")


def _lines(text):
    """The lines of text with their line ends, split at LF as inetd and tcpd read them (None: no file)."""
    return _LINE.findall(text or "")


def _bare(line):
    return line.rstrip("\r\n")


def _append(out, lines):
    """Put lines at the end of out; the last line of out gets the line end it may lack."""
    if out and not out[-1].endswith("\n"):
        out[-1] += "\n"
    out.extend(lines)


def inetd_conf(text, settings, present=True):
    """(inetd.conf as the collection wants it, the lines it removes or replaces); text None: no file.

    settings: relay.InetdSettings (the line and the regexp of the lines that are the collection's to replace).
    With present false and no file, the text stays None (nothing to remove, nothing is created).
    """
    if text is None and not present:
        return None, []
    pattern = re.compile(settings.service_regexp())
    wanted = settings.line()
    source = _lines(text)
    # The line stays where it is when it is there already; else it takes the place of the first line it replaces.
    keep_at = next((index for index, line in enumerate(source) if _bare(line) == wanted), None)
    out, removed, placed = [], [], False
    for index, line in enumerate(source):
        bare = _bare(line)
        if not pattern.search(bare):
            out.append(line)
            continue
        if present and not placed and keep_at in (None, index):
            placed = True
            out.append(wanted + "\n")
            if bare != wanted:
                removed.append(bare)
            continue
        removed.append(bare)
    if present and not placed:
        _append(out, [wanted + "\n"])
    return "".join(out), removed


def markers(marker):
    """The BEGIN and END lines of a marker ({mark} is BEGIN or END, as blockinfile takes it)."""
    return tuple(marker.replace("{mark}", mark) for mark in ("BEGIN", "END"))


def hosts_allow(text, marker, lines, present=True, remove=()):
    """(hosts.allow as the collection wants it, the host's lines it removes); text None: no file.

    lines: the block's lines (relay.hosts_allow_lines); remove: the host's own lines qmail_take_over lets go (as
    front_end_ownership.hosts_allow_taken_over returns them). The block is the lines from a BEGIN line to the next END
    line; a marker line without its partner is dropped alone (the lines after it are kept as the host's).
    """
    if text is None and not present:
        return None, []
    begin, end = markers(marker)
    source = _lines(text)
    ends = [index for index, line in enumerate(source) if line.strip() == end]
    out, removed, block_at, inside = [], [], None, False
    for index, line in enumerate(source):
        stripped = line.strip()
        if inside:
            inside = stripped != end
            continue
        if stripped == begin and any(other > index for other in ends):
            inside = True
            block_at = len(out) if block_at is None else block_at
            continue
        if stripped in (begin, end):
            continue
        if _bare(line) in remove:
            removed.append(_bare(line))
            continue
        out.append(line)
    if present:
        at = 0 if block_at is None else block_at
        tail = out[at:]
        del out[at:]
        _append(out, [begin + "\n"] + [line + "\n" for line in lines] + [end + "\n"])
        out.extend(tail)
    return "".join(out), removed
