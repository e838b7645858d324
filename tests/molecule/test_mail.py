# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mail through a configured lab, by real SMTP: Teamware users, local users, aliases, bounces, relaying,
and Teamware Office being down (the mail waits in qmail's queue and is delivered when it is back)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from lab import wait_until


def applies(scenario):
    # The adopt scenario has two qmail hosts configured by hand (test_adopt.py); rollout's run fails on purpose
    # (test_rollout.py).
    return not scenario.probe and not scenario.rollout and not scenario.vars.get("lab_adopt")


def test_mail_for_a_teamware_user_reaches_teamware_office(scenario, lab):
    subject = lab.send(scenario.rcpt("anna"), mail_from="sender@example.org")
    message = lab.wait_teamware_message(subject)
    assert message["recipients"] == [scenario.envelope("anna")]
    assert message["teamware_addresses"] == [scenario.teamware_address("anna")]
    assert message["sender"] == "sender@example.org"
    assert message["via"] == scenario.transport
    if scenario.transport == "torecvm":
        # preline puts Return-Path on the message (teamware_preserve_return_path, the collection's default)
        assert message["return_path"] == "<sender@example.org>"
    assert not lab.maildir_has("john", subject)
    lab.wait_queue_empty()


def test_mail_for_a_local_user_lands_in_the_maildir(scenario, lab):
    subject = lab.send("john@company.com")
    lab.wait_maildir("john", subject)
    lab.wait_queue_empty()
    assert not lab.teamware_has(subject)


def test_root_is_aliased_to_the_local_sysadm(scenario, lab):
    subject = lab.send("root@company.com")
    lab.wait_maildir("sysadm", subject)


@pytest.mark.parametrize("alias", ["postmaster", "webmaster"])
def test_aliases_go_to_the_teamware_admin(scenario, lab, alias):
    subject = lab.send("%s@company.com" % alias)
    message = lab.wait_teamware_message(subject)
    assert message["recipients"] == [scenario.envelope("admin")]
    assert message["teamware_addresses"] == [scenario.teamware_address("admin")]


def test_an_unknown_local_address_bounces_to_the_sender(scenario, lab):
    """No Teamware route catches a mistyped local address: qmail bounces it (with the empty sender) to john."""
    subject = lab.send("unknown@company.com", mail_from="john@company.com")
    lab.wait_maildir("john", subject)
    assert not lab.teamware_has(subject)


def test_a_bounce_with_the_empty_sender_passes_through(scenario, lab):
    subject = lab.send(scenario.rcpt("bert"), mail_from="<>")
    message = lab.wait_teamware_message(subject)
    assert message["sender"] == ""
    assert message["recipients"] == [scenario.envelope("bert")]


def test_the_stranger_cannot_relay(scenario, lab):
    rc, codes, transcript = lab.swaks(scenario.stranger, "someone@example.net", scenario.address_of(scenario.qmail),
                                      quit_after="RCPT")
    assert codes.get("RCPT") == "553", transcript
    assert "allowed rcpthosts" in transcript


def test_the_stranger_may_send_to_teamware_and_local_users(scenario, lab):
    for to in (scenario.rcpt("anna"), "john@company.com"):
        rc, codes, transcript = lab.swaks(scenario.stranger, to, scenario.address_of(scenario.qmail), quit_after="RCPT")
        assert codes.get("RCPT") == "250", transcript


def test_the_client_may_relay(scenario, lab):
    rc, codes, transcript = lab.swaks(scenario.client, "someone@example.net", scenario.address_of(scenario.qmail),
                                      quit_after="RCPT")
    assert codes.get("RCPT") == "250", transcript


def test_exactly_the_chosen_front_end_serves_smtp(scenario, lab):
    inetd_conf = lab.read_file(scenario.qmail, "/etc/inetd.conf") or ""
    smtp_lines = [line for line in inetd_conf.splitlines() if line.split()[:1] in (["smtp"], ["25"])]
    tcpserver = lab.run(scenario.qmail, "svok /service/qmail-smtpd").rc == 0
    if scenario.front_end == "inetd":
        assert len(smtp_lines) == 1 and "/usr/sbin/tcpd" in smtp_lines[0], inetd_conf
        assert not tcpserver
        assert "tcp-env: %s.30: setenv = RELAYCLIENT" % scenario.vars["lab_net"] in (lab.read_file(scenario.qmail, "/etc/hosts.allow") or "")
    else:
        assert smtp_lines == [], inetd_conf
        assert tcpserver


def test_mail_waits_while_teamware_office_is_down(scenario, lab):
    """Teamware Office stopped: qmail defers (nothing lost); back up and ALRM to qmail-send: delivered."""
    lab.wait_queue_empty()
    deferrals = lab.deferrals()
    lab.stop_teamware()
    try:
        subject = lab.send(scenario.rcpt("carl"), mail_from="patient@example.org")
        wait_until(lambda: lab.deferrals() > deferrals, 60, "qmail-send to log a deferral")
        assert lab.queue()[0] >= 1, "the message must wait in qmail's queue"
        assert not lab.teamware_has(subject)
    finally:
        lab.start_teamware()
    lab.check(scenario.qmail, "svc -a /service/qmail-send")
    message = lab.wait_teamware_message(subject, timeout=60)
    assert message["recipients"] == [scenario.envelope("carl")]
    assert message["sender"] == "patient@example.org"
    lab.wait_queue_empty()
    sent_to = [m for m in lab.teamware_messages() if m.get("subject") == subject]
    assert len(sent_to) == 1, "delivered exactly once"


# --- addresses of every shape, as real qmail treats them (issue: route predictions real qmail contradicted) -----

def test_a_quoted_local_part_reaches_teamware_office(scenario, lab):
    """qmail-smtpd strips the quotes before it queues: "tw.anna"@company.com is tw.anna@company.com."""
    local, domain = scenario.rcpt("anna").rsplit("@", 1)
    subject = lab.send('"%s"@%s' % (local, domain))
    message = lab.wait_teamware_message(subject)
    assert message["recipients"] == [scenario.envelope("anna")]
    lab.wait_queue_empty()


def test_the_prefix_alone_bounces_with_a_clear_text(scenario, lab):
    """User-based routing: tw.@company.com names no Teamware user; the guard line bounces it before Teamware."""
    if scenario.routing_kind != "user":
        pytest.skip("domain-based routing has no prefix")
    prefix = scenario.vars["teamware_user_prefix"]
    subject = lab.send("%s@company.com" % prefix, mail_from="john@company.com")
    lab.wait_maildir("john", subject)
    assert not lab.teamware_has(subject)
    assert "Sorry, no mailbox here by that name" in lab.check(
        scenario.qmail, "grep -l -F %s /home/john/Maildir/new/* | xargs cat", "Subject: " + subject)


def test_a_teamware_user_at_the_second_local_domain(scenario, lab):
    """users/assign catches tw.anna@ at every local domain: the connector takes mail.company.com as an alias of
    company.com. The alias methods' guard takes only the Teamware base address: there it bounces, clearly."""
    if scenario.routing_kind != "user":
        pytest.skip("domain-based routing: the Teamware domain is not qmail's")
    local = scenario.rcpt("anna").rsplit("@", 1)[0]
    subject = lab.send("%s@mail.company.com" % local, mail_from="john@company.com")
    if "mail.company.com" in scenario.method_object.hook.other_local_aliases(scenario.settings()):
        message = lab.wait_teamware_message(subject)
        # handed on as it came, or rewritten to teamware_rewrite_domain ("$DEFAULT"@tw.company.com) where the lab sets it
        rewritten = scenario.vars.get("teamware_rewrite_domain")
        assert message["recipients"] == [scenario.envelope("anna") if rewritten else "%s@mail.company.com" % local]
        assert message["teamware_addresses"] == [scenario.teamware_address("anna")]
    else:
        lab.wait_maildir("john", subject)
        assert not lab.teamware_has(subject)


def test_mail_to_a_missing_maildir_waits_in_the_queue_as_predicted(scenario, lab):
    """A local user without a Maildir (as qmail's INSTALL leaves ~alias): the route check predicts the deferral and
    warns; real qmail defers it (qmail-local: Unable to chdir to maildir) and keeps it queued; once the Maildir is
    made and qmail-send retries (ALRM), the message is delivered and the queue is empty again."""
    user = "nomaildir"
    lab.wait_queue_empty()
    lab.check(scenario.qmail, "id -u %s >/dev/null 2>&1 || useradd --create-home --shell /bin/sh %s", user, user)
    try:
        lab.check(scenario.qmail, "test ! -e /home/%s/Maildir", user)
        route, = lab.route_info(["%s@company.com" % user])["routes"]
        assert [d["type"] for d in route["destinations"]] == ["defer"], route
        assert route["destinations"][0]["reason"] == "Unable to chdir to maildir. (#4.2.1)"
        assert any("the Maildir /home/%s/Maildir/ of user %s is missing" % (user, user) in w for w in route["warnings"]), route

        subject = lab.send("%s@company.com" % user)
        wait_until(lambda: "Unable_to_chdir_to_maildir" in lab.send_log().replace(" ", "_"), 60,
                   "qmail-send to log qmail-local's deferral")
        assert lab.queue()[0] >= 1, "the message must wait in qmail's queue"

        lab.check(scenario.qmail, "%s/bin/maildirmake /home/%s/Maildir && chown -R %s: /home/%s/Maildir",
                  "/var/qmail", user, user, user)
        lab.check(scenario.qmail, "svc -a /service/qmail-send")
        lab.wait_maildir(user, subject, timeout=60)
        lab.wait_queue_empty()
    finally:
        lab.run(scenario.qmail, "test -d /home/%s/Maildir || { /var/qmail/bin/maildirmake /home/%s/Maildir && "
                                "chown -R %s: /home/%s/Maildir; }; svc -a /service/qmail-send", user, user, user, user)
