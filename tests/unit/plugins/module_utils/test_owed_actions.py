# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""owed_actions: the state file of what a change still owes a service (read, checked, recorded, cleared)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import files
from ansible_collections.teamware.qmail.plugins.module_utils import front_end_service
from ansible_collections.teamware.qmail.plugins.module_utils import owed_actions
from ansible_collections.teamware.qmail.plugins.module_utils import ownership
from ansible_collections.teamware.qmail.plugins.module_utils import routing_files
from ansible_collections.teamware.qmail.plugins.module_utils import send_service

KNOWN = ("restart_tcpserver", "restart_logger")
NOTE = "a note for the admin"


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / owed_actions.STATE_NAME)


def write(path, data):
    with open(path, "w") as handle:
        handle.write(data if isinstance(data, str) else json.dumps(data))


def test_no_file_owes_nothing_and_must_not_exist(path):
    assert owed_actions.load(path, KNOWN) == []
    owed, state = owed_actions.owed_state(path, KNOWN, [], [], NOTE)
    assert owed == [] and state.path == path and state.content is None and files.plan(state) is None


def test_the_on_disk_format_stays_what_existing_hosts_have(path):
    owed, state = owed_actions.owed_state(path, KNOWN, [], ["restart_logger", "restart_tcpserver"], NOTE)
    assert owed == ["restart_tcpserver", "restart_logger"]  # in the order of known, not of the call
    assert state.content == ('{\n "format": 1,\n "note": "a note for the admin",\n'
                             ' "owed": [\n  "restart_tcpserver",\n  "restart_logger"\n ]\n}\n')
    assert state.mode == 0o644 and state.kind == "state"


def test_recorded_actions_stay_owed_until_completed(path):
    write(path, {"format": 1, "owed": ["restart_logger", "restart_tcpserver"], "note": "x"})
    assert owed_actions.load(path, KNOWN) == ["restart_tcpserver", "restart_logger"]
    owed, state = owed_actions.owed_state(path, KNOWN, ["restart_tcpserver"], [], NOTE)
    assert owed == ["restart_logger"] and json.loads(state.content)["owed"] == ["restart_logger"]
    owed, state = owed_actions.owed_state(path, KNOWN, ["restart_tcpserver", "restart_logger"], [], NOTE)
    assert owed == [] and state.content is None and files.plan(state)["action"] == "remove"


def test_a_new_action_is_owed_even_when_an_older_one_of_its_kind_was_completed(path):
    write(path, {"format": 1, "owed": ["restart_tcpserver"]})
    owed, _state = owed_actions.owed_state(path, KNOWN, ["restart_tcpserver"], ["restart_tcpserver"], NOTE)
    assert owed == ["restart_tcpserver"]


def test_bad_json_is_an_error_naming_the_file(path):
    write(path, "{not json")
    with pytest.raises(owed_actions.StateFileError, match=r"%s is not valid JSON" % path):
        owed_actions.load(path, KNOWN)


@pytest.mark.parametrize("data, words", [
    (["restart_tcpserver"], "a JSON object is expected, not list"),
    ("null", "a JSON object is expected, not NoneType"),
    ({"owed": ["restart_tcpserver"]}, "of format 1 (format: None)"),
    ({"format": 2, "owed": []}, "of format 1 (format: 2)"),
    ({"format": "1", "owed": []}, "of format 1 (format: '1')"),
    ({"format": 1, "owed": "restart_tcpserver"}, "'owed' must be a list of action names, not 'restart_tcpserver'"),
    ({"format": 1, "owed": {"restart_tcpserver": True}}, "'owed' must be a list of action names"),
    ({"format": 1, "owed": [1]}, "'owed' must be a list of action names, not [1]"),
    ({"format": 1, "owed": [["restart_tcpserver"]]}, "'owed' must be a list of action names"),
])
def test_wrong_types_are_errors_naming_the_file(path, data, words):
    write(path, data)
    with pytest.raises(owed_actions.StateFileError) as info:
        owed_actions.owed_state(path, KNOWN, [], ["restart_tcpserver"], NOTE)
    assert str(info.value).startswith(path) and words in str(info.value)


def test_a_file_without_owed_actions_owes_nothing(path):
    write(path, {"format": 1})
    assert owed_actions.load(path, KNOWN) == []


def test_an_unknown_recorded_action_is_an_error_not_dropped(path):
    write(path, {"format": 1, "owed": ["restart_tcpserver", "reload_the_moon"]})
    with pytest.raises(owed_actions.StateFileError) as info:
        owed_actions.owed_state(path, KNOWN, ["restart_tcpserver"], [], NOTE)
    message = str(info.value)
    assert path in message and "reload_the_moon" in message and "restart_tcpserver, restart_logger" in message
    assert "by hand" in message


@pytest.mark.parametrize("completed, new", [(["reload_the_moon"], []), ([], ["reload_the_moon"])])
def test_an_unknown_action_from_the_caller_is_a_programming_error(path, completed, new):
    with pytest.raises(ValueError, match="unknown action 'reload_the_moon'"):
        owed_actions.owed_state(path, KNOWN, completed, new, NOTE)


def test_an_unreadable_file_is_an_error_not_no_file(path):
    os.mkdir(path)  # reading fails with an OSError even as root
    with pytest.raises(owed_actions.StateFileError, match="cannot read %s" % path):
        owed_actions.load(path, KNOWN)


def test_the_state_is_replaced_atomically(path, monkeypatch):
    write(path, {"format": 1, "owed": ["restart_tcpserver"]})
    before = os.stat(path).st_ino
    _owed, state = owed_actions.owed_state(path, KNOWN, [], ["restart_logger"], NOTE)
    files.apply(state)
    assert os.stat(path).st_ino != before  # a new file renamed over the old one, never the old one rewritten
    assert owed_actions.load(path, KNOWN) == ["restart_tcpserver", "restart_logger"]

    # A write that fails half way leaves the recorded actions as they were, and no temporary file.
    _owed, state = owed_actions.owed_state(path, KNOWN, ["restart_tcpserver", "restart_logger"], [], NOTE)
    state.content = '{"format": 1, "owed": []}\n'

    def broken_fsync(_fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        files.apply(state)
    monkeypatch.undo()
    assert owed_actions.load(path, KNOWN) == ["restart_tcpserver", "restart_logger"]
    assert os.listdir(os.path.dirname(path)) == [owed_actions.STATE_NAME]


# ---- the callers: each keeps its own words, variable and hint ----------------------------------------------------


class Service:
    def __init__(self, real_dir):
        self.real_dir = real_dir


def test_qmail_send_service_names_its_variable(tmp_path):
    write(str(tmp_path / owed_actions.STATE_NAME), {"format": 1, "owed": ["restart_tcpserver"]})
    with pytest.raises(send_service.ValidationError) as info:
        send_service.owed_state(Service(str(tmp_path)), [], [])
    (variable, reason), = info.value.problems
    assert variable == "qmail_send_service_name" and "restart_tcpserver" in reason and "svc -t %s" % tmp_path in reason


def test_qmail_send_service_owes_a_restart_for_a_changed_run_script(tmp_path):
    change = {"kind": "run script", "action": "write", "reasons": ["content"]}
    owed, state = send_service.owed_state(Service(str(tmp_path)), [change], [])
    assert owed == ["restart_qmail_send"] and json.loads(state.content)["owed"] == owed


class FailingModule:
    def fail_json(self, **kwargs):
        raise RuntimeError(kwargs["msg"])


def test_relay_rules_fails_naming_the_file_and_the_way_out(tmp_path):
    write(str(tmp_path / owed_actions.STATE_NAME), "[]")
    with pytest.raises(RuntimeError) as info:
        front_end_service.owed_state(FailingModule(), Service(str(tmp_path)), [], [])
    message = str(info.value)
    assert owed_actions.STATE_NAME in message and "svc -t %s" % tmp_path in message and "nothing changed" in message


def test_relay_rules_owes_restarts_by_the_kind_of_run_script(tmp_path):
    changes = [{"kind": "log run script", "action": "write", "reasons": ["content"]},
               {"kind": "run script", "action": "write", "reasons": ["create"]}]
    owed, _state = front_end_service.owed_state(FailingModule(), Service(str(tmp_path)), changes, [])
    assert owed == ["restart_logger"]  # a new run script is started by supervise itself


def routing_state(pending):
    return json.dumps({"format": 1, "lines": {}, "dot_qmail": [], "pending": pending})


def test_the_routing_state_reads_its_pending_actions_with_the_helper():
    assert ownership.State.parse(routing_state(["rebuild_users_cdb", "hup_qmail_send"])).pending == \
        ["hup_qmail_send", "rebuild_users_cdb"]
    with pytest.raises(ValueError, match="'pending' must be a list"):
        ownership.State.parse(routing_state("hup_qmail_send"))
    with pytest.raises(ValueError, match="restart_the_world"):
        ownership.State.parse(routing_state(["restart_the_world"]))
    with pytest.raises(ValueError, match="not valid JSON.*move it away"):
        ownership.State.parse("{")
    with pytest.raises(ValueError, match="no lines"):
        ownership.State.parse(json.dumps({"format": 1}))


def test_an_unreadable_routing_state_stops_the_run(tmp_path):
    os.makedirs(str(tmp_path / "control" / owed_actions.STATE_NAME))
    with pytest.raises(ValueError, match="cannot read"):
        routing_files.load_state(str(tmp_path))


def test_a_marker_is_there_or_not_or_cannot_be_told(tmp_path, deny_access):
    marker = str(tmp_path / "connector.state")
    assert owed_actions.marker_exists(marker) is False
    assert owed_actions.marker_exists(os.path.join(marker, "below")) is False
    with open(marker, "w") as handle:
        handle.write("stopped\n")
    assert owed_actions.marker_exists(marker) is True
    assert owed_actions.marker_exists(os.path.join(marker, "below")) is False  # ENOTDIR: marker is a file
    os.unlink(marker)
    os.symlink("nowhere", marker)
    assert owed_actions.marker_exists(marker) is True  # a dangling link is there (as os.path.lexists says)
    deny_access("lstat", marker)
    with pytest.raises(owed_actions.StateFileError, match="cannot look at %s: Permission denied" % marker):
        owed_actions.marker_exists(marker)
