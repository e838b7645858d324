# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The routing table on the host: which files to write, keeping the entries that are the host's own.

routing.py computes the collection's entries; ownership.py tells its entries from the host's own; this module
reads the host's files and the state file and turns the table into whole-file states (files.FileState) with the
host's own entries kept.  The routing_table module writes them.  Also what the module reads of qmail's installation
(missing_installation, lookup_account, users_cdb_outdated).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import os
import pwd

from ansible_collections.teamware.qmail.plugins.module_utils import delivery_wrapper
from ansible_collections.teamware.qmail.plugins.module_utils import files
from ansible_collections.teamware.qmail.plugins.module_utils import owed_actions
from ansible_collections.teamware.qmail.plugins.module_utils import ownership
from ansible_collections.teamware.qmail.plugins.module_utils import routing

CONTROL_FILES = ("rcpthosts", "locals", "virtualdomains", "smtproutes")


def state_path(qmail_dir):
    """The state file: what the collection wrote in qmail's files (JSON, readable by an admin)."""
    return os.path.join(qmail_dir, "control", ownership.STATE_NAME)


def file_path(qmail_dir, kind):
    if kind == "users_assign":
        return os.path.join(qmail_dir, "users", "assign")
    return os.path.join(qmail_dir, "control", kind)


def load_state(qmail_dir):
    """The state file, or, where there is none, whether an earlier version owned the control files whole.

    ValueError (owed_actions.StateFileError) when it cannot be read or is damaged: nothing may change then."""
    path = state_path(qmail_dir)
    text = owed_actions.read(path)
    state = ownership.State.parse(text, path)
    if text is None:
        for kind in ("rcpthosts", "locals"):
            current = files.read_text(file_path(qmail_dir, kind)) or ""
            if current.split("\n", 1)[0] == routing.MANAGED_MARKER:
                state.legacy = True
    return state


def is_marked(text):
    return text is not None and text.split("\n", 1)[0] == routing.MANAGED_MARKER


def marked_dot_qmail_files(home):
    """The .qmail files in a home directory that carry the collection's marker."""
    found = []
    try:
        names = sorted(os.listdir(home))
    except OSError:
        return found
    for name in names:
        if name != ".qmail" and not name.startswith(".qmail-"):
            continue
        path = os.path.join(home, name)
        if os.path.isfile(path) and not os.path.islink(path) and is_marked(files.read_text(path)):
            found.append(path)
    return found


class Plan:
    """Everything one call would write: states (FileState), the host's own entries kept, conflicts, owned lines."""

    def __init__(self):
        self.states = []
        self.kept = {}
        self.taken_over = []
        self.removed = []
        self.conflicts = []
        self.owned = {}
        self.dot_qmail = []


def desired_lines(table):
    """The collection's entry lines of each line file (users/assign without its closing '.')."""
    desired = dict((kind, list(table["control"][kind])) for kind in CONTROL_FILES)
    desired["users_assign"] = [line for line in table["users_assign"] if line != "."]
    return desired


def plan_files(table, qmail_dir, wrapper_path, state, take_over=(), foreign_entries="keep"):
    """The FileStates of the table, with the host's own entries kept; conflicts are listed, not raised."""
    result = Plan()
    header = [routing.MANAGED_MARKER, "# Method: %s (%s)" % (table["method"], table["section"])]
    desired = desired_lines(table)
    claims = ownership.Claims(desired, table.get("user_prefix"))
    take_over = set(take_over)
    for kind, _name in ownership.LINE_FILES:
        path = file_path(qmail_dir, kind)
        foreign, _ours = ownership.split_lines(kind, files.read_text(path), state)
        merged = ownership.merge(kind, foreign, desired[kind], take_over, foreign_entries, claims)
        result.conflicts += merged.conflicts
        result.kept[kind] = merged.kept
        result.taken_over += merged.taken_over
        result.removed += merged.removed
        result.owned[kind] = desired[kind]
        content = ownership.render(kind, merged.foreign, desired[kind], [] if kind == "users_assign" else header)
        result.states.append(files.FileState(path, content, kind=kind))
    for entry in table["dot_qmail"]:
        _plan_dot_qmail(result, entry, take_over, foreign_entries)
    root = 0 if os.geteuid() == 0 else None
    result.states.append(files.FileState(wrapper_path, delivery_wrapper.render(qmail_dir), root, root, 0o755,
                                         kind="delivery_wrapper"))
    return result


def _plan_dot_qmail(result, entry, take_over, foreign_entries):
    content = files.render_lines(entry["lines"])
    current = files.read_text(entry["path"])
    if current is not None and not is_marked(current) and current != files.render_lines(entry["lines"][1:]):
        if entry["path"] in take_over or foreign_entries == "remove":
            result.taken_over.append(entry["path"])
        else:
            first = current.split("\n", 1)[0]
            result.conflicts.append({
                "file": entry["path"], "line": first, "entry": entry["path"],
                "reason": "is the host's own .qmail file (it has no teamware.qmail marker); the collection would "
                          "replace it for %s" % entry["purpose"]})
    result.dot_qmail.append(entry["path"])
    result.states.append(files.FileState(entry["path"], content, entry["uid"], entry["gid"], int(entry["mode"], 8),
                                         kind="dot_qmail"))


def new_state(table, planned, pending, route_checked=None):
    """The state after the change; route_checked: the deploy check's digest that still holds for these entries."""
    return ownership.State(planned.owned, planned.dot_qmail, pending, table["method"], route_checked=route_checked)


def intent_state(old, table, planned, pending):
    """Written before any file changes: both the old and the new entries are the collection's, and the actions
    the change will owe are recorded, so that a run killed half-way is finished by the next one."""
    lines = dict((kind, old.lines[kind] + [line for line in planned.owned[kind] if line not in old.lines[kind]])
                 for kind in planned.owned)
    if old.legacy:
        for kind, _name in ownership.LINE_FILES:
            current = files.read_text(file_path_from_states(planned, kind)) or ""
            lines[kind] += [line for line in current.split("\n") if ownership.line_key(kind, line) is not None]
    return ownership.State(lines, list(old.dot_qmail) + planned.dot_qmail, pending, table["method"])


def file_path_from_states(planned, kind):
    for state in planned.states:
        if state.kind == kind:
            return state.path
    return None


def diff_note(change, planned):
    """The diff of one change, saying which of the host's own entries were kept."""
    entry = files.diff_entry(change)
    kept = planned.kept.get(change["kind"], [])
    if kept and change["action"] == "write":
        entry["after_header"] = "%s (%d entr%s of the host's own kept: %s)" % (
            change["path"], len(kept), "y" if len(kept) == 1 else "ies", ", ".join(kept))
    return entry


def lookup_account(name, overrides):
    """An Account from qmail_accounts or passwd, or None when there is no such user."""
    if name in overrides:
        # checked by routing.Settings.from_vars, which names qmail_accounts and the user
        return routing.Account.from_entry(name, overrides[name])
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return routing.Account(name, entry.pw_uid, entry.pw_gid, entry.pw_dir)


def missing_installation(qmail_dir, users, groups, overrides):
    """What of qmail's installation is missing, as readable phrases."""
    missing = []
    if not os.path.isfile(os.path.join(qmail_dir, "bin", "qmail-send")):
        missing.append("%s/bin/qmail-send is missing" % qmail_dir)
    for needed in ("control", "users"):
        if not os.path.isdir(os.path.join(qmail_dir, needed)):
            missing.append("%s/%s is missing" % (qmail_dir, needed))
    absent = [name for name in users if name not in overrides and lookup_account(name, {}) is None]
    if absent:
        missing.append("missing users: %s" % ", ".join(absent))
    absent = []
    for name in groups:
        try:
            grp.getgrnam(name)
        except KeyError:
            absent.append(name)
    if absent:
        missing.append("missing groups: %s" % ", ".join(absent))
    return missing


def users_cdb_outdated(qmail_dir):
    assign = os.path.join(qmail_dir, "users", "assign")
    cdb = os.path.join(qmail_dir, "users", "cdb")
    if not os.path.exists(cdb):
        return True
    return os.path.exists(assign) and os.stat(assign).st_mtime > os.stat(cdb).st_mtime
