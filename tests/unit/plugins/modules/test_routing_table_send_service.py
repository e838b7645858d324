# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""routing_table's send_service: qmail-send's daemontools service in the same call as the routing files (files, link,
check mode, diff, restart, errors, the order of the writes)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import functools
import os
import pwd
import stat

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import send_service
from ansible_collections.teamware.qmail.plugins.module_utils.validators import ValidationError
from ansible_collections.teamware.qmail.plugins.modules import routing_table

from .conftest import run_module
from .test_routing_table import Tree

LOG_USER = pwd.getpwuid(os.getuid()).pw_name

run = functools.partial(run_module, routing_table)


class SendTree(Tree):
    """A qmail tree and a scan directory beside it."""

    def __init__(self, root):
        Tree.__init__(self, root)
        self.service_dir = os.path.join(self.root, "service")
        self.real = os.path.join(self.qmail, "supervise", "qmail-send")

    def send_args(self, method="smtp_smtproutes", **service):
        return self.args(method, send_service=dict(dict(service_dir=self.service_dir, log_user=LOG_USER), **service))

    def newu(self):
        """What qmail-newu leaves: users/cdb newer than users/assign (without it every call owes qmail-newu)."""
        self.write("users/cdb", "")
        assign = self.path("users/assign")
        if os.path.exists(assign):
            later = os.stat(assign).st_mtime + 10
            os.utime(self.path("users/cdb"), (later, later))

    def link(self):
        return os.path.join(self.service_dir, "qmail-send")


@pytest.fixture
def tree(tmp_path):
    return SendTree(tmp_path)


# --- the core: settings and run scripts ------------------------------------------------------

def test_run_scripts_quote_the_delivery():
    settings = send_service.SendService.from_vars("/var/qmail", "/service", "qmail-send", "./Mail box/", "qmaill")
    run_script = settings.run_script()
    assert run_script.startswith("#!/bin/sh\n")
    assert run_script.endswith("exec env - PATH=/var/qmail/bin:/usr/local/bin:/usr/bin:/bin qmail-start './Mail box/'\n")
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


def test_the_module_knows_the_services_actions_and_imports_it_only_when_asked():
    assert set(send_service.OWED_ACTIONS) <= set(routing_table.ARGUMENT_SPEC["completed_actions"]["choices"])
    with open(routing_table.__file__) as handle:
        top = ast.parse(handle.read()).body
    imported = [alias.name for node in top if isinstance(node, ast.ImportFrom) for alias in node.names]
    assert "routing_files" in imported and "send_service" not in imported


# --- the module ----------------------------------------------------------------------------------

def test_without_the_option_the_service_is_not_touched(capsys, tree):
    result = run(capsys, tree.args("smtp_smtproutes"))
    assert result["changed"] is True
    assert result["send_service"] == {"changes": [], "restart_needed": False, "link_deferred": False}
    assert not os.path.exists(os.path.join(tree.qmail, "supervise")) and not os.path.exists(tree.service_dir)


def test_builds_the_service_then_links_it_once_the_follow_up_ran(capsys, tree):
    first = run(capsys, tree.send_args())
    assert first["changed"] is True and first["follow_up_needed"] is True
    assert first["actions"] == {"hup_qmail_send": True, "rebuild_users_cdb": True}
    assert first["changes"] and all(c["kind"] != "link" for c in first["changes"])  # the routing files' own list
    service = first["send_service"]
    assert service["restart_needed"] is False  # a new service is started by supervise itself
    # svscan would start qmail-send within 5 s, before qmail-newu and the HUP: the link waits for them
    assert service["link_deferred"] is True
    assert service["changes"] and all(c["kind"] != "link" for c in service["changes"])
    assert not os.path.lexists(tree.link()) and os.path.isdir(tree.service_dir)
    for path in ("run", "log/run"):
        assert stat.S_IMODE(os.stat(os.path.join(tree.real, path)).st_mode) == 0o755
    assert os.path.isdir(os.path.join(tree.real, "log", "main"))
    with open(os.path.join(tree.real, "run")) as handle:
        assert handle.read() == service["run_script"]
    # qmail-newu alone is not enough: the HUP is still owed until a call says it ran
    tree.newu()
    waiting = run(capsys, tree.send_args())
    assert waiting["changed"] is False and waiting["actions"]["hup_qmail_send"] is True
    assert waiting["send_service"]["link_deferred"] is True and not os.path.lexists(tree.link())
    linked = run(capsys, dict(tree.send_args(), completed_actions=["hup_qmail_send"]))
    assert linked["changed"] is True and linked["follow_up_needed"] is False
    assert [c["kind"] for c in linked["send_service"]["changes"]] == ["link"]
    assert linked["send_service"]["link_deferred"] is False
    assert os.readlink(tree.link()) == tree.real
    second = run(capsys, tree.send_args())
    assert second["changed"] is False and second["send_service"]["changes"] == []
    assert second["send_service"]["restart_needed"] is False and second["send_service"]["link_deferred"] is False


def test_without_follow_up_the_new_link_is_created_at_once(capsys, tree):
    """Also: a change of the service alone is a change of the call."""
    run(capsys, tree.args("smtp_smtproutes"))
    tree.newu()
    run(capsys, dict(tree.args("smtp_smtproutes"), completed_actions=["hup_qmail_send"]))
    result = run(capsys, tree.send_args())
    assert result["changed"] is True and result["changes"] == [] and result["follow_up_needed"] is False
    assert result["send_service"]["changes"][-1]["kind"] == "link"  # the link comes last
    assert result["send_service"]["link_deferred"] is False
    assert os.readlink(tree.link()) == tree.real
    assert run(capsys, tree.send_args())["changed"] is False


def test_stale_files_removed_by_the_same_call_do_not_hold_the_link(capsys, tree):
    tree.newu()
    run(capsys, tree.args("torecvm_users"))  # leaves the routing user's marked .qmail files
    tree.newu()
    run(capsys, dict(tree.args("torecvm_users"), completed_actions=["hup_qmail_send"]))
    kept = run(capsys, dict(tree.send_args(), remove_stale=False))
    assert kept["stale"] and kept["send_service"]["link_deferred"] is True and not os.path.lexists(tree.link())
    tree.newu()
    removed = run(capsys, dict(tree.send_args(), remove_stale=True, completed_actions=["hup_qmail_send"]))
    assert removed["follow_up_needed"] is True  # it reports the files it removed
    assert removed["send_service"]["link_deferred"] is False and os.readlink(tree.link()) == tree.real


def test_a_link_to_the_wrong_place_is_set_right_at_once(capsys, tree):
    os.makedirs(tree.service_dir)
    os.symlink(os.path.join(tree.root, "elsewhere"), tree.link())
    result = run(capsys, tree.send_args())
    assert result["follow_up_needed"] is True and result["send_service"]["link_deferred"] is False
    assert os.readlink(tree.link()) == tree.real


def test_the_routing_files_are_written_before_the_service(capsys, tree, monkeypatch):
    order = []
    write_changes, apply = routing_table.write_changes, send_service.Part.apply
    monkeypatch.setattr(routing_table, "write_changes", lambda *args: order.append("routing") or write_changes(*args))
    monkeypatch.setattr(send_service.Part, "apply", lambda self: order.append("service") or apply(self))
    run(capsys, tree.send_args())
    assert order == ["routing", "service"]


def test_check_mode_and_diff_change_nothing(capsys, tree):
    before = tree.snapshot()
    result = run(capsys, tree.send_args(), check=True, diff=True)
    assert result["changed"] is True
    assert tree.snapshot() == before
    assert not os.path.exists(os.path.join(tree.qmail, "supervise"))
    assert not os.path.exists(tree.service_dir)
    headers = [entry["after_header"] for entry in result["diff"]]
    assert any(header.endswith("/qmail-send/run") for header in headers)
    assert any(header.endswith("/control/smtproutes") for header in headers)
    # the link waits for qmail-newu and the HUP, but the run creates it: check mode still shows it, and says it waits
    assert result["send_service"]["link_deferred"] is True
    assert result["send_service"]["changes"][-1]["kind"] == "link"
    assert any(header == tree.link() or header.endswith("/service/qmail-send") for header in headers)


def test_a_new_default_delivery_needs_a_restart(capsys, tree):
    run(capsys, tree.send_args())
    mailbox = functools.partial(tree.send_args, default_delivery="./Mailbox")
    predicted = run(capsys, mailbox(), check=True)
    assert predicted["changed"] is True and predicted["send_service"]["restart_needed"] is True
    changed = run(capsys, mailbox())
    assert changed["send_service"]["restart_needed"] is True
    assert [c["kind"] for c in changed["send_service"]["changes"]] == ["run script", "state"]
    # A run killed before the restart: the next call still says it is owed, until it is reported done; the routing's
    # own completed actions do not clear it.
    again = run(capsys, mailbox())
    assert again["changed"] is False and again["send_service"]["restart_needed"] is True
    routing_done = run(capsys, dict(mailbox(), completed_actions=["hup_qmail_send"]))
    assert routing_done["send_service"]["restart_needed"] is True
    done = run(capsys, dict(mailbox(), completed_actions=["restart_qmail_send"]))
    assert done["changed"] is True and done["send_service"]["restart_needed"] is False
    assert not os.path.exists(os.path.join(tree.real, "teamware-qmail.json"))
    assert run(capsys, mailbox())["changed"] is False


def test_a_state_file_that_is_not_ours_stops_everything(capsys, tree):
    run(capsys, tree.send_args())
    with open(os.path.join(tree.real, "teamware-qmail.json"), "w") as handle:
        handle.write("not json")
    result = run(capsys, tree.send_args(default_delivery="./Mailbox"))
    assert result["failed"] is True and "teamware-qmail.json" in result["msg"]
    assert "qmail_send_service_name" in result["msg"]
    with open(os.path.join(tree.real, "run")) as handle:
        assert "./Maildir/" in handle.read()


def test_a_log_run_change_alone_needs_no_restart_of_qmail_send(capsys, tree):
    run(capsys, tree.send_args())
    with open(os.path.join(tree.real, "log", "run"), "w") as handle:
        handle.write("#!/bin/sh\nexec cat\n")
    result = run(capsys, tree.send_args())
    assert result["changed"] is True and result["send_service"]["restart_needed"] is False


def test_a_foreign_entry_in_the_scan_directory_stops_everything(capsys, tree):
    os.makedirs(os.path.join(tree.service_dir, "qmail-send"))
    before = tree.snapshot()
    result = run(capsys, tree.send_args())
    assert result["failed"] is True
    assert "qmail_service_dir" in result["msg"] and "not a symbolic link" in result["msg"]
    assert not os.path.exists(os.path.join(tree.qmail, "supervise"))
    assert tree.snapshot() == before  # nor any routing file


@pytest.mark.parametrize("service, variable", [
    (dict(service_name=".hidden"), "qmail_send_service_name"),
    (dict(default_delivery="a\nb"), "qmail_default_delivery"),
    (dict(service_dir="service"), "qmail_service_dir"),
    (dict(log_user="Bad User"), "log_user"),
])
def test_bad_values_fail_before_anything_changes(capsys, tree, service, variable):
    before = tree.snapshot()
    result = run(capsys, tree.send_args(**service))
    assert result["failed"] is True and variable in result["msg"] and "nothing changed" in result["msg"]
    assert [problem["variable"] for problem in result["problems"]] == [variable]
    assert tree.snapshot() == before


def test_a_missing_log_user_fails_before_any_change(capsys, tree):
    before = tree.snapshot()
    result = run(capsys, tree.send_args(log_user="no-such-user-twq"))
    assert result["failed"] is True and "log_user" in result["msg"]
    assert tree.snapshot() == before


def test_a_missing_log_user_is_only_a_warning_in_check_mode(capsys, tree, monkeypatch):
    warned = []
    monkeypatch.setattr(routing_table.AnsibleModule, "warn", lambda self, text: warned.append(text))
    result = run(capsys, tree.send_args(log_user="no-such-user-twq"), check=True)
    assert result["changed"] is True and any("no-such-user-twq" in text for text in warned)


def test_accounts_give_the_log_user_without_passwd(capsys, tree):
    args = tree.send_args(log_user="qmaill-not-in-passwd")
    args["qmail_accounts"]["qmaill-not-in-passwd"] = {"uid": os.getuid(), "gid": 0}
    assert run(capsys, args)["changed"] is True
    assert os.stat(os.path.join(tree.real, "log", "main")).st_uid == os.getuid()
    args["qmail_accounts"]["qmaill-not-in-passwd"] = {"uid": "x"}
    bad = run(capsys, args)
    assert bad["failed"] is True and "qmail_accounts" in bad["msg"]


def test_a_missing_routing_user_holds_the_service_too(capsys, tree):
    args = dict(tree.send_args("torecvm_users"), teamware_routing_user="twu-not-created", routing_user_home="/home/twu-not-created")
    del args["qmail_accounts"]["twu"]
    before = tree.snapshot()
    result = run(capsys, args)
    assert result["routing_user_needed"] is True and result["changed"] is False
    assert result["send_service"] == {"changes": [], "restart_needed": False, "link_deferred": False}
    assert tree.snapshot() == before
    assert not os.path.exists(os.path.join(tree.qmail, "supervise")) and not os.path.exists(tree.service_dir)
    # the service's settings are checked all the same, before the role creates the user
    bad = run(capsys, dict(args, send_service=dict(args["send_service"], service_name=".hidden")))
    assert bad["failed"] is True and "qmail_send_service_name" in bad["msg"]
