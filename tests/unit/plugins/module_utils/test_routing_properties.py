# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Properties that hold for every valid inventory, checked on random ones."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.teamware.qmail.plugins.module_utils import routing

from .document_example import ALIAS, TWU

LABEL = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
DOMAIN = st.builds(lambda labels, tld: ".".join(labels + [tld]), st.lists(LABEL, min_size=1, max_size=3), st.sampled_from(["com", "org", "net"]))
PREFIX = st.builds(lambda word, sep: word + sep, st.text("abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=5), st.sampled_from([".", "-", "_"]))
VARIABLE = re.compile(r"\$[A-Z][A-Z0-9_]*")


@st.composite
def inventories(draw):
    method = routing.METHODS[draw(st.sampled_from(sorted(routing.METHODS)))]
    routing_kind = draw(st.sampled_from(method.routing_kinds)) if method.routing_kinds else None
    domains = draw(st.lists(DOMAIN, min_size=2, max_size=6, unique=True))
    split = draw(st.integers(1, len(domains) - 1))
    local, others = domains[:split], domains[split:]
    variables = {
        "teamware_integration_method": method.name,
        "qmail_local_domains": local,
        "teamware_server": draw(st.one_of(DOMAIN.map(lambda name: "srv." + name), st.just("[10.0.0.9]"))),
        "teamware_smtp_port": draw(st.sampled_from([25, 2025, 587])),
        "teamware_preserve_return_path": draw(st.booleans()),
    }
    if routing_kind:
        variables["teamware_routing"] = routing_kind
    if routing_kind == "user" or method.hook.forwards_to_rewrite_domain:
        variables["teamware_domains"] = draw(st.lists(st.sampled_from(local), min_size=1, unique=True))
        prefix = draw(PREFIX)
        if any(name.startswith(prefix) for name in routing.RESERVED_LOCAL_NAMES):
            prefix = "tw."
        variables["teamware_user_prefix"] = prefix
    else:
        variables["teamware_domains"] = others
    if method.hook.forwards_to_rewrite_domain or draw(st.booleans()):
        variables["teamware_rewrite_domain"] = "alias." + others[0]
    names = draw(st.lists(st.sampled_from(["root", "postmaster", "webmaster", "sales", "it.support"]), unique=True))
    variables["qmail_aliases"] = dict((name, ["admin@" + domains[0]]) for name in names
                                      if not name.startswith(variables.get("teamware_user_prefix") or "\0"))
    return variables


def _lines(table):
    for lines in table["control"].values():
        yield from lines
    yield from table["users_assign"]
    for entry in table["dot_qmail"]:
        yield from entry["lines"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inventories())
def test_invariants_of_every_routing_table(variables):
    table = routing.compute(variables, TWU, ALIAS)
    control = table["control"]
    rcpthosts = control["rcpthosts"]

    assert rcpthosts, "an empty rcpthosts refuses all mail"
    for dom in variables["qmail_local_domains"]:
        assert dom in rcpthosts
    if routing.METHODS[table["method"]].routes_mail:
        for dom in variables["teamware_domains"]:
            assert dom in rcpthosts

    virtual = set(line.split(":", 1)[0] for line in control["virtualdomains"])
    assert not virtual & set(control["locals"]), "a domain is either local or virtual"
    routed = set(line.split(":", 1)[0] for line in control["smtproutes"])
    assert not routed & set(control["locals"]), "a local domain is never routed away"
    assert len(routed) == len(control["smtproutes"]), "one route per key"

    assert table["users_assign"][-1] == "."
    for line in _lines(table):
        assert "\r" not in line and "\n" not in line and "\0" not in line
    for entry in table["dot_qmail"]:
        assert entry["lines"][0] == routing.MANAGED_MARKER
        assert entry["lines"][1].strip(), "a blank first delivery line defers all mail"
        for line in entry["lines"]:
            if not line.startswith("|"):
                continue
            assert "qmail-remote " not in line.replace("teamware-qmail-remote ", ""), "a bare qmail-remote pipe loses mail"
            for match in VARIABLE.finditer(line):
                before, after = line[match.start() - 1], line[match.end():match.end() + 1]
                assert before == '"' and after == '"', "unquoted %s in %r" % (match.group(), line)


@settings(max_examples=100, deadline=None)
@given(inventories())
def test_the_table_is_a_pure_function_of_the_inventory(variables):
    assert routing.compute(variables, TWU, ALIAS) == routing.compute(dict(variables), TWU, ALIAS)
