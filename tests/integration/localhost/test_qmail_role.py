# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The qmail role against localhost on a temporary tree: files, second run, check mode, bad input, actions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from .fake_host import FakeHost
from .playbook_helpers import run_playbook, snapshot
from ...method_examples import METHOD_SETTINGS

PLAYBOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "qmail_role.yml")

METHODS = METHOD_SETTINGS
# What qmail must be told on a first run: HUP when locals/virtualdomains change, qmail-newu when users/assign does.
FIRST_RUN_ACTIONS = {
    "none": ["qmail-newu", "qmailctl hup"],
    "torecvm_alias": ["qmail-newu", "qmailctl hup"],
    "torecvm_virtualdomains": ["qmail-newu", "qmailctl hup"],
    "torecvm_users": ["qmail-newu", "qmailctl hup"],
    "smtp_smtproutes": ["qmail-newu", "qmailctl hup"],
    "smtp_alias": ["qmail-newu", "qmailctl hup"],
    "smtp_users": ["qmail-newu", "qmailctl hup"],
    "smtp_forward": ["qmail-newu", "qmailctl hup"],
}


@pytest.fixture
def host(tmp_path):
    return FakeHost(tmp_path / "host")


def variables(host, method, **extra):
    return host.variables(teamware_integration_method=method, **dict(METHODS[method], **extra))


@pytest.mark.parametrize("method", sorted(METHODS))
def test_first_run_configures_second_run_changes_nothing(tmp_path, host, method):
    first = run_playbook(PLAYBOOK, tmp_path, variables(host, method))
    assert first.returncode == 0, first.output
    assert first.changed() > 0
    assert host.actions() == FIRST_RUN_ACTIONS[method]
    assert os.access(os.path.join(host.root, "teamware-qmail-remote"), os.X_OK)
    host.clear_actions()
    before = snapshot(host.root)
    second = run_playbook(PLAYBOOK, tmp_path, variables(host, method))
    assert second.returncode == 0, second.output
    assert second.changed() == 0, second.output
    assert host.actions() == []
    assert snapshot(host.root) == before


def test_check_mode_on_a_fresh_tree_changes_nothing(tmp_path, host):
    before = snapshot(host.root)
    result = run_playbook(PLAYBOOK, tmp_path, variables(host, "smtp_users"), check=True, diff=True)
    assert result.returncode == 0, result.output
    assert result.changed() > 0
    assert "+tw.:twu:" in result.output  # the diff shows users/assign
    assert snapshot(host.root) == before
    assert host.actions() == []


def test_invalid_inventory_fails_before_any_file_changes(tmp_path, host):
    run_playbook(PLAYBOOK, tmp_path, variables(host, "smtp_smtproutes"))
    host.clear_actions()
    before = snapshot(host.root)
    result = run_playbook(PLAYBOOK, tmp_path, variables(host, "smtp_smtproutes", teamware_domains=["company.com"]))
    assert result.returncode != 0
    assert "teamware_domains" in result.output and "two roles" in result.output
    assert snapshot(host.root) == before
    assert host.actions() == []


def test_argument_specs_refuse_an_unknown_method(tmp_path, host):
    before = snapshot(host.root)
    result = run_playbook(PLAYBOOK, tmp_path, host.variables(teamware_integration_method="carrier_pigeon"))
    assert result.returncode != 0
    assert "teamware_integration_method" in result.output
    assert snapshot(host.root) == before


def test_missing_qmail_is_a_clear_failure(tmp_path, host):
    os.unlink(os.path.join(host.qmail, "bin", "qmail-send"))
    result = run_playbook(PLAYBOOK, tmp_path, variables(host, "none"))
    assert result.returncode != 0
    assert "qmail-send is missing" in result.output


def test_switch_removes_the_old_method_after_qmail_was_told(tmp_path, host):
    run_playbook(PLAYBOOK, tmp_path, variables(host, "torecvm_alias"))
    host.clear_actions()
    default = os.path.join(host.alias, ".qmail-default")
    assert os.path.exists(default)
    result = run_playbook(PLAYBOOK, tmp_path, variables(host, "smtp_smtproutes"))
    assert result.returncode == 0, result.output
    assert not os.path.exists(default)
    # locals lost tw.company.com: qmail-send got its HUP; users/assign did not change: no qmail-newu
    assert host.actions() == ["qmailctl hup"]
    again = run_playbook(PLAYBOOK, tmp_path, variables(host, "smtp_smtproutes"))
    assert again.changed() == 0, again.output


def test_send_service_is_one_call_and_restarts_only_for_a_new_run_script(tmp_path, host):
    service = os.path.join(host.root, "service")
    send = dict(qmail_send_service_manage=True, qmail_service_dir=service)
    first = run_playbook(PLAYBOOK, tmp_path, variables(host, "smtp_smtproutes", **send))
    assert first.returncode == 0, first.output
    real = os.path.join(host.qmail, "supervise", "qmail-send")
    assert os.readlink(os.path.join(service, "qmail-send")) == real
    with open(os.path.join(real, "run")) as handle:
        assert handle.read().endswith(" qmail-start ./Maildir/\n")
    assert os.path.isdir(os.path.join(real, "log", "main"))
    assert "Restart qmail-send for its new run script" not in first.output  # supervise starts a new service itself
    host.clear_actions()
    again = run_playbook(PLAYBOOK, tmp_path, variables(host, "smtp_smtproutes", **send))
    assert again.changed() == 0, again.output
    # one module call on a run that changes nothing: the look (routing files and the service), in check mode
    tasks = [line.rstrip("* ") for line in again.output.splitlines() if line.startswith("TASK [teamware.qmail.qmail : ")]
    assert [task for task in tasks if "Stop here" not in task and "Validating arguments" not in task] == [
        "TASK [teamware.qmail.qmail : Look at qmail's routing files, qmail-send's service and what the method would change]"
    ], again.output
    assert "Restart qmail-send" not in again.output
    moved = run_playbook(PLAYBOOK, tmp_path, variables(host, "smtp_smtproutes", qmail_default_delivery="./Mailbox", **send))
    assert moved.returncode == 0, moved.output
    assert "TASK [teamware.qmail.qmail : Restart qmail-send for its new run script]" in moved.output
    # the run script (with the restart recorded first), the restart, and the record of it cleared
    assert moved.changed() == 3, moved.output
    assert not os.path.exists(os.path.join(real, "teamware-qmail.json"))
    assert run_playbook(PLAYBOOK, tmp_path, variables(host, "smtp_smtproutes", qmail_default_delivery="./Mailbox",
                                                      **send)).changed() == 0


def task_status(output, name):
    """The status word (ok, changed, skipping) of the role's task whose name starts with name."""
    block = output.split("TASK [teamware.qmail.qmail : %s" % name, 1)[1].split("\n\n", 1)[0]
    return block.strip().splitlines()[-1].split(":", 1)[0]


def watch_the_link(host, link):
    """qmail-newu and qmailctl log whether qmail-send's service was already linked (svscan would have started it)."""
    seen = '\n[ -L "%s" ] && echo "$(basename "$0") found the link" >> "%s"; true' % (link, host.log)
    host.stub(os.path.join(host.qmail, "bin", "qmail-newu"), 'touch "%s/users/cdb"%s' % (host.qmail, seen))
    host.stub(os.path.join(host.root, "qmailctl"), seen.lstrip("\n"))


def test_a_new_send_service_is_linked_after_qmail_newu_and_the_hup(tmp_path, host):
    service = os.path.join(host.root, "service")
    link = os.path.join(service, "qmail-send")
    send = dict(qmail_send_service_manage=True, qmail_service_dir=service)
    watch_the_link(host, link)
    first = run_playbook(PLAYBOOK, tmp_path, variables(host, "torecvm_users", **send))
    assert first.returncode == 0, first.output
    assert host.actions() == ["qmail-newu", "qmailctl hup"], first.output  # neither found the link
    assert os.readlink(link) == os.path.join(host.qmail, "supervise", "qmail-send")
    host.clear_actions()
    before = snapshot(host.root)
    again = run_playbook(PLAYBOOK, tmp_path, variables(host, "torecvm_users", **send))
    assert again.changed() == 0, again.output
    assert host.actions() == [] and snapshot(host.root) == before


def test_a_new_send_service_waits_for_qmail_newu_alone_then_one_more_call_links_it(tmp_path, host):
    service = os.path.join(host.root, "service")
    link = os.path.join(service, "qmail-send")
    send = dict(qmail_send_service_manage=True, qmail_service_dir=service)
    assert run_playbook(PLAYBOOK, tmp_path, variables(host, "torecvm_users")).returncode == 0
    os.unlink(os.path.join(host.qmail, "users", "cdb"))  # only qmail-newu is owed: no HUP, no stale files
    host.clear_actions()
    watch_the_link(host, link)
    first = run_playbook(PLAYBOOK, tmp_path, variables(host, "torecvm_users", **send))
    assert first.returncode == 0, first.output
    assert host.actions() == ["qmail-newu"], first.output
    assert task_status(first.output, "Remove the .qmail files the previous method left") == "skipping", first.output
    assert task_status(first.output, "Link qmail-send's new service into the scan directory") == "changed", first.output
    assert os.readlink(link) == os.path.join(host.qmail, "supervise", "qmail-send")
    host.clear_actions()
    again = run_playbook(PLAYBOOK, tmp_path, variables(host, "torecvm_users", **send))
    assert again.changed() == 0, again.output
    assert host.actions() == []
