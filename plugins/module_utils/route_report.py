# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The route report of teamware.qmail.qmail_route_info: the report itself (router.py on the host, route_expect.py for
the expected routes); its options and their checks are route_options.py's (REPORT_OPTIONS and report_problems are
re-exported here).

Pure Python, no Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.teamware.qmail.plugins.module_utils import qmail_host
from ansible_collections.teamware.qmail.plugins.module_utils import route_expect
from ansible_collections.teamware.qmail.plugins.module_utils import route_summary
from ansible_collections.teamware.qmail.plugins.module_utils.qmail_config import control_lines
from ansible_collections.teamware.qmail.plugins.module_utils.route_options import REPORT_OPTIONS, report_problems
from ansible_collections.teamware.qmail.plugins.module_utils.router import Options, Router

__all__ = ["REPORT_OPTIONS", "report", "report_problems", "report_warnings"]


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
