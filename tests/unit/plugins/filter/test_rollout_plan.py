# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The teamware.qmail.rollout_plan filter (site.yml's first play) and teamware_rollout_batch in site_settings."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.teamware.qmail.plugins.filter import rollout_plan as plugin
from ansible_collections.teamware.qmail.plugins.filter import site_settings

QMAIL = ["mail1", "mail2", "mail3"]


def hostvars(batch=None, **extra):
    found = dict((host, {} if batch is None else {"teamware_rollout_batch": batch}) for host in QMAIL + ["tw"])
    for host, values in extra.items():
        found[host].update(values)
    return found


def test_the_lab_rollout_one_host_at_a_time_with_teamware_in_the_first_batch():
    plan = plugin.rollout_plan(QMAIL + ["tw"], hostvars(1), QMAIL, ["tw"])
    assert plan["batches"] == [["mail1", "tw"], ["mail2"], ["mail3"]]
    assert plan["hosts"] == ["mail1", "tw", "mail2", "mail3"] and plan["sizes"] == [2, 1, 1]


def test_unset_is_all_hosts_at_once_and_the_teamware_server_follows_its_qmail_host():
    plan = plugin.rollout_plan(QMAIL + ["tw"], hostvars(tw={"mime_connector_qmail_host": "mail3"}), QMAIL, ["tw"])
    assert plan["batches"] == [QMAIL + ["tw"]]
    plan = plugin.rollout_plan(QMAIL + ["tw"], hostvars("1", tw={"mime_connector_qmail_host": "mail3"}), QMAIL, ["tw"])
    assert plan["batches"] == [["mail1"], ["mail2"], ["mail3", "tw"]]


def test_only_the_hosts_of_the_run_are_planned():
    plan = plugin.rollout_plan(["mail3", "mail2"], hostvars(1, mail1={"teamware_rollout_batch": "bad"}), QMAIL, ["tw"])
    assert plan["batches"] == [["mail2"], ["mail3"]]


def test_a_wrong_value_or_hosts_that_disagree_stop_the_run_naming_the_variable():
    with pytest.raises(AnsibleFilterError) as caught:
        plugin.rollout_plan(QMAIL + ["tw"], hostvars(1, mail2={"teamware_rollout_batch": "50%"}), QMAIL, ["tw"])
    message = caught.value.message
    assert message.startswith("Invalid inventory, nothing changed: teamware_rollout_batch: the hosts of one run")
    assert "50% on mail2" in message and "1 on mail1, mail3, tw" in message
    with pytest.raises(AnsibleFilterError) as caught:
        plugin.rollout_plan(QMAIL, hostvars("0%"), QMAIL, [])
    assert "teamware_rollout_batch: '0%' is a percentage outside 1% to 100%" in caught.value.message
    with pytest.raises(AnsibleFilterError) as caught:
        plugin.rollout_plan("mail1", hostvars(), QMAIL, [])
    assert "must be the list of the run's hosts" in caught.value.message


@pytest.mark.parametrize("value", [0, "0", "-1", "101%", "half", 1.5, True])
def test_site_settings_names_a_wrong_batch_with_the_other_problems(value):
    for qmail_host in (True, False):
        with pytest.raises(AnsibleFilterError) as caught:
            site_settings.site_settings({"teamware_rollout_batch": value, "qmail_smtp_front_end": "xinetd"},
                                        qmail_host=qmail_host)
        message = caught.value.message
        assert message.startswith("Invalid inventory, nothing changed: ")
        assert "teamware_rollout_batch: %r " % (value,) in message


@pytest.mark.parametrize("value", [1, "2", "30%", "100%"])
def test_site_settings_lets_a_good_batch_pass(value):
    assert site_settings.site_settings({"teamware_rollout_batch": value})["front_end"] == "tcpserver"
