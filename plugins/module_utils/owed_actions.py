# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a change still owes the host (a restart, a HUP), kept in a small JSON state file until it ran.

A restart leaves no trace on the host: a run killed between a change and its restart would leave the service
running the old settings, and the next run would see nothing to do.  So the action is recorded in a state file
before the change and reported on every call until the caller says it ran (its completed actions); then it is
cleared, and with it the file.  One format, on disk on existing hosts (do not change it):

    {"format": 1, "owed": ["restart_tcpserver"], "note": "..."}

in a daemontools service directory (``teamware-qmail.json``: qmail-send's, written by routing_table's send_service, and
tcpserver's, written by relay_rules), and beside inetd.conf (``teamware-qmail-inetd.json``: inetd's HUP, written by
relay_rules).  The routing table's state file (ownership.State, in qmail's control
directory) has the same envelope and keeps its owed actions under ``pending``; it reads them with ``read``,
``parse`` and ``actions``.  The mime_connector role's marker of an owed start is another format (a plain file whose
existence is the record): ``marker_exists``.  Pure Python, no Ansible imports; the file is written atomically by
files.apply.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.teamware.qmail.plugins.module_utils import files

STATE_NAME = "teamware-qmail.json"
STATE_FORMAT = 1


class StateFileError(ValueError):
    """The state file cannot be trusted: unreadable, not JSON, not our format, or owing what this version cannot do."""


def parse(text, path):
    """The state file's JSON object (a dict with format STATE_FORMAT); StateFileError naming path and what is wrong."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise StateFileError("%s is not valid JSON (%s)" % (path, exc))
    if not isinstance(data, dict):
        raise StateFileError("%s is not a teamware.qmail state file: a JSON object is expected, not %s"
                             % (path, type(data).__name__))
    if data.get("format") != STATE_FORMAT:
        raise StateFileError("%s is not a teamware.qmail state file of format %d (format: %r)"
                             % (path, STATE_FORMAT, data.get("format")))
    return data


def actions(data, key, known, path):
    """The actions listed under key (none when the key is absent), in the order of known.

    A value that is not a list of strings, or an action this version does not know (a file written by another
    version of the collection), raises StateFileError: an owed action is never dropped without a word.
    """
    recorded = data.get(key, [])
    if not isinstance(recorded, list) or not all(isinstance(action, str) for action in recorded):
        raise StateFileError("%s: %r must be a list of action names, not %r" % (path, key, recorded))
    unknown = sorted(set(recorded) - set(known))
    if unknown:
        raise StateFileError("%s owes %s, which this version of teamware.qmail does not know (it knows %s): carry it "
                             "out by hand and remove it from the file" % (path, ", ".join(unknown), ", ".join(known)))
    return [action for action in known if action in recorded]


def read(path):
    """The state file's text, None when there is none; StateFileError when it cannot be read (never "no file")."""
    try:
        return files.read_text(path)
    except OSError as exc:
        raise StateFileError("cannot read %s: %s" % (path, exc))


def marker_exists(path):
    """Whether a marker file is there, for a record that is a file's existence (the mime_connector role's state
    file: plain text, written before the connector is stopped and removed once it started).  A link counts as there;
    a path that cannot be looked at (a permission error) raises StateFileError: it is never taken for "no marker"."""
    try:
        os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as exc:
        raise StateFileError("cannot look at %s: %s" % (path, exc.strerror or exc))
    return True


def load(path, known):
    """The actions an earlier call recorded in path and nobody has said ran; [] when there is no file."""
    text = read(path)
    if text is None:
        return []
    return actions(parse(text, path), "owed", known, path)


def owed_state(path, known, completed, new, note):
    """(owed actions, files.FileState of the state file) for one call.

    owed: what was recorded before and is not in completed, plus new (what this call's planned changes make owed),
    in the order of known.  The FileState holds them (with note, for an admin who finds the file), or, when nothing
    is owed, says that the file must not exist.  The caller writes it with files.apply (atomic) before the change
    that makes the actions owed.
    """
    for action in list(completed) + list(new):
        if action not in known:
            raise ValueError("unknown action %r (known: %s)" % (action, ", ".join(known)))
    owed = (set(load(path, known)) - set(completed)) | set(new)
    owed = [action for action in known if action in owed]
    content = None
    if owed:
        content = json.dumps({"format": STATE_FORMAT, "owed": owed, "note": note}, indent=1, sort_keys=True) + "\n"
    return owed, files.FileState(path, content, mode=0o644, kind="state")
