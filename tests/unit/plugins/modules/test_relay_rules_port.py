# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""relay_rules and a daemon that is neither front end on the SMTP port (issue 14): it stops the module before any
change, in check mode too; tcpserver and inetd do not, nor a listener whose process cannot be read."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import port_holders

from ....loopback import free_port, named_listener
from .test_relay_rules import rules_args, run
from .test_relay_rules_inetd import args as inetd_args


def message(prefix, port, name, pid, own, address="127.0.0.1"):
    return ("%sport: port %d is held by %s (pid %d) on %s:%d, which is neither tcpserver nor inetd, so %s cannot serve "
            "qmail-smtpd there: stop it and disable it, then run again; nothing changed"
            % (prefix, port, name, pid, address, port, own))


@pytest.mark.parametrize("check", [True, False])
def test_a_foreign_daemon_on_the_port_stops_tcpservers_rules_before_any_change(capsys, etc, fake_tcprules, tmp_path, check):
    port = free_port()
    with named_listener(tmp_path, "fake-exim", port) as pid:
        result = run(capsys, rules_args(etc, fake_tcprules[0], port=str(port), bind_address="0"), check=check)
    assert result["failed"] is True and result["msg"] == message("ucspi_tcp_", port, "fake-exim", pid, "tcpserver")
    assert result["port_holders"] == [{"address": "127.0.0.1", "port": port, "pid": pid, "program": "fake-exim",
                                       "pids": [pid], "foreign": True}]
    assert os.listdir(str(etc)) == [] and not (tmp_path / "tcprules-log" / "args").exists()


def test_a_foreign_daemon_stops_inetds_files_and_absent_is_not_stopped(capsys, etc, tmp_path):
    port = free_port()
    with named_listener(tmp_path, "master", port) as pid:
        looked = run(capsys, inetd_args(etc, port=str(port)), check=True)
        assert looked["failed"] is True and looked["msg"] == message("inetd_", port, "master", pid, "inetd")
        assert os.listdir(str(etc)) == []
        # taking inetd out is not a reason to stop: the port is not inetd's to serve then
        absent = run(capsys, inetd_args(etc, port=str(port), state="absent"))
        assert "failed" not in absent and absent["port_holders"] == []


def test_the_front_ends_on_the_port_are_left_to_the_switching(capsys, etc, fake_tcprules, tmp_path):
    port = free_port()
    for name in ("tcpserver", "inetd"):
        with named_listener(tmp_path, name, port) as pid:
            result = run(capsys, rules_args(etc, fake_tcprules[0], port=str(port)), check=True)
        assert "failed" not in result and result["changed"] is True
        assert result["port_holders"] == [{"address": "127.0.0.1", "port": port, "pid": pid, "program": name,
                                           "pids": [pid], "foreign": False}]


def test_a_daemon_on_another_address_or_port_does_not_count(capsys, etc, fake_tcprules, tmp_path):
    port = free_port()
    with named_listener(tmp_path, "fake-postfix", port, address="127.0.0.2"):
        result = run(capsys, rules_args(etc, fake_tcprules[0], port=str(port), bind_address="127.0.0.1"), check=True)
        assert "failed" not in result and result["port_holders"] == []
        other = run(capsys, rules_args(etc, fake_tcprules[0], port=str(free_port())), check=True)
        assert "failed" not in other and other["port_holders"] == []


def test_a_listener_whose_process_cannot_be_read_is_only_reported(capsys, etc, fake_tcprules, tmp_path, monkeypatch):
    # as non-root, another user's /proc/PID/fd cannot be listed
    def unreadable(pid, proc="/proc"):
        raise PermissionError(13, "Permission denied", os.path.join(proc, str(pid), "fd"))

    monkeypatch.setattr(port_holders, "socket_inodes", unreadable)
    port = free_port()
    with named_listener(tmp_path, "fake-postfix", port):
        result = run(capsys, rules_args(etc, fake_tcprules[0], port=str(port)), check=True)
    assert "failed" not in result and result["changed"] is True
    assert result["port_holders"] == [{"address": "127.0.0.1", "port": port, "pid": None, "program": None, "pids": [],
                                       "foreign": None}]
