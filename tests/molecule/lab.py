# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared code of the Molecule scenarios' testinfra tests: which container is which, what the scenario's
method promises, and the mail round trips (swaks, the Teamware Office simulator, Maildirs, qmail's queue).

Everything is read from the scenario's molecule.yml (MOLECULE_FILE, set by Molecule) and from
inventory/lab/group_vars: the platforms' groups say which container is the qmail host, the Teamware
Office host (the qmail host itself when Teamware runs on the same host), the client that may relay and
the stranger that may not; the group method_<name> gives the method and the addresses the tests expect.
Every container is reached as podman://NAME. Waits are polls with a deadline, never fixed sleeps.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import shlex
import subprocess
import sys
import time
import types
import uuid

import testinfra
import yaml

PROJECT_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
if PROJECT_DIR not in sys.path:
    sys.path.insert(0, PROJECT_DIR)

from tests.collection_root import make_importable  # noqa: E402  pylint: disable=wrong-import-position

try:
    from ansible_collections.teamware.qmail.plugins.module_utils.methods import METHODS
except ImportError:
    make_importable()
    from ansible_collections.teamware.qmail.plugins.module_utils.methods import METHODS

GROUP_VARS = os.path.join(PROJECT_DIR, "inventory", "lab", "group_vars")
QMAIL_DIR = "/var/qmail"
SIMULATOR = "/usr/local/bin/teamware-office-simulator"
MIME_SERVICE = "/service/teamware-mime"
TEAMWARE_ROOT = "/to"


class LabError(AssertionError):
    pass


def wait_until(check, timeout, what, interval=0.5):
    """Call check() until it returns something true; fail after timeout seconds, saying what was awaited."""
    deadline = time.time() + timeout
    last = None
    while True:
        last = check()
        if last:
            return last
        if time.time() >= deadline:
            raise LabError("waited %ds for %s; last result: %r" % (timeout, what, last))
        time.sleep(interval)


def load_yaml(path):
    with open(path) as handle:
        return yaml.safe_load(handle) or {}


def token():
    return "lab-" + uuid.uuid4().hex[:12]


class Scenario:
    """The scenario under test, from molecule.yml and the lab's group_vars."""

    def __init__(self, molecule_file=None):
        self.molecule_file = molecule_file or os.environ.get("MOLECULE_FILE")
        if not self.molecule_file:
            raise LabError("MOLECULE_FILE is not set: run these tests through molecule verify / molecule test")
        config = load_yaml(self.molecule_file)
        self.name = os.path.basename(os.path.dirname(os.path.abspath(self.molecule_file)))
        self.platforms = config["platforms"]
        self.vars = dict(load_yaml(os.path.join(GROUP_VARS, "all.yml")))
        groups = []
        for platform in self.platforms:
            for group in platform.get("groups", []):
                if group not in groups:
                    groups.append(group)
        for group in groups:
            path = os.path.join(GROUP_VARS, group + ".yml")
            if os.path.exists(path):
                self.vars.update(load_yaml(path))
        inline = config.get("provisioner", {}).get("inventory", {}).get("group_vars", {})
        for group in groups:
            self.vars.update(inline.get(group, {}) or {})
        self.first_method = self.vars.get("teamware_integration_method")
        self.switched_from = None
        if self.vars.get("lab_switch_to"):
            self.switched_from = dict((k, self.vars.get(k)) for k in (
                "teamware_integration_method", "teamware_routing", "teamware_domains", "teamware_user_prefix",
                "teamware_rewrite_domain", "lab_teamware_rcpt", "lab_teamware_envelope", "lab_teamware_address"))
            self.vars.update(load_yaml(os.path.join(GROUP_VARS, "method_%s.yml" % self.vars["lab_switch_to"])))

    def _in_group(self, group, required=True):
        names = [p["name"] for p in self.platforms if group in p.get("groups", [])]
        if not names and required:
            raise LabError("no platform of %s is in group %s" % (self.molecule_file, group))
        return names[0] if names else None

    @property
    def qmail(self):
        return self._in_group("qmail_hosts")

    @property
    def teamware(self):
        return self._in_group("teamware_servers")

    @property
    def client(self):
        return self._in_group("lab_clients")

    @property
    def stranger(self):
        return self._in_group("lab_strangers")

    def address_of(self, name):
        for platform in self.platforms:
            if platform["name"] == name:
                return platform["ip"]
        raise LabError("no platform %s" % name)

    @property
    def probe(self):
        """True in the scenario without qmail: a probe stands behind the relay front ends."""
        return bool(self.vars.get("lab_probe"))

    @property
    def rollout(self):
        """True in the rollout scenario: site.yml ran in batches and stopped at a failing host (test_rollout.py)."""
        return bool(self.vars.get("teamware_rollout_batch"))

    @property
    def method(self):
        return self.vars["teamware_integration_method"]

    @property
    def method_object(self):
        """The method's object in METHODS (plugins/module_utils/methods.py): what it does, asked rather than spelt."""
        return METHODS[self.method]

    @property
    def transport(self):
        """How Teamware Office takes the mail in (to.ini's mode, the simulator's "via"): torecvm or smtp."""
        return self.method_object.transport.inbound

    @property
    def routing_kind(self):
        return self.vars.get("teamware_routing") or self.method_object.routing_kinds[0]

    def settings(self):
        """The scenario's variables as the method objects read them (attributes, like routing.Settings)."""
        return types.SimpleNamespace(**self.vars)

    @property
    def same_host(self):
        return self.teamware == self.qmail

    @property
    def front_end(self):
        return self.vars.get("qmail_smtp_front_end", "tcpserver")

    @property
    def smtp_port(self):
        return int(self.vars.get("teamware_smtp_port", 25))

    def rcpt(self, user):
        return self.vars["lab_teamware_rcpt"].replace("{user}", user)

    def envelope(self, user):
        return self.vars["lab_teamware_envelope"].replace("{user}", user)

    def teamware_address(self, user):
        return self.vars["lab_teamware_address"].replace("{user}", user)


class Lab:
    """The scenario's containers, through testinfra's podman backend."""

    def __init__(self, scenario):
        self.scenario = scenario
        self._hosts = {}

    def host(self, name):
        if name not in self._hosts:
            self._hosts[name] = testinfra.get_host("podman://" + name)
        return self._hosts[name]

    def run(self, name, command, *args):
        """Run a command (a format string, arguments shell-quoted) in a container; return testinfra's result."""
        return self.host(name).run(command, *args)

    def check(self, name, command, *args):
        result = self.run(name, command, *args)
        if result.rc != 0:
            raise LabError("%s in %s: exit %d\n%s\n%s" % (result.command, name, result.rc, result.stdout, result.stderr))
        return result.stdout

    # ---- SMTP from a container
    def swaks(self, sender_host, to, server, port=25, mail_from="lab@example.org", subject=None, quit_after=None):
        """swaks from sender_host; returns (exit status, {command: reply code}, the transcript)."""
        argv = ["swaks", "--server", server, "--port", str(port), "--to", to, "--from", mail_from, "--timeout", "20"]
        if subject:
            argv += ["--header", "Subject: %s" % subject]
        if quit_after:
            argv += ["--quit-after", quit_after]
        result = self.host(sender_host).run(" ".join(shlex.quote(a) for a in argv) + " 2>&1")
        return result.rc, reply_codes(result.stdout), result.stdout

    def send(self, to, mail_from="lab@example.org", sender_host=None, subject=None):
        """Send a complete message to the qmail host; fail unless qmail-smtpd queued it. Returns the subject."""
        subject = subject or token()
        rc, codes, transcript = self.swaks(sender_host or self.scenario.client, to, self.scenario.address_of(self.scenario.qmail),
                                           mail_from=mail_from, subject=subject)
        if rc != 0 or codes.get("DATA_END", "")[:1] != "2":
            raise LabError("qmail-smtpd did not take the message to %s (swaks exit %d):\n%s" % (to, rc, transcript))
        return subject

    # ---- Teamware Office (the simulator)
    def teamware_messages(self):
        out = self.check(self.scenario.teamware, "%s list --root %s --json", SIMULATOR, TEAMWARE_ROOT)
        return json.loads(out)

    def wait_teamware_message(self, subject, timeout=45):
        def find():
            found = [m for m in self.teamware_messages() if m.get("subject") == subject]
            return found[0] if found else None
        return wait_until(find, timeout, "the message %r at Teamware Office (simulator list)" % subject)

    def teamware_has(self, subject):
        return any(m.get("subject") == subject for m in self.teamware_messages())

    def stop_teamware(self):
        if self.scenario.transport == "torecvm":
            # torecvm exits 111 (qmail retries) while its spool directory is missing.
            self.check(self.scenario.teamware, "mv %s/smtp %s/smtp.away", TEAMWARE_ROOT, TEAMWARE_ROOT)
        else:
            self.check(self.scenario.teamware, "/usr/local/sbin/lab-mime-connector stop")

    def start_teamware(self):
        if self.scenario.transport == "torecvm":
            self.check(self.scenario.teamware, "test -d %s/smtp || mv %s/smtp.away %s/smtp", TEAMWARE_ROOT, TEAMWARE_ROOT, TEAMWARE_ROOT)
        else:
            self.check(self.scenario.teamware, "/usr/local/sbin/lab-mime-connector start")

    # ---- qmail
    def maildir_has(self, user, subject):
        result = self.run(self.scenario.qmail, "grep -l -F -x %s /home/%s/Maildir/new/* 2>/dev/null", "Subject: " + subject, user)
        return result.rc == 0

    def wait_maildir(self, user, subject, timeout=45):
        wait_until(lambda: self.maildir_has(user, subject), timeout, "the message %r in ~%s/Maildir/new" % (subject, user))

    def queue(self):
        """(messages in queue, not yet preprocessed) from qmail-qstat."""
        out = self.check(self.scenario.qmail, "%s/bin/qmail-qstat", QMAIL_DIR)
        numbers = [int(n) for n in re.findall(r":\s*(\d+)", out)]
        return numbers[0], numbers[1]

    def wait_queue_empty(self, timeout=45):
        wait_until(lambda: self.queue() == (0, 0), timeout, "an empty qmail queue (qmail-qstat)")

    def send_log(self):
        """qmail-send's log: multilog's file; or, when svscan started qmail-send without its log service (it
        decides at first sight of the service directory), svscan's output, i.e. the container's log."""
        result = self.run(self.scenario.qmail, "cat /service/qmail-send/log/main/current")
        if result.rc == 0:
            return result.stdout
        logs = subprocess.run(["podman", "logs", self.scenario.qmail], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, check=False)
        return logs.stdout

    def deferrals(self):
        return len(re.findall(r"delivery \d+: deferral:", self.send_log()))

    def route_info(self, addresses, **options):
        """qmail_route_info's prediction on the qmail host (an ad-hoc call through the lab's connection plugin)."""
        here = os.path.join(os.path.dirname(sys.executable), "ansible")
        name = self.scenario.qmail
        args = dict(options, addresses=list(addresses))
        env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
                   ANSIBLE_CONNECTION_PLUGINS=os.path.join(PROJECT_DIR, "molecule", "resources", "plugins", "connection"),
                   ANSIBLE_PYTHON_INTERPRETER="/usr/bin/python3", ANSIBLE_PIPELINING="1", ANSIBLE_NOCOLOR="1")
        argv = [here if os.path.exists(here) else "ansible", "all", "-i", name + ",", "-c", "lab_podman",
                "-m", "teamware.qmail.qmail_route_info", "-a", json.dumps(args)]
        done = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                              timeout=300, check=False)
        try:
            result = json.loads(done.stdout)["plays"][0]["tasks"][0]["hosts"][name]
        except (ValueError, KeyError, IndexError):
            raise LabError("qmail_route_info on %s: exit %d\n%s\n%s" % (name, done.returncode, done.stdout, done.stderr))
        if result.get("failed"):
            raise LabError("qmail_route_info on %s failed: %s" % (name, result.get("msg")))
        return result

    def read_file(self, name, path):
        result = self.run(name, "cat %s", path)
        return result.stdout if result.rc == 0 else None


def reply_codes(transcript):
    """The server's reply code to each command in a swaks transcript: MAIL, RCPT, DATA, DATA_END, ..."""
    codes = {}
    command = "BANNER"
    for line in transcript.splitlines():
        sent = re.match(r"\s*(?:->|~>)\s+(\S+)", line)
        if sent:
            word = sent.group(1).upper().rstrip(":")
            if word in ("MAIL", "RCPT", "DATA", "QUIT", "EHLO", "HELO", "RSET"):
                command = word
            elif word == ".":
                command = "DATA_END"
            continue
        got = re.match(r"\s*<[-*~]+\s+(\d{3})[ -]", line)
        if got:
            codes[command] = got.group(1)
    return codes
