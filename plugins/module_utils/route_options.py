# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of a route report and their checks, without the report: teamware.qmail.qmail_route_info takes them
(through route_report.py), and routing_table checks its route_check option with them to say whether the deploy check
is due, without importing the route check's model of qmail (router.py and what it needs), which it never runs.

Pure Python, no Ansible imports: REPORT_OPTIONS is plain argument-spec data.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.teamware.qmail.plugins.module_utils import route_expect

# The router's defaults (router.Options takes them too).
DEFAULT_SENDER = "sender@example.net"
DEFAULT_ALIASEMPTY = "./Maildir/"
DEFAULT_WRAPPER = "/usr/local/bin/teamware-qmail-remote"
DEFAULT_MAX_DEPTH = 10

# The options of a route report, in Ansible's argument-spec format (plain data): teamware.qmail.qmail_route_info
# takes them with qmail_dir, and routing_table's route_check takes them as one dict, so both ask the same.
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
