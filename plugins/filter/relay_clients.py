# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter: the clients qmail-smtpd lets relay, including the Teamware Office servers when they send through qmail."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.teamware.qmail.plugins.module_utils import relay, validators


def relay_clients(clients, teamware_hosts=None, outgoing_relay="isp"):
    """clients: qmail_relay_clients; teamware_hosts: hostvars of the Teamware servers (a list of dicts)."""
    if outgoing_relay not in ("isp", "qmail"):
        raise AnsibleFilterError("teamware_outgoing_relay: %r is not one of isp, qmail" % (outgoing_relay,))
    try:
        result = [client.pattern for client in relay.relay_clients(clients or [], "qmail_relay_clients")]
    except validators.ValidationError as exc:
        raise AnsibleFilterError(exc.render())
    if outgoing_relay == "qmail":
        for host in teamware_hosts or []:
            address = host.get("teamware_host_address") or host.get("ansible_host")
            name = host.get("inventory_hostname", "?")
            try:
                cleaned = validators.ipv4(address or "")
            except validators.InvalidValue:
                raise AnsibleFilterError("teamware_host_address: Teamware server %s sends its mail through qmail "
                                         "(teamware_outgoing_relay: qmail), so qmail must know its IPv4 address; "
                                         "%r is not one" % (name, address))
            if cleaned not in result:
                result.append(cleaned)
    return result


class FilterModule(object):
    def filters(self):
        return {"relay_clients": relay_clients}
