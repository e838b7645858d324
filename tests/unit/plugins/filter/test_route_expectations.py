# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The teamware.qmail.route_expectations and route_mismatches filters: the vocabulary, matching, messages, errors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.teamware.qmail.plugins.filter import route_expectations as plugin
from ansible_collections.teamware.qmail.plugins.module_utils import route_expect

FILTER_DIR = os.path.dirname(os.path.abspath(plugin.__file__))
NAMES = ("route_expectations", "route_mismatches")


# Final destinations as qmail_route_info returns them (only the keys the comparison reads).
def leaf(kind, chain=("a@company.com",), teamware=False, **extra):
    return dict(extra, type=kind, chain=list(chain), to=chain[-1], teamware=teamware)


TORECVM = leaf("teamware_torecvm", teamware=True)
WRAPPER = leaf("teamware_smtp", teamware=True, safe=True)
SMTPROUTES = leaf("remote_smtp", teamware=True, host="tw.company.com", relay="[127.0.0.1]", port=2025)
MX = leaf("remote_smtp", teamware=None, host="example.org", relay=None, port=25)
MAILDIR = leaf("maildir", user="john", path="/home/john/Maildir/")
MBOX = leaf("mbox", user="john", path="/home/john/Mailbox")
FORWARDED = leaf("maildir", chain=("root@company.com", "admin@company.com"), user="admin", path="/home/admin/Maildir/")
FORWARDED_TW = leaf("teamware_smtp", chain=("a@company.com", "tw.a@tw.company.com"), teamware=True)
BOUNCE = leaf("bounce", reason="Sorry, no mailbox here by that name. (#5.1.1)")
DEFER = leaf("defer", reason="Uh-oh: home directory is writable. (#4.7.0)")
PROGRAM = leaf("program", command="/usr/bin/procmail", teamware=None)
DISCARD = leaf("discard", reason="empty local part")
UNKNOWN = leaf("unknown", reason="cannot read a file: CDB too small")


def routes(final, address="a@company.com"):
    return [{"address": address, "final": final}]


def wrong(final, expected, address="a@company.com"):
    return plugin.route_mismatches(routes(final, address), {address: expected})


# final destinations, expected word(s), right?
MATCHES = [
    ([TORECVM], "teamware", True),
    ([WRAPPER], "teamware", True),
    ([SMTPROUTES], "teamware", True),
    ([FORWARDED_TW], "teamware", True),
    ([MX], "teamware", False),
    ([MAILDIR], "teamware", False),
    ([TORECVM], "teamware_torecvm", True),
    ([WRAPPER], "teamware_torecvm", False),
    ([WRAPPER], "teamware_smtp", True),
    ([SMTPROUTES], "teamware_smtp", True),
    ([TORECVM], "teamware_smtp", False),
    ([MX], "teamware_smtp", False),
    ([MAILDIR], "mailbox", True),
    ([MBOX], "mailbox", True),
    ([MAILDIR], "mailbox:john", True),
    ([MBOX], "mailbox:john", True),
    ([MAILDIR], "mailbox:johnw", False),
    ([TORECVM], "mailbox", False),
    ([FORWARDED], "forward:admin@company.com", True),
    ([FORWARDED], "forward:Admin@Company.COM", True),
    ([FORWARDED], "mailbox:admin", True),
    ([FORWARDED], "forward:root@company.com", False),  # the address itself is not a forward
    ([MAILDIR], "forward:admin@company.com", False),
    ([MX], "remote", True),
    ([SMTPROUTES], "remote", False),  # Teamware Office by SMTP is not "remote"
    ([MAILDIR], "remote", False),
    ([BOUNCE], "bounce", True),
    ([DEFER], "bounce", False),
    ([DEFER], "defer", True),
    ([PROGRAM], "program", True),
    ([DISCARD], "discard", True),
    ([UNKNOWN], "defer", False),
    ([UNKNOWN], "bounce", False),
    ([], "bounce", False),
    # several final destinations: every word found, every destination expected
    ([TORECVM, MAILDIR], ["teamware", "mailbox:john"], True),
    ([TORECVM, MAILDIR], "teamware", False),
    ([TORECVM], ["teamware", "mailbox:john"], False),
    ([TORECVM, WRAPPER], "teamware", True),
    ([TORECVM, WRAPPER], ["teamware_torecvm", "teamware_smtp"], True),
    ([TORECVM], ["teamware", "teamware_torecvm"], True),
]


@pytest.mark.parametrize("final, expected, right", MATCHES)
def test_match(final, expected, right):
    assert (wrong(final, expected) == []) is right


# final destinations, expected, the message
MESSAGES = [
    ([TORECVM], "mailbox:twu", "a@company.com: expected mailbox:twu, got teamware_torecvm"),
    ([SMTPROUTES], "remote", "a@company.com: expected remote, got teamware_smtp"),
    ([MX], "teamware", "a@company.com: expected teamware, got remote"),
    ([MBOX], "teamware", "a@company.com: expected teamware, got mailbox:john"),
    ([FORWARDED], "teamware",
     "a@company.com: expected teamware, got forward:admin@company.com -> mailbox:admin"),
    ([BOUNCE], "teamware",
     "a@company.com: expected teamware, got bounce (Sorry, no mailbox here by that name. (#5.1.1))"),
    ([DEFER], "mailbox", "a@company.com: expected mailbox, got defer (Uh-oh: home directory is writable. (#4.7.0))"),
    ([PROGRAM], "teamware", "a@company.com: expected teamware, got program (/usr/bin/procmail)"),
    ([UNKNOWN], "bounce", "a@company.com: expected bounce, got unknown (cannot read a file: CDB too small)"),
    ([TORECVM, MAILDIR], "teamware", "a@company.com: expected teamware, got teamware_torecvm, mailbox:john"),
    ([TORECVM], [" Teamware ", "MAILBOX:john", "teamware"], "a@company.com: expected teamware, mailbox:john, got teamware_torecvm"),
    ([], "teamware", "a@company.com: expected teamware, got nothing (no final destination)"),
]


@pytest.mark.parametrize("final, expected, message", MESSAGES)
def test_message(final, expected, message):
    assert wrong(final, expected) == [message]


def test_every_wrong_route_at_once_in_the_inventory_order():
    found = [
        {"address": "tw.john@company.com", "final": [TORECVM]},
        {"address": "john@company.com", "final": [MAILDIR]},
        {"address": "x@example.org", "final": [MX]},
    ]
    expected = {"x@example.org": "bounce", "john@company.com": "mailbox:john", "tw.john@company.com": "mailbox:twu",
                "new@company.com": "teamware"}
    assert plugin.route_mismatches(found, expected) == [
        "x@example.org: expected bounce, got remote",
        "tw.john@company.com: expected mailbox:twu, got teamware_torecvm",
        "new@company.com: expected teamware, got no route (qmail_route_info was not asked about it)",
    ]


def test_address_case_is_forgiven():
    assert plugin.route_mismatches([{"address": "TW.John@Company.com", "final": [TORECVM]}],
                                   {"tw.john@company.com": "teamware"}) == []


def test_no_expectations_no_mismatches():
    assert plugin.route_mismatches(routes([MX]), {}) == []
    assert plugin.route_mismatches(None, None) == []


# teamware_expected_routes, the normalized form
NORMALIZED = [
    ({}, {}),
    (None, {}),
    ({"a@x": "teamware"}, {"a@x": ["teamware"]}),
    ({"a@x": " Mailbox:john "}, {"a@x": ["mailbox:john"]}),
    ({"a@x": ["forward:b@x", "forward:c@x", "forward:b@x"]}, {"a@x": ["forward:b@x", "forward:c@x"]}),
    ({" a@x ": "bounce", "b@x": "remote"}, {"a@x": ["bounce"], "b@x": ["remote"]}),
]


@pytest.mark.parametrize("expected, normalized", NORMALIZED)
def test_normalized(expected, normalized):
    assert plugin.route_expectations(expected) == normalized
    assert list(plugin.route_expectations(expected)) == list(normalized)


# teamware_expected_routes, words of the error
INVALID = [
    (["a@x"], "must be a mapping"),
    ("a@x: teamware", "must be a mapping"),
    ({"a@x": "teamwork"}, "a@x: 'teamwork' is not one of teamware, teamware_torecvm"),
    ({"a@x": "forward"}, "needs an address: forward:ADDRESS"),
    ({"a@x": "forward:"}, "needs an address"),
    ({"a@x": "teamware:yes"}, "takes no argument; write teamware"),
    ({"a@x": "mailbox:"}, "lacks the user"),
    ({"a@x": []}, "a@x: give a word or a non-empty list"),
    ({"a@x": None}, "a@x: give a word or a non-empty list"),
    ({"a@x": ["teamware", 3]}, "a@x: 3 is not a word"),
    ({"": "teamware"}, "'' is not an address"),
    ({1: "teamware"}, "1 is not an address"),
]


@pytest.mark.parametrize("expected, words", INVALID)
def test_invalid_expectations_fail_naming_the_address(expected, words):
    for call in (lambda: plugin.route_expectations(expected), lambda: plugin.route_mismatches([], expected)):
        with pytest.raises(AnsibleFilterError) as error:
            call()
        assert "teamware_expected_routes" in str(error.value)
        assert words in str(error.value)


def test_routes_must_be_a_list():
    with pytest.raises(AnsibleFilterError, match="the 'routes' list of qmail_route_info"):
        plugin.route_mismatches({"address": "a@x"}, {"a@x": "teamware"})


def test_every_word_of_the_vocabulary_is_documented():
    text = open(os.path.join(FILTER_DIR, "route_expectations.yml")).read()
    for word in route_expect.WORDS:
        assert "V(%s)" % word.partition(":")[0] in text or "V(%s)" % word in text, word


@pytest.mark.parametrize("name", NAMES)
def test_registered_with_a_sidecar_doc(name):
    assert name in plugin.FilterModule().filters()
    with open(os.path.join(FILTER_DIR, name + ".yml")) as handle:
        doc = yaml.safe_load(handle)
    assert doc["DOCUMENTATION"]["name"] == name
    assert "_value" in doc["RETURN"]


def test_every_wrong_word_at_once():
    with pytest.raises(AnsibleFilterError) as error:
        plugin.route_expectations({"a@x": "teamwork", "b@x": "teamware", "c@x": "mailbox:"})
    assert "a@x: 'teamwork'" in str(error.value)
    assert "c@x: 'mailbox:'" in str(error.value)
    assert "b@x" not in str(error.value)


def test_the_sample_addresses_are_checked_and_returned():
    assert route_expect.sample(["tw.john@company.com", " postmaster "]) == ["tw.john@company.com", "postmaster"]
    assert route_expect.sample([]) == [] and route_expect.sample(None) == []


@pytest.mark.parametrize("sample, message", [
    ("tw.john@company.com", "teamware_route_check_sample must be a list of addresses (e.g. ['tw.john@company.com']), "
                            "not str"),
    ({"tw.john@company.com": "teamware"}, "teamware_route_check_sample must be a list of addresses"),
    (["a@x", {"a": 1}], "teamware_route_check_sample[1]: {'a': 1} is not an address"),
    ([["a@x"]], "teamware_route_check_sample[0]: ['a@x'] is not an address"),
    (["a@x", 5, ""], "teamware_route_check_sample[1]: 5 is not an address (a string such as tw.john@company.com); "
                     "teamware_route_check_sample[2]: '' is not an address: it is empty"),
    (["john smith@x"], "teamware_route_check_sample[0]: 'john smith@x' is not an address: it contains white space"),
])
def test_wrong_sample_addresses_fail_naming_the_variable_and_the_entry(sample, message):
    with pytest.raises(route_expect.ExpectationError) as error:
        route_expect.sample(sample)
    assert message in str(error.value)


def test_an_expected_address_with_white_space_is_refused():
    with pytest.raises(AnsibleFilterError) as error:
        plugin.route_expectations({"john\n@x": "teamware"})
    assert "teamware_expected_routes: 'john\\n@x' is not an address: it contains white space" in str(error.value)
