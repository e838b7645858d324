# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rollouts in batches (module_utils/rollout.py): teamware_rollout_batch read and checked, and the batches of site.yml."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import rollout

QMAIL = ["mail1", "mail2", "mail3", "mail4", "mail5"]


@pytest.mark.parametrize("value, parsed", [
    (None, None), ("", None), (1, ("count", 1)), (7, ("count", 7)), ("2", ("count", 2)), (" 3 ", ("count", 3)),
    ("30%", ("percent", 30)), ("1%", ("percent", 1)), ("100%", ("percent", 100)), (" 50 % ", ("percent", 50)),
])
def test_a_number_or_a_percentage(value, parsed):
    assert rollout.parse_batch(value) == parsed


@pytest.mark.parametrize("value, reason", [
    (0, "is not a positive number"), (-1, "is not a positive number"), ("0", "is not a positive number"),
    ("0%", "outside 1% to 100%"), ("101%", "outside 1% to 100%"), ("-5%", "neither a number nor a percentage"),
    ("all", "neither a number nor a percentage"), ("2.5", "neither a number nor a percentage"),
    (2.5, "neither a number nor a percentage"), (True, "neither a number nor a percentage"),
    ([1], "neither a number nor a percentage"), ("30 percent", "neither a number nor a percentage"),
])
def test_anything_else_is_refused_naming_the_variable_and_the_reason(value, reason):
    with pytest.raises(rollout.RolloutError) as caught:
        rollout.parse_batch(value)
    message = str(caught.value)
    assert message.startswith("teamware_rollout_batch: %r " % (value,)), message
    assert reason in message


@pytest.mark.parametrize("batch, count, size", [
    (None, 5, 5), (("count", 1), 5, 1), (("count", 2), 5, 2), (("count", 9), 5, 5),
    (("percent", 30), 10, 3), (("percent", 30), 5, 1), (("percent", 1), 5, 1), (("percent", 100), 5, 5),
    (("percent", 50), 5, 2), (None, 0, 0), (("count", 3), 0, 0),
])
def test_the_batch_size_as_ansibles_serial_reads_it(batch, count, size):
    assert rollout.batch_size(batch, count) == size


def test_every_host_must_have_the_same_value():
    assert rollout.common_batch({"mail1": 2, "mail2": "2", "tw": 2}) == ("count", 2)
    assert rollout.common_batch({"mail1": None, "mail2": None}) is None
    assert rollout.common_batch({}) is None
    with pytest.raises(rollout.RolloutError) as caught:
        rollout.common_batch({"mail1": 2, "mail2": "30%", "mail3": None})
    message = str(caught.value)
    assert message.startswith("teamware_rollout_batch: the hosts of one run must share one batch size")
    for fragment in ("2 on mail1", "30% on mail2", "unset (all at once) on mail3", "group_vars/all"):
        assert fragment in message


def test_every_wrong_value_is_named_with_its_host():
    with pytest.raises(rollout.RolloutError) as caught:
        rollout.common_batch({"mail1": 0, "mail2": "x"})
    message = str(caught.value)
    assert "teamware_rollout_batch: 0 is not a positive number" in message and "(host mail1)" in message
    assert "teamware_rollout_batch: 'x'" in message and "(host mail2)" in message


def test_all_at_once_by_default():
    assert rollout.plan(QMAIL, [("tw", "mail1")], None) == {
        "hosts": QMAIL + ["tw"], "sizes": [6], "batches": [QMAIL + ["tw"]]}


def test_batches_of_qmail_hosts_with_each_teamware_server_in_the_batch_of_its_qmail_host():
    plan = rollout.plan(QMAIL, [("tw1", "mail1"), ("tw3", "mail3"), ("tw5", "mail5")], ("count", 2))
    assert plan["batches"] == [["mail1", "mail2", "tw1"], ["mail3", "mail4", "tw3"], ["mail5", "tw5"]]
    assert plan["sizes"] == [3, 3, 2]
    assert plan["hosts"] == ["mail1", "mail2", "tw1", "mail3", "mail4", "tw3", "mail5", "tw5"]


def test_a_teamware_server_on_a_qmail_host_stays_in_its_own_batch_once():
    plan = rollout.plan(["mail1", "mail2", "mail3"], [("mail2", "mail2")], ("count", 1))
    assert plan["batches"] == [["mail1"], ["mail2"], ["mail3"]]
    assert plan["sizes"] == [1, 1, 1]


def test_a_percentage_counts_the_qmail_hosts_only():
    plan = rollout.plan(QMAIL, [("tw", "mail4")], ("percent", 40))
    assert plan["batches"] == [["mail1", "mail2"], ["mail3", "mail4", "tw"], ["mail5"]]


def test_a_teamware_server_whose_qmail_host_is_not_in_the_run_goes_with_the_first_batch():
    plan = rollout.plan(["mail2", "mail3"], [("tw", "mail1"), ("tw2", None)], ("count", 1))
    assert plan["batches"] == [["mail2", "tw", "tw2"], ["mail3"]]


def test_teamware_servers_without_qmail_hosts_are_one_batch():
    assert rollout.plan([], [("tw", None)], ("count", 1)) == {"hosts": ["tw"], "sizes": [1], "batches": [["tw"]]}
    assert rollout.plan([], [], None) == {"hosts": [], "sizes": [], "batches": []}


def test_every_host_once_and_the_sizes_cut_exactly_the_batches():
    servers = [("tw%d" % index, QMAIL[index % len(QMAIL)]) for index in range(4)] + [("mail3", "mail3")]
    for batch in (None, ("count", 1), ("count", 2), ("count", 4), ("percent", 30), ("percent", 100)):
        plan = rollout.plan(QMAIL, servers, batch)
        assert sorted(plan["hosts"]) == sorted(set(QMAIL) | set("tw%d" % index for index in range(4)))
        cut, start = [], 0
        for size in plan["sizes"]:
            cut.append(plan["hosts"][start:start + size])
            start += size
        assert cut == plan["batches"]
