# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The teamware.qmail.site_settings filter (site.yml's first play): the defaults, each wrong variable, all at once."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.teamware.qmail.plugins.filter import site_settings as plugin

TEAMWARE_SERVER = {"inventory_hostname": "tw1", "ansible_host": "192.0.2.20"}


def test_the_defaults():
    assert plugin.site_settings({}) == {
        "front_end": "tcpserver", "relay_clients": ["127."], "expected_routes": {},
        "front_end_role": "teamware.qmail.ucspi_tcp", "other_front_end_role": "teamware.qmail.inetd",
        "front_ends": {"tcpserver": "present", "inetd": "absent"},
        "route_check": True, "route_check_every_run": False, "route_check_smtp": True,
        # the deploy check's settings (route_check_settings, tests/unit/plugins/module_utils/test_route_check_settings.py)
        "qmail_dir": "/var/qmail",
        "route_check_options": {"addresses": ["root", "postmaster"], "teamware_domains": [], "teamware_servers": [],
                                "expected": {}},
        "route_check_smtp_banner": {"host": "0", "port": "smtp"},
        "route_check_context": {"front_end": "tcpserver", "relay_clients": ["127."], "smtp": True,
                                "smtp_banner": {"host": "0", "port": "smtp"}},
        # each front end as the other role's relay_rules looks at it, with the roles' defaults (their argument specs)
        "front_end_values": {
            "tcpserver": {"kind": "tcpserver", "state": "present", "supervise_dir": "/var/qmail/supervise",
                          "service_dir": "/service", "service_name": "qmail-smtpd", "port": "smtp", "bind_address": "0"},
            "inetd": {"kind": "inetd", "state": "absent", "inetd_conf": "/etc/inetd.conf", "hosts_allow": "/etc/hosts.allow",
                      "hosts_allow_marker": "# {mark} teamware.qmail inetd role: SMTP relay clients (tcpd rereads this "
                                            "file at every connection)",
                      "port": "smtp", "qmail_dir": "/var/qmail", "tcpd": "/usr/sbin/tcpd", "user": "qmaild",
                      "bind_address": ""}}}


def test_the_front_ends_values_follow_qmail_dir_and_the_inventory():
    settings = plugin.site_settings({"qmail_smtp_front_end": "inetd", "qmail_dir": "/opt/qmail", "ucspi_tcp_port": 2525,
                                     "inetd_user": "nobody"})
    values = settings["front_end_values"]
    assert (values["tcpserver"]["state"], values["tcpserver"]["supervise_dir"], values["tcpserver"]["port"]) == (
        "absent", "/opt/qmail/supervise", "2525")
    assert (values["inetd"]["state"], values["inetd"]["qmail_dir"], values["inetd"]["user"]) == (
        "present", "/opt/qmail", "nobody")


def test_a_role_alone_gets_the_other_s_values_with_that_role_s_defaults():
    # the roles' *_other_front_end default: the other role's variables where the play has them (null otherwise)
    assert plugin.front_end_values({"inetd_state": None, "inetd_conf": "/x"}, "inetd") is None
    inetd = plugin.front_end_values({"inetd_state": "absent", "inetd_conf": None, "inetd_qmail_dir": "/opt/qmail",
                                     "inetd_port": 25}, "inetd")
    assert inetd == dict(plugin.site_settings({})["front_end_values"]["inetd"], qmail_dir="/opt/qmail", port="25")
    tcpserver = plugin.front_end_values({"ucspi_tcp_state": "present", "ucspi_tcp_qmail_dir": None,
                                         "ucspi_tcp_service_dir": "/etc/service"}, "tcpserver")
    assert tcpserver == dict(plugin.site_settings({})["front_end_values"]["tcpserver"], service_dir="/etc/service")
    with pytest.raises(AnsibleFilterError, match="kind must be one of inetd, tcpserver, not 'xinetd'"):
        plugin.front_end_values({}, "xinetd")


def test_inetd_chosen_makes_tcpserver_the_one_to_disable():
    settings = plugin.site_settings({"qmail_smtp_front_end": "inetd"})
    assert settings["front_end_role"] == "teamware.qmail.inetd"
    assert settings["other_front_end_role"] == "teamware.qmail.ucspi_tcp"
    assert settings["front_ends"] == {"inetd": "present", "tcpserver": "absent"}


def test_the_route_check_switches_take_what_ansible_takes_for_a_boolean():
    settings = plugin.site_settings({"teamware_route_check": "no", "teamware_route_check_every_run": "yes",
                                     "teamware_route_check_smtp": False})
    switches = (settings["route_check"], settings["route_check_every_run"], settings["route_check_smtp"])
    assert switches == (False, True, False)


def test_the_teamware_servers_relay_through_qmail_when_the_inventory_says_so():
    host = {"qmail_smtp_front_end": "inetd", "qmail_relay_clients": ["127.", "10.1."], "teamware_outgoing_relay": "qmail",
            "teamware_expected_routes": {"john@tw.company.com": "teamware"}}
    settings = plugin.site_settings(host, [TEAMWARE_SERVER])
    assert settings["front_end"] == "inetd"
    assert settings["relay_clients"] == ["127.", "10.1.", "192.0.2.20"]
    assert list(settings["expected_routes"]) == ["john@tw.company.com"]
    assert plugin.site_settings(dict(host, teamware_outgoing_relay="isp"), [TEAMWARE_SERVER])["relay_clients"] == ["127.", "10.1."]


@pytest.mark.parametrize("host, variable", [
    ({"qmail_smtp_front_end": "xinetd"}, "qmail_smtp_front_end: 'xinetd' is not one of tcpserver, inetd"),
    ({"qmail_relay_clients": ["10.0.0.0/8"]}, "qmail_relay_clients"),
    ({"qmail_relay_clients": []}, "qmail_relay_clients: empty"),
    ({"teamware_outgoing_relay": "smarthost"}, "teamware_outgoing_relay"),
    ({"teamware_expected_routes": {"john@tw.company.com": "nowhere"}}, "nowhere"),
    ({"teamware_route_check": "sometimes"}, "teamware_route_check: 'sometimes' is not a boolean"),
    ({"teamware_route_check_every_run": [True]}, "teamware_route_check_every_run: [True] is not a boolean"),
    ({"teamware_expected_routes": {"john @tw.company.com": "teamware"}}, "teamware_expected_routes: 'john @tw.company.com'"),
    ({"teamware_route_check_sample": ["tw.john@company.com", {"a": 1}]}, "teamware_route_check_sample[1]: {'a': 1} is not"),
    ({"teamware_route_check_sample": "tw.john@company.com"}, "teamware_route_check_sample must be a list of addresses"),
])
def test_each_wrong_variable_is_named(host, variable):
    with pytest.raises(AnsibleFilterError) as caught:
        plugin.site_settings(host)
    assert variable in caught.value.message and "nothing changed" in caught.value.message


def test_every_wrong_variable_at_once():
    host = {"qmail_smtp_front_end": "xinetd", "qmail_relay_clients": ["10.0.0.0/8"],
            "teamware_expected_routes": {"john@tw.company.com": "nowhere"}}
    with pytest.raises(AnsibleFilterError) as caught:
        plugin.site_settings(host)
    for variable in ("qmail_smtp_front_end", "qmail_relay_clients", "nowhere"):
        assert variable in caught.value.message


def test_a_teamware_server_without_an_address_is_named():
    host = {"teamware_outgoing_relay": "qmail"}
    with pytest.raises(AnsibleFilterError) as caught:
        plugin.site_settings(host, [{"inventory_hostname": "tw1"}])
    assert "teamware_host_address" in caught.value.message and "tw1" in caught.value.message


def test_the_documentation_names_the_filter():
    with open(os.path.join(os.path.dirname(plugin.__file__), "site_settings.yml")) as handle:
        documentation = yaml.safe_load(handle)
    assert documentation["DOCUMENTATION"]["name"] == "site_settings"
    assert set(plugin.FilterModule().filters()) == {"site_settings", "front_end_values"}
    with open(os.path.join(os.path.dirname(plugin.__file__), "front_end_values.yml")) as handle:
        assert yaml.safe_load(handle)["DOCUMENTATION"]["name"] == "front_end_values"


@pytest.mark.parametrize("host, variable", [
    ({"ucspi_tcp_extra_options": ["-R; rm -rf /"]}, "ucspi_tcp_extra_options[0]: option '-R; rm -rf /'"),
    ({"qmail_smtp_front_end": "inetd", "inetd_port": "sm tp"}, "inetd_port: port 'sm tp'"),
])
def test_the_front_end_values_are_checked_before_any_change(host, variable):
    with pytest.raises(AnsibleFilterError) as caught:
        plugin.site_settings(host)
    assert caught.value.message.startswith("Invalid inventory, nothing changed: ")
    assert variable in caught.value.message, caught.value.message


def test_the_front_end_values_of_a_teamware_host_alone_are_not_looked_at():
    assert plugin.site_settings({"ucspi_tcp_extra_options": ["; sh"]}, qmail_host=False) == {}
