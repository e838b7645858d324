# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scenarios whose hosts Ansible reaches as an unprivileged admin with passwordless sudo (lab_admin in molecule.yml,
added by molecule/resources/prepare.yml): converge and idempotence ran as that admin and escalated through sudo, and
the same site.yml without become (ansible_become: false) stops at its first write and changes nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from lab import PROJECT_DIR, QMAIL_DIR

# What site.yml writes on a qmail host; each is compared, byte for byte and by its stat, around the run without become.
WATCHED = ["control/rcpthosts", "control/locals", "control/virtualdomains", "control/smtproutes",
           "control/teamware-qmail.json", "users/assign", "users/cdb"]
WATCHED_OUTSIDE = ["/etc/inetd.conf", "/etc/hosts.allow", "/etc/tcp.smtp", "/etc/tcp.smtp.cdb", "/to/to.ini",
                   "/to/tombsmtp.ini"]
RCPTHOSTS = QMAIL_DIR + "/control/rcpthosts"
SAVED = "/root/rcpthosts.lab-become"
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def applies(scenario):
    return bool(scenario.vars.get("lab_admin"))


@pytest.fixture(scope="module")
def admin(scenario):
    return scenario.vars["lab_admin"]


def sudo_log(lab, scenario, admin):
    return lab.read_file(scenario.qmail, "/var/log/sudo-%s.log" % admin) or ""


def escalations(log, admin):
    """The sudo log's lines of commands the admin ran as root."""
    return [line for line in log.splitlines() if " : %s : " % admin in line and "USER=root" in line]


def host_files(lab, name):
    """sha256, size, mode, owner and mtime of every watched file that exists (as root, outside Ansible)."""
    paths = [QMAIL_DIR + "/" + path for path in WATCHED] + WATCHED_OUTSIDE
    return lab.check(name, "for f in %s; do [ -e \"$f\" ] && stat -c '%%n %%s %%a %%U %%Y' \"$f\" && sha256sum \"$f\";"
                           " done; true" % " ".join(paths))


def ansible_playbook():
    here = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    return here if os.path.exists(here) else shutil.which("ansible-playbook")


def run_site(become):
    """site.yml as converge runs it (Molecule's inventory and ansible.cfg); become=False adds ansible_become: false."""
    inventory = os.environ.get("MOLECULE_INVENTORY_FILE")
    if not inventory:
        pytest.fail("MOLECULE_INVENTORY_FILE is not set: run these tests through molecule verify / molecule test")
    argv = [ansible_playbook(), "--inventory", os.path.dirname(inventory),
            "--inventory", os.path.join(PROJECT_DIR, "inventory", "lab", "groups.yml"), "teamware.qmail.site"]
    if not become:
        argv += ["--extra-vars", json.dumps({"ansible_become": False})]
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          timeout=600, check=False, env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0"))
    recap = dict((m.group(1), int(m.group(3))) for m in RECAP.finditer(done.stdout))
    return done.returncode, done.stdout, recap


def first_failed_task(output):
    """The name of the task whose result is the first 'fatal:' line of a playbook's output."""
    task = None
    for line in output.splitlines():
        if line.startswith("TASK ["):
            task = line
        elif line.startswith("fatal:"):
            return task
    return None


def test_the_admin_is_unprivileged(lab, scenario, admin):
    uid = lab.check(scenario.qmail, "id -u %s", admin).strip()
    groups = lab.check(scenario.qmail, "id -Gn %s", admin).split()
    assert uid != "0" and "root" not in groups and "sudo" not in groups, (uid, groups)


def test_site_without_become_stops_at_the_first_write_and_with_become_it_writes(lab, scenario, admin):
    # Take one of the collection's entries out of rcpthosts (as root, by hand): site.yml has something to write.
    domain = scenario.vars["qmail_local_domains"][0]
    lab.check(scenario.qmail, "cp -p %s %s && sed -i %s %s", RCPTHOSTS, SAVED,
              "/^%s$/d" % re.escape(domain), RCPTHOSTS)
    restored = False
    try:
        before = host_files(lab, scenario.qmail)
        log_before = sudo_log(lab, scenario, admin)
        rc, output, recap = run_site(become=False)
        assert rc != 0, "site.yml without become succeeded:\n" + output
        task = first_failed_task(output)
        assert task and "Write the routing files of the method" in task, "first failure: %s\n%s" % (task, output)
        assert "Permission denied" in output, output
        assert recap.get(scenario.qmail) == 0, "changed on the host: %s\n%s" % (recap, output)
        assert host_files(lab, scenario.qmail) == before, "the run without become changed files"
        assert sudo_log(lab, scenario, admin) == log_before, "the run without become used sudo"
        # The same run as converge makes it, escalating through sudo, writes the entry back.
        rc, output, recap = run_site(become=True)
        assert rc == 0, output
        restored = True
        assert recap.get(scenario.qmail, 0) > 0, output
        assert domain in lab.check(scenario.qmail, "cat %s", RCPTHOSTS).split()
        assert len(escalations(sudo_log(lab, scenario, admin), admin)) > len(escalations(log_before, admin))
    finally:
        if not restored:
            lab.check(scenario.qmail, "cp -p %s %s", SAVED, RCPTHOSTS)
        lab.check(scenario.qmail, "rm -f %s", SAVED)
