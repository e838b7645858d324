# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Molecule scenarios share one base (.config/molecule/config.yml), and each molecule/NAME/molecule.yml says only
what differs: nothing the base already says, platforms with their own fields only (molecule/resources/create.yml
gives them the rest), a subnet of its own."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BASE = os.path.join(REPO, ".config", "molecule", "config.yml")
# what a platform may say: create.yml adds the network, --init, the command and the base image
PLATFORM_KEYS = {"name", "hostname", "ip", "groups", "image", "extra_opts"}


def load(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


def scenarios():
    return sorted(os.path.basename(os.path.dirname(path)) for path in glob.glob(os.path.join(REPO, "molecule", "*", "molecule.yml")))


def merge(base, over):
    """Molecule's merge (molecule.util.merge_dicts): mappings key by key, everything else replaced."""
    result = dict(base)
    for key, value in over.items():
        if isinstance(result.get(key), dict) and isinstance(value, dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = value
    return result


def repeated(base, over, path=()):
    """The keys of over whose value the base already has."""
    for key, value in over.items():
        if key not in base:
            continue
        if isinstance(value, dict) and isinstance(base[key], dict):
            yield from repeated(base[key], value, path + (key,))
        elif value == base[key]:
            yield ".".join(path + (key,))


def test_the_base_holds_what_every_scenario_shares():
    base = load(BASE)
    assert base["driver"] == {"name": "podman"}
    assert base["provisioner"]["connection_options"] == {"ansible_connection": "lab_podman"}
    assert set(base["provisioner"]["playbooks"]) == {"create", "prepare", "converge", "destroy"}
    assert base["verifier"] == {"name": "testinfra", "directory": "../../tests/molecule"}
    assert "platforms" not in base  # a list: molecule would replace it, not merge it


@pytest.mark.parametrize("name", scenarios())
def test_a_scenario_says_only_what_differs(name):
    base = load(BASE)
    own = load(os.path.join(REPO, "molecule", name, "molecule.yml"))
    assert list(repeated(base, own)) == [], "already in .config/molecule/config.yml"
    assert set(own) <= {"platforms", "provisioner", "ansible", "scenario"}, set(own)
    config = merge(base, own)
    for playbook in config["provisioner"]["playbooks"].values():
        assert os.path.isfile(os.path.join(REPO, "molecule", name, playbook)), playbook


@pytest.mark.parametrize("name", scenarios())
def test_the_platforms_name_their_own_fields_only(name):
    own = load(os.path.join(REPO, "molecule", name, "molecule.yml"))
    net = own["provisioner"]["inventory"]["group_vars"]["lab"]["lab_net"]
    assert own["platforms"]
    for platform in own["platforms"]:
        assert set(platform) <= PLATFORM_KEYS, (platform["name"], set(platform) - PLATFORM_KEYS)
        assert {"name", "hostname", "ip", "groups"} <= set(platform), platform["name"]
        assert platform["name"].startswith(name + "-"), platform["name"]
        assert platform["ip"].rsplit(".", 1)[0] == net, (platform["name"], net)
        assert platform.get("image", "qmail") == "qmail", platform["name"]
        assert "--init" not in platform.get("extra_opts", []), platform["name"]


def test_every_scenario_has_a_subnet_of_its_own():
    nets = [load(os.path.join(REPO, "molecule", name, "molecule.yml"))["provisioner"]["inventory"]["group_vars"]["lab"]["lab_net"]
            for name in scenarios()]
    assert all(re.match(r"^10\.213\.[0-9]+$", net) for net in nets), nets
    assert len(set(nets)) == len(nets), nets


def test_create_yml_knows_the_image_names_the_platforms_use():
    with open(os.path.join(REPO, "molecule", "resources", "create.yml")) as handle:
        create = yaml.safe_load(handle)[0]
    images = create["vars"]["lab_images"]
    assert set(images) == {"base", "qmail"}
    with open(os.path.join(REPO, "lab", "run-scenarios.sh")) as handle:
        script = handle.read()
    # the runner skips the scenarios that use the qmail image when it is not there
    assert "image: qmail" in script and '--base-config "${REPO}/.config/molecule/config.yml"' in script
