# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rollouts in batches (teamware_rollout_batch): the batch size and the order of the hosts of site.yml's batch play.

A batch is a number of qmail hosts (a count, or a percentage of the qmail hosts of the run, as Ansible's ``serial``
reads one: rounded down, at least one).  Each Teamware Office server goes with the batch of the qmail host whose
variables describe its side of the integration (mime_connector_qmail_host, default the first qmail host), after that
batch's qmail hosts; a server that is a qmail host itself goes with its own batch.  The play takes the hosts in this
order with ``serial`` set to the list of the batches' sizes, so that Ansible cuts exactly these batches.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

VARIABLE = "teamware_rollout_batch"
_PERCENT = re.compile(r"^\s*(\d+)\s*%\s*$")
_NUMBER = re.compile(r"^\s*(\d+)\s*$")


class RolloutError(ValueError):
    """A wrong teamware_rollout_batch, or hosts that disagree about it; the message names the variable."""


def _wrong(value, reason):
    return RolloutError("%s: %r %s; give a positive number of qmail hosts per batch (2) or a percentage of them from "
                        "1%% to 100%% ('30%%'), or leave it unset for all hosts at once" % (VARIABLE, value, reason))


def parse_batch(value):
    """None (all hosts at once), ('count', N) or ('percent', P).  Raises RolloutError naming the variable."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _wrong(value, "is neither a number nor a percentage")
    if isinstance(value, int):
        if value < 1:
            raise _wrong(value, "is not a positive number")
        return ("count", value)
    match = _PERCENT.match(value)
    if match:
        percent = int(match.group(1))
        if not 1 <= percent <= 100:
            raise _wrong(value, "is a percentage outside 1% to 100%")
        return ("percent", percent)
    match = _NUMBER.match(value)
    if match:
        if int(match.group(1)) < 1:
            raise _wrong(value, "is not a positive number")
        return ("count", int(match.group(1)))
    raise _wrong(value, "is neither a number nor a percentage")


def batch_size(batch, count):
    """The number of qmail hosts per batch, out of count (Ansible's serial: a percentage rounds down, at least 1)."""
    if count < 1:
        return 0
    if batch is None:
        return count
    kind, number = batch
    size = number if kind == "count" else count * number // 100
    return min(max(size, 1), count)


def common_batch(values):
    """values: host -> its teamware_rollout_batch (None when unset).  The one batch of the run; every host must agree,
    since a play has one ``serial``.  Raises RolloutError naming the variable and the hosts."""
    parsed = {}
    problems = []
    for host in sorted(values):
        try:
            parsed[host] = parse_batch(values[host])
        except RolloutError as exc:
            problems.append("%s (host %s)" % (exc, host))
    if problems:
        raise RolloutError("; ".join(problems))
    distinct = sorted(set(parsed.values()), key=repr)
    if len(distinct) > 1:
        by_value = dict((value, [host for host in sorted(parsed) if parsed[host] == value]) for value in distinct)
        raise RolloutError("%s: the hosts of one run must share one batch size (set it in group_vars/all or with -e), "
                           "but they differ: %s" % (VARIABLE, "; ".join(
                               "%s on %s" % (_show(value), ", ".join(hosts)) for value, hosts in by_value.items())))
    return distinct[0] if distinct else None


def _show(batch):
    if batch is None:
        return "unset (all at once)"
    return "%d%%" % batch[1] if batch[0] == "percent" else str(batch[1])


def plan(qmail_hosts, teamware_hosts, batch):
    """The batches of the run.

    qmail_hosts: the qmail hosts of the run, in inventory order.  teamware_hosts: list of (Teamware Office server,
    its qmail host or None), in inventory order.  batch: parse_batch's answer.
    Returns {"hosts": every host once, batch after batch; "sizes": the size of each batch; "batches": the lists}.
    """
    size = batch_size(batch, len(qmail_hosts))
    batches = [list(qmail_hosts[start:start + size]) for start in range(0, len(qmail_hosts), size)] if size else []
    where = dict((host, index) for index, hosts in enumerate(batches) for host in hosts)
    for server, qmail_host in teamware_hosts:
        if server in where:
            continue
        if not batches:
            batches.append([])
        # a server whose qmail host is not part of this run (--limit) goes with the first batch
        index = where.get(qmail_host, 0)
        batches[index].append(server)
        where[server] = index
    return {"hosts": [host for hosts in batches for host in hosts], "sizes": [len(hosts) for hosts in batches],
            "batches": batches}
