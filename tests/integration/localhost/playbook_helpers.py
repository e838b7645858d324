# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the collection's playbooks against localhost on a temporary tree."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import shutil
import subprocess
import sys

from ...collection_root import collection_root

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def collections_path():
    """The repository as ansible_collections/teamware/qmail plus the extracted dependency collections."""
    version = "py%d%d" % sys.version_info[:2]
    return ":".join([collection_root(), os.path.join(REPO, ".cache", "collections-%s" % version)])


def ansible_playbook():
    here = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    return here if os.path.exists(here) else shutil.which("ansible-playbook")


class Result:
    def __init__(self, done):
        self.returncode = done.returncode
        self.output = done.stdout
        self.recap = dict((m.group(1), dict(ok=int(m.group(2)), changed=int(m.group(3)), failed=int(m.group(5))))
                          for m in RECAP.finditer(done.stdout))

    def changed(self, host="localhost"):
        return self.recap[host]["changed"]


def run_playbook(playbook, tmp_path, variables, check=False, diff=False, extra_args=(), extra_env=None, hosts=None,
                 pgid_file=None):
    """ansible-playbook with a localhost inventory whose host vars are ``variables`` (``extra_env``: more settings).
    ``hosts``: {name: host vars} instead, several hosts reached over the local connection (``variables`` for all).
    ``pgid_file``: the run gets a process group of its own, whose id is written there before ansible-playbook starts
    (for stand-ins that kill the run: ``kill -KILL -PGID``)."""
    inventory = os.path.join(str(tmp_path), "inventory.json")
    members = dict((name, dict(values or {})) for name, values in (hosts or {"localhost": None}).items())
    groups = dict((group, {"hosts": members}) for group in ("qmail_hosts", "teamware_servers"))
    with open(inventory, "w") as handle:
        json.dump({"all": {"children": groups, "vars": dict(variables, ansible_connection="local",
                                                            ansible_python_interpreter=sys.executable)}}, handle)
    env = dict(os.environ,
               ANSIBLE_COLLECTIONS_PATH=collections_path(),
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_LOCAL_TEMP=os.path.join(str(tmp_path), "ansible-local"),
               ANSIBLE_REMOTE_TEMP=os.path.join(str(tmp_path), "ansible-remote"),
               ANSIBLE_HOST_KEY_CHECKING="0", ANSIBLE_DEPRECATION_WARNINGS="0", **(extra_env or {}))
    argv = [ansible_playbook(), "-i", inventory, playbook] + list(extra_args)
    if check:
        argv.append("--check")
    if diff:
        argv.append("--diff")
    if pgid_file:
        # the shell is the group's leader (its pid is the group's id) and becomes ansible-playbook
        argv = ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(pgid_file)] + argv
    done = subprocess.run(argv, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=600, check=False, start_new_session=bool(pgid_file))
    return Result(done)


def snapshot(root):
    found = {}
    for directory, _subdirs, names in os.walk(str(root)):
        for name in names:
            path = os.path.join(directory, name)
            if os.path.islink(path):
                found[os.path.relpath(path, str(root))] = ("link", os.readlink(path))
                continue
            with open(path, "rb") as handle:
                found[os.path.relpath(path, str(root))] = (handle.read(), os.stat(path).st_mode)
    return found
