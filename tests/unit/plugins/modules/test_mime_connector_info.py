# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mime_connector_info module on temporary Teamware Office roots: what it finds, and that it changes nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.teamware.qmail.plugins.module_utils import connector
from ansible_collections.teamware.qmail.plugins.modules import mime_connector_info

from ..module_utils.document_example import example

SMTP = dict(teamware_integration_method="smtp_smtproutes", teamware_domains=["tw.company.com"])
TORECVM = dict(teamware_integration_method="torecvm_virtualdomains", teamware_domains=["tw.company.com"])
FORWARD = dict(teamware_integration_method="smtp_forward", teamware_domains=["company.com"], teamware_user_prefix="tw.",
               teamware_rewrite_domain="tw.company.com")


def settings_for(method_vars):
    return connector.compute(example(method_vars["teamware_integration_method"], **method_vars))


def as_written(settings):
    """to.ini and tombsmtp.ini as ini_file writes them into empty files."""
    to_ini, tombsmtp = ["[MIME]"], []
    for edit in settings["edits"]:
        lines = ["%s = %s" % (edit["option"], value) for value in edit["value_list"]]
        (to_ini if edit["file"] == connector.TO_INI else tombsmtp).extend(lines)
    return "\n".join(to_ini) + "\n", "".join(line + "\n" for line in tombsmtp)


def run_module(capsys, args, check_mode=False):
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            mime_connector_info.main()
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


def test_fresh_root_needs_every_edit(capsys, root):
    settings = settings_for(SMTP)
    result = run_module(capsys, {"settings": settings, "root": str(root)})
    assert result["rc"] == 0 and result["changed"] is False
    assert result["root"]["isdir"] is True and result["root"]["owner"]
    assert result["torecvm"] == {"path": "/usr/bin/torecvm", "needed": False, "executable": False}
    assert result["files"]["to.ini"] == {"path": str(root / "to.ini"), "exists": False}
    assert result["pending_edits"] == settings["edits"]
    assert result["needs_change"] is True and result["problems"] == []


def test_files_as_written_need_nothing(capsys, root):
    settings = settings_for(FORWARD)
    to_ini, tombsmtp = as_written(settings)
    write(root / "to.ini", "; kept\n[General]\nname = x\n" + to_ini.replace("mode = ", "mode=") + "[Other]\nmode = any\n")
    write(root / "tombsmtp.ini", "; nodes\n" + tombsmtp + "[Section]\nkey = 1\n", mode=0o600)
    before = snapshot(str(root))
    result = run_module(capsys, {"settings": settings, "root": str(root)}, check_mode=True)
    assert result["pending_edits"] == [] and result["needs_change"] is False and result["own_node_reorder"] is False
    assert result["own_node_current"] == ["company.com", "A:tw.company.com"]
    assert result["files"]["tombsmtp.ini"]["mode"] == "0600" and result["files"]["to.ini"]["mode"] == "0640"
    assert snapshot(str(root)) == before


@pytest.mark.parametrize("change, option", [
    (lambda text: text.replace("mode = strict", "mode = any"), "mode"),
    (lambda text: text.replace("no_relay = 1\n", ""), "no_relay"),
    (lambda text: text + "allow = other.com\n", "allow"),
    (lambda text: text.replace("[MIME]", "[MIME]\nsmtp_port = 25"), "smtp_port"),
])
def test_one_changed_setting_is_one_pending_edit(capsys, root, change, option):
    settings = settings_for(SMTP)
    to_ini, tombsmtp = as_written(settings)
    write(root / "to.ini", change(to_ini))
    write(root / "tombsmtp.ini", tombsmtp)
    result = run_module(capsys, {"settings": settings, "root": str(root)})
    assert [edit["option"] for edit in result["pending_edits"]] == [option]
    assert result["needs_change"] is True


def test_alias_before_its_base_address_is_reordered(capsys, root):
    settings = settings_for(FORWARD)
    to_ini, _tombsmtp = as_written(settings)
    write(root / "to.ini", to_ini)
    write(root / "tombsmtp.ini", "own_node = A:tw.company.com\nown_node = company.com\n")
    result = run_module(capsys, {"settings": settings, "root": str(root)})
    assert result["pending_edits"] == [] and result["own_node_reorder"] is True and result["needs_change"] is True


def test_other_paths_and_torecvm(capsys, root, tmp_path):
    settings = settings_for(TORECVM)
    torecvm = tmp_path / "torecvm"
    write(torecvm, "#!/bin/sh\nexit 0\n", mode=0o755)
    to_ini, tombsmtp = as_written(settings)
    write(tmp_path / "other-to.ini", to_ini)
    write(tmp_path / "other-tombsmtp.ini", tombsmtp)
    result = run_module(capsys, {"settings": settings, "root": str(root), "torecvm": str(torecvm),
                                 "to_ini": str(tmp_path / "other-to.ini"), "tombsmtp_ini": str(tmp_path / "other-tombsmtp.ini")})
    assert result["torecvm"] == {"path": str(torecvm), "needed": True, "executable": True}
    assert result["spool"] == {"path": str(root / "smtp"), "isdir": True}
    assert result["needs_change"] is False


def test_missing_root_and_torecvm(capsys, tmp_path):
    result = run_module(capsys, {"settings": settings_for(TORECVM), "root": str(tmp_path / "nowhere"),
                                 "torecvm": str(tmp_path / "no-torecvm")})
    assert result["rc"] == 0
    assert result["root"] == {"path": str(tmp_path / "nowhere"), "isdir": False}
    assert result["torecvm"]["needed"] is True and result["torecvm"]["executable"] is False
    assert result["spool"]["isdir"] is False


def test_torecvm_that_cannot_run(capsys, root, tmp_path):
    write(tmp_path / "torecvm", "#!/bin/sh\n", mode=0o644)
    result = run_module(capsys, {"settings": settings_for(TORECVM), "root": str(root), "torecvm": str(tmp_path / "torecvm")})
    assert result["torecvm"]["executable"] is False


@pytest.mark.parametrize("make, words", [
    (lambda root: write(root / "to.ini", b"[MIME]\nmode = \xe9\n"), "to.ini: %s/to.ini is not UTF-8 text (byte 14)"),
    (lambda root: (root / "to.ini").mkdir(), "to.ini: %s/to.ini is not a regular file"),
    (lambda root: write(root / "to.ini", "[mime]\nmode = strict\n"), "to.ini line 1: section [mime]"),
    (lambda root: write(root / "tombsmtp.ini", "[Nodes]\nown_node = x.com\n"), "own_node in section [Nodes]"),
])
def test_problems(capsys, root, make, words):
    make(root)
    result = run_module(capsys, {"settings": settings_for(SMTP), "root": str(root)})
    assert result["rc"] == 0 and result["needs_change"] is True
    assert any(words.replace("%s", str(root)) in problem for problem in result["problems"]), result["problems"]


def test_settings_must_come_from_the_filter(capsys, root):
    result = run_module(capsys, {"settings": {"edits": []}, "root": str(root)})
    assert result["failed"] is True and "settings: 'tombsmtp_ini' is missing" in result["msg"]


def test_the_settings_come_back_and_their_warnings_are_the_modules(capsys, root, monkeypatch):
    # Record warnings at the source (ansible-core may route them to its display once controller code is imported).
    warned = []
    monkeypatch.setattr(mime_connector_info.AnsibleModule, "warn", lambda self, text: warned.append(text))
    settings = dict(settings_for(SMTP), warnings=["mime_connector_mode any with mime_connector_no_relay 0 relays"])
    result = run_module(capsys, {"settings": settings, "root": str(root)})
    assert result["settings"] == settings
    assert warned == settings["warnings"]


def test_a_start_is_owed_after_an_interrupted_run_or_when_the_connector_does_not_run(capsys, root, tmp_path):
    settings = settings_for(SMTP)
    marker = tmp_path / "connector.state"
    plain = run_module(capsys, {"settings": settings, "root": str(root), "state_file": str(marker)})
    assert plain["start_owed"] is False and plain["running"] is None and plain["start_owed_reason"] == ""
    marker.write_text("stopped\n")
    owed = run_module(capsys, {"settings": settings, "root": str(root), "state_file": str(marker)}, check_mode=True)
    assert owed["start_owed"] is True and "did not start it again" in owed["start_owed_reason"]
    marker.unlink()
    stopped = run_module(capsys, {"settings": settings, "root": str(root), "status_command": "false"})
    assert stopped["running"] is False and stopped["start_owed"] is True
    assert "says the connector does not run" in stopped["start_owed_reason"]
    running = run_module(capsys, {"settings": settings, "root": str(root), "status_command": "true"})
    assert running["running"] is True and running["start_owed"] is False


def test_a_marker_that_cannot_be_looked_at_is_an_error_not_no_start_owed(capsys, root, tmp_path, deny_access):
    marker = str(tmp_path / "connector.state")
    deny_access("lstat", marker)
    result = run_module(capsys, {"settings": settings_for(SMTP), "root": str(root), "state_file": marker})
    assert result["failed"] is True and result["msg"] == ("state_file: cannot look at %s: Permission denied; "
                                                          "nothing changed" % marker)
