#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: mime_connector_files
short_description: Own the Teamware Office MIME connector's keys in to.ini and tombsmtp.ini
version_added: "0.1.0"
description:
  - Writes the keys of O(settings) (the result of P(teamware.qmail.mime_connector_settings#filter)) into section
    C([MIME]) of O(to_ini) and the top-level C(own_node) lines of O(tombsmtp_ini), in one call. Comments, other keys and
    other sections stay as they are.
  - A key's lines that already hold a wanted value stay where they are (spaces around C(=) included); its other active
    lines take the missing values in order or are removed; what is still missing goes after the last line of the section
    that is neither blank nor a comment; a missing section is added at the end of the file. Commented-out lines are left
    alone. The C(own_node) lines must also be in the order of the settings (an C(A:) alias right after its base
    address); otherwise they are all written again in that order. These are the edits of M(community.general.ini_file)
    with C(state=present), C(exclusive=true), C(ignore_spaces=true) and C(modify_inactive_option=false), which the role
    C(teamware.qmail.mime_connector) used before this module, so that a file looks the same either way.
  - A file is read as UTF-8 (a byte order mark is dropped) with any line ends, and written only when a key changes, then
    with LF line ends. It is replaced atomically (temporary file in the same directory, then rename), keeping its mode and
    owner; a new file gets O(mode) and the owner and group of its directory.
  - Fails, and changes nothing, when a line of the files would be read differently by the connector than by this module
    (a C([mime]) section or a C(Mode =) key beside C([MIME])'s, two C([MIME]) sections, C(own_node) inside a section or
    spelt in another case), or when a file is not a regular file or not UTF-8 text.
  - The C(warnings) of O(settings) (risky connector settings) are the module's warnings, unless O(settings_warnings=false).
  - The connector must not run while its files change; the role stops it first, when the keys that would change
    (M(teamware.qmail.mime_connector_info)'s RV(teamware.qmail.mime_connector_info#module:changes), worked out with this
    module's own code) are not empty. The module does not stop or start it.
author:
  - teamware.qmail contributors (@teamware)
extends_documentation_fragment:
  - teamware.qmail.attributes
options:
  settings:
    description:
      - The connector settings, the result of P(teamware.qmail.mime_connector_settings#filter); its C(edits) (file,
        section, option, value_list, in the order they are written) and C(warnings) are used.
    type: dict
    required: true
  to_ini:
    description: The connector's C(to.ini).
    type: path
    required: true
  tombsmtp_ini:
    description: The connector's C(tombsmtp.ini).
    type: path
    required: true
  mode:
    description: The mode of a file the module creates (an existing file keeps its mode).
    type: raw
    default: "0644"
  settings_warnings:
    description:
      - Show the C(warnings) of O(settings) as the module's own.
      - The role C(teamware.qmail.mime_connector) passes V(false), since its look (M(teamware.qmail.mime_connector_info),
        which runs in every run, check mode and a run that changes nothing included) has shown them already, once per run.
    type: bool
    default: true
notes:
  - Run it as the user that may write the files (usually with C(become)).
seealso:
  - module: teamware.qmail.mime_connector_info
"""

EXAMPLES = r"""
- name: See what would change, without changing anything
  teamware.qmail.mime_connector_files:
    settings: "{{ hostvars[groups['qmail_hosts'][0]] | teamware.qmail.mime_connector_settings }}"
    to_ini: /to/to.ini
    tombsmtp_ini: /to/tombsmtp.ini
  check_mode: true
  register: connector_files

- name: Write them (the connector stopped)
  teamware.qmail.mime_connector_files:
    settings: "{{ hostvars[groups['qmail_hosts'][0]] | teamware.qmail.mime_connector_settings }}"
    to_ini: /to/to.ini
    tombsmtp_ini: /to/tombsmtp.ini
  when: connector_files.changes | length > 0
"""

RETURN = r"""
changes:
  description: The keys that change (or would change, in check mode), as C(file [section] option) or C(file option).
  returned: always
  type: list
  elements: str
  sample: ["to.ini [MIME] mode", "tombsmtp.ini own_node"]
files:
  description: C(to.ini) and C(tombsmtp.ini) by the names the edits use, with their path, whether they existed, and whether they change.
  returned: always
  type: dict
  sample: {"to.ini": {path: /to/to.ini, exists: true, changed: true}}
"""

import os
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.teamware.qmail.plugins.module_utils import connector_files, connector_files_look, files


def new_state(module, path, content, status, mode):
    """The file's FileState: an existing file keeps its mode and owner, a new one takes mode and its directory's owner."""
    if status is not None:
        return files.FileState(path, content, uid=status.st_uid, gid=status.st_gid, mode=stat.S_IMODE(status.st_mode))
    directory = os.path.dirname(path) or "."
    try:
        parent = os.stat(directory)
    except OSError as exc:
        module.fail_json(msg="cannot create %s: its directory %s: %s" % (path, directory, exc.strerror))
    return files.FileState(path, content, uid=parent.st_uid, gid=parent.st_gid, mode=mode)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            settings=dict(type="dict", required=True),
            to_ini=dict(type="path", required=True),
            tombsmtp_ini=dict(type="path", required=True),
            mode=dict(type="raw", default="0644"),
            settings_warnings=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    settings = params["settings"]
    problem = connector_files.input_problem(settings, params["mode"])
    if problem:
        module.fail_json(msg=problem)
    mode = connector_files.file_mode(params["mode"])
    # The same look (and connector_files.plan) as mime_connector_info's, whose changes the role acts on.
    look = connector_files_look.Look(params["to_ini"], params["tombsmtp_ini"], settings)
    if look.problems:
        module.fail_json(msg=connector_files_look.FIX_BY_HAND + "; ".join(look.problems), problems=look.problems)
    for text in (settings.get("warnings") or []) if params["settings_warnings"] else []:
        module.warn(text)

    diffs, states = [], []
    for name, path in look.paths.items():
        content, changed = look.plans[name]
        if not changed:
            continue
        states.append(new_state(module, path, content, look.statuses[name], mode))
        diffs.append({"before_header": path if look.statuses[name] else "%s (absent)" % path, "after_header": path,
                      "before": look.texts[name] or "", "after": content})
    changes, facts = look.changes(), look.facts()
    if not module.check_mode:
        for state in states:
            try:
                files.apply(state)
            except OSError as exc:
                module.fail_json(msg="cannot write %s: %s" % (state.path, exc), changes=changes, files=facts)
    result = dict(changed=bool(changes), changes=changes, files=facts)
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
