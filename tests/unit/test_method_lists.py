# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every list of integration methods outside routing.METHODS is held against it: the argument specs' choices, the
module documentation, the method pages and tables of the docs, the lab's method files, the Molecule scenarios and the
per-method examples; and every copy of an example's settings against tests/method_examples.py, their one source."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import importlib.util
import os
import re
import shutil

import pytest
import yaml

from ansible_collections.teamware.qmail.plugins.module_utils import routing
from ansible_collections.teamware.qmail.plugins.modules import routing_table

from ..method_examples import EXAMPLE_KEYS, EXAMPLES, METHOD_SETTINGS
from .plugins.module_utils import test_routing_document

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
        assert "V(%s)" % method.name in text and (not method.routes_mail or "(%s)" % method.section in text)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_has_its_page_example_lab_file_and_scenario(method):
    assert os.path.isfile(os.path.join(REPO, "docs", "methods", "%s.md" % method))
    with open(os.path.join(REPO, "docs", "README.md")) as handle:
        assert "methods/%s.md" % method in handle.read()
    assert method in METHOD_SETTINGS
    if not routing.METHODS[method].routes_mail:
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


def _method_keys(settings):
    """The method's own keys of a settings dict (EXAMPLE_KEYS), nulls dropped and the routing kind filled in where the
    method allows one only (as routing.Settings.from_vars does), so that copies compare whatever they spell out."""
    keys = dict((k, settings[k]) for k in EXAMPLE_KEYS if settings.get(k) is not None)
    method = routing.METHODS[keys["teamware_integration_method"]]
    if "teamware_routing" not in keys and len(method.routing_kinds) == 1:
        keys["teamware_routing"] = method.routing_kinds[0]
    return keys


NORMALISED_EXAMPLES = [_method_keys(example) for example in EXAMPLES.values()]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_example_is_valid_and_names_its_method(name):
    example = EXAMPLES[name]
    assert name.startswith(example["teamware_integration_method"])
    variables = dict(example, qmail_local_domains=["company.com"], teamware_server="tw.server.company.com",
                     teamware_smtp_port=2025)
    table = routing.compute(variables, routing.Account("twu", 503, 503, "/home/twu"),
                            routing.Account("alias", 999, 995, "/var/qmail/alias"), ["alias", "twu"])
    assert table["method"] == example["teamware_integration_method"]


def test_every_method_has_an_example():
    assert sorted(set(e["teamware_integration_method"] for e in EXAMPLES.values())) == sorted(METHODS)
    assert sorted(METHOD_SETTINGS) == sorted(METHODS)


def lab_method_files():
    for path in sorted(glob.glob(os.path.join(REPO, "inventory", "lab", "group_vars", "method_*.yml"))):
        with open(path) as handle:
            yield path, yaml.safe_load(handle)


def test_the_lab_method_files_are_examples():
    found = list(lab_method_files())
    assert found
    for path, settings in found:
        assert _method_keys(settings) in NORMALISED_EXAMPLES, path
        # Every method_* file sets the same keys (null where unused): the switch scenario loads one over another.
        assert set(EXAMPLE_KEYS) <= set(settings), path


def _page_settings():
    """The settings blocks of the method pages (a YAML block that sets teamware_integration_method outside an
    inventory's 'all:')."""
    for path in sorted(glob.glob(os.path.join(REPO, "docs", "methods", "*.md"))):
        with open(path) as handle:
            text = handle.read()
        for block in re.findall(r"```yaml\n(.*?)```", text, re.S):
            data = yaml.safe_load(block)
            if isinstance(data, dict) and "teamware_integration_method" in data:
                yield path, data


def test_the_method_pages_show_examples():
    found = list(_page_settings())
    assert set(os.path.basename(path)[:-3] for path, data in found) == set(METHODS)
    for path, data in found:
        assert os.path.basename(path) == "%s.md" % data["teamware_integration_method"], path
        assert _method_keys(data) in NORMALISED_EXAMPLES, (path, data)


def test_the_document_cases_are_examples():
    for case in test_routing_document.CASES:
        variables = case.values[0]
        assert _method_keys(variables) in NORMALISED_EXAMPLES, case.id


def lab_scenarios():
    """(scenario, the lab method file names of its platforms' groups) of every molecule scenario."""
    for path in sorted(glob.glob(os.path.join(REPO, "molecule", "*", "molecule.yml"))):
        with open(path) as handle:
            config = yaml.safe_load(handle)
        groups = set()
        for platform in config.get("platforms") or ():
            groups.update(g for g in platform.get("groups") or () if g.startswith("method_"))
        yield os.path.basename(os.path.dirname(path)), groups


def test_every_scenario_group_has_its_lab_file_and_every_lab_file_a_scenario():
    lab = set(os.path.basename(path)[:-len(".yml")] for path, _s in lab_method_files())
    used = set()
    for scenario, groups in lab_scenarios():
        assert groups <= lab, (scenario, groups - lab)
        used |= groups
    assert used == lab, lab - used


def test_every_method_but_none_has_a_scenario_of_its_own():
    by_file = dict((os.path.basename(path)[:-len(".yml")], s["teamware_integration_method"]) for path, s in lab_method_files())
    covered = set()
    for scenario, groups in lab_scenarios():
        methods = set(by_file[g] for g in groups)
        if len(methods) == 1 and scenario.startswith(list(methods)[0]):
            covered |= methods
    assert covered == set(name for name, method in routing.METHODS.items() if method.routes_mail)


def _table_rows(path, first_column=r"\[`([a-z_]+)`\]\([a-z_/]*\.md\)"):
    with open(os.path.join(REPO, path)) as handle:
        return re.findall(r"^\| %s \| ([0-9.]+) \| ([^|]+) \|" % first_column, handle.read(), re.M)


def _routing_words(method):
    return " or ".join(method.routing_kinds) if method.routing_kinds else "—"


@pytest.mark.parametrize("path", ["docs/methods/README.md", "docs/choosing-a-method.md"])
def test_the_method_tables_of_the_docs_list_exactly_the_methods(path):
    rows = _table_rows(path)
    expected = [(m.name, m.section, _routing_words(m)) for m in routing.METHODS.values()]
    found = [(name, section, kind.strip()) for name, section, kind in rows]
    assert found == expected


def test_the_docs_name_every_method_in_their_lists():
    with open(os.path.join(REPO, "docs", "inventory.md")) as handle:
        line = [text for text in handle if text.startswith("| `teamware_integration_method` |")][0]
    assert re.findall(r"`([a-z_]+)`", line.split("|")[3]) == METHODS
    with open(os.path.join(REPO, "README.md")) as handle:
        text = " ".join(handle.read().split())
    for method in routing.METHODS.values():
        if method.routes_mail:
            assert "`%s` (%s)" % (method.name, method.section) in text


def _generator():
    path = os.path.join(REPO, "scripts", "docs", "gen_method_lists.py")
    spec = importlib.util.spec_from_file_location("gen_method_lists", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generated_method_lists_are_up_to_date():
    gen = _generator()
    assert gen.read_methods(REPO) == [(m.name, m.section, m.routing_kinds) for m in routing.METHODS.values()]
    stale = sorted(rel for rel, (current, new) in gen.rendered(REPO).items() if current != new)
    assert stale == [], "run scripts/docs/gen_method_lists.py (and scripts/docs/gen_role_reference.py)"
    assert gen.stale_lab_files(REPO) == [], "run scripts/docs/gen_method_lists.py: it removes them"


NEW_PAGE = """# `smtp_virtualdomains`

> a method made for the test

<!-- method tables: scripts/docs/gen_method_lists.py writes these into docs/methods/README.md and docs/choosing-a-method.md
gets mail by: SMTP
qmail routes with: `control/virtualdomains`
on the qmail host: yes (port 2025)
on its own host: yes
in one sentence: the Teamware domains are virtual domains of the routing user, which sends them on by SMTP
-->
"""
NEW_EXAMPLE = """
EXAMPLES["smtp_virtualdomains"] = dict(_DOMAIN, teamware_integration_method="smtp_virtualdomains")
LAB_METHOD_FILES["method_smtp_virtualdomains"] = dict(
    example="smtp_virtualdomains", comment="Integration method x.1: virtualdomains, then SMTP.",
    rcpt="{user}@tw.company.com", envelope="{user}@tw.company.com", address="{user}@tw.company.com")
"""


def _copy_for_generator(gen, tmp_path):
    """The files the generator reads and writes, in a copy of the repository with the method added to METHODS."""
    for rel in list(gen.targets(REPO)) + [gen.METHODS_PY, gen.EXAMPLES_PY] + [
            os.path.relpath(path, REPO) for path in glob.glob(os.path.join(REPO, "docs", "methods", "*.md"))]:
        os.makedirs(str(tmp_path / os.path.dirname(rel)), exist_ok=True)
        shutil.copy(os.path.join(REPO, rel), str(tmp_path / rel))
    with open(str(tmp_path / gen.METHODS_PY)) as handle:
        text = handle.read()
    last = '    Method("smtp_forward",'
    assert last in text
    text = text.replace(last, '    Method("smtp_virtualdomains", "x.1", "SMTP through virtualdomains", "smtp", '
                              '"virtualdomains", ("domain",)),\n' + last)
    with open(str(tmp_path / gen.METHODS_PY), "w") as handle:
        handle.write(text)


def test_the_generator_writes_a_new_method_into_every_list(tmp_path):
    gen = _generator()
    _copy_for_generator(gen, tmp_path)
    with pytest.raises(ValueError, match="docs/methods/smtp_virtualdomains.md: missing"):
        gen.rendered(str(tmp_path))
    (tmp_path / "docs" / "methods" / "smtp_virtualdomains.md").write_text(NEW_PAGE.replace("gets mail by: SMTP\n", ""))
    with pytest.raises(ValueError, match="smtp_virtualdomains.md: its 'method tables' comment lacks gets mail by"):
        gen.rendered(str(tmp_path))
    (tmp_path / "docs" / "methods" / "smtp_virtualdomains.md").write_text(NEW_PAGE)
    rendered = gen.rendered(str(tmp_path))
    for rel in gen.targets(REPO):
        current, new = rendered[rel]
        assert "smtp_virtualdomains" not in current and "smtp_virtualdomains" in new, rel
    for rel in gen.TABLES:
        assert ("| [`smtp_virtualdomains`](%ssmtp_virtualdomains.md) | x.1 | domain | SMTP |"
                % gen.TABLES[rel][1]) in rendered[rel][1], rel


def test_the_generator_writes_the_lab_file_of_a_new_example(tmp_path):
    gen = _generator()
    _copy_for_generator(gen, tmp_path)
    with open(str(tmp_path / gen.EXAMPLES_PY), "a") as handle:
        handle.write(NEW_EXAMPLE)
    files = gen.lab_files(str(tmp_path))
    assert sorted(files) == sorted(list(gen.lab_files(REPO)) + [os.path.join(gen.LAB_GROUP_VARS, "method_smtp_virtualdomains.yml")])
    settings = yaml.safe_load(files[os.path.join(gen.LAB_GROUP_VARS, "method_smtp_virtualdomains.yml")])
    # the method has one routing kind: the file spells it out, as every lab file does
    assert settings == dict(teamware_integration_method="smtp_virtualdomains", teamware_routing="domain",
                            teamware_domains=["tw.company.com"], teamware_user_prefix=None, teamware_rewrite_domain=None,
                            lab_teamware_rcpt="{user}@tw.company.com", lab_teamware_envelope="{user}@tw.company.com",
                            lab_teamware_address="{user}@tw.company.com")
