# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mime_connector_files module on temporary Teamware Office roots: what it writes, check mode, diff, refusals."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest


from ansible_collections.teamware.qmail.plugins.module_utils import connector
from ansible_collections.teamware.qmail.plugins.modules import mime_connector_files

from .teamware_root import root, run_with_rc, snapshot, write  # noqa: F401 pylint: disable=unused-import

from ..module_utils.document_example import example

SMTP = dict(teamware_integration_method="smtp_smtproutes", teamware_domains=["tw.company.com"])
TORECVM = dict(teamware_integration_method="torecvm_virtualdomains", teamware_domains=["tw.company.com"])
FORWARD = dict(teamware_integration_method="smtp_forward", teamware_domains=["company.com"], teamware_user_prefix="tw.",
               teamware_rewrite_domain="tw.company.com")


def settings_for(method_vars):
    return connector.compute(example(method_vars["teamware_integration_method"], **method_vars))


def as_written(settings):
    """to.ini and tombsmtp.ini as the keys are written into empty files (without the blank first line)."""
    to_ini, tombsmtp = ["[MIME]"], []
    for edit in settings["edits"]:
        lines = ["%s = %s" % (edit["option"], value) for value in edit["value_list"]]
        (to_ini if edit["file"] == connector.TO_INI else tombsmtp).extend(lines)
    return "\n".join(to_ini) + "\n", "".join(line + "\n" for line in tombsmtp)


def run_module(capsys, args, check_mode=False):
    return run_with_rc(mime_connector_files, capsys, args, check_mode=check_mode)


def args(root, settings, **extra):
    return dict({"settings": settings, "to_ini": str(root / "to.ini"), "tombsmtp_ini": str(root / "tombsmtp.ini")}, **extra)


def test_a_fresh_root_gets_every_key(capsys, root):
    settings = settings_for(SMTP)
    os.chmod(str(root), 0o750)
    result = run_module(capsys, dict(args(root, settings), _ansible_diff=True))
    assert result["rc"] == 0 and result["changed"] is True
    assert result["changes"] == ["to.ini [MIME] %s" % edit["option"] for edit in settings["edits"][:-1]] + ["tombsmtp.ini own_node"]
    assert result["files"]["to.ini"] == {"path": str(root / "to.ini"), "exists": False, "changed": True}
    to_ini, tombsmtp = as_written(settings)
    assert (root / "to.ini").read_text() == "\n" + to_ini
    assert (root / "tombsmtp.ini").read_text() == tombsmtp + "\n"
    assert oct((root / "to.ini").stat().st_mode & 0o7777) == "0o644"
    assert (root / "to.ini").stat().st_uid == root.stat().st_uid
    assert [entry["after_header"] for entry in result["diff"]] == [str(root / "to.ini"), str(root / "tombsmtp.ini")]
    assert result["diff"][0]["before_header"] == "%s (absent)" % (root / "to.ini")
    again = run_module(capsys, args(root, settings))
    assert again["changed"] is False and again["changes"] == []


def test_check_mode_changes_nothing(capsys, root):
    write(root / "to.ini", "[MIME]\nmode = any\n")
    before = snapshot(str(root))
    result = run_module(capsys, args(root, settings_for(SMTP), mode="0600"), check_mode=True)
    assert result["changed"] is True and "to.ini [MIME] mode" in result["changes"]
    assert snapshot(str(root)) == before


def test_files_as_written_need_nothing(capsys, root):
    settings = settings_for(FORWARD)
    to_ini, tombsmtp = as_written(settings)
    write(root / "to.ini", "; kept\r\n[General]\r\nname = x\r\n" + to_ini.replace("mode = ", "mode=").replace("\n", "\r\n"))
    write(root / "tombsmtp.ini", "\ufeff; nodes\n" + tombsmtp + "[Section]\nkey = 1\n", mode=0o600)
    before = snapshot(str(root))
    result = run_module(capsys, args(root, settings))
    assert result["changed"] is False and result["changes"] == []
    assert snapshot(str(root)) == before


def test_a_changed_key_keeps_the_rest_mode_and_owner(capsys, root):
    settings = settings_for(SMTP)
    to_ini, tombsmtp = as_written(settings)
    text = "; Teamware Office\n[General]\nmode = any\n\n" + to_ini.replace("mode = strict", "mode = any") + "; end\n\n[X400]\nmode = relay\n"
    write(root / "to.ini", text, mode=0o600)
    write(root / "tombsmtp.ini", tombsmtp)
    result = run_module(capsys, args(root, settings))
    assert result["changes"] == ["to.ini [MIME] mode"]
    assert (root / "to.ini").read_text() == text.replace("[MIME]\n" + "deliver_relayed_dsn = 0\nno_relay = 1\nmode = any",
                                                         "[MIME]\n" + "deliver_relayed_dsn = 0\nno_relay = 1\nmode = strict")
    assert oct((root / "to.ini").stat().st_mode & 0o7777) == "0o600"
    assert [name for name in os.listdir(str(root)) if name.startswith(".")] == []


def test_alias_before_its_base_address_is_written_again_in_order(capsys, root):
    settings = settings_for(FORWARD)
    to_ini, _tombsmtp = as_written(settings)
    write(root / "to.ini", to_ini)
    write(root / "tombsmtp.ini", "; nodes\nown_node = A:tw.company.com\nown_node = company.com\n\n[Other]\nk = v\n")
    result = run_module(capsys, args(root, settings))
    assert result["changes"] == ["tombsmtp.ini own_node"]
    # As ini_file did: the top of the file holds only a comment once the lines are gone, so they go before it.
    assert (root / "tombsmtp.ini").read_text() == "own_node = company.com\nown_node = A:tw.company.com\n; nodes\n\n[Other]\nk = v\n"


@pytest.mark.parametrize("make, words", [
    (lambda root: write(root / "to.ini", b"[MIME]\nmode = \xe9\n"), "to.ini: %s/to.ini is not UTF-8 text (byte 14)"),
    (lambda root: (root / "to.ini").mkdir(), "to.ini: %s/to.ini is not a regular file"),
    (lambda root: write(root / "to.ini", "[mime]\nmode = strict\n"), "to.ini line 1: section [mime]"),
    (lambda root: write(root / "tombsmtp.ini", "[Nodes]\nown_node = x.com\n"), "own_node in section [Nodes]"),
])
def test_lines_to_fix_by_hand_stop_it_before_any_change(capsys, root, make, words):
    make(root)
    before = snapshot(str(root))
    result = run_module(capsys, args(root, settings_for(SMTP)))
    assert result["failed"] is True and "nothing changed" in result["msg"]
    assert any(words.replace("%s", str(root)) in problem for problem in result["problems"]), result["problems"]
    assert snapshot(str(root)) == before


def test_a_missing_directory_and_a_bad_mode_fail(capsys, root, tmp_path):
    result = run_module(capsys, args(tmp_path / "nowhere", settings_for(SMTP)))
    assert result["failed"] is True and "its directory" in result["msg"]
    settings = settings_for(SMTP)
    to_ini, tombsmtp = as_written(settings)
    write(root / "to.ini", to_ini.replace("strict", "any"))
    write(root / "tombsmtp.ini", tombsmtp)
    before = snapshot(str(root))
    result = run_module(capsys, args(root, settings, mode="rw"))
    assert result["failed"] is True and "mode: 'rw'" in result["msg"]
    assert snapshot(str(root)) == before


def test_settings_must_come_from_the_filter(capsys, root):
    result = run_module(capsys, args(root, {"to_ini": {}}))
    assert result["failed"] is True and "settings: 'edits' is missing" in result["msg"]


def test_the_settings_warnings_are_the_modules_and_nothing_is_echoed(capsys, root, monkeypatch):
    # Record warnings at the source (ansible-core may route them to its display once controller code is imported).
    warned = []
    monkeypatch.setattr(mime_connector_files.AnsibleModule, "warn", lambda self, text: warned.append(text))
    settings = dict(settings_for(SMTP), warnings=["mime_connector_mode any with mime_connector_no_relay 0 relays"])
    result = run_module(capsys, args(root, settings), check_mode=True)
    assert "settings" not in result
    assert warned == settings["warnings"]


@pytest.mark.parametrize("check_mode", [True, False])
def test_the_role_leaves_the_settings_warnings_to_its_look(capsys, root, monkeypatch, check_mode):
    """settings_warnings false (the role's apply; mime_connector_info's look showed them): the write says nothing."""
    warned = []
    monkeypatch.setattr(mime_connector_files.AnsibleModule, "warn", lambda self, text: warned.append(text))
    settings = dict(settings_for(SMTP), warnings=["mime_connector_mode any with mime_connector_no_relay 0 relays"])
    result = run_module(capsys, dict(args(root, settings), settings_warnings=False), check_mode=check_mode)
    assert result["changes"] and warned == []
