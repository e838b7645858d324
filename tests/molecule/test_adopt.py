# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scenario adopt (issue 13): two qmail hosts configured by hand as the document prints it (5.2.2 and 5.1.2, see
molecule/adopt/files/hand-configure), read by playbooks/adopt.yml into a scenario-private inventory, then configured
by site.yml from it (converge; Molecule's idempotence step runs site.yml a second time and fails on any change).
By real mail from the client and the stranger: Teamware users reach Teamware Office, the other product's virtual
domain still lands in its Maildir, the backup-MX domain is still taken from a stranger and handed on to the peer,
and nothing bounces."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

import pytest
import yaml

from lab import METHODS, QMAIL_DIR, SIMULATOR, TEAMWARE_ROOT, token, wait_until

HOSTS = ["adopt-alias", "adopt-vdomain"]
HAND_METHOD = {"adopt-alias": "smtp_alias", "adopt-vdomain": "torecvm_virtualdomains"}
# Each host's own virtual domain (of another product) and the domain it is the backup MX for.
OWN = {"adopt-alias": "other.example", "adopt-vdomain": "shop.example"}
BACKUP = {"adopt-alias": "shop.example", "adopt-vdomain": "other.example"}
PEER = {"adopt-alias": "adopt-vdomain", "adopt-vdomain": "adopt-alias"}


def applies(scenario):
    return bool(scenario.vars.get("lab_adopt"))


@pytest.fixture(scope="module")
def adopted():
    """What adopt.yml wrote, per host (MOLECULE_EPHEMERAL_DIRECTORY/adopted/host_vars/<host>/teamware_qmail.yml)."""
    base = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "adopted", "host_vars")
    found = {}
    for host in HOSTS:
        with open(os.path.join(base, host, "teamware_qmail.yml")) as handle:
            found[host] = yaml.safe_load(handle)
    return found


def send(lab, scenario, host, to, sender_host=None, mail_from="lab@example.org"):
    subject = token()
    rc, codes, transcript = lab.swaks(sender_host or scenario.client, to, scenario.address_of(host),
                                      mail_from=mail_from, subject=subject)
    assert rc == 0 and codes.get("DATA_END", "")[:1] == "2", transcript
    return subject


def teamware_messages(lab, host, subject):
    """The messages with this subject at the Teamware Office (simulator) on host."""
    listed = json.loads(lab.check(host, "%s list --root %s --json", SIMULATOR, TEAMWARE_ROOT))
    return [m for m in listed if m.get("subject") == subject]


def teamware_message(lab, host, subject, timeout=45):
    return wait_until(lambda: teamware_messages(lab, host, subject), timeout,
                      "the message %r at Teamware Office on %s" % (subject, host))


def wait_in_maildir(lab, host, maildir, subject, timeout=45):
    wait_until(lambda: lab.run(host, "grep -l -F -x %s %s/new/* 2>/dev/null", "Subject: " + subject, maildir).rc == 0,
               timeout, "the message %r in %s on %s" % (subject, maildir, host))


def queue_empty(lab, host):
    out = lab.check(host, "%s/bin/qmail-qstat", QMAIL_DIR)
    return [int(n) for n in re.findall(r":\s*(\d+)", out)] == [0, 0]


def entries(lab, host, name):
    text = lab.read_file(host, "%s/control/%s" % (QMAIL_DIR, name)) or ""
    return [line for line in text.splitlines() if line and not line.startswith("#")]


@pytest.mark.parametrize("host", HOSTS)
def test_adopt_found_the_hand_made_method_and_the_hosts_own_entries(adopted, host):
    found = adopted[host]
    assert found["teamware_integration_method"] == HAND_METHOD[host]
    assert found["teamware_domains"] == ["tw.company.com"]
    assert found["qmail_aliases"] == {"root": ["sysadm@company.com"]}
    assert sorted(found["qmail_extra_rcpthosts"]) == sorted([OWN[host], BACKUP[host]])
    assert "qmail_extra_virtualdomains" in found and "qmail_extra_users" in found, found


@pytest.mark.parametrize("host", HOSTS)
def test_the_hosts_own_entries_are_still_there(lab, host):
    assert OWN[host] in entries(lab, host, "rcpthosts") and BACKUP[host] in entries(lab, host, "rcpthosts")
    assert "%s:%s" % (OWN[host], OWN[host]) in entries(lab, host, "virtualdomains")
    assert BACKUP[host] not in entries(lab, host, "virtualdomains") + entries(lab, host, "locals")
    assert "%s:[%s]" % (BACKUP[host], lab.scenario.address_of(PEER[host])) in entries(lab, host, "smtproutes")
    assign = lab.read_file(host, "%s/users/assign" % QMAIL_DIR)
    assert re.search(r"^\+%s-:vmail:" % re.escape(OWN[host]), assign, re.MULTILINE), assign
    assert lab.run(host, "test ! %s/users/assign -nt %s/users/cdb", QMAIL_DIR, QMAIL_DIR).rc == 0


def test_site_yml_made_the_safety_corrections(lab):
    """The document's unsafe lines are replaced: the bare qmail-remote pipe by the wrapper, torecvm gets preline."""
    alias = lab.read_file("adopt-alias", "%s/alias/.qmail-default" % QMAIL_DIR)
    assert "/usr/local/bin/teamware-qmail-remote" in alias and "| qmail-remote" not in alias, alias
    twu = lab.read_file("adopt-vdomain", "/home/twu/.qmail-default")
    assert "preline" in twu and '"$DEFAULT"@"$HOST"' in twu, twu


@pytest.mark.parametrize("host", HOSTS)
def test_mail_for_a_teamware_user_reaches_teamware_office(scenario, lab, host):
    subject = send(lab, scenario, host, "anna@tw.company.com", mail_from="sender@example.org")
    message = teamware_message(lab, host, subject)[0]
    assert message["recipients"] == ["anna@tw.company.com"]
    assert message["sender"] == "sender@example.org"
    transport = METHODS[HAND_METHOD[host]].transport
    assert message["via"] == transport.inbound
    if transport.inbound == "torecvm":
        # site.yml's correction: torecvm now runs through preline
        assert message["return_path"] == "<sender@example.org>"
    assert not teamware_messages(lab, PEER[host], subject)


@pytest.mark.parametrize("host", HOSTS)
def test_the_other_virtual_domain_lands_in_its_maildir_as_before(scenario, lab, host):
    subject = send(lab, scenario, host, "carol@%s" % OWN[host])
    wait_in_maildir(lab, host, "/home/vmail/%s/Maildir" % OWN[host], subject)


@pytest.mark.parametrize("host", HOSTS)
def test_a_local_user_keeps_his_mail(scenario, lab, host):
    subject = send(lab, scenario, host, "john@company.com")
    wait_in_maildir(lab, host, "/home/john/Maildir", subject)


@pytest.mark.parametrize("host", HOSTS)
def test_a_stranger_may_still_send_to_the_backup_mx_domain(scenario, lab, host):
    """The backup MX takes the peer's domain from anyone (250, not 553) and hands it on to the peer's Maildir."""
    rc, codes, transcript = lab.swaks(scenario.stranger, "dave@%s" % BACKUP[host], scenario.address_of(host),
                                      quit_after="RCPT")
    assert codes.get("RCPT") == "250", transcript
    subject = send(lab, scenario, host, "dave@%s" % BACKUP[host], sender_host=scenario.stranger)
    wait_in_maildir(lab, PEER[host], "/home/vmail/%s/Maildir" % BACKUP[host], subject, timeout=60)


@pytest.mark.parametrize("host", HOSTS)
def test_the_stranger_still_cannot_relay(scenario, lab, host):
    rc, codes, transcript = lab.swaks(scenario.stranger, "someone@example.net", scenario.address_of(host),
                                      quit_after="RCPT")
    assert codes.get("RCPT") == "553", transcript


@pytest.mark.parametrize("host", HOSTS)
def test_the_client_may_still_relay(scenario, lab, host):
    rc, codes, transcript = lab.swaks(scenario.client, "someone@example.net", scenario.address_of(host),
                                      quit_after="RCPT")
    assert codes.get("RCPT") == "250", transcript


@pytest.mark.parametrize("host", HOSTS)
def test_nothing_bounced_and_the_queue_is_empty(lab, host):
    """Last (the module's tests run in order): every message above was delivered, none bounced anywhere."""
    wait_until(lambda: queue_empty(lab, host), 60, "an empty qmail queue on %s" % host)
    found = lab.run(host, "grep -l -E '^(From: MAILER-DAEMON|Subject: failure notice)' "
                          "/home/*/Maildir/new/* /home/*/*/Maildir/new/* 2>/dev/null")
    assert found.stdout.strip() == "", "bounces in Maildirs on %s: %s" % (host, found.stdout)
    log = lab.run(host, "cat /service/qmail-send/log/main/current").stdout
    assert not re.search(r"delivery \d+: failure:", log), log
    assert "bounce msg" not in log, log
