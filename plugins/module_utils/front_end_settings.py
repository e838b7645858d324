# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The front-end roles' variables, checked on the controller as relay_rules would check them on the host.

Pure Python, no Ansible imports.  site.yml's first play calls this through the site_settings filter, so that a wrong
ucspi_tcp_* or inetd_* value stops the run before qmail's routing changes on any host; relay_rules makes the same
checks again (it is also used without site.yml).  What only the host can tell (do the accounts exist, does the
service directory hold something else) stays with relay_rules.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools

from ansible_collections.teamware.qmail.plugins.module_utils import front_end_files, relay, smtp_banner
from ansible_collections.teamware.qmail.plugins.module_utils.validators import ValidationError

# The front-end roles' variables read here, each with its role: their defaults are the roles' argument specs, handed in
# by the caller (site_settings.role_defaults), never copied here.  ucspi_tcp_supervise_dir's default is qmail_dir's
# supervise directory (its spec says so in Jinja); qmail_dir is the qmail role's, which site.yml hands both roles.
TCPSERVER_VARIABLES = ("ucspi_tcp_rules_file", "ucspi_tcp_rules_cdb", "ucspi_tcp_bind_address", "ucspi_tcp_port",
                       "ucspi_tcp_service_dir", "ucspi_tcp_log_level", "ucspi_tcp_logger", "ucspi_tcp_user",
                       "ucspi_tcp_group", "ucspi_tcp_log_user", "ucspi_tcp_extra_options", "ucspi_tcp_probe",
                       "ucspi_tcp_qmail_dir")
INETD_VARIABLES = ("inetd_conf", "inetd_hosts_allow", "inetd_qmail_dir", "inetd_tcpd", "inetd_user",
                   "inetd_bind_address", "inetd_port")
SPEC_DEFAULTS = dict([(name, "ucspi_tcp") for name in TCPSERVER_VARIABLES] + [(name, "inetd") for name in INETD_VARIABLES]
                     + [("qmail_dir", "qmail")])
SERVICE_NAME = "qmail-smtpd"

# The two front ends: the role of each, the prefix of its variables, and the bind addresses that mean every address.
ROLES = {"tcpserver": "teamware.qmail.ucspi_tcp", "inetd": "teamware.qmail.inetd"}
PREFIXES = {"tcpserver": "ucspi_tcp_", "inetd": "inetd_"}
EVERY_ADDRESS = {"tcpserver": ("0", "0.0.0.0", ""), "inetd": ("", "*", "0.0.0.0")}


def _value(host, name, defaults):
    value = host.get(name)
    return defaults[name] if value is None else value


def _supervise_dir(host, qmail_dir):
    supervise_dir = host.get("ucspi_tcp_supervise_dir")
    return qmail_dir + "/supervise" if supervise_dir is None else supervise_dir


def _collect(problems, check, *args, **kwargs):
    try:
        check(*args, **kwargs)
    except ValidationError as exc:
        problems.extend(exc.problems)


def _service_directory(problems, host, defaults, qmail_dir):
    _collect(problems, relay.ServiceDirectory.from_vars, _supervise_dir(host, qmail_dir),
             _value(host, "ucspi_tcp_service_dir", defaults), SERVICE_NAME, "ucspi_tcp_")


def _tcpserver(problems, host, defaults, qmail_dir):
    get = functools.partial(_value, host, defaults=defaults)
    _collect(problems, relay.rules_paths, "ucspi_tcp_", get("ucspi_tcp_rules_file"), get("ucspi_tcp_rules_cdb"))
    _collect(problems, relay.TcpserverSettings.from_vars, prefix="ucspi_tcp_", rules_cdb=get("ucspi_tcp_rules_cdb"),
             bind_address=get("ucspi_tcp_bind_address"), port=get("ucspi_tcp_port"), qmail_dir=qmail_dir,
             log_level=get("ucspi_tcp_log_level"), logger=get("ucspi_tcp_logger"), log_user=get("ucspi_tcp_log_user"),
             probe=get("ucspi_tcp_probe") or None, extra_options=get("ucspi_tcp_extra_options"),
             user=get("ucspi_tcp_user"), group=get("ucspi_tcp_group"))


def _inetd(problems, host, defaults, qmail_dir):
    get = functools.partial(_value, host, defaults=defaults)
    _collect(problems, relay.InetdSettings.from_vars, prefix="inetd_", qmail_dir=qmail_dir, tcpd=get("inetd_tcpd"),
             user=get("inetd_user"), bind_address=get("inetd_bind_address") or "", port=get("inetd_port"))


def front_end_problems(front_end, host, defaults):
    """[(variable, reason)]: what relay_rules would refuse in the host's front-end variables under site.yml.

    front_end: the chosen one, tcpserver or inetd; host: the host's variables (an unset or null one takes its role's
    default: defaults, variable -> default for SPEC_DEFAULTS, from the roles' argument specs).  The chosen front end
    is checked whole; the other one as far as disabling it reads its variables (tcpserver: the service directory;
    inetd: everything its inetd.conf line is found by).  site.yml hands both roles
    qmail_dir as their qmail directory.
    """
    problems = []
    qmail_dir = host.get("qmail_dir") or defaults["qmail_dir"]
    if front_end == "tcpserver":
        _tcpserver(problems, host, defaults, qmail_dir)
    _service_directory(problems, host, defaults, qmail_dir)
    _inetd(problems, host, defaults, qmail_dir)
    # qmail_dir itself is the routing's variable, checked (and named) there; rules_cdb is checked twice.
    found = []
    for variable, reason in problems:
        if not variable.endswith("_qmail_dir") and (variable, reason) not in found:
            found.append((variable, reason))
    return found


def front_end_values(kind, state, host, defaults, qmail_dir):
    """relay_rules' other_front_end for the front end kind (tcpserver or inetd) with state, complete: every key the
    module reads, each the host's variable or its role's default (defaults, as for front_end_problems).

    qmail_dir: the front end's qmail directory (site.yml hands both roles qmail_dir; a role alone has its own).
    site_settings hands both front ends' values in qmail_site (site.yml passes them to the roles); the roles alone
    take them through the front_end_values filter, so that neither the roles nor the module carry the other role's
    defaults.
    """
    get = functools.partial(_value, host, defaults=defaults)
    if kind == "inetd":
        return {"kind": kind, "state": state, "inetd_conf": get("inetd_conf"), "hosts_allow": get("inetd_hosts_allow"),
                "hosts_allow_marker": front_end_files.HOSTS_ALLOW_MARKER, "port": str(get("inetd_port")),
                "qmail_dir": qmail_dir, "tcpd": get("inetd_tcpd"), "user": get("inetd_user"),
                "bind_address": str(get("inetd_bind_address") or "")}
    return {"kind": kind, "state": state, "supervise_dir": _supervise_dir(host, qmail_dir),
            "service_dir": get("ucspi_tcp_service_dir"), "service_name": SERVICE_NAME,
            "port": str(get("ucspi_tcp_port")), "bind_address": str(get("ucspi_tcp_bind_address"))}


def other_kind(front_end):
    """The front end that was not chosen."""
    return "inetd" if front_end == "tcpserver" else "tcpserver"


def _port(value):
    """The port as a number where it is one or a known service name (smtp_banner.port_number), else as given."""
    value = "smtp" if value is None or value == "" else str(value)
    try:
        return smtp_banner.port_number(value)
    except smtp_banner.BannerError:
        return value


def _address(kind, value):
    value = "" if value is None else str(value)
    return "*" if value in EVERY_ADDRESS[kind] else value


def both_serve_port(front_end, port, bind_address, other):
    """The one check that exactly one front end owns the SMTP port: "" or why both would serve it.

    front_end: tcpserver or inetd, present with port and bind_address (its role's values); other: the other front
    end's values (keys state, port, bind_address; missing ones take its role's defaults).  Both present on the same
    port fail where their addresses overlap (an address that means every address overlaps any).
    """
    if (other or {}).get("state") != "present":
        return ""
    kind = other_kind(front_end)
    if _port(port) != _port(other.get("port")):
        return ""
    own, theirs = _address(front_end, bind_address), _address(kind, other.get("bind_address"))
    if "*" not in (own, theirs) and own != theirs:
        return ""
    own_state, other_state = PREFIXES[front_end] + "state", PREFIXES[kind] + "state"
    return ("%s: %s and %s (%s) would both serve port %s; set one of %s and %s to absent"
            % (own_state, front_end, kind, other_state, "smtp" if port is None else port, own_state, other_state))


# What makes the other front end count as still serving the SMTP port (front_end_service.other_front_end_active).
STILL_SERVING = {
    "inetd": "an inetd.conf line for the port or qmail-smtpd, or the relay clients' block in hosts.allow, which stays "
             "until inetd no longer listens on the port",
    "tcpserver": "its service in the scan directory, or supervise still running it",
}


def still_serving(front_end):
    """Why the chosen front end (present) changes nothing: the other one (its role's state absent) still serves the
    port.  site.yml never gets here (it takes the other one out first); a play of one's own with the roles in the
    wrong order, or inetd_reload_method none before the admin's HUP, does."""
    kind = other_kind(front_end)
    return ("%sstate: present, but %s still serves the SMTP port (%s): take it out first (teamware.qmail.%s with "
            "%sstate: absent, listed before this role in the play; site.yml does this itself; with "
            "inetd_reload_method: none, send inetd its HUP), then run again; nothing changed"
            % (PREFIXES[front_end], kind, STILL_SERVING[kind], PREFIXES[kind][:-1], PREFIXES[kind]))
