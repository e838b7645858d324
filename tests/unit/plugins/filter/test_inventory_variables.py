# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory check of site.yml's first play (filter teamware.qmail.site_settings): every variable with one of the
collection's prefixes must be known, and what is known comes from the argument specs of the roles (roles/site for the
site-wide variables), read at runtime."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.teamware.qmail.plugins.filter import site_settings as plugin
from ansible_collections.teamware.qmail.plugins.module_utils import connector

ROOT = plugin.collection_dir()


def spec_files():
    """{role: options} read here, independently of the plugin."""
    found = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "roles", "*", "meta", "argument_specs.yml"))):
        with open(path) as handle:
            data = yaml.safe_load(handle)
        options = {}
        for entry_point in data["argument_specs"].values():
            options.update(entry_point.get("options") or {})
        found[path.split(os.sep)[-3]] = options
    return found


def failure(host, **kwargs):
    with pytest.raises(AnsibleFilterError) as caught:
        plugin.site_settings(host, **kwargs)
    return caught.value.message


@pytest.mark.parametrize("misspelt, meant", [
    ("qmail_alaises", "qmail_aliases"),
    ("qmail_relay_client", "qmail_relay_clients"),
    ("teamware_outgoing_rely", "teamware_outgoing_relay"),
    ("teamware_integration_methd", "teamware_integration_method"),
    ("ucspi_tcp_relay_client", "ucspi_tcp_relay_clients"),
    ("inetd_hosts_alow", "inetd_hosts_allow"),
    ("mime_connector_isp_rely", "mime_connector_isp_relay"),
    ("teamware_qmail_own_variable", "teamware_qmail_own_variables"),
])
def test_a_misspelt_variable_stops_the_run_naming_it_and_the_nearest_known_name(misspelt, meant):
    message = failure({misspelt: "x"})
    assert message.startswith("Invalid inventory, nothing changed: %s: " % misspelt), message
    assert "did you mean %s?" % meant in message
    assert plugin.OWN_VARIABLES in message


def test_every_unknown_variable_is_named_at_once_and_a_teamware_server_is_checked_too():
    message = failure({"qmail_alaises": {}, "inetd_prot": 25, "qmail_smtp_front_end": "xinetd"})
    for fragment in ("qmail_alaises", "inetd_prot", "did you mean inetd_port?", "qmail_smtp_front_end: 'xinetd'"):
        assert fragment in message
    message = failure({"mime_connector_mod": "list"}, qmail_host=False)
    assert "mime_connector_mod" in message and "did you mean mime_connector_mode?" in message


def test_a_name_far_from_every_known_one_gets_no_suggestion():
    message = failure({"teamware_zzzzzzzzzzzzzzzzzzzzzzzz": 1})
    assert "teamware_zzzzzzzzzzzzzzzzzzzzzzzz" in message and "did you mean" not in message


def test_the_allow_list_lets_the_admins_own_variables_pass():
    host = {"qmail_backup_host": "b.company.com", "teamware_ticket": "T-1",
            plugin.OWN_VARIABLES: ["qmail_backup_host", "teamware_ticket"]}
    assert plugin.site_settings(host)["front_end"] == "tcpserver"
    message = failure(dict(host, **{plugin.OWN_VARIABLES: ["qmail_backup_host"]}))
    assert "teamware_ticket" in message and "qmail_backup_host" not in message


@pytest.mark.parametrize("value", ["qmail_backup_host", [1], {"qmail_backup_host": True}])
def test_the_allow_list_must_be_a_list_of_names(value):
    assert plugin.OWN_VARIABLES + ": must be a list of variable names" in failure({plugin.OWN_VARIABLES: value})


def test_every_variable_of_every_argument_spec_is_accepted():
    names = set(name for options in spec_files().values() for name in options)
    assert len(names) > 80
    assert plugin.unknown_variables(dict.fromkeys(names)) == []


def test_what_the_collection_sets_itself_does_not_trip_the_check_on_a_later_play():
    """Registered results and facts are in hostvars once a play has run (site.yml imported twice, for instance)."""
    host = dict.fromkeys(plugin.COLLECTION_SET, {"changed": False})
    assert plugin.unknown_variables(host) == []


def test_variables_without_the_prefixes_are_ignored():
    host = {"ansible_host": "192.0.2.10", "inventory_hostname": "mail", "qmailx": 1, "teamwarefoo": 2, "my_qmail_aliases": 3,
            "inetd": 4, "mime_connectors": 5, "ucspi_tcpserver": 6, "group_names": ["qmail_hosts"]}
    assert plugin.unknown_variables(host) == []


def test_mime_connector_qmail_host_must_be_a_host_of_the_inventory():
    host = {"mime_connector_qmail_host": "nosuchhost"}
    message = failure(host, qmail_host=False, inventory_hosts=["mail", "tw1"])
    assert "mime_connector_qmail_host: 'nosuchhost' is not a host of the inventory" in message
    assert plugin.site_settings({"mime_connector_qmail_host": "mail"}, qmail_host=False, inventory_hosts=["mail", "tw1"]) == {}


# The known names are generated from the argument specs, not copied.

def test_the_known_names_are_those_of_the_argument_specs_and_what_the_collection_sets():
    specs = spec_files()
    assert set(specs) == {"inetd", "mime_connector", "qmail", "site", "ucspi_tcp"}
    assert plugin.argument_specs() == specs
    assert plugin.documented_variables() == set(name for options in specs.values() for name in options)
    assert plugin.known_variables() == plugin.documented_variables() | plugin.COLLECTION_SET
    # names the collection sets itself are not options of a role: documented ones are found in the specs
    assert not plugin.COLLECTION_SET & plugin.documented_variables()


def test_a_new_option_in_an_argument_spec_is_known_without_touching_the_plugin(tmp_path):
    for role, options in (("site", {"teamware_new_site_thing": {"type": "str", "default": "x"}}),
                          ("qmail", {"qmail_new_thing": {"type": "str"}})):
        meta = tmp_path / "roles" / role / "meta"
        meta.mkdir(parents=True)
        (meta / "argument_specs.yml").write_text(yaml.safe_dump({"argument_specs": {"main": {"options": options}}}))
    root = str(tmp_path)
    assert plugin.unknown_variables({"qmail_new_thing": 1, "teamware_new_site_thing": 2}, root) == []
    assert plugin.site_default("teamware_new_site_thing", root) == "x"
    assert "qmail_aliases" in plugin.unknown_variables({"qmail_aliases": {}}, root)[0]


def test_the_site_spec_holds_the_site_wide_variables_of_the_playbooks():
    site = spec_files()["site"]
    for name in ("qmail_relay_clients", "qmail_smtp_front_end", "teamware_outgoing_relay", "teamware_expected_routes",
                 "teamware_route_check", "teamware_route_check_sample", "teamware_route_check_passwd_file",
                 "teamware_host_address", "qmail_me", plugin.OWN_VARIABLES):
        assert name in site, name
    # every prefixed variable the playbooks read is in some argument spec or set by the collection
    known = plugin.known_variables()
    for path in glob.glob(os.path.join(ROOT, "playbooks", "**", "*.yml"), recursive=True):
        with open(path) as handle:
            text = handle.read()
        # names of plugins (teamware.qmail.qmail_route_info), keyword arguments (qmail_host=...) and YAML keys (a
        # module's options, or variables the playbook sets, which the test below holds) and file names are no variables read
        for name in set(re.findall(r"(?<![\w.])((?:%s)[a-z0-9_]+)\b(?![=:]|\.yml)" % "|".join(plugin.PREFIXES), text)):
            if name in ("qmail_hosts", "teamware_servers"):  # the groups
                continue
            assert name in known, "%s reads %s, which no argument spec lists" % (path, name)


def test_the_site_defaults_come_from_the_site_spec():
    site = spec_files()["site"]
    settings = plugin.site_settings({})
    assert {key: settings[key] for key in ("front_end", "relay_clients", "expected_routes")} == {
        "front_end": site["qmail_smtp_front_end"]["default"], "relay_clients": site["qmail_relay_clients"]["default"],
        "expected_routes": {}}
    for key, name in plugin.ROUTE_CHECK_SWITCHES.items():
        assert settings[key] is site[name]["default"], name
    assert site["teamware_expected_routes"]["default"] == {}
    assert plugin.site_spec()["qmail_smtp_front_end"]["choices"] == ["tcpserver", "inetd"]
    # the connector (plugins/module_utils/connector.py) keeps a copy of this default for the module side: it must agree
    assert connector.INVENTORY_DEFAULTS["teamware_outgoing_relay"] == site["teamware_outgoing_relay"]["default"]


def _collection_set_names():
    """What the roles, playbooks and modules set themselves: register, set_fact, play/task/role vars (vars/*.yml),
    the modules' facts."""
    found = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("register"), str):
                found.add(node["register"])
            for key in ("ansible.builtin.set_fact", "set_fact", "vars"):
                if isinstance(node.get(key), dict):
                    found.update(node[key])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for pattern in ("roles/*/tasks/*.yml", "roles/*/handlers/*.yml", "playbooks/*.yml", "playbooks/tasks/*.yml"):
        for path in glob.glob(os.path.join(ROOT, pattern)):
            with open(path) as handle:
                walk(yaml.safe_load(handle))
    for pattern in ("roles/*/vars/*.yml", "playbooks/vars/*.yml"):
        for path in glob.glob(os.path.join(ROOT, pattern)):
            with open(path) as handle:
                found.update(yaml.safe_load(handle) or {})
    # facts the modules return (their RETURN's ansible_facts)
    for path in glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py")):
        with open(path) as handle:
            text = handle.read()
        returned = re.search(r'^RETURN = r"""(.*?)"""', text, re.S | re.M)
        facts = (yaml.safe_load(returned.group(1)) or {}).get("ansible_facts") if returned else None
        found.update((facts or {}).get("contains") or {})
    return set(name for name in found if name.startswith(plugin.PREFIXES))


def test_what_the_collection_sets_itself_is_listed_exactly():
    names = _collection_set_names()
    assert {"qmail_site", "qmail_routing", "mime_connector_settings", "ucspi_tcp_relay"} <= names
    assert plugin.COLLECTION_SET == names - plugin.documented_variables()
