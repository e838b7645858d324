# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every method on the document's own example, file by file and line by line.

company.com is qmail's domain, tw.company.com Teamware Office's, the Teamware
server is tw.server.company.com listening on port 2025, the routing user is twu
and the user-based naming rule is the prefix "tw.".
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import routing

from .document_example import ALIAS, TWU, example

MARK = routing.MANAGED_MARKER
TORECVM_PRESENT = 'test -x /usr/bin/torecvm || { echo "/usr/bin/torecvm is missing; is Teamware Office installed? (#4.3.0)"; exit 111; }'
TORECVM = "exec /var/qmail/bin/preline -f /usr/bin/torecvm -d/to/smtp -pA"
WRAPPER = "exec /usr/local/bin/teamware-qmail-remote tw.server.company.com"
HOST_GUARD = ('case "$HOST" in {}) ;; '
              '*) echo "Sorry, no mailbox here by that name. (#5.1.1)"; exit 100 ;; esac')
# the guards match without a process: each letter in both cases ([tT]), no command substitution, no tr
# the prefix followed by a name: the prefix alone (tw.@company.com) names no Teamware user
PREFIX_GUARD = ('case "$LOCAL" in [tT][wW].?*) ;; '
                '*) echo "Sorry, no mailbox here by that name. (#5.1.1)"; exit 100 ;; esac')
# the routing user's .qmail-default: an empty $DEFAULT names nobody
NAME_GUARD = ('case "$DEFAULT" in ?*) ;; '
              '*) echo "Sorry, no mailbox here by that name. (#5.1.1)"; exit 100 ;; esac')
ALIAS_DEFAULT = "/var/qmail/alias/.qmail-default"
TWU_DEFAULT = "/home/twu/.qmail-default"


def one_line(*commands):
    """The ONE pipe line of a .qmail-default: the guards, the presence check and the delivery after each other
    (qmail-local starts a sh per pipe line; the delivery is exec'ed, so the line exits with its code)."""
    return ["| " + "; ".join(commands)]


CASES = [
    pytest.param(
        example("none", teamware_domains=["tw.company.com"]),
        {"rcpthosts": ["company.com"], "locals": ["company.com"], "virtualdomains": [], "smtproutes": []},
        ["."], {}, id="2-none"),
    pytest.param(
        example("torecvm_alias", teamware_routing="domain", teamware_domains=["tw.company.com"]),
        {"rcpthosts": ["company.com", "tw.company.com"], "locals": ["company.com", "tw.company.com"],
         "virtualdomains": [], "smtproutes": []},
        ["."],
        {ALIAS_DEFAULT: one_line(HOST_GUARD.format("[tT][wW].[cC][oO][mM][pP][aA][nN][yY].[cC][oO][mM]"), TORECVM_PRESENT,
                                 TORECVM + ' -f"$SENDER" -r"$RECIPIENT"')},
        id="5.1.1-domain"),
    pytest.param(
        example("torecvm_alias", teamware_routing="user", teamware_domains=["company.com"], teamware_user_prefix="tw."),
        {"rcpthosts": ["company.com"], "locals": ["company.com"], "virtualdomains": [], "smtproutes": []},
        ["."],
        {ALIAS_DEFAULT: one_line(HOST_GUARD.format("[cC][oO][mM][pP][aA][nN][yY].[cC][oO][mM]"), PREFIX_GUARD, TORECVM_PRESENT,
                                 TORECVM + ' -f"$SENDER" -r"$RECIPIENT"')},
        id="5.1.1-user"),
    pytest.param(
        example("torecvm_virtualdomains", teamware_domains=["tw.company.com"]),
        {"rcpthosts": ["company.com", "tw.company.com"], "locals": ["company.com"],
         "virtualdomains": ["tw.company.com:twu"], "smtproutes": []},
        ["."],
        {TWU_DEFAULT: one_line(NAME_GUARD, TORECVM_PRESENT, TORECVM + ' -f"$SENDER" -r"$DEFAULT"@"$HOST"')},
        id="5.1.2"),
    pytest.param(
        example("torecvm_users", teamware_domains=["company.com"], teamware_user_prefix="tw."),
        {"rcpthosts": ["company.com"], "locals": ["company.com"], "virtualdomains": [], "smtproutes": []},
        ["+tw.:twu:503:503:/home/twu:-::", "."],
        {TWU_DEFAULT: one_line(NAME_GUARD, TORECVM_PRESENT, TORECVM + ' -f"$SENDER" -r"$RECIPIENT"')},
        id="5.1.3"),
    pytest.param(
        example("torecvm_users", teamware_domains=["company.com"], teamware_user_prefix="tw.",
                teamware_rewrite_domain="tw.company.com"),
        {"rcpthosts": ["company.com"], "locals": ["company.com"], "virtualdomains": [], "smtproutes": []},
        ["+tw.:twu:503:503:/home/twu:-::", "."],
        {TWU_DEFAULT: one_line(NAME_GUARD, TORECVM_PRESENT, TORECVM + ' -f"$SENDER" -r"$DEFAULT"@tw.company.com')},
        id="5.1.3-rewrite"),
    pytest.param(
        example("smtp_smtproutes", teamware_domains=["tw.company.com"]),
        {"rcpthosts": ["company.com", "tw.company.com"], "locals": ["company.com"], "virtualdomains": [],
         "smtproutes": ["tw.company.com:tw.server.company.com:2025"]},
        ["."], {}, id="5.2.1"),
    pytest.param(
        example("smtp_smtproutes", teamware_domains=["tw.company.com"], teamware_server_address="127.0.0.1",
                teamware_default_route=True,
                qmail_extra_smtproutes=[{"domain": ".tw.company.com", "relay": ""}]),
        {"rcpthosts": ["company.com", "tw.company.com"], "locals": ["company.com"], "virtualdomains": [],
         "smtproutes": ["tw.company.com:[127.0.0.1]:2025", ".tw.company.com:", ":[127.0.0.1]:2025"]},
        ["."], {}, id="5.2.1-same-host-wildcard-default"),
    pytest.param(
        example("smtp_alias", teamware_routing="domain", teamware_domains=["tw.company.com"], teamware_server_address="127.0.0.1"),
        {"rcpthosts": ["company.com", "tw.company.com"], "locals": ["company.com", "tw.company.com"], "virtualdomains": [],
         "smtproutes": ["tw.server.company.com:[127.0.0.1]:2025"]},
        ["."],
        {ALIAS_DEFAULT: one_line(HOST_GUARD.format("[tT][wW].[cC][oO][mM][pP][aA][nN][yY].[cC][oO][mM]"), WRAPPER + ' "$SENDER" "$RECIPIENT"')},
        id="5.2.2-domain"),
    pytest.param(
        example("smtp_alias", teamware_routing="user", teamware_domains=["company.com"], teamware_user_prefix="tw.",
                teamware_rewrite_domain="tw.company.com"),
        {"rcpthosts": ["company.com"], "locals": ["company.com"], "virtualdomains": [],
         "smtproutes": ["tw.server.company.com:tw.server.company.com:2025"]},
        ["."],
        {ALIAS_DEFAULT: one_line(HOST_GUARD.format("[cC][oO][mM][pP][aA][nN][yY].[cC][oO][mM]"), PREFIX_GUARD, WRAPPER + ' "$SENDER" "$LOCAL"@tw.company.com')},
        id="5.2.2-user-rewrite"),
    pytest.param(
        example("smtp_users", teamware_domains=["company.com"], teamware_user_prefix="tw.", teamware_server_address="1.2.3.4"),
        {"rcpthosts": ["company.com"], "locals": ["company.com"], "virtualdomains": [],
         "smtproutes": ["tw.server.company.com:[1.2.3.4]:2025"]},
        ["+tw.:twu:503:503:/home/twu:-::", "."],
        {TWU_DEFAULT: one_line(NAME_GUARD, WRAPPER + ' "$SENDER" "$RECIPIENT"')},
        id="5.2.3"),
    pytest.param(
        example("smtp_forward", teamware_domains=["company.com"], teamware_user_prefix="tw.",
                teamware_rewrite_domain="tw.company.com", teamware_server_address="127.0.0.1"),
        {"rcpthosts": ["company.com"], "locals": ["company.com"], "virtualdomains": [],
         "smtproutes": ["tw.company.com:[127.0.0.1]:2025"]},
        ["."],
        {ALIAS_DEFAULT: one_line(HOST_GUARD.format("[cC][oO][mM][pP][aA][nN][yY].[cC][oO][mM]"), PREFIX_GUARD,
                                 'exec /var/qmail/bin/forward "$LOCAL"@tw.company.com')},
        id="5.2.4"),
]


@pytest.mark.parametrize("variables, control, assign, dot_qmail", CASES)
def test_document_example(variables, control, assign, dot_qmail):
    table = routing.compute(variables, TWU, ALIAS)
    assert table["control"] == control
    assert table["users_assign"] == assign
    written = dict((entry["path"], entry["lines"]) for entry in table["dot_qmail"])
    assert written == dict((path, [MARK] + lines) for path, lines in dot_qmail.items())


def test_the_whole_line_of_5_2_3():
    """One case spelled out: the guard and the wrapper on one pipe line, the wrapper exec'ed."""
    table = routing.compute(example("smtp_users", teamware_domains=["company.com"], teamware_user_prefix="tw.",
                                    teamware_server_address="1.2.3.4"), TWU, ALIAS)
    assert table["dot_qmail"][0]["lines"] == [
        MARK,
        '| case "$DEFAULT" in ?*) ;; *) echo "Sorry, no mailbox here by that name. (#5.1.1)"; exit 100 ;; esac; '
        'exec /usr/local/bin/teamware-qmail-remote tw.server.company.com "$SENDER" "$RECIPIENT"']


@pytest.mark.parametrize("variables, control, assign, dot_qmail", CASES)
def test_owner_and_mode_of_dot_qmail_files(variables, control, assign, dot_qmail):
    for entry in routing.compute(variables, TWU, ALIAS)["dot_qmail"]:
        owner = TWU if entry["path"].startswith("/home/twu/") else ALIAS
        assert (entry["owner"], entry["uid"], entry["gid"], entry["mode"]) == (owner.name, owner.uid, owner.gid, "0644")


def test_aliases_and_groups_of_section_6():
    table = routing.compute(example(
        "smtp_smtproutes", teamware_domains=["tw.company.com"],
        qmail_aliases={"root": ["admin@tw.company.com"], "Postmaster": "admin@tw.company.com", "webmaster": ["john"],
                       "sales.team": ["ann@tw.company.com", "bob@company.com"]}), TWU, ALIAS)
    files = dict((entry["path"], entry["lines"][1:]) for entry in table["dot_qmail"])
    assert files == {
        "/var/qmail/alias/.qmail-postmaster": ["&admin@tw.company.com"],
        "/var/qmail/alias/.qmail-root": ["&admin@tw.company.com"],
        "/var/qmail/alias/.qmail-sales:team": ["&ann@tw.company.com", "&bob@company.com"],
        "/var/qmail/alias/.qmail-webmaster": ["&john"],
    }


def test_preline_can_be_switched_off_and_report_option_is_used():
    table = routing.compute(example("torecvm_virtualdomains", teamware_domains=["tw.company.com"],
                                    teamware_preserve_return_path=False, teamware_torecvm_reports="F",
                                    teamware_root="/opt/to"), TWU, ALIAS)
    assert table["dot_qmail"][0]["lines"][1].endswith('; exec /usr/bin/torecvm -d/opt/to/smtp -pF -f"$SENDER" -r"$DEFAULT"@"$HOST"')


@pytest.mark.parametrize("variables, expected", [
    (example("torecvm_virtualdomains", teamware_domains=["tw.company.com"]),
     {"inbound": "torecvm", "sendmail": True, "base_addresses": ["tw.company.com"], "own_node_aliases": []}),
    (example("torecvm_users", teamware_domains=["company.com"], teamware_user_prefix="tw.", teamware_rewrite_domain="tw.company.com"),
     {"inbound": "torecvm", "sendmail": True, "base_addresses": ["tw.company.com"], "own_node_aliases": []}),
    (example("smtp_smtproutes", teamware_domains=["tw.company.com", "tw2.company.com"]),
     {"inbound": "smtp", "sendmail": False, "base_addresses": ["tw.company.com", "tw2.company.com"], "own_node_aliases": []}),
    (example("smtp_forward", teamware_domains=["company.com"], teamware_user_prefix="tw.", teamware_rewrite_domain="tw.company.com"),
     {"inbound": "smtp", "sendmail": False, "base_addresses": ["company.com"], "own_node_aliases": ["tw.company.com"]}),
])
def test_what_teamware_must_know(variables, expected):
    teamware = routing.compute(variables, TWU, ALIAS)["teamware"]
    assert dict((key, teamware[key]) for key in expected) == expected


def test_smtproutes_are_written_in_the_order_qmail_applies_them():
    routes = [{"domain": "", "relay": "smarthost.isp.net"},
              {"domain": ".company.com", "relay": "[10.0.0.1]"},
              {"domain": ".sub.company.com", "relay": "[10.0.0.2]", "port": 2525},
              {"domain": "a.company.com", "relay": ""}]
    table = routing.compute(example("smtp_smtproutes", teamware_domains=["tw.company.com"], qmail_extra_smtproutes=routes),
                            TWU, ALIAS)
    assert table["control"]["smtproutes"] == [
        "a.company.com:",
        "tw.company.com:tw.server.company.com:2025",
        ".sub.company.com:[10.0.0.2]:2525",
        ".company.com:[10.0.0.1]",
        ":smarthost.isp.net",
    ]


def test_every_method_is_described_once():
    sections = sorted(m.section for m in routing.METHODS.values())
    assert sections == ["2", "5.1.1", "5.1.2", "5.1.3", "5.2.1", "5.2.2", "5.2.3", "5.2.4"]
