#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: qmail_integration_info
short_description: Read a qmail host integrated with Teamware Office by hand into inventory variables
version_added: "0.1.0"
description:
  - Reads the qmail files of a host that was integrated with Teamware Office by hand, following "Integrating Qmail
    with Teamware Office", and works out which of the seven integration methods (5.1.1 to 5.2.4) it implements, or
    V(none), or V(undecided) with the reason. Nothing is changed.
  - "Read: C(control/rcpthosts), C(control/morercpthosts), C(control/locals), C(control/virtualdomains),
    C(control/smtproutes), C(control/me), C(users/assign) (or C(users/cdb) when there is no C(users/assign)), the
    C(.qmail) files of C(~alias) and the C(.qmail-default) of the homes that C(virtualdomains) and C(users/assign)
    lead to, the passwd database, the tcpserver rules (and their C(.cdb)), C(inetd.conf) and C(hosts.allow), and with
    O(teamware_root) the Teamware Office files C(to.ini) and C(tombsmtp.ini)."
  - Lines are recognised as the document prints them and as M(teamware.qmail.routing_table) writes them.
  - "Returns the inventory variables (RV(variables)), the host's own entries (RV(foreign)), every unsafe line of the
    document's kind with the correction C(site.yml) will make (RV(unsafe)): a bare C(| qmail-remote) pipe, torecvm
    without C(preline), 5.1.2's C(-r\"$SENDER\"@...), a tcpserver rules file destroyed by the document's C(tcprules)
    line, a partial address without its trailing dot), and what it cannot decide (RV(undecided)): it guesses nothing."
author:
  - teamware.qmail contributors (@teamware)
extends_documentation_fragment:
  - teamware.qmail.attributes.INFO
options:
  qmail_dir:
    description: qmail's home directory (C(control), C(users) and C(alias) below it).
    type: path
    default: /var/qmail
  passwd_file:
    description: The passwd database as a file (homes and ids of the routing user and of C(alias)).
    type: path
    default: /etc/passwd
  tcp_rules:
    description: The tcpserver rules file; its compiled rules are read from the same name followed by C(.cdb).
    type: path
    default: /etc/tcp.smtp
  inetd_conf:
    description: The inetd configuration, for an C(smtp) line that runs C(qmail-smtpd).
    type: path
    default: /etc/inetd.conf
  hosts_allow:
    description: The tcp_wrappers file with the C(tcp-env) lines that set C(RELAYCLIENT).
    type: path
    default: /etc/hosts.allow
  teamware_root:
    description:
      - The Teamware Office root on this host (C(to.ini) and C(tombsmtp.ini) below it). Without it the Teamware
        side is not read, and what only it can tell (which local domains are Teamware Office's) stays undecided.
    type: path
  teamware_files:
    description:
      - The text of C(to.ini) and C(tombsmtp.ini) read elsewhere (a Teamware Office server of its own), as a dict with
        the keys C(to_ini) and C(tombsmtp_ini); used instead of O(teamware_root).
    type: dict
  routing_user:
    description:
      - The routing user of the virtualdomains and qmail-users methods. Without it the user is found from
        C(control/virtualdomains) and C(users/assign).
    type: str
  delivery_wrapper:
    description: Where the collection installs its safe C(qmail-remote) wrapper (a pipe to it is the collection's).
    type: path
    default: /usr/local/bin/teamware-qmail-remote
notes:
  - Run it with C(become) so that the homes and C(.qmail) files are readable.
  - C(users/cdb) is read with the collection's pure-Python cdb reading only when C(users/assign) is missing.
seealso:
  - module: teamware.qmail.routing_table
  - module: teamware.qmail.qmail_route_info
"""

EXAMPLES = r"""
- name: What does this hand-made qmail host do?
  teamware.qmail.qmail_integration_info:
  become: true
  register: integration

- name: Show the method and what cannot be decided
  ansible.builtin.debug:
    msg: "{{ integration.method }}: {{ integration.undecided }}"

- name: Read the Teamware Office side too (Teamware Office on the qmail host)
  teamware.qmail.qmail_integration_info:
    teamware_root: /to
  become: true
  register: integration
"""

RETURN = r"""
method:
  description: The method found (V(none), V(torecvm_alias) ... V(smtp_forward)), or V(undecided).
  returned: always
  type: str
  sample: smtp_smtproutes
section:
  description: The document's section of the method (V(2) for V(none)); null when undecided.
  returned: always
  type: str
  sample: "5.2.1"
candidates:
  description: Every place found that hands mail to Teamware Office (C(method), C(hook)).
  returned: always
  type: list
  elements: dict
variables:
  description: The inventory variables that make the collection write the same routing, with the safety corrections.
  returned: always
  type: dict
  sample: {"teamware_integration_method": "smtp_smtproutes", "teamware_domains": ["tw.company.com"],
           "teamware_server_address": "127.0.0.1", "teamware_smtp_port": 2025, "qmail_local_domains": ["company.com"],
           "qmail_extra_smtproutes": [{"domain": "partner.example", "relay": "[192.0.2.7]"}]}
foreign:
  description:
    - The host's own entries (not part of the Teamware integration), each with C(file), C(line), C(variable) (the
      qmail_extra_* variable or V(qmail_aliases) it is declared in, null when it is only kept) and C(note).
  returned: always
  type: list
  elements: dict
unsafe:
  description:
    - Unsafe lines with C(file), C(line), C(problem), C(correction) and, where known, C(site_yml_writes) (the lines
      the collection writes instead).
  returned: always
  type: list
  elements: dict
undecided:
  description: What the module could not decide, each with C(item) (the variable) and C(reason).
  returned: always
  type: list
  elements: dict
notes:
  description: Facts worth knowing that are not faults.
  returned: always
  type: list
  elements: str
report:
  description: The whole result as lines for an admin, ending with the next step.
  returned: always
  type: list
  elements: str
"""

import os
import traceback

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.teamware.qmail.plugins.module_utils import discovery, discovery_parse, qmail_host

CONTROL = ("control/rcpthosts", "control/morercpthosts", "control/locals", "control/virtualdomains",
           "control/smtproutes", "control/me", "users/assign")


def read(path, binary=False):
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except (IOError, OSError):
        return None
    return data if binary else data.decode("utf-8", "surrogateescape")


def read_passwd(path):
    entries = []
    for line in (read(path) or "").split("\n"):
        fields = line.split(":")
        if len(fields) >= 7 and fields[2].isdigit() and fields[3].isdigit():
            entries.append({"name": fields[0], "uid": int(fields[2]), "gid": int(fields[3]), "home": fields[5]})
    return entries


def read_dot_qmail(home, alias_home):
    """All .qmail files of ~alias; .qmail and .qmail-default elsewhere."""
    found = {}
    if home == alias_home:
        try:
            names = sorted(n for n in os.listdir(home) if n == ".qmail" or n.startswith(".qmail-"))
        except OSError:
            names = []
    else:
        names = [".qmail", ".qmail-default"]
    for name in names:
        path = os.path.join(home, name)
        if os.path.isfile(path):
            found[name] = read(path)
    return found


def gather(params):
    qmail_dir = params["qmail_dir"]
    files = dict((name, read(os.path.join(qmail_dir, name))) for name in CONTROL)
    data = {"qmail_dir": qmail_dir, "files": files, "passwd": read_passwd(params["passwd_file"]),
            "routing_user": params["routing_user"], "delivery_wrapper": params["delivery_wrapper"],
            "tcp_rules": read(params["tcp_rules"]), "tcp_rules_path": params["tcp_rules"],
            "tcp_rules_cdb": read(params["tcp_rules"] + ".cdb", binary=True),
            "inetd_conf": read(params["inetd_conf"]), "hosts_allow": read(params["hosts_allow"]),
            "hosts_allow_path": params["hosts_allow"]}
    if files["users/assign"] is None:
        cdb = read(os.path.join(qmail_dir, "users", "cdb"), binary=True)
        if cdb is not None:
            files["users/assign"] = discovery_parse.assign_from_users_cdb(cdb)
            data["assign_source"] = "users/cdb"
    if params["teamware_root"]:
        data["to_ini"] = read(os.path.join(params["teamware_root"], "to.ini"))
        data["tombsmtp_ini"] = read(os.path.join(params["teamware_root"], "tombsmtp.ini"))
    if params["teamware_files"]:
        data["to_ini"] = params["teamware_files"].get("to_ini")
        data["tombsmtp_ini"] = params["teamware_files"].get("tombsmtp_ini")
    alias_home = discovery.Host(data).alias_home
    data["dot_qmail"] = dict((home, read_dot_qmail(home, alias_home)) for home in discovery.homes_to_read(data))
    return data


def main():
    module = AnsibleModule(
        argument_spec=dict(
            qmail_dir=dict(type="path", default="/var/qmail"),
            passwd_file=dict(type="path", default="/etc/passwd"),
            tcp_rules=dict(type="path", default="/etc/tcp.smtp"),
            inetd_conf=dict(type="path", default="/etc/inetd.conf"),
            hosts_allow=dict(type="path", default="/etc/hosts.allow"),
            teamware_root=dict(type="path"),
            teamware_files=dict(type="dict"),
            routing_user=dict(type="str"),
            delivery_wrapper=dict(type="path", default="/usr/local/bin/teamware-qmail-remote"),
        ),
        supports_check_mode=True,
    )
    problem = qmail_host.control_directory_problem(module.params["qmail_dir"])
    if problem:
        module.fail_json(msg=problem)
    try:
        result = discovery.discover(gather(module.params))
    except (IOError, OSError, ValueError) as exc:
        module.fail_json(msg="cannot read the host's qmail configuration: %s" % exc, exception=traceback.format_exc())
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
