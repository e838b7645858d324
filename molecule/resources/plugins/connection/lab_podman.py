# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection plugin of the teamware.qmail container lab: podman exec, with pipelining."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lab_podman
short_description: Run tasks in a podman container of the lab, with pipelining
description:
  - For the teamware.qmail Molecule scenarios and lab/demo.sh only; not part of the collection's content.
  - Like containers.podman.podman, but a module is piped into C(podman exec -i NAME /bin/sh -c ...) in one
    call, instead of the five or six podman calls per task (mkdir, cp, chmod, run, rm) that plugin needs
    without pipelining. Files are copied with C(podman exec -i ... cat). On the lab machine (podman 4.3,
    runc) a podman call takes 0.25 to 0.4 s, so this makes a task about three times faster.
  - Runs as O(remote_user) (C(podman exec --user)), root by default. Become plugins wrap the command as over SSH;
    only a become that asks no password works (the lab's admin has C(NOPASSWD) sudo, and sudo's C(requiretty) is
    not set in the lab images), because stdin carries the pipelined module.
author:
  - teamware.qmail contributors
extends_documentation_fragment:
  - connection_pipelining
options:
  remote_addr:
    description: The container's name or id.
    default: inventory_hostname
    type: str
    vars:
      - name: inventory_hostname
      - name: ansible_host
      - name: ansible_podman_host
  remote_user:
    description:
      - The user in the container that runs the commands (C(podman exec --user)). The lab images' default user
        is root; a scenario that connects as an unprivileged admin sets C(ansible_user) and escalates with become.
    default: root
    type: str
    vars:
      - name: ansible_user
      - name: ansible_podman_user
    env:
      - name: ANSIBLE_REMOTE_USER
    ini:
      - section: defaults
        key: remote_user
    keyword:
      - name: remote_user
  podman_executable:
    description: The podman command.
    default: podman
    type: str
    vars:
      - name: ansible_podman_executable
    env:
      - name: ANSIBLE_PODMAN_EXECUTABLE
"""

import os
import shlex
import shutil
import subprocess

from ansible.errors import AnsibleConnectionFailure, AnsibleError, AnsibleFileNotFound
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible.plugins.connection import ConnectionBase
from ansible.utils.display import Display

display = Display()


class Connection(ConnectionBase):
    """podman exec into a running container; modules are pipelined."""

    transport = "lab_podman"
    has_pipelining = True

    def __init__(self, *args, **kwargs):
        super(Connection, self).__init__(*args, **kwargs)
        self._container = None
        self._podman = None
        self._user = None

    def _connect(self):
        if not self._connected:
            self._container = self.get_option("remote_addr")
            self._user = self.get_option("remote_user")
            self._podman = shutil.which(self.get_option("podman_executable"))
            if not self._podman:
                raise AnsibleConnectionFailure("%s not found in PATH" % self.get_option("podman_executable"))
            self._connected = True
        return self

    def _run(self, argv, in_data=None):
        command = ([self._podman, "exec"] + (["-i"] if in_data is not None else []) + ["--user", self._user]
                   + [self._container] + argv)
        display.vvv("EXEC %s" % " ".join(shlex.quote(to_native(a)) for a in command), host=self._container)
        process = subprocess.Popen([to_bytes(a, errors="surrogate_or_strict") for a in command],
                                   stdin=subprocess.PIPE if in_data is not None else subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        stdout, stderr = process.communicate(in_data)
        return process.returncode, stdout, stderr

    def exec_command(self, cmd, in_data=None, sudoable=False):
        super(Connection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
        self._connect()
        if sudoable and self.become and self.become.expect_prompt():
            raise AnsibleConnectionFailure("lab_podman: a become password cannot be given (stdin carries the module); "
                                           "give %s passwordless sudo in container %s" % (self._user, self._container))
        rc, stdout, stderr = self._run(["/bin/sh", "-c", to_native(cmd, errors="surrogate_or_strict")], in_data)
        if rc == 125:  # podman's own failure (no such container, not running), not the command's
            raise AnsibleConnectionFailure("podman exec %s failed: %s" % (self._container, to_native(stderr).strip()))
        return rc, stdout, stderr

    def put_file(self, in_path, out_path):
        super(Connection, self).put_file(in_path, out_path)
        self._connect()
        display.vvv("PUT %s TO %s" % (in_path, out_path), host=self._container)
        if not os.path.isfile(to_bytes(in_path, errors="surrogate_or_strict")):
            raise AnsibleFileNotFound("file or module does not exist: %s" % in_path)
        with open(to_bytes(in_path, errors="surrogate_or_strict"), "rb") as source:
            data = source.read()
        rc, dummy, stderr = self._run(["/bin/sh", "-c", "cat > %s" % shlex.quote(out_path)], data)
        if rc != 0:
            raise AnsibleError("failed to write %s in container %s: %s" % (out_path, self._container, to_native(stderr)))

    def fetch_file(self, in_path, out_path):
        super(Connection, self).fetch_file(in_path, out_path)
        self._connect()
        display.vvv("FETCH %s TO %s" % (in_path, out_path), host=self._container)
        rc, stdout, stderr = self._run(["cat", in_path])
        if rc != 0:
            raise AnsibleError("failed to read %s in container %s: %s" % (in_path, self._container, to_native(stderr)))
        with open(to_bytes(out_path, errors="surrogate_or_strict"), "wb") as target:
            target.write(stdout)

    def close(self):
        self._connected = False
