# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every list of integration methods outside routing.METHODS is held against it: the argument specs' choices, the
module documentation, the method pages, the lab's method files and the per-method test examples."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os

import pytest
import yaml

from ansible_collections.teamware.qmail.plugins.module_utils import routing
from ansible_collections.teamware.qmail.plugins.modules import routing_table

from ..method_examples import METHOD_SETTINGS

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
METHODS = list(routing.METHODS)


def option_specs():
    for path in sorted(glob.glob(os.path.join(REPO, "roles", "*", "meta", "argument_specs.yml"))):
        with open(path) as handle:
            specs = yaml.safe_load(handle)["argument_specs"]
        for entry, spec in specs.items():
            for name, option in (spec.get("options") or {}).items():
                yield os.path.relpath(path, REPO), entry, name, option


def test_role_argument_specs_offer_exactly_the_methods():
    found = [(path, entry) for path, entry, name, option in option_specs() if name == "teamware_integration_method"]
    assert found, "no role takes teamware_integration_method"
    for path, entry, name, option in option_specs():
        if name == "teamware_integration_method":
            assert option.get("choices") == METHODS, (path, entry)
            assert all(method in option["description"] for method in METHODS), (path, entry)


def test_the_module_documents_exactly_the_methods():
    doc = yaml.safe_load(routing_table.DOCUMENTATION)["options"]["teamware_integration_method"]
    assert doc["choices"] == METHODS
    text = " ".join(doc["description"])
    for method in routing.METHODS.values():
        assert "V(%s)" % method.name in text and (method.name == "none" or "(%s)" % method.section in text)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_has_its_page_example_lab_file_and_scenario(method):
    assert os.path.isfile(os.path.join(REPO, "docs", "methods", "%s.md" % method))
    with open(os.path.join(REPO, "docs", "README.md")) as handle:
        assert "methods/%s.md" % method in handle.read()
    assert method in METHOD_SETTINGS
    if method == "none":
        return
    lab = glob.glob(os.path.join(REPO, "inventory", "lab", "group_vars", "method_%s*.yml" % method))
    assert lab, "no lab method file for %s" % method
    for path in lab:
        with open(path) as handle:
            assert yaml.safe_load(handle)["teamware_integration_method"] == method, path
    assert glob.glob(os.path.join(REPO, "molecule", "%s*" % method, "molecule.yml")), "no scenario for %s" % method


def test_every_lab_method_file_names_a_method_and_its_routing_kind():
    for path in glob.glob(os.path.join(REPO, "inventory", "lab", "group_vars", "method_*.yml")):
        with open(path) as handle:
            settings = yaml.safe_load(handle)
        method = routing.METHODS[settings["teamware_integration_method"]]
        kind = settings.get("teamware_routing") or method.routing_kinds[0]
        assert kind in method.routing_kinds, path
        assert os.path.basename(path)[len("method_"):-len(".yml")] in (method.name, method.name + "_" + kind), path
