# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The routing core: from inventory settings to the complete qmail side of an integration.

All seven integration methods of "Integrating Qmail with Teamware Office" (sections
5.1.1 to 5.2.4) and the "no integration" variant of section 2 are described in
METHODS (methods.py: each a hook and a transport); ``build_routing_table`` turns validated settings into every control
file line, users/assign entry and .qmail file that qmail must have, plus what the
Teamware Office side must know.  Nothing here touches the host: the
``teamware.qmail.routing_table`` module writes what this computes.

Where the document would lose or misroute mail, the table does what qmail's source
says is safe (see docs/document-vs-qmail.md):

* every qmail variable in a pipe line is quoted, every inventory value is
  shell-quoted (and validated so that quoting is a formality);
* in virtual domains the Teamware address is built from "$DEFAULT"@"$HOST"
  (the document's $SENDER is wrong);
* SMTP deliveries from a .qmail file go through a wrapper around qmail-remote
  that turns its reports into exit codes, so that mail is deferred while
  Teamware Office is down and bounced when it refuses (a bare qmail-remote
  always exits 0 and the mail is lost);
* smtproutes is written in the order qmail really applies it (most specific
  first), and a key may appear only once;
* torecvm may be run through qmail's preline so that Teamware sees Return-Path
  (lifting the receipt-notification limit of section 5.1).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gc

from ansible_collections.teamware.qmail.plugins.module_utils import methods
from ansible_collections.teamware.qmail.plugins.module_utils import rules
from ansible_collections.teamware.qmail.plugins.module_utils import validators as v

# qmail's own accounts (INSTALL.ids): mail must never be routed by a prefix that
# captures their names, and they cannot be the routing user.
QMAIL_SYSTEM_USERS = rules.QMAIL_SYSTEM_USERS
RESERVED_LOCAL_NAMES = rules.RESERVED_LOCAL_NAMES

MANAGED_MARKER = "# Managed by Ansible (teamware.qmail): edit the inventory, not this file."


# The methods and everything that differs between them: methods.py.
Method = methods.Method
METHODS = methods.METHODS

# The .qmail files a method may own; any other method must leave none of them behind.
# (Aliases and groups are shared by all methods and are tracked by the marker line.)
TORECVM_REPORTS = ("A", "F", "N")

DEFAULTS = {
    "teamware_integration_method": "none",
    "teamware_routing": None,
    "teamware_domains": [],
    "teamware_user_prefix": None,
    "teamware_rewrite_domain": None,
    "teamware_server": None,
    "teamware_server_address": None,
    "teamware_smtp_port": 25,
    "teamware_routing_user": "twu",
    "teamware_torecvm": "/usr/bin/torecvm",
    "teamware_root": "/to",
    "teamware_torecvm_reports": "A",
    "teamware_preserve_return_path": True,
    "teamware_default_route": False,
    "qmail_dir": "/var/qmail",
    "qmail_local_domains": [],
    "qmail_me": None,
    "qmail_aliases": {},
    "qmail_extra_smtproutes": [],
    "qmail_extra_rcpthosts": [],
    "qmail_extra_virtualdomains": [],
    "qmail_extra_users": [],
    "qmail_delivery_wrapper": "/usr/local/bin/teamware-qmail-remote",
}


class Account:
    """A Unix account that owns .qmail files: name, uid, gid, home (uid/gid None = not yet created)."""

    def __init__(self, name, uid, gid, home, problems=()):
        self.name = name
        self.uid = uid
        self.gid = gid
        self.home = home.rstrip("/") or "/"
        # What is wrong with the entry of qmail_accounts it came from (Settings.from_vars reports it).
        self.problems = list(problems)

    @classmethod
    def from_entry(cls, name, entry):
        """The account of user ``name`` from an entry of qmail_accounts ({uid, gid, home}), checked: a wrong value
        is kept in ``problems`` (and replaced by a harmless one), so that validation names it."""
        problems = []
        if not isinstance(entry, dict):
            problems.append("must be a mapping with uid, gid and home, not %r" % (entry,))
            entry = {}
        ids = {}
        for key in ("uid", "gid"):
            value = entry.get(key)
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                problems.append("%s %r is not a number (a uid or gid, 0 or more)" % (key, value))
                value = None
            ids[key] = value
        home = entry.get("home")
        if not isinstance(home, str) or not home.startswith("/"):
            problems.append("home %r is not an absolute path" % (home,))
            home = ""
        return cls(name, ids["uid"], ids["gid"], home, problems)

    def as_dict(self):
        return {"name": self.name, "uid": self.uid, "gid": self.gid, "home": self.home}


class Settings:
    """Validated settings; build with ``Settings.from_vars``."""

    def __init__(self, **values):
        self.__dict__.update(values)

    @property
    def method(self):
        return METHODS[self.teamware_integration_method]

    @classmethod
    def from_vars(cls, variables, routing_account=None, alias_account=None, existing_users=()):
        """Validate inventory variables; raise v.ValidationError naming every wrong variable.

        routing_account / alias_account: Account objects looked up on the host (the
        routing user may be None where the method does not need it).  existing_users:
        names of the host's passwd users, to catch a prefix that would capture them.
        """
        unknown = sorted(set(variables) - set(DEFAULTS))
        values = dict(DEFAULTS)
        values.update((k, val) for k, val in variables.items() if val is not None)
        problems = v.Problems()
        for name in unknown:
            problems.add(name, "unknown setting (known: %s)" % ", ".join(sorted(DEFAULTS)))

        name = "teamware_integration_method"
        method = problems.check(name, v.choice, values[name], tuple(METHODS), "integration method")
        method = METHODS.get(method)

        s = {"teamware_integration_method": method.name if method else None}
        s["qmail_dir"] = problems.check("qmail_dir", v.absolute_path, values["qmail_dir"])
        s["qmail_local_domains"] = _domain_list(problems, "qmail_local_domains", values["qmail_local_domains"])
        s["qmail_me"] = None
        if values["qmail_me"]:
            s["qmail_me"] = problems.check("qmail_me", v.domain, values["qmail_me"])
        s["qmail_aliases"] = _aliases(problems, values["qmail_aliases"])
        s["qmail_extra_smtproutes"] = _routes(problems, values["qmail_extra_smtproutes"])
        s["qmail_delivery_wrapper"] = problems.check("qmail_delivery_wrapper", v.absolute_path, values["qmail_delivery_wrapper"])
        s["teamware_domains"] = _domain_list(problems, "teamware_domains", values["teamware_domains"])
        for key in ("teamware_torecvm", "teamware_root"):
            s[key] = problems.check(key, v.absolute_path, values[key])
        s["teamware_torecvm_reports"] = problems.check(
            "teamware_torecvm_reports", v.choice, values["teamware_torecvm_reports"], TORECVM_REPORTS, "torecvm report option")
        s["teamware_preserve_return_path"] = _boolean(problems, "teamware_preserve_return_path", values["teamware_preserve_return_path"])
        s["teamware_default_route"] = _boolean(problems, "teamware_default_route", values["teamware_default_route"])
        s["teamware_smtp_port"] = problems.check("teamware_smtp_port", v.port, values["teamware_smtp_port"])
        s["teamware_server"] = None
        if values["teamware_server"]:
            s["teamware_server"] = problems.check("teamware_server", v.mail_host, values["teamware_server"])
        s["teamware_server_address"] = None
        if values["teamware_server_address"]:
            s["teamware_server_address"] = problems.check("teamware_server_address", v.ipv4, values["teamware_server_address"])
        s["teamware_user_prefix"] = None
        if values["teamware_user_prefix"]:
            s["teamware_user_prefix"] = problems.check("teamware_user_prefix", v.user_prefix, values["teamware_user_prefix"])
        s["teamware_rewrite_domain"] = None
        if values["teamware_rewrite_domain"]:
            s["teamware_rewrite_domain"] = problems.check("teamware_rewrite_domain", v.domain, values["teamware_rewrite_domain"])
        s["teamware_routing_user"] = problems.check("teamware_routing_user", v.user_name, values["teamware_routing_user"])
        s["teamware_routing"] = values["teamware_routing"]
        s["routing_account"] = routing_account
        s["alias_account"] = alias_account or Account("alias", None, None, "%s/alias" % (s["qmail_dir"] or "/var/qmail"))

        for account in (routing_account, alias_account):
            for reason in getattr(account, "problems", None) or ():
                problems.add("qmail_accounts", "user %r: %s" % (account.name, reason))
        if method is not None:
            rules.check_method_rules(problems, method, s, set(existing_users))
            rules.check_extras(problems, values, s)
        problems.raise_if_any()
        return cls(**s)


def _boolean(problems, name, value):
    if isinstance(value, bool):
        return value
    problems.add(name, "must be true or false, not %r" % (value,))
    return None


def _domain_list(problems, name, value, allow_wildcard=False):
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        problems.add(name, "must be a list of domains, not %r" % (value,))
        return []
    result = []
    seen = set()
    for item in value:
        cleaned = problems.check(name, v.domain, item, allow_wildcard)
        if cleaned is None:
            continue
        if cleaned in seen:
            problems.add(name, "domain %r is listed twice" % cleaned)
            continue
        seen.add(cleaned)
        result.append(cleaned)
    return result


def _aliases(problems, value):
    name = "qmail_aliases"
    if not isinstance(value, dict):
        problems.add(name, "must be a mapping from a local name to a list of addresses, not %r" % (value,))
        return {}
    result = {}
    for local, targets in value.items():
        cleaned = problems.check(name, _alias_name, local)
        if cleaned is None:
            continue
        key = cleaned.lower()
        if key in result:
            problems.add(name, "alias %r is listed twice (qmail compares names without case)" % local)
            continue
        file_name = dot_qmail_name("~alias", key)
        if key == "default" or key.endswith("-default"):
            problems.add(name, "alias %r would be %s, qmail-local's catch-all for %s, not a plain address: it would take "
                         "the mail of every address without a file of its own (and with the alias methods replace "
                         "the collection's ~alias/.qmail-default)"
                         % (local, file_name, "every address" if key == "default" else "the addresses starting with %r"
                            % key[:-len("default")]))
            continue
        if key in QMAIL_SYSTEM_USERS:
            problems.add(name, "alias %r is one of qmail's own accounts, which qmail delivers to before reading ~alias" % local)
            continue
        if isinstance(targets, str):
            targets = [targets]
        if not isinstance(targets, (list, tuple)) or not targets:
            problems.add(name, "alias %r needs a non-empty list of addresses" % local)
            continue
        addresses = [problems.check(name, v.mail_address, target) for target in targets]
        if None in addresses:
            continue
        if key in [a.lower() for a in addresses]:
            problems.add(name, "alias %r forwards to itself, which qmail bounces as a loop" % local)
            continue
        result[key] = addresses
    return result


def _alias_name(value):
    """The name of an alias: a local part that is also the file name ~alias/.qmail-NAME (dot_qmail_name: qmail-local
    looks the name up in lower case with '.' written as ':', so two names that differ only there are one file)."""
    if isinstance(value, str) and ":" in value:
        raise v.InvalidValue("alias %r has a ':'; qmail writes '.' as ':' in .qmail file names, so %s is the file of "
                             "the alias %r" % (value, dot_qmail_name("~alias", value), value.replace(":", ".")))
    value = v.local_part(value)
    if "/" in value:
        raise v.InvalidValue("alias %r has a '/', which cannot be in the file name ~alias/.qmail-NAME" % value)
    if len(".qmail-") + len(value) > 255:
        raise v.InvalidValue("alias %r is too long for the file name ~alias/.qmail-NAME (255 bytes)" % value)
    return value


def _routes(problems, value):
    name = "qmail_extra_smtproutes"
    if not isinstance(value, (list, tuple)):
        problems.add(name, "must be a list of {domain, relay, port} entries, not %r" % (value,))
        return []
    routes = []
    for entry in value:
        if not isinstance(entry, dict) or "domain" not in entry or set(entry) - {"domain", "relay", "port"}:
            problems.add(name, "entry %r must have 'domain' and may have 'relay' and 'port' only" % (entry,))
            continue
        key = entry["domain"]
        if key not in ("", None):
            key = problems.check(name, v.domain, key, True)
            if key is None:
                continue
        else:
            key = ""
        relay = entry.get("relay") or ""
        if relay:
            relay = problems.check(name, v.mail_host, relay)
            if relay is None:
                continue
        route_port = entry.get("port")
        if route_port not in (None, ""):
            if not relay:
                problems.add(name, "route %r has a port but no relay: qmail would ignore it" % (entry,))
                continue
            route_port = problems.check(name, v.port, route_port)
            if route_port is None:
                continue
        else:
            route_port = None
        routes.append(Route(key, relay, route_port, "qmail_extra_smtproutes"))
    return routes


class Route:
    """One smtproutes line: domain ('' = default, '.x' = subdomains), relay ('' = use MX), port."""

    def __init__(self, domain, relay, port, origin):
        self.domain = domain
        self.relay = relay
        self.port = port
        self.origin = origin

    def line(self):
        value = self.relay
        if self.relay and self.port and self.port != 25:
            value = "%s:%d" % (self.relay, self.port)
        return "%s:%s" % (self.domain, value)

    def specificity(self):
        """qmail-remote tries the exact host, then '.suffix' longest first, then ''."""
        if self.domain == "":
            return (2, 0, "")
        if self.domain.startswith("."):
            return (1, -len(self.domain), self.domain)
        return (0, 0, self.domain)


def order_smtproutes(routes):
    """Lines in the order qmail-remote really applies them (document 5.2.1 says first-match; it is not)."""
    return [route.line() for route in sorted(routes, key=Route.specificity)]


def dot_qmail_name(home, extension):
    """The file qmail-local reads for an extension: lower case, '.' written as ':'."""
    if not extension:
        return "%s/.qmail" % home
    return "%s/.qmail-%s" % (home, extension.lower().replace(".", ":"))


class RoutingTable:
    """The desired qmail state; ``as_dict`` is what the module returns.  While it is built, ``routes``, ``virtual``
    and ``users`` collect the method's lines of smtproutes, virtualdomains and users/assign (methods.py)."""

    def __init__(self, settings):
        self.settings = settings
        self.control = {}
        self.users_assign = []
        self.dot_qmail = []
        self.teamware = {}
        self.notes = []
        self.routes = []
        self.virtual = []
        self.users = []

    def add_dot_qmail(self, account, extension, lines, purpose):
        self.dot_qmail.append({
            "path": dot_qmail_name(account.home, extension),
            "owner": account.name,
            "uid": account.uid,
            "gid": account.gid,
            "mode": "0644",
            "lines": [MANAGED_MARKER] + list(lines),
            "purpose": purpose,
        })

    def add_route(self, domain, origin):
        """An smtproutes line that sends ``domain`` to Teamware Office."""
        s = self.settings
        self.routes.append(Route(domain, methods.teamware_relay(s), s.teamware_smtp_port, origin))

    def as_dict(self):
        s = self.settings
        return {
            "method": s.method.name,
            "section": s.method.section,
            "title": s.method.title,
            "routing": s.teamware_routing,
            "control": dict(self.control),
            "users_assign": list(self.users_assign),
            "dot_qmail": [dict(entry) for entry in self.dot_qmail],
            "routing_user": s.routing_account.as_dict() if (s.method.needs_routing_user and s.routing_account) else None,
            "teamware": dict(self.teamware),
            "notes": list(self.notes),
            "user_prefix": s.teamware_user_prefix if s.teamware_routing == "user" else None,
        }


NO_MAILBOX = methods.NO_MAILBOX


def build_routing_table(settings):
    """Everything qmail must contain for the settings' method (see methods.py)."""
    s = settings
    method = s.method
    table = RoutingTable(s)
    local = list(s.qmail_local_domains)
    local_set = set(local)
    teamware_local = method.hook.teamware_local_domains(s.teamware_routing, s.teamware_domains)
    local += [d for d in teamware_local if d not in local_set]
    local_set.update(teamware_local)
    # Section 2 (no integration): the Teamware domains are none of qmail's business.
    rcpthosts = local + [d for d in s.teamware_domains if d not in local_set and method.routes_mail]

    table.routes = list(s.qmail_extra_smtproutes)
    method.add_entries(table, s)

    for alias, targets in sorted(s.qmail_aliases.items()):
        table.add_dot_qmail(s.alias_account, alias, ["&%s" % t for t in targets],
                            "alias %s (section 6)" % alias)

    table.control["rcpthosts"] = rcpthosts + list(s.qmail_extra_rcpthosts)
    table.control["locals"] = local
    table.control["virtualdomains"] = table.virtual + list(s.qmail_extra_virtualdomains)
    table.control["smtproutes"] = order_smtproutes(table.routes)
    table.users_assign = list(s.qmail_extra_users) + table.users + ["."]
    table.teamware = method.teamware_side(s)
    return table


def teamware_side(variables):
    """What the Teamware Office side must know, computed on the controller from the same inventory.

    The accounts of the qmail host are not known there; placeholders stand in for
    them, since they do not change what Teamware Office is told.
    """
    user = variables.get("teamware_routing_user") or DEFAULTS["teamware_routing_user"]
    placeholder = Account(user, 1, 1, "/home/%s" % user)
    settings = Settings.from_vars(variables, placeholder, None, ())
    return settings.method.teamware_side(settings)


def compute(variables, routing_account=None, alias_account=None, existing_users=()):
    """Validate and build in one call; returns the table's dict."""
    # The table is many small dicts and lists that never form cycles: the cyclic garbage
    # collector would only rescan them again and again (a third of the time at 100,000 entries).
    collecting = gc.isenabled()
    gc.disable()
    try:
        settings = Settings.from_vars(variables, routing_account, alias_account, existing_users)
        return build_routing_table(settings).as_dict()
    finally:
        if collecting:
            gc.enable()
