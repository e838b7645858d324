# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared by the tests of mime_connector_info and mime_connector_files: a temporary Teamware Office root, files
written into it, a snapshot of it, and one module call with its exit code."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible.module_utils.testing import patch_module_args


def run_with_rc(module, capsys, args, check_mode=False):
    """One call of module.main(); its JSON result, with the exit code as rc."""
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            module.main()
    result = json.loads(capsys.readouterr().out)
    result["rc"] = exc.value.code
    return result


def snapshot(root):
    found = {}
    for directory, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            with open(path, "rb") as handle:
                found[path] = (handle.read(), os.stat(path).st_mode)
    return found


@pytest.fixture
def root(tmp_path):
    path = tmp_path / "to"
    (path / "smtp").mkdir(parents=True)
    return path


def write(path, text, mode=0o640):
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    path.chmod(mode)
