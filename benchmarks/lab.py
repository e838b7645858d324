# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lab qmail hosts for the benchmarks: podman containers of the lab's qmail image, an inventory, timed playbook runs.

Used by bench_site_noop.py --lab, bench_fleet.py and bench_throughput.py.  Each benchmark brings up its own podman
network and containers (names and network with the benchmark's prefix), runs the lab's prepare playbook on them
(molecule/resources/prepare.yml: control/me, local users, the Teamware Office simulator), and removes everything
again in a ``finally``.  Ansible talks to the containers over the lab's connection plugin (lab_podman, pipelined
``podman exec``), with the lab's settings (inventory/lab/group_vars: qmail-send under daemontools, and so on).
Teamware Office runs on each qmail host (group lab_teamware_same_host), so a host needs no second container.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BASE_IMAGE = os.environ.get("LAB_IMAGE", "localhost/teamware-qmail-lab:bookworm")
QMAIL_IMAGE = os.environ.get("LAB_QMAIL_IMAGE", BASE_IMAGE + "-qmail")
CONNECTION_PLUGINS = os.path.join(REPO, "molecule", "resources", "plugins", "connection")
PREPARE = os.path.join(REPO, "molecule", "resources", "prepare.yml")
SITE = os.path.join(REPO, "site.yml")
LAB_GROUPS = os.path.join(REPO, "inventory", "lab", "groups.yml")
# The methods of the lab's inventory (inventory/lab/group_vars/method_NAME.yml), as the Molecule scenarios name them.
LAB_METHODS = sorted(name[len("method_"):-len(".yml")] for name in os.listdir(os.path.join(REPO, "inventory", "lab", "group_vars"))
                     if name.startswith("method_") and name.endswith(".yml"))

# The yardstick of the no-op benchmarks: one cheap task on the same hosts, over the same connection.  qmail_dir is
# set by the localhost benchmark's variables; the lab's hosts have qmail in its default place.
ONE_TASK = """---
- name: One task on the same hosts
  hosts: qmail_hosts
  gather_facts: false
  tasks:
    - name: Look at qmail's control directory
      ansible.builtin.stat:
        path: "{{ qmail_dir | default('/var/qmail') }}/control"
"""


def one_task_playbook(directory):
    """ONE_TASK written as directory/one-task.yml; its path."""
    path = os.path.join(directory, "one-task.yml")
    with open(path, "w") as handle:
        handle.write(ONE_TASK)
    return path


def log(message):
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), message))
    sys.stderr.flush()


def exit_on_sigterm():
    """A TERM (a timeout, kill PID) unwinds like Ctrl-C, so that the containers are removed (the ``finally``)."""
    def _exit(_signum, _frame):
        raise SystemExit("terminated")
    signal.signal(signal.SIGTERM, _exit)


def podman(*argv, check=True):
    done = subprocess.run(["podman"] + list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=False)
    if check and done.returncode != 0:
        raise SystemExit("podman %s failed: %s" % (" ".join(argv), done.stderr.strip()))
    return done


def collections_path():
    """The collection (as build/collections-root) and its dependencies, as the tests find them."""
    sys.path.insert(0, REPO)
    from tests.collection_root import collection_root  # pylint: disable=import-outside-toplevel
    version = "py%d%d" % sys.version_info[:2]
    return ":".join([collection_root(), os.path.join(REPO, ".cache", "collections-%s" % version)])


class LabHosts:
    """count qmail hosts (name PREFIX-qmail-I, address NET.(10+I)) on the podman network PREFIX-net, NET.0/24;
    with client, also the relay client PREFIX-client at NET.30 (the lab's base image, in lab_clients)."""

    def __init__(self, prefix, net, count, method, workdir, front_end="tcpserver", client=False):
        if count > 200:
            raise SystemExit("at most 200 hosts in one /24")
        self.prefix = prefix
        self.net = net
        self.network = "%s-net" % prefix
        self.method = method
        self.front_end = front_end
        self.workdir = workdir
        self.names = ["%s-qmail-%d" % (prefix, i) for i in range(1, count + 1)]
        self.client = "%s-client" % prefix if client else None
        self.inventory = os.path.join(workdir, "%s-hosts.json" % prefix)

    # ---- containers
    def __enter__(self):
        for image in (QMAIL_IMAGE, BASE_IMAGE) if self.client else (QMAIL_IMAGE,):
            if podman("image", "exists", image, check=False).returncode != 0:
                raise SystemExit("!!! IMAGE MISSING: %s. Build it with lab/build-image.sh (the qmail image needs "
                                 "TEAMWARE_QMAIL_ARCHIVE, an installed qmail from outside the repository) !!!" % image)
        self.destroy()
        podman("network", "create", "--subnet", "%s.0/24" % self.net, self.network)
        for index, name in enumerate(self.names, start=1):
            podman("run", "--detach", "--label", "teamware-bench=%s" % self.network, "--name", name,
                   "--hostname", "mail.company.com", "--network", self.network, "--ip", "%s.%d" % (self.net, 9 + index),
                   "--init", QMAIL_IMAGE, "/usr/bin/svscan", "/service")
        if self.client:
            podman("run", "--detach", "--label", "teamware-bench=%s" % self.network, "--name", self.client,
                   "--hostname", "client.company.com", "--network", self.network, "--ip", "%s.30" % self.net,
                   "--init", BASE_IMAGE, "/usr/bin/svscan", "/service")
        for name in self.names + ([self.client] if self.client else []):
            for _attempt in range(30):
                if podman("exec", name, "pgrep", "-x", "svscan", check=False).returncode == 0:
                    break
                time.sleep(0.5)
            else:
                raise SystemExit("svscan did not start in %s" % name)
        self.write_inventory()
        return self

    def __exit__(self, *exc):
        self.destroy()
        return False

    def destroy(self):
        found = podman("ps", "--all", "--quiet", "--filter", "label=teamware-bench=%s" % self.network, check=False)
        ids = found.stdout.split()
        if ids:
            podman("rm", "--force", "--time", "2", *ids, check=False)
        if podman("network", "exists", self.network, check=False).returncode == 0:
            podman("network", "rm", "--force", self.network, check=False)

    def switch(self, method):
        """The next runs configure the hosts for another method (every method_*.yml sets the same keys)."""
        self.method = method
        self.write_inventory()

    def write_inventory(self):
        hosts = dict((name, None) for name in self.names)
        groups = ["qmail_hosts", "teamware_servers", "method_%s" % self.method, "lab_teamware_same_host"]
        children = dict((group, {"hosts": hosts}) for group in groups)
        if self.client:
            children["lab_clients"] = {"hosts": {self.client: None}}
        inventory = {"all": {"children": {"lab": {
            "vars": {"ansible_connection": "lab_podman", "lab_net": self.net, "qmail_smtp_front_end": self.front_end},
            "children": children}}}}
        with open(self.inventory, "w") as handle:
            json.dump(inventory, handle, indent=1)

    # ---- playbooks
    def environment(self, forks):
        return dict(os.environ,
                    ANSIBLE_COLLECTIONS_PATH=collections_path(),
                    ANSIBLE_CONNECTION_PLUGINS=CONNECTION_PLUGINS,
                    ANSIBLE_PIPELINING="1", ANSIBLE_FORKS=str(forks),
                    ANSIBLE_PYTHON_INTERPRETER="/usr/bin/python3",
                    ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="0",
                    ANSIBLE_DEPRECATION_WARNINGS="0", ANSIBLE_HOST_KEY_CHECKING="0",
                    ANSIBLE_LOCAL_TEMP=os.path.join(self.workdir, "ansible-local"))

    def play(self, playbook, forks=None, extra_args=()):
        """Run playbook on the hosts; (seconds, output, recap, peak memory). Fails loudly when the run fails."""
        forks = forks or len(self.names)
        argv = [ansible_playbook(), "-i", LAB_GROUPS, "-i", self.inventory, playbook] + list(extra_args)
        start = time.perf_counter()
        process = subprocess.Popen(argv, env=self.environment(forks), cwd=REPO, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, universal_newlines=True)
        sampler = MemorySampler(process.pid)
        sampler.start()
        output = process.communicate()[0]
        elapsed = time.perf_counter() - start
        sampler.stop()
        if process.returncode != 0:
            raise SystemExit("%s failed (rc %d):\n%s" % (playbook, process.returncode, output[-4000:]))
        return elapsed, output, recap(output), sampler.peak

    def prepare(self):
        return self.play(PREPARE)

    def one_task_playbook(self):
        return one_task_playbook(self.workdir)

    def exec(self, name, argv, data=None):
        done = subprocess.run(["podman", "exec"] + (["-i"] if data is not None else []) + [name] + list(argv),
                              input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                              check=False)
        if done.returncode != 0:
            raise SystemExit("podman exec %s %s failed: %s" % (name, " ".join(argv), done.stderr.strip()))
        return done.stdout


def ansible_playbook():
    here = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    return here if os.path.exists(here) else "ansible-playbook"


def recap(output):
    """{host: {ok, changed, failed}} from the PLAY RECAP."""
    found = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 6 and parts[1] == ":" and parts[2].startswith("ok="):
            fields = dict(part.split("=", 1) for part in parts[2:] if "=" in part)
            found[parts[0]] = dict((key, int(fields.get(key, 0))) for key in ("ok", "changed", "failed", "unreachable"))
    return found


def changed_total(found):
    return sum(entry["changed"] for entry in found.values())


class MemorySampler:
    """Peak resident memory of a process and all its descendants (ansible-playbook, its workers, their podman
    calls), sampled from /proc every 0.1 s; in MiB.  ``peak`` holds (tree total, largest single process)."""

    def __init__(self, pid, interval=0.1):
        self.pid = pid
        self.interval = interval
        self.peak = (0.0, 0.0)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run)
        self._thread.daemon = True

    def start(self):
        self._thread.start()

    def stop(self):
        self._done.set()
        self._thread.join()

    def _run(self):
        while not self._done.is_set():
            sizes = [rss_kib(pid) for pid in descendants(self.pid)]
            if sizes:
                total, largest = sum(sizes) / 1024.0, max(sizes) / 1024.0
                self.peak = (max(self.peak[0], total), max(self.peak[1], largest))
            self._done.wait(self.interval)


def descendants(root):
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
