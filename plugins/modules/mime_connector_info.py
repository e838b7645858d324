#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: mime_connector_info
short_description: Look at a Teamware Office installation and at whether its MIME connector is owed a start
version_added: "0.1.0"
description:
  - In one call, looks at the Teamware Office root, and at C(torecvm) and its spool directory when qmail pipes mail into
    it (O(torecvm_needed)).
  - Tells whether the connector is owed a start (RV(start_owed)), because an earlier run stopped it and did not start it again
    (O(state_file)), or O(status_command) says it does not run.
  - With O(settings), also tells which of the connector's keys in O(to_ini) and O(tombsmtp_ini)
    M(teamware.qmail.mime_connector_files) would change (RV(changes)), worked out by the writer's own code on the same
    inputs (the same read of the files and the same edits), so that one call looks at everything the role
    C(teamware.qmail.mime_connector) needs before it changes anything. It fails as the writer would, naming the lines to
    fix by hand, and shows the O(settings)' warnings as its own.
  - Nothing is changed, in any mode. M(teamware.qmail.mime_connector_files) writes the files.
author:
  - teamware.qmail contributors (@teamware)
extends_documentation_fragment:
  - teamware.qmail.attributes.INFO
options:
  root:
    description: The Teamware Office root directory, for example V(/to); torecvm delivers into its C(smtp) directory.
    type: path
    required: true
  torecvm:
    description: The C(torecvm) program qmail pipes mail into; looked at only when O(torecvm_needed) is true.
    type: path
    default: /usr/bin/torecvm
  torecvm_needed:
    description:
      - Whether qmail pipes mail into O(torecvm) (the torecvm methods; C(to_ini.sendmail) of
        P(teamware.qmail.mime_connector_settings#filter) is 1).
    type: bool
    default: false
  state_file:
    description:
      - The marker the role C(teamware.qmail.mime_connector) writes before it stops the connector and removes after it
        started it again. When it exists, an earlier run stopped the connector and did not finish (RV(start_owed)).
        When whether it exists cannot be told (a permission error), the module fails.
    type: path
  status_command:
    description:
      - A command (no shell) that tells whether the connector runs, exit status 0 if it does; it must change nothing.
        When it says the connector does not run, RV(start_owed) is true. Empty or omitted, whether it runs is unknown.
      - It runs in check mode too.
    type: str
  settings:
    description:
      - The connector settings, the result of P(teamware.qmail.mime_connector_settings#filter), as
        M(teamware.qmail.mime_connector_files) takes them. With them, RV(changes) and RV(files) are returned.
    type: dict
  to_ini:
    description: The connector's C(to.ini); required with O(settings).
    type: path
  tombsmtp_ini:
    description: The connector's C(tombsmtp.ini); required with O(settings).
    type: path
  mode:
    description:
      - The mode M(teamware.qmail.mime_connector_files) would give a file it creates; only checked here, so that a wrong
        one fails before anything changes.
    type: raw
    default: "0644"
  require_installed:
    description:
      - Fail unless Teamware Office is installed as the method needs it - O(root) a directory and, when
        O(torecvm_needed), O(torecvm) an executable file and the spool directory (C(smtp) in O(root)) a directory -
        with a message that names the role C(teamware.qmail.mime_connector)'s variables (C(mime_connector_root),
        C(mime_connector_torecvm_path)) and the method of O(settings).
      - The role's look sets it, so that no task of its own is needed for the check.
    type: bool
    default: false
notes:
  - Run it as the user that may read the Teamware Office root (usually with C(become)).
seealso:
  - module: teamware.qmail.mime_connector_files
"""

EXAMPLES = r"""
- name: Look at Teamware Office
  teamware.qmail.mime_connector_info:
    root: /to
    torecvm_needed: true
  register: teamware

- name: Stop unless torecvm is there
  ansible.builtin.assert:
    that: teamware.torecvm.executable

- name: Look at Teamware Office and at what its connector's files need
  teamware.qmail.mime_connector_info:
    root: /to
    settings: "{{ hostvars[groups['qmail_hosts'][0]] | teamware.qmail.mime_connector_settings }}"
    to_ini: /to/to.ini
    tombsmtp_ini: /to/tombsmtp.ini
  register: teamware

- name: Write the keys only where they need it
  teamware.qmail.mime_connector_files:
    settings: "{{ hostvars[groups['qmail_hosts'][0]] | teamware.qmail.mime_connector_settings }}"
    to_ini: /to/to.ini
    tombsmtp_ini: /to/tombsmtp.ini
  when: teamware.changes | length > 0
"""

RETURN = r"""
root:
  description: The Teamware Office root.
  returned: always
  type: dict
  sample: {path: /to, isdir: true, owner: teamware, group: teamware}
torecvm:
  description: C(torecvm); O(torecvm) is looked at only when C(needed).
  returned: always
  type: dict
  sample: {path: /usr/bin/torecvm, needed: true, executable: true}
spool:
  description: The directory torecvm delivers into (C(smtp) in O(root)).
  returned: always
  type: dict
  sample: {path: /to/smtp, isdir: true}
running:
  description: What O(status_command) says (true, exit status 0); null without it.
  returned: always
  type: bool
start_owed:
  description:
    - The connector should run and must be started, even if no file changes - O(state_file) exists (an earlier run
      stopped it and was interrupted before it started it again), or O(status_command) says it does not run.
  returned: always
  type: bool
start_owed_reason:
  description: Why RV(start_owed) is true; empty when it is not.
  returned: always
  type: str
changes:
  description:
    - The keys M(teamware.qmail.mime_connector_files) would change with the same O(settings), as C(file [section] option)
      or C(file option); empty when the files are right.
  returned: when O(settings) is given
  type: list
  elements: str
  sample: ["to.ini [MIME] mode", "tombsmtp.ini own_node"]
files:
  description: C(to.ini) and C(tombsmtp.ini) by the names the edits use, with their path, whether they exist, and whether they would change.
  returned: when O(settings) is given
  type: dict
  sample: {"to.ini": {path: /to/to.ini, exists: true, changed: true}}
"""

import grp
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.teamware.qmail.plugins.module_utils import connector_files
from ansible_collections.teamware.qmail.plugins.module_utils import connector_files_look
from ansible_collections.teamware.qmail.plugins.module_utils import owed_actions


def owner_names(status):
    try:
        owner = pwd.getpwuid(status.st_uid).pw_name
    except KeyError:
        owner = str(status.st_uid)
    try:
        group = grp.getgrgid(status.st_gid).gr_name
    except KeyError:
        group = str(status.st_gid)
    return owner, group


def look(path):
    try:
        return os.stat(path)
    except OSError:
        return None


def connector_status(module, state_file, status_command):
    """(running, start_owed, reason): the marker of an unfinished run, then what the status command says."""
    running = None
    if status_command:
        rc, _out, _err = module.run_command(status_command)
        running = rc == 0
    try:
        marked = bool(state_file) and owed_actions.marker_exists(state_file)
    except owed_actions.StateFileError as exc:
        module.fail_json(msg="state_file: %s; nothing changed" % exc)
    if marked:
        return running, True, "%s exists: an earlier run stopped the connector and did not start it again" % state_file
    if running is False:
        return running, True, "the status command (%s) says the connector does not run" % status_command
    return running, False, ""


def files_result(module):
    """changes and files as mime_connector_files would find them (its Look, its plan), or its failure."""
    params = module.params
    if params["settings"] is None:
        return {}
    problem = connector_files.input_problem(params["settings"], params["mode"])
    if problem:
        module.fail_json(msg=problem)
    look = connector_files_look.Look(params["to_ini"], params["tombsmtp_ini"], params["settings"])
    if look.problems:
        module.fail_json(msg=connector_files_look.FIX_BY_HAND + "; ".join(look.problems), problems=look.problems)
    for text in params["settings"].get("warnings") or []:
        module.warn(text)
    return {"changes": look.changes(), "files": look.facts()}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type="path", required=True),
            torecvm=dict(type="path", default="/usr/bin/torecvm"),
            torecvm_needed=dict(type="bool", default=False),
            state_file=dict(type="path"),
            status_command=dict(type="str"),
            settings=dict(type="dict"),
            to_ini=dict(type="path"),
            tombsmtp_ini=dict(type="path"),
            mode=dict(type="raw", default="0644"),
            require_installed=dict(type="bool", default=False),
        ),
        required_together=[("settings", "to_ini", "tombsmtp_ini")],
        supports_check_mode=True,
    )
    found = files_result(module)
    params = module.params
    root = params["root"]
    root_status = look(root)
    root_facts = {"path": root, "isdir": bool(root_status and stat.S_ISDIR(root_status.st_mode))}
    if root_status is not None:
        root_facts["owner"], root_facts["group"] = owner_names(root_status)

    needed = params["torecvm_needed"]
    torecvm_status = look(params["torecvm"]) if needed else None
    torecvm_facts = {
        "path": params["torecvm"],
        "needed": needed,
        "executable": bool(torecvm_status and stat.S_ISREG(torecvm_status.st_mode) and os.access(params["torecvm"], os.X_OK)),
    }
    spool = {"path": os.path.join(root, "smtp"), "isdir": os.path.isdir(os.path.join(root, "smtp"))}
    if params["require_installed"]:
        missing = connector_files_look.installation_problems(
            root, root_facts["isdir"], params["torecvm"], needed, torecvm_facts["executable"], spool["path"],
            spool["isdir"], (params["settings"] or {}).get("method"))
        if missing:
            module.fail_json(msg=" ".join(missing), root=root_facts, torecvm=torecvm_facts, spool=spool)
    running, start_owed, reason = connector_status(module, params["state_file"], params["status_command"])
    module.exit_json(
        changed=False,
        root=root_facts,
        torecvm=torecvm_facts,
        spool=spool,
        running=running,
        start_owed=start_owed,
        start_owed_reason=reason,
        **found
    )


if __name__ == "__main__":
    main()
