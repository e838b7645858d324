# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""qmail_send_service: qmail-send's daemontools service in one call (files, link, check mode, diff, restart, errors)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import os
import pwd
import stat

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import send_service
from ansible_collections.teamware.qmail.plugins.module_utils.validators import ValidationError
from ansible_collections.teamware.qmail.plugins.modules import qmail_send_service

from .conftest import run_module

LOG_USER = pwd.getpwuid(os.getuid()).pw_name


run = functools.partial(run_module, qmail_send_service)


@pytest.fixture
def tree(tmp_path):
    qmail = tmp_path / "qmail"
    qmail.mkdir()
    return dict(qmail_dir=str(qmail), service_dir=str(tmp_path / "service"), log_user=LOG_USER)


def test_run_scripts_quote_the_delivery():
    settings = send_service.SendService.from_vars("/var/qmail", "/service", "qmail-send", "./Mail box/", "qmaill")
    run = settings.run_script()
    assert run.startswith("#!/bin/sh\n")
    assert run.endswith("exec env - PATH=/var/qmail/bin:/usr/local/bin:/usr/bin:/bin qmail-start './Mail box/'\n")
    assert settings.log_run_script().endswith("exec setuidgid qmaill multilog t ./main\n")
    assert settings.service.real_dir == "/var/qmail/supervise/qmail-send"
    assert settings.service.link == "/service/qmail-send"


def test_bad_settings_name_every_variable():
    with pytest.raises(ValidationError) as caught:
        send_service.SendService.from_vars("var/qmail", "/service", ".hidden", "a\nb", "Bad User")
    variables = [variable for variable, _reason in caught.value.problems]
    assert variables == ["qmail_dir", "qmail_send_service_name", "qmail_default_delivery", "log_user"]


def test_scan_directory_inside_the_service_is_refused():
    with pytest.raises(ValidationError, match="qmail_service_dir"):
        send_service.SendService.from_vars("/var/qmail", "/var/qmail/supervise", "qmail-send", "./Maildir/", "qmaill")


def test_builds_the_service_then_changes_nothing(capsys, tree):
    first = run(capsys, tree)
    assert first["changed"] is True
    assert first["restart_needed"] is False  # a new service is started by supervise itself
    real = os.path.join(tree["qmail_dir"], "supervise", "qmail-send")
    assert os.readlink(os.path.join(tree["service_dir"], "qmail-send")) == real
    assert first["changes"][-1]["kind"] == "link"  # the link comes last
    for path in ("run", "log/run"):
        info = os.stat(os.path.join(real, path))
        assert stat.S_IMODE(info.st_mode) == 0o755
    assert os.path.isdir(os.path.join(real, "log", "main"))
    with open(os.path.join(real, "run")) as handle:
        assert handle.read() == first["run_script"]
    second = run(capsys, tree)
    assert second["changed"] is False and second["changes"] == [] and second["restart_needed"] is False


def test_check_mode_and_diff_change_nothing(capsys, tree):
    result = run(capsys, tree, check=True, diff=True)
    assert result["changed"] is True
    assert not os.path.exists(os.path.join(tree["qmail_dir"], "supervise"))
    assert not os.path.exists(tree["service_dir"])
    assert any(entry["after_header"].endswith("/qmail-send/run") for entry in result["diff"])


def test_a_new_default_delivery_needs_a_restart(capsys, tree):
    run(capsys, tree)
    predicted = run(capsys, dict(tree, default_delivery="./Mailbox"), check=True)
    assert predicted["changed"] is True and predicted["restart_needed"] is True
    changed = run(capsys, dict(tree, default_delivery="./Mailbox"))
    assert changed["restart_needed"] is True
    assert [c["kind"] for c in changed["changes"]] == ["run script", "state"]
    # A run killed before the restart: the next call still says it is owed, until it is reported done.
    again = run(capsys, dict(tree, default_delivery="./Mailbox"))
    assert again["changed"] is False and again["restart_needed"] is True
    done = run(capsys, dict(tree, default_delivery="./Mailbox", completed_actions=["restart_qmail_send"]))
    assert done["changed"] is True and done["restart_needed"] is False
    assert not os.path.exists(os.path.join(tree["qmail_dir"], "supervise", "qmail-send", "teamware-qmail.json"))
    assert run(capsys, dict(tree, default_delivery="./Mailbox"))["changed"] is False


def test_a_state_file_that_is_not_ours_stops_everything(capsys, tree):
    run(capsys, tree)
    state = os.path.join(tree["qmail_dir"], "supervise", "qmail-send", "teamware-qmail.json")
    with open(state, "w") as handle:
        handle.write("not json")
    result = run(capsys, dict(tree, default_delivery="./Mailbox"))
    assert result["failed"] is True and "teamware-qmail.json" in result["msg"]
    with open(os.path.join(tree["qmail_dir"], "supervise", "qmail-send", "run")) as handle:
        assert "./Maildir/" in handle.read()


def test_a_log_run_change_alone_needs_no_restart_of_qmail_send(capsys, tree):
    run(capsys, tree)
    log_run = os.path.join(tree["qmail_dir"], "supervise", "qmail-send", "log", "run")
    with open(log_run, "w") as handle:
        handle.write("#!/bin/sh\nexec cat\n")
    result = run(capsys, tree)
    assert result["changed"] is True and result["restart_needed"] is False


def test_a_foreign_entry_in_the_scan_directory_stops_everything(capsys, tree):
    os.makedirs(os.path.join(tree["service_dir"], "qmail-send"))
    result = run(capsys, tree)
    assert result["failed"] is True
    assert "qmail_service_dir" in result["msg"] and "not a symbolic link" in result["msg"]
    assert not os.path.exists(os.path.join(tree["qmail_dir"], "supervise"))


def test_a_missing_log_user_fails_before_any_change(capsys, tree):
    result = run(capsys, dict(tree, log_user="no-such-user-twq"))
    assert result["failed"] is True and "log_user" in result["msg"]
    assert not os.path.exists(os.path.join(tree["qmail_dir"], "supervise"))


def test_accounts_give_the_log_user_without_passwd(capsys, tree):
    args = dict(tree, log_user="qmaill-not-in-passwd", accounts={"qmaill-not-in-passwd": {"uid": os.getuid(), "gid": 0}})
    assert run(capsys, args)["changed"] is True
    log_main = os.path.join(tree["qmail_dir"], "supervise", "qmail-send", "log", "main")
    assert os.stat(log_main).st_uid == os.getuid()
    bad = run(capsys, dict(args, accounts={"qmaill-not-in-passwd": {"uid": "x"}}))
    assert bad["failed"] is True and "qmail_accounts" in bad["msg"]
