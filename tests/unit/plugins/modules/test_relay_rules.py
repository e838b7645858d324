# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The relay_rules module: rules file and cdb, check mode, diff, idempotence, errors, the service, the other front end
(the inetd front end's files: test_relay_rules_inetd.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import grp
import json
import os
import pwd
import shutil
import stat
import subprocess

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import relay
from ansible_collections.teamware.qmail.plugins.modules import relay_rules

from ....loopback import free_port
from .conftest import run_module

run = functools.partial(run_module, relay_rules)


def rules_args(etc, tcprules="tcprules", **extra):
    args = dict(relay_clients=["127.", "192.0.2.10"], rules_file=str(etc / "tcp.smtp"), rules_cdb=str(etc / "tcp.smtp.cdb"),
                tcprules=tcprules, variable_prefix="ucspi_tcp_")
    args.update(extra)
    return args


def listing(path):
    return sorted(os.listdir(str(path)))


def test_first_run_writes_rules_and_compiles_them_from_the_rules_file(capsys, etc, fake_tcprules):
    tcprules, log = fake_tcprules
    result = run(capsys, rules_args(etc, tcprules))
    assert result["changed"] is True
    assert result["rules_changed"] is True
    assert result["cdb_rebuilt"] is True and result["cdb_reason"] == "rules changed"
    assert [(c["path"], c["kind"], c["action"]) for c in result["changes"]] == [
        (str(etc / "tcp.smtp"), "rules", "write"), (str(etc / "tcp.smtp.cdb"), "cdb", "write")]
    expected = "".join(line + "\n" for line in relay.tcprules_lines(relay.relay_clients(["127.", "192.0.2.10"], "v")))
    assert (etc / "tcp.smtp").read_text() == expected
    assert stat.S_IMODE(os.stat(str(etc / "tcp.smtp")).st_mode) == 0o644
    # tcprules CDB CDB.tmp < RULES -- never the document's "tcprules CDB RULES < RULES".
    assert (log / "args").read_text().splitlines() == [str(etc / "tcp.smtp.cdb"), str(etc / "tcp.smtp.cdb.tmp")]
    assert (log / "stdin").read_text() == expected
    assert listing(etc) == ["tcp.smtp", "tcp.smtp.cdb"]
    assert result["clients"] == ["127.", "192.0.2.10"]
    assert result["lines"][2:4] == ['127.:allow,RELAYCLIENT=""', '192.0.2.10:allow,RELAYCLIENT=""']


def test_second_run_changes_nothing_and_does_not_compile(capsys, etc, fake_tcprules):
    tcprules, log = fake_tcprules
    run(capsys, rules_args(etc, tcprules))
    (log / "args").unlink()
    result = run(capsys, rules_args(etc, tcprules))
    assert result["changed"] is False
    assert result["changes"] == [] and result["cdb_rebuilt"] is False and result["cdb_reason"] == ""
    assert not (log / "args").exists()


def test_changed_rules_are_rewritten_and_compiled(capsys, etc, fake_tcprules):
    tcprules, log = fake_tcprules
    run(capsys, rules_args(etc, tcprules))
    result = run(capsys, rules_args(etc, tcprules, relay_clients=["127.", "192.0.2.11"]), diff=True)
    assert result["changed"] and result["rules_changed"] and result["cdb_reason"] == "rules changed"
    assert '192.0.2.11:allow,RELAYCLIENT=""' in (log / "stdin").read_text()
    assert '192.0.2.10' not in (etc / "tcp.smtp").read_text()
    assert len(result["diff"]) == 1
    assert '-192.0.2.10:allow,RELAYCLIENT=""' not in result["diff"][0]["after"]
    assert '192.0.2.10:allow' in result["diff"][0]["before"] and '192.0.2.11:allow' in result["diff"][0]["after"]


def test_missing_cdb_is_compiled_without_rewriting_the_rules(capsys, etc, fake_tcprules):
    tcprules, log = fake_tcprules
    run(capsys, rules_args(etc, tcprules))
    inode = os.stat(str(etc / "tcp.smtp")).st_ino
    (etc / "tcp.smtp.cdb").unlink()
    result = run(capsys, rules_args(etc, tcprules))
    assert result["changed"] is True
    assert result["rules_changed"] is False
    assert result["cdb_reason"] == "cdb missing"
    assert os.stat(str(etc / "tcp.smtp")).st_ino == inode
    assert (etc / "tcp.smtp.cdb").exists()


def test_cdb_older_than_the_rules_is_compiled(capsys, etc, fake_tcprules):
    tcprules, log = fake_tcprules
    run(capsys, rules_args(etc, tcprules))
    rules = os.stat(str(etc / "tcp.smtp"))
    os.utime(str(etc / "tcp.smtp.cdb"), ns=(rules.st_atime_ns, rules.st_mtime_ns - 10 ** 9))
    result = run(capsys, rules_args(etc, tcprules))
    assert result["changed"] is True and result["cdb_reason"] == "cdb older than rules"
    assert run(capsys, rules_args(etc, tcprules))["changed"] is False


def test_mode_only_change_rewrites_and_recompiles(capsys, etc, fake_tcprules):
    tcprules, log = fake_tcprules
    run(capsys, rules_args(etc, tcprules))
    os.chmod(str(etc / "tcp.smtp"), 0o600)
    result = run(capsys, rules_args(etc, tcprules))
    assert result["changed"] is True and result["cdb_reason"] == "rules file rewritten"
    assert stat.S_IMODE(os.stat(str(etc / "tcp.smtp")).st_mode) == 0o644
    assert run(capsys, rules_args(etc, tcprules))["changed"] is False


def test_check_mode_changes_nothing_and_shows_the_diff(capsys, etc, fake_tcprules):
    tcprules, log = fake_tcprules
    result = run(capsys, rules_args(etc, tcprules), check=True, diff=True)
    assert result["changed"] is True and result["cdb_rebuilt"] is True
    assert listing(etc) == []
    assert not (log / "args").exists()
    assert result["diff"][0]["before"] == "" and '127.:allow,RELAYCLIENT=""' in result["diff"][0]["after"]
    assert result["diff"][0]["before_header"].endswith("(absent)")


def test_check_mode_on_a_host_without_tcprules(capsys, etc):
    result = run(capsys, rules_args(etc, "/nonexistent/tcprules"), check=True)
    assert result["changed"] is True
    assert not result.get("failed"), result


def test_a_failing_tcprules_leaves_the_cdb_and_fails(capsys, etc, fake_tcprules, monkeypatch):
    tcprules, log = fake_tcprules
    run(capsys, rules_args(etc, tcprules))
    before = (etc / "tcp.smtp.cdb").read_bytes()
    monkeypatch.setenv("FAIL", "1")
    result = run(capsys, rules_args(etc, tcprules, relay_clients=["10."]))
    assert result["failed"] is True
    assert "tcprules failed (rc 111)" in result["msg"] and "simulated" in result["msg"]
    assert (etc / "tcp.smtp.cdb").read_bytes() == before
    monkeypatch.delenv("FAIL")
    # The rules file is new, the cdb is not: the next run compiles it.
    again = run(capsys, rules_args(etc, tcprules, relay_clients=["10."]))
    assert again["changed"] is True and again["rules_changed"] is False and again["cdb_reason"] == "cdb older than rules"


INVALID_ARGS = [
    (dict(relay_clients=[127.0]), "ucspi_tcp_relay_clients[0]", "is a number"),
    (dict(relay_clients=["127.", "1.2.3.0/24"]), "ucspi_tcp_relay_clients[1]", "write '1.2.3.'"),
    (dict(relay_clients=["127.", "127"]), "ucspi_tcp_relay_clients[1]", "repeats ucspi_tcp_relay_clients[0]"),
    (dict(relay_clients=["1.2.3.4\n:allow"]), "ucspi_tcp_relay_clients[0]", "CR, LF or NUL"),
    (dict(relay_clients=["1.2.3.4 "]), "ucspi_tcp_relay_clients[0]", "white space"),
    (dict(rules_file="relative/tcp.smtp"), "ucspi_tcp_rules_file", "must be absolute"),
    (dict(rules_cdb="/etc/tcp smtp.cdb"), "ucspi_tcp_rules_cdb", "must be absolute and use only"),
    (dict(rules_file="{cdb}"), "ucspi_tcp_rules_file", "must differ from the cdb"),
    (dict(rules_file="{cdb}.tmp"), "ucspi_tcp_rules_file", "tcprules' temporary file"),
    (dict(run_script=True, uid=1, gid=2, port="smtp\n"), "ucspi_tcp_port", "neither a number nor a service name"),
    (dict(run_script=True, uid=1, gid=2, bind_address="all"), "ucspi_tcp_bind_address", "not an IPv4 address"),
    (dict(run_script=True, uid=1, gid=2, extra_options=["-x/etc/other"]), "ucspi_tcp_extra_options[0]", "set by the collection"),
    # No uid/gid given and the accounts do not exist on the host: nothing to look them up from.
    (dict(run_script=True, user="tw-no-such-user", group="tw-no-such-group"), "ucspi_tcp_user", "numeric uid"),
    (dict(run_script=True, user="tw-no-such-user", group="tw-no-such-group"), "ucspi_tcp_user", "install qmail"),
]


@pytest.mark.parametrize("extra,variable,reason", INVALID_ARGS)
def test_errors_name_the_variable_and_change_nothing(capsys, etc, fake_tcprules, extra, variable, reason):
    tcprules, log = fake_tcprules
    cdb = str(etc / "tcp.smtp.cdb")
    extra = dict((key, value.format(cdb=cdb) if isinstance(value, str) else value) for key, value in extra.items())
    result = run(capsys, rules_args(etc, tcprules, **extra))
    assert result["failed"] is True
    assert result["msg"].startswith("Invalid relay settings, the front end left as it was: ")
    assert variable in [p["variable"] for p in result["problems"]], result["problems"]
    assert reason in result["msg"]
    assert listing(etc) == []
    assert not (log / "args").exists()


def test_missing_directory_fails(capsys, tmp_path, fake_tcprules):
    tcprules, log = fake_tcprules
    args = dict(relay_clients=["127."], rules_file=str(tmp_path / "no" / "tcp.smtp"), rules_cdb=str(tmp_path / "no" / "tcp.smtp.cdb"),
                tcprules=tcprules, variable_prefix="ucspi_tcp_")
    result = run(capsys, args)
    assert result["failed"] is True and result["msg"].startswith("ucspi_tcp_rules_file: directory")


def test_run_script_is_returned_with_the_ids(capsys, etc, fake_tcprules):
    tcprules, log = fake_tcprules
    result = run(capsys, rules_args(etc, tcprules, run_script=True, uid=995, gid=994, bind_address="127.0.0.1", port="2525",
                                    log_level="quiet", extra_options=["-R"]))
    assert result["command"] == ["tcpserver", "-q", "-R", "-x", str(etc / "tcp.smtp.cdb"), "-u", "995", "-g", "994",
                                 "127.0.0.1", "2525", "/var/qmail/bin/qmail-smtpd"]
    assert result["run_script"].endswith(" ".join(result["command"]) + " 2>&1\n")
    assert result["log_run_script"].endswith("multilog t ./main\n")


def test_run_script_in_check_mode_without_the_account_warns(capsys, etc, fake_tcprules, monkeypatch):
    # Record warnings at the source: once controller code is imported (the filter tests do),
    # ansible-core routes module warnings to its display instead of the result.
    warned = []
    monkeypatch.setattr(relay_rules.AnsibleModule, "warn", lambda self, text: warned.append(text))
    tcprules, log = fake_tcprules
    result = run(capsys, rules_args(etc, tcprules, run_script=True, user="tw-no-such-user", group="tw-no-such-group"), check=True)
    assert "-u UNKNOWN -g UNKNOWN" in result["run_script"]
    assert any("does not exist yet (check mode)" in text for text in warned)


def test_no_run_script_unless_asked(capsys, etc, fake_tcprules):
    tcprules, log = fake_tcprules
    result = run(capsys, rules_args(etc, tcprules, uid=1, gid=2))
    assert "run_script" not in result


def test_real_tcprules_builds_a_cdb_that_tcprulescheck_reads(capsys, etc):
    tcprules = shutil.which("tcprules")
    tcprulescheck = shutil.which("tcprulescheck")
    if not tcprules or not tcprulescheck:
        pytest.skip("SKIPPED LOUDLY: ucspi-tcp is not installed (apt-get install ucspi-tcp); the real tcprules did not run")
    result = run(capsys, rules_args(etc, tcprules, relay_clients=["127.0.0.2", "10.1."]))
    assert result["changed"] is True
    assert listing(etc) == ["tcp.smtp", "tcp.smtp.cdb"]
    for address, relays in [("127.0.0.2", True), ("127.0.0.3", False), ("10.1.9.9", True), ("10.10.9.9", False)]:
        out = subprocess.run([tcprulescheck, str(etc / "tcp.smtp.cdb")], env=dict(os.environ, TCPREMOTEIP=address),
                             stdout=subprocess.PIPE, universal_newlines=True, timeout=30, check=False).stdout
        assert ("RELAYCLIENT" in out) is relays, (address, out)
    assert run(capsys, rules_args(etc, tcprules, relay_clients=["127.0.0.2", "10.1."]))["changed"] is False


# ---------------------------------------------------------------- the service directory (supervise_dir, service_dir)

ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name


def service_args(etc, tmp_path, tcprules, **extra):
    args = rules_args(etc, tcprules, supervise_dir=str(tmp_path / "supervise"), service_dir=str(tmp_path / "service"),
                      user=ME, group=MY_GROUP, log_user=ME)
    args.update(extra)
    return args


def tree_listing(root):
    found = {}
    for directory, names, filenames in os.walk(str(root)):
        for name in names + filenames:
            path = os.path.join(directory, name)
            info = os.lstat(path)
            target = os.readlink(path) if os.path.islink(path) else None
            found[os.path.relpath(path, str(root))] = (stat.S_IFMT(info.st_mode), stat.S_IMODE(info.st_mode), info.st_uid, target)
    return found


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the service directory is owned by root (chown)")


@needs_root
def test_service_directory_is_built_and_linked_last(capsys, etc, tmp_path, fake_tcprules):
    tcprules, log = fake_tcprules
    result = run(capsys, service_args(etc, tmp_path, tcprules), diff=True)
    real = tmp_path / "supervise" / "qmail-smtpd"
    assert result["changed"] is True and result["run_script_changed"] is True and result["log_run_script_changed"] is True
    assert [(c["kind"], c["path"]) for c in result["changes"]] == [
        ("rules", str(etc / "tcp.smtp")), ("cdb", str(etc / "tcp.smtp.cdb")),
        ("directory", str(tmp_path / "supervise")), ("directory", str(real)), ("directory", str(real / "log")),
        ("log directory", str(real / "log" / "main")), ("run script", str(real / "run")),
        ("log run script", str(real / "log" / "run")), ("scan directory", str(tmp_path / "service")),
        ("link", str(tmp_path / "service" / "qmail-smtpd"))]
    assert (real / "run").read_text() == result["run_script"]
    assert "-u %d -g %d" % (os.getuid(), os.getgid()) in result["run_script"]
    assert (real / "log" / "run").read_text().endswith("exec setuidgid %s multilog t ./main\n" % ME)
    for path in (real, real / "log", real / "log" / "main", real / "run", real / "log" / "run", tmp_path / "service"):
        assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o755, path
        assert os.stat(str(path)).st_gid == 0, path
    assert os.readlink(str(tmp_path / "service" / "qmail-smtpd")) == str(real)
    assert listing(tmp_path / "service") == ["qmail-smtpd"]
    assert [d["after_header"] for d in result["diff"]][-1] == str(tmp_path / "service" / "qmail-smtpd")
    # No-op: nothing changes, nothing compiled, no restart asked for.
    (log / "args").unlink()
    again = run(capsys, service_args(etc, tmp_path, tcprules))
    assert again["changed"] is False and again["changes"] == []
    assert again["run_script_changed"] is False and again["log_run_script_changed"] is False
    assert not (log / "args").exists()


@needs_root
def test_only_a_changed_run_script_asks_for_a_restart(capsys, etc, tmp_path, fake_tcprules):
    tcprules, log = fake_tcprules
    run(capsys, service_args(etc, tmp_path, tcprules))
    rules = run(capsys, service_args(etc, tmp_path, tcprules, relay_clients=["10."]))
    assert rules["changed"] is True and rules["rules_changed"] is True
    assert rules["run_script_changed"] is False and rules["log_run_script_changed"] is False
    quiet = run(capsys, service_args(etc, tmp_path, tcprules, relay_clients=["10."], log_level="quiet"), diff=True)
    assert quiet["changed"] is True and quiet["rules_changed"] is False
    assert quiet["run_script_changed"] is True and quiet["log_run_script_changed"] is False
    # the restart is recorded as owed (in the service directory) before the run script changes
    assert [c["kind"] for c in quiet["changes"]] == ["run script", "state"]
    assert quiet["owed_actions"] == ["restart_tcpserver"]
    assert "tcpserver -v" in quiet["diff"][0]["before"] and "tcpserver -q" in quiet["diff"][0]["after"]
    splogger = run(capsys, service_args(etc, tmp_path, tcprules, relay_clients=["10."], log_level="quiet", logger="splogger",
                                        completed_actions=["restart_tcpserver"]))
    assert splogger["run_script_changed"] is False and splogger["log_run_script_changed"] is True
    assert splogger["owed_actions"] == ["restart_logger"]


@needs_root
def test_an_owed_restart_is_reported_until_the_caller_says_it_ran(capsys, etc, tmp_path, fake_tcprules):
    """A run killed after the run script changed and before svc -t: the next call still owes the restart."""
    tcprules, _log = fake_tcprules
    state = tmp_path / "supervise" / "qmail-smtpd" / "teamware-qmail.json"
    first = run(capsys, service_args(etc, tmp_path, tcprules))
    assert first["owed_actions"] == [] and not state.exists()
    changed = run(capsys, service_args(etc, tmp_path, tcprules, log_level="quiet"))
    assert changed["owed_actions"] == ["restart_tcpserver"] and json.loads(state.read_text())["owed"] == ["restart_tcpserver"]
    # the killed run's successor: nothing to write, the restart still owed; check mode changes nothing
    for check in (True, False):
        again = run(capsys, service_args(etc, tmp_path, tcprules, log_level="quiet"), check=check)
        assert again["changed"] is False and again["owed_actions"] == ["restart_tcpserver"]
    done = run(capsys, service_args(etc, tmp_path, tcprules, log_level="quiet", completed_actions=["restart_tcpserver"]),
               diff=True)
    assert done["changed"] is True and done["owed_actions"] == [] and not state.exists()
    settled = run(capsys, service_args(etc, tmp_path, tcprules, log_level="quiet"))
    assert settled["changed"] is False and settled["owed_actions"] == []


@needs_root
def test_wrong_modes_and_a_stale_link_are_repaired(capsys, etc, tmp_path, fake_tcprules):
    tcprules, log = fake_tcprules
    run(capsys, service_args(etc, tmp_path, tcprules))
    real = tmp_path / "supervise" / "qmail-smtpd"
    os.chmod(str(real / "log"), 0o700)
    os.chmod(str(real / "run"), 0o644)
    link = tmp_path / "service" / "qmail-smtpd"
    link.unlink()
    link.symlink_to(str(tmp_path / "elsewhere"))
    result = run(capsys, service_args(etc, tmp_path, tcprules))
    assert [(c["kind"], c["reasons"]) for c in result["changes"]] == [
        ("directory", ["mode"]), ("run script", ["mode"]), ("link", ["target"])]
    assert result["run_script_changed"] is True
    assert stat.S_IMODE(os.stat(str(real / "log")).st_mode) == 0o755
    assert stat.S_IMODE(os.stat(str(real / "run")).st_mode) == 0o755
    assert os.readlink(str(link)) == str(real)
    assert listing(tmp_path / "service") == ["qmail-smtpd"]


def test_service_check_mode_changes_nothing(capsys, etc, tmp_path, fake_tcprules):
    tcprules, log = fake_tcprules
    before = tree_listing(tmp_path)
    result = run(capsys, service_args(etc, tmp_path, tcprules), check=True, diff=True)
    assert result["changed"] is True and result["run_script_changed"] is True
    assert "link" in [c["kind"] for c in result["changes"]]
    assert any(d["after"] == result["run_script"] for d in result["diff"])
    assert tree_listing(tmp_path) == before
    assert not (log / "args").exists()


def test_service_check_mode_without_the_accounts_warns(capsys, etc, tmp_path, fake_tcprules, monkeypatch):
    warned = []
    monkeypatch.setattr(relay_rules.AnsibleModule, "warn", lambda self, text: warned.append(text))
    tcprules, log = fake_tcprules
    before = tree_listing(tmp_path)
    result = run(capsys, service_args(etc, tmp_path, tcprules, user="tw-no-such-user", log_user="tw-no-such-user"), check=True)
    assert result["changed"] is True and "-u UNKNOWN" in result["run_script"]
    assert any("ucspi_tcp_log_user: tw-no-such-user does not exist yet" in text for text in warned)
    assert tree_listing(tmp_path) == before


def test_missing_log_user_fails_before_anything_changes(capsys, etc, tmp_path, fake_tcprules):
    tcprules, log = fake_tcprules
    result = run(capsys, service_args(etc, tmp_path, tcprules, log_user="tw-no-such-user"))
    assert result["failed"] is True
    assert [p["variable"] for p in result["problems"]] == ["ucspi_tcp_log_user"]
    assert listing(etc) == []
    assert not (tmp_path / "supervise").exists() and not (tmp_path / "service").exists()


def test_something_else_in_the_scan_directory_is_refused(capsys, etc, tmp_path, fake_tcprules):
    tcprules, log = fake_tcprules
    (tmp_path / "service" / "qmail-smtpd").mkdir(parents=True)
    result = run(capsys, service_args(etc, tmp_path, tcprules))
    assert result["failed"] is True
    assert "ucspi_tcp_service_dir: %s exists and is not a symbolic link" % (tmp_path / "service" / "qmail-smtpd") in result["msg"]
    assert listing(etc) == [] and not (tmp_path / "supervise").exists()
    absent = run(capsys, service_args(etc, tmp_path, tcprules, state="absent"))
    assert absent["failed"] is True and "is not a symbolic link; the role removes only its own link" in absent["msg"]
    assert (tmp_path / "service" / "qmail-smtpd").is_dir()


@pytest.mark.parametrize("extra,variable", [
    (dict(supervise_dir="relative"), "ucspi_tcp_supervise_dir"),
    (dict(service_dir="/srv/ser vice"), "ucspi_tcp_service_dir"),
    (dict(service_name="../x"), "ucspi_tcp_service_name"),
])
def test_service_path_errors(capsys, etc, tmp_path, fake_tcprules, extra, variable):
    tcprules, log = fake_tcprules
    result = run(capsys, service_args(etc, tmp_path, tcprules, **extra))
    assert result["failed"] is True
    assert variable in [p["variable"] for p in result["problems"]]
    assert listing(etc) == []


def test_supervise_dir_needs_service_dir(capsys, etc, fake_tcprules):
    tcprules, log = fake_tcprules
    result = run(capsys, rules_args(etc, tcprules, supervise_dir="/tmp/x"))
    assert result["failed"] is True and "service_dir" in result["msg"]


def fake_daemontools(tmp_path, monkeypatch, supervised):
    """svok says whether supervise runs the service; svc records its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "svok").write_text("#!/bin/sh\nexit %d\n" % (0 if supervised else 111))
    (bin_dir / "svc").write_text('#!/bin/sh\nprintf "%%s\\n" "$@" > "%s"\n' % (tmp_path / "svc-args"))
    for name in ("svok", "svc"):
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", "%s:%s" % (bin_dir, os.environ["PATH"]))
    return tmp_path / "svc-args"


def absent_args(tmp_path, **extra):
    args = dict(state="absent", relay_clients=[], variable_prefix="ucspi_tcp_", supervise_dir=str(tmp_path / "supervise"),
                service_dir=str(tmp_path / "service"))
    args.update(extra)
    return args


def test_absent_removes_the_link_and_stops_a_supervised_service(capsys, tmp_path, monkeypatch):
    svc_args = fake_daemontools(tmp_path, monkeypatch, supervised=True)
    (tmp_path / "service").mkdir()
    link = tmp_path / "service" / "qmail-smtpd"
    link.symlink_to(str(tmp_path / "supervise" / "qmail-smtpd"))
    checked = run(capsys, absent_args(tmp_path), check=True, diff=True)
    assert checked["changed"] is True and os.path.lexists(str(link)) and not svc_args.exists()
    assert [(c["kind"], c["action"]) for c in checked["changes"]] == [("link", "remove"), ("service", "stop")]
    result = run(capsys, absent_args(tmp_path))
    assert result["changed"] is True and not os.path.lexists(str(link))
    real = str(tmp_path / "supervise" / "qmail-smtpd")
    assert svc_args.read_text().splitlines() == ["-dx", real, real + "/log"]
    assert result["clients"] == [] and result["run_script_changed"] is False


def test_absent_with_nothing_there_changes_nothing(capsys, tmp_path, monkeypatch):
    svc_args = fake_daemontools(tmp_path, monkeypatch, supervised=False)
    result = run(capsys, absent_args(tmp_path, relay_clients=["not checked when absent"]))
    assert result["changed"] is False and result["changes"] == []
    assert not svc_args.exists()


def test_absent_needs_the_service_paths(capsys):
    result = run(capsys, dict(state="absent", relay_clients=[]))
    assert result["failed"] is True and "supervise_dir" in result["msg"]


# ---------------------------------------------------------------- the front end that was not chosen; missing programs

INETD_LINE = "smtp stream tcp nowait qmaild /usr/sbin/tcpd /var/qmail/bin/tcp-env /var/qmail/bin/qmail-smtpd\n"


MARKER = "# {mark} teamware.qmail inetd role: SMTP relay clients (tcpd rereads this file at every connection)"


def inetd_args(path, **extra):
    """format hosts_allow with its two files in the temporary directory path."""
    return dict(dict(format="hosts_allow", relay_clients=["127."], inetd_conf=str(path / "inetd.conf"),
                     hosts_allow=str(path / "hosts.allow")), **extra)


def inetd_other(etc, inetd_conf="", hosts_allow=""):
    """inetd as the ucspi_tcp role hands it (complete: site_settings' front_end_values, with the roles' defaults)."""
    (etc / "inetd.conf").write_text(inetd_conf)
    (etc / "hosts.allow").write_text(hosts_allow)
    return {"kind": "inetd", "state": "absent", "inetd_conf": str(etc / "inetd.conf"), "hosts_allow": str(etc / "hosts.allow"),
            "hosts_allow_marker": MARKER, "port": "smtp", "qmail_dir": "/var/qmail", "tcpd": "/usr/sbin/tcpd",
            "user": "qmaild", "bind_address": ""}


def tcpserver_other(path, state="absent"):
    """tcpserver as the inetd role hands it."""
    return {"kind": "tcpserver", "state": state, "supervise_dir": str(path / "supervise"),
            "service_dir": str(path / "service"), "service_name": "qmail-smtpd", "port": "smtp", "bind_address": "0"}


@pytest.mark.parametrize("inetd_conf, hosts_allow, active", [
    ("", "", False),
    ("#" + INETD_LINE, "sshd: ALL\n", False),
    (INETD_LINE, "", True),
    ("25 stream tcp nowait root /bin/false false\n", "", True),
    ("", MARKER.replace("{mark}", "BEGIN") + "\ntcp-env: 127.: setenv = RELAYCLIENT\n" + MARKER.replace("{mark}", "END") + "\n", True),
], ids=["nothing", "commented", "our-line", "other-smtp-line", "hosts-allow-block"])
def test_tcpserver_changes_nothing_while_inetd_serves_the_port(capsys, etc, fake_tcprules, inetd_conf, hosts_allow, active):
    other = inetd_other(etc, inetd_conf, hosts_allow)
    result = run(capsys, rules_args(etc, tcprules=fake_tcprules[0], other_front_end=other))
    assert result["other_front_end_active"] is active
    assert os.path.exists(str(etc / "tcp.smtp")) is (not active)
    if active:
        # never silently: once inetd is taken out nothing would serve the port
        assert result["failed"] is True
        assert result["msg"].startswith("ucspi_tcp_state: present, but inetd still serves the SMTP port (")
        assert "teamware.qmail.inetd with inetd_state: absent, listed before this role" in result["msg"]
        assert result["msg"].endswith("nothing changed")
    else:
        assert result["changed"] is True


def test_check_mode_shows_the_plan_although_inetd_serves_the_port(capsys, etc, fake_tcprules):
    result = run(capsys, rules_args(etc, tcprules=fake_tcprules[0], other_front_end=inetd_other(etc, INETD_LINE)), check=True)
    assert result["other_front_end_active"] is True and result["changed"] is True
    assert not os.path.exists(str(etc / "tcp.smtp"))


def test_inetd_sees_tcpserver_by_its_link_or_supervise(capsys, tmp_path, monkeypatch):
    other = tcpserver_other(tmp_path)
    fake_daemontools(tmp_path, monkeypatch, supervised=False)
    assert run(capsys, inetd_args(tmp_path, other_front_end=other))["other_front_end_active"] is False
    (tmp_path / "service").mkdir()
    (tmp_path / "service" / "qmail-smtpd").symlink_to(str(tmp_path / "supervise" / "qmail-smtpd"))
    assert run(capsys, inetd_args(tmp_path, other_front_end=other))["other_front_end_active"] is True


def test_inetd_sees_a_tcpserver_still_supervised(capsys, tmp_path, monkeypatch):
    other = tcpserver_other(tmp_path)
    fake_daemontools(tmp_path, monkeypatch, supervised=True)
    assert run(capsys, inetd_args(tmp_path, other_front_end=other))["other_front_end_active"] is True


def test_absent_state_does_not_look_at_the_other_front_end(capsys, tmp_path, monkeypatch):
    fake_daemontools(tmp_path, monkeypatch, supervised=False)
    result = run(capsys, absent_args(tmp_path, other_front_end={"kind": "unknown", "state": "absent"}))
    assert result["other_front_end_active"] is False and "failed" not in result


def test_unknown_kind_of_front_end_fails(capsys, etc, fake_tcprules):
    result = run(capsys, rules_args(etc, tcprules=fake_tcprules[0], other_front_end={"kind": "xinetd", "state": "absent"}))
    assert result["failed"] is True and result["msg"].startswith("ucspi_tcp_other_front_end: kind must be inetd or tcpserver")


@pytest.mark.parametrize("kind, state, dropped", [
    ("inetd", "absent", ["inetd_conf", "tcpd"]),
    ("inetd", "present", ["port"]),
    ("tcpserver", "absent", ["service_dir"]),
    ("tcpserver", "present", ["bind_address"]),
])
def test_the_other_front_end_s_values_must_be_complete(capsys, etc, fake_tcprules, tmp_path, kind, state, dropped):
    # the module carries none of the roles' defaults: the roles hand the other front end's values complete
    other = dict(inetd_other(etc), state=state) if kind == "inetd" else tcpserver_other(tmp_path, state)
    for key in dropped:
        del other[key]
    args = (rules_args(etc, tcprules=fake_tcprules[0], other_front_end=other) if kind == "inetd"
            else inetd_args(tmp_path, other_front_end=other, variable_prefix="inetd_"))
    before = sorted(os.listdir(str(etc))), sorted(os.listdir(str(tmp_path)))
    result = run(capsys, args)
    assert result["failed"] is True
    prefix = "ucspi_tcp_" if kind == "inetd" else "inetd_"
    assert result["msg"] == ("%sother_front_end: %s missing (%s, state %s); give every value of the other front end (the "
                             "roles hand them complete), nothing changed" % (prefix, ", ".join(dropped), kind, state))
    assert (sorted(os.listdir(str(etc))), sorted(os.listdir(str(tmp_path)))) == before


def test_an_other_front_end_without_state_is_not_looked_at(capsys, etc, fake_tcprules):
    # its role is not part of the run (a play with only this role): inetd's line does not hold tcpserver back
    other = dict(inetd_other(etc, INETD_LINE), state=None)
    result = run(capsys, rules_args(etc, tcprules=fake_tcprules[0], other_front_end=other))
    assert result["other_front_end_active"] is False and result["changed"] is True


@pytest.mark.parametrize("own, other, refused", [
    ({}, {}, True),
    ({"port": "25"}, {"port": "smtp"}, True),
    ({"port": "2525"}, {}, False),
    ({"bind_address": "127.0.0.1"}, {"bind_address": "127.0.0.1"}, True),
    ({"bind_address": "127.0.0.1"}, {"bind_address": "192.0.2.1"}, False),
    ({"bind_address": "127.0.0.1"}, {"bind_address": "*"}, True),
    ({"bind_address": "0"}, {"bind_address": "192.0.2.1"}, True),
], ids=["defaults", "smtp-is-25", "other-port", "same-address", "other-address", "inetd-everywhere",
        "tcpserver-everywhere"])
def test_both_front_ends_present_on_one_port_are_refused(capsys, etc, fake_tcprules, own, other, refused):
    other_front_end = dict({"kind": "inetd", "state": "present", "port": "smtp", "bind_address": ""}, **other)
    result = run(capsys, rules_args(etc, tcprules=fake_tcprules[0], other_front_end=other_front_end, **own))
    if refused:
        assert result["failed"] is True and os.listdir(str(etc)) == []
        assert result["msg"].startswith("ucspi_tcp_state: tcpserver and inetd (inetd_state) would both serve port ")
        assert "set one of ucspi_tcp_state and inetd_state to absent; nothing changed" in result["msg"]
    else:
        assert "failed" not in result and result["other_front_end_active"] is False and result["changed"] is True


def test_missing_programs_hold_tcpserver_back(capsys, etc, fake_tcprules):
    result = run(capsys, rules_args(etc, tcprules=fake_tcprules[0], required_programs=["tcpserver-that-is-not-there",
                                                                                       fake_tcprules[0], "/no/such/program"]))
    assert result["missing_programs"] == ["tcpserver-that-is-not-there", "/no/such/program"]
    assert result["changed"] is False and not os.path.exists(str(etc / "tcp.smtp"))
    assert run(capsys, rules_args(etc, tcprules=fake_tcprules[0], required_programs=[fake_tcprules[0], "sh"]))["changed"] is True


@pytest.mark.parametrize("check", [True, False], ids=["look", "run"])
def test_missing_programs_the_role_may_not_install_fail_naming_the_variable(capsys, etc, fake_tcprules, check):
    # what the roles' look asserted in a task of its own: the module fails itself (ucspi_tcp_manage_packages false)
    result = run(capsys, rules_args(etc, tcprules=fake_tcprules[0], required_programs=["tcpserver-x", "sh", "/no/multilog"],
                                    manage_packages=False, packages=["ucspi-tcp", "daemontools"]), check=check)
    assert result["failed"] is True and result["missing_programs"] == ["tcpserver-x", "/no/multilog"]
    assert result["msg"] == ("ucspi_tcp_manage_packages: false, but tcpserver-x, /no/multilog cannot be found; install "
                             "ucspi-tcp and daemontools or let the role do it.")
    assert os.listdir(str(etc)) == []
    # nothing missing: the flag does not matter
    done = run(capsys, rules_args(etc, tcprules=fake_tcprules[0], required_programs=["sh"], manage_packages=False,
                                  packages=["ucspi-tcp"]), check=check)
    assert "failed" not in done and done["changed"] is True


def test_other_front_end_active_is_also_a_fact_for_the_play(capsys, etc, fake_tcprules):
    # site.yml reads one name, whichever front end's role looked
    active = run(capsys, rules_args(etc, tcprules=fake_tcprules[0], other_front_end=inetd_other(etc, INETD_LINE)), check=True)
    assert active["ansible_facts"] == {"qmail_other_front_end_active": True}
    quiet = run(capsys, rules_args(etc, tcprules=fake_tcprules[0], other_front_end=inetd_other(etc)), check=True)
    assert quiet["ansible_facts"] == {"qmail_other_front_end_active": False}
    missing = run(capsys, rules_args(etc, tcprules=fake_tcprules[0], required_programs=["no-such-tcpserver"],
                                     other_front_end=inetd_other(etc, INETD_LINE)), check=True)
    assert missing["ansible_facts"] == {"qmail_other_front_end_active": True}


def test_smtp_banner_says_why_inetd_does_not_serve_the_port(capsys, tmp_path):
    port = str(free_port())
    args = inetd_args(tmp_path, port=port, bind_address="127.0.0.1", inetd_pid_file=str(tmp_path / "inetd.pid"))
    looked = run(capsys, dict(args, smtp_banner={}))
    assert looked["running"] is False and "failed" not in looked
    assert looked["front_end_problem"] == "inetd is not running: no pid in %s" % (tmp_path / "inetd.pid")
    assert looked["smtp_banner"]["ok"] is False and looked["smtp_banner"]["port"] == int(port)
    required = run(capsys, dict(args, smtp_banner={"required": True}))
    assert required["failed"] is True
    assert required["msg"] == "Nothing serves SMTP on 127.0.0.1:%s as qmail-smtpd: inetd is not running: no pid in %s" % (
        port, tmp_path / "inetd.pid")
    # check mode only warns: a real run would start inetd first
    checked = run(capsys, dict(args, smtp_banner={"required": True}), check=True)
    assert "failed" not in checked and checked["running"] is False
    # a pid that is not inetd's
    (tmp_path / "inetd.pid").write_text("%d\n" % os.getpid())
    other = run(capsys, dict(args, smtp_banner={}))
    assert other["running"] is False and "not /usr/sbin/inetd" in other["front_end_problem"]
    refused = run(capsys, dict(args, smtp_banner={"host": "192.0.2.1"}))
    assert refused["failed"] is True and "not an address of this host" in refused["msg"]


def test_smtp_banner_says_why_tcpserver_does_not_serve_the_port(capsys, etc, tmp_path, monkeypatch):
    fake_daemontools(tmp_path, monkeypatch, supervised=False)
    args = dict(relay_clients=["127."], rules_file=str(etc / "tcp.smtp"), rules_cdb=str(etc / "tcp.smtp.cdb"),
                supervise_dir=str(tmp_path / "supervise"), service_dir=str(tmp_path / "service"), uid=1, gid=1,
                port=str(free_port()), smtp_banner={})
    result = run(capsys, args, check=True)
    assert result["running"] is False
    assert "supervise does not run %s: is svscan running on %s?" % (tmp_path / "supervise" / "qmail-smtpd",
                                                                    tmp_path / "service") in result["front_end_problem"]
