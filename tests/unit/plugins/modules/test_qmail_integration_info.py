# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""qmail_integration_info on a temporary tree: a host integrated by hand, read back into variables."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import io
import os

import pytest

from ansible_collections.teamware.qmail.plugins.modules import qmail_integration_info

from .conftest import run_module


class Tree:
    def __init__(self, root):
        self.root = str(root)
        self.qmail = os.path.join(self.root, "var", "qmail")
        self.alias = os.path.join(self.qmail, "alias")
        self.twu = os.path.join(self.root, "home", "twu")
        self.etc = os.path.join(self.root, "etc")
        for path in ("control", "users", "alias"):
            os.makedirs(os.path.join(self.qmail, path))
        os.makedirs(self.twu)
        os.makedirs(self.etc)
        self.write(os.path.join(self.etc, "passwd"), "alias:x:999:995::%s:/bin/false\ntwu:x:503:503::%s:/bin/sh\n"
                   % (self.alias, self.twu))
        self.write(os.path.join(self.qmail, "control", "me"), "mail.company.com\n")
        self.write(os.path.join(self.qmail, "control", "locals"), "company.com\n")

    def write(self, path, text):
        mode = "wb" if isinstance(text, bytes) else "w"
        with open(path, mode) as handle:
            handle.write(text)

    def args(self, **extra):
        args = dict(qmail_dir=self.qmail, passwd_file=os.path.join(self.etc, "passwd"),
                    tcp_rules=os.path.join(self.etc, "tcp.smtp"), inetd_conf=os.path.join(self.etc, "inetd.conf"),
                    hosts_allow=os.path.join(self.etc, "hosts.allow"))
        args.update(extra)
        return args


@pytest.fixture
def tree(tmp_path):
    return Tree(tmp_path)


run = functools.partial(run_module, qmail_integration_info)


def test_virtualdomains_host_of_the_document(tree, capsys):
    tree.write(os.path.join(tree.qmail, "control", "rcpthosts"), "company.com\ntw.company.com\nbackup.example.org\n")
    tree.write(os.path.join(tree.qmail, "control", "virtualdomains"), "tw.company.com:twu\n")
    tree.write(os.path.join(tree.twu, ".qmail-default"), '| /usr/bin/torecvm -d/to/smtp -pA -f"$SENDER" -r"$SENDER"@"$HOST"\n')
    tree.write(os.path.join(tree.alias, ".qmail-root"), "&admin@company.com\n")
    tree.write(os.path.join(tree.etc, "tcp.smtp"), '127.:allow,RELAYCLIENT=""\n')
    result = run(capsys, tree.args(), check=True)
    assert result["changed"] is False
    assert result["method"] == "torecvm_virtualdomains"
    var = result["variables"]
    assert var["teamware_domains"] == ["tw.company.com"] and var["teamware_routing_user"] == "twu"
    assert var["qmail_extra_rcpthosts"] == ["backup.example.org"]
    assert var["qmail_aliases"] == {"root": ["admin@company.com"]}
    assert var["qmail_take_over"] == [os.path.join(tree.twu, ".qmail-default")]
    assert var["qmail_dir"] == tree.qmail
    assert len(result["unsafe"]) == 2 and result["undecided"] == []


def test_users_cdb_without_assign_and_the_teamware_side(tree, capsys):
    cdblib = pytest.importorskip("cdblib")
    out = io.BytesIO()
    with cdblib.Writer(out) as writer:
        writer.put(b"!tw.", ("twu\x00503\x00503\x00%s\x00-\x00" % tree.twu).encode())
        writer.put(b"", b".")
    tree.write(os.path.join(tree.qmail, "users", "cdb"), out.getvalue())
    tree.write(os.path.join(tree.qmail, "control", "locals"), "company.com\nmail.company.com\n")
    tree.write(os.path.join(tree.twu, ".qmail-default"), '| qmail-remote tw.server.com "$SENDER" "$RECIPIENT"\n')
    teamware = os.path.join(tree.root, "to")
    os.makedirs(teamware)
    tree.write(os.path.join(teamware, "tombsmtp.ini"), "own_node = company.com\n")
    tree.write(os.path.join(teamware, "to.ini"), "[MIME]\nsmtp_port = 25\n")
    result = run(capsys, tree.args(teamware_root=teamware))
    assert result["method"] == "smtp_users"
    var = result["variables"]
    assert (var["teamware_user_prefix"], var["teamware_domains"], var["teamware_server"]) == ("tw.", ["company.com"], "tw.server.com")
    assert [u["line"] for u in result["unsafe"]] == ['| qmail-remote tw.server.com "$SENDER" "$RECIPIENT"']
    assert "qmail_smtp_front_end" in [u["item"] for u in result["undecided"]]


def test_a_tree_without_control_directory_fails(tree, capsys):
    result = run(capsys, tree.args(qmail_dir=os.path.join(tree.root, "nowhere")))
    assert result["failed"] is True and "no control directory" in result["msg"]
