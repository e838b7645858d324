# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every validation rule of the routing core, each with a case that must fail.

Each case names the variable the admin must fix and a fragment of the reason.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import routing
from ansible_collections.teamware.qmail.plugins.module_utils.validators import ValidationError

from .document_example import ALIAS, TWU, example

SMTPROUTES = dict(teamware_domains=["tw.company.com"])
USERS = dict(teamware_domains=["company.com"], teamware_user_prefix="tw.")

INVALID = [
    # method and routing kind
    ("unknown method", example("torecvm_magic"), "teamware_integration_method", "not one of"),
    ("kind not allowed", example("torecvm_virtualdomains", teamware_routing="user", **USERS), "teamware_routing", "only domain"),
    ("kind not chosen", example("smtp_alias", **SMTPROUTES), "teamware_routing", "choose one"),
    ("kind misspelt", example("none", teamware_routing="domains"), "teamware_routing", "must be"),
    ("no teamware domains", example("smtp_smtproutes"), "teamware_domains", "needs the Teamware"),
    # domains, hosts, addresses, ports
    ("bare top-level domain", example("smtp_smtproutes", teamware_domains=["com"]), "teamware_domains", "fully qualified"),
    ("label with leading dash", example("smtp_smtproutes", teamware_domains=["-tw.company.com"]), "teamware_domains", "not a valid"),
    ("double dot", example("smtp_smtproutes", teamware_domains=["tw..company.com"]), "teamware_domains", "not a valid"),
    ("trailing dot", example("smtp_smtproutes", teamware_domains=["tw.company.com."]), "teamware_domains", "ends with"),
    ("IP as domain", example("smtp_smtproutes", teamware_domains=["10.1.2.3"]), "teamware_domains", "IP address"),
    ("wildcard not allowed", example("smtp_smtproutes", teamware_domains=[".tw.company.com"]), "teamware_domains", "wildcard"),
    ("domain listed twice", example("smtp_smtproutes", teamware_domains=["tw.company.com", "TW.company.com"]), "teamware_domains", "twice"),
    ("domains not a list", example("smtp_smtproutes", teamware_domains="tw.company.com"), "teamware_domains", "must be a list"),
    ("unbracketed IP host", example("smtp_smtproutes", teamware_server="10.1.2.3", **SMTPROUTES), "teamware_server", "brackets"),
    ("partial IP host", example("smtp_smtproutes", teamware_server="[10.1.2]", **SMTPROUTES), "teamware_server", "not an IPv4"),
    ("unbalanced bracket", example("smtp_smtproutes", teamware_server="[10.1.2.3", **SMTPROUTES), "teamware_server", "unbalanced"),
    ("bad IP", example("smtp_smtproutes", teamware_server_address="300.1.2.3", **SMTPROUTES), "teamware_server_address", "not an IPv4"),
    ("server twice", example("smtp_smtproutes", teamware_server="[10.1.2.3]", teamware_server_address="10.1.2.4", **SMTPROUTES),
     "teamware_server_address", "drop one"),
    ("port zero", example("smtp_smtproutes", teamware_smtp_port=0, **SMTPROUTES), "teamware_smtp_port", "out of range"),
    ("port too high", example("smtp_smtproutes", teamware_smtp_port=70000, **SMTPROUTES), "teamware_smtp_port", "out of range"),
    ("port not a number", example("smtp_smtproutes", teamware_smtp_port="smtp", **SMTPROUTES), "teamware_smtp_port", "not a number"),
    ("same host on port 25", example("smtp_smtproutes", teamware_server_address="127.0.0.1", teamware_smtp_port=25, **SMTPROUTES),
     "teamware_smtp_port", "cannot use port 25"),
    ("server is a local domain", example("smtp_users", teamware_server="company.com", **USERS), "teamware_server", "two roles"),
    ("server is a local teamware domain", example("smtp_alias", teamware_routing="domain", teamware_server="tw.company.com", **SMTPROUTES),
     "teamware_server", "two roles"),
    ("no server for SMTP", dict(example("smtp_smtproutes", **SMTPROUTES), teamware_server=None), "teamware_server", "needs the Teamware"),
    # a Teamware domain that must stay non-local
    ("teamware domain is me (5.2.1)", example("smtp_smtproutes", qmail_me="tw.company.com", **SMTPROUTES), "teamware_domains", "control/me"),
    ("teamware domain is me (5.1.2)", example("torecvm_virtualdomains", qmail_me="tw.company.com", **SMTPROUTES), "teamware_domains",
     "control/me"),
    ("domain in two roles", example("smtp_smtproutes", teamware_domains=["company.com"]), "teamware_domains", "two roles"),
    ("forward needs alias domain", example("smtp_forward", **USERS), "teamware_rewrite_domain", "needs the alias"),
    ("forward alias domain local", example("smtp_forward", teamware_rewrite_domain="company.com", **USERS), "teamware_rewrite_domain",
     "must not be local"),
    ("forward alias domain is me", example("smtp_forward", teamware_rewrite_domain="mail.company.com", qmail_me="mail.company.com",
                                           **USERS), "teamware_rewrite_domain", "must not be local"),
    # user-based routing and its naming rule
    ("user routing without prefix", example("torecvm_users", teamware_domains=["company.com"]), "teamware_user_prefix", "naming rule"),
    ("prefix without separator", example("torecvm_users", teamware_domains=["company.com"], teamware_user_prefix="tw"),
     "teamware_user_prefix", "separator"),
    ("prefix with shell character", example("torecvm_users", teamware_domains=["company.com"], teamware_user_prefix="t$w."),
     "teamware_user_prefix", "lower case"),
    ("prefix captures mailer-daemon", example("torecvm_users", teamware_domains=["company.com"], teamware_user_prefix="mailer-"),
     "teamware_user_prefix", "mailer-daemon"),
    ("user domain not local", example("smtp_users", teamware_domains=["tw.company.com"], teamware_user_prefix="tw."),
     "teamware_domains", "must be local"),
    ("alias starts with prefix", example("torecvm_users", qmail_aliases={"tw.admin": ["root@company.com"]}, **USERS),
     "qmail_aliases", "two roles"),
    # rcpthosts must never be empty
    ("no qmail domains", example("none", qmail_local_domains=[]), "qmail_local_domains", "is empty"),
    # values that would break a qmail file or a pipe line
    ("LF in a domain", example("smtp_smtproutes", teamware_domains=["tw.company.com\nevil.com"]), "teamware_domains", "LF"),
    ("CR in a domain", example("none", qmail_local_domains=["company.com\r"]), "qmail_local_domains", "CR"),
    ("space in a domain", example("none", qmail_local_domains=[" company.com"]), "qmail_local_domains", "white space"),
    ("shell in torecvm path", example("torecvm_virtualdomains", teamware_torecvm="/usr/bin/torecvm;reboot", **SMTPROUTES),
     "teamware_torecvm", "only letters"),
    ("relative Teamware root", example("torecvm_virtualdomains", teamware_root="to", **SMTPROUTES), "teamware_root", "absolute"),
    ("dotdot in path", example("torecvm_virtualdomains", teamware_root="/to/../etc", **SMTPROUTES), "teamware_root", ".."),
    ("bad report option", example("torecvm_virtualdomains", teamware_torecvm_reports="X", **SMTPROUTES), "teamware_torecvm_reports",
     "not one of"),
    ("alias to a pipe", example("none", qmail_aliases={"root": ["|/bin/sh"]}), "qmail_aliases", "program"),
    ("alias with quote", example("none", qmail_aliases={"root": ["a'b@company.com"]}), "qmail_aliases", "unsafe"),
    ("alias to itself", example("none", qmail_aliases={"root": ["root"]}), "qmail_aliases", "loop"),
    ("alias of a qmail account", example("none", qmail_aliases={"alias": ["root"]}), "qmail_aliases", "qmail's own"),
    ("alias without targets", example("none", qmail_aliases={"root": []}), "qmail_aliases", "non-empty"),
    ("alias twice", example("none", qmail_aliases={"root": ["a@company.com"], "ROOT": ["b@company.com"]}), "qmail_aliases", "twice"),
    # an alias is the file ~alias/.qmail-NAME: never one of qmail's catch-alls, a file of the method or a bad file name
    ("alias default (torecvm_alias)", example("torecvm_alias", teamware_routing="domain", qmail_aliases={"default": ["ann@company.com"]},
                                              **SMTPROUTES), "qmail_aliases", "catch-all for every address"),
    ("alias default (no method)", example("none", qmail_aliases={"Default": ["ann@company.com"]}), "qmail_aliases", "catch-all"),
    ("alias of a prefix's catch-all", example("none", qmail_aliases={"sales-default": ["ann@company.com"]}), "qmail_aliases",
     "starting with 'sales-'"),
    ("alias with ':' is another's file", example("none", qmail_aliases={"a.b": ["ann@company.com"], "a:b": ["bob@company.com"]}),
     "qmail_aliases", "the file of the alias 'a.b'"),
    ("alias with '/'", example("none", qmail_aliases={"sales/old": ["ann@company.com"]}), "qmail_aliases", "'/'"),
    ("alias with a leading '.'", example("none", qmail_aliases={".hidden": ["ann@company.com"]}), "qmail_aliases", "leading"),
    ("alias too long for a file name", example("none", qmail_aliases={"a" * 249: ["ann@company.com"]}), "qmail_aliases", "too long"),
    ("not a boolean", example("torecvm_virtualdomains", teamware_preserve_return_path="yes", **SMTPROUTES),
     "teamware_preserve_return_path", "true or false"),
    ("unknown setting", example("none", teamware_colour="blue"), "teamware_colour", "unknown setting"),
    # smtproutes
    ("default route elsewhere", example("smtp_alias", teamware_routing="domain", teamware_default_route=True, **SMTPROUTES),
     "teamware_default_route", "only with method smtp_smtproutes"),
    ("route twice", example("none", qmail_extra_smtproutes=[{"domain": "x.org", "relay": "a.org"}, {"domain": "X.org", "relay": "b.org"}]),
     "qmail_extra_smtproutes", "two routes"),
    ("route for a local domain", example("none", qmail_extra_smtproutes=[{"domain": "company.com", "relay": "a.org"}]),
     "qmail_extra_smtproutes", "two roles"),
    ("route for a teamware domain", example("smtp_smtproutes", qmail_extra_smtproutes=[{"domain": "tw.company.com", "relay": "a.org"}],
                                            **SMTPROUTES), "qmail_extra_smtproutes", "two roles"),
    ("two default routes", example("smtp_smtproutes", teamware_default_route=True, qmail_extra_smtproutes=[{"domain": "", "relay": "a.org"}],
                                   **SMTPROUTES), "qmail_extra_smtproutes", "one default"),
    ("port without relay", example("none", qmail_extra_smtproutes=[{"domain": "x.org", "port": 2525}]), "qmail_extra_smtproutes",
     "no relay"),
    ("route with unknown key", example("none", qmail_extra_smtproutes=[{"domain": "x.org", "host": "a.org"}]), "qmail_extra_smtproutes",
     "may have"),
    # the routing user
    ("routing user is a qmail account", example("torecvm_virtualdomains", teamware_routing_user="alias", **SMTPROUTES),
     "teamware_routing_user", "qmail or system"),
    ("routing user name invalid", example("torecvm_virtualdomains", teamware_routing_user="Tw U", **SMTPROUTES),
     "teamware_routing_user", "not a valid"),
]


@pytest.mark.parametrize("name, variables, variable, reason", INVALID, ids=[case[0] for case in INVALID])
def test_invalid_settings_name_the_variable_and_the_reason(name, variables, variable, reason):
    with pytest.raises(ValidationError) as caught:
        routing.compute(variables, TWU, ALIAS)
    problems = caught.value.problems
    assert any(var == variable and reason in text for var, text in problems), problems
    assert variable in str(caught.value)


@pytest.mark.parametrize("account, reason", [
    (None, "does not exist"),
    (routing.Account("twu", 0, 0, "/home/twu"), "uid 0"),
    (routing.Account("twu", 503, 503, "/"), "home of its own"),
    (routing.Account("twu", 503, 503, "/var/qmail/alias"), "home of its own"),
])
def test_the_routing_user_must_be_a_real_unprivileged_account(account, reason):
    with pytest.raises(ValidationError) as caught:
        routing.compute(example("torecvm_users", **USERS), account, ALIAS)
    assert any(var == "teamware_routing_user" and reason in text for var, text in caught.value.problems)


def test_a_prefix_that_captures_a_passwd_user_is_refused():
    with pytest.raises(ValidationError) as caught:
        routing.compute(example("smtp_users", **USERS), TWU, ALIAS, existing_users=["john", "tw.backup"])
    assert "tw.backup" in str(caught.value)


def test_all_problems_are_reported_at_once():
    with pytest.raises(ValidationError) as caught:
        routing.compute(example("smtp_smtproutes", teamware_domains=["com"], teamware_smtp_port=0, qmail_local_domains=[]), TWU, ALIAS)
    variables = set(problem[0] for problem in caught.value.problems)
    assert {"teamware_domains", "teamware_smtp_port", "qmail_local_domains"} <= variables


@pytest.mark.parametrize("entry, reason", [
    ({"uid": "abc", "gid": 995, "home": "/var/qmail/alias"}, "uid 'abc' is not a number"),
    ({"uid": 999, "gid": 1.5, "home": "/var/qmail/alias"}, "gid 1.5 is not a number"),
    ({"uid": True, "gid": 995, "home": "/var/qmail/alias"}, "uid True is not a number"),
    ({"uid": -1, "gid": 995, "home": "/var/qmail/alias"}, "uid -1 is not a number"),
    ({"uid": 999, "gid": 995}, "home None is not an absolute path"),
    ({"uid": 999, "gid": 995, "home": "alias"}, "home 'alias' is not an absolute path"),
    ("999:995", "must be a mapping"),
])
def test_a_wrong_entry_of_qmail_accounts_names_the_variable_and_the_user(entry, reason):
    alias = routing.Account.from_entry("alias", entry)
    with pytest.raises(ValidationError) as caught:
        routing.compute(example("none"), TWU, alias)
    assert ("qmail_accounts", "user 'alias': " + reason) in [(var, text[:len("user 'alias': ") + len(reason)])
                                                             for var, text in caught.value.problems], caught.value.problems


def test_an_entry_of_qmail_accounts_with_numbers_as_text_is_taken():
    account = routing.Account.from_entry("twu", {"uid": "503", "gid": 503, "home": "/home/twu/"})
    assert (account.uid, account.gid, account.home, account.problems) == (503, 503, "/home/twu", [])
    routing.compute(example("torecvm_users", **USERS), account, ALIAS)
