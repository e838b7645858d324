# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The method seam (plugins/module_utils/methods.py): a method is a hook and a transport, and nothing outside them
branches on a hook or method name.  An extra method built here from the existing objects (SMTP through
virtualdomains, which the document does not have) gets a complete routing table, passes the rules and is routed to
Teamware Office by the route check, without a line changed in the core."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import connector, methods, pipe_lines, routing

from .document_example import ALIAS, TWU, example
from .test_router import Tree, method_tree

PLUGINS = os.path.join(os.path.dirname(os.path.abspath(routing.__file__)), os.pardir)
# The method names but "none" (which is also a service manager): hook names are also qmail's file names and
# "torecvm", "forward" program names, which the route check's model of qmail compares freely.
NAMES = "|".join(sorted((name for name in routing.METHODS if name != "none"), key=len, reverse=True))
BRANCHES = [
    re.compile(r"\b(hook|transport)\s*(==|!=|\bin\b|\bnot in\b)"),
    re.compile(r"\.name\s*(==|!=)\s*[\"']"),
    re.compile(r"(==|!=)\s*[\"'](%s)[\"']" % NAMES),
    re.compile(r"\bin\s*\(\s*[\"'](%s)[\"']" % NAMES),
    re.compile(r"\.startswith\(\s*[\"'](torecvm|smtp)_?[\"']"),
]

SMTP_VIRTUALDOMAINS = methods.Method("smtp_virtualdomains", "x.1", "SMTP through virtualdomains",
                                     methods.SMTP, methods.HOOKS["virtualdomains"], ("domain",))


@pytest.fixture
def extra_method(monkeypatch):
    """The extra method, known to the core for this test only."""
    monkeypatch.setitem(routing.METHODS, SMTP_VIRTUALDOMAINS.name, SMTP_VIRTUALDOMAINS)
    return SMTP_VIRTUALDOMAINS


def test_no_branch_on_a_hook_or_method_name_outside_methods_py():
    found = []
    for path in sorted(glob.glob(os.path.join(PLUGINS, "*", "*.py"))):
        if os.path.basename(path) == "methods.py":
            continue
        with open(path) as handle:
            for number, line in enumerate(handle, 1):
                code = line.split("#", 1)[0]
                if any(pattern.search(code) for pattern in BRANCHES):
                    found.append("%s:%d: %s" % (os.path.relpath(path, PLUGINS), number, line.strip()))
    assert found == []


def test_the_branch_patterns_catch_what_they_are_for():
    for code in ('if method.hook == "forward":', 'if method.hook in ("alias", "users"):', 'if method.name != "none":',
                 'sendmail = method.transport == "torecvm"', 'if var["teamware_integration_method"] == "smtp_forward":',
                 'if method in ("smtp_alias", "smtp_users"):', 'if name.startswith("torecvm"):'):
        assert any(pattern.search(code) for pattern in BRANCHES), code


def test_every_method_is_a_hook_and_a_transport_and_reads_as_before():
    for method in routing.METHODS.values():
        assert isinstance(method.hook, methods.Hook) and isinstance(method.transport, methods.Transport)
        assert method.hook == method.hook.name and method.transport == method.transport.name
    assert routing.METHODS["smtp_forward"].hook == "forward" and routing.METHODS["none"].hook != "forward"
    assert routing.METHODS["none"].hook == methods.NO_HOOK and routing.METHODS["none"].transport.name is None


def test_an_extra_method_from_existing_objects_gets_its_routing_table(extra_method):
    variables = example(extra_method.name, teamware_domains=["tw.company.com"], teamware_server_address="1.2.3.4")
    table = routing.compute(variables, TWU, ALIAS, ["alias", "twu"])
    assert (table["method"], table["section"], table["routing"]) == ("smtp_virtualdomains", "x.1", "domain")
    assert table["control"] == {
        "rcpthosts": ["company.com", "tw.company.com"], "locals": ["company.com"],
        "virtualdomains": ["tw.company.com:twu"], "smtproutes": ["tw.server.company.com:[1.2.3.4]:2025"]}
    assert table["users_assign"] == ["."]
    assert table["routing_user"] == TWU.as_dict()
    (dot_qmail,) = table["dot_qmail"]
    assert dot_qmail["path"] == "/home/twu/.qmail-default"
    assert dot_qmail["lines"] == [
        routing.MANAGED_MARKER,
        pipe_lines.one_line([pipe_lines.build_guard("DEFAULT", ["?*"], methods.NO_MAILBOX),
                             pipe_lines.build_smtp_delivery("/usr/local/bin/teamware-qmail-remote", "tw.server.company.com",
                                                            '"$DEFAULT"@"$HOST"')])]
    assert table["teamware"] == {"inbound": "smtp", "sendmail": False, "base_addresses": ["tw.company.com"],
                                 "own_node_aliases": [], "smtp_port": 2025, "server": "tw.server.company.com"}
    assert any("5.1.2:" in note for note in table["notes"]) and any("x.1: the document's" in note for note in table["notes"])


def test_the_extra_method_follows_the_rules_of_its_hook_and_transport(extra_method):
    with pytest.raises(routing.v.ValidationError) as failure:
        routing.compute(dict(example(extra_method.name, teamware_domains=["tw.company.com"]), teamware_server=None),
                        None, ALIAS, ["alias"])
    variables = [variable for variable, _reason in failure.value.problems]
    assert "teamware_server" in variables and "teamware_routing_user" in variables


def test_the_extra_method_reaches_teamware_office_in_the_route_check(tmp_path, extra_method):
    tree = Tree(tmp_path)
    method_tree(tree, extra_method.name, teamware_domains=["tw.company.com"])
    router = tree.router(teamware_domains=["tw.company.com"], teamware_servers=["[127.0.0.1]:2025"])
    route = router.route("john@tw.company.com")
    assert [leaf["type"] for leaf in route["final"]] == ["teamware_smtp"]
    assert route["final"][0]["teamware"] is True and route["final"][0]["recipients"] == ["john@tw.company.com"]
    assert route["warnings"] == []


def test_the_extra_method_tells_the_connector_what_it_needs(extra_method):
    inventory = example(extra_method.name, teamware_domains=["tw.company.com"], teamware_server_address="1.2.3.4")
    settings, problems = connector.validate(inventory)
    assert problems == []
    assert (settings.sendmail, settings.inbound, settings.routed_domains) == (False, "smtp", ["tw.company.com"])
