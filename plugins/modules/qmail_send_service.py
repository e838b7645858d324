#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: qmail_send_service
short_description: Own qmail-send's daemontools service directory in one call
version_added: "0.1.0"
description:
  - Builds qmail-send's daemontools service in O(qmail_dir)C(/supervise/)O(service_name) and links it into the scan
    directory O(service_dir) last, so that svscan sees the service only when C(run), C(log/run) and C(log/main) are in
    place (svscan decides at first sight whether a service has a log service).
  - The directories are root-owned, mode 0755; C(log/main) belongs to O(log_user). C(run) and C(log/run) (root, 0755)
    are written atomically. C(run) starts C(qmail-start) with O(default_delivery) and a clean environment; C(log/run)
    runs C(multilog t ./main) as O(log_user).
  - The one owner of these files; on a host where they are right it changes nothing and makes no command call.
  - qmail-start reads the default delivery only at start. RV(restart_needed) tells whether qmail-send must be restarted
    (its run script existed and changed); the module never restarts it (M(teamware.qmail.qmail_service) does).
  - A restart leaves no trace on the host, so the module records it in C(teamware-qmail.json) in the service directory
    before it changes the run script, and reports it on every call until O(completed_actions) says it ran, so that a run
    killed in between is finished by the next one.
  - A name in the scan directory that is not a symbolic link belongs to somebody else; the module fails and changes
    nothing.
author:
  - teamware.qmail contributors (@teamware)
extends_documentation_fragment:
  - teamware.qmail.attributes
options:
  qmail_dir:
    description: qmail's home; the service is built under its C(supervise) directory and runs its C(bin/qmail-start).
    type: path
    default: /var/qmail
  service_dir:
    description: The daemontools scan directory (created, root 0755, when missing).
    type: path
    default: /service
  service_name:
    description: The name of qmail-send's service directory, in C(supervise) and in O(service_dir).
    type: str
    default: qmail-send
  default_delivery:
    description: The default delivery instruction that C(qmail-start) passes on, e.g. C(./Maildir/) or C(./Mailbox).
    type: str
    default: ./Maildir/
  log_user:
    description: The user that runs multilog and owns C(log/main).
    type: str
    default: qmaill
  accounts:
    description:
      - Accounts to use instead of looking them up in the passwd database, as a mapping from the user name to C(uid)
        (the qmail role passes C(qmail_accounts)). Only the C(uid) of O(log_user) is used.
    type: dict
    default: {}
  completed_actions:
    description: What the caller did since an earlier call said it was owed; it is cleared from the state file.
    type: list
    elements: str
    default: []
    choices: [restart_qmail_send]
"""

EXAMPLES = r"""
- name: Run qmail-send under daemontools
  teamware.qmail.qmail_send_service:
    qmail_dir: /var/qmail
    service_dir: /service
    default_delivery: ./Maildir/
  register: send_service

- name: Restart qmail-send for its new default delivery
  teamware.qmail.qmail_service:
    state: restarted
    manager: daemontools
  when: send_service.restart_needed

- name: Record that qmail-send was restarted
  teamware.qmail.qmail_send_service:
    completed_actions: [restart_qmail_send]
  when: send_service.restart_needed
"""

RETURN = r"""
changes:
  description: What changed (in check mode, would change), in the order it was applied.
  returned: always
  type: list
  elements: dict
  sample: [{path: /var/qmail/supervise/qmail-send/run, kind: run script, action: write, reasons: [content]}]
restart_needed:
  description:
    - qmail-send must be restarted; its run script existed and was changed (in check mode, would be), now or by an
      earlier call whose restart was not reported done.
  returned: always
  type: bool
  sample: false
run_script:
  description: The content of C(run).
  returned: always
  type: str
"""

import pwd

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.teamware.qmail.plugins.module_utils import files
from ansible_collections.teamware.qmail.plugins.module_utils import relay
from ansible_collections.teamware.qmail.plugins.module_utils import send_service
from ansible_collections.teamware.qmail.plugins.module_utils.validators import ValidationError


def log_user_id(module, name):
    """The uid of the log user (from accounts, else passwd); None in check mode when it does not exist yet."""
    account = module.params["accounts"].get(name)
    if account is not None:
        if not isinstance(account, dict) or not isinstance(account.get("uid"), int) or isinstance(account.get("uid"), bool):
            raise ValidationError([("qmail_accounts", "%s: uid must be a number" % name)])
        return account["uid"]
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        if not module.check_mode:
            raise ValidationError([("log_user", "user %s does not exist; install qmail first" % name)])
        module.warn("log_user: %s does not exist yet (check mode): the owner of log/main is not checked" % name)
        return None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            qmail_dir=dict(type="path", default="/var/qmail"),
            service_dir=dict(type="path", default="/service"),
            service_name=dict(type="str", default="qmail-send"),
            default_delivery=dict(type="str", default="./Maildir/"),
            log_user=dict(type="str", default="qmaill"),
            accounts=dict(type="dict", default={}),
            completed_actions=dict(type="list", elements="str", default=[], choices=list(send_service.OWED_ACTIONS)),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        settings = send_service.SendService.from_vars(p["qmail_dir"], p["service_dir"], p["service_name"],
                                                      p["default_delivery"], p["log_user"])
        changes = settings.plan(log_user_id(module, settings.log_user))
        owed, owed_file = send_service.owed_state(settings.service, changes, p["completed_actions"])
    except ValidationError as exc:
        module.fail_json(msg="Invalid qmail-send service settings, nothing changed: %s" % exc.render(),
                         problems=[{"variable": var, "reason": reason} for var, reason in exc.problems])
    state_change = files.plan(owed_file)
    if not module.check_mode:
        try:
            # The owed restart is on disk before the run script changes; the link comes last.
            if state_change:
                files.apply(owed_file)
            settings.service.apply(changes)
        except OSError as exc:
            module.fail_json(msg="could not build the service %s: %s" % (settings.service.real_dir, exc))
    if state_change:
        changes = changes + [state_change]
    result = dict(changed=bool(changes), changes=[relay.change_summary(c) for c in changes],
                  restart_needed="restart_qmail_send" in owed, run_script=settings.run_script())
    if module._diff and changes:  # pylint: disable=protected-access
        result["diff"] = [relay.diff_entry(c) for c in changes]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
