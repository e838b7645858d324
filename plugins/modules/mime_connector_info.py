#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: mime_connector_info
short_description: Look at a Teamware Office installation and tell whether the MIME connector's files must change
version_added: "0.1.0"
description:
  - In one call, looks at the Teamware Office root, at C(torecvm) and its spool directory when the method pipes mail into
    it, and reads C(to.ini) and C(tombsmtp.ini).
  - Compares the files with the settings that P(teamware.qmail.mime_connector_settings#filter) computed, the way
    M(community.general.ini_file) would edit them (state present, exclusive, ignore_spaces, modify_inactive_option false),
    and returns the edits that would change a file. The role C(teamware.qmail.mime_connector) stops the connector only
    when there is one, so that a run that changes nothing never stops Teamware Office.
  - Reports the lines that C(ini_file) cannot edit safely (a C([mime]) section or a C(Mode =) key the connector would
    still read, C(own_node) inside a section, text that is not UTF-8) and whether the C(own_node) lines must be written
    again to get their order right.
  - The C(warnings) of O(settings) (risky connector settings) are the module's warnings.
  - Tells whether the connector is owed a start (RV(start_owed)), because an earlier run stopped it and did not start it again
    (O(state_file)), or O(status_command) says it does not run.
  - Nothing is changed.
author:
  - teamware.qmail contributors (@teamware)
extends_documentation_fragment:
  - teamware.qmail.attributes.INFO
options:
  settings:
    description:
      - The connector settings, the result of P(teamware.qmail.mime_connector_settings#filter); its C(edits),
        C(tombsmtp_ini) and C(to_ini.sendmail) are used.
    type: dict
    required: true
  root:
    description: The Teamware Office root directory, for example V(/to); torecvm delivers into its C(smtp) directory.
    type: path
    required: true
  to_ini:
    description: The connector's C(to.ini); by default C(to.ini) in O(root).
    type: path
  tombsmtp_ini:
    description: The connector's C(tombsmtp.ini); by default C(tombsmtp.ini) in O(root).
    type: path
  torecvm:
    description: The C(torecvm) program qmail pipes mail into; looked at only when C(settings.to_ini.sendmail) is 1.
    type: path
    default: /usr/bin/torecvm
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
notes:
  - Run it as the user that may read the files (usually with C(become)).
seealso:
  - module: community.general.ini_file
"""

EXAMPLES = r"""
- name: Look at the connector
  teamware.qmail.mime_connector_info:
    settings: "{{ hostvars[groups['qmail_hosts'][0]] | teamware.qmail.mime_connector_settings }}"
    root: /to
  register: connector

- name: Say what would change
  ansible.builtin.debug:
    msg: "{{ connector.pending_edits | map(attribute='option') | list }}"
  when: connector.needs_change
"""

RETURN = r"""
settings:
  description: O(settings) as given, so that the caller can compute them in the call's arguments and use them afterwards.
  returned: always
  type: dict
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
files:
  description: C(to.ini) and C(tombsmtp.ini), by the names the edits use; C(mode), C(owner) and C(group) when they exist.
  returned: always
  type: dict
  sample: {"to.ini": {path: /to/to.ini, exists: true, mode: "0640", owner: teamware, group: teamware}}
problems:
  description: Lines or files that C(ini_file) cannot edit safely; fix them by hand first.
  returned: always
  type: list
  elements: str
  sample: ["to.ini line 3: section [mime]: write it [MIME], as the role edits it"]
own_node_current:
  description: The active top-level C(own_node) values of C(tombsmtp.ini), in file order.
  returned: always
  type: list
  elements: str
own_node_reorder:
  description: Whether the C(own_node) lines must be removed and written again to get the desired order.
  returned: always
  type: bool
pending_edits:
  description: The edits of C(settings.edits) that would change a file.
  returned: always
  type: list
  elements: dict
  sample: [{file: to.ini, section: MIME, option: mode, value_list: [strict]}]
needs_change:
  description: Whether any file must change (C(pending_edits) or C(own_node_reorder)).
  returned: always
  type: bool
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
"""

import grp
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.teamware.qmail.plugins.module_utils import connector
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


def read_file(name, path, problems):
    """The file's facts and its text (None when it does not exist or cannot be used)."""
    facts = {"path": path, "exists": os.path.lexists(path)}
    if not facts["exists"]:
        return facts, None
    status = look(path)
    if status is None or not stat.S_ISREG(status.st_mode):
        problems.append("%s: %s is not a regular file" % (name, path))
        return facts, None
    facts["mode"] = "%04o" % stat.S_IMODE(status.st_mode)
    facts["owner"], facts["group"] = owner_names(status)
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except (IOError, OSError) as exc:
        problems.append("%s: cannot read %s: %s" % (name, path, exc))
        return facts, None
    try:
        return facts, raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append("%s: %s is not UTF-8 text (byte %d); ini_file cannot edit it" % (name, path, exc.start))
        return facts, None


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


def main():
    module = AnsibleModule(
        argument_spec=dict(
            settings=dict(type="dict", required=True),
            root=dict(type="path", required=True),
            to_ini=dict(type="path"),
            tombsmtp_ini=dict(type="path"),
            torecvm=dict(type="path", default="/usr/bin/torecvm"),
            state_file=dict(type="path"),
            status_command=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    settings = params["settings"]
    for key in ("edits", "tombsmtp_ini", "to_ini"):
        if key not in settings:
            module.fail_json(msg="settings: %r is missing; pass the result of teamware.qmail.mime_connector_settings" % key)
    root = params["root"]

    root_status = look(root)
    root_facts = {"path": root, "isdir": bool(root_status and stat.S_ISDIR(root_status.st_mode))}
    if root_status is not None:
        root_facts["owner"], root_facts["group"] = owner_names(root_status)

    needed = str(settings["to_ini"].get("sendmail")) == "1"
    torecvm_status = look(params["torecvm"]) if needed else None
    torecvm_facts = {
        "path": params["torecvm"],
        "needed": needed,
        "executable": bool(torecvm_status and stat.S_ISREG(torecvm_status.st_mode) and os.access(params["torecvm"], os.X_OK)),
    }
    spool = os.path.join(root, "smtp")
    spool_facts = {"path": spool, "isdir": os.path.isdir(spool)}

    problems = []
    paths = {
        connector.TO_INI: params["to_ini"] or os.path.join(root, connector.TO_INI),
        connector.TOMBSMTP_INI: params["tombsmtp_ini"] or os.path.join(root, connector.TOMBSMTP_INI),
    }
    files, texts = {}, {}
    for name, path in paths.items():
        files[name], texts[name] = read_file(name, path, problems)

    check = connector.inspect_files(settings, texts[connector.TO_INI], texts[connector.TOMBSMTP_INI])
    running, start_owed, reason = connector_status(module, params["state_file"], params["status_command"])
    for text in settings.get("warnings") or []:
        module.warn(text)
    module.exit_json(
        changed=False,
        settings=settings,
        root=root_facts,
        torecvm=torecvm_facts,
        spool=spool_facts,
        files=files,
        problems=problems + check["problems"],
        own_node_current=check["own_node_current"],
        own_node_reorder=check["own_node_reorder"],
        pending_edits=check["pending_edits"],
        needs_change=check["needs_change"] or bool(problems),
        running=running,
        start_owed=start_owed,
        start_owed_reason=reason,
    )


if __name__ == "__main__":
    main()
