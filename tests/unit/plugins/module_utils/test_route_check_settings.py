# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""route_check_settings: the deploy check's settings worked out from a host's variables (qmail_site, site_settings)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.teamware.qmail.plugins.filter import site_settings as plugin
from ansible_collections.teamware.qmail.plugins.module_utils import route_check_settings as core
from ansible_collections.teamware.qmail.plugins.module_utils import route_report, routing

ROLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "roles")


def spec(role):
    with open(os.path.join(ROLES, role, "meta", "argument_specs.yml")) as handle:
        return yaml.safe_load(handle)["argument_specs"]["main"]["options"]


def settings(host, front_end="tcpserver", relay_clients=("127.",), smtp=True, expected=None):
    return core.settings(host, plugin.role_defaults(core.SPEC_DEFAULTS), front_end, list(relay_clients), smtp,
                         expected or {})


# What main's playbooks/vars/route_check.yml (Jinja, ccf91db) gave for these hosts in playbooks/route_check.yml: the
# options and the context are the digest routing_table records for a check that passed (route_check_due), so that a
# host checked before this change does not see a check due after it.
BEFORE = [
    ({"qmail_local_domains": ["company.com"]},
     {"addresses": ["root@company.com", "postmaster@company.com"], "teamware_domains": [], "teamware_servers": [],
      "expected": {}},
     {"front_end": "tcpserver", "relay_clients": ["127."], "smtp": True, "smtp_banner": {"host": "0", "port": "smtp"}}),
    ({"qmail_local_domains": ["company.com", "other.com"], "teamware_domains": ["tw.company.com", "x.com"],
      "teamware_user_prefix": "tw.", "teamware_server_address": "127.0.0.1", "teamware_smtp_port": 2025,
      "qmail_smtp_front_end": "inetd", "inetd_bind_address": "127.0.0.1", "inetd_port": "2525",
      "inetd_hosts_allow": "/tmp/x/hosts.allow"},
     {"addresses": ["root@company.com", "postmaster@company.com", "tw.john@tw.company.com"],
      "hosts_allow": "/tmp/x/hosts.allow", "teamware_domains": ["tw.company.com", "x.com"], "teamware_user_prefix": "tw.",
      "teamware_servers": ["[127.0.0.1]:2025"], "expected": {}},
     {"front_end": "inetd", "relay_clients": ["127."], "smtp": True,
      "smtp_banner": {"host": "127.0.0.1", "port": "2525"}}),
    ({"qmail_local_domains": ["company.com"], "teamware_route_check_sample": ["a@company.com", "b"],
      "teamware_route_check_passwd_file": "/tmp/x/passwd", "ucspi_tcp_rules_file": "/tmp/x/tcp.smtp",
      "ucspi_tcp_rules_cdb": "/tmp/x/tcp.smtp.cdb", "qmail_default_delivery": "./Mailbox",
      "qmail_delivery_wrapper": "/usr/local/bin/w", "qmail_dir": "/tmp/x/qmail", "teamware_route_check_smtp": False},
     {"addresses": ["a@company.com", "b"], "passwd_file": "/tmp/x/passwd", "tcp_rules": "/tmp/x/tcp.smtp",
      "tcp_rules_cdb": "/tmp/x/tcp.smtp.cdb", "aliasempty": "./Mailbox", "qmail_delivery_wrapper": "/usr/local/bin/w",
      "teamware_domains": [], "teamware_servers": [], "expected": {}},
     {"front_end": "tcpserver", "relay_clients": ["127."], "smtp": False, "smtp_banner": {"host": "0", "port": "smtp"}}),
    ({"qmail_local_domains": ["company.com"], "teamware_domains": ["company.com"], "teamware_user_prefix": "tw.",
      "teamware_expected_routes": {"tw.john@company.com": "teamware_torecvm",
                                   "root@company.com": ["forward:admin@company.com"]}},
     {"addresses": ["tw.john@company.com", "root@company.com"], "teamware_domains": ["company.com"],
      "teamware_user_prefix": "tw.", "teamware_servers": [],
      "expected": {"tw.john@company.com": ["teamware_torecvm"], "root@company.com": ["forward:admin@company.com"]}},
     {"front_end": "tcpserver", "relay_clients": ["127."], "smtp": True, "smtp_banner": {"host": "0", "port": "smtp"}}),
    ({"teamware_domains": ["d.com"], "teamware_server_address": "10.0.0.2", "teamware_server": "tw",
      "teamware_smtp_port": "2026"},
     {"addresses": ["root", "postmaster", "john@d.com"], "teamware_domains": ["d.com"],
      "teamware_servers": ["[10.0.0.2]:2026", "tw:2026"], "expected": {}},
     {"front_end": "tcpserver", "relay_clients": ["127."], "smtp": True, "smtp_banner": {"host": "0", "port": "smtp"}}),
]


@pytest.mark.parametrize("host, options, context", BEFORE)
def test_the_settings_are_those_the_playbook_worked_out_before(host, options, context):
    site = plugin.site_settings(host)
    assert site["route_check_options"] == options
    assert list(site["route_check_options"]["addresses"]) == options["addresses"]
    assert site["route_check_context"] == context
    assert site["route_check_smtp_banner"] == context["smtp_banner"]
    assert site["qmail_dir"] == host.get("qmail_dir", "/var/qmail")


def test_the_options_are_qmail_route_infos():
    options = plugin.site_settings(BEFORE[2][0])["route_check_options"]
    assert set(options) <= set(route_report.REPORT_OPTIONS)


def test_the_defaults_are_the_roles_argument_specs():
    defaults = plugin.role_defaults(core.SPEC_DEFAULTS)
    for name, role in core.SPEC_DEFAULTS.items():
        assert defaults[name] == spec(role)[name]["default"], name
    result = settings({})
    assert result["qmail_dir"] == spec("qmail")["qmail_dir"]["default"]
    assert result["route_check_smtp_banner"] == {"host": spec("ucspi_tcp")["ucspi_tcp_bind_address"]["default"],
                                                 "port": spec("ucspi_tcp")["ucspi_tcp_port"]["default"]}
    inetd = settings({}, front_end="inetd")["route_check_smtp_banner"]
    assert inetd == {"host": spec("inetd")["inetd_bind_address"]["default"], "port": spec("inetd")["inetd_port"]["default"]}


def test_a_role_default_that_is_missing_is_named(tmp_path):
    for role in ("site", "qmail"):
        os.makedirs(str(tmp_path / "roles" / role / "meta"))
        with open(str(tmp_path / "roles" / role / "meta" / "argument_specs.yml"), "w") as handle:
            yaml.safe_dump({"argument_specs": {"main": {"options": {"qmail_dir": {"type": "path"}}}}}, handle)
    with pytest.raises(AnsibleFilterError) as caught:
        plugin.role_defaults({"qmail_dir": "qmail"}, str(tmp_path))
    assert "roles/qmail/meta/argument_specs.yml gives no default of qmail_dir" in caught.value.message


def test_without_variables_the_sample_is_root_and_postmaster_and_the_module_defaults_apply():
    result = settings({})
    options = {"addresses": ["root", "postmaster"], "teamware_domains": [], "teamware_servers": [], "expected": {}}
    assert result["route_check_options"] == options
    assert result["route_check_context"] == {"front_end": "tcpserver", "relay_clients": ["127."], "smtp": True,
                                             "smtp_banner": {"host": "0", "port": "smtp"}}


@pytest.mark.parametrize("host, sample", [
    ({"qmail_local_domains": ["company.com", "b.com"]}, ["root@company.com", "postmaster@company.com"]),
    ({"qmail_local_domains": []}, ["root", "postmaster"]),
    ({"qmail_local_domains": None}, ["root", "postmaster"]),
    ({"teamware_domains": ["tw.company.com", "x.com"]}, ["root", "postmaster", "john@tw.company.com"]),
    ({"teamware_domains": ["tw.company.com"], "teamware_user_prefix": "tw."},
     ["root", "postmaster", "tw.john@tw.company.com"]),
    ({"teamware_domains": [], "teamware_user_prefix": "tw."}, ["root", "postmaster"]),
    ({"qmail_local_domains": ["company.com"], "teamware_domains": ["company.com"], "teamware_user_prefix": None},
     ["root@company.com", "postmaster@company.com", "john@company.com"]),
])
def test_the_sample_addresses(host, sample):
    assert core.sample_addresses(host) == sample
    assert settings(host)["route_check_options"]["addresses"] == sample


def test_teamware_route_check_sample_replaces_the_sample_unless_empty():
    host = {"qmail_local_domains": ["company.com"], "teamware_route_check_sample": ["x@company.com"]}
    assert settings(host)["route_check_options"]["addresses"] == ["x@company.com"]
    host["teamware_route_check_sample"] = []
    assert settings(host)["route_check_options"]["addresses"] == ["root@company.com", "postmaster@company.com"]


def test_the_expected_routes_are_the_addresses_and_go_with_the_options():
    expected = {"b@company.com": ["mailbox"], "a@company.com": ["teamware"]}
    host = {"qmail_local_domains": ["company.com"], "teamware_route_check_sample": ["x@company.com"]}
    options = settings(host, expected=expected)["route_check_options"]
    assert options["addresses"] == ["b@company.com", "a@company.com"]
    assert options["expected"] is expected


@pytest.mark.parametrize("option, name", core.IF_SET)
def test_each_option_the_inventory_may_set(option, name):
    assert option in route_report.REPORT_OPTIONS
    assert settings({name: "/srv/x"})["route_check_options"][option] == "/srv/x"
    assert option not in settings({})["route_check_options"]
    # null is unset, as default(omit) passed it before
    assert option not in settings({name: None})["route_check_options"]


def test_the_user_prefix_only_when_not_empty():
    assert settings({"teamware_user_prefix": "tw."})["route_check_options"]["teamware_user_prefix"] == "tw."
    for value in ("", None):
        assert "teamware_user_prefix" not in settings({"teamware_user_prefix": value})["route_check_options"]


@pytest.mark.parametrize("host, servers", [
    ({}, []),
    ({"teamware_server_address": "127.0.0.1"}, ["[127.0.0.1]:25"]),
    ({"teamware_server": "tw.company.com", "teamware_smtp_port": 2025}, ["tw.company.com:2025"]),
    ({"teamware_server_address": "10.0.0.2", "teamware_server": "tw", "teamware_smtp_port": None},
     ["[10.0.0.2]:25", "tw:25"]),
    ({"teamware_server_address": "", "teamware_server": ""}, []),
])
def test_the_teamware_servers_as_smtproutes_names_them(host, servers):
    assert core.teamware_servers(host) == servers
    assert settings(host)["route_check_options"]["teamware_servers"] == servers


def test_the_smtp_port_default_is_the_routing_cores():
    # the qmail role hands routing_table teamware_smtp_port only when it is set: its default is routing.DEFAULTS'
    assert "default" not in spec("qmail")["teamware_smtp_port"]
    assert core.teamware_servers({"teamware_server": "tw"}) == ["tw:%s" % routing.DEFAULTS["teamware_smtp_port"]]


@pytest.mark.parametrize("front_end, host, banner", [
    ("tcpserver", {}, {"host": "0", "port": "smtp"}),
    ("tcpserver", {"ucspi_tcp_bind_address": "127.0.0.1", "ucspi_tcp_port": 2525, "inetd_port": "99"},
     {"host": "127.0.0.1", "port": 2525}),
    ("tcpserver", {"ucspi_tcp_bind_address": None, "ucspi_tcp_port": None}, {"host": "0", "port": "smtp"}),
    ("inetd", {}, {"host": "", "port": "smtp"}),
    ("inetd", {"inetd_bind_address": "192.0.2.1", "inetd_port": "2525", "ucspi_tcp_port": "99"},
     {"host": "192.0.2.1", "port": "2525"}),
])
def test_the_banner_is_read_where_the_chosen_front_end_listens(front_end, host, banner):
    result = settings(host, front_end=front_end, relay_clients=["127.", "10.1."], smtp=False)
    assert result["route_check_smtp_banner"] == banner
    assert result["route_check_context"] == {"front_end": front_end, "relay_clients": ["127.", "10.1."], "smtp": False,
                                             "smtp_banner": banner}


def test_qmail_dir_with_the_roles_default():
    assert settings({"qmail_dir": "/opt/qmail"})["qmail_dir"] == "/opt/qmail"
    assert settings({"qmail_dir": None})["qmail_dir"] == "/var/qmail"


@pytest.mark.parametrize("host, message", [
    ({"qmail_local_domains": "company.com"}, "qmail_local_domains: must be a list of domains, not 'company.com'"),
    ({"teamware_domains": "tw.company.com"}, "teamware_domains: must be a list of domains, not 'tw.company.com'"),
    ({"teamware_route_check_sample": "root@company.com"},
     "teamware_route_check_sample must be a list of addresses (e.g. ['tw.john@company.com']), not str 'root@company.com'"),
    ({"teamware_route_check_sample": ["root@company.com", 7]},
     "teamware_route_check_sample[1]: 7 is not an address"),
])
def test_a_wrong_variable_is_named_before_anything_changes(host, message):
    found = core.problems(host)
    assert len(found) == 1 and found[0].startswith(message)
    with pytest.raises(AnsibleFilterError) as caught:
        plugin.site_settings(host)
    assert caught.value.message.startswith("Invalid inventory, nothing changed: ")
    assert message in caught.value.message


def test_the_right_variables_have_no_problems():
    for host, _options, _context in BEFORE:
        assert core.problems(host) == []
    assert core.problems({"qmail_local_domains": None, "teamware_domains": [], "teamware_route_check_sample": None}) == []
