# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""relay_rules with format hosts_allow: the module writes inetd.conf's line and hosts.allow's block itself.

The host's other lines stay, conflicts stop it before any change, check mode changes nothing, the diff shows both
files, a second run changes nothing, owner and mode (root:root 0644 for a new file, an existing one keeps its own), a
symbolic link stays one, absent takes the line and the block out, and the HUP a changed inetd.conf owes inetd is
recorded before the change and reported until completed_actions clears it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat
import sys

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import front_end_files
from ansible_collections.teamware.qmail.plugins.modules import relay_rules

from ....loopback import free_port
from .conftest import run_module

LINE = "smtp stream tcp nowait qmaild /usr/sbin/tcpd /var/qmail/bin/tcp-env /var/qmail/bin/qmail-smtpd"
BEGIN = front_end_files.HOSTS_ALLOW_MARKER.replace("{mark}", "BEGIN")
END = front_end_files.HOSTS_ALLOW_MARKER.replace("{mark}", "END")
ALLOW = "tcp-env: 127.: setenv = RELAYCLIENT"
STATE = "teamware-qmail-inetd.json"
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="new files are root:root and owners are kept: run as root")


def run(capsys, args, check=False, diff=False):
    return run_module(relay_rules, capsys, args, check=check, diff=diff)


def args(etc, **extra):
    return dict(dict(format="hosts_allow", relay_clients=["127."], variable_prefix="inetd_",
                     inetd_conf=str(etc / "inetd.conf"), hosts_allow=str(etc / "hosts.allow")), **extra)


def text(*lines):
    return "".join(line + "\n" for line in lines)


def tree(etc):
    """Every file of etc with its content and mode."""
    return sorted((name, (etc / name).read_text(), stat.S_IMODE(os.lstat(str(etc / name)).st_mode))
                  for name in os.listdir(str(etc)))


def state(etc):
    path = etc / STATE
    return json.loads(path.read_text())["owed"] if path.exists() else None


@ROOT_ONLY
def test_first_run_creates_both_files_and_records_the_hup(capsys, etc):
    result = run(capsys, args(etc, relay_clients=["127.", "192.0.2.10", "10.1"]))
    assert result["changed"] is True
    assert result["lines"] == [ALLOW, "tcp-env: 192.0.2.10: setenv = RELAYCLIENT", "tcp-env: 10.1.: setenv = RELAYCLIENT"]
    assert result["inetd_line"] == LINE and result["daemon"] == "tcp-env"
    assert (etc / "inetd.conf").read_text() == text(LINE)
    assert (etc / "hosts.allow").read_text() == text(BEGIN, *result["lines"] + [END])
    for name in ("inetd.conf", "hosts.allow"):
        info = os.stat(str(etc / name))
        assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (0, 0, 0o644)
    # the state file first: the HUP is recorded before inetd.conf changes
    assert [(c["path"], c["kind"], c["action"]) for c in result["changes"]] == [
        (str(etc / STATE), "state", "write"), (str(etc / "hosts.allow"), "hosts.allow", "write"),
        (str(etc / "inetd.conf"), "inetd.conf", "write")]
    assert result["owed_actions"] == ["hup_inetd"] and state(etc) == ["hup_inetd"]
    assert result["removed"] == [] and result["rules_changed"] is False


def test_the_documents_line_and_no_relay_clients(capsys, etc):
    result = run(capsys, args(etc, relay_clients=[]))
    assert (etc / "inetd.conf").read_text() == text(LINE)
    assert (etc / "hosts.allow").read_text() == text(BEGIN, "# No relay clients: every client must send mail for "
                                                            "control/rcpthosts only.", END)
    assert result["inetd_line"] == LINE


def test_the_hup_is_reported_until_it_is_cleared_and_then_nothing_changes(capsys, etc):
    run(capsys, args(etc))
    # a run killed before the HUP: the next one still owes it, though the files are right
    again = run(capsys, args(etc))
    assert again["changed"] is False and again["owed_actions"] == ["hup_inetd"]
    cleared = run(capsys, args(etc, completed_actions=["hup_inetd"]))
    assert cleared["changed"] is True and cleared["owed_actions"] == []
    assert [(c["kind"], c["action"]) for c in cleared["changes"]] == [("state", "remove")]
    assert state(etc) is None
    settled = run(capsys, args(etc))
    assert settled["changed"] is False and settled["owed_actions"] == [] and settled["changes"] == []


def test_only_a_changed_inetd_conf_owes_a_hup(capsys, etc):
    run(capsys, args(etc, completed_actions=["hup_inetd"]))
    run(capsys, args(etc, completed_actions=["hup_inetd"]))
    clients = run(capsys, args(etc, relay_clients=["127.", "192.0.2.10"]))
    assert clients["changed"] is True and clients["owed_actions"] == []
    assert [c["kind"] for c in clients["changes"]] == ["hosts.allow"]
    moved = run(capsys, args(etc, relay_clients=["127.", "192.0.2.10"], port="2525"))
    assert moved["owed_actions"] == ["hup_inetd"]
    assert (etc / "inetd.conf").read_text() == text(LINE.replace("smtp", "2525", 1))
    assert moved["removed"] == [{"file": str(etc / "inetd.conf"), "line": LINE}]


def test_the_hosts_lines_stay_and_the_collections_are_replaced_where_they_are(capsys, etc):
    (etc / "inetd.conf").write_text(text("# admin", "#smtp stream tcp nowait root /usr/sbin/sendmail sendmail -bs",
                                         LINE.replace("qmaild", "root"), "ftp stream tcp nowait root /usr/sbin/ftpd ftpd"))
    (etc / "hosts.allow").write_text(text("# admin", "sshd: 192.0.2.1", BEGIN, "tcp-env: 10.: setenv = RELAYCLIENT", END,
                                          "ALL: ALL"))
    result = run(capsys, args(etc))
    assert (etc / "inetd.conf").read_text() == text(
        "# admin", "#smtp stream tcp nowait root /usr/sbin/sendmail sendmail -bs", LINE, "ftp stream tcp nowait root /usr/sbin/ftpd ftpd")
    assert (etc / "hosts.allow").read_text() == text("# admin", "sshd: 192.0.2.1", BEGIN, ALLOW, END, "ALL: ALL")
    assert result["removed"] == [{"file": str(etc / "inetd.conf"), "line": LINE.replace("qmaild", "root")}]


def test_check_mode_changes_nothing_and_the_diff_shows_both_files(capsys, etc):
    (etc / "inetd.conf").write_text(text("# admin"))
    (etc / "hosts.allow").write_text(text("sshd: 192.0.2.1"))
    before = tree(etc)
    result = run(capsys, args(etc), check=True, diff=True)
    assert tree(etc) == before
    assert result["changed"] is True and result["owed_actions"] == ["hup_inetd"]
    diffs = dict((d["after_header"], d) for d in result["diff"])
    assert diffs[str(etc / "inetd.conf")]["before"] == text("# admin")
    assert diffs[str(etc / "inetd.conf")]["after"] == text("# admin", LINE)
    assert diffs[str(etc / "hosts.allow")]["after"] == text(BEGIN, ALLOW, END, "sshd: 192.0.2.1")
    assert diffs[str(etc / STATE)]["before_header"] == "%s (absent)" % (etc / STATE)
    # the diff is only there when asked for
    assert "diff" not in run(capsys, args(etc), check=True)


@pytest.mark.parametrize("inetd_conf, hosts_allow, entry", [
    (text("smtp stream tcp nowait root /usr/sbin/exim4 exim4 -bs"), "", "inetd.conf:smtp"),
    (text(LINE), text("tcp-env: ALL: setenv = RELAYCLIENT"), "hosts.allow:tcp-env:ALL"),
])
def test_a_conflict_stops_the_module_before_any_change(capsys, etc, inetd_conf, hosts_allow, entry):
    (etc / "inetd.conf").write_text(inetd_conf)
    (etc / "hosts.allow").write_text(hosts_allow)
    before = tree(etc)
    result = run(capsys, args(etc))
    assert result["failed"] is True and [c["entry"] for c in result["conflicts"]] == [entry]
    assert tree(etc) == before
    taken = run(capsys, args(etc, take_over=[entry]))
    assert taken["changed"] is True
    assert (etc / "inetd.conf").read_text() == text(LINE)
    assert (etc / "hosts.allow").read_text().startswith(text(BEGIN, ALLOW, END))
    assert "RELAYCLIENT\n" not in (etc / "hosts.allow").read_text().replace(text(BEGIN, ALLOW, END), "")


def test_absent_takes_the_line_and_the_block_out_and_owes_a_hup(capsys, etc):
    run(capsys, args(etc, completed_actions=["hup_inetd"]))
    (etc / "inetd.conf").write_text((etc / "inetd.conf").read_text() + text("ftp stream tcp nowait root /usr/sbin/ftpd ftpd"))
    (etc / "hosts.allow").write_text((etc / "hosts.allow").read_text() + text("sshd: ALL"))
    absent = run(capsys, args(etc, state="absent"))
    assert absent["changed"] is True and absent["owed_actions"] == ["hup_inetd"]
    assert (etc / "inetd.conf").read_text() == text("ftp stream tcp nowait root /usr/sbin/ftpd ftpd")
    assert (etc / "hosts.allow").read_text() == text("sshd: ALL")
    assert absent["removed"] == [{"file": str(etc / "inetd.conf"), "line": LINE}]
    assert run(capsys, args(etc, state="absent", completed_actions=["hup_inetd"]))["owed_actions"] == []
    assert run(capsys, args(etc, state="absent"))["changed"] is False


def test_absent_without_the_files_creates_nothing(capsys, etc):
    result = run(capsys, args(etc, state="absent"))
    assert result["changed"] is False and os.listdir(str(etc)) == []


@ROOT_ONLY
def test_an_existing_file_keeps_its_owner_and_mode(capsys, etc):
    for name in ("inetd.conf", "hosts.allow"):
        (etc / name).write_text("")
        os.chmod(str(etc / name), 0o600)
        os.chown(str(etc / name), 1, 2)
    result = run(capsys, args(etc))
    assert result["changed"] is True
    for name in ("inetd.conf", "hosts.allow"):
        info = os.stat(str(etc / name))
        assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (1, 2, 0o600)
    assert run(capsys, args(etc, completed_actions=["hup_inetd"]))["changes"] == [
        {"path": str(etc / STATE), "kind": "state", "action": "remove"}]


def test_a_symbolic_link_stays_a_link_to_the_file_that_is_written(capsys, etc, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "inetd.conf").write_text(text("# admin"))
    (etc / "inetd.conf").symlink_to(str(real / "inetd.conf"))
    run(capsys, args(etc))
    assert os.path.islink(str(etc / "inetd.conf"))
    assert (real / "inetd.conf").read_text() == text("# admin", LINE)
    # the state file is beside the file that is written
    assert (real / STATE).exists()


def test_a_state_file_that_is_not_ours_stops_the_module(capsys, etc):
    (etc / STATE).write_text("not json\n")
    result = run(capsys, args(etc))
    assert result["failed"] is True
    assert "%s is not valid JSON" % (etc / STATE) in result["msg"]
    assert "inetd may need a HUP" in result["msg"]
    assert not (etc / "inetd.conf").exists()


def test_a_missing_directory_fails_and_names_the_file(capsys, tmp_path):
    result = run(capsys, args(tmp_path / "missing"))
    assert result["failed"] is True and "could not write" in result["msg"]


@pytest.mark.parametrize("extra,variable", [
    (dict(relay_clients=["1.2.3.4", "1.2.3.4"]), "inetd_relay_clients[1]"),
    (dict(bind_address="0"), "inetd_bind_address"),
    (dict(tcpd="tcpd"), "inetd_tcpd"),
    (dict(port="smtp x"), "inetd_port"),
])
def test_errors_name_the_variable_and_change_nothing(capsys, etc, extra, variable):
    result = run(capsys, args(etc, **extra))
    assert result["failed"] is True
    assert [p["variable"] for p in result["problems"]] == [variable]
    assert os.listdir(str(etc)) == []


def test_both_files_are_required(capsys, etc):
    result = run(capsys, dict(format="hosts_allow", relay_clients=["127."], inetd_conf=str(etc / "inetd.conf")))
    assert result["failed"] is True and "hosts_allow" in result["msg"]


def test_missing_programs_the_role_may_not_install_fail_naming_the_variable(capsys, etc):
    result = run(capsys, args(etc, required_programs=["/no/tcpd", "sh"], manage_packages=False,
                              packages=["openbsd-inetd", "tcpd"]), check=True)
    assert result["failed"] is True and result["missing_programs"] == ["/no/tcpd"]
    assert result["msg"] == ("inetd_manage_packages: false, but /no/tcpd cannot be found; install openbsd-inetd and tcpd "
                             "or let the role do it.")


def test_missing_programs_are_reported(capsys, etc):
    result = run(capsys, args(etc, required_programs=["/no/tcpd"]), check=True)
    assert result["missing_programs"] == ["/no/tcpd"] and result["changed"] is True


def test_an_inetd_that_runs_but_does_not_serve_the_port_is_owed_a_hup(capsys, etc, tmp_path):
    # "inetd" is this test's own process: it runs, and nothing answers on the port
    (tmp_path / "inetd.pid").write_text("%d\n" % os.getpid())
    serving = args(etc, port=str(free_port()), bind_address="127.0.0.1", inetd_pid_file=str(tmp_path / "inetd.pid"),
                   inetd_program=os.path.realpath(sys.executable), smtp_banner={"timeout": 1})
    for dummy in range(2):  # written, then the HUP of the change cleared
        run(capsys, args(etc, port=serving["port"], bind_address="127.0.0.1", completed_actions=["hup_inetd"]))
    assert state(etc) is None
    looked = run(capsys, serving, check=True)
    assert looked["running"] is True and looked["smtp_banner"]["ok"] is False
    assert looked["changes"] == [] and looked["owed_actions"] == ["hup_inetd"]
    # nothing is recorded for it (the next look sees it again); the caller that sent it says so
    assert state(etc) is None
    assert run(capsys, dict(serving, completed_actions=["hup_inetd"]))["owed_actions"] == []
    # an inetd that does not run is started, not sent a HUP
    (tmp_path / "inetd.pid").write_text("")
    assert run(capsys, serving)["owed_actions"] == []


def test_nothing_changes_while_tcpserver_still_serves_the_port(capsys, etc, tmp_path):
    other = {"kind": "tcpserver", "state": "absent", "supervise_dir": str(tmp_path / "supervise"),
             "service_dir": str(tmp_path / "service"), "service_name": "qmail-smtpd", "port": "smtp", "bind_address": "0"}
    (tmp_path / "service").mkdir()
    (tmp_path / "service" / "qmail-smtpd").symlink_to(str(tmp_path / "supervise" / "qmail-smtpd"))
    held = run(capsys, args(etc, other_front_end=other))
    assert held["other_front_end_active"] is True and held["failed"] is True and os.listdir(str(etc)) == []
    assert held["msg"].startswith("inetd_state: present, but tcpserver still serves the SMTP port (its service in the "
                                  "scan directory, or supervise still running it)")
    # check mode shows the plan at once
    planned = run(capsys, args(etc, other_front_end=other), check=True)
    assert planned["changed"] is True and len(planned["changes"]) == 3 and os.listdir(str(etc)) == []


def test_inetd_and_tcpserver_both_present_on_one_port_are_refused(capsys, etc):
    other = {"kind": "tcpserver", "state": "present", "port": "25", "bind_address": "0"}
    result = run(capsys, args(etc, other_front_end=other))
    assert result["failed"] is True and os.listdir(str(etc)) == []
    assert result["msg"] == ("inetd_state: inetd and tcpserver (ucspi_tcp_state) would both serve port smtp; set one of "
                             "inetd_state and ucspi_tcp_state to absent; nothing changed")
