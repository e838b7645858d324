# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter: what site.yml works out once per qmail host before anything changes, checking every value at once."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.teamware.qmail.plugins.filter.relay_clients import relay_clients
from ansible_collections.teamware.qmail.plugins.module_utils import route_expect

FRONT_ENDS = ("tcpserver", "inetd")


def site_settings(host, teamware_hosts=None):
    """host: the qmail host's hostvars; teamware_hosts: the hostvars of the Teamware Office servers (a list).

    Returns front_end, relay_clients and expected_routes; fails naming each wrong variable.
    """
    problems = []
    front_end = host.get("qmail_smtp_front_end", "tcpserver")
    if front_end not in FRONT_ENDS:
        problems.append("qmail_smtp_front_end: %r is not one of %s" % (front_end, ", ".join(FRONT_ENDS)))
    clients = []
    try:
        clients = relay_clients(host.get("qmail_relay_clients", ["127."]), teamware_hosts,
                                host.get("teamware_outgoing_relay", "isp"))
    except AnsibleFilterError as exc:
        problems.append(exc.message)
    else:
        if not clients:
            problems.append("qmail_relay_clients: empty; qmail-smtpd would let no client relay, not even the host itself "
                            "(127.)")
    expected = {}
    try:
        expected = route_expect.normalize(host.get("teamware_expected_routes") or {})
    except route_expect.ExpectationError as exc:
        problems.append(str(exc))
    if problems:
        raise AnsibleFilterError("Invalid inventory, nothing changed: %s" % "; ".join(problems))
    return {"front_end": front_end, "relay_clients": clients, "expected_routes": expected}


class FilterModule(object):
    def filters(self):
        return {"site_settings": site_settings}
