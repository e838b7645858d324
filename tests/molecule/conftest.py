# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the Molecule scenarios' tests (run by `molecule verify`; see molecule/README.md).

Each test module has applies(scenario): the modules that do not apply to the scenario under test are
deselected (not skipped), so that a skip always means something is missing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lab import Lab, Scenario  # noqa: E402  pylint: disable=wrong-import-position


def pytest_collection_modifyitems(config, items):
    scenario = Scenario()
    keep, drop = [], []
    for item in items:
        applies = getattr(item.module, "applies", None)
        (keep if applies is None or applies(scenario) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def scenario():
    return Scenario()


@pytest.fixture(scope="session")
def lab(scenario):
    return Lab(scenario)
