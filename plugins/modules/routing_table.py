#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: routing_table
short_description: Compute and write qmail's routing files for a Teamware Office integration method
version_added: "0.1.0"
description:
  - Computes, from the inventory settings, everything qmail must contain for one of the seven
    integration methods of "Integrating Qmail with Teamware Office" (or for none of them), and writes it
    in one task, namely C(control/rcpthosts), C(control/locals), C(control/virtualdomains), C(control/smtproutes),
    C(users/assign) and the C(.qmail) files of the C(alias) user and the routing user.
  - Validates every setting before anything on the host changes; a failure names the variable and the reason.
  - Each file is replaced atomically (temporary file in the same directory, then rename).
    C(virtualdomains) and C(smtproutes) are removed when they would be empty.
  - C(.qmail) files written by this module carry a marker line; marked files that the current method no
    longer needs are removed (see O(remove_stale)), so switching methods leaves nothing of the old one.
  - It also installs the safe C(qmail-remote) wrapper at O(qmail_delivery_wrapper), and checks first that qmail is installed
    (C(bin/qmail-send), O(qmail_required_users), O(qmail_required_groups)).
  - The collection owns entries, not files. It records what it wrote in C(control/teamware-qmail.json) (JSON, written
    atomically before and after the files it describes); every other entry of those files is the host's own and is
    kept (see O(qmail_foreign_entries) and O(qmail_take_over)). Lines the method would write anyway become the
    collection's. Where the host's own entry contradicts the method, the module fails before any change, naming the
    file, the line and the two ways out.
  - The module does not signal qmail. It returns what must happen (RV(actions)) so that a role can run
    C(qmail-newu) or send C(qmail-send) a HUP.
  - With O(send_service) it also owns qmail-send's daemontools service directory, in the same call.
  - Options named C(teamware_*) and C(qmail_*) are the inventory variables of the same name.
author:
  - teamware.qmail contributors (@teamware)
extends_documentation_fragment:
  - teamware.qmail.attributes
  - teamware.qmail.send_service
options:
  teamware_integration_method:
    description:
      - The integration method (document section in brackets).
      - V(none) (2) qmail and Teamware Office side by side; V(torecvm_alias) (5.1.1); V(torecvm_virtualdomains) (5.1.2);
        V(torecvm_users) (5.1.3); V(smtp_smtproutes) (5.2.1); V(smtp_alias) (5.2.2); V(smtp_users) (5.2.3);
        V(smtp_forward) (5.2.4).
    type: str
    default: none
    choices: [none, torecvm_alias, torecvm_virtualdomains, torecvm_users, smtp_smtproutes, smtp_alias, smtp_users, smtp_forward]
  teamware_routing:
    description:
      - V(domain) routes by the address's domain (Teamware Office has base addresses of its own);
        V(user) routes by a prefix of the local part (Teamware users share qmail's base address).
      - Required for the methods that allow both; the others imply their only kind.
    type: str
    choices: [domain, user]
  teamware_domains:
    description:
      - The base addresses of the Teamware Office users.
      - With domain-based routing they must differ from O(qmail_local_domains); with user-based routing they are shared with qmail
        and must be among O(qmail_local_domains).
    type: list
    elements: str
    default: []
  teamware_user_prefix:
    description:
      - The naming rule of user-based routing, e.g. V(tw.) for C(tw.john@company.com). It must end with C(.), C(_) or C(-) and no local
        account name may start with it.
    type: str
  teamware_rewrite_domain:
    description:
      - The domain qmail puts on the address it hands to Teamware Office, e.g. V(tw.company.com) turns C(tw.john@company.com) into
        C(john@tw.company.com) (5.1.3, 5.2.2).
      - Required for V(smtp_forward), where it is the alias base address that qmail forwards to (must not be local for qmail).
    type: str
  teamware_server:
    description:
      - The Teamware Office SMTP server for the SMTP methods, a name or V([1.2.3.4]).
      - qmail resolves names through DNS only; set O(teamware_server_address) when the name is not in DNS.
    type: str
  teamware_server_address:
    description:
      - IPv4 address of the Teamware Office server; routes then use C([address]). V(127.0.0.1) when it runs on the qmail host.
    type: str
  teamware_smtp_port:
    description: The SMTP port of the Teamware Office MIME connector (moved, e.g. to 2025, when it shares the host with qmail).
    type: int
    default: 25
  teamware_routing_user:
    description: The Unix user whose C(.qmail-default) hands mail to Teamware Office (virtualdomains and qmail-users methods).
    type: str
    default: twu
  teamware_torecvm:
    description: Path of Teamware Office's C(torecvm).
    type: path
    default: /usr/bin/torecvm
  teamware_root:
    description: Teamware Office root directory; torecvm writes to its C(smtp) folder.
    type: path
    default: /to
  teamware_torecvm_reports:
    description: torecvm's report option, C(-pA) all, C(-pF) failures only, C(-pN) none.
    type: str
    default: A
    choices: [A, F, N]
  teamware_preserve_return_path:
    description:
      - Run torecvm through qmail's C(preline) so that the message carries C(Return-Path), which receipt notifications
        (RFC 2298) need. The document's plain pipe loses it.
    type: bool
    default: true
  teamware_default_route:
    description: With V(smtp_smtproutes), also route every non-local domain to Teamware Office (C(:[127.0.0.1]:2025)).
    type: bool
    default: false
  qmail_dir:
    description: qmail's home directory.
    type: path
    default: /var/qmail
  qmail_local_domains:
    description: The domains qmail delivers itself (C(control/locals)); they also go into C(control/rcpthosts).
    type: list
    elements: str
    required: true
  qmail_me:
    description: qmail's own name; read from C(control/me) when not given.
    type: str
  qmail_aliases:
    description:
      - Aliases and group lists in C(~alias), as a mapping from a local name (C(root), C(postmaster), C(webmaster), C(sales), ...)
        to the addresses it forwards to.
    type: dict
    default: {}
  qmail_extra_smtproutes:
    description:
      - Routes of the admin's own, each C(domain) (V('') for the default route, C(.example.com) for subdomains),
        C(relay) (empty = use MX) and C(port). Written with the collection's routes in the order qmail applies them.
    type: list
    elements: dict
    default: []
  qmail_extra_rcpthosts:
    description:
      - Domains of the admin's own that qmail-smtpd accepts mail for (a backup MX, a relay domain); C(.example.com) means
        its subdomains. Written to C(control/rcpthosts) as the collection's entries.
    type: list
    elements: str
    default: []
  qmail_extra_virtualdomains:
    description:
      - Virtual domains of the admin's own (other software), each C(domain) and C(prepend), written as C(domain:prepend).
    type: list
    elements: dict
    default: []
  qmail_extra_users:
    description:
      - users/assign entries of the admin's own, each with C(address) (exact, C(=)) or C(prefix) (wildcard, C(+)), C(user),
        C(uid), C(gid), C(home), and optionally C(dash) and C(extension). None may overlap the Teamware prefix.
    type: list
    elements: dict
    default: []
  qmail_foreign_entries:
    description:
      - The entries of rcpthosts, locals, virtualdomains, smtproutes and users/assign that the collection did not write
        (the state file says which it wrote).
      - V(keep) keeps them, with their order where qmail's lookup depends on it, and fails before any change where one
        contradicts the method. V(remove) drops them all (check mode and diff show what would go). The host's own
        C(.qmail) files are never removed; one the method would replace is a conflict under V(keep).
    type: str
    choices: [keep, remove]
    default: keep
  qmail_take_over:
    description:
      - The host's own entries that the collection may replace, named as the conflict message names them
        (C(virtualdomains:tw.company.com), C(smtproutes:tw.company.com), C(locals:tw.company.com), C(users/assign:+tw.),
        or the path of a C(.qmail) file).
    type: list
    elements: str
    default: []
  completed_actions:
    description:
      - Actions the caller carried out after an earlier call (V(hup_qmail_send); V(restart_qmail_send), see
        O(send_service)); they are cleared from the state files.
      - A HUP leaves no trace on the host, so the state file remembers it from before the change until the caller says
        it ran, and a run killed in between is finished by the next one.
    type: list
    elements: str
    choices: [hup_qmail_send, rebuild_users_cdb, restart_qmail_send]
    default: []
  qmail_delivery_wrapper:
    description:
      - Where the module installs the collection's safe wrapper around C(qmail-remote) (mode 0755), which the C(.qmail) pipes
        of the SMTP methods call. It turns qmail-remote's reports into the exit codes qmail-local understands.
    type: path
    default: /usr/local/bin/teamware-qmail-remote
  qmail_required_users:
    description: qmail's accounts (INSTALL.ids); the module fails, before any change, when one of them is missing.
    type: list
    elements: str
    default: [alias, qmaild, qmaill, qmailp, qmailq, qmailr, qmails]
  qmail_required_groups:
    description: qmail's groups; the module fails, before any change, when one of them is missing.
    type: list
    elements: str
    default: [qmail, nofiles]
  qmail_accounts:
    description:
      - Accounts to use instead of looking them up in the passwd database, as a mapping from the user name to C(uid), C(gid)
        and C(home). For tests on a temporary tree, and for hosts where qmail's accounts are not in passwd.
      - C(uid) and C(gid) are numbers, C(home) an absolute path; a wrong entry of C(alias) or of the routing user fails,
        before any change, naming C(qmail_accounts) and the user.
    type: dict
    default: {}
  remove_stale:
    description:
      - Remove the C(.qmail) files that carry this collection's marker and that the method no longer needs.
      - The qmail role first writes with V(false), lets qmail read the new routing, then removes, so that no message
        finds its C(.qmail) file gone while qmail still routes by the old files.
    type: bool
    default: true
  routing_user_home:
    description:
      - Given when the caller creates the routing user (O(teamware_routing_user)) itself, as the qmail role does; the home
        it gives the user.
      - When the method needs the user and it does not exist, or its home (or shell, O(routing_user_shell)) differs, the
        module checks everything, writes nothing and returns RV(routing_user_needed); the caller creates or fixes the user
        and calls the module again. On a host where the user is right this saves a call.
      - In check mode the files are shown with placeholder ids instead.
    type: path
  routing_user_shell:
    description: With O(routing_user_home), the login shell the caller gives the routing user.
    type: str
  route_check:
    description:
      - The deploy check's settings, as a dict of M(teamware.qmail.qmail_route_info)'s options
        (O(teamware.qmail.qmail_route_info#module:addresses), O(teamware.qmail.qmail_route_info#module:expected), ...)
        except C(qmail_dir). They are checked before anything changes, and their digest is compared with the one
        recorded in the state file when the check last passed - RV(route_check_due) says whether the deploy check has
        something new to look at. This module never answers the check; M(teamware.qmail.qmail_route_info) does.
      - site.yml sets it, so that a run that changes nothing skips its deploy check (the files are those checked last
        time, against the same expectations), unless C(teamware_route_check_every_run) asks for it.
    type: dict
  route_check_context:
    description:
      - What else the deploy check's verdict depends on, outside qmail's routing files; part of the digest only.
        site.yml gives the chosen front end, its address and port, the relay clients and whether the SMTP greeting is
        checked, so that a change of the front end keeps the check due until a check passed on it.
    type: raw
  route_check_passed:
    description:
      - Record in the state file that the deploy check passed for O(route_check) (and O(route_check_context)) on the
        entries the collection wrote. Any later change of those entries drops the record. The call fails, writing
        nothing, when the routing files would change (the check did not see them).
    type: bool
    default: false
  route_check_failed:
    description:
      - Drop the record of the last check that passed, after a deploy check that failed, so that the next run checks
        again whatever it finds. The call fails, writing nothing, when the routing files would change.
    type: bool
    default: false
notes:
  - The C(.qmail) file names follow qmail-local, lower case with C(.) written as C(:) (C(~alias/.qmail-john:doe)).
"""

EXAMPLES = r"""
- name: Route tw.company.com to Teamware Office on this host, port 2025 (5.2.1)
  teamware.qmail.routing_table:
    teamware_integration_method: smtp_smtproutes
    teamware_domains: [tw.company.com]
    teamware_server: tw.server.company.com
    teamware_server_address: 127.0.0.1
    teamware_smtp_port: 2025
    qmail_local_domains: [company.com, mail.company.com]
    qmail_aliases:
      root: [admin@tw.company.com]
      postmaster: [admin@tw.company.com]
  register: routing

- name: Deliver tw.* addresses of company.com through torecvm and qmail-users (5.1.3)
  teamware.qmail.routing_table:
    teamware_integration_method: torecvm_users
    teamware_domains: [company.com]
    teamware_user_prefix: tw.
    teamware_routing_user: twu
    qmail_local_domains: [company.com]
    send_service:
      default_delivery: ./Maildir/
  register: routing

- name: Restart qmail-send for its new default delivery
  teamware.qmail.qmail_service:
    state: restarted
    manager: daemontools
  when: routing.send_service.restart_needed
"""

RETURN = r"""
table:
  description: The complete desired qmail state that was computed.
  returned: always
  type: dict
  contains:
    method:
      description: The integration method.
      type: str
      sample: smtp_smtproutes
    section:
      description: Its section in the document.
      type: str
      sample: "5.2.1"
    routing:
      description: V(domain) or V(user).
      type: str
    control:
      description: Lines of each control file (without the marker comment).
      type: dict
      sample: {"rcpthosts": ["company.com", "tw.company.com"], "locals": ["company.com"], "virtualdomains": [],
               "smtproutes": ["tw.company.com:[127.0.0.1]:2025"]}
    users_assign:
      description: Lines of users/assign, ending with C(.).
      type: list
      elements: str
    dot_qmail:
      description: Each .qmail file with path, owner, uid, gid, mode, lines and purpose.
      type: list
      elements: dict
    teamware:
      description: What the Teamware Office MIME connector must know (inbound mode, base addresses, own_node aliases, port).
      type: dict
    notes:
      description: Where the collection does something safer than the document, and why.
      type: list
      elements: str
changes:
  description: Each file that was (or in check mode would be) written or removed.
  returned: always
  type: list
  elements: dict
  sample: [{"path": "/var/qmail/control/smtproutes", "kind": "smtproutes", "action": "write", "reasons": ["content"]}]
routing_user_needed:
  description:
    - The routing user must be created or its home or shell set (only with O(routing_user_home)). Outside check mode
      nothing was written.
  returned: always
  type: bool
changed_kinds:
  description: The kinds of file that changed, among rcpthosts, locals, virtualdomains, smtproutes, users_assign, dot_qmail, delivery_wrapper.
  returned: always
  type: list
  elements: str
stale:
  description: Marked .qmail files that the method no longer needs (removed unless O(remove_stale=false)).
  returned: always
  type: list
  elements: str
follow_up_needed:
  description:
    - Something is left for the caller to do after this call (see RV(routing_user_needed), RV(actions) and RV(stale)),
      such as creating the routing user and calling again, running C(qmail-newu), sending qmail-send a HUP, or removing
      the stale files.
    - False on a host whose routing is already right and complete, so that a role can skip all of it at once.
  returned: always
  type: bool
route_check_due:
  description:
    - The deploy check has something new to look at - files to write, a follow-up to come (C(qmail-newu), a HUP), or
      no record that it passed for O(route_check) and O(route_check_context) on these entries (a check that failed
      leaves none).
  returned: when O(route_check) is set
  type: bool
kept:
  description: The host's own entries that were kept, by file (rcpthosts, locals, virtualdomains, smtproutes, users/assign).
  returned: always
  type: dict
  sample: {"smtproutes": ["partner.example:[192.0.2.7]"]}
taken_over:
  description: The host's own entries that were replaced (O(qmail_take_over)) or dropped (O(qmail_foreign_entries=remove)).
  returned: always
  type: list
  elements: str
conflicts:
  description: The host's own entries that contradict the method (file, line, entry to name in O(qmail_take_over), reason).
  returned: failure
  type: list
  elements: dict
actions:
  description: What qmail needs so that the change takes effect (including a HUP an earlier, interrupted run still owes).
  returned: always
  type: dict
  contains:
    hup_qmail_send:
      description: locals or virtualdomains changed; qmail-send rereads them on SIGHUP.
      type: bool
    rebuild_users_cdb:
      description: users/assign changed, or users/cdb is missing or older than users/assign; run qmail-newu.
      type: bool
send_service:
  description: qmail-send's service (O(send_service)); nothing to do (and no C(run_script)) without that option.
  returned: always
  type: dict
  contains:
    changes:
      description: What changed (in check mode, would change) of the service, in the order it was applied.
      type: list
      elements: dict
      sample: [{path: /var/qmail/supervise/qmail-send/run, kind: run script, action: write, reasons: [content]}]
    restart_needed:
      description: qmail-send must be restarted; its run script was changed (in check mode, would be), now or by an
        earlier call whose restart was not reported done (O(completed_actions)).
      type: bool
    link_deferred:
      description: The service's link is new and the routing owes follow-up work (RV(follow_up_needed)), so it was not
        created (in check mode it stays in RV(send_service.changes)); call again once that work ran.
      type: bool
    run_script:
      description: The content of C(run).
      type: str
"""

import hashlib
import json
import os
import pwd

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.teamware.qmail.plugins.module_utils import files
from ansible_collections.teamware.qmail.plugins.module_utils import ownership
from ansible_collections.teamware.qmail.plugins.module_utils import route_options
from ansible_collections.teamware.qmail.plugins.module_utils import routing
from ansible_collections.teamware.qmail.plugins.module_utils import routing_files
from ansible_collections.teamware.qmail.plugins.module_utils.validators import ValidationError

SETTING_OPTIONS = tuple(routing.DEFAULTS)
# send_service.OWED_ACTIONS (send_service is imported only when the option is set)
RESTART = "restart_qmail_send"
NO_SERVICE = dict(changes=[], restart_needed=False, link_deferred=False)


def route_check_digest(module, raw, context):
    """The route_check option checked against qmail_route_info's options, as a digest with route_check_context (None
    when route_check is not set)."""
    if raw is None:
        return None
    validated = ArgumentSpecValidator(route_options.REPORT_OPTIONS).validate(dict((k, v) for k, v in raw.items() if v is not None))
    problems = list(validated.error_messages) or route_options.report_problems(validated.validated_parameters)
    if problems:
        module.fail_json(msg="route_check: %s; nothing changed" % "; ".join(problems))
    text = json.dumps({"check": validated.validated_parameters, "context": context}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def routing_user_differs(name, account, overrides, params):
    """Whether the role must create the routing user or set its home or shell (only when it manages the user:
    O(routing_user_home) is given).  Accounts of qmail_accounts are taken as they are."""
    if not params["routing_user_home"]:
        return False
    if account is None:
        return True
    if name in overrides:
        return False
    entry = pwd.getpwnam(name)
    return entry.pw_dir != params["routing_user_home"] or (
        bool(params["routing_user_shell"]) and entry.pw_shell != params["routing_user_shell"])


ARGUMENT_SPEC = dict(
    teamware_integration_method=dict(type="str", default="none", choices=sorted(routing.METHODS)),
    teamware_routing=dict(type="str", choices=["domain", "user"]),
    teamware_domains=dict(type="list", elements="str", default=[]),
    teamware_user_prefix=dict(type="str"),
    teamware_rewrite_domain=dict(type="str"),
    teamware_server=dict(type="str"),
    teamware_server_address=dict(type="str"),
    teamware_smtp_port=dict(type="int", default=25),
    teamware_routing_user=dict(type="str", default="twu"),
    teamware_torecvm=dict(type="path", default="/usr/bin/torecvm"),
    teamware_root=dict(type="path", default="/to"),
    teamware_torecvm_reports=dict(type="str", default="A", choices=["A", "F", "N"]),
    teamware_preserve_return_path=dict(type="bool", default=True),
    teamware_default_route=dict(type="bool", default=False),
    qmail_dir=dict(type="path", default="/var/qmail"),
    qmail_local_domains=dict(type="list", elements="str", required=True),
    qmail_me=dict(type="str"),
    qmail_aliases=dict(type="dict", default={}),
    qmail_extra_smtproutes=dict(type="list", elements="dict", default=[]),
    qmail_extra_rcpthosts=dict(type="list", elements="str", default=[]),
    qmail_extra_virtualdomains=dict(type="list", elements="dict", default=[]),
    qmail_extra_users=dict(type="list", elements="dict", default=[]),
    qmail_take_over=dict(type="list", elements="str", default=[]),
    qmail_foreign_entries=dict(type="str", default="keep", choices=list(ownership.FOREIGN_CHOICES)),
    qmail_delivery_wrapper=dict(type="path", default="/usr/local/bin/teamware-qmail-remote"),
    qmail_required_users=dict(type="list", elements="str", default=list(routing.QMAIL_SYSTEM_USERS)),
    qmail_required_groups=dict(type="list", elements="str", default=["qmail", "nofiles"]),
    qmail_accounts=dict(type="dict", default={}),
    remove_stale=dict(type="bool", default=True),
    completed_actions=dict(type="list", elements="str", default=[], choices=list(ownership.PENDING_ACTIONS) + [RESTART]),
    routing_user_home=dict(type="path"),
    routing_user_shell=dict(type="str"),
    route_check=dict(type="dict"),
    route_check_context=dict(type="raw"),
    route_check_passed=dict(type="bool", default=False),
    route_check_failed=dict(type="bool", default=False),
    send_service=dict(type="dict", options=dict(
        service_dir=dict(type="path", default="/service"), service_name=dict(type="str", default="qmail-send"),
        default_delivery=dict(type="str", default="./Maildir/"), log_user=dict(type="str", default="qmaill"))),
)


class Accounts:
    """The accounts the table is built for, looked up on the host (or taken from qmail_accounts)."""

    def __init__(self, module, params):
        overrides = params["qmail_accounts"]
        self.alias = routing_files.lookup_account("alias", overrides)
        if self.alias is None:
            module.fail_json(msg="qmail_accounts: qmail's user 'alias' does not exist; is qmail installed?")
        user = params["teamware_routing_user"]
        self.routing = routing_files.lookup_account(user, overrides) if user else None
        needs = bool(user) and routing.METHODS[params["teamware_integration_method"]].needs_routing_user
        self.routing_user_needed = needs and routing_user_differs(user, self.routing, overrides, params)
        if self.routing is None and needs and (module.check_mode or self.routing_user_needed):
            # The role creates the user after this call (or, in check mode, only pretends to): everything is checked,
            # and check mode shows the files, with placeholders.
            self.routing = routing.Account(user, None, None, params["routing_user_home"] or "/home/%s" % user)
            if module.check_mode:
                module.warn("teamware_routing_user: %s does not exist yet; users/assign is shown with UNKNOWN ids" % user)
        self.existing = [entry.pw_name for entry in pwd.getpwall()] + list(overrides)

    def homes(self):
        homes = set([self.alias.home])
        if self.routing is not None and self.routing.home:
            homes.add(self.routing.home)
        return sorted(homes)


def compute_table(module, params, accounts):
    """Validate the settings on the host and build the table; fails naming every wrong variable."""
    settings = dict((name, params[name]) for name in SETTING_OPTIONS)
    if not settings["qmail_me"]:
        me = files.read_text(os.path.join(params["qmail_dir"], "control", "me"))
        settings["qmail_me"] = me.split("\n", 1)[0].strip() if me else None
    try:
        settings_obj = routing.Settings.from_vars(settings, accounts.routing, accounts.alias, accounts.existing)
    except ValidationError as exc:
        module.fail_json(msg="Invalid Teamware/qmail settings, nothing changed: %s" % exc.render(),
                         problems=[{"variable": var, "reason": reason} for var, reason in exc.problems])
    return routing.build_routing_table(settings_obj).as_dict()


def plan_host(module, params, table, accounts, state):
    """What to write, keeping the host's own entries; fails before any change when they contradict the table."""
    planned = routing_files.plan_files(table, params["qmail_dir"], params["qmail_delivery_wrapper"], state,
                                       params["qmail_take_over"], params["qmail_foreign_entries"])
    if planned.conflicts:
        module.fail_json(msg=ownership.render_conflicts(planned.conflicts), conflicts=planned.conflicts)
    wanted = set(s.path for s in planned.states)
    stale = [path for home in accounts.homes() for path in routing_files.marked_dot_qmail_files(home) if path not in wanted]
    if params["remove_stale"]:
        planned.states += [files.FileState(path, None, kind="dot_qmail") for path in stale]
    for fstate in planned.states:
        parent = os.path.dirname(fstate.path)
        if fstate.content is not None and not os.path.isdir(parent) and not module.check_mode:
            module.fail_json(msg="%s does not exist; cannot write %s" % (parent, fstate.path))
    return planned, stale


def owed_actions(params, state, kinds):
    """What qmail needs for the change to take effect, and what an earlier run recorded and did not finish (a HUP
    leaves no trace on the host: only the state file remembers it until the caller says it ran)."""
    pending = set(state.pending) - set(params["completed_actions"])
    return dict(
        hup_qmail_send=bool(set(kinds) & set(["locals", "virtualdomains"])) or "hup_qmail_send" in pending,
        # users/cdb older than users/assign shows by itself that qmail-newu is owed
        rebuild_users_cdb="users_assign" in kinds or routing_files.users_cdb_outdated(params["qmail_dir"]),
    )


def write_changes(module, planned, changes, intent, final):
    """The intent state first (when files change), then new and changed .qmail files (routing never points at a file
    not yet written), then the other files, removals last, then the final state."""
    by_path = dict((fstate.path, fstate) for fstate in planned.states)
    writes = sorted((c for c in changes if c["action"] == "write"), key=lambda c: 0 if c["kind"] == "dot_qmail" else 1)
    removals = [c for c in changes if c["action"] == "remove"]
    ordered = ([intent] if changes else []) + [by_path[c["path"]] for c in writes + removals] + [final]
    for fstate in ordered:
        try:
            files.apply(fstate)
        except OSError as exc:
            module.fail_json(msg="could not write %s: %s" % (fstate.path, exc), changes=changes)


def route_check_record(module, state, changes, digest):
    """The deploy check's record in the new state, and whether the check is due: a record holds only for the entries
    it was made on (any change drops it) and for the same settings; a check that failed drops it."""
    params = module.params
    if (params["route_check_passed"] or params["route_check_failed"]) and changes:
        module.fail_json(msg="route_check_%s: the routing files would change (%s), which the deploy check did not see; "
                             "nothing written, nothing recorded" % ("passed" if params["route_check_passed"] else "failed",
                                                                    ", ".join(c["path"] for c in changes)))
    if changes:
        return None, True
    if params["route_check_passed"] and digest:
        return digest, False
    if params["route_check_failed"]:
        return None, True
    return state.route_checked, digest is not None and state.route_checked != digest


def plan_send_service(module, params):
    """qmail-send's service (send_service.Part), planned and checked; None without the option."""
    if params["send_service"] is None:
        return None
    # Imported here: a call without send_service neither imports it nor the service directory's code on the host.
    from ansible_collections.teamware.qmail.plugins.module_utils import send_service  # pylint: disable=import-outside-toplevel
    try:
        return send_service.Part(params["send_service"], params["qmail_dir"], params["qmail_accounts"],
                                 params["completed_actions"], module.check_mode, module.warn)
    except ValidationError as exc:
        module.fail_json(msg="Invalid qmail-send service settings, nothing changed: %s" % exc.render(),
                         problems=[{"variable": var, "reason": reason} for var, reason in exc.problems])


def load_state(module, qmail_dir):
    try:
        return routing_files.load_state(qmail_dir)
    except ValueError as exc:
        module.fail_json(msg="qmail_dir: %s; nothing changed" % exc)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                           mutually_exclusive=[("route_check_passed", "route_check_failed")])
    params = module.params
    qmail_dir = params["qmail_dir"]
    digest = route_check_digest(module, params["route_check"], params["route_check_context"])
    missing = routing_files.missing_installation(qmail_dir, params["qmail_required_users"], params["qmail_required_groups"], params["qmail_accounts"])
    if missing:
        module.fail_json(msg="qmail_dir: qmail is not installed as the collection expects, nothing changed: %s" % "; ".join(missing))
    accounts = Accounts(module, params)
    table = compute_table(module, params, accounts)
    service = plan_send_service(module, params)
    if accounts.routing_user_needed and not module.check_mode:
        # Look before acting: the settings are valid, but the routing user must be created (or set right) first;
        # the role does that and calls the module again.  Nothing is written, of the service either.
        due = dict(route_check_due=True) if digest is not None else {}
        module.exit_json(changed=False, routing_user_needed=True, follow_up_needed=True, table=table, changes=[],
                         changed_kinds=[], stale=[], kept={}, taken_over=[], send_service=NO_SERVICE,
                         actions=dict(hup_qmail_send=False, rebuild_users_cdb=False), **due)
    state = load_state(module, qmail_dir)
    planned, stale = plan_host(module, params, table, accounts, state)
    changes = [change for change in (files.plan(fstate) for fstate in planned.states) if change]
    kinds = sorted(set(change["kind"] for change in changes))
    actions = owed_actions(params, state, kinds)
    # Only what leaves no trace on the host is remembered (a users/cdb older than users/assign shows itself).
    pending = [name for name in ownership.UNTRACED_ACTIONS if actions[name]]
    checked, due = route_check_record(module, state, changes, digest)
    final = files.FileState(routing_files.state_path(qmail_dir),
                            routing_files.new_state(table, planned, pending, checked).render(), kind="state")
    state_change = files.plan(final)
    if not module.check_mode and (changes or state_change):
        intent = files.FileState(final.path, routing_files.intent_state(state, table, planned, pending).render(), kind="state")
        write_changes(module, planned, changes, intent, final)
    if service is not None:  # a new service's link waits while the routing owes follow-up (qmail-newu, HUP, ...)
        service.defer_new_link(accounts.routing_user_needed or any(actions.values()) or bool(stale and not params["remove_stale"]), module.check_mode)
    if service is not None and not module.check_mode:
        try:
            service.apply()  # after the routing files: the link (a new service starts) comes last
        except OSError as exc:
            module.fail_json(msg="could not build the service %s: %s" % (service.settings.service.real_dir, exc))
    result = dict(
        changed=bool(changes or state_change or (service and service.all_changes())),
        routing_user_needed=accounts.routing_user_needed,
        table=table,
        changes=[dict((k, c[k]) for k in ("path", "kind", "action", "reasons") if k in c) for c in changes + [state_change] if c],
        changed_kinds=kinds,
        stale=stale,
        kept=dict((ownership.FILE_NAMES[kind], lines) for kind, lines in planned.kept.items() if lines),
        taken_over=planned.taken_over + planned.removed,
        actions=actions,
        follow_up_needed=accounts.routing_user_needed or bool(stale) or any(actions.values()),
        send_service=service.result() if service else NO_SERVICE,
    )
    if module._diff:
        result["diff"] = [routing_files.diff_note(change, planned) for change in changes + [state_change] if change]
        result["diff"] += service.diff() if service else []
    if digest is not None:
        # qmail-newu or a HUP still to come changes where mail goes, with no file of the collection's changing
        result["route_check_due"] = due or result["follow_up_needed"]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
