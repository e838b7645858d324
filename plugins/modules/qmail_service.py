#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: qmail_service
short_description: Send qmail-send a HUP or restart it, whatever supervises it
version_added: "0.1.0"
description:
  - Makes qmail-send reread its configuration. V(reloaded) sends SIGHUP, which makes it reread C(control/locals) and
    C(control/virtualdomains) (and nothing else); V(restarted) restarts it, for everything it reads only at start.
  - Works with daemontools (C(svc -h) / C(svc -t) on the supervised directory), systemd, and init scripts such as
    C(qmailctl) (C(hup) / C(restart)). O(manager=auto) finds out which one the host uses.
  - Only call it when something changed; the module always reports a change when it signals.
author:
  - teamware.qmail contributors (@teamware)
extends_documentation_fragment:
  - teamware.qmail.attributes.ACTION
attributes:
  check_mode:
    details: In check mode the command is reported, not run.
options:
  state:
    description: V(reloaded) sends HUP; V(restarted) restarts qmail-send.
    type: str
    required: true
    choices: [reloaded, restarted]
  manager:
    description:
      - The service manager. V(auto) looks for a supervised C(qmail-send) under O(service_dir), then a systemd unit, then
        O(init_script). V(none) does nothing (and says so), for hosts where qmail is not running.
    type: str
    default: auto
    choices: [auto, daemontools, systemd, init, none]
  service_dir:
    description: The daemontools scan directory.
    type: path
    default: /service
  service_name:
    description: The name of qmail-send's service directory under O(service_dir).
    type: str
    default: qmail-send
  systemd_unit:
    description: The systemd unit that runs qmail.
    type: str
    default: qmail.service
  init_script:
    description: The init script; it must understand C(hup) and C(restart) as qmailctl does.
    type: path
    default: /usr/bin/qmailctl
"""

EXAMPLES = r"""
- name: Let qmail-send reread locals and virtualdomains
  teamware.qmail.qmail_service:
    state: reloaded
  when: routing.actions.hup_qmail_send
"""

RETURN = r"""
manager:
  description: The service manager that was used.
  returned: always
  type: str
  sample: daemontools
command:
  description: The command that was (or in check mode would be) run; empty when there was nothing to signal.
  returned: always
  type: list
  elements: str
  sample: [svc, -h, /service/qmail-send]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.teamware.qmail.plugins.module_utils import service


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", required=True, choices=list(service.ACTIONS)),
            manager=dict(type="str", default="auto", choices=list(service.MANAGERS)),
            service_dir=dict(type="path", default="/service"),
            service_name=dict(type="str", default="qmail-send"),
            systemd_unit=dict(type="str", default="qmail.service"),
            init_script=dict(type="path", default="/usr/bin/qmailctl"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    manager = service.detect(p["manager"], p["service_dir"], p["service_name"], p["init_script"], p["systemd_unit"])
    svc = module.get_bin_path("svc") or "svc"
    argv = service.command(manager, p["state"], p["service_dir"], p["service_name"], p["init_script"], p["systemd_unit"], svc)
    if argv is None:
        module.warn("qmail_service: no running qmail-send found (manager none); nothing was signalled")
        module.exit_json(changed=False, manager=manager, command=[])
    if not module.check_mode:
        rc, out, err = module.run_command(argv)
        if rc != 0:
            module.fail_json(msg="%s failed (%d): %s" % (" ".join(argv), rc, (err or out).strip()), manager=manager, command=argv)
    module.exit_json(changed=True, manager=manager, command=argv)


if __name__ == "__main__":
    main()
