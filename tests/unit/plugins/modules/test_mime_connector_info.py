# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mime_connector_info module on temporary Teamware Office roots: what it finds, and that it changes nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.teamware.qmail.plugins.modules import mime_connector_info

from .teamware_root import root, run_with_rc, snapshot, write  # noqa: F401 pylint: disable=unused-import


def run_module(capsys, args, check_mode=False):
    return run_with_rc(mime_connector_info, capsys, args, check_mode=check_mode)


def test_a_root_as_it_is(capsys, root):
    before = snapshot(str(root))
    result = run_module(capsys, {"root": str(root)})
    assert result["rc"] == 0 and result["changed"] is False
    assert result["root"]["isdir"] is True and result["root"]["owner"]
    assert result["torecvm"] == {"path": "/usr/bin/torecvm", "needed": False, "executable": False}
    assert result["spool"] == {"path": str(root / "smtp"), "isdir": True}
    assert "settings" not in result and "files" not in result
    assert snapshot(str(root)) == before


def test_torecvm_where_it_is_needed(capsys, root, tmp_path):
    torecvm = tmp_path / "torecvm"
    write(torecvm, "#!/bin/sh\nexit 0\n", mode=0o755)
    result = run_module(capsys, {"root": str(root), "torecvm": str(torecvm), "torecvm_needed": True}, check_mode=True)
    assert result["torecvm"] == {"path": str(torecvm), "needed": True, "executable": True}


def test_missing_root_and_torecvm(capsys, tmp_path):
    result = run_module(capsys, {"root": str(tmp_path / "nowhere"), "torecvm": str(tmp_path / "no-torecvm"),
                                 "torecvm_needed": True})
    assert result["rc"] == 0
    assert result["root"] == {"path": str(tmp_path / "nowhere"), "isdir": False}
    assert result["torecvm"]["needed"] is True and result["torecvm"]["executable"] is False
    assert result["spool"]["isdir"] is False


def test_require_installed_fails_naming_the_roles_variables(capsys, tmp_path):
    """require_installed: the role's look stops the run here, with every missing part named, before any change."""
    nowhere, torecvm = tmp_path / "nowhere", tmp_path / "no-torecvm"
    result = run_module(capsys, {"root": str(nowhere), "torecvm": str(torecvm), "torecvm_needed": True,
                                 "require_installed": True}, check_mode=True)
    assert result["rc"] == 1 and result["failed"] is True
    assert ("mime_connector_root (default teamware_root): %s is not a directory; is Teamware Office installed?"
            % nowhere) in result["msg"]
    assert ("mime_connector_torecvm_path (default teamware_torecvm): method (unknown) pipes mail into torecvm, but %s "
            "is not an executable file" % torecvm) in result["msg"]
    assert "torecvm delivers into %s, which is not a directory" % (nowhere / "smtp") in result["msg"]


def test_require_installed_passes_where_teamware_office_is_there(capsys, root, tmp_path):
    torecvm = tmp_path / "torecvm"
    write(torecvm, "#!/bin/sh\nexit 0\n", mode=0o755)
    plain = run_module(capsys, {"root": str(root), "require_installed": True})
    assert plain["rc"] == 0 and plain["root"]["isdir"] is True
    needed = run_module(capsys, {"root": str(root), "torecvm": str(torecvm), "torecvm_needed": True,
                                 "require_installed": True})
    assert needed["rc"] == 0 and needed["torecvm"]["executable"] is True
    (root / "smtp").rmdir()
    spool = run_module(capsys, {"root": str(root), "torecvm": str(torecvm), "torecvm_needed": True,
                                "require_installed": True})
    assert spool["rc"] == 1 and spool["msg"] == ("mime_connector_root (default teamware_root): torecvm delivers into "
                                                 "%s, which is not a directory;" % (root / "smtp"))
    # Without torecvm_needed neither torecvm nor the spool is asked for.
    assert run_module(capsys, {"root": str(root), "require_installed": True})["rc"] == 0


def test_torecvm_that_cannot_run(capsys, root, tmp_path):
    write(tmp_path / "torecvm", "#!/bin/sh\n", mode=0o644)
    result = run_module(capsys, {"root": str(root), "torecvm": str(tmp_path / "torecvm"), "torecvm_needed": True})
    assert result["torecvm"]["executable"] is False


def test_a_start_is_owed_after_an_interrupted_run_or_when_the_connector_does_not_run(capsys, root, tmp_path):
    marker = tmp_path / "connector.state"
    plain = run_module(capsys, {"root": str(root), "state_file": str(marker)})
    assert plain["start_owed"] is False and plain["running"] is None and plain["start_owed_reason"] == ""
    marker.write_text("stopped\n")
    owed = run_module(capsys, {"root": str(root), "state_file": str(marker)}, check_mode=True)
    assert owed["start_owed"] is True and "did not start it again" in owed["start_owed_reason"]
    marker.unlink()
    stopped = run_module(capsys, {"root": str(root), "status_command": "false"})
    assert stopped["running"] is False and stopped["start_owed"] is True
    assert "says the connector does not run" in stopped["start_owed_reason"]
    running = run_module(capsys, {"root": str(root), "status_command": "true"})
    assert running["running"] is True and running["start_owed"] is False


def test_a_marker_that_cannot_be_looked_at_is_an_error_not_no_start_owed(capsys, root, tmp_path, deny_access):
    marker = str(tmp_path / "connector.state")
    deny_access("lstat", marker)
    result = run_module(capsys, {"root": str(root), "state_file": marker})
    assert result["failed"] is True and result["msg"] == ("state_file: cannot look at %s: Permission denied; "
                                                          "nothing changed" % marker)
