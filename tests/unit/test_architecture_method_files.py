# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/architecture.md's list of the files a new method touches ("Adding a method") is true: at most five files by
hand, each of them there for every method; every generated one written by the generator the list names."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

from ansible_collections.teamware.qmail.plugins.module_utils import routing

from ..method_examples import EXAMPLES, LAB_METHOD_FILES
from .test_method_lists import _generator

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def method_file_rows():
    """[(the paths of the first column, by hand or generated)] of the table under "## Adding a method"."""
    with open(os.path.join(REPO, "docs", "architecture.md")) as handle:
        text = handle.read()
    section = text[text.index("## Adding a method"):]
    table = section[section.index("| file | what | by hand or generated | held by |"):]
    rows = []
    for line in table.splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows.append((re.findall(r"`([^`]+)`", cells[0]), cells[2]))
    return rows


def test_a_new_method_touches_at_most_five_files_by_hand():
    by_hand = [paths for paths, how in method_file_rows() if how == "by hand"]
    assert by_hand and len(by_hand) <= 5
    assert all(len(paths) == 1 for paths in by_hand), by_hand


def test_every_method_has_each_file_the_list_names():
    by_hand = [paths[0] for paths, how in method_file_rows() if how == "by hand"]
    for name, method in routing.METHODS.items():
        for pattern in by_hand:
            if not method.routes_mail and pattern.startswith("molecule/"):
                continue  # section 2 routes nothing: there is no mail to follow in the lab
            # a method with two routing kinds has a scenario per kind the lab runs (NAME_domain, NAME_user)
            found = glob.glob(os.path.join(REPO, pattern.replace("NAME", name + "*")))
            assert found, (name, pattern)
    with open(os.path.join(REPO, "plugins", "module_utils", "methods.py")) as handle:
        source = handle.read()
    for name in routing.METHODS:
        assert 'Method("%s",' % name in source
        assert any(example["teamware_integration_method"] == name for example in EXAMPLES.values())


def test_the_generated_files_are_the_generators():
    gen = _generator()
    generated = dict((tuple(paths), how) for paths, how in method_file_rows() if how != "by hand")
    written = set(gen.targets(REPO)) | set(gen.TABLES)
    for paths, how in generated.items():
        for path in paths:
            if how == "`gen_method_lists.py`":
                if path == "inventory/lab/group_vars/method_NAME.yml":
                    assert sorted(gen.lab_files(REPO)) == sorted(
                        os.path.join(gen.LAB_GROUP_VARS, "%s.yml" % name) for name in LAB_METHOD_FILES)
                elif path == "roles/*/meta/argument_specs.yml":
                    assert [p for p in written if p.startswith("roles/")], written
                else:
                    assert path in written, (path, sorted(written))
            else:
                assert "gen_role_reference.py" in how and "render_diagrams.sh" in how, how
    assert [rel for rel in written if rel not in [p for paths in generated for p in paths]
            and not rel.startswith("roles/")] == []
