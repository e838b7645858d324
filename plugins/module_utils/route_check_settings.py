# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy check's settings for one qmail host, worked out from its variables.

Pure Python, no Ansible imports.  The site_settings filter calls it in the first task of site.yml and of
playbooks/route_check.yml, so that every play takes the same settings from qmail_site: what
teamware.qmail.qmail_route_info is asked (routing_table's route_check takes the same options, and a digest of them
with the context is the record of a check that passed: route_check_due), the context (what else the check's verdict
depends on) and where qmail-smtpd's greeting is read.

The roles' defaults are not copied here: the caller hands them in (``defaults``: variable -> default, the roles'
argument specs; SPEC_DEFAULTS names the role of each).  Two defaults are worked out instead of read:
``teamware_smtp_port`` has none in the qmail role's spec because the role hands routing_table the variable only when
it is set, so its default is the routing core's (routing.DEFAULTS); and ``teamware_route_check_sample`` defaults to
addresses derived from other variables (sample_addresses).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.teamware.qmail.plugins.module_utils import front_end_settings, route_expect, routing

# The variables whose default is a role's (its meta/argument_specs.yml): variable -> role.
SPEC_DEFAULTS = {
    "qmail_dir": "qmail",
    "ucspi_tcp_bind_address": "ucspi_tcp", "ucspi_tcp_port": "ucspi_tcp",
    "inetd_bind_address": "inetd", "inetd_port": "inetd",
}
# Where each front end listens: its role's variables (address, port).
LISTENERS = {kind: (prefix + "bind_address", prefix + "port") for kind, prefix in front_end_settings.PREFIXES.items()}
# qmail_route_info's options that take a variable only when the inventory sets it (otherwise the module's default,
# which is the role's): option -> variable.  An unset option stays out of the options, so that the digest of a check
# that passed (routing_table's route_check) does not change with the version that computes it.
IF_SET = (
    ("passwd_file", "teamware_route_check_passwd_file"),
    ("tcp_rules", "ucspi_tcp_rules_file"),
    ("tcp_rules_cdb", "ucspi_tcp_rules_cdb"),
    ("hosts_allow", "inetd_hosts_allow"),
    ("aliasempty", "qmail_default_delivery"),
    ("qmail_delivery_wrapper", "qmail_delivery_wrapper"),
)
# The local names of the sample addresses, at the first of qmail_local_domains; and a Teamware Office user.
SAMPLE_LOCAL = ("root", "postmaster")
SAMPLE_TEAMWARE_USER = "john"


def _value(host, name, default):
    """The host's value; its default when unset (None, as Ansible passes an undefined or null variable)."""
    value = host.get(name)
    return default if value is None else value


def _list(host, name, found, what):
    """A list variable whose empty or unset value means none; a value that is no list is named in found."""
    value = host.get(name) or []
    if isinstance(value, (list, tuple)):
        return list(value)
    found.append("%s: must be a list of %s, not %r" % (name, what, value))
    return []


def problems(host):
    """What is wrong with the variables the deploy check reads beyond the routing's checks: one message each."""
    found = []
    _list(host, "qmail_local_domains", found, "domains")
    _list(host, "teamware_domains", found, "domains")
    try:
        route_expect.sample(host.get(route_expect.SAMPLE_VARIABLE))
    except route_expect.ExpectationError as exc:
        found.append(str(exc))
    return found


def sample_addresses(host):
    """teamware_route_check_sample's default: root and postmaster at the first of qmail_local_domains (bare without
    one), and the user john of the first of teamware_domains with teamware_user_prefix (none without a domain)."""
    domains = _list(host, "qmail_local_domains", [], "domains")
    sample = ["%s@%s" % (name, domains[0]) if domains and domains[0] else name for name in SAMPLE_LOCAL]
    teamware = _list(host, "teamware_domains", [], "domains")
    if teamware:
        sample.append("%s%s@%s" % (host.get("teamware_user_prefix") or "", SAMPLE_TEAMWARE_USER, teamware[0]))
    return sample


def teamware_servers(host):
    """The Teamware Office server as qmail addresses it in smtproutes ([address]:port, name:port), so that the route
    check counts a forward to it as Teamware Office's."""
    port = _value(host, "teamware_smtp_port", routing.DEFAULTS["teamware_smtp_port"])
    servers = []
    if host.get("teamware_server_address"):
        servers.append("[%s]" % host["teamware_server_address"])
    if host.get("teamware_server"):
        servers.append(host["teamware_server"])
    return ["%s:%s" % (server, port) for server in servers]


def route_info_options(host, expected):
    """What teamware.qmail.qmail_route_info is asked besides qmail_dir and smtp_banner (routing_table's route_check).

    expected: teamware_expected_routes as route_expect.normalize returns it; its addresses are checked, or without
    any the sample addresses (teamware_route_check_sample, default sample_addresses).
    """
    options = {"addresses": list(expected) or route_expect.sample(host.get(route_expect.SAMPLE_VARIABLE))
               or sample_addresses(host)}
    for option, name in IF_SET:
        if host.get(name) is not None:
            options[option] = host[name]
    options["teamware_domains"] = _list(host, "teamware_domains", [], "domains")
    if host.get("teamware_user_prefix"):
        options["teamware_user_prefix"] = host["teamware_user_prefix"]
    options["teamware_servers"] = teamware_servers(host)
    options["expected"] = expected
    return options


def settings(host, defaults, front_end, relay_clients, smtp, expected):
    """The deploy check's settings for a qmail host.

    host: the host's variables; defaults: variable -> default for SPEC_DEFAULTS (the roles' argument specs);
    front_end (tcpserver or inetd), relay_clients, smtp (whether the greeting is checked) and expected (the expected
    routes, normalized): the site settings, already checked.  problems(host) must be empty.  Returns qmail_dir,
    route_check_options (route_info_options), route_check_smtp_banner (host and port of the chosen front end) and
    route_check_context (routing_table's route_check_context: the front end, the relay clients, smtp and the banner).
    """
    address, port = LISTENERS[front_end]
    banner = {"host": _value(host, address, defaults[address]), "port": _value(host, port, defaults[port])}
    return {
        "qmail_dir": _value(host, "qmail_dir", defaults["qmail_dir"]),
        "route_check_options": route_info_options(host, expected),
        "route_check_smtp_banner": banner,
        "route_check_context": {"front_end": front_end, "relay_clients": relay_clients, "smtp": smtp,
                                "smtp_banner": banner},
    }
