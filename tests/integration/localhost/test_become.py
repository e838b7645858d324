# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which tasks of site.yml and route_check.yml escalate (become), and that the inventory's ansible_become: false
turns every escalation off. Run as root on localhost, where become to root is skipped; so that each escalation shows,
ANSIBLE_BECOME_ALLOW_SAME_USER makes Ansible escalate all the same, through a stand-in for sudo that logs what it is
asked to run and runs it (this machine, like CI, may have no sudo). -vvv shows every module's command line."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shutil

import pytest

from .playbook_helpers import REPO, run_playbook
from .test_route_check_play import ROUTE_CHECK, host, site_variables  # noqa: F401  pylint: disable=unused-import

SITE = os.path.join(REPO, "site.yml")
MODULE_RUN = re.compile(r"^<localhost> EXEC .*python[0-9.]* \S*AnsiballZ_(\w+)\.py", re.M)

pytestmark = pytest.mark.skipif(not shutil.which("tcprules"), reason="needs tcprules (Debian package ucspi-tcp)")

FAKE_SUDO = """#!/bin/sh
# Stands in for sudo: logs the command it is to run as root and runs it (the test runs as root already).
while [ $# -gt 0 ]; do
  case "$1" in -u|-p) shift 2 ;; -*) shift ;; *) break ;; esac
done
printf '%s\\n' "$*" >> {log}
exec "$@"
"""


@pytest.fixture
def sudo(tmp_path):
    """The stand-in for sudo: (its path, its log)."""
    path = os.path.join(str(tmp_path), "fake-sudo")
    log = os.path.join(str(tmp_path), "fake-sudo.log")
    with open(path, "w") as handle:
        handle.write(FAKE_SUDO.format(log=log))
    os.chmod(path, 0o755)
    return path, log


def module_runs(output, sudo_path):
    """(module, escalated) for every module the run started on the host, in order."""
    return [(match.group(1), sudo_path in match.group(0)) for match in MODULE_RUN.finditer(output)]


def sudo_log(log):
    if not os.path.exists(log):
        return []
    with open(log) as handle:
        return handle.read().splitlines()


def run(playbook, tmp_path, variables, sudo_path, same_user=True, check=False):
    env = {"ANSIBLE_BECOME_ALLOW_SAME_USER": "1"} if same_user else {}
    return run_playbook(playbook, tmp_path, dict(variables, ansible_become_exe=sudo_path), check=check,
                        extra_args=["-vvv"], extra_env=env)


def test_site_escalates_every_task_on_the_host_and_ansible_become_false_overrides_it(tmp_path, host, sudo):
    sudo_path, log = sudo
    first = run(SITE, tmp_path, site_variables(host), sudo_path)
    assert first.returncode == 0, first.output
    runs = module_runs(first.output, sudo_path)
    modules = set(module for module, _escalated in runs)
    # the qmail play, the front end, the Teamware Office play and the deploy check all ran on the host
    assert {"routing_table", "relay_rules", "mime_connector_info", "mime_connector_files", "qmail_route_info"} <= modules, runs
    assert [module for module, escalated in runs if not escalated] == [], runs
    assert len(sudo_log(log)) == len(runs), (sudo_log(log), runs)
    # The inventory's ansible_become: false beats the plays' and tasks' become: true: nothing escalates.
    os.unlink(log)
    off = run(SITE, tmp_path, dict(site_variables(host), ansible_become=False), sudo_path)
    assert off.returncode == 0, off.output
    assert off.changed() == 0, off.output
    runs = module_runs(off.output, sudo_path)
    assert runs and [module for module, escalated in runs if escalated] == [], runs
    assert sudo_log(log) == []


def test_the_route_check_escalates_only_the_task_that_reads_the_homes(tmp_path, host, sudo):
    sudo_path, log = sudo
    assert run(SITE, tmp_path, site_variables(host), sudo_path).returncode == 0
    os.unlink(log)
    # check mode: the play also looks for qmail's control directory (world-readable: no become)
    checked = run(ROUTE_CHECK, tmp_path, site_variables(host), sudo_path, check=True)
    assert checked.returncode == 0, checked.output
    assert module_runs(checked.output, sudo_path) == [("stat", False), ("qmail_route_info", True)]
    assert len(sudo_log(log)) == 1
    # As root on localhost (CI, these tests) become: true needs no sudo: Ansible skips become to the same user.
    os.unlink(log)
    as_root = run(ROUTE_CHECK, tmp_path, site_variables(host), sudo_path, same_user=False, check=True)
    assert as_root.returncode == 0, as_root.output
    assert module_runs(as_root.output, sudo_path) == [("stat", False), ("qmail_route_info", False)]
    assert sudo_log(log) == []
