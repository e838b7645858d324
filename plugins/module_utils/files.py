# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whole-file desired state for qmail's files: compare, diff, replace atomically.

qmail reads its control files and .qmail files at any moment, so a file is never
truncated in place: the new content goes to a temporary file in the same
directory, gets its owner and mode, is flushed to disk and renamed over the old
one.  A reader sees the old file or the new one, never half of either.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import tempfile


class FileState:
    """What one file must be: content (None = must not exist), owner ids and mode."""

    def __init__(self, path, content, uid=None, gid=None, mode=0o644, kind="file"):
        self.path = path
        self.content = content
        self.uid = uid
        self.gid = gid
        self.mode = mode
        self.kind = kind


def read_text(path):
    """The file's text, or None when it does not exist."""
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        return None


def render_lines(lines):
    """qmail wants LF line ends and a final newline; never CR."""
    return "".join("%s\n" % line for line in lines)


def plan(state):
    """Compare one desired FileState with the disk; returns a change dict or None when in state."""
    current = read_text(state.path)
    if state.content is None:
        if current is None:
            return None
        return {"path": state.path, "kind": state.kind, "action": "remove", "before": current, "after": ""}
    reasons = []
    if current != state.content:
        reasons.append("content" if current is not None else "create")
    else:
        info = os.lstat(state.path)
        if stat.S_IMODE(info.st_mode) != state.mode:
            reasons.append("mode")
        if (state.uid is not None and info.st_uid != state.uid) or (state.gid is not None and info.st_gid != state.gid):
            reasons.append("owner")
    if not reasons:
        return None
    return {"path": state.path, "kind": state.kind, "action": "write", "reasons": reasons,
            "before": current or "", "after": state.content}


def apply(state):
    """Bring one file into state atomically (temporary file in the same directory, then rename)."""
    if state.content is None:
        try:
            os.unlink(state.path)
        except FileNotFoundError:
            pass
        return
    directory = os.path.dirname(state.path) or "."
    handle, temporary = tempfile.mkstemp(prefix=".%s." % os.path.basename(state.path), suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(state.content.encode("utf-8", "surrogateescape"))
            out.flush()
            os.fchmod(out.fileno(), state.mode)
            if state.uid is not None or state.gid is not None:
                os.fchown(out.fileno(), -1 if state.uid is None else state.uid, -1 if state.gid is None else state.gid)
            os.fsync(out.fileno())
        os.rename(temporary, state.path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _fsync_directory(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def diff_entry(change):
    """One change as Ansible's --diff shows it."""
    return {
        "before_header": change["path"] if change["before"] else "%s (absent)" % change["path"],
        "after_header": change["path"] if change["action"] == "write" else "%s (absent)" % change["path"],
        "before": change["before"],
        "after": change["after"],
    }
