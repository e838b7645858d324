# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CI time budget: .ci/stage-budget (what make test prints) and docs/testing.md's table say the same."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def budget_file():
    budget = {}
    with open(os.path.join(ROOT, ".ci", "stage-budget")) as handle:
        for line in handle:
            line = line.strip()
            if line and not line.startswith("#"):
                stage, seconds = line.split()
                budget[stage] = int(seconds)
    return budget


def budget_doc():
    with open(os.path.join(ROOT, "docs", "testing.md")) as handle:
        text = handle.read()
    section = text.split("## CI time budget", 1)[1].split("\n## ", 1)[0]
    return dict((stage, int(seconds)) for stage, seconds in re.findall(r"^\| ([a-z-]+) \| (\d+) \|$", section, re.M))


def make_stages():
    with open(os.path.join(ROOT, "Makefile")) as handle:
        return re.search(r"^TEST_STAGES := (.*)$", handle.read(), re.M).group(1).split()


def test_the_docs_table_is_the_budget_file():
    assert budget_doc() == budget_file()


def test_every_stage_of_make_test_and_ci_has_a_budget():
    stages = set(make_stages()) | {"system-packages", "toolchains"}
    assert stages <= set(budget_file())


def test_the_budget_is_the_45_minute_goal():
    assert sum(budget_file().values()) == 45 * 60
