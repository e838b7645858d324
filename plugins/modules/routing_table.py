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
  - The module does not signal qmail. It returns what must happen (RV(actions)) so that a role can run
    C(qmail-newu) or send C(qmail-send) a HUP.
  - Options named C(teamware_*) and C(qmail_*) are the inventory variables of the same name.
author:
  - teamware.qmail contributors (@teamware)
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
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
  route_report:
    description:
      - Where qmail delivers some addresses, asked the way M(teamware.qmail.qmail_route_info) is asked, as a dict of its
        options (O(teamware.qmail.qmail_route_info#module:addresses), O(teamware.qmail.qmail_route_info#module:passwd_file),
        O(teamware.qmail.qmail_route_info#module:teamware_domains), ...) except C(qmail_dir), for which this module's
        O(qmail_dir) is used. It is checked before anything changes.
      - Answered (RV(route_report)) only when this call changed nothing and left nothing to do (RV(follow_up_needed)), so
        that the files it reads are those qmail routes by. site.yml sets it, so that a run that changes nothing makes no
        second call for its deploy check.
    type: dict
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
  notify: Rebuild users/cdb
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
route_report:
  description:
    - What M(teamware.qmail.qmail_route_info) returns for O(route_report) (RV(teamware.qmail.qmail_route_info#module:summary),
      RV(teamware.qmail.qmail_route_info#module:routes), RV(teamware.qmail.qmail_route_info#module:config), ...), without
      the relay clients, which the front end writes after this call. Its warnings are the module's warnings.
  returned: when O(route_report) is set, nothing changed and RV(follow_up_needed) is false
  type: dict
actions:
  description: What qmail needs so that the change takes effect.
  returned: always
  type: dict
  contains:
    hup_qmail_send:
      description: locals or virtualdomains changed; qmail-send rereads them on SIGHUP.
      type: bool
    rebuild_users_cdb:
      description: users/assign changed, or users/cdb is missing or older than users/assign; run qmail-newu.
      type: bool
"""

import grp
import os
import pwd

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.teamware.qmail.plugins.module_utils import cdb_reader
from ansible_collections.teamware.qmail.plugins.module_utils import delivery_wrapper
from ansible_collections.teamware.qmail.plugins.module_utils import files
from ansible_collections.teamware.qmail.plugins.module_utils import route_check
from ansible_collections.teamware.qmail.plugins.module_utils import routing
from ansible_collections.teamware.qmail.plugins.module_utils.validators import ValidationError

SETTING_OPTIONS = tuple(routing.DEFAULTS)


def route_report_params(module, raw):
    """The route_report option checked against qmail_route_info's options (None when not set)."""
    if raw is None:
        return None
    validated = ArgumentSpecValidator(route_check.REPORT_OPTIONS).validate(dict((k, v) for k, v in raw.items() if v is not None))
    problems = list(validated.error_messages) or route_check.report_problems(validated.validated_parameters)
    if problems:
        module.fail_json(msg="route_report: %s; nothing changed" % "; ".join(problems))
    return validated.validated_parameters


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
        if not os.path.isfile(path) or os.path.islink(path):
            continue
        text = files.read_text(path) or ""
        if text.split("\n", 1)[0] == routing.MANAGED_MARKER:
            found.append(path)
    return found


def desired_files(table, qmail_dir, wrapper_path):
    """FileState for every file the table owns, and the delivery wrapper."""
    header = [routing.MANAGED_MARKER, "# Method: %s (%s)" % (table["method"], table["section"])]
    states = []
    for name in ("rcpthosts", "locals", "virtualdomains", "smtproutes"):
        lines = table["control"][name]
        content = files.render_lines(header + lines)
        if not lines and name in ("virtualdomains", "smtproutes"):
            content = None
        states.append(files.FileState(os.path.join(qmail_dir, "control", name), content, kind=name))
    # users/assign allows no comment lines: qmail-newu would read them as entries.
    states.append(files.FileState(os.path.join(qmail_dir, "users", "assign"),
                                  files.render_lines(table["users_assign"]), kind="users_assign"))
    for entry in table["dot_qmail"]:
        states.append(files.FileState(entry["path"], files.render_lines(entry["lines"]), entry["uid"], entry["gid"],
                                      int(entry["mode"], 8), kind="dot_qmail"))
    root = 0 if os.geteuid() == 0 else None
    states.append(files.FileState(wrapper_path, delivery_wrapper.render(qmail_dir), root, root, 0o755, kind="delivery_wrapper"))
    return states


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


def main():
    argument_spec = dict(
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
        qmail_delivery_wrapper=dict(type="path", default="/usr/local/bin/teamware-qmail-remote"),
        qmail_required_users=dict(type="list", elements="str", default=list(routing.QMAIL_SYSTEM_USERS)),
        qmail_required_groups=dict(type="list", elements="str", default=["qmail", "nofiles"]),
        qmail_accounts=dict(type="dict", default={}),
        remove_stale=dict(type="bool", default=True),
        routing_user_home=dict(type="path"),
        routing_user_shell=dict(type="str"),
        route_report=dict(type="dict"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    qmail_dir = params["qmail_dir"]
    report_params = route_report_params(module, params["route_report"])

    missing = missing_installation(qmail_dir, params["qmail_required_users"], params["qmail_required_groups"], params["qmail_accounts"])
    if missing:
        module.fail_json(msg="qmail_dir: qmail is not installed as the collection expects, nothing changed: %s" % "; ".join(missing))

    settings = dict((name, params[name]) for name in SETTING_OPTIONS)
    if not settings["qmail_me"]:
        me = files.read_text(os.path.join(qmail_dir, "control", "me"))
        settings["qmail_me"] = me.split("\n", 1)[0].strip() if me else None

    overrides = params["qmail_accounts"]
    alias_account = lookup_account("alias", overrides)
    if alias_account is None:
        module.fail_json(msg="qmail_accounts: qmail's user 'alias' does not exist; is qmail installed?")
    routing_user = params["teamware_routing_user"]
    routing_account = lookup_account(routing_user, overrides) if routing_user else None
    needs_routing_user = bool(routing_user) and routing.METHODS[params["teamware_integration_method"]].needs_routing_user
    routing_user_needed = needs_routing_user and routing_user_differs(routing_user, routing_account, overrides, params)
    if routing_account is None and needs_routing_user and (module.check_mode or routing_user_needed):
        # The role creates the user after this call (or, in check mode, only pretends to): everything is checked,
        # and check mode shows the files, with placeholders.
        routing_account = routing.Account(routing_user, None, None, params["routing_user_home"] or "/home/%s" % routing_user)
        if module.check_mode:
            module.warn("teamware_routing_user: %s does not exist yet; users/assign is shown with UNKNOWN ids" % routing_user)
    existing_users = [entry.pw_name for entry in pwd.getpwall()] + list(overrides)

    try:
        settings_obj = routing.Settings.from_vars(settings, routing_account, alias_account, existing_users)
    except ValidationError as exc:
        module.fail_json(msg="Invalid Teamware/qmail settings, nothing changed: %s" % exc.render(),
                         problems=[{"variable": var, "reason": reason} for var, reason in exc.problems])
    table = routing.build_routing_table(settings_obj).as_dict()
    if routing_user_needed and not module.check_mode:
        # Look before acting: the settings are valid, but the routing user must be created (or set right) first;
        # the role does that and calls the module again.  Nothing is written.
        module.exit_json(changed=False, routing_user_needed=True, follow_up_needed=True, table=table, changes=[],
                         changed_kinds=[], stale=[], actions=dict(hup_qmail_send=False, rebuild_users_cdb=False))

    states = desired_files(table, qmail_dir, params["qmail_delivery_wrapper"])
    wanted = set(state.path for state in states)
    homes = set([alias_account.home])
    if routing_account is not None and routing_account.home:
        homes.add(routing_account.home)
    stale = [path for home in sorted(homes) for path in marked_dot_qmail_files(home) if path not in wanted]
    if params["remove_stale"]:
        states += [files.FileState(path, None, kind="dot_qmail") for path in stale]

    for state in states:
        parent = os.path.dirname(state.path)
        if state.content is not None and not os.path.isdir(parent) and not module.check_mode:
            module.fail_json(msg="%s does not exist; cannot write %s" % (parent, state.path))

    changes = [change for change in (files.plan(state) for state in states) if change]
    if not module.check_mode:
        # New and changed .qmail files first, so that routing never points at a file not yet written;
        # removals last.
        order = {"dot_qmail": 0}
        writes = sorted((c for c in changes if c["action"] == "write"), key=lambda c: order.get(c["kind"], 1))
        by_path = dict((state.path, state) for state in states)
        for change in writes + [c for c in changes if c["action"] == "remove"]:
            try:
                files.apply(by_path[change["path"]])
            except OSError as exc:
                module.fail_json(msg="could not write %s: %s" % (change["path"], exc), changes=changes)

    kinds = sorted(set(change["kind"] for change in changes))
    actions = dict(
        hup_qmail_send=bool(set(kinds) & set(["locals", "virtualdomains"])),
        rebuild_users_cdb="users_assign" in kinds or users_cdb_outdated(qmail_dir),
    )
    result = dict(
        changed=bool(changes),
        routing_user_needed=routing_user_needed,
        table=table,
        changes=[dict((k, c[k]) for k in ("path", "kind", "action", "reasons") if k in c) for c in changes],
        changed_kinds=kinds,
        stale=stale,
        actions=actions,
        follow_up_needed=routing_user_needed or bool(stale) or any(actions.values()),
    )
    if module._diff:
        result["diff"] = [files.diff_entry(change) for change in changes]
    if report_params is not None and not result["changed"] and not result["follow_up_needed"]:
        # The files are those qmail routes by: answer the deploy check from here (see the option).
        library, library_name = cdb_reader.best_library()
        try:
            result["route_report"] = route_check.report(qmail_dir, report_params, library, library_name, relay=False)
        except (IOError, OSError) as exc:
            module.fail_json(msg="route_report: cannot read the qmail configuration: %s" % exc)
        for text in route_check.report_warnings(result["route_report"]):
            module.warn(text)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
