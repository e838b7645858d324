# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks for the values that end up in qmail's files.

Pure Python, no Ansible imports: the routing core, the modules and the tests
share these.  Every check returns the cleaned value or raises InvalidValue
with a reason that can be shown to an admin next to the variable's name.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

try:
    from functools import lru_cache
except ImportError:  # pragma: no cover - Python 2 is not supported, but keep imports harmless
    def lru_cache(maxsize=None):
        return lambda func: func


class InvalidValue(ValueError):
    """A value that must not reach a qmail file or a shell line."""


class ValidationError(ValueError):
    """One or more inventory variables are wrong; nothing has been changed.

    ``problems`` is a list of (variable, reason) pairs, in the order found.
    """

    def __init__(self, problems):
        self.problems = list(problems)
        super(ValidationError, self).__init__(self.render())

    def render(self):
        return "; ".join("%s: %s" % (variable, reason) for variable, reason in self.problems)


class Problems:
    """Collects problems so that an admin sees all of them in one run."""

    def __init__(self):
        self.items = []

    def add(self, variable, reason):
        self.items.append((variable, reason))

    def check(self, variable, func, value, *args):
        """Run a validator; record its complaint instead of raising."""
        try:
            return func(value, *args)
        except InvalidValue as exc:
            self.add(variable, str(exc))
            return None

    def raise_if_any(self):
        if self.items:
            raise ValidationError(self.items)


_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Fast path for the common, valid case; the label-by-label loop explains a failure.
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:(?!-)[a-z0-9-]{1,63}(?<!-)\.)+(?!-)[a-z0-9-]{0,62}[a-z]$")
# Characters that never need quoting in a POSIX shell word and have no
# meaning in any qmail file we write (no ':' because it separates fields).
_SAFE_PATH = re.compile(r"^/[A-Za-z0-9_./+-]*$")
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#%&'*+/=?^_`{|}~.-]+$")
_PREFIX = re.compile(r"^[a-z0-9][a-z0-9._-]*[._-]$")
_USER_NAME = re.compile(r"^[a-z_][a-z0-9_.-]*$")
_FORBIDDEN = ("\r", "\n", "\0")


def _text(value, what):
    if not isinstance(value, str):
        raise InvalidValue("%s must be a string, not %s" % (what, type(value).__name__))
    for char in _FORBIDDEN:
        if char in value:
            raise InvalidValue("%s %r contains a CR, LF or NUL character, which would break a qmail file" % (what, value))
    if value != value.strip():
        raise InvalidValue("%s %r has leading or trailing white space, which qmail would keep as part of the value" % (what, value))
    if not value:
        raise InvalidValue("%s is empty" % what)
    return value


@lru_cache(maxsize=8192)
def _cached_domain(value, allow_wildcard):
    return _domain(value, allow_wildcard)


def domain(value, allow_wildcard=False):
    """A DNS domain, lower-cased; with allow_wildcard a leading '.' means its subdomains."""
    if isinstance(value, str):
        return _cached_domain(value, allow_wildcard)
    return _domain(value, allow_wildcard)


def _domain(value, allow_wildcard):
    value = _text(value, "domain")
    name = value.lower()
    wildcard = name.startswith(".")
    if wildcard and not allow_wildcard:
        raise InvalidValue("domain %r starts with '.', a subdomain wildcard, which is not allowed here" % value)
    bare = name[1:] if wildcard else name
    if _DOMAIN.match(bare):
        return name
    if bare.endswith("."):
        raise InvalidValue("domain %r ends with '.': qmail compares names literally, write it without the dot" % value)
    labels = bare.split(".")
    if len(bare) > 253 or len(labels) < 2 and bare != "localhost":
        raise InvalidValue("%r is not a fully qualified domain name" % value)
    for label in labels:
        if not _LABEL.match(label):
            raise InvalidValue("%r is not a valid domain name (label %r: letters, digits and '-' only, 1 to 63 characters)" % (value, label))
    if all(label.isdigit() for label in labels):
        raise InvalidValue("%r looks like an IP address, not a domain name" % value)
    return name


def ipv4(value):
    value = _text(value, "IP address")
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise InvalidValue("%r is not an IPv4 address" % value)


def partial_ipv4(value):
    """A full IPv4 address or its first one to three octets, as tcp rules and hosts.allow take them.

    A trailing dot is accepted and dropped (hosts.allow style ``1.2.3.``).
    """
    value = _text(value, "relay client address")
    text = value[:-1] if value.endswith(".") else value
    octets = text.split(".")
    if not 1 <= len(octets) <= 4:
        raise InvalidValue("%r is not an IPv4 address or partial address (1 to 4 octets)" % value)
    for octet in octets:
        if not octet.isdigit() or len(octet) > 3 or int(octet) > 255 or (len(octet) > 1 and octet[0] == "0"):
            raise InvalidValue("%r is not an IPv4 address or partial address (octet %r)" % (value, octet))
    return text


def port(value):
    if isinstance(value, bool):
        raise InvalidValue("port must be a number, not %r" % value)
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InvalidValue("port %r is not a number" % (value,))
    if not 1 <= number <= 65535:
        raise InvalidValue("port %d is out of range 1-65535" % number)
    return number


def mail_host(value):
    """A host as qmail-remote and smtproutes take it: a domain name or [IPv4]."""
    value = _text(value, "host")
    if value.startswith("[") and value.endswith("]"):
        return "[%s]" % ipv4(value[1:-1])
    if value.startswith("[") or value.endswith("]"):
        raise InvalidValue("host %r has unbalanced brackets; an IP address is written [1.2.3.4]" % value)
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return domain(value)
    raise InvalidValue("host %r is an IP address; qmail needs it in brackets: [%s]" % (value, value))


def absolute_path(value):
    value = _text(value, "path")
    if not _SAFE_PATH.match(value):
        raise InvalidValue("path %r must be absolute and use only letters, digits and _ . / + -" % value)
    if "/../" in value + "/" or value.endswith("/.."):
        raise InvalidValue("path %r contains '..'" % value)
    return value


def local_part(value):
    """The local part of an address (left of '@'); no quoting, no shell or qmail specials."""
    value = _text(value, "local part")
    if not _LOCAL_PART.match(value) or "|" in value or "`" in value or "'" in value:
        raise InvalidValue("local part %r has characters that are unsafe in a .qmail file name or a shell line" % value)
    if value.startswith(".") or value.endswith(".") or ".." in value:
        raise InvalidValue("local part %r has a leading, trailing or double '.'" % value)
    return value


def mail_address(value):
    """user@domain, or a bare local user name (qmail appends envnoathost)."""
    value = _text(value, "address")
    if value.startswith(("|", "/", ".", "#", "&")):
        raise InvalidValue("address %r would be read by qmail-local as a program, file or comment line" % value)
    if "@" not in value:
        return local_part(value)
    local, host = value.rsplit("@", 1)
    return "%s@%s" % (local_part(local), domain(host))


def user_prefix(value):
    """A naming rule for user-based routing, e.g. 'tw.' or 'tw-'."""
    value = _text(value, "prefix")
    if not _PREFIX.match(value):
        raise InvalidValue("prefix %r must be lower case letters, digits, '.', '_' or '-', start with a letter "
                           "or digit and end with a separator ('.', '_' or '-'), e.g. 'tw.'" % value)
    return value


def user_name(value):
    value = _text(value, "user name")
    if not _USER_NAME.match(value) or len(value) > 32:
        raise InvalidValue("%r is not a valid Unix user name" % value)
    return value


def choice(value, choices, what):
    if value not in choices:
        raise InvalidValue("%s %r is not one of: %s" % (what, value, ", ".join(choices)))
    return value
