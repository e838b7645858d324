# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Teamware Office MIME connector settings: case tables for every rule, on the document's example.

company.com is qmail's domain, tw.company.com Teamware Office's, the Teamware
server tw.server.company.com listens on port 2025.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import connector
from ansible_collections.teamware.qmail.plugins.module_utils.validators import ValidationError

from .document_example import example

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))

DOMAIN = dict(teamware_domains=["tw.company.com"])
USER = dict(teamware_domains=["company.com"], teamware_user_prefix="tw.")
METHODS = {
    "none": dict(DOMAIN),
    "torecvm_alias": dict(DOMAIN, teamware_routing="domain"),
    "torecvm_virtualdomains": dict(DOMAIN),
    "torecvm_users": dict(USER),
    "smtp_smtproutes": dict(DOMAIN),
    "smtp_alias": dict(USER, teamware_routing="user"),
    "smtp_users": dict(USER),
    "smtp_forward": dict(USER, teamware_rewrite_domain="tw.company.com"),
}


def inventory(method, **extra):
    return example(method, **dict(METHODS[method], **extra))


def settings(method, options=None, **extra):
    return connector.compute(inventory(method, **extra), options)


def problems(method, options=None, **extra):
    return connector.find_problems(inventory(method, **extra), options)


# --- every method on the document's example ----------------------------------------------

@pytest.mark.parametrize("method, inbound, sendmail, own_node, allow", [
    ("none", None, 0, ["tw.company.com"], ["tw.company.com"]),
    ("torecvm_alias", "torecvm", 1, ["tw.company.com"], ["tw.company.com"]),
    ("torecvm_virtualdomains", "torecvm", 1, ["tw.company.com"], ["tw.company.com"]),
    ("torecvm_users", "torecvm", 1, ["company.com"], ["company.com"]),
    ("smtp_smtproutes", "smtp", 0, ["tw.company.com"], ["tw.company.com"]),
    ("smtp_alias", "smtp", 0, ["company.com"], ["company.com"]),
    ("smtp_users", "smtp", 0, ["company.com"], ["company.com"]),
    ("smtp_forward", "smtp", 0, ["company.com", "A:tw.company.com"], ["company.com", "tw.company.com"]),
])
def test_methods(method, inbound, sendmail, own_node, allow):
    result = settings(method)
    assert result["inbound"] == inbound
    assert result["to_ini"] == {"deliver_relayed_dsn": 0, "no_relay": 1, "mode": "strict", "allow": allow,
                                "smtp_port": 2025, "sendmail": sendmail}
    assert result["tombsmtp_ini"] == {"own_node": own_node}


def test_rewrite_domain_is_the_base_address():
    result = settings("torecvm_users", teamware_rewrite_domain="tw.company.com")
    assert result["tombsmtp_ini"]["own_node"] == ["tw.company.com"]
    assert result["to_ini"]["allow"] == ["tw.company.com"]


def test_edits_one_per_key_in_order():
    result = settings("smtp_forward", teamware_outgoing_relay="isp", options=None)
    assert result["edits"] == [
        {"file": "to.ini", "section": "MIME", "option": "deliver_relayed_dsn", "value_list": ["0"]},
        {"file": "to.ini", "section": "MIME", "option": "no_relay", "value_list": ["1"]},
        {"file": "to.ini", "section": "MIME", "option": "mode", "value_list": ["strict"]},
        {"file": "to.ini", "section": "MIME", "option": "allow", "value_list": ["company.com", "tw.company.com"]},
        {"file": "to.ini", "section": "MIME", "option": "smtp_port", "value_list": ["2025"]},
        {"file": "to.ini", "section": "MIME", "option": "sendmail", "value_list": ["0"]},
        {"file": "tombsmtp.ini", "section": None, "option": "own_node", "value_list": ["company.com", "A:tw.company.com"]},
    ]


def test_smtp_port_comes_from_teamware_smtp_port():
    assert settings("smtp_smtproutes", teamware_smtp_port=25)["to_ini"]["smtp_port"] == 25
    assert settings("torecvm_virtualdomains", teamware_smtp_port="2526")["to_ini"]["smtp_port"] == 2526


# --- mode and allow -----------------------------------------------------------------------

@pytest.mark.parametrize("options, mode, allow", [
    ({}, "strict", ["tw.company.com"]),
    ({"mime_connector_server_count": 1}, "strict", ["tw.company.com"]),
    ({"mime_connector_server_count": 2}, "list", ["tw.company.com"]),
    ({"mime_connector_server_count": "3"}, "list", ["tw.company.com"]),
    ({"mime_connector_mode": "any"}, "any", ["tw.company.com"]),
    ({"mime_connector_mode": "list"}, "list", ["tw.company.com"]),
    ({"mime_connector_mode": "strict", "mime_connector_server_count": 2}, "strict", ["tw.company.com"]),
    ({"mime_connector_mode": ""}, "strict", ["tw.company.com"]),
    ({"mime_connector_mode": None, "mime_connector_allow": None}, "strict", ["tw.company.com"]),
    ({"mime_connector_server_count": 2, "mime_connector_allow": ["TW.company.com", "branch.company.com"]},
     "list", ["tw.company.com", "branch.company.com"]),
    ({"mime_connector_allow": []}, "strict", []),
])
def test_mode_and_allow(options, mode, allow):
    result = settings("smtp_smtproutes", options)
    assert result["to_ini"]["mode"] == mode
    assert result["to_ini"]["allow"] == allow


def test_several_servers_note_on_strict():
    result = settings("smtp_smtproutes", {"mime_connector_mode": "strict", "mime_connector_server_count": 2})
    assert any("strict on one of 2" in note for note in result["notes"])


@pytest.mark.parametrize("options, variable, words", [
    ({"mime_connector_mode": "open"}, "mime_connector_mode", "not one of: any, list, strict"),
    ({"mime_connector_mode": "Strict"}, "mime_connector_mode", "not one of"),
    ({"mime_connector_mode": "list", "mime_connector_allow": ["branch.company.com"]}, "mime_connector_allow",
     "must accept tw.company.com"),
    ({"mime_connector_server_count": 2, "mime_connector_allow": []}, "mime_connector_allow", "is empty"),
    ({"mime_connector_mode": "strict", "mime_connector_own_nodes": ["other.company.com"]}, "mime_connector_mode",
     "qmail delivers tw.company.com"),
    ({"mime_connector_allow": "tw.company.com"}, "mime_connector_allow", "must be a list"),
    ({"mime_connector_allow": ["tw.company.com", "TW.COMPANY.COM"]}, "mime_connector_allow", "listed twice"),
    ({"mime_connector_allow": ["*.company.com"]}, "mime_connector_allow", "not a valid domain"),
    ({"mime_connector_allow": ["tw.company.com\nmode = any"]}, "mime_connector_allow", "LF"),
    ({"mime_connector_server_count": 0}, "mime_connector_server_count", "at least 1"),
    ({"mime_connector_server_count": "two"}, "mime_connector_server_count", "number of servers"),
    ({"mime_connector_server_count": True}, "mime_connector_server_count", "number of servers"),
])
def test_mode_and_allow_refused(options, variable, words):
    found = problems("smtp_smtproutes", options)
    assert any(p.startswith(variable + ":") and words in p for p in found), found


def test_open_relay_is_a_warning():
    result = settings("smtp_smtproutes", {"mime_connector_mode": "any", "mime_connector_no_relay": 0})
    assert result["to_ini"]["no_relay"] == 0
    assert "open relay" in result["warnings"][0]
    assert settings("smtp_smtproutes", {"mime_connector_mode": "any"})["warnings"] == []


# --- no_relay and deliver_relayed_dsn -----------------------------------------------------

@pytest.mark.parametrize("value, expected", [(1, 1), (0, 0), ("1", 1), ("0", 0), (True, 1), (False, 0)])
def test_no_relay(value, expected):
    assert settings("smtp_smtproutes", {"mime_connector_no_relay": value})["to_ini"]["no_relay"] == expected


@pytest.mark.parametrize("value", [2, -1, "yes", 1.5])
def test_no_relay_refused(value):
    found = problems("smtp_smtproutes", {"mime_connector_no_relay": value})
    assert [p for p in found if p.startswith("mime_connector_no_relay:")], found


@pytest.mark.parametrize("relay, options, dsn", [
    ("isp", {}, 0),
    ("isp", {"mime_connector_isp_relay": "mail.isp.example"}, 0),
    ("qmail", {}, 2),
    ("qmail", {"mime_connector_deliver_relayed_dsn": 0}, 0),
    ("qmail", {"mime_connector_deliver_relayed_dsn": "1"}, 1),
    ("isp", {"mime_connector_deliver_relayed_dsn": 2}, 2),
])
def test_deliver_relayed_dsn(relay, options, dsn):
    result = settings("smtp_smtproutes", options, teamware_outgoing_relay=relay, teamware_server_address="127.0.0.1")
    assert result["to_ini"]["deliver_relayed_dsn"] == dsn


@pytest.mark.parametrize("value", [3, -1, True, "two", "2.0"])
def test_deliver_relayed_dsn_refused(value):
    found = problems("smtp_smtproutes", {"mime_connector_deliver_relayed_dsn": value})
    assert [p for p in found if p.startswith("mime_connector_deliver_relayed_dsn:")], found


# --- the outgoing SMTP server -------------------------------------------------------------

@pytest.mark.parametrize("method, extra, options, host", [
    ("smtp_smtproutes", {}, {}, None),
    ("smtp_smtproutes", {"teamware_outgoing_relay": "isp"}, {"mime_connector_isp_relay": "mail.isp.example"}, "mail.isp.example"),
    ("smtp_smtproutes", {"teamware_outgoing_relay": "isp"}, {"mime_connector_isp_relay": "192.0.2.25"}, "192.0.2.25"),
    ("smtp_smtproutes", {"teamware_outgoing_relay": "qmail", "teamware_server_address": "127.0.0.1"}, {}, "127.0.0.1"),
    ("torecvm_virtualdomains", {"teamware_outgoing_relay": "qmail"}, {}, "127.0.0.1"),
    ("smtp_smtproutes", {"teamware_outgoing_relay": "qmail", "qmail_me": "mail.company.com"}, {}, "mail.company.com"),
    ("smtp_smtproutes", {"teamware_outgoing_relay": "qmail"}, {"mime_connector_qmail_relay": "192.0.2.1"}, "192.0.2.1"),
    ("smtp_smtproutes", {"teamware_outgoing_relay": "qmail", "qmail_me": "mail.company.com"},
     {"mime_connector_isp_relay": "mail.isp.example"}, "mail.company.com"),
])
def test_smtp_host(method, extra, options, host):
    result = settings(method, options, **extra)
    assert result["outgoing_relay"]["host"] == host
    if host is None:
        assert "smtp_host" not in result["to_ini"]
        assert not [edit for edit in result["edits"] if edit["option"] == "smtp_host"]
        assert any("left as it is" in note for note in result["notes"])
    else:
        assert result["to_ini"]["smtp_host"] == host
        assert result["edits"][-2] == {"file": "to.ini", "section": "MIME", "option": "smtp_host", "value_list": [host]}


@pytest.mark.parametrize("extra, options, variable", [
    ({"teamware_outgoing_relay": "smarthost"}, {}, "teamware_outgoing_relay"),
    ({"teamware_outgoing_relay": "qmail"}, {}, "mime_connector_qmail_relay"),
    ({"teamware_outgoing_relay": "isp"}, {"mime_connector_isp_relay": "[192.0.2.25]"}, "mime_connector_isp_relay"),
    ({"teamware_outgoing_relay": "isp"}, {"mime_connector_isp_relay": "mail.isp.example:587"}, "mime_connector_isp_relay"),
    ({"teamware_outgoing_relay": "isp"}, {"mime_connector_isp_relay": "192.0.2.300"}, "mime_connector_isp_relay"),
    ({"teamware_outgoing_relay": "qmail"}, {"mime_connector_qmail_relay": ["mail.company.com"]}, "mime_connector_qmail_relay"),
])
def test_smtp_host_refused(extra, options, variable):
    found = problems("smtp_smtproutes", options, **extra)
    assert [p for p in found if p.startswith(variable + ":")], found


def test_qmail_relay_note_mentions_relayclient():
    result = settings("smtp_smtproutes", teamware_outgoing_relay="qmail", teamware_server_address="127.0.0.1")
    assert any("RELAYCLIENT" in note for note in result["notes"])


# --- own_node -----------------------------------------------------------------------------

@pytest.mark.parametrize("method, extra, options, own_node", [
    ("smtp_smtproutes", {"teamware_domains": ["tw.company.com", "tw2.company.com"]}, {}, ["tw.company.com", "tw2.company.com"]),
    ("smtp_forward", {}, {}, ["company.com", "A:tw.company.com"]),
    ("smtp_forward", {"teamware_domains": ["company.com", "company.org"], "qmail_local_domains": ["company.com", "company.org"]},
     {}, ["company.com", "A:tw.company.com", "company.org"]),
    ("smtp_smtproutes", {}, {"mime_connector_own_node_aliases": ["alias.company.com"]}, ["tw.company.com", "A:alias.company.com"]),
    ("smtp_smtproutes", {}, {"mime_connector_own_nodes": ["tw.company.com", "branch.company.com"]},
     ["tw.company.com", "branch.company.com"]),
    ("smtp_forward", {}, {"mime_connector_own_node_aliases": [], "mime_connector_mode": "list"}, ["company.com"]),
    # users/assign catches tw.john@ at every local domain: the connector takes qmail's other local domains as aliases
    ("smtp_users", {"qmail_local_domains": ["company.com", "mail.company.com"]}, {},
     ["company.com", "A:mail.company.com"]),
    ("torecvm_users", {"qmail_local_domains": ["company.com", "mail.company.com"]}, {},
     ["company.com", "A:mail.company.com"]),
    ("smtp_users", {"qmail_local_domains": ["company.com"]}, {}, ["company.com"]),
])
def test_own_node(method, extra, options, own_node):
    assert settings(method, options, **extra)["tombsmtp_ini"]["own_node"] == own_node


@pytest.mark.parametrize("method, extra, options, variable", [
    ("none", {"teamware_domains": []}, {}, "teamware_domains"),
    ("smtp_smtproutes", {}, {"mime_connector_own_nodes": []}, "teamware_domains"),
    ("smtp_smtproutes", {}, {"mime_connector_own_node_aliases": ["tw.company.com"]}, "mime_connector_own_node_aliases"),
    ("smtp_smtproutes", {}, {"mime_connector_own_nodes": ["A:tw.company.com"]}, "mime_connector_own_nodes"),
    ("smtp_smtproutes", {}, {"mime_connector_own_node_aliases": "tw.company.com"}, "mime_connector_own_node_aliases"),
    ("smtp_smtproutes", {}, {"mime_connector_own_nodes": ["a.company.com", "A.company.com"]}, "mime_connector_own_nodes"),
    ("smtp_forward", {}, {"mime_connector_own_node_aliases": []}, "mime_connector_mode"),
])
def test_own_node_refused(method, extra, options, variable):
    found = problems(method, options, **extra)
    assert [p for p in found if p.startswith(variable + ":")], found


# --- root, inventory, options -------------------------------------------------------------

def test_root_defaults_to_teamware_root():
    assert settings("torecvm_virtualdomains", teamware_root="/opt/to")["root"] == "/opt/to"
    assert settings("torecvm_virtualdomains", {"mime_connector_root": "/opt/to/"}, teamware_root="/opt/to")["root"] == "/opt/to"


@pytest.mark.parametrize("method, options, extra, variable", [
    ("torecvm_virtualdomains", {"mime_connector_root": "/opt/to"}, {}, "mime_connector_root"),
    ("smtp_smtproutes", {"mime_connector_root": "relative/to"}, {}, "mime_connector_root"),
    ("smtp_smtproutes", {"mime_connector_root": "/to dir"}, {}, "mime_connector_root"),
    ("smtp_smtproutes", {"mime_connector_colour": "blue"}, {}, "mime_connector_colour"),
    ("smtp_smtproutes", {"mime_connector_inventory": ["x"]}, {}, "mime_connector_inventory"),
    ("smtp_smtproutes", {"mime_connector_inventory": {"teamware_domain": ["x.com"]}}, {}, "mime_connector_inventory"),
    ("smtp_smtproutes", {}, {"teamware_smtp_port": 0}, "teamware_smtp_port"),
    ("smtp_smtproutes", {}, {"teamware_domains": ["company.com"]}, "teamware_domains"),
    ("smtp_smtproutes", {}, {"qmail_local_domains": []}, "qmail_local_domains"),
    ("smtp_smtproutes", {}, {"teamware_integration_method": "smtp_magic"}, "teamware_integration_method"),
])
def test_refused(method, options, extra, variable):
    found = problems(method, options, **extra)
    assert [p for p in found if p.startswith(variable + ":")], found
    with pytest.raises(ValidationError) as info:
        settings(method, options, **extra)
    assert variable in str(info.value)


def test_every_problem_is_reported_at_once():
    found = problems("smtp_smtproutes", {"mime_connector_mode": "open", "mime_connector_no_relay": 5,
                                         "mime_connector_deliver_relayed_dsn": 9}, teamware_smtp_port=70000)
    expected = ["mime_connector_deliver_relayed_dsn", "mime_connector_mode", "mime_connector_no_relay", "teamware_smtp_port"]
    assert sorted(p.split(":")[0] for p in found) == expected


def test_inventory_override_wins():
    options = {"mime_connector_inventory": {"teamware_smtp_port": 2526, "teamware_outgoing_relay": "qmail"}}
    result = settings("smtp_smtproutes", options, teamware_server_address="127.0.0.1")
    assert result["to_ini"]["smtp_port"] == 2526
    assert result["to_ini"]["deliver_relayed_dsn"] == 2


def test_pick_inventory_ignores_everything_else():
    variables = dict(inventory("smtp_smtproutes"), ansible_host="192.0.2.1", qmail_relay_clients=["10."],
                     teamware_outgoing_relay=None, groups={"all": []})
    picked = connector.pick_inventory(variables)
    assert "ansible_host" not in picked and "qmail_relay_clients" not in picked and "teamware_outgoing_relay" not in picked
    assert connector.compute(variables)["to_ini"]["mode"] == "strict"


# --- the simulator reads the settings as meant --------------------------------------------

def render(result):
    """to.ini and tombsmtp.ini as the role writes them into empty files."""
    to_ini = ["[MIME]"]
    tombsmtp = []
    for edit in result["edits"]:
        lines = ["%s = %s" % (edit["option"], value) for value in edit["value_list"]]
        (to_ini if edit["file"] == "to.ini" else tombsmtp).extend(lines)
    return "\n".join(to_ini) + "\n", "\n".join(tombsmtp) + "\n"


@pytest.mark.parametrize("method", sorted(set(METHODS) - {"none"}))
@pytest.mark.parametrize("options", [{}, {"mime_connector_server_count": 2}], ids=["strict", "list"])
def test_simulator_accepts_what_qmail_delivers(method, options):
    simulator = os.path.join(REPO, "simulator")
    if not os.path.isdir(simulator):
        pytest.skip("no simulator")
    if simulator not in sys.path:
        sys.path.insert(0, simulator)
    from teamware_office_simulator import config as sim  # pylint: disable=import-error

    result = settings(method, options)
    to_ini, tombsmtp = render(result)
    cfg = sim.config_from_ini(sim.parse_ini(to_ini), sim.parse_ini(tombsmtp))
    assert cfg.sendmail is (result["inbound"] == "torecvm")
    assert cfg.smtp_port == 2025 and cfg.no_relay and cfg.mode == result["to_ini"]["mode"]
    for domain in result["routed_domains"]:
        assert sim.check_recipient(cfg, "john@%s" % domain).accepted, (domain, cfg)
    assert not sim.check_recipient(cfg, "john@other.example.com").accepted
