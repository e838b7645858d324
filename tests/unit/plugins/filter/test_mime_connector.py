# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The teamware.qmail.mime_connector_* filters: registration, input types, errors, and a real Jinja run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
from collections.abc import Mapping

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.teamware.qmail.plugins.filter import mime_connector as plugin

FILTER_DIR = os.path.dirname(os.path.abspath(plugin.__file__))
NAMES = ("mime_connector_settings", "mime_connector_problems")

INVENTORY = {
    "teamware_integration_method": "smtp_smtproutes",
    "teamware_domains": ["tw.company.com"],
    "teamware_server": "tw.server.company.com",
    "teamware_smtp_port": 2025,
    "qmail_local_domains": ["company.com"],
}


class LazyVars(Mapping):
    """Like hostvars[host]: a Mapping that is not a dict, with many unrelated keys."""

    def __init__(self, data):
        self._data = dict(data, ansible_host="192.0.2.10", inventory_hostname="qmail1", qmail_relay_clients=["10."])

    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)


def test_filters_are_registered():
    filters = plugin.FilterModule().filters()
    assert sorted(filters) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_filter_has_sidecar_documentation(name):
    with open(os.path.join(FILTER_DIR, name + ".yml")) as handle:
        doc = yaml.safe_load(handle)
    assert doc["DOCUMENTATION"]["name"] == name
    assert doc["DOCUMENTATION"]["options"]["_input"]["required"] is True
    assert "_value" in doc["RETURN"]
    assert name in doc["EXAMPLES"]


@pytest.mark.parametrize("variables, options, mode, dsn", [
    (INVENTORY, None, "strict", 0),
    (LazyVars(INVENTORY), {}, "strict", 0),
    (INVENTORY, {"mime_connector_server_count": 2}, "list", 0),
    (dict(INVENTORY, teamware_outgoing_relay="qmail", qmail_me="mail.company.com"), {}, "strict", 2),
    (INVENTORY, {"mime_connector_mode": "any", "mime_connector_deliver_relayed_dsn": 1}, "any", 1),
])
def test_settings(variables, options, mode, dsn):
    result = plugin.mime_connector_settings(variables, options)
    assert result["to_ini"]["mode"] == mode
    assert result["to_ini"]["deliver_relayed_dsn"] == dsn
    assert result["tombsmtp_ini"]["own_node"] == ["tw.company.com"]


@pytest.mark.parametrize("variables, options, names", [
    (dict(INVENTORY, teamware_smtp_port="smtp"), {}, ["teamware_smtp_port"]),
    (INVENTORY, {"mime_connector_mode": "open", "mime_connector_allow": "tw.company.com"}, ["mime_connector_mode", "mime_connector_allow"]),
    (INVENTORY, {"mime_connector_deliver_relayed_dsn": 7}, ["mime_connector_deliver_relayed_dsn"]),
    (dict(INVENTORY, teamware_outgoing_relay="isp"), {"mime_connector_isp_relay": "[192.0.2.1]"}, ["mime_connector_isp_relay"]),
])
def test_settings_refused_naming_every_variable(variables, options, names):
    with pytest.raises(AnsibleFilterError) as info:
        plugin.mime_connector_settings(variables, options)
    message = str(info.value)
    assert "nothing changed" in message
    for name in names:
        assert name + ":" in message
    found = plugin.mime_connector_problems(variables, options)
    assert sorted(p.split(":")[0] for p in found) == sorted(names)


def test_routing_problems_and_connector_problems_have_their_own_headings():
    routing_heading = "Invalid qmail and Teamware Office routing settings, nothing changed: "
    connector_heading = "Invalid Teamware Office MIME connector settings, nothing changed: "
    with pytest.raises(AnsibleFilterError) as info:
        plugin.mime_connector_settings(dict(INVENTORY, qmail_local_domains=[]))
    assert str(info.value).startswith(routing_heading + "qmail_local_domains: is empty")
    assert connector_heading not in str(info.value)
    with pytest.raises(AnsibleFilterError) as info:
        plugin.mime_connector_settings(INVENTORY, {"mime_connector_mode": "open"})
    assert str(info.value).startswith(connector_heading + "mime_connector_mode:")
    assert routing_heading not in str(info.value)
    with pytest.raises(AnsibleFilterError) as info:
        plugin.mime_connector_settings(dict(INVENTORY, teamware_smtp_port="smtp"), {"mime_connector_mode": "open"})
    message = str(info.value)
    assert message.index(routing_heading + "teamware_smtp_port") < message.index(connector_heading + "mime_connector_mode")


def test_problems_empty_when_valid():
    assert plugin.mime_connector_problems(LazyVars(INVENTORY)) == []


@pytest.mark.parametrize("call", [
    lambda: plugin.mime_connector_settings(["not", "a", "mapping"]),
    lambda: plugin.mime_connector_settings(INVENTORY, "mode=list"),
    lambda: plugin.mime_connector_problems("teamware_domains=x"),
])
def test_wrong_input_types(call):
    with pytest.raises(AnsibleFilterError):
        call()


JINJA_SCRIPT = r"""
import json, sys
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder
_AnsibleCollectionFinder(paths=[sys.argv[1]])._install()
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
variables = json.loads(sys.argv[2])
templar = Templar(loader=DataLoader(), variables=variables)
out = [templar.template(trust_as_template(expression)) for expression in sys.argv[3:]]
print(json.dumps(out))
"""


def test_through_jinja_like_the_role():
    """The filters as a play uses them, templated by ansible-core with its collection loader (in a child process)."""
    import json
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(FILTER_DIR)))))
    variables = {
        "qmail_vars": dict(INVENTORY, teamware_integration_method="smtp_forward", teamware_domains=["company.com"],
                           teamware_user_prefix="tw.", teamware_rewrite_domain="tw.company.com"),
        "options": {"mime_connector_server_count": 2, "mime_connector_mode": None},
    }
    done = subprocess.run([sys.executable, "-c", JINJA_SCRIPT, root, json.dumps(variables),
                           "{{ qmail_vars | teamware.qmail.mime_connector_settings(options) }}",
                           "{{ qmail_vars | teamware.qmail.mime_connector_problems({'mime_connector_mode': 'open'}) }}"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    result, problems = json.loads(done.stdout)
    assert result["to_ini"]["mode"] == "list"
    assert result["to_ini"]["allow"] == ["company.com", "tw.company.com"]
    assert result["tombsmtp_ini"]["own_node"] == ["company.com", "A:tw.company.com"]
    assert problems == ["mime_connector_mode: mode 'open' is not one of: any, list, strict"]
