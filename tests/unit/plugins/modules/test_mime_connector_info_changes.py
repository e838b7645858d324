# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""mime_connector_info's changes are mime_connector_files' changes: both modules on the same files and inputs.

The role acts on the info module's ``changes`` (its one read-only call) and then lets the writer write; the two must
not drift.  Each case runs the info module and the writer in check mode on the same root and compares what they say,
failures included, and that the info module changed nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.teamware.qmail.plugins.modules import mime_connector_files, mime_connector_info

from .teamware_root import root, snapshot, write  # noqa: F401 pylint: disable=unused-import
from .test_mime_connector_files import FORWARD, SMTP, TORECVM, as_written, settings_for


def run(capsys, module, args, check_mode=False):
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


def both(capsys, root, settings, **extra):
    """(info's result, the writer's check-mode result) on the same files; the root unchanged by either."""
    files = dict({"settings": settings, "to_ini": str(root / "to.ini"), "tombsmtp_ini": str(root / "tombsmtp.ini")}, **extra)
    before = snapshot(str(root))
    info = run(capsys, mime_connector_info, dict(files, root=str(root)))
    assert snapshot(str(root)) == before
    writer = run(capsys, mime_connector_files, files, check_mode=True)
    assert snapshot(str(root)) == before
    return info, writer


def nothing(_root, _settings):
    """No to.ini and no tombsmtp.ini: every key is new."""


def as_the_role_writes(root, settings):
    to_ini, tombsmtp = as_written(settings)
    write(root / "to.ini", to_ini)
    write(root / "tombsmtp.ini", tombsmtp)


def crlf_bom_and_spaces(root, settings):
    to_ini, tombsmtp = as_written(settings)
    write(root / "to.ini", "; kept\r\n[General]\r\nname = x\r\n" + to_ini.replace("mode = ", "mode=").replace("\n", "\r\n"))
    write(root / "tombsmtp.ini", "\ufeff; nodes\n" + tombsmtp + "[Section]\nkey = 1\n")


def one_key_wrong(root, settings):
    to_ini, tombsmtp = as_written(settings)
    write(root / "to.ini", "[General]\nmode = any\n\n" + to_ini.replace("mode = strict", "mode = any") + "[X400]\nmode = relay\n")
    write(root / "tombsmtp.ini", tombsmtp)


def alias_before_its_base(root, settings):
    to_ini, _tombsmtp = as_written(settings)
    write(root / "to.ini", to_ini)
    write(root / "tombsmtp.ini", "; nodes\nown_node = A:tw.company.com\nown_node = company.com\n\n[Other]\nk = v\n")


def duplicates_and_a_foreign_node(root, settings):
    to_ini, tombsmtp = as_written(settings)
    write(root / "to.ini", to_ini.replace("[MIME]\n", "[MIME]\nmode = any\n").replace("\n", "\n; note\n", 1))
    write(root / "tombsmtp.ini", tombsmtp + "own_node = old.example\n")


def no_newline_at_the_end(root, settings):
    to_ini, tombsmtp = as_written(settings)
    write(root / "to.ini", to_ini.rstrip("\n"))
    write(root / "tombsmtp.ini", tombsmtp)


CASES = [
    (SMTP, nothing, True),
    (SMTP, as_the_role_writes, False),
    (FORWARD, as_the_role_writes, False),
    (TORECVM, as_the_role_writes, False),
    (FORWARD, crlf_bom_and_spaces, False),
    (SMTP, one_key_wrong, True),
    (FORWARD, alias_before_its_base, True),
    (FORWARD, duplicates_and_a_foreign_node, True),
    (TORECVM, no_newline_at_the_end, True),
]


@pytest.mark.parametrize("method_vars, make, changes", CASES, ids=[
    "%s-%s" % (case[0]["teamware_integration_method"], case[1].__name__) for case in CASES])
def test_the_info_modules_changes_are_the_writers(capsys, root, method_vars, make, changes):
    settings = settings_for(method_vars)
    make(root, settings)
    info, writer = both(capsys, root, settings)
    assert "failed" not in info and "failed" not in writer, (info, writer)
    assert info["changed"] is False
    assert info["changes"] == writer["changes"]
    assert info["files"] == writer["files"]
    assert bool(info["changes"]) is changes, info["changes"]
    if make is alias_before_its_base:
        assert info["changes"] == ["tombsmtp.ini own_node"]


@pytest.mark.parametrize("make, extra", [
    (lambda root: write(root / "to.ini", b"[MIME]\nmode = \xe9\n"), {}),
    (lambda root: (root / "to.ini").mkdir(), {}),
    (lambda root: write(root / "to.ini", "[mime]\nmode = strict\n"), {}),
    (lambda root: write(root / "tombsmtp.ini", "[Nodes]\nown_node = x.com\n"), {}),
    (lambda root: None, {"mode": "rw"}),
])
def test_the_info_module_fails_where_the_writer_would(capsys, root, make, extra):
    make(root)
    info, writer = both(capsys, root, settings_for(SMTP), **extra)
    assert info["failed"] is True and writer["failed"] is True
    assert info["msg"] == writer["msg"]
    assert info.get("problems") == writer.get("problems")


def test_without_settings_the_info_module_does_not_look_at_the_files(capsys, root):
    write(root / "to.ini", "[mime]\nmode = strict\n")
    result = run(capsys, mime_connector_info, {"root": str(root)})
    assert "failed" not in result and "changes" not in result and "files" not in result


def test_settings_need_both_files(capsys, root):
    result = run(capsys, mime_connector_info, {"root": str(root), "settings": settings_for(SMTP), "to_ini": str(root / "to.ini")})
    assert result["failed"] is True and "tombsmtp_ini" in result["msg"]
