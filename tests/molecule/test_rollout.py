# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A rollout in batches (scenario rollout): site.yml with teamware_rollout_batch 1 on three qmail hosts, the second of
which expects a route real qmail contradicts.  The run fails naming that host and its wrong route; the first host and
Teamware Office (in the first batch) have the new configuration and mail reaches Teamware Office through the first
host; the third host is untouched, byte for byte.  The side effect (molecule/resources/side_effect_rollout.yml)
recorded every host's files before the run and kept the run's output."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import pytest

from lab import QMAIL_DIR, LabError

STATE_FILE = QMAIL_DIR + "/control/teamware-qmail.json"
BATCH_PLAY = "PLAY [Configure and check the hosts, a batch at a time]"


def applies(scenario):
    return scenario.rollout


def out_dir():
    found = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
    if not found:
        raise LabError("MOLECULE_EPHEMERAL_DIRECTORY is not set: run these tests through molecule test -s rollout")
    return found


def read(name):
    with open(os.path.join(out_dir(), name)) as handle:
        return handle.read()


@pytest.fixture(scope="module")
def hosts(scenario):
    qmail = [p["name"] for p in scenario.platforms if "qmail_hosts" in p.get("groups", [])]
    assert len(qmail) == 3 and scenario.vars["teamware_rollout_batch"] == 1
    return qmail


@pytest.fixture(scope="module")
def output():
    return read("rollout-site.log")


def snapshot(scenario, lab, name):
    return lab.check(name, "sh -c %s", scenario.vars["lab_rollout_snapshot"]).rstrip("\n")


def test_the_run_failed_at_the_second_host_naming_its_wrong_route(hosts, output):
    assert output.rstrip().endswith("rc=2"), output[-2000:]
    assert "Wrong routes on %s:" % hosts[1] in output
    assert "john@company.com: expected teamware, got mailbox:john" in output
    recap = dict((m.group(1), (int(m.group(2)), int(m.group(3)))) for m in re.finditer(
        r"^(\S+)\s+:\s+ok=\d+\s+changed=\d+\s+unreachable=(\d+)\s+failed=(\d+)", output, re.M))
    assert recap[hosts[0]] == (0, 0) and recap[hosts[1]] == (0, 1), recap


def test_the_batches_were_one_qmail_host_each_and_the_third_never_came(hosts, scenario, output):
    batches = output.split(BATCH_PLAY)[1:]
    assert len(batches) == 2, "expected two batches, found %d" % len(batches)
    assert "[%s]" % hosts[0] in batches[0] and "[%s]" % scenario.teamware in batches[0]
    assert "[%s]" % hosts[1] not in batches[0]
    assert "[%s]" % hosts[1] in batches[1] and "[%s]" % hosts[0] not in batches[1]
    assert "[%s]" % hosts[2] not in "".join(batches)
    # the first batch's deploy check passed before the second batch began
    assert "All 5 expected routes are right" in batches[0]


def test_the_first_host_has_the_new_configuration(hosts, lab):
    assert lab.run(hosts[0], "test -s %s", STATE_FILE).rc == 0
    smtproutes = lab.read_file(hosts[0], QMAIL_DIR + "/control/smtproutes") or ""
    assert "tw.company.com:tw.server.company.com" in smtproutes.splitlines()
    assert "tw.company.com" in (lab.read_file(hosts[0], QMAIL_DIR + "/control/rcpthosts") or "").splitlines()


def test_mail_reaches_teamware_office_through_the_first_host(hosts, scenario, lab):
    # Teamware Office went with the first batch: its connector is configured and running
    subject = lab.send(scenario.rcpt("anna"), sender_host=hosts[0])
    message = lab.wait_teamware_message(subject)
    assert message["recipients"] == [scenario.envelope("anna")]
    assert message["via"] == "smtp"
    lab.wait_queue_empty()


def test_the_second_host_was_configured_then_stopped_the_rollout(hosts, lab):
    # its batch ran up to the deploy check, which failed: it keeps what it was given, as the first host does
    assert lab.run(hosts[1], "test -s %s", STATE_FILE).rc == 0


def test_the_third_host_is_untouched_byte_for_byte(hosts, scenario, lab):
    assert lab.run(hosts[2], "test -e %s", STATE_FILE).rc != 0
    before = read("rollout-before-%s.txt" % hosts[2])
    assert "f 644 0:0 var/qmail/control/me" in before  # the record is not empty
    assert snapshot(scenario, lab, hosts[2]) == before.rstrip("\n")
