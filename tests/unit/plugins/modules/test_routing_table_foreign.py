# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""routing_table on a host that serves more than Teamware: the entries it did not write are kept, conflicts stop
the run before any change, a method switch removes only its own lines, and the state file remembers what is owed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import ownership
from ansible_collections.teamware.qmail.plugins.module_utils import routing

from .test_routing_table import GID, UID, Tree, run
from ....method_examples import METHOD_SETTINGS

# A host set up by hand: a backup-MX domain, vpopmail's virtual domain and its users/assign lines, a partner route,
# a comment, the admin's own alias.
HAND_MADE = {
    "control/rcpthosts": "company.com\nmail.company.com\nbackup.example.org\n",
    "control/morercpthosts": "relay.example.net\n",
    "control/locals": "mail.company.com\ncompany.com\n",
    "control/virtualdomains": "# vpopmail\nother.example:other.example\n",
    "control/smtproutes": "partner.example:[192.0.2.7]\n",
    "users/assign": "=vpopmail:vpopmail:89:89:/home/vpopmail:::\n+other.example-:vpopmail:89:89:/home/vpopmail/domains/other.example:-::\n.\n",
    "alias/.qmail-webmaster": "&webmaster@other.example\n",
}
FOREIGN = {
    "control/rcpthosts": ["backup.example.org", "mail.company.com"],
    "control/virtualdomains": ["# vpopmail", "other.example:other.example"],
    "control/smtproutes": ["partner.example:[192.0.2.7]"],
    "users/assign": ["=vpopmail:vpopmail:89:89:/home/vpopmail:::", "+other.example-:vpopmail:89:89:/home/vpopmail/domains/other.example:-::"],
}


@pytest.fixture
def host(tmp_path):
    tree = Tree(tmp_path)
    for relative, text in HAND_MADE.items():
        tree.write(relative, text)
    return tree


def lines(tree, relative):
    """The file's lines; a removed file has none (virtualdomains and smtproutes go when they would be empty)."""
    if not os.path.exists(tree.path(relative)):
        return []
    return tree.read(relative).splitlines()


def assert_foreign_kept(tree):
    for relative, expected in FOREIGN.items():
        present = lines(tree, relative)
        for line in expected:
            assert line in present, (relative, line, present)
    assert tree.read("control/morercpthosts") == HAND_MADE["control/morercpthosts"]
    assert tree.read("alias/.qmail-webmaster") == HAND_MADE["alias/.qmail-webmaster"]
    assigned = lines(tree, "users/assign")
    # qmail-newu: the host's own entries keep their order and come before the collection's; '.' ends the file
    assert assigned[:2] == FOREIGN["users/assign"] and assigned[-1] == "."


@pytest.mark.parametrize("method", sorted(METHOD_SETTINGS))
def test_every_foreign_entry_survives_every_method_and_a_switch(host, capsys, method):
    first = run(capsys, host.args(method))
    assert first.get("failed") is not True, first.get("msg")
    assert_foreign_kept(host)
    assert run(capsys, host.args(method))["changed"] is False
    # a switch to the first method (of those that route mail) whose hook writes elsewhere
    other = next(name for name in routing.METHODS if routing.METHODS[name].routes_mail
                 and routing.METHODS[name].hook != routing.METHODS[method].hook)
    switched = run(capsys, host.args(other))
    assert switched.get("failed") is not True, switched.get("msg")
    assert_foreign_kept(host)


def test_a_switch_removes_only_the_collections_own_lines(host, capsys):
    run(capsys, host.args("smtp_smtproutes"))
    assert "tw.company.com:[127.0.0.1]:2025" in lines(host, "control/smtproutes")
    run(capsys, host.args("torecvm_virtualdomains"))
    assert lines(host, "control/smtproutes")[0] == "partner.example:[192.0.2.7]"
    assert "tw.company.com:[127.0.0.1]:2025" not in lines(host, "control/smtproutes")
    assert "tw.company.com:twu" in lines(host, "control/virtualdomains")
    state = json.loads(host.read("control/" + ownership.STATE_NAME))
    assert state["method"] == "torecvm_virtualdomains"
    assert state["lines"]["virtualdomains"] == ["tw.company.com:twu"]
    assert "partner.example:[192.0.2.7]" not in state["lines"]["smtproutes"]


def test_lines_the_method_would_write_anyway_are_adopted(host, capsys):
    result = run(capsys, host.args("smtp_smtproutes"))
    state = json.loads(host.read("control/" + ownership.STATE_NAME))
    # company.com was the host's, and the inventory lists it: from now on it is the collection's
    assert "company.com" in state["lines"]["locals"]
    assert "backup.example.org" not in state["lines"]["rcpthosts"]
    assert result["kept"]["rcpthosts"] == ["mail.company.com", "backup.example.org"]


def test_the_diff_shows_the_kept_entries(host, capsys):
    result = run(capsys, host.args("smtp_smtproutes"), check=True, diff=True)
    headers = [entry["after_header"] for entry in result["diff"]]
    assert any("smtproutes (1 entry of the host's own kept: partner.example:[192.0.2.7])" in h for h in headers)


def test_check_mode_changes_nothing_on_a_hand_made_host(host, capsys):
    before = host.snapshot()
    result = run(capsys, host.args("torecvm_virtualdomains"), check=True)
    assert result["changed"] is True and host.snapshot() == before


CONFLICTS = [
    # (method, file, hand-made content, the contradicting line, the entry named, words of the reason)
    ("torecvm_virtualdomains", "control/virtualdomains", "tw.company.com:someoneelse\n", "tw.company.com:someoneelse",
     "virtualdomains:tw.company.com", "another value"),
    ("smtp_smtproutes", "control/smtproutes", "tw.company.com:[192.0.2.99]\n", "tw.company.com:[192.0.2.99]",
     "smtproutes:tw.company.com", "another value"),
    ("smtp_smtproutes", "control/virtualdomains", "tw.company.com:vpopmail\n", "tw.company.com:vpopmail",
     "virtualdomains:tw.company.com", "smtproutes"),
    ("smtp_smtproutes", "control/virtualdomains", ".company.com:vpopmail\n", ".company.com:vpopmail",
     "virtualdomains:.company.com", "before smtproutes"),
    ("torecvm_virtualdomains", "control/locals", "company.com\ntw.company.com\n", "tw.company.com",
     "locals:tw.company.com", "local"),
    ("smtp_smtproutes", "control/locals", "company.com\ntw.company.com\n", "tw.company.com", "locals:tw.company.com",
     "local"),
    ("torecvm_users", "users/assign", "+tw:someone:1001:1001:/home/someone:-::\n.\n", "+tw:someone:1001:1001:/home/someone:-::",
     "users/assign:+tw", "overlaps"),
    ("smtp_users", "users/assign", "=tw.boss:boss:1002:1002:/home/boss:::\n.\n", "=tw.boss:boss:1002:1002:/home/boss:::",
     "users/assign:=tw.boss", "prefix"),
    ("smtp_alias", "users/assign", "+:catchall:1003:1003:/home/catchall:-::\n.\n", "+:catchall:1003:1003:/home/catchall:-::",
     "users/assign:+", "overlaps"),
    ("smtp_smtproutes", "control/smtproutes", "company.com:[192.0.2.5]\n", "company.com:[192.0.2.5]", "smtproutes:company.com",
     "locals"),
]


@pytest.mark.parametrize("method, relative, text, line, entry, reason", CONFLICTS)
def test_a_contradicting_entry_stops_the_run_before_any_change(tmp_path, capsys, method, relative, text, line, entry, reason):
    tree = Tree(tmp_path)
    tree.write(relative, text)
    before = tree.snapshot()
    result = run(capsys, tree.args(method))
    assert result["failed"] is True and tree.snapshot() == before
    assert relative.replace("control/", "") in result["msg"] and repr(line) in result["msg"]
    assert entry in result["msg"] and reason in result["msg"] and "qmail_take_over" in result["msg"]
    assert "change the inventory" in result["msg"]
    assert result["conflicts"][0]["entry"] == entry
    taken = run(capsys, tree.args(method, qmail_take_over=[entry]))
    assert taken.get("failed") is not True, taken.get("msg")
    assert line not in lines(tree, relative)
    assert run(capsys, tree.args(method))["changed"] is False


@pytest.mark.parametrize("method, owner", [("torecvm_alias", "alias"), ("smtp_alias", "alias"), ("smtp_forward", "alias"),
                                           ("torecvm_users", "twu"), ("torecvm_virtualdomains", "twu")])
def test_a_hand_made_dot_qmail_default_stops_the_run(tmp_path, capsys, method, owner):
    tree = Tree(tmp_path)
    path = (tree.alias if owner == "alias" else tree.twu) + "/.qmail-default"
    with open(path, "w") as handle:
        handle.write("| /usr/local/bin/my-own-catchall\n")
    before = tree.snapshot()
    result = run(capsys, tree.args(method))
    assert result["failed"] is True and tree.snapshot() == before
    assert path in result["msg"] and "no teamware.qmail marker" in result["msg"]
    taken = run(capsys, tree.args(method, qmail_take_over=[path]))
    assert taken.get("failed") is not True and routing.MANAGED_MARKER in open(path).read()


def test_an_identical_hand_made_alias_is_adopted(tmp_path, capsys):
    tree = Tree(tmp_path)
    tree.write("alias/.qmail-root", "&admin@company.com\n")
    result = run(capsys, tree.args("smtp_smtproutes"))
    assert result.get("failed") is not True
    assert tree.read("alias/.qmail-root").splitlines() == [routing.MANAGED_MARKER, "&admin@company.com"]


def test_foreign_entries_remove_makes_the_inventory_the_whole_truth(host, capsys):
    shown = run(capsys, host.args("smtp_smtproutes", qmail_foreign_entries="remove"), check=True, diff=True)
    assert "partner.example:[192.0.2.7]" in " ".join(d["before"] for d in shown["diff"])
    run(capsys, host.args("smtp_smtproutes", qmail_foreign_entries="remove"))
    assert "partner.example:[192.0.2.7]" not in host.read("control/smtproutes")
    assert lines(host, "users/assign") == ["."]
    assert "backup.example.org" not in host.read("control/rcpthosts")
    # the host's own .qmail files are never removed by it
    assert host.read("alias/.qmail-webmaster") == HAND_MADE["alias/.qmail-webmaster"]


def test_declared_extras_are_written_and_removed_with_the_inventory(tmp_path, capsys):
    tree = Tree(tmp_path)
    extras = dict(qmail_extra_rcpthosts=["backup.example.org"],
                  qmail_extra_virtualdomains=[{"domain": "other.example", "prepend": "vpopmail"}],
                  qmail_extra_users=[{"address": "bob", "user": "bob", "uid": 1005, "gid": 1005, "home": "/home/bob"}])
    run(capsys, tree.args("smtp_smtproutes", **extras))
    assert "backup.example.org" in lines(tree, "control/rcpthosts")
    assert "other.example:vpopmail" in lines(tree, "control/virtualdomains")
    assert lines(tree, "users/assign") == ["=bob:bob:1005:1005:/home/bob:::", "."]
    run(capsys, tree.args("smtp_smtproutes"))
    assert "backup.example.org" not in tree.read("control/rcpthosts")
    assert lines(tree, "users/assign") == ["."]


@pytest.mark.parametrize("extra, variable", [
    (dict(qmail_extra_rcpthosts=["company.com"]), "qmail_extra_rcpthosts"),
    (dict(qmail_extra_rcpthosts=["not a domain"]), "qmail_extra_rcpthosts"),
    (dict(qmail_extra_virtualdomains=[{"domain": "tw.company.com", "prepend": "x"}]), "qmail_extra_virtualdomains"),
    (dict(qmail_extra_virtualdomains=[{"domain": "other.example"}]), "qmail_extra_virtualdomains"),
    (dict(qmail_extra_virtualdomains=[{"domain": "other.example", "prepend": "a:b"}]), "qmail_extra_virtualdomains"),
    (dict(qmail_extra_users=[{"prefix": "tw.j", "user": "j", "uid": 5, "gid": 5, "home": "/home/j"}],
          teamware_integration_method="smtp_users"), "qmail_extra_users"),
    (dict(qmail_extra_users=[{"address": "bob", "user": "bob", "uid": 0, "gid": 0, "home": "/root"}]), "qmail_extra_users"),
    (dict(qmail_extra_users=[{"address": "bob", "user": "bob", "uid": 5, "gid": 5}]), "qmail_extra_users"),
])
def test_bad_extras_fail_naming_the_variable(tmp_path, capsys, extra, variable):
    tree = Tree(tmp_path)
    method = extra.pop("teamware_integration_method", "smtp_smtproutes")
    before = tree.snapshot()
    result = run(capsys, tree.args(method, **extra))
    assert result["failed"] is True and variable in result["msg"] and tree.snapshot() == before


def test_an_upgrade_from_whole_file_ownership_keeps_nothing_stale(tmp_path, capsys):
    """A host managed by an earlier version (marked files, no state file): every entry of its files was the
    collection's, so a switch leaves none of them behind."""
    tree = Tree(tmp_path)
    run(capsys, tree.args("smtp_smtproutes"))
    os.unlink(tree.path("control/" + ownership.STATE_NAME))
    result = run(capsys, tree.args("torecvm_virtualdomains"))
    assert result.get("failed") is not True and not result["kept"]
    assert not os.path.exists(tree.path("control/smtproutes"))


def test_a_killed_run_leaves_the_hup_owed(tmp_path, capsys, monkeypatch):
    """The intent state is written before the files: a run killed after them still owes qmail-send its HUP."""
    tree = Tree(tmp_path)
    from ansible_collections.teamware.qmail.plugins.module_utils import files
    real_apply = files.apply
    calls = []

    def killed_after_locals(state):
        real_apply(state)
        calls.append(state.kind)
        if state.kind == "locals":
            raise KeyboardInterrupt("killed")
    monkeypatch.setattr(files, "apply", killed_after_locals)
    with pytest.raises(KeyboardInterrupt):
        run(capsys, tree.args("torecvm_virtualdomains"))
    monkeypatch.setattr(files, "apply", real_apply)
    capsys.readouterr()
    assert calls[0] == "state"
    rerun = run(capsys, tree.args("torecvm_virtualdomains"))
    assert rerun["actions"]["hup_qmail_send"] is True and rerun["follow_up_needed"] is True


def test_a_damaged_state_file_stops_the_run(tmp_path, capsys):
    tree = Tree(tmp_path)
    tree.write("control/" + ownership.STATE_NAME, "{not json")
    result = run(capsys, tree.args("smtp_smtproutes"))
    assert result["failed"] is True and ownership.STATE_NAME in result["msg"] and "nothing changed" in result["msg"]


def test_lines_after_the_end_of_users_assign_stay_after_it(tmp_path, capsys):
    """qmail-newu stops at '.': what an admin left after it must not become an entry."""
    tree = Tree(tmp_path)
    tree.write("users/assign", "=bob:bob:1005:1005:/home/bob:::\n.\n+old:nobody:1:1:/nonexistent:-::\n")
    run(capsys, tree.args("smtp_users"))
    assigned = lines(tree, "users/assign")
    assert assigned[0] == "=bob:bob:1005:1005:/home/bob:::"
    assert assigned[-2:] == [".", "+old:nobody:1:1:/nonexistent:-::"]
    assert assigned.count(".") == 1 and assigned.index("+tw.:twu:%d:%d:%s:-::" % (UID, GID, tree.twu)) < assigned.index(".")
    assert run(capsys, tree.args("smtp_users"))["changed"] is False
