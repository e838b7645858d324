# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The qmail_route_info module on temporary qmail trees: options, results, check mode, failures."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
from unittest import mock

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.teamware.qmail.plugins.module_utils import cdb_reader
from ansible_collections.teamware.qmail.plugins.modules import qmail_route_info

from ..module_utils.test_router import Tree, method_tree

pytest.importorskip("cdblib", reason="pure-cdb is needed (pip install pure-cdb)")


def run_module(capsys, args, check_mode=False):
    """Run the module in-process; result["warnings"] lists what it passed to module.warn().

    (ansible-core keeps warnings process-global, and other tests' controller imports may reroute them,
    so the calls are recorded instead of read back from the JSON.)
    """
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    recorded = []
    with patch_module_args(args):
        with mock.patch.object(qmail_route_info.AnsibleModule, "warn", autospec=True,
                               side_effect=lambda module, text, **kw: recorded.append(text)):
            with pytest.raises(SystemExit) as exc:
                qmail_route_info.main()
    out = capsys.readouterr().out
    result = json.loads(out)
    result["rc"] = exc.value.code
    result["warnings"] = recorded
    return result


def real_owner(tree, name):
    """Give the tree user's home a real owner, so that the module's plain stat sees what qmail-getpw would."""
    home = tree.accounts[name].home
    uid = tree.accounts[name].uid
    if os.geteuid() == 0:
        os.chown(home, uid, uid)
    elif os.stat(home).st_uid != uid:
        pytest.skip("needs root to give %s the owner uid %d" % (home, uid))


@pytest.fixture
def tree(tmp_path):
    return Tree(tmp_path)


def base_args(tree, **extra):
    args = {"qmail_dir": tree.qmail, "passwd_file": tree.passwd_file, "tcp_rules": os.path.join(tree.base, "tcp.smtp"),
            "hosts_allow": os.path.join(tree.base, "hosts.allow"), "qmail_delivery_wrapper": tree.wrapper}
    args.update(extra)
    return args


def test_smtp_users_method(capsys, tree):
    method_tree(tree, "smtp_users", teamware_domains=["company.com"], teamware_user_prefix="tw.")
    tree.write(os.path.join(tree.base, "tcp.smtp"), ['192.0.2.10:allow,RELAYCLIENT=""', ":allow"])
    result = run_module(capsys, base_args(tree, addresses=["tw.john@company.com", "nobody@company.com", "x@example.org"],
                                          teamware_domains=["company.com"], teamware_user_prefix="tw."))
    assert result["rc"] == 0 and result["changed"] is False
    assert result["summary"][0] == ("tw.john@company.com -> Teamware Office by SMTP via tw.server.company.com ([127.0.0.1]:2025) "
                                    "[users/cdb +tw. -> twu, ~twu/.qmail-default]")
    assert result["summary"][1].startswith("nobody@company.com -> BOUNCE (Sorry, no mailbox here by that name. (#5.1.1)")
    assert result["summary"][2] == ("x@example.org -> remote by SMTP to the MX of example.org [remote, MX]"
                                    " | from other hosts: refused, not in rcpthosts (relay clients only)")
    route = result["routes"][0]
    assert route["class"] == "local" and route["local"]["lookup"] == "users/cdb"
    assert route["final"][0]["type"] == "teamware_smtp" and route["final"][0]["teamware"] is True
    assert result["config"]["locals"] == ["company.com"]
    assert result["config"]["users_cdb"] is True and result["config"]["cdb_library"] in ("cdblib", "cdb")
    assert [c["address"] for c in result["relay_clients"]] == ["192.0.2.10"]
    assert any("tcp.smtp.cdb does not: tcpserver reads only the compiled rules" in w for w in result["warnings"])


def test_virtualdomains_method_with_real_owner(capsys, tree):
    method_tree(tree, "torecvm_virtualdomains", teamware_domains=["tw.company.com"])
    real_owner(tree, "twu")
    result = run_module(capsys, base_args(tree, addresses=["john@tw.company.com"], teamware_domains=["tw.company.com"]))
    assert result["summary"] == ["john@tw.company.com -> Teamware Office by torecvm into /to/smtp "
                                 "[virtualdomains tw.company.com:twu, passwd twu, ~twu/.qmail-default]"]
    assert result["routes"][0]["final"][0]["recipients"] == ["john@tw.company.com"]
    assert "warnings" not in result or result["warnings"] == []


def test_check_mode_gives_the_same_result(capsys, tree):
    method_tree(tree, "smtp_smtproutes", teamware_domains=["tw.company.com"])
    args = base_args(tree, addresses=["john@tw.company.com", "postmaster@company.com"], teamware_domains=["tw.company.com"])
    normal = run_module(capsys, args)
    checked = run_module(capsys, args, check_mode=True)
    assert normal["summary"] == checked["summary"]
    assert normal["routes"] == checked["routes"]
    assert checked["changed"] is False


def test_open_relay_is_warned(capsys, tree):
    tree.control("locals", ["company.com"])
    result = run_module(capsys, base_args(tree, addresses=["a@example.org"]))
    assert result["config"]["rcpthosts"] is None
    assert any("OPEN RELAY" in w for w in result["warnings"])
    assert result["routes"][0]["accepted_by_smtpd"]["stranger"] is True


def test_pitfall_warnings_reach_ansible(capsys, tree):
    method_tree(tree, "smtp_alias", teamware_routing="domain", teamware_domains=["tw.company.com"])
    tree.write(os.path.join(tree.accounts["alias"].home, ".qmail-default"),
               ["| qmail-remote tw.server.company.com $SENDER $RECIPIENT"])
    result = run_module(capsys, base_args(tree, addresses=["john@tw.company.com"], teamware_domains=["tw.company.com"]))
    warnings = result["warnings"]
    assert any("bare qmail-remote pipe" in w for w in warnings)
    assert any("unquoted $SENDER, $RECIPIENT" in w for w in warnings)
    assert result["routes"][0]["final"][0]["safe"] is False


def test_fails_without_control_directory(capsys, tmp_path):
    result = run_module(capsys, {"addresses": ["a@b.c"], "qmail_dir": str(tmp_path)})
    assert result["rc"] == 1 and result["failed"] is True
    assert "has no control directory" in result["msg"]


@pytest.mark.parametrize("make, words", [
    ("file", "has no control directory"),
    ("loop", "cannot look at"),
    ("denied", "cannot look at"),
])
def test_a_control_directory_that_cannot_be_looked_at_is_not_called_missing(capsys, tmp_path, deny_access, make, words):
    control = str(tmp_path / "control")
    if make == "file":
        (tmp_path / "control").write_text("")
    elif make == "loop":
        os.symlink(control, control)
    else:
        deny_access("stat", control)
    result = run_module(capsys, {"addresses": ["a@b.c"], "qmail_dir": str(tmp_path)})
    assert result["rc"] == 1 and result["failed"] is True and words in result["msg"]
    if make != "file":
        assert control in result["msg"] and "is qmail installed" not in result["msg"] and "become" in result["msg"]


def test_without_a_cdb_library_the_builtin_reader_is_used(capsys, tree, monkeypatch):
    method_tree(tree, "smtp_users", teamware_domains=["company.com"], teamware_user_prefix="tw.")
    with_library = run_module(capsys, base_args(tree, addresses=["tw.john@company.com"]))
    monkeypatch.setattr(qmail_route_info, "CDB_LIBRARY", cdb_reader)
    monkeypatch.setattr(qmail_route_info, "CDB_LIBRARY_NAME", "teamware.qmail cdb_reader")
    builtin = run_module(capsys, base_args(tree, addresses=["tw.john@company.com"]))
    assert builtin["config"]["cdb_library"] == "teamware.qmail cdb_reader"
    assert builtin["routes"] == with_library["routes"]
    assert builtin["summary"] == with_library["summary"]


def test_forward_chain_and_teamware_servers(capsys, tree):
    method_tree(tree, "smtp_forward", teamware_routing="user", teamware_domains=["company.com"], teamware_user_prefix="tw.",
                teamware_rewrite_domain="tw.company.com")
    args = base_args(tree, addresses=["tw.john@company.com"], teamware_domains=["company.com"], teamware_user_prefix="tw.")
    unknown = run_module(capsys, args)
    assert unknown["routes"][0]["final"][0]["teamware"] is None
    known = run_module(capsys, dict(args, teamware_servers=["[127.0.0.1]:2025"]))
    leaf = known["routes"][0]["final"][0]
    assert (leaf["type"], leaf["teamware"], leaf["chain"]) == ("remote_smtp", True, ["tw.john@company.com", "tw.john@tw.company.com"])
    assert known["summary"][0] == ("tw.john@company.com -> forward to tw.john@tw.company.com [alias, ~alias/.qmail-default] -> "
                                   "Teamware Office by SMTP via [127.0.0.1]:2025 [remote, smtproutes tw.company.com:[127.0.0.1]:2025]")


def test_expected_routes_are_compared_where_the_routes_are_worked_out(capsys, tree):
    method_tree(tree, "smtp_users", teamware_domains=["company.com"], teamware_user_prefix="tw.")
    args = base_args(tree, addresses=["tw.john@company.com", "nobody@company.com"], teamware_domains=["company.com"],
                     teamware_user_prefix="tw.")
    assert run_module(capsys, args)["wrong"] == [] and run_module(capsys, args)["checked"] == 0
    right = run_module(capsys, dict(args, expected={"tw.john@company.com": "teamware", "nobody@company.com": "bounce"}))
    assert right["wrong"] == [] and right["checked"] == 2
    wrong = run_module(capsys, dict(args, expected={"tw.john@company.com": "bounce"}))
    assert wrong["checked"] == 1 and len(wrong["wrong"]) == 1
    assert wrong["wrong"][0].startswith("tw.john@company.com: expected bounce, got ")
    bad = run_module(capsys, dict(args, expected={"tw.john@company.com": "nowhere"}))
    assert bad["failed"] is True and bad["msg"].startswith("expected: ") and "nowhere" in bad["msg"]
