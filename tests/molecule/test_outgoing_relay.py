# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Teamware Office on its own host sending its outgoing mail through qmail (teamware_outgoing_relay: qmail)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def applies(scenario):
    return not scenario.probe and not scenario.rollout and scenario.vars.get("teamware_outgoing_relay") == "qmail" and not scenario.same_host


def test_teamware_office_may_relay_through_qmail(scenario, lab):
    """With teamware_outgoing_relay: qmail, the Teamware Office server is a relay client of qmail (section 4)."""
    rc, codes, transcript = lab.swaks(scenario.teamware, "someone@example.net", scenario.address_of(scenario.qmail),
                                      quit_after="RCPT")
    assert codes.get("RCPT") == "250", transcript
    to_ini = lab.read_file(scenario.teamware, "/to/to.ini").splitlines()
    assert "deliver_relayed_dsn = 2" in to_ini, to_ini
