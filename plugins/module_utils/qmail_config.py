# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""qmail's control files as qmail-send, qmail-smtpd and qmail-remote read them (notqmail 1.09).

* control_readfile's line rules, constmap's case-insensitive keys;
* qmail-smtpd / rcpthosts.c: the domain (or a ``.suffix`` of it) must be in control/rcpthosts (or
  morercpthosts.cdb); no rcpthosts at all accepts everything (open relay);
* qmail-send.c rewrite(): envnoathost, percenthack, locals, virtualdomains;
* qmail-remote.c: smtproutes for a host argument.

Pure Python; the host is reached through a qmail_host.HostView.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.teamware.qmail.plugins.module_utils import qmail_host

OPEN_RELAY = "control/rcpthosts is MISSING: qmail-smtpd accepts mail for ANY domain from anyone - this host is an OPEN RELAY"

_ASCII_LOWER = dict((code, code + 32) for code in range(ord("A"), ord("Z") + 1))


def lower(text):
    """ASCII-only lower case, as qmail's case_lowerb and constmap compare."""
    return text.translate(_ASCII_LOWER)


def scan_ulong(text):
    """qmail's scan_ulong: the leading digits, 0 when there are none."""
    match = re.match(r"\d+", text)
    return int(match.group(0)) if match else 0


def control_lines(text):
    """Lines of a multi-line control file as control_readfile keeps them.

    Trailing spaces, tabs are stripped (never CR); empty lines and lines starting
    with '#' are skipped.
    """
    lines = []
    if text is None:
        return lines
    for line in text.split("\n"):
        line = line.rstrip(" \t")
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def control_first_line(text):
    """A single-line control file: the first line, trailing white space stripped."""
    if text is None:
        return None
    return text.split("\n", 1)[0].rstrip(" \t\n")


class ConstMap:
    """qmail's constmap: case-insensitive keys; with colon, key:value lines; the last duplicate wins."""

    def __init__(self, lines, colon):
        self.entries = {}
        self.lines = {}
        for line in lines:
            if colon:
                if ":" not in line:
                    continue
                key, value = line.split(":", 1)
            else:
                key, value = line, ""
            self.entries[lower(key)] = value
            self.lines[lower(key)] = line

    def get(self, key):
        return self.entries.get(lower(key))

    def line(self, key):
        return self.lines.get(lower(key))

    def __contains__(self, key):
        return lower(key) in self.entries


class QmailConfig:
    """The control files as qmail-send, qmail-smtpd and qmail-remote read them."""

    def __init__(self, view):
        self.view = view
        self.warnings = []
        self.notes = []
        self.texts = {}
        for name in ("me", "locals", "rcpthosts", "virtualdomains", "smtproutes", "percenthack", "envnoathost",
                     "defaultdomain"):
            self.texts[name] = self._read(name)
        self.me = control_first_line(self.texts["me"])
        if self.me is None:
            self.warnings.append("control/me is missing: qmail-send and qmail-smtpd refuse to start without it")
        locals_lines = control_lines(self.texts["locals"])
        if self.texts["locals"] is None:
            locals_lines = [self.me] if self.me else []
            if self.me:
                self.notes.append("control/locals is missing: qmail uses control/me (%s) as the only local domain" % self.me)
        elif not locals_lines:
            self.notes.append("control/locals is empty: no domain is local")
        self.locals_list = locals_lines
        self.locals = ConstMap(locals_lines, False)
        self.rcpthosts_list = None if self.texts["rcpthosts"] is None else control_lines(self.texts["rcpthosts"])
        if self.rcpthosts_list is None:
            self.warnings.append(OPEN_RELAY)
        elif not self.rcpthosts_list:
            self.warnings.append("control/rcpthosts is empty: qmail-smtpd refuses every recipient (553) from hosts "
                                 "without RELAYCLIENT")
        self.rcpthosts = ConstMap(self.rcpthosts_list or [], False)
        self.morercpthosts = self.view.qmail_path("control", "morercpthosts.cdb")
        self.has_morercpthosts = self.rcpthosts_list is not None and self.view.stat(self.morercpthosts) is not None
        self.virtualdomains_list = control_lines(self.texts["virtualdomains"])
        self.virtualdomains = ConstMap(self.virtualdomains_list, True)
        self.smtproutes_list = control_lines(self.texts["smtproutes"])
        self.smtproutes = ConstMap(self.smtproutes_list, True)
        self.percenthack = ConstMap(control_lines(self.texts["percenthack"]), False)
        envnoathost = control_first_line(self.texts["envnoathost"])
        self.envnoathost = envnoathost if envnoathost is not None else (self.me or "envnoathost")
        self.defaultdomain = control_first_line(self.texts["defaultdomain"])
        self._check_lines()
        for domain in self.locals_list:
            if domain in self.virtualdomains:
                self.warnings.append("%s is in control/locals and in control/virtualdomains: locals wins, the "
                                     "virtualdomains line is never used" % domain)
        for domain in self.locals_list:
            if lower(domain) != "localhost" and self.rcpthosts_list is not None and not self.smtpd_accepts("x@" + domain)[0]:
                self.warnings.append("local domain %s is not in control/rcpthosts: qmail-smtpd refuses its mail from "
                                     "other hosts" % domain)

    def _read(self, name):
        path = self.view.qmail_path("control", name)
        try:
            return self.view.read_text(path)
        except (IOError, OSError) as exc:
            self.warnings.append("cannot read %s: %s" % (path, exc))
            return None

    def _check_lines(self):
        for name in ("locals", "rcpthosts", "virtualdomains", "smtproutes", "percenthack"):
            text = self.texts[name]
            if not text:
                continue
            for number, line in enumerate(text.split("\n"), 1):
                if line.endswith("\r"):
                    self.warnings.append("control/%s line %d ends with a CR: qmail keeps it as part of the value, so the "
                                         "line matches nothing (write LF line ends)" % (name, number))
                elif line[:1] in (" ", "\t"):
                    self.warnings.append("control/%s line %d starts with white space, which qmail keeps as part of "
                                         "the value" % (name, number))
            seen = set()
            for line in control_lines(text):
                key = lower(line.split(":", 1)[0]) if name in ("virtualdomains", "smtproutes") else lower(line)
                if key in seen:
                    self.warnings.append("control/%s lists %r more than once: qmail uses the last line" % (name, key))
                seen.add(key)

    def smtpd_accepts(self, address):
        """rcpthosts(): (accepted, matching entry or None, reason), for a client without RELAYCLIENT."""
        if self.rcpthosts_list is None:
            return True, None, "control/rcpthosts is missing: every domain is accepted (open relay)"
        at = address.rfind("@")
        if at < 0:
            return True, None, "no '@': qmail-smtpd lets it through (envnoathost is appended later)"
        host = lower(address[at + 1:])
        for j in range(len(host)):
            if j == 0 or host[j] == ".":
                if host[j:] in self.rcpthosts:
                    return True, self.rcpthosts.line(host[j:]), "control/rcpthosts lists %s" % self.rcpthosts.line(host[j:])
        if self.has_morercpthosts:
            for j in range(len(host)):
                if j == 0 or host[j] == ".":
                    try:
                        found = self.view.cdb_get(self.morercpthosts, host[j:].encode("utf-8", "surrogateescape"))
                    except qmail_host.CdbUnavailable:
                        return False, None, ("not in control/rcpthosts; control/morercpthosts.cdb exists but no cdb library "
                                             "is available to read it")
                    if found is not None:
                        return True, host[j:], "control/morercpthosts.cdb lists %s" % host[j:]
        if not self.rcpthosts_list and not self.has_morercpthosts:
            return False, None, "553: control/rcpthosts is empty"
        return False, None, "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"

    def smtproute(self, host):
        """qmail-remote's smtproutes lookup for a host argument: dict with relay, port, route line, mx."""
        found = None
        for i in range(len(host) + 1):
            if i == 0 or i == len(host) or host[i] == ".":
                key = host[i:]
                if key in self.smtproutes:
                    found = key
                    break
        result = {"host": host, "route": None, "relay": None, "port": 25, "mx": True}
        if found is None:
            return result
        result["route"] = self.smtproutes.line(found)
        value = self.smtproutes.get(found)
        if not value:
            return result
        relay, colon, port = value.partition(":")
        result["relay"] = relay
        result["mx"] = False
        if colon:
            result["port"] = scan_ulong(port)
        return result

    def rewrite(self, recipient):
        """qmail-send's rewrite(): (class, rewritten address, details)."""
        details = {"envnoathost": False, "percenthack": False, "locals": None, "virtualdomains": None}
        addr = recipient
        i = addr.rfind("@")
        if i < 0:
            addr = "%s@%s" % (addr, self.envnoathost)
            details["envnoathost"] = True
            i = addr.rfind("@")
        while addr[i + 1:] in self.percenthack:
            j = addr.rfind("%", 0, i)
            if j < 0:
                break
            addr = addr[:j] + "@" + addr[j + 1:i]
            i = j
            details["percenthack"] = True
        at = addr.rfind("@")
        if addr[at + 1:] in self.locals:
            details["locals"] = self.locals.line(addr[at + 1:])
            return "local", addr, details
        for i in range(len(addr) + 1):
            if i == 0 or i == at + 1 or i == len(addr) or (i > at and addr[i] == "."):
                key = addr[i:]
                if key in self.virtualdomains:
                    prefix = self.virtualdomains.get(key)
                    details["virtualdomains"] = self.virtualdomains.line(key)
                    if not prefix:
                        return "remote", addr, details
                    return "virtual", "%s-%s" % (prefix, addr), details
        return "remote", addr, details
