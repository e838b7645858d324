# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scenario without qmail: the relay front ends (tcpserver on 25, inetd + tcpd on 2525) with a probe in
place of qmail-smtpd, and the Teamware Office side (the MIME connector simulator) on its own host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

import pytest

from lab import token


def applies(scenario):
    return scenario.probe


FRONT_ENDS = [pytest.param(25, id="tcpserver"), pytest.param(2525, id="inetd+tcpd")]


def probe_greeting(transcript):
    match = re.search(r"220 lab-smtpd-probe ESMTP relayclient=(\w+) remote=(\S+)", transcript)
    assert match, transcript
    return match.group(1), match.group(2)


@pytest.mark.parametrize("port", FRONT_ENDS)
def test_the_client_may_relay(scenario, lab, port):
    rc, codes, transcript = lab.swaks(scenario.client, "someone@example.net", scenario.address_of(scenario.qmail),
                                      port=port, quit_after="RCPT")
    assert probe_greeting(transcript) == ("yes", scenario.address_of(scenario.client))
    assert codes.get("RCPT") == "250", transcript


@pytest.mark.parametrize("port", FRONT_ENDS)
def test_the_stranger_may_not_relay(scenario, lab, port):
    rc, codes, transcript = lab.swaks(scenario.stranger, "someone@example.net", scenario.address_of(scenario.qmail),
                                      port=port, quit_after="RCPT")
    assert probe_greeting(transcript) == ("no", scenario.address_of(scenario.stranger))
    assert codes.get("RCPT") == "553", transcript


@pytest.mark.parametrize("port", FRONT_ENDS)
def test_the_stranger_may_send_to_the_rcpthosts(scenario, lab, port):
    rc, codes, transcript = lab.swaks(scenario.stranger, scenario.rcpt("anna"), scenario.address_of(scenario.qmail),
                                      port=port, quit_after="RCPT")
    assert codes.get("RCPT") == "250", transcript


def test_the_connector_settings(scenario, lab):
    to_ini = lab.read_file(scenario.teamware, "/to/to.ini")
    for line in ("mode = strict", "no_relay = 1", "allow = tw.company.com", "sendmail = 0", "smtp_port = 25"):
        assert line in to_ini.splitlines(), to_ini
    assert "own_node = tw.company.com" in lab.read_file(scenario.teamware, "/to/tombsmtp.ini").splitlines()


def test_teamware_office_takes_its_own_domain_only(scenario, lab):
    teamware = scenario.address_of(scenario.teamware)
    subject = token()
    rc, codes, transcript = lab.swaks(scenario.client, scenario.rcpt("anna"), teamware, subject=subject)
    assert codes.get("DATA_END") == "250", transcript
    message = lab.wait_teamware_message(subject, timeout=10)
    assert message["teamware_addresses"] == [scenario.teamware_address("anna")]
    rc, codes, transcript = lab.swaks(scenario.client, "someone@example.net", teamware, quit_after="RCPT")
    assert codes.get("RCPT") == "550", transcript


def test_the_connector_stops_and_starts(scenario, lab):
    teamware = scenario.address_of(scenario.teamware)
    lab.stop_teamware()
    try:
        rc, codes, transcript = lab.swaks(scenario.client, scenario.rcpt("anna"), teamware, quit_after="CONNECT")
        assert rc != 0 and "BANNER" not in codes, transcript
    finally:
        lab.start_teamware()
    rc, codes, transcript = lab.swaks(scenario.client, scenario.rcpt("anna"), teamware, quit_after="RCPT")
    assert codes.get("RCPT") == "250", transcript
