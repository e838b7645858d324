# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Teamware Office side: what the MIME connector's ini files must say.

From the same inventory as the routing core (``routing.teamware_side``) plus the
``mime_connector_*`` options of the role, ``compute`` derives:

* ``to.ini`` section ``[MIME]`` (document section 4, 5.1, 5.2):
  ``deliver_relayed_dsn`` (0, 1, 2), ``no_relay``, ``mode`` (any, list, strict),
  ``allow`` (one line per domain, key repeated), ``smtp_port``, ``sendmail``
  (1 = "as if sendmail is installed": mail arrives through torecvm) and the
  connector's outgoing SMTP host;
* ``tombsmtp.ini``: ``own_node`` lines at top level, the base addresses and
  ``A:alias`` for each alias base address (5.2.4).

The document names deliver_relayed_dsn, no_relay, mode, allow and own_node.
It does not name the keys of the SMTP port, of the "sendmail installed" choice
and of the outgoing SMTP server (all set through the Admin client or
``to config``); ``smtp_port``, ``sendmail`` and ``smtp_host`` are the
collection's assumption, shared with the test simulator (simulator/README.md).

Pure Python: the filter plugins and the tests import it; nothing here touches a
host.  ``connector_files`` turns the settings' ``edits`` into the files' new
text (the teamware.qmail.mime_connector_files module writes it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections.abc import Mapping

from ansible_collections.teamware.qmail.plugins.module_utils import routing
from ansible_collections.teamware.qmail.plugins.module_utils import validators as v
from ansible_collections.teamware.qmail.plugins.module_utils.connector_keys import (
    MIME_SECTION, SMTP_HOST_KEY, TO_INI, TO_INI_KEYS, TOMBSMTP_INI)

ALIAS_PREFIX = "A:"

MODES = ("any", "list", "strict")
DSN_LEVELS = (0, 1, 2)
OUTGOING_RELAYS = ("isp", "qmail")

# Shared inventory variables the connector reads besides the routing core's.
INVENTORY_DEFAULTS = {
    "teamware_outgoing_relay": "isp",
}

# The role's options; None means "derive it" (see compute).
OPTION_DEFAULTS = {
    "mime_connector_mode": None,
    "mime_connector_allow": None,
    "mime_connector_no_relay": 1,
    "mime_connector_deliver_relayed_dsn": None,
    "mime_connector_server_count": 1,
    "mime_connector_isp_relay": None,
    "mime_connector_qmail_relay": None,
    "mime_connector_own_nodes": None,
    "mime_connector_own_node_aliases": None,
    "mime_connector_root": None,
    "mime_connector_inventory": None,
}


def pick_inventory(variables):
    """The routing core's and the connector's inventory variables out of a larger mapping (e.g. hostvars).

    Anything else (other roles' qmail_* variables, facts, ...) is ignored; None
    means "not set".
    """
    known = tuple(routing.DEFAULTS) + tuple(INVENTORY_DEFAULTS)
    picked = {}
    for name in known:
        if name in variables:
            value = variables[name]
            if value is not None:
                picked[name] = value
    return picked


def _unset(value):
    return value is None or value == ""


def _int_choice(problems, name, value, choices):
    if isinstance(value, bool):
        problems.add(name, "must be one of %s, not %r" % (", ".join(str(c) for c in choices), value))
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        number = None
    if number not in choices:
        problems.add(name, "must be one of %s, not %r" % (", ".join(str(c) for c in choices), value))
        return None
    return number


def _flag(problems, name, value):
    """0/1 as the connector writes it; true/false accepted."""
    if isinstance(value, bool):
        return int(value)
    return _int_choice(problems, name, value, (0, 1))


def _count(problems, name, value):
    if isinstance(value, bool):
        problems.add(name, "must be a number of servers, not %r" % (value,))
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        problems.add(name, "must be a number of servers, not %r" % (value,))
        return None
    if number < 1:
        problems.add(name, "must be at least 1, not %d" % number)
        return None
    return number


def _domains(problems, name, value):
    """A list of domains (lower-cased, no duplicates); None on a wrong type."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        problems.add(name, "must be a list of domains, not %r" % (value,))
        return None
    result = []
    for item in value:
        cleaned = problems.check(name, v.domain, item)
        if cleaned is None:
            continue
        if cleaned in result:
            problems.add(name, "domain %r is listed twice" % cleaned)
            continue
        result.append(cleaned)
    return result


def _relay_host(value):
    """The connector's outgoing SMTP server: a host name or an IPv4 address (no brackets, no port)."""
    if not isinstance(value, str):
        raise v.InvalidValue("host must be a string, not %s" % type(value).__name__)
    text = value
    if text.startswith("[") or text.endswith("]"):
        raise v.InvalidValue("host %r: write the address without brackets (brackets are qmail's syntax, not the connector's)" % text)
    if re.match(r"^[0-9.]+$", text):
        return v.ipv4(text)
    return v.domain(text)


class Settings:
    """Validated connector settings; ``as_dict`` is what the filter returns."""

    def __init__(self, **values):
        self.__dict__.update(values)

    def to_ini(self):
        values = {
            "deliver_relayed_dsn": self.deliver_relayed_dsn,
            "no_relay": self.no_relay,
            "mode": self.mode,
            "allow": list(self.allow),
            "smtp_port": self.smtp_port,
            "sendmail": int(self.sendmail),
        }
        if self.smtp_host is not None:
            values[SMTP_HOST_KEY] = self.smtp_host
        return values

    def own_node_lines(self):
        """Values of the own_node lines, in order: an A: alias follows its base address (5.2.4).

        The aliases belong to the first base address; the other base addresses follow.
        """
        if not self.own_nodes:
            return []
        first = self.own_nodes[0]
        return [first] + [ALIAS_PREFIX + alias for alias in self.own_node_aliases] + list(self.own_nodes[1:])

    def edits(self):
        """The keys the connector's files get, in the order they are written: file, section (None = top level), option, value_list."""
        result = []
        to_ini = self.to_ini()
        for key in TO_INI_KEYS:
            if key not in to_ini:
                continue
            value = to_ini[key]
            values = [str(item) for item in value] if isinstance(value, list) else [str(value)]
            result.append({"file": TO_INI, "section": MIME_SECTION, "option": key, "value_list": values})
        result.append({"file": TOMBSMTP_INI, "section": None, "option": "own_node", "value_list": self.own_node_lines()})
        return result

    def as_dict(self):
        return {
            "method": self.method,
            "section": self.section,
            "inbound": self.inbound,
            "to_ini": self.to_ini(),
            "tombsmtp_ini": {"own_node": self.own_node_lines()},
            "edits": self.edits(),
            "base_addresses": list(self.base_addresses),
            "own_nodes": list(self.own_nodes),
            "own_node_aliases": list(self.own_node_aliases),
            "routed_domains": list(self.routed_domains),
            "outgoing_relay": {"kind": self.outgoing_relay, "host": self.smtp_host},
            "server_count": self.server_count,
            "root": self.root,
            "warnings": list(self.warnings),
            "notes": list(self.notes),
        }


def _options(options):
    values = dict(OPTION_DEFAULTS)
    problems = v.Problems()
    for name, value in (options or {}).items():
        if name not in OPTION_DEFAULTS:
            problems.add(name, "unknown option of the mime_connector role (known: %s)" % ", ".join(sorted(OPTION_DEFAULTS)))
            continue
        if not _unset(value):
            values[name] = value
    return values, problems


def validate(variables, options=None):
    """Validate; return (Settings or None, list of (variable, reason)).

    variables: the inventory (e.g. the qmail host's hostvars); options: the
    role's mime_connector_* variables, of which mime_connector_inventory holds
    inventory variables that take precedence over ``variables``.
    """
    inventory = pick_inventory(variables)
    opts, problems = _options(options)
    overrides = opts["mime_connector_inventory"]
    if overrides is not None:
        if not isinstance(overrides, Mapping):
            problems.add("mime_connector_inventory", "must be a mapping of teamware_*/qmail_* variables, not %r" % (overrides,))
        else:
            known = set(routing.DEFAULTS) | set(INVENTORY_DEFAULTS)
            for name in sorted(set(overrides) - known):
                problems.add("mime_connector_inventory", "%r is not an inventory variable the connector reads (known: %s)"
                             % (name, ", ".join(sorted(known))))
            inventory.update((k, val) for k, val in overrides.items() if k in known and val is not None)

    routing_vars = dict((k, val) for k, val in inventory.items() if k in routing.DEFAULTS)
    side = None
    method = None
    try:
        side = routing.teamware_side(routing_vars)
        method = routing.METHODS[routing_vars.get("teamware_integration_method", "none")]
    except v.ValidationError as exc:
        for variable, reason in exc.problems:
            problems.add(variable, reason)

    relay = inventory.get("teamware_outgoing_relay", INVENTORY_DEFAULTS["teamware_outgoing_relay"])
    relay = problems.check("teamware_outgoing_relay", v.choice, relay, OUTGOING_RELAYS, "outgoing relay")

    name = "mime_connector_mode"
    mode = opts[name]
    if mode is not None:
        mode = problems.check(name, v.choice, mode, MODES, "mode")
    no_relay = _flag(problems, "mime_connector_no_relay", opts["mime_connector_no_relay"])
    dsn = opts["mime_connector_deliver_relayed_dsn"]
    if dsn is not None:
        dsn = _int_choice(problems, "mime_connector_deliver_relayed_dsn", dsn, DSN_LEVELS)
    count = _count(problems, "mime_connector_server_count", opts["mime_connector_server_count"])
    allow = opts["mime_connector_allow"]
    if allow is not None:
        allow = _domains(problems, "mime_connector_allow", allow)
    own_nodes = opts["mime_connector_own_nodes"]
    if own_nodes is not None:
        own_nodes = _domains(problems, "mime_connector_own_nodes", own_nodes)
    aliases = opts["mime_connector_own_node_aliases"]
    if aliases is not None:
        aliases = _domains(problems, "mime_connector_own_node_aliases", aliases)
    isp_relay = opts["mime_connector_isp_relay"]
    if isp_relay is not None:
        isp_relay = problems.check("mime_connector_isp_relay", _relay_host, isp_relay)
    qmail_relay = opts["mime_connector_qmail_relay"]
    if qmail_relay is not None:
        qmail_relay = problems.check("mime_connector_qmail_relay", _relay_host, qmail_relay)
    teamware_root = inventory.get("teamware_root") or routing.DEFAULTS["teamware_root"]
    root = opts["mime_connector_root"]
    root = problems.check("mime_connector_root", v.absolute_path, root if root is not None else teamware_root)
    if root:
        root = root.rstrip("/") or "/"

    if side is None or problems.items:
        return None, problems.items
    choices = _Choices(relay=relay, mode=mode, no_relay=no_relay, dsn=dsn, count=count, allow=allow, own_nodes=own_nodes,
                       aliases=aliases, isp_relay=isp_relay, qmail_relay=qmail_relay, root=root,
                       teamware_root=teamware_root)
    return _combine(problems, method, side, inventory, choices)


class _Choices:
    """The connector's own variables, each valid on its own (None: not set): what _combine weighs together.

    relay: teamware_outgoing_relay; mode, no_relay, dsn, count, allow, own_nodes, aliases, isp_relay, qmail_relay,
    root: the mime_connector_* options; teamware_root: the inventory's.
    """

    def __init__(self, relay, mode, no_relay, dsn, count, allow, own_nodes, aliases, isp_relay, qmail_relay, root,
                 teamware_root):
        self.relay = relay
        self.mode = mode
        self.no_relay = no_relay
        self.dsn = dsn
        self.count = count
        self.allow = allow
        self.own_nodes = own_nodes
        self.aliases = aliases
        self.isp_relay = isp_relay
        self.qmail_relay = qmail_relay
        self.root = root
        self.teamware_root = teamware_root


def _combine(problems, method, side, inventory, choices):
    """Rules between the variables, once each one is valid on its own (choices: a _Choices)."""
    warnings = []
    notes = []
    base, routed, own_nodes, aliases = _own_nodes(problems, method, side, choices, notes)
    mode, allow = _mode(problems, method, choices, routed, own_nodes, aliases, warnings, notes)

    sendmail = method.transport.sendmail
    root, teamware_root = choices.root, choices.teamware_root
    if sendmail and root != teamware_root:
        problems.add("mime_connector_root", "%s differs from teamware_root %s, where qmail's torecvm pipe delivers "
                     "(-d%s/smtp): they must be the same Teamware Office" % (root, teamware_root, teamware_root))

    smtp_host = _smtp_host(problems, inventory, choices, sendmail, notes)
    dsn = choices.dsn
    if dsn is None:
        dsn = 2 if choices.relay == "qmail" else 0

    if problems.items:
        return None, problems.items
    settings = Settings(
        method=method.name,
        section=method.section,
        inbound=side["inbound"] if method.routes_mail else None,
        deliver_relayed_dsn=dsn,
        no_relay=choices.no_relay,
        mode=mode,
        allow=allow,
        smtp_port=side["smtp_port"],
        sendmail=sendmail,
        outgoing_relay=choices.relay,
        smtp_host=smtp_host,
        base_addresses=base,
        own_nodes=own_nodes,
        own_node_aliases=aliases,
        routed_domains=routed if method.routes_mail else [],
        server_count=choices.count,
        root=root,
        warnings=warnings,
        notes=notes,
    )
    return settings, []


def _own_nodes(problems, method, side, choices, notes):
    """The base addresses, the domains qmail routes to the connector, and its own nodes and their aliases."""
    base = list(side["base_addresses"])
    routed = base + [alias for alias in side["own_node_aliases"] if alias not in base]
    own_nodes = choices.own_nodes
    aliases = choices.aliases
    if own_nodes is None:
        own_nodes = base
    if aliases is None:
        aliases = list(side["own_node_aliases"])
    if not own_nodes:
        problems.add("teamware_domains", "is empty: the MIME connector needs its base address(es) as own_node "
                     "(or set mime_connector_own_nodes)")
    for alias in aliases:
        if alias in own_nodes:
            problems.add("mime_connector_own_node_aliases", "%r is also a base address (own_node): one domain in two roles" % alias)
    if method.hook.forwards_to_rewrite_domain and len(own_nodes) > 1 and aliases:
        notes.append("5.2.4: the alias %s belongs to the first base address %s (written right after it)"
                     % (", ".join(aliases), own_nodes[0]))
    return base, routed, own_nodes, aliases


def _mode(problems, method, choices, routed, own_nodes, aliases, warnings, notes):
    """The connector's mode and allow list: each routed domain must be accepted."""
    mode = choices.mode
    allow = choices.allow
    count = choices.count
    if mode is None:
        mode = "strict" if count == 1 else "list"
    if allow is None:
        allow = list(routed)
    own = set(own_nodes) | set(aliases)
    if method.routes_mail:
        for dom in routed:
            if mode == "strict" and dom not in own:
                problems.add("mime_connector_mode", "strict accepts only this server's own nodes, but qmail delivers %s to "
                             "it; add it to mime_connector_own_nodes or use mode list" % dom)
            if mode == "list" and dom not in allow:
                problems.add("mime_connector_allow", "mode list must accept %s, which qmail delivers to this server" % dom)
    if mode == "list" and not allow:
        problems.add("mime_connector_allow", "is empty: with mode list the connector would accept no domain of its own list")
    if mode == "any" and not choices.no_relay:
        warnings.append("mime_connector_mode any with mime_connector_no_relay 0 accepts mail for every domain and relays "
                        "it: the server is an open relay (document section 4 recommends no_relay = 1)")
    if mode == "strict" and count > 1:
        notes.append("mode strict on one of %d Teamware Office servers: only its own base addresses are accepted "
                     "(section 4 recommends list for a MIME gateway)" % count)
    return mode, allow


def _smtp_host(problems, inventory, choices, sendmail, notes):
    """The connector's outgoing SMTP server: the ISP's relay, qmail, or None (left as it is)."""
    smtp_host = None
    if choices.relay == "isp":
        smtp_host = choices.isp_relay
        if choices.isp_relay is None:
            notes.append("teamware_outgoing_relay is isp and mime_connector_isp_relay is not set: the connector's "
                         "outgoing SMTP server (%s) is left as it is" % SMTP_HOST_KEY)
    elif choices.relay == "qmail":
        smtp_host = choices.qmail_relay
        if smtp_host is None:
            address = inventory.get("teamware_server_address") or ""
            if sendmail or address.startswith("127."):
                smtp_host = "127.0.0.1"
            elif inventory.get("qmail_me"):
                smtp_host = problems.check("qmail_me", _relay_host, inventory["qmail_me"])
            else:
                problems.add("mime_connector_qmail_relay", "teamware_outgoing_relay is qmail: set the qmail host's name or "
                             "address (qmail_me is not set and Teamware Office is not on the qmail host)")
        notes.append("outgoing mail goes through qmail at %s: qmail must let this Teamware Office server relay "
                     "(RELAYCLIENT, section 3) and cannot pass DSN requests on (section 4)" % smtp_host)
    return smtp_host


def find_problems(variables, options=None):
    """Every problem as "variable: reason" (empty when the settings are valid)."""
    _settings, found = validate(variables, options)
    return ["%s: %s" % (variable, reason) for variable, reason in found]


def compute(variables, options=None):
    """The settings' dict; raises validators.ValidationError naming every wrong variable."""
    settings, found = validate(variables, options)
    if found:
        raise v.ValidationError(found)
    return settings.as_dict()
