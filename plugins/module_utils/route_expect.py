# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Expected routes (``teamware_expected_routes``) compared with what qmail_route_info found.

Pure Python, no Ansible imports: the ``teamware.qmail.route_expectations`` and
``teamware.qmail.route_mismatches`` filters and the unit tests share it.

An expectation is a word of a small vocabulary, or a list of them:

* ``teamware``          reaches Teamware Office, by either transport;
* ``teamware_torecvm``  a pipe to torecvm;
* ``teamware_smtp``     Teamware Office by SMTP (the wrapper, a qmail-remote pipe, or
                        a remote delivery qmail_route_info recognised as Teamware's);
* ``mailbox``           a Linux mailbox (Maildir or mbox) of any user;
* ``mailbox:USER``      the Maildir or mbox of USER;
* ``forward:ADDRESS``   forwarded to ADDRESS (at any hop), whatever happens next;
* ``remote``            by SMTP to another host that is not Teamware Office;
* ``bounce``, ``defer``, ``discard``, ``program``  what the words say.

An address may end in several places (an alias with two targets): the route is right
when every expected word matches at least one of its final destinations and every final
destination matches at least one expected word.  The actual route is described in the
same words, so that a wrong route reads ``address: expected X, got Y`` and Y can be
pasted into the inventory once it is the right one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

VARIABLE = "teamware_expected_routes"
SAMPLE_VARIABLE = "teamware_route_check_sample"

# word -> (needs an argument: True / False / None for optional, meaning)
VOCABULARY = {
    "teamware": (False, "reaches Teamware Office (torecvm or SMTP)"),
    "teamware_torecvm": (False, "a pipe to torecvm"),
    "teamware_smtp": (False, "Teamware Office by SMTP"),
    "mailbox": (None, "a Maildir or mbox (mailbox:USER: of that user)"),
    "forward": (True, "forwarded to an address (forward:ADDRESS)"),
    "remote": (False, "by SMTP to a host that is not Teamware Office"),
    "bounce": (False, "bounced"),
    "defer": (False, "deferred (qmail keeps retrying)"),
    "discard": (False, "accepted and thrown away"),
    "program": (False, "a pipe to another program"),
}
WORDS = ("teamware", "teamware_torecvm", "teamware_smtp", "mailbox", "mailbox:USER", "forward:ADDRESS", "remote",
         "bounce", "defer", "discard", "program")


class ExpectationError(ValueError):
    """teamware_expected_routes is not a mapping address -> known word(s)."""


def _text(value):
    return value if isinstance(value, str) else None


def parse_word(text, address="?"):
    """'mailbox:john' -> ('mailbox', 'john'); raises ExpectationError for an unknown word."""
    if _text(text) is None:
        raise ExpectationError("%s: %s: %r is not a word; use one of %s" % (VARIABLE, address, text, ", ".join(WORDS)))
    word, colon, argument = text.strip().partition(":")
    word = word.strip().lower()
    argument = argument.strip()
    if word not in VOCABULARY:
        raise ExpectationError("%s: %s: %r is not one of %s" % (VARIABLE, address, text, ", ".join(WORDS)))
    needs = VOCABULARY[word][0]
    if needs is True and not argument:
        raise ExpectationError("%s: %s: %r needs an address: %s:ADDRESS" % (VARIABLE, address, text, word))
    if needs is False and colon:
        raise ExpectationError("%s: %s: %r takes no argument; write %s" % (VARIABLE, address, text, word))
    if word == "mailbox" and colon and not argument:
        raise ExpectationError("%s: %s: %r lacks the user; write mailbox or mailbox:USER" % (VARIABLE, address, text))
    return word, argument or None


def format_word(parsed):
    word, argument = parsed
    return "%s:%s" % (word, argument) if argument else word


def parse(expected):
    """The validated expectations: a list of (address, [(word, argument), ...]) in the inventory's order."""
    if expected is None:
        return []
    if not isinstance(expected, Mapping):
        raise ExpectationError("%s must be a mapping of address to expected destination (e.g. "
                               "{'tw.john@company.com': 'teamware'}), not %s" % (VARIABLE, type(expected).__name__))
    result = []
    errors = []
    for address, value in expected.items():
        try:
            result.append(_parse_entry(address, value))
        except ExpectationError as exc:
            errors.append(str(exc))
    if errors:
        raise ExpectationError("; ".join(errors))
    return result


def address_problem(value):
    """Why value is not an address the route check can ask about (a string of one word; an address without @ gets
    qmail's default domain), or None."""
    if _text(value) is None:
        return "%r is not an address (a string such as tw.john@company.com)" % (value,)
    if not value.strip():
        return "%r is not an address: it is empty" % (value,)
    if len(value.strip().split()) != 1:
        return "%r is not an address: it contains white space" % (value,)
    return None


def sample(value):
    """teamware_route_check_sample checked: the list of addresses the deploy check shows (ExpectationError naming the
    variable and each wrong entry by its index)."""
    if value is None:
        return []
    if _text(value) is not None or not isinstance(value, (list, tuple)):
        raise ExpectationError("%s must be a list of addresses (e.g. ['tw.john@company.com']), not %s %r"
                               % (SAMPLE_VARIABLE, type(value).__name__, value))
    errors = ["%s[%d]: %s" % (SAMPLE_VARIABLE, index, address_problem(item))
              for index, item in enumerate(value) if address_problem(item)]
    if errors:
        raise ExpectationError("; ".join(errors))
    return [item.strip() for item in value]


def _parse_entry(address, value):
    problem = address_problem(address)
    if problem:
        raise ExpectationError("%s: %s" % (VARIABLE, problem))
    values = [value] if _text(value) is not None else value
    if not isinstance(values, (list, tuple)) or not values:
        raise ExpectationError("%s: %s: give a word or a non-empty list of words (%s), not %r"
                               % (VARIABLE, address, ", ".join(WORDS), value))
    words = []
    for item in values:
        parsed = parse_word(item, address)
        if parsed not in words:
            words.append(parsed)
    return address.strip(), words


def normalize(expected):
    """The expectations as address -> list of canonical words (what the route_expectations filter returns)."""
    return dict((address, [format_word(w) for w in words]) for address, words in parse(expected))


# ---------------------------------------------------------------- matching


def _lower(text):
    return (text or "").lower()


def _reaches_teamware_by_smtp(leaf):
    return leaf.get("type") == "teamware_smtp" or (leaf.get("type") == "remote_smtp" and leaf.get("teamware") is True)


def leaf_matches(leaf, parsed):
    """Whether one final destination of qmail_route_info matches one parsed word."""
    word, argument = parsed
    kind = leaf.get("type")
    if word == "teamware":
        return leaf.get("teamware") is True
    if word == "teamware_torecvm":
        return kind == "teamware_torecvm"
    if word == "teamware_smtp":
        return _reaches_teamware_by_smtp(leaf)
    if word == "mailbox":
        return kind in ("maildir", "mbox") and (argument is None or leaf.get("user") == argument)
    if word == "forward":
        return _lower(argument) in [_lower(hop) for hop in (leaf.get("chain") or [])[1:]]
    if word == "remote":
        return kind == "remote_smtp" and leaf.get("teamware") is not True
    return kind == word


def describe_leaf(leaf):
    """One final destination in the words of the vocabulary, with the forwards before it."""
    kind = leaf.get("type")
    if kind == "teamware_torecvm":
        text = "teamware_torecvm"
    elif _reaches_teamware_by_smtp(leaf):
        text = "teamware_smtp"
    elif kind in ("maildir", "mbox"):
        text = "mailbox:%s" % leaf.get("user")
    elif kind == "remote_smtp":
        text = "remote"
    elif kind in ("bounce", "defer", "unknown", "discard") and leaf.get("reason"):
        text = "%s (%s)" % (kind, leaf["reason"])
    elif kind == "program" and leaf.get("command"):
        text = "program (%s)" % leaf["command"]
    else:
        text = kind or "unknown"
    hops = ["forward:%s" % hop for hop in (leaf.get("chain") or [])[1:]]
    return " -> ".join(hops + [text])


def describe(final):
    """Every final destination of an address, in the words of the vocabulary."""
    texts = []
    for leaf in final or []:
        text = describe_leaf(leaf)
        if text not in texts:
            texts.append(text)
    return ", ".join(texts) if texts else "nothing (no final destination)"


def route_is_right(final, words):
    final = list(final or [])
    if not final:
        return False
    every_word_found = all(any(leaf_matches(leaf, w) for leaf in final) for w in words)
    every_leaf_expected = all(any(leaf_matches(leaf, w) for w in words) for leaf in final)
    return every_word_found and every_leaf_expected


def mismatches(routes, expected):
    """'address: expected X, got Y' for every address whose route is not the expected one (all at once)."""
    found = {}
    for route in routes or []:
        if isinstance(route, Mapping) and route.get("address") is not None:
            found.setdefault(route["address"], route)
            found.setdefault(_lower(route["address"]), route)
    problems = []
    for address, words in parse(expected):
        want = ", ".join(format_word(w) for w in words)
        route = found.get(address, found.get(_lower(address)))
        if route is None:
            problems.append("%s: expected %s, got no route (qmail_route_info was not asked about it)" % (address, want))
            continue
        final = route.get("final") or []
        if not route_is_right(final, words):
            problems.append("%s: expected %s, got %s" % (address, want, describe(final)))
    return problems
