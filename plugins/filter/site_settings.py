# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter: what site.yml works out once per host before anything changes, checking every value at once.

The variables the collection knows and the site-wide defaults are read from the argument specs of the roles
(roles/*/meta/argument_specs.yml; the site-wide variables are those of roles/site, which has no tasks), so that
they cannot drift from what the roles document.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import os

import yaml

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.teamware.qmail.plugins.filter.relay_clients import relay_clients
from ansible_collections.teamware.qmail.plugins.module_utils import front_end_settings
from ansible_collections.teamware.qmail.plugins.module_utils import rollout, route_check_settings, route_expect

# The prefixes of the collection's variables: an inventory variable with one of them that nothing knows is a mistake.
PREFIXES = ("qmail_", "teamware_", "ucspi_tcp_", "inetd_", "mime_connector_")
# The admin's own variables with those prefixes (an option of the site spec).
OWN_VARIABLES = "teamware_qmail_own_variables"
# The role whose argument spec holds the site-wide variables.
SITE_ROLE = "site"

# Names the collection sets itself: registered results, set_fact, the roles' vars/main.yml, play and task vars.
# The inventory does not set them, but hostvars holds the registered ones and the facts once a play has run.
# tests/unit/plugins/filter/test_inventory_variables.py checks this list against the roles and playbooks.
COLLECTION_SET = frozenset((
    "inetd_hosts_allow_marker", "inetd_hup", "inetd_look", "inetd_relay",
    "inetd_relay_options", "inetd_smtp_banner",
    "mime_connector_options", "mime_connector_problems",
    "mime_connector_settings", "mime_connector_state",
    "qmail_rollout", "qmail_routing", "qmail_routing_again", "qmail_routing_look", "qmail_routing_result",
    "qmail_routing_table_options", "qmail_send_service_options",
    "qmail_other_front_end_active", "qmail_site",
    "ucspi_tcp_link", "ucspi_tcp_look", "ucspi_tcp_real_dir",
    "ucspi_tcp_relay",
    "ucspi_tcp_relay_rules_options", "ucspi_tcp_required_programs", "ucspi_tcp_smtp_banner", "ucspi_tcp_svok",
))

_SPECS = {}


def collection_dir():
    """The collection's root (plugins/filter/ is two levels below it)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def argument_specs(root=None):
    """{role: {variable: spec}}: the options of every entry point of every role's meta/argument_specs.yml."""
    root = root or collection_dir()
    if root in _SPECS:
        return _SPECS[root]
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    roles_dir = os.path.join(root, "roles")
    specs = {}
    try:
        names = sorted(os.listdir(roles_dir))
    except OSError as exc:
        raise AnsibleFilterError("teamware.qmail: cannot read the roles' argument specs in %s: %s" % (roles_dir, exc))
    for role in names:
        path = os.path.join(roles_dir, role, "meta", "argument_specs.yml")
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=loader) or {}
        options = {}
        for entry_point in (data.get("argument_specs") or {}).values():
            options.update((entry_point or {}).get("options") or {})
        specs[role] = options
    if SITE_ROLE not in specs:
        raise AnsibleFilterError("teamware.qmail: %s/%s/meta/argument_specs.yml is missing" % (roles_dir, SITE_ROLE))
    _SPECS[root] = specs
    return specs


def documented_variables(root=None):
    """Every variable of every role's argument spec, the site-wide ones included."""
    return frozenset(name for options in argument_specs(root).values() for name in options)


def known_variables(root=None):
    """What the inventory may set with the collection's prefixes, and what the collection sets itself."""
    return documented_variables(root) | COLLECTION_SET


def site_spec(root=None):
    """The site-wide variables: name -> spec (type, default, choices...)."""
    return argument_specs(root)[SITE_ROLE]


def site_default(name, root=None):
    return site_spec(root)[name].get("default")


def role_defaults(names, root=None):
    """{variable: default} for names ({variable: role}), each the default of its role's argument spec."""
    specs = argument_specs(root)
    defaults = {}
    for name, role in names.items():
        spec = specs.get(role, {}).get(name)
        if spec is None or "default" not in spec:
            raise AnsibleFilterError("teamware.qmail: roles/%s/meta/argument_specs.yml gives no default of %s" % (role, name))
        defaults[name] = spec["default"]
    return defaults


def unknown_variables(host, root=None):
    """Problems, one per inventory variable with the collection's prefixes that nothing knows, with a suggestion."""
    own = host.get(OWN_VARIABLES) or []
    if isinstance(own, str) or not isinstance(own, (list, tuple)) or not all(isinstance(n, str) for n in own):
        return ["%s: must be a list of variable names, not %r" % (OWN_VARIABLES, own)]
    known = known_variables(root)
    problems = []
    for name in sorted(n for n in host if isinstance(n, str) and n.startswith(PREFIXES)):
        if name in known or name in own:
            continue
        close = difflib.get_close_matches(name, sorted(documented_variables(root)), n=1)
        problems.append("%s: no role of teamware.qmail and no site-wide setting knows this variable%s"
                        % (name, " (did you mean %s?)" % close[0] if close else ""))
    return problems


# The site-wide switches of the deploy check (bool, their defaults in the site spec).
ROUTE_CHECK_SWITCHES = {"route_check": "teamware_route_check", "route_check_every_run": "teamware_route_check_every_run",
                        "route_check_smtp": "teamware_route_check_smtp"}


def switches(host, problems):
    """{key: bool} of ROUTE_CHECK_SWITCHES, each the host's value or the site spec's default."""
    values = {}
    for key, name in ROUTE_CHECK_SWITCHES.items():
        value = host.get(name)
        try:
            values[key] = boolean(site_default(name) if value is None else value, strict=True)
        except TypeError:
            problems.append("%s: %r is not a boolean (true or false)" % (name, value))
    return values


def site_settings(host, teamware_hosts=None, qmail_host=True, inventory_hosts=None):
    """host: the host's hostvars; teamware_hosts: the hostvars of the Teamware Office servers (a list).

    Every host: the inventory's variables with the collection's prefixes must be known (unknown_variables), and
    mime_connector_qmail_host, when set, must be a host of inventory_hosts (when given); teamware_rollout_batch, when
    set, a positive number or a percentage (the hosts' agreement is rollout_plan's check).
    A qmail host (qmail_host true): the front-end roles' values as relay_rules checks them (front_end_settings); returns
    front_end, relay_clients, expected_routes, the front-end roles (front_end_role, other_front_end_role) and their
    states (front_ends: kind -> present or absent), the deploy check's switches (route_check,
    route_check_every_run, route_check_smtp), each with the site spec's default, and the deploy check's settings
    (route_check_settings.settings: qmail_dir, route_check_options, route_check_smtp_banner, route_check_context),
    and each front end as the other one's relay_rules looks at it (front_end_values: kind -> other_front_end,
    complete, with the roles' defaults); otherwise an empty dict.
    Fails naming every wrong variable.
    """
    problems = unknown_variables(host)
    if problems and not problems[0].startswith(OWN_VARIABLES):
        problems[-1] += " (list variables of your own with the collection's prefixes in %s)" % OWN_VARIABLES
    if inventory_hosts is not None and "mime_connector_qmail_host" in host:
        name = host.get("mime_connector_qmail_host")
        if not isinstance(name, str) or name not in inventory_hosts:
            problems.append("mime_connector_qmail_host: %r is not a host of the inventory; name the qmail host whose "
                            "variables describe the integration (default the first host of qmail_hosts)" % (name,))
    try:
        rollout.parse_batch(host.get(rollout.VARIABLE))
    except rollout.RolloutError as exc:
        problems.append(str(exc))
    if not qmail_host:
        if problems:
            raise AnsibleFilterError("Invalid inventory, nothing changed: %s" % "; ".join(problems))
        return {}
    settings = switches(host, problems)
    spec = site_spec()
    front_ends = spec["qmail_smtp_front_end"]["choices"]
    front_end = host.get("qmail_smtp_front_end", site_default("qmail_smtp_front_end"))
    if front_end not in front_ends:
        problems.append("qmail_smtp_front_end: %r is not one of %s" % (front_end, ", ".join(front_ends)))
    else:
        # What relay_rules would refuse later, after qmail's routing changed: ucspi_tcp_* and inetd_* values.
        problems.extend("%s: %s" % problem for problem in front_end_settings.front_end_problems(
            front_end, host, role_defaults(front_end_settings.SPEC_DEFAULTS)))
    clients = []
    try:
        clients = relay_clients(host.get("qmail_relay_clients", site_default("qmail_relay_clients")), teamware_hosts,
                                host.get("teamware_outgoing_relay", site_default("teamware_outgoing_relay")))
    except AnsibleFilterError as exc:
        problems.append(exc.message)
    else:
        if not clients:
            problems.append("qmail_relay_clients: empty; qmail-smtpd would let no client relay, not even the host itself "
                            "(127.)")
    expected = {}
    try:
        expected = route_expect.normalize(host.get("teamware_expected_routes") or site_default("teamware_expected_routes"))
    except route_expect.ExpectationError as exc:
        problems.append(str(exc))
    problems.extend(route_check_settings.problems(host))
    if problems:
        raise AnsibleFilterError("Invalid inventory, nothing changed: %s" % "; ".join(problems))
    other = front_end_settings.other_kind(front_end)
    settings.update(front_end=front_end, relay_clients=clients, expected_routes=expected,
                    # The roles of the two front ends and their states: the chosen one present, the other absent.
                    front_end_role=front_end_settings.ROLES[front_end],
                    other_front_end_role=front_end_settings.ROLES[other], front_ends={front_end: "present", other: "absent"})
    # The deploy check's settings: qmail_route_info's options (routing_table's route_check), its context, the banner.
    settings.update(route_check_settings.settings(host, role_defaults(route_check_settings.SPEC_DEFAULTS), front_end,
                                                  clients, settings["route_check_smtp"], expected))
    # Each front end as the other role's relay_rules looks at it (other_front_end), complete, with the roles' defaults.
    defaults = role_defaults(front_end_settings.SPEC_DEFAULTS)
    settings["front_end_values"] = dict(
        (kind, front_end_settings.front_end_values(kind, state, host, defaults, settings["qmail_dir"]))
        for kind, state in settings["front_ends"].items())
    return settings


def front_end_values(values, kind):
    """The roles' *_other_front_end when a role runs without site.yml: values, the other role's variables (those of
    front_end_settings.SPEC_DEFAULTS with its prefix, and its state; null where the play does not have them), as
    relay_rules' other_front_end, with that role's defaults (its argument spec) where null; null without its state
    (the other role is not part of the play).  site.yml hands the roles qmail_site.front_end_values instead."""
    prefix = front_end_settings.PREFIXES.get(kind)
    if prefix is None:
        raise AnsibleFilterError("front_end_values: kind must be one of %s, not %r"
                                 % (", ".join(sorted(front_end_settings.PREFIXES)), kind))
    values = dict((name, value) for name, value in (values or {}).items() if value is not None)
    if values.get(prefix + "state") is None:
        return None
    defaults = role_defaults(dict((name, role) for name, role in front_end_settings.SPEC_DEFAULTS.items()
                                  if name.startswith(prefix)))
    return front_end_settings.front_end_values(kind, values[prefix + "state"], values, defaults,
                                               values.get(prefix + "qmail_dir") or defaults[prefix + "qmail_dir"])


class FilterModule(object):
    def filters(self):
        return {"site_settings": site_settings, "front_end_values": front_end_values}
