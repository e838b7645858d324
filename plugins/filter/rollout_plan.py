# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter: the batches of site.yml's rollout (teamware_rollout_batch), worked out once in its first play.

Documentation: the sidecar file rollout_plan.yml beside this file.  The logic is in module_utils/rollout.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.teamware.qmail.plugins.module_utils import rollout


def rollout_plan(play_hosts, hostvars, qmail_hosts=None, teamware_servers=None):
    """play_hosts: the hosts of this run (ansible_play_hosts_all of the first play); hostvars; the two groups.

    Returns rollout.plan's {hosts, sizes, batches}; fails naming teamware_rollout_batch when a host's value is wrong or
    the hosts disagree.
    """
    if isinstance(play_hosts, str) or not isinstance(play_hosts, (list, tuple)):
        raise AnsibleFilterError("rollout_plan: the input must be the list of the run's hosts, not %r" % (play_hosts,))
    in_run = set(play_hosts)
    all_qmail = list(qmail_hosts or [])
    qmail = [host for host in all_qmail if host in in_run]
    servers = [host for host in (teamware_servers or []) if host in in_run]
    try:
        batch = rollout.common_batch(dict((host, hostvars[host].get(rollout.VARIABLE)) for host in qmail + servers))
    except rollout.RolloutError as exc:
        raise AnsibleFilterError("Invalid inventory, nothing changed: %s" % exc)
    default_qmail_host = all_qmail[0] if all_qmail else None
    teamware = [(host, hostvars[host].get("mime_connector_qmail_host", default_qmail_host)) for host in servers]
    return rollout.plan(qmail, teamware, batch)


class FilterModule(object):
    def filters(self):
        return {"rollout_plan": rollout_plan}
