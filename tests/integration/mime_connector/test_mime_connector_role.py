# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mime_connector role against localhost on a temporary Teamware Office root.

Checks the files it writes (unrelated keys, sections and comments kept), that a
second run and --check change nothing, that the stop/start commands run exactly
once when something changes and never otherwise, that bad values write nothing,
and, with the Teamware Office MIME connector SIMULATOR (tests only), that the
written files make the connector accept the routed base addresses and refuse
the others, and refuse to listen with sendmail = 1.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import smtplib
import subprocess
import sys
import time

import pytest

from ..localhost.playbook_helpers import REPO, run_playbook, snapshot

PLAYBOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mime_connector_role.yml")
SIMULATOR = os.path.join(REPO, "simulator", "bin", "teamware-office-simulator")
TORECVM = os.path.join(REPO, "simulator", "bin", "torecvm")

TO_INI = """; Teamware Office configuration
[General]
name = tw.server.company.com
; mode = any is a comment about General

[MIME]
; recommended settings, see section 4
mode = any
allow = old.example.com
max_size = 10485760
;no_relay = 0

[X400]
mode = relay
"""

CTL = """#!/bin/sh
echo "$1" >> "$(dirname "$0")/ctl.log"
"""

BASE = {
    "qmail_local_domains": ["company.com"],
    "teamware_server": "tw.server.company.com",
    "teamware_smtp_port": 2025,
}
SMTP = dict(BASE, teamware_integration_method="smtp_smtproutes", teamware_domains=["tw.company.com"],
            teamware_server_address="127.0.0.1")
TORECVM_VD = dict(BASE, teamware_integration_method="torecvm_virtualdomains", teamware_domains=["tw.company.com"])
FORWARD = dict(BASE, teamware_integration_method="smtp_forward", teamware_domains=["company.com"], teamware_user_prefix="tw.",
               teamware_rewrite_domain="tw.company.com", teamware_server_address="127.0.0.1")


class Teamware:
    """A Teamware Office root with to.ini, the smtp spool and a stand-in for the stop/start commands."""

    def __init__(self, tmp_path, to_ini=TO_INI, tombsmtp=None):
        self.tmp = str(tmp_path)
        self.root = os.path.join(self.tmp, "to")
        os.makedirs(os.path.join(self.root, "smtp"))
        self.write("to.ini", to_ini)
        if tombsmtp is not None:
            self.write("tombsmtp.ini", tombsmtp)
        self.ctl = os.path.join(self.tmp, "ctl.sh")
        with open(self.ctl, "w") as handle:
            handle.write(CTL)
        os.chmod(self.ctl, 0o755)

    def write(self, name, text):
        with open(os.path.join(self.root, name), "w") as handle:
            handle.write(text)

    def read(self, name):
        with open(os.path.join(self.root, name)) as handle:
            return handle.read()

    def calls(self):
        log = os.path.join(self.tmp, "ctl.log")
        if not os.path.exists(log):
            return []
        with open(log) as handle:
            return handle.read().split()

    def variables(self, inventory, **extra):
        variables = dict(inventory, teamware_root=self.root,
                         mime_connector_stop_command="%s stop" % self.ctl,
                         mime_connector_start_command="%s start" % self.ctl)
        variables.update(extra)
        return variables

    def run(self, inventory, check=False, diff=False, **extra):
        return run_playbook(PLAYBOOK, self.tmp, self.variables(inventory, **extra), check=check, diff=diff)


def ok(result):
    assert result.returncode == 0, result.output
    return result


# --- files, idempotence, check mode, stop/start ------------------------------------------

SMTP_TO_INI = """; Teamware Office configuration
[General]
name = tw.server.company.com
; mode = any is a comment about General

[MIME]
; recommended settings, see section 4
mode = strict
allow = tw.company.com
max_size = 10485760
deliver_relayed_dsn = 0
no_relay = 1
smtp_port = 2025
sendmail = 0
;no_relay = 0

[X400]
mode = relay
"""


def test_smtp_method_writes_files_once_and_keeps_unrelated_content(tmp_path):
    tw = Teamware(tmp_path)
    first = ok(tw.run(SMTP, diff=True))
    assert tw.read("to.ini") == SMTP_TO_INI
    assert tw.read("tombsmtp.ini").split("\n")[0] == "own_node = tw.company.com"
    assert tw.calls() == ["stop", "start"]
    assert first.changed() > 0
    assert "+mode = strict" in first.output and "-mode = any" in first.output

    before = snapshot(tw.root)
    second = ok(tw.run(SMTP))
    assert second.changed() == 0
    assert snapshot(tw.root) == before
    assert tw.calls() == ["stop", "start"]

    again = ok(tw.run(SMTP, check=True, diff=True))
    assert again.changed() == 0
    assert tw.calls() == ["stop", "start"]


def test_check_mode_changes_nothing_and_calls_nothing(tmp_path):
    tw = Teamware(tmp_path)
    before = snapshot(tw.root)
    result = ok(tw.run(SMTP, check=True, diff=True))
    assert result.changed() > 0
    assert "+mode = strict" in result.output
    assert snapshot(tw.root) == before
    assert tw.calls() == []


OPEN_RELAY = "accepts mail for every domain and relays it"
LOOK = "Look at Teamware Office, its MIME connector and which of the connector's keys must change"
WRITE = "Write the connector's keys into to.ini and tombsmtp.ini"


def tasks_that_warn(tw, text, check=False, **extra):
    """The names of the tasks whose result carries the warning text, and whether each ran, in the order they ran.

    The default callback prints a warning text once per run however many results carry it; callbacks that show each
    task's result (json here, an AWX job's events) show every copy. So the run uses ansible.posix.json."""
    done = run_playbook(PLAYBOOK, tw.tmp, tw.variables(SMTP, **extra), check=check,
                        extra_env={"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"})
    assert done.returncode == 0, done.output
    ran = [task for play in json.loads(done.output)["plays"] for task in play["tasks"]]
    names = [(task["task"]["name"].rpartition(" : ")[2], task) for task in ran]
    return ([name for name, task in names
             if any(text in json.dumps(result.get("warnings", [])) for result in task["hosts"].values())],
            [name for name, task in names if not all(r.get("skipped") for r in task["hosts"].values())])


@pytest.mark.parametrize("check", [False, True])
def test_a_settings_warning_is_shown_once_per_run(tmp_path, check):
    """The look (mime_connector_info) warns; the writer, which runs in the same run when a key changes, does not."""
    tw = Teamware(tmp_path)
    risky = dict(mime_connector_mode="any", mime_connector_no_relay=0)
    warned, ran = tasks_that_warn(tw, OPEN_RELAY, check=check, **risky)
    assert WRITE in ran and warned == [LOOK]
    if not check:
        # a run that changes nothing still shows it (the look runs every time)
        warned, ran = tasks_that_warn(tw, OPEN_RELAY, **risky)
        assert WRITE not in ran and warned == [LOOK]


def test_a_changed_setting_restarts_once(tmp_path):
    tw = Teamware(tmp_path)
    ok(tw.run(SMTP))
    ok(tw.run(SMTP, mime_connector_server_count=2, mime_connector_allow=["tw.company.com", "branch.company.com"]))
    text = tw.read("to.ini")
    assert "mode = list\n" in text
    assert [line for line in text.split("\n") if line.startswith("allow")] == ["allow = tw.company.com", "allow = branch.company.com"]
    assert tw.calls() == ["stop", "start", "stop", "start"]


def test_qmail_relay_discards_relayed_dsn(tmp_path):
    tw = Teamware(tmp_path)
    ok(tw.run(SMTP, teamware_outgoing_relay="qmail"))
    text = tw.read("to.ini")
    assert "deliver_relayed_dsn = 2\n" in text
    assert "smtp_host = 127.0.0.1\n" in text


def test_unmanaged_stop_and_start(tmp_path):
    tw = Teamware(tmp_path)
    ok(tw.run(SMTP, mime_connector_stop_command="", mime_connector_start_command=""))
    assert "mode = strict\n" in tw.read("to.ini")
    assert tw.calls() == []


def test_connector_is_started_again_when_an_edit_fails(tmp_path):
    tw = Teamware(tmp_path)
    # This stop command also turns tombsmtp.ini into a directory, so that writing it fails.
    breaker = os.path.join(tw.tmp, "stop-and-break.sh")
    with open(breaker, "w") as handle:
        handle.write('#!/bin/sh\n"%s" stop\nmkdir "%s/tombsmtp.ini"\n' % (tw.ctl, tw.root))
    os.chmod(breaker, 0o755)
    result = tw.run(SMTP, mime_connector_stop_command=breaker)
    assert result.returncode != 0
    assert tw.calls() == ["stop", "start"]


# --- torecvm, own_node aliases and order -------------------------------------------------

def test_torecvm_method(tmp_path):
    tw = Teamware(tmp_path)
    ok(tw.run(TORECVM_VD, mime_connector_torecvm_path=TORECVM))
    text = tw.read("to.ini")
    for line in ("mode = strict", "allow = tw.company.com", "no_relay = 1", "deliver_relayed_dsn = 0", "smtp_port = 2025",
                 "sendmail = 1"):
        assert line + "\n" in text
    assert tw.read("tombsmtp.ini").split("\n")[0] == "own_node = tw.company.com"
    assert ok(tw.run(TORECVM_VD, mime_connector_torecvm_path=TORECVM)).changed() == 0


def test_torecvm_method_needs_torecvm(tmp_path):
    tw = Teamware(tmp_path)
    before = snapshot(tw.root)
    result = tw.run(TORECVM_VD, mime_connector_torecvm_path=os.path.join(tw.tmp, "missing-torecvm"))
    assert result.returncode != 0
    assert "mime_connector_torecvm_path" in result.output
    assert snapshot(tw.root) == before
    assert tw.calls() == []


def test_forward_method_writes_the_alias_after_its_base_address(tmp_path):
    tw = Teamware(tmp_path, tombsmtp="; own nodes\nown_node = A:tw.company.com\nown_node = company.com\n\n[Other]\nkey = value\n")
    ok(tw.run(FORWARD))
    tomb = tw.read("tombsmtp.ini")
    top = tomb.split("[Other]")[0]
    assert [line for line in top.split("\n") if line.startswith("own_node")] == ["own_node = company.com", "own_node = A:tw.company.com"]
    assert "; own nodes\n" in tomb and "[Other]\nkey = value\n" in tomb
    assert tw.calls() == ["stop", "start"]
    assert ok(tw.run(FORWARD)).changed() == 0
    assert tw.calls() == ["stop", "start"]


# --- refusals: nothing written, nothing called ------------------------------------------

@pytest.mark.parametrize("extra, variable", [
    (dict(mime_connector_mode="open"), "mime_connector_mode"),
    (dict(mime_connector_mode="list", mime_connector_allow=["other.example.com"]), "mime_connector_allow"),
    (dict(teamware_outgoing_relay="smarthost"), "teamware_outgoing_relay"),
    (dict(mime_connector_qmail_host="nosuchhost"), "mime_connector_qmail_host: nosuchhost is not a host of the inventory"),
], ids=["mode", "list-without-routed-domain", "relay", "qmail-host"])
def test_bad_values_write_nothing(tmp_path, extra, variable):
    """Every rule has its case in the unit tests; here: the role stops before touching anything."""
    tw = Teamware(tmp_path)
    before = snapshot(tw.root)
    result = tw.run(SMTP, **extra)
    assert result.returncode != 0
    assert variable in result.output
    assert snapshot(tw.root) == before
    assert tw.calls() == []


def test_lines_ini_file_cannot_edit_safely_are_refused(tmp_path):
    tw = Teamware(tmp_path, to_ini="[mime]\nMode = any\n")
    before = snapshot(tw.root)
    result = tw.run(SMTP)
    assert result.returncode != 0
    assert "section [mime]" in result.output and "key 'Mode'" in result.output
    assert snapshot(tw.root) == before
    assert tw.calls() == []


# --- the simulator reads what the role wrote ---------------------------------------------

def start_simulator(root, tmp):
    port_file = os.path.join(tmp, "simulator.port")
    process = subprocess.Popen([sys.executable, SIMULATOR, "serve", "--root", root, "--bind", "127.0.0.1", "--port", "0",
                                "--port-file", port_file], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 20
    while time.time() < deadline:
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError("simulator exited %s: %s" % (process.returncode, err.decode()))
        if os.path.exists(port_file):
            with open(port_file) as handle:
                text = handle.read().strip()
            if text:
                return process, int(text)
        time.sleep(0.05)
    process.kill()
    raise AssertionError("simulator did not start")


def rcpt_codes(port, recipients):
    codes = {}
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.ehlo("qmail.company.com")
        for recipient in recipients:
            smtp.rset()
            smtp.mail("sender@company.com")
            codes[recipient] = smtp.rcpt(recipient)[0]
    return codes


@pytest.mark.parametrize("inventory, accepted, refused", [
    (SMTP, ["john@tw.company.com", "JOHN@TW.COMPANY.COM"], ["john@company.com", "john@other.example.com", "john@old.example.com"]),
    (FORWARD, ["john@company.com", "john@tw.company.com"], ["john@other.example.com", "john@old.example.com"]),
], ids=["smtp_smtproutes", "smtp_forward"])
def test_simulator_accepts_the_routed_addresses_only(tmp_path, inventory, accepted, refused):
    tw = Teamware(tmp_path)
    ok(tw.run(inventory))
    process, port = start_simulator(tw.root, tw.tmp)
    try:
        codes = rcpt_codes(port, accepted + refused)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert [codes[r] for r in accepted] == [250] * len(accepted), codes
    assert [codes[r] for r in refused] == [550] * len(refused), codes


def test_simulator_refuses_to_listen_with_sendmail(tmp_path):
    tw = Teamware(tmp_path)
    ok(tw.run(TORECVM_VD, mime_connector_torecvm_path=TORECVM))
    done = subprocess.run([sys.executable, SIMULATOR, "serve", "--root", tw.root, "--bind", "127.0.0.1", "--port", "0"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30, check=False)
    assert done.returncode == 2
    assert b"sendmail = 1" in done.stderr


def test_simulator_torecvm_accepts_the_routed_address_only(tmp_path):
    tw = Teamware(tmp_path)
    ok(tw.run(TORECVM_VD, mime_connector_torecvm_path=TORECVM))
    message = b"From: sender@company.com\nTo: john@tw.company.com\nSubject: test\n\nhello\n"
    spool = "-d%s/smtp" % tw.root
    good = subprocess.run([sys.executable, TORECVM, spool, "-pA", "-fsender@company.com", "-rjohn@tw.company.com"],
                          input=message, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30, check=False)
    bad = subprocess.run([sys.executable, TORECVM, spool, "-pA", "-fsender@company.com", "-rjohn@other.example.com"],
                         input=message, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30, check=False)
    assert good.returncode == 0, good.stdout + good.stderr
    assert bad.returncode == 100, bad.stdout + bad.stderr
