# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules between inventory variables: what each method needs and what no two variables may both claim.

routing.Settings.from_vars checks each variable on its own, then calls these; every message names the
variable to change and says why.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.teamware.qmail.plugins.module_utils import extras

# qmail's own accounts (INSTALL.ids): mail must never be routed by a prefix that
# captures their names, and they cannot be the routing user.
QMAIL_SYSTEM_USERS = ("alias", "qmaild", "qmaill", "qmailp", "qmailq", "qmailr", "qmails")
RESERVED_LOCAL_NAMES = QMAIL_SYSTEM_USERS + ("root", "postmaster", "mailer-daemon")


def check_method_rules(problems, method, s, existing_users):
    """Rules between variables; each message says what to change."""
    s["teamware_routing"] = _routing_kind(problems, method, s["teamware_routing"])
    if not s["qmail_local_domains"]:
        problems.add("qmail_local_domains", "is empty: rcpthosts would have no qmail domain and locals would make nothing local; "
                     "list qmail's own domains (e.g. the host's name and its mail domain)")
    if method.routes_mail and not s["teamware_domains"]:
        problems.add("teamware_domains", "method %s needs the Teamware Office base address(es)" % method.name)
    if s["teamware_routing"] == "domain":
        _check_domain_routing(problems, method, s)
    elif s["teamware_routing"] == "user":
        _check_user_routing(problems, s, existing_users)
    if method.hook.forwards_to_rewrite_domain:
        _check_forward(problems, s)
    if method.transport.needs_server:
        _check_smtp(problems, method, s)
    if s["teamware_default_route"] and not method.hook.allows_default_route:
        problems.add("teamware_default_route", "a default route to Teamware Office exists only with method smtp_smtproutes (5.2.1)")
    if method.needs_routing_user:
        _check_routing_user(problems, method, s)
    _check_extra_routes(problems, method, s)


def _routing_kind(problems, method, routing):
    if method.routing_kinds:
        if routing is None and len(method.routing_kinds) == 1:
            routing = method.routing_kinds[0]
        if routing is None:
            problems.add("teamware_routing", "method %s (%s) allows %s routing: choose one"
                         % (method.name, method.section, " or ".join(method.routing_kinds)))
        elif routing not in method.routing_kinds:
            problems.add("teamware_routing", "method %s (%s) allows only %s routing, not %r"
                         % (method.name, method.section, " or ".join(method.routing_kinds), routing))
    elif routing not in (None, "domain", "user"):
        problems.add("teamware_routing", "must be 'domain' or 'user', not %r" % (routing,))
    return routing


def _check_domain_routing(problems, method, s):
    local = set(s["qmail_local_domains"])
    for dom in s["teamware_domains"]:
        if dom in local:
            problems.add("teamware_domains", "%r is also in qmail_local_domains: one domain in two roles; with domain-based "
                         "routing Teamware Office and qmail need different base addresses" % dom)
        elif method.teamware_domains_must_be_remote and dom == s["qmail_me"]:
            problems.add("teamware_domains", "%r is qmail's own name (control/me); method %s needs it non-local, or qmail "
                         "delivers it locally" % (dom, method.name))


def _check_user_routing(problems, s, existing_users):
    local = set(s["qmail_local_domains"])
    for dom in s["teamware_domains"]:
        if dom not in local:
            problems.add("teamware_domains", "%r is not in qmail_local_domains: with user-based routing Teamware Office users "
                         "share qmail's base address, so it must be local for qmail" % dom)
    prefix = s["teamware_user_prefix"]
    if not prefix:
        if "teamware_user_prefix" not in [p[0] for p in problems.items]:
            problems.add("teamware_user_prefix", "user-based routing needs a naming rule: a prefix that only Teamware "
                         "Office addresses start with, e.g. 'tw.' (tw.john@company.com)")
        return
    for user in sorted(set(RESERVED_LOCAL_NAMES) | existing_users):
        if user.lower().startswith(prefix):
            problems.add("teamware_user_prefix", "%r would capture the local account %r; choose a prefix no local "
                         "user name starts with" % (prefix, user))
    for alias in s["qmail_aliases"]:
        if alias.startswith(prefix):
            problems.add("qmail_aliases", "alias %r starts with the Teamware prefix %r: one name in two roles" % (alias, prefix))


def _check_forward(problems, s):
    rewrite = s["teamware_rewrite_domain"]
    if not rewrite:
        problems.add("teamware_rewrite_domain", "method smtp_forward (5.2.4) needs the alias base address that qmail "
                     "forwards to and routes to Teamware Office, e.g. tw.company.com")
    elif rewrite in s["qmail_local_domains"] or rewrite == s["qmail_me"] or rewrite in s["teamware_domains"]:
        problems.add("teamware_rewrite_domain", "%r must not be local for qmail (qmail_local_domains, control/me) nor a "
                     "Teamware base address: the forwarded message would loop back to ~alias" % rewrite)


def _check_smtp(problems, method, s):
    server = s["teamware_server"]
    address = s["teamware_server_address"]
    if not server and not address:
        problems.add("teamware_server", "method %s delivers by SMTP and needs the Teamware Office server "
                     "(a name, or [IP]; set teamware_server_address to 127.0.0.1 when it runs on this host)" % method.name)
    if address and address.startswith("127.") and s["teamware_smtp_port"] == 25:
        problems.add("teamware_smtp_port", "Teamware Office on this host (teamware_server_address %s) cannot use port 25, "
                     "which qmail-smtpd listens on; move its SMTP port, e.g. to 2025" % address)
    if server and not server.startswith("[") and method.hook.pipes_delivery:
        teamware_local = method.hook.teamware_local_domains(s["teamware_routing"], s["teamware_domains"])
        if server in set(s["qmail_local_domains"]) | set(teamware_local):
            problems.add("teamware_server", "%r is also a domain qmail delivers locally: one name in two roles; use the "
                         "Teamware server's own host name (smtproutes maps it to the server)" % server)
    if server and server.startswith("[") and address and server != "[%s]" % address:
        problems.add("teamware_server_address", "teamware_server is already the address %s; drop one of them" % server)


def _check_routing_user(problems, method, s):
    user = s["teamware_routing_user"]
    account = s["routing_account"]
    if user in QMAIL_SYSTEM_USERS or user == "root":
        problems.add("teamware_routing_user", "%r is a qmail or system account; use a dedicated user such as 'twu'" % user)
    elif account is None:
        problems.add("teamware_routing_user", "%r does not exist on the host; method %s delivers through its home "
                     "(the qmail role creates it)" % (user, method.name))
    else:
        if account.uid == 0:
            problems.add("teamware_routing_user", "%r has uid 0: qmail refuses to deliver as root" % user)
        if account.home in ("/", "") or account.home.startswith(s["qmail_dir"] or "/var/qmail"):
            problems.add("teamware_routing_user", "%r has home %r; it needs a home of its own" % (user, account.home))


def _check_extra_routes(problems, method, s):
    rewrite = s["teamware_rewrite_domain"]
    taken = {}
    for dom in s["qmail_local_domains"]:
        taken[dom] = "qmail_local_domains"
    for dom in s["teamware_domains"]:
        taken.setdefault(dom, "teamware_domains")
    keys = {}
    for route in s["qmail_extra_smtproutes"]:
        if route.domain in keys:
            problems.add("qmail_extra_smtproutes", "domain %r has two routes; qmail would silently use the last" % route.domain)
        keys[route.domain] = route
        if route.domain in taken and (taken[route.domain] == "qmail_local_domains" or method.hook.claims_teamware_routes):
            problems.add("qmail_extra_smtproutes", "domain %r is also in %s: one domain in two roles" % (route.domain, taken[route.domain]))
        if route.domain == "" and s["teamware_default_route"]:
            problems.add("qmail_extra_smtproutes", "has a default route (empty domain) and teamware_default_route is true: one default only")
        if rewrite and route.domain == rewrite and method.hook.forwards_to_rewrite_domain:
            problems.add("qmail_extra_smtproutes", "domain %r is the smtp_forward alias base address, routed by the collection" % rewrite)


def check_extras(problems, values, s):
    """The entries the inventory declares beside Teamware's (extras.py); none may take a domain of another role."""
    taken = {}
    for dom in s["qmail_local_domains"]:
        taken[dom] = "qmail_local_domains"
    for dom in s["teamware_domains"]:
        taken.setdefault(dom, "teamware_domains")
    if s["teamware_rewrite_domain"]:
        taken.setdefault(s["teamware_rewrite_domain"], "teamware_rewrite_domain")
    s["qmail_extra_rcpthosts"] = extras.rcpthosts(problems, values["qmail_extra_rcpthosts"], taken)
    for route in s["qmail_extra_smtproutes"]:
        taken.setdefault(route.domain, "qmail_extra_smtproutes")
    s["qmail_extra_virtualdomains"] = extras.virtualdomains(problems, values["qmail_extra_virtualdomains"], taken)
    prefix = s["teamware_user_prefix"] if s["teamware_routing"] == "user" else None
    s["qmail_extra_users"] = extras.users(problems, values["qmail_extra_users"], prefix)
