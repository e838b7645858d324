# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""inetd and tcpd as teamware.qmail.relay_rules (format hosts_allow) writes them: the two files and the HUP they owe.

Everything is read and checked before anything changes: the host's own lines that contradict the inventory stop the
run (front_end_ownership), then inetd.conf and hosts.allow are planned (inetd_files) and each is replaced atomically
(files.apply; a symbolic link is followed, so the link stays).  A file the collection creates is root's with mode
0644; an existing one keeps its owner and mode.

A changed inetd.conf owes inetd a HUP (it rereads the file only then; tcpd reads hosts.allow at every connection).
The HUP leaves no trace on the host, so it is recorded before inetd.conf changes, in a state file beside it
(STATE_NAME), and reported (owed_actions) on every call until the caller says it ran (completed_actions): a run killed
in between is finished by the next one.  An inetd that runs but does not answer on the port with qmail-smtpd's
greeting has not reread an inetd.conf that is already right: it is owed a HUP too (relay_rules adds it after the look
at the port).

Taking the front end out (state absent) removes the inetd.conf line at once, but hosts.allow's block only once inetd
no longer listens on the port (holds_port): until inetd has reread inetd.conf it still runs tcpd for every connection
there, and tcpd, which reads hosts.allow each time, would refuse the relay clients their RELAYCLIENT (553) without the
block.  So the role's first call leaves the block, the role sends the HUP, and its last call (completed_actions) takes
the block out (a HUP owed from before counts as done once inetd no longer listens on the port: the admin's HUP, when
the role sends none); a run killed in between leaves the block and the owed HUP, and the next run finishes both in that
order.  An inetd that does not run holds nothing: the block goes at once.  Check mode shows the whole plan (both
files), as it will be after the HUP.  When enabling, the order is the other way round: the block is written
before inetd.conf (plan's order), so it is there before inetd reads the new line.

The functions take the AnsibleModule for fail_json and check mode.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import time

from ansible_collections.teamware.qmail.plugins.module_utils import files
from ansible_collections.teamware.qmail.plugins.module_utils import front_end_ownership
from ansible_collections.teamware.qmail.plugins.module_utils import front_end_service
from ansible_collections.teamware.qmail.plugins.module_utils import inetd_files
from ansible_collections.teamware.qmail.plugins.module_utils import owed_actions
from ansible_collections.teamware.qmail.plugins.module_utils import relay

# Beside inetd.conf, only while a HUP is owed.
STATE_NAME = "teamware-qmail-inetd.json"
HUP = "hup_inetd"
# After the HUP (completed_actions) inetd is given this many seconds to let go of the port before the block stays.
HUP_WAIT = 5.0
# The mode of a file the collection creates (root's: the module runs as root; as another user, that user's).
NEW_FILE_MODE = 0o644


def state_path(inetd_conf):
    return os.path.join(os.path.dirname(os.path.realpath(inetd_conf)), STATE_NAME)


def file_state(path, content, kind):
    """The FileState of one of the two files: created root:root 0644, an existing one keeps its owner and mode."""
    real = os.path.realpath(path)
    try:
        info = os.stat(real)
        uid, gid, mode = info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)
    except FileNotFoundError:
        root = 0 if os.geteuid() == 0 else None
        uid, gid, mode = root, root, NEW_FILE_MODE
    return files.FileState(real, content, uid=uid, gid=gid, mode=mode, kind=kind)


def settings_from(params, prefix):
    return relay.InetdSettings.from_vars(
        prefix=prefix, qmail_dir=params["qmail_dir"], tcpd=params["tcpd"], user=params["user"],
        bind_address=params["bind_address"] or "", port=params["port"])


def look(module, settings, clients):
    """(texts, conflicts, the hosts.allow lines to remove): what the files hold, the host's own lines that contradict
    the inventory, and those that qmail_take_over names."""
    params = module.params
    present = params["state"] == "present"
    take_over, marker = params["take_over"], params["hosts_allow_marker"]
    conf_text = front_end_service.read_file(module, params["inetd_conf"])
    allow_text = front_end_service.read_file(module, params["hosts_allow"])
    conflicts = front_end_ownership.inetd_conflicts(params["inetd_conf"], conf_text, settings, take_over,
                                                    "qmail-smtpd" if present else "tcpserver (inetd_state: absent)")
    remove = []
    if present:
        conflicts += front_end_ownership.hosts_allow_conflicts(params["hosts_allow"], allow_text, marker, clients,
                                                               settings.daemon, take_over)
        remove = front_end_ownership.hosts_allow_taken_over(allow_text, marker, settings.daemon, take_over)
    return (conf_text, allow_text), conflicts, remove


def holds_port(module):
    """Whether inetd still listens on the port (front_end_service.inetd_holds_port); after the HUP (completed_actions,
    outside check mode) it is given HUP_WAIT seconds to reread inetd.conf and let go of it."""
    params = module.params
    wait = HUP_WAIT if HUP in params["completed_actions"] and not module.check_mode else 0
    deadline = time.time() + wait
    while True:
        try:
            held = front_end_service.inetd_holds_port(params["inetd_pid_file"], params["inetd_program"], params["port"])
        except OSError as exc:
            module.fail_json(msg="inetd_pid_file: cannot tell whether inetd still serves port %s (%s); nothing changed"
                                 % (params["port"], exc))
        if not held or time.time() >= deadline:
            return held
        time.sleep(0.2)


def plan(module, settings, clients, lines):
    """(FileStates, changes, removed lines, owed actions, whether inetd holds the port): the files as they must be and
    what differs, planned before anything changes; the state file first (the HUP recorded before inetd.conf changes),
    then hosts.allow (the relay clients in place before inetd serves the port with a new line), then inetd.conf.
    absent: the block stays while inetd holds the port (None for present: not looked at), except in check mode,
    which shows it gone as it will be after the HUP."""
    params = module.params
    present = params["state"] == "present"
    (conf_text, allow_text), conflicts, remove = look(module, settings, clients)
    if conflicts:
        module.fail_json(msg=front_end_ownership.render_conflicts(conflicts), conflicts=conflicts)
    held = None if present else holds_port(module)
    if held and not module.check_mode:
        allow, allow_removed = None, []
    else:
        allow, allow_removed = inetd_files.hosts_allow(allow_text, params["hosts_allow_marker"], lines, present, remove)
    conf, conf_removed = inetd_files.inetd_conf(conf_text, settings, present)
    wanted = [file_state(params["hosts_allow"], allow, "hosts.allow"), file_state(params["inetd_conf"], conf, "inetd.conf")]
    wanted = [state for state in wanted if state.content is not None]
    changes = [change for change in (files.plan(state) for state in wanted) if change]

    path = state_path(params["inetd_conf"])
    new = [HUP] if any(c["kind"] == "inetd.conf" and set(c["reasons"]) & set(["content", "create"]) for c in changes) else []
    completed = [action for action in params["completed_actions"] if action in front_end_service.INETD_ACTIONS]
    if held is False and HUP not in completed:
        # absent, and inetd does not listen on the port: a HUP owed before has arrived (the admin's, with the role's
        # inetd_reload_method none) or inetd does not run; nothing is owed for it any more.
        completed.append(HUP)
    try:
        owed, record = owed_actions.owed_state(path, front_end_service.INETD_ACTIONS, completed, new,
                                               "teamware.qmail relay_rules: inetd must reread %s (HUP); the inetd role "
                                               "clears this when it sent it" % params["inetd_conf"])
    except owed_actions.StateFileError as exc:
        module.fail_json(msg="%s; move it away (inetd may need a HUP to reread %s), nothing changed"
                             % (exc, params["inetd_conf"]))
    record_change = files.plan(record)
    if record_change:
        wanted.insert(0, record)
        changes.insert(0, record_change)
    removed = [{"file": params["inetd_conf"], "line": line} for line in conf_removed]
    removed += [{"file": params["hosts_allow"], "line": line} for line in allow_removed]
    return wanted, changes, removed, owed, held


def write(module, wanted, changes):
    """Each file that differs, atomically, in the planned order (nothing in check mode)."""
    if module.check_mode:
        return
    differs = set(change["path"] for change in changes)
    for state in wanted:
        if state.path in differs:
            front_end_service.write_file(module, state)
