# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared by the module tests: one call of a module's main(), a temporary etc directory, a stand-in for tcprules."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.testing import patch_module_args

FAKE_TCPRULES = """#!/bin/sh
# Records how it was called, then behaves like tcprules: writes $2, renames it onto $1.
printf '%s\\n' "$@" > "{log}/args"
cat > "{log}/stdin"
[ -n "$FAIL" ] && {{ echo "tcprules: fatal: simulated" >&2; exit 111; }}
cp "{log}/stdin" "$2" && mv "$2" "$1"
"""


def run_module(module, capsys, args, check=False, diff=False):
    """One call of module.main() with args (and check mode, diff); the module's JSON result."""
    with patch_module_args(dict(args, _ansible_check_mode=check, _ansible_diff=diff)):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def etc(tmp_path):
    path = tmp_path / "etc"
    path.mkdir()
    return path


@pytest.fixture
def fake_tcprules(tmp_path):
    """(path of a tcprules stand-in, the directory where it records its arguments and its input)."""
    log = tmp_path / "tcprules-log"
    log.mkdir()
    script = tmp_path / "fake-tcprules"
    script.write_text(FAKE_TCPRULES.format(log=log))
    script.chmod(0o755)
    return str(script), log
