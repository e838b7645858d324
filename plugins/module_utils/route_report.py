# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The route report of the modules: the options teamware.qmail.qmail_route_info and routing_table's
route_report take, their checks, and the report itself (router.py on the host, route_expect.py for the
expected routes).

Pure Python, no Ansible imports: REPORT_OPTIONS is plain argument-spec data.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.teamware.qmail.plugins.module_utils import qmail_host
from ansible_collections.teamware.qmail.plugins.module_utils import route_expect
from ansible_collections.teamware.qmail.plugins.module_utils import route_summary
from ansible_collections.teamware.qmail.plugins.module_utils.qmail_config import control_lines
from ansible_collections.teamware.qmail.plugins.module_utils.router import (
    DEFAULT_ALIASEMPTY, DEFAULT_MAX_DEPTH, DEFAULT_SENDER, DEFAULT_WRAPPER, Options, Router)

# The options of a route report, in Ansible's argument-spec format (plain data): teamware.qmail.qmail_route_info
# takes them with qmail_dir, and routing_table's route_report takes them as one dict, so both ask the same.
REPORT_OPTIONS = dict(
    addresses=dict(type="list", elements="str", required=True),
    passwd_file=dict(type="path", default="/etc/passwd", no_log=False),
    tcp_rules=dict(type="path", default="/etc/tcp.smtp"),
    tcp_rules_cdb=dict(type="path"),
    hosts_allow=dict(type="path", default="/etc/hosts.allow"),
    aliasempty=dict(type="str", default=DEFAULT_ALIASEMPTY),
    sender=dict(type="str", default=DEFAULT_SENDER),
    teamware_domains=dict(type="list", elements="str", default=[]),
    teamware_user_prefix=dict(type="str"),
    teamware_servers=dict(type="list", elements="str", default=[]),
    qmail_delivery_wrapper=dict(type="path", default=DEFAULT_WRAPPER),
    max_forward_depth=dict(type="int", default=DEFAULT_MAX_DEPTH),
    expected=dict(type="dict", default={}),
)


def report_problems(params):
    """What is wrong with REPORT_OPTIONS values beyond their types, one message each (empty when nothing is)."""
    problems = []
    if params["max_forward_depth"] < 1:
        problems.append("max_forward_depth must be at least 1")
    try:
        route_expect.parse(params["expected"])
    except route_expect.ExpectationError as exc:
        problems.append("expected: %s" % exc)
    return problems


def report(qmail_dir, params, cdb_library, cdb_library_name, relay=True):
    """Where qmail delivers params["addresses"], as the modules return it (see qmail_route_info's RETURN).

    params: the REPORT_OPTIONS values.  relay=False leaves out the relay clients (routing_table reports before the
    front end has written its files); report_problems(params) must be empty.  Raises IOError/OSError when qmail's
    files cannot be read.
    """
    view = qmail_host.HostView(qmail_dir, params["passwd_file"], qmail_host.make_cdb_opener(cdb_library))
    options = Options(
        sender=params["sender"],
        aliasempty=params["aliasempty"],
        teamware_domains=params["teamware_domains"],
        teamware_user_prefix=params["teamware_user_prefix"],
        teamware_servers=params["teamware_servers"],
        delivery_wrappers=[params["qmail_delivery_wrapper"]],
        max_depth=params["max_forward_depth"],
    )
    router = Router(view, options)
    result = {}
    relay_warnings, relay_notes = [], []
    if relay:
        result["relay_clients"], relay_warnings, relay_notes = router.relay_clients(
            params["tcp_rules"], params["hosts_allow"], params["tcp_rules_cdb"])
    routes = [router.route(address) for address in params["addresses"]]
    config = router.config
    result.update(
        summary=[route["summary"] for route in routes],
        routes=routes,
        config=dict(
            me=config.me,
            locals=config.locals_list,
            rcpthosts=config.rcpthosts_list,
            virtualdomains=config.virtualdomains_list,
            smtproutes=config.smtproutes_list,
            percenthack=control_lines(config.texts["percenthack"]),
            envnoathost=config.envnoathost,
            users_cdb=router.users_cdb_present,
            cdb_library=cdb_library_name,
        ),
        config_warnings=router.warnings + relay_warnings,
        notes=router.notes + relay_notes,
        wrong=route_expect.mismatches(routes, params["expected"]) if params["expected"] else [],
        checked=len(params["expected"] or {}),
    )
    return result


def report_warnings(result):
    """The warnings of a report, each once: the configuration's, then each route's."""
    return route_summary.unique(result["config_warnings"] + [text for route in result["routes"] for text in route["warnings"]])
