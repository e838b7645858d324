# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The routing_table module on a temporary qmail tree: writes, check mode, diff, idempotence, switching."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import itertools
import os
import pwd
import stat

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import pipe_lines, routing
from ansible_collections.teamware.qmail.plugins.modules import routing_table

from .conftest import run_module

from ....method_examples import METHOD_SETTINGS

# qmail refuses to deliver as root, so the accounts get an ordinary uid (root may chown to it).
UID = os.getuid() or 1000
GID = os.getgid() or 1000


class Tree:
    def __init__(self, root):
        self.root = str(root)
        self.qmail = os.path.join(self.root, "var", "qmail")
        self.alias = os.path.join(self.qmail, "alias")
        self.twu = os.path.join(self.root, "home", "twu")
        for path in (os.path.join(self.qmail, "control"), os.path.join(self.qmail, "users"), os.path.join(self.qmail, "bin"),
                     self.alias, self.twu):
            os.makedirs(path)
        self.write("control/me", "mail.company.com\n")
        self.write("bin/qmail-send", "")

    def path(self, relative):
        return os.path.join(self.qmail, relative)

    def write(self, relative, text):
        with open(self.path(relative), "w") as handle:
            handle.write(text)

    def read(self, relative):
        with open(self.path(relative)) as handle:
            return handle.read()

    def snapshot(self):
        found = {}
        for directory, _subdirs, names in os.walk(self.root):
            for name in names:
                path = os.path.join(directory, name)
                info = os.stat(path)
                with open(path, "rb") as handle:
                    found[os.path.relpath(path, self.root)] = (handle.read(), stat.S_IMODE(info.st_mode))
        return found

    def args(self, method, **extra):
        args = dict(
            teamware_integration_method=method,
            qmail_dir=self.qmail,
            qmail_local_domains=["company.com"],
            teamware_server="tw.server.company.com",
            teamware_server_address="127.0.0.1",
            teamware_smtp_port=2025,
            qmail_aliases={"root": ["admin@company.com"], "postmaster": ["admin@company.com"]},
            qmail_accounts=dict([(name, {"uid": UID, "gid": GID, "home": self.qmail}) for name in routing.QMAIL_SYSTEM_USERS]
                                + [("alias", {"uid": UID, "gid": GID, "home": self.alias}),
                                   ("twu", {"uid": UID, "gid": GID, "home": self.twu})]),
            # the groups of a real qmail need not exist on the test machine
            qmail_required_groups=[],
            qmail_delivery_wrapper=os.path.join(self.root, "teamware-qmail-remote"),
        )
        args.update(METHOD_SETTINGS[method])
        args.update(extra)
        return args


@pytest.fixture
def tree(tmp_path):
    return Tree(tmp_path)


run = functools.partial(run_module, routing_table)


def test_writes_every_file_of_the_method(tree, capsys):
    result = run(capsys, tree.args("torecvm_users"))
    assert result["changed"] is True
    assert tree.read("control/rcpthosts").splitlines()[2:] == ["company.com"]
    assert tree.read("control/locals").splitlines()[0] == routing.MANAGED_MARKER
    assert tree.read("users/assign") == "+tw.:twu:%d:%d:%s:-::\n.\n" % (UID, GID, tree.twu)
    assert not os.path.exists(tree.path("control/virtualdomains"))
    assert not os.path.exists(tree.path("control/smtproutes"))
    with open(os.path.join(tree.twu, ".qmail-default")) as handle:
        (line,) = handle.read().splitlines()[1:]
        assert line.startswith('| case "$DEFAULT" in ?*) ;; ') and "; exec %s/bin/preline -f /usr/bin/torecvm" % tree.qmail in line
    assert os.path.exists(os.path.join(tree.alias, ".qmail-root"))
    assert result["actions"] == {"hup_qmail_send": True, "rebuild_users_cdb": True}
    assert set(result["changed_kinds"]) == {"rcpthosts", "locals", "users_assign", "dot_qmail", "delivery_wrapper"}
    with open(os.path.join(tree.root, "teamware-qmail-remote")) as handle:
        assert "qmail_remote=%s/bin/qmail-remote" % tree.qmail in handle.read()
    assert stat.S_IMODE(os.stat(os.path.join(tree.root, "teamware-qmail-remote")).st_mode) == 0o755


@pytest.mark.parametrize("method", sorted(METHOD_SETTINGS))
def test_second_run_changes_nothing(tree, capsys, method):
    run(capsys, tree.args(method))
    before = tree.snapshot()
    result = run(capsys, tree.args(method))
    assert result["changed"] is False
    assert result["changes"] == []
    assert tree.snapshot() == before


@pytest.mark.parametrize("method", sorted(METHOD_SETTINGS))
def test_check_mode_changes_nothing_and_shows_the_diff(tree, capsys, method):
    before = tree.snapshot()
    result = run(capsys, tree.args(method), check=True, diff=True)
    assert tree.snapshot() == before
    assert result["changed"] is True
    shown = dict((entry["after_header"], entry["after"]) for entry in result["diff"])
    assert routing.MANAGED_MARKER in shown[tree.path("control/rcpthosts")]
    real = run(capsys, tree.args(method))
    assert [c["path"] for c in real["changes"]] == [c["path"] for c in result["changes"]]


@pytest.mark.parametrize("method", ["smtp_alias", "smtp_users", "smtp_forward", "torecvm_alias", "torecvm_users",
                                    "torecvm_virtualdomains"])
def test_the_previous_versions_lines_are_rewritten_as_one(tree, capsys, method):
    """A host the previous version configured (marker, a sh per line): the next run rewrites the .qmail-default as
    the collection's own file, no conflict, the checks and the delivery on one line; the run after changes nothing."""
    run(capsys, tree.args(method))
    changed = []
    for home in (tree.alias, tree.twu):
        path = os.path.join(home, ".qmail-default")
        if not os.path.exists(path):
            continue
        with open(path) as handle:
            marker, line = handle.read().splitlines()
        checks, rest = pipe_lines.split_checks(pipe_lines.pipe_command(line))
        assert len(checks) >= 1 and rest
        with open(path, "w") as handle:
            handle.write("".join(x + "\n" for x in [marker] + ["| " + c["command"] for c in checks] + ["| " + rest]))
        changed.append((path, line))
    assert changed
    result = run(capsys, tree.args(method))
    assert result["changed"] is True
    assert [c["path"] for c in result["changes"]] == [path for path, _line in changed]
    for path, line in changed:
        with open(path) as handle:
            assert handle.read() == routing.MANAGED_MARKER + "\n" + line + "\n"
    assert run(capsys, tree.args(method))["changed"] is False


def test_invalid_input_fails_before_anything_changes(tree, capsys):
    run(capsys, tree.args("smtp_smtproutes"))
    before = tree.snapshot()
    result = run(capsys, tree.args("smtp_smtproutes", teamware_domains=["company.com"], teamware_smtp_port=25,
                                   teamware_server_address="127.0.0.1"))
    assert result["failed"] is True
    assert "teamware_domains" in result["msg"] and "teamware_smtp_port" in result["msg"]
    assert {"teamware_domains", "teamware_smtp_port"} <= set(p["variable"] for p in result["problems"])
    assert tree.snapshot() == before


@pytest.mark.parametrize("method, user, entry", [
    ("smtp_alias", "alias", {"uid": "abc", "gid": GID}),
    ("torecvm_users", "twu", {"uid": UID, "gid": "wheel"}),
])
def test_a_wrong_uid_or_gid_in_qmail_accounts_names_the_variable_and_the_user(tree, capsys, method, user, entry):
    args = tree.args(method)
    args["qmail_accounts"][user] = dict(entry, home=args["qmail_accounts"][user]["home"])
    before = tree.snapshot()
    result = run(capsys, args)
    assert result["failed"] is True
    assert "qmail_accounts: user %r: " % user in result["msg"] and "is not a number" in result["msg"], result["msg"]
    assert tree.snapshot() == before


def test_missing_qmail_is_reported(tmp_path, capsys):
    result = run(capsys, dict(qmail_dir=str(tmp_path / "nowhere"), qmail_local_domains=["company.com"],
                              qmail_required_users=["no-such-user-here"], qmail_required_groups=["no-such-group-here"]))
    assert result["failed"] is True
    for fragment in ("qmail_dir", "bin/qmail-send is missing", "no-such-user-here", "no-such-group-here"):
        assert fragment in result["msg"]


def test_me_is_read_from_the_host(tree, capsys):
    tree.write("control/me", "tw.company.com\n")
    result = run(capsys, tree.args("smtp_smtproutes"))
    assert result["failed"] is True and "control/me" in result["msg"]


@pytest.mark.parametrize("first, second", list(itertools.permutations(sorted(METHOD_SETTINGS), 2)))
def test_switching_methods_leaves_nothing_of_the_old_one(tmp_path, capsys, first, second):
    switched = Tree(tmp_path / "switched")
    fresh = Tree(tmp_path / "fresh")
    run(capsys, switched.args(first))
    result = run(capsys, switched.args(second))
    run(capsys, fresh.args(second))
    # users/cdb aside, the switched host holds exactly what a fresh install of the new method holds
    assert switched.snapshot().keys() == fresh.snapshot().keys()
    for relative in switched.snapshot():
        assert switched.snapshot()[relative][0].replace(switched.root.encode(), b"ROOT") == \
            fresh.snapshot()[relative][0].replace(fresh.root.encode(), b"ROOT")
    old_only = set(e["path"] for e in result["table"]["dot_qmail"])
    assert all(path not in old_only for path in result["stale"])


def test_two_phase_switch_keeps_the_old_catch_all_until_asked(tree, capsys):
    run(capsys, tree.args("torecvm_alias"))
    default = os.path.join(tree.alias, ".qmail-default")
    first = run(capsys, tree.args("smtp_smtproutes", remove_stale=False))
    assert os.path.exists(default)
    assert first["stale"] == [default]
    second = run(capsys, tree.args("smtp_smtproutes"))
    assert not os.path.exists(default)
    assert [c["path"] for c in second["changes"]] == [default]


def test_files_of_the_admin_are_never_removed(tree, capsys):
    mine = os.path.join(tree.alias, ".qmail-mailer-daemon")
    with open(mine, "w") as handle:
        handle.write("&admin@company.com\n")
    run(capsys, tree.args("torecvm_alias"))
    run(capsys, tree.args("smtp_smtproutes"))
    assert os.path.exists(mine)


def test_mode_and_owner_drift_is_repaired(tree, capsys):
    run(capsys, tree.args("smtp_alias"))
    default = os.path.join(tree.alias, ".qmail-default")
    os.chmod(default, 0o666)
    result = run(capsys, tree.args("smtp_alias"))
    assert [c["reasons"] for c in result["changes"]] == [["mode"]]
    assert stat.S_IMODE(os.stat(default).st_mode) == 0o644


def test_users_cdb_older_than_assign_asks_for_a_rebuild(tree, capsys):
    run(capsys, tree.args("smtp_users"))
    tree.write("users/cdb", "")
    os.utime(tree.path("users/cdb"), (1, 1))
    result = run(capsys, tree.args("smtp_users"))
    assert result["changed"] is False
    assert result["actions"]["rebuild_users_cdb"] is True


def test_check_mode_with_a_routing_user_not_yet_created(tree, capsys, monkeypatch):
    # Record warnings at the source: once controller code is imported (the filter tests do),
    # ansible-core routes module warnings to its display instead of the result.
    warned = []
    monkeypatch.setattr(routing_table.AnsibleModule, "warn", lambda self, text: warned.append(text))
    args = tree.args("torecvm_users")
    del args["qmail_accounts"]["twu"]
    args["teamware_routing_user"] = "twu-not-created"
    result = run(capsys, args, check=True)
    assert "UNKNOWN" in result["table"]["users_assign"][0]
    assert any("twu-not-created" in text for text in warned)


# --- the routing user: look before acting ---------------------------------------------------

def test_a_missing_routing_user_holds_the_writes_until_it_is_created(tree, capsys):
    args = tree.args("torecvm_users", teamware_routing_user="twu-not-created", routing_user_home="/home/twu-not-created")
    del args["qmail_accounts"]["twu"]
    before = tree.snapshot()
    result = run(capsys, args)
    assert result["routing_user_needed"] is True and result["changed"] is False
    assert result["actions"] == {"hup_qmail_send": False, "rebuild_users_cdb": False}
    assert "/home/twu-not-created" in result["table"]["users_assign"][0]
    assert tree.snapshot() == before


def test_a_missing_routing_user_with_bad_settings_fails_before_the_user_is_created(tree, capsys):
    args = tree.args("torecvm_users", teamware_routing_user="twu-not-created", routing_user_home="/home/twu-not-created",
                     qmail_local_domains=["company.com", "tw.company.com..bad"])
    del args["qmail_accounts"]["twu"]
    result = run(capsys, args)
    assert result["failed"] is True and "qmail_local_domains" in result["msg"]


def test_a_routing_user_that_is_there_is_not_needed(tree, capsys):
    # qmail_accounts entries are taken as they are; without routing_user_home nothing is looked at.
    assert run(capsys, tree.args("torecvm_users", routing_user_home="/elsewhere"))["routing_user_needed"] is False
    args = tree.args("torecvm_users", teamware_routing_user="twu-not-created")
    del args["qmail_accounts"]["twu"]
    result = run(capsys, args)
    assert result["failed"] is True and result.get("routing_user_needed") is None


def test_a_method_without_routing_user_never_needs_it(tree, capsys):
    args = tree.args("smtp_smtproutes", teamware_routing_user="twu-not-created", routing_user_home="/home/twu-not-created")
    result = run(capsys, args)
    assert result["routing_user_needed"] is False and result["changed"] is True


@pytest.mark.parametrize("home, shell, needed", [
    ("/root", None, False), ("/elsewhere", None, True), ("/root", "/bin/false-not-roots-shell", True)])
def test_the_home_and_shell_of_an_existing_routing_user_are_compared(tree, home, shell, needed):
    root = pwd.getpwuid(0)
    args = tree.args("torecvm_users", teamware_routing_user=root.pw_name, routing_user_home=home if home != "/root" else root.pw_dir,
                     routing_user_shell=shell)
    assert routing_table.routing_user_differs(root.pw_name, routing.Account(root.pw_name, 0, 0, root.pw_dir), {},
                                              dict(args)) is needed


# --- what follows the call, and whether the deploy check is due ------------------

def test_follow_up_is_needed_until_the_routing_is_settled(tree, capsys):
    first = run(capsys, tree.args("smtp_users"))
    # users/assign is new: qmail-newu must follow
    assert first["changed"] is True and first["follow_up_needed"] is True
    tree.write("users/cdb", "")
    # the HUP leaves no trace on the host: it stays owed (in the state file) until the caller says it ran
    owed = run(capsys, tree.args("smtp_users"))
    assert owed["changed"] is False and owed["follow_up_needed"] is True
    assert owed["actions"] == {"hup_qmail_send": True, "rebuild_users_cdb": False}
    done = run(capsys, tree.args("smtp_users", completed_actions=["hup_qmail_send"]))
    assert done["changed"] is True and done["follow_up_needed"] is False
    second = run(capsys, tree.args("smtp_users"))
    assert second["changed"] is False and second["follow_up_needed"] is False


def test_stale_files_of_the_old_method_need_a_follow_up(tree, capsys):
    run(capsys, tree.args("smtp_alias"))
    result = run(capsys, tree.args("smtp_smtproutes", remove_stale=False))
    assert result["stale"] and result["follow_up_needed"] is True


REPORT = {"addresses": ["john@tw.company.com"], "passwd_file": "/nonexistent-passwd", "teamware_domains": ["tw.company.com"],
          "teamware_servers": ["[127.0.0.1]:2025"], "tcp_rules": None}


def test_the_deploy_check_is_due_until_it_passed_on_these_entries_with_these_settings(tree, capsys):
    args = tree.args("smtp_smtproutes", teamware_domains=["tw.company.com"], route_check=REPORT)
    first = run(capsys, args)
    assert first["changed"] is True and first["route_check_due"] is True
    tree.write("users/cdb", "")  # as qmail-newu would
    run(capsys, dict(args, completed_actions=["hup_qmail_send"]))  # as the role does after the HUP
    settled = run(capsys, args)
    # the files are right, but no check has passed on them yet
    assert settled["changed"] is False and settled["follow_up_needed"] is False and settled["route_check_due"] is True
    # the module never answers the check itself
    assert "route_report" not in settled
    looked = run(capsys, dict(args, route_check_passed=True), check=True)
    assert looked["changed"] is True and "route_checked" not in tree.read("control/teamware-qmail.json")
    recorded = run(capsys, dict(args, route_check_passed=True))
    assert recorded["changed"] is True and recorded["route_check_due"] is False
    assert "route_checked" in tree.read("control/teamware-qmail.json")
    again = run(capsys, args)
    assert again["changed"] is False and again["route_check_due"] is False
    assert run(capsys, args, check=True)["route_check_due"] is False
    # other expectations: the record does not hold for them
    other = run(capsys, dict(args, route_check=dict(REPORT, expected={"john@tw.company.com": "teamware"})), check=True)
    assert other["route_check_due"] is True
    # a change of the entries drops the record, also when the settings of the check are the same
    changed = run(capsys, tree.args("smtp_smtproutes", teamware_domains=["tw.company.com", "tw2.company.com"],
                                    route_check=REPORT))
    assert changed["changed"] is True and changed["route_check_due"] is True
    assert "route_checked" not in tree.read("control/teamware-qmail.json")
    back = run(capsys, args)
    assert back["changed"] is True and back["route_check_due"] is True


def test_without_route_check_the_module_says_nothing_of_it(tree, capsys):
    result = run(capsys, tree.args("smtp_users"))
    assert "route_check_due" not in result


@pytest.mark.parametrize("report, message", [
    (dict(REPORT, max_forward_depth=0), "max_forward_depth must be at least 1"),
    (dict(REPORT, unknown_option=1), "unknown_option"),
    ({"passwd_file": "/etc/passwd"}, "addresses"),
])
def test_a_bad_route_check_fails_before_anything_changes(tree, capsys, report, message):
    before = tree.snapshot()
    result = run(capsys, tree.args("smtp_smtproutes", route_check=report))
    assert result["failed"] is True and result["msg"].startswith("route_check: ") and message in result["msg"]
    assert tree.snapshot() == before


def test_a_wrong_word_in_the_expected_routes_fails_before_anything_changes(tree, capsys):
    before = tree.snapshot()
    result = run(capsys, tree.args("smtp_smtproutes", route_check=dict(REPORT, expected={"john@tw.company.com": "nowhere"})))
    assert result["failed"] is True and result["msg"].startswith("route_check: expected: ") and "nowhere" in result["msg"]
    assert tree.snapshot() == before


def test_a_new_context_or_a_failed_check_makes_the_check_due_again(tree, capsys):
    args = tree.args("smtp_smtproutes", teamware_domains=["tw.company.com"], route_check=REPORT,
                     route_check_context={"front_end": "tcpserver", "relay_clients": ["127."]})
    run(capsys, args)
    tree.write("users/cdb", "")
    run(capsys, dict(args, completed_actions=["hup_qmail_send"]))
    run(capsys, dict(args, route_check_passed=True))
    assert run(capsys, args)["route_check_due"] is False
    # another front end (or relay clients): due, with the same routing files
    inetd = dict(args, route_check_context={"front_end": "inetd", "relay_clients": ["127."]})
    assert run(capsys, inetd, check=True)["route_check_due"] is True
    # a check that failed drops the record: due again on the next run, whatever it finds
    failed = run(capsys, dict(args, route_check_failed=True))
    assert failed["changed"] is True and "route_checked" not in tree.read("control/teamware-qmail.json")
    assert run(capsys, args)["route_check_due"] is True


def test_recording_a_check_refuses_files_the_check_did_not_see(tree, capsys):
    args = tree.args("smtp_smtproutes", teamware_domains=["tw.company.com"], route_check=REPORT)
    before = tree.snapshot()
    for option in ("route_check_passed", "route_check_failed"):
        result = run(capsys, dict(args, **{option: True}))
        assert result["failed"] is True and result["msg"].startswith(option + ": the routing files would change")
        assert tree.snapshot() == before


def test_a_follow_up_to_come_makes_the_check_due(tree, capsys):
    args = tree.args("smtp_users", route_check=REPORT)
    run(capsys, args)
    result = run(capsys, args)  # users/cdb is missing: qmail-newu is owed, no file of the collection's changes
    assert result["changed"] is False and result["follow_up_needed"] is True and result["route_check_due"] is True
