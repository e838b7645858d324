# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where will qmail deliver an address?  The lookups of a live qmail, re-done in Python.

Pure Python, no Ansible imports and no third-party imports: the
``teamware.qmail.qmail_route_info`` module and the unit tests share it.  Every
step follows notqmail 1.09 (a maintained qmail 1.03), file by file:

* qmail-smtpd / rcpthosts.c: RELAYCLIENT skips rcpthosts; otherwise the domain
  (or a ``.suffix`` of it) must be in control/rcpthosts (or morercpthosts.cdb);
  no rcpthosts at all accepts everything (open relay).
* qmail-send.c rewrite(): envnoathost for addresses without '@', percenthack,
  then locals (exact), then virtualdomains (``user@domain``, ``domain``,
  ``.suffix`` longest first, empty key; an empty prefix means "not virtual").
* qmail-lspawn.c: users/cdb (``!local`` exact, then the longest wildcard whose
  last character is a wildcard character), else qmail-getpw.c (passwd user with
  uid != 0 owning an existing home, ``name`` or ``name-anything``), else alias.
* qmail-local.c: home checks, the .qmail file search (extension lower-cased,
  '.' written ':', ``-default`` from the longest prefix), the environment of
  the delivery programs, and the meaning of each line.
* qmail-remote.c: smtproutes for the host argument (exact, ``.suffix`` longest
  first, empty key; an empty relay means MX).

The host is reached through a ``HostView`` (file contents, stat, passwd and
users/cdb); tests use one on a temporary tree.  Nothing is ever written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fnmatch
import os
import posixpath
import re
import stat

from ansible_collections.teamware.qmail.plugins.module_utils import route_expect

AUTO_BREAK = "-"
GETPW_USERLEN = 32
AUTO_PATRN = 0o002
DEFAULT_SENDER = "sender@example.net"
DEFAULT_ALIASEMPTY = "./Maildir/"
DEFAULT_WRAPPER = "/usr/local/bin/teamware-qmail-remote"
DEFAULT_MAX_DEPTH = 10

OPEN_RELAY = "control/rcpthosts is MISSING: qmail-smtpd accepts mail for ANY domain from anyone - this host is an OPEN RELAY"
MSG_NO_MAILBOX = "Sorry, no mailbox here by that name. (#5.1.1)"
MSG_LOOP = "This message is looping: it already has my Delivered-To line. (#5.4.6)"
MSG_ROOT = "Not allowed to perform deliveries as root."
MSG_NOALIAS = "Unable to find alias user!"
MSG_HOME_WRITABLE = "Uh-oh: home directory is writable. (#4.7.0)"
MSG_HOME_STICKY = "Home directory is sticky: user is editing his .qmail file. (#4.2.1)"
MSG_QMAIL_WRITABLE = "Uh-oh: .qmail file is writable. (#4.7.0)"
MSG_BLANK_FIRST = "Uh-oh: first line of .qmail file is blank. (#4.2.1)"
MSG_XBIT_FILE = "Uh-oh: .qmail has file delivery but has x bit set. (#4.7.0)"
MSG_XBIT_PROG = "Uh-oh: .qmail has prog delivery but has x bit set. (#4.7.0)"

# Variables a remote sender controls (through the envelope), which a pipe must quote.
SENDER_CONTROLLED = ("SENDER", "NEWSENDER", "RECIPIENT", "LOCAL", "DEFAULT", "EXT", "EXT2", "EXT3", "EXT4",
                     "HOST", "HOST2", "HOST3", "HOST4")
BOUNCE_CODES = (100, 64, 65, 70, 76, 77, 78, 112)

_ASCII_LOWER = dict((code, code + 32) for code in range(ord("A"), ord("Z") + 1))


def lower(text):
    """ASCII-only lower case, as qmail's case_lowerb and constmap compare."""
    return text.translate(_ASCII_LOWER)


# ---------------------------------------------------------------- the host


class PasswdEntry:
    def __init__(self, name, uid, gid, home, shell=""):
        self.name = name
        self.uid = uid
        self.gid = gid
        self.home = home
        self.shell = shell


class CdbUnavailable(Exception):
    """users/cdb (or morercpthosts.cdb) exists but no cdb library is available to read it."""


def make_cdb_opener(library):
    """A function path -> (key bytes -> value bytes or None) for an imported cdb library.

    ``library`` is the module object of pure-cdb (``import cdblib``) or of
    Debian's python3-cdb (``import cdb``); None gives an opener that raises
    CdbUnavailable.
    """
    if library is None:
        def unavailable(path):
            raise CdbUnavailable(path)
        return unavailable
    if hasattr(library, "Reader"):
        def open_cdblib(path):
            with open(path, "rb") as handle:
                reader = library.Reader(handle.read())

            def get(key):
                return reader.get(key)
            return get
        return open_cdblib

    def open_python_cdb(path):
        database = library.init(path)

        def get(key):
            try:
                value = database.get(key)
            except TypeError:
                value = database.get(key.decode("latin-1"))
            if isinstance(value, str):
                value = value.encode("latin-1")
            return value
        return get
    return open_python_cdb


class HostView:
    """Read-only access to what qmail reads on one host.

    qmail_dir: qmail's home; passwd_file: the passwd database (a file: qmail-getpw
    uses getpwnam, which on most hosts means /etc/passwd); cdb_opener: see
    make_cdb_opener.
    """

    def __init__(self, qmail_dir="/var/qmail", passwd_file="/etc/passwd", cdb_opener=None):
        self.qmail_dir = qmail_dir
        self.passwd_file = passwd_file
        self.cdb_opener = cdb_opener or make_cdb_opener(None)
        self._passwd = None
        self._cdbs = {}

    def qmail_path(self, *parts):
        return os.path.join(self.qmail_dir, *parts)

    def read_bytes(self, path):
        """The file's bytes; None when it does not exist; OSError for anything else."""
        try:
            with open(path, "rb") as handle:
                return handle.read()
        except (IOError, OSError) as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return None
            raise

    def read_text(self, path):
        data = self.read_bytes(path)
        if data is None:
            return None
        return data.decode("utf-8", "surrogateescape")

    def stat(self, path):
        """os.stat (following links, as qmail's stat and open do), or None when absent."""
        try:
            return os.stat(path)
        except (IOError, OSError) as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return None
            raise

    def exists(self, path):
        return os.path.exists(path)

    def passwd(self):
        if self._passwd is None:
            entries = []
            text = self.read_text(self.passwd_file) or ""
            for line in text.split("\n"):
                fields = line.split(":")
                if len(fields) < 7 or not fields[0] or fields[0][0] in "+-#":
                    continue
                try:
                    uid = int(fields[2])
                    gid = int(fields[3])
                except ValueError:
                    continue
                entries.append(PasswdEntry(fields[0], uid, gid, fields[5], fields[6]))
            self._passwd = entries
        return self._passwd

    def getpwnam(self, name):
        for entry in self.passwd():
            if entry.name == name:
                return entry
        return None

    def cdb_get(self, path, key):
        """Value of key in the cdb at path (None when absent); None for the whole file when it does not exist."""
        if path not in self._cdbs:
            if self.stat(path) is None:
                self._cdbs[path] = None
            else:
                self._cdbs[path] = self.cdb_opener(path)
        getter = self._cdbs[path]
        if getter is None:
            return None
        return getter(key)


# ---------------------------------------------------------------- control files


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
                    except CdbUnavailable:
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
            result["port"] = _scan_ulong(port)
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


def _scan_ulong(text):
    """qmail's scan_ulong: the leading digits, 0 when there are none."""
    match = re.match(r"\d+", text)
    return int(match.group(0)) if match else 0


# ---------------------------------------------------------------- relay clients


def parse_tcp_rules(text):
    """Rules of a tcpserver rules file (tcprules input) that set RELAYCLIENT.

    Returns a list of dicts: address, action (allow/deny), relayclient (value or None), line.
    """
    rules = []
    for number, raw in enumerate((text or "").split("\n"), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        address, sep, instructions = line.partition(":")
        if not sep:
            continue
        action, dummy, rest = instructions.partition(",")
        env = {}
        while rest:
            name, eq, rest = rest.partition("=")
            if not eq:
                break
            if rest:
                delimiter = rest[0]
                end = rest.find(delimiter, 1)
                if end < 0:
                    value, rest = rest[1:], ""
                else:
                    value, rest = rest[1:end], rest[end + 1:]
            else:
                value = ""
            env[name.strip().lstrip(",")] = value
            rest = rest.lstrip(",")
        rules.append({"address": address, "action": action.strip(), "relayclient": env.get("RELAYCLIENT"),
                      "line": number, "source": "tcp_rules"})
    return rules


def parse_hosts_allow(text):
    """hosts.allow lines for tcp-env that set RELAYCLIENT (tcp_wrappers' extended option syntax)."""
    rules = []
    logical = []
    current = ""
    for raw in (text or "").split("\n"):
        if raw.endswith("\\"):
            current += raw[:-1]
            continue
        logical.append(current + raw)
        current = ""
    if current:
        logical.append(current)
    for number, line in enumerate(logical, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = [field.strip() for field in line.split(":")]
        if len(fields) < 3:
            continue
        daemons = [d for d in re.split(r"[\s,]+", fields[0]) if d]
        if "tcp-env" not in daemons and "ALL" not in daemons:
            continue
        relay = None
        action = "allow"
        for option in fields[2:]:
            # "keyword = value" or "keyword value" (hosts_options(5)); setenv's value is "NAME [VALUE]".
            match = re.match(r"^([A-Za-z_]+)\s*(?:=\s*)?(.*)$", option)
            if not match:
                continue
            keyword, value = match.group(1), match.group(2).strip()
            if keyword == "setenv":
                name, dummy, rest = value.partition(" ")
                if name == "RELAYCLIENT":
                    relay = rest.strip()
            elif keyword in ("deny", "allow"):
                action = keyword
        for client in re.split(r"[\s,]+", fields[1]):
            if client:
                rules.append({"address": client, "action": action, "relayclient": relay, "line": number,
                              "source": "hosts_allow"})
    return rules


# ---------------------------------------------------------------- the shell, as far as .qmail pipes need it


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ShellLine:
    """A pipe line word-split and expanded as /bin/sh -c would, for simple commands.

    words: the argv after expansion (meaningful when simple); simple: no operators,
    substitutions or redirections; unquoted: variables expanded without double
    quotes (word-split by sh); used: every variable referenced.
    """

    def __init__(self):
        self.words = []
        self.simple = True
        self.unquoted = []
        self.used = []


def _skip_substitution(text, i):
    """Index just after the ')' closing the $( that starts before i (quote-aware)."""
    depth = 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            end = text.find("'", i + 1)
            i = n if end < 0 else end + 1
            continue
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\":
                    i += 2
                    continue
                if text.startswith("$(", i):
                    i = _skip_substitution(text, i + 2)
                    continue
                i += 1
            i += 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def parse_shell(text, env):
    """Expand and split a pipe line (see ShellLine); unknown variables expand to ''."""
    result = ShellLine()
    words = result.words
    cur = []
    state = {"have": False}

    def end_word():
        if state["have"]:
            words.append("".join(cur))
        del cur[:]
        state["have"] = False

    def variable(i):
        """(name or None, next index, plain) for a '$' at i."""
        if text.startswith("${", i):
            end = text.find("}", i + 2)
            if end < 0:
                return None, len(text), False
            inner = text[i + 2:end]
            match = _NAME.match(inner)
            if match and match.end() == len(inner):
                return inner, end + 1, True
            if match:
                return match.group(0), end + 1, False
            return None, end + 1, False
        match = _NAME.match(text, i + 1)
        if match:
            return match.group(0), match.end(), True
        return None, i + 1, True

    def nested(inner):
        sub = parse_shell(inner, env)
        result.unquoted.extend(sub.unquoted)
        result.used.extend(sub.used)

    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c in " \t\n":
            end_word()
            i += 1
        elif c == "#" and not state["have"]:
            break
        elif c == "'":
            end = text.find("'", i + 1)
            if end < 0:
                result.simple = False
                end = n
            cur.append(text[i + 1:end])
            state["have"] = True
            i = end + 1
        elif c == '"':
            state["have"] = True
            i += 1
            while i < n and text[i] != '"':
                ch = text[i]
                if ch == "\\" and i + 1 < n and text[i + 1] in '$`"\\\n':
                    cur.append(text[i + 1])
                    i += 2
                elif text.startswith("$(", i):
                    end = _skip_substitution(text, i + 2)
                    nested(text[i + 2:end - 1])
                    result.simple = False
                    i = end
                elif ch == "$":
                    name, i, plain = variable(i)
                    if name is None:
                        cur.append("$")
                        continue
                    result.used.append(name)
                    if not plain:
                        result.simple = False
                    cur.append(env.get(name, ""))
                elif ch == "`":
                    end = text.find("`", i + 1)
                    end = n if end < 0 else end
                    nested(text[i + 1:end])
                    result.simple = False
                    i = end + 1
                else:
                    cur.append(ch)
                    i += 1
            if i >= n:
                result.simple = False
            i += 1
        elif c == "\\":
            if i + 1 < n:
                cur.append(text[i + 1])
                state["have"] = True
            i += 2
        elif text.startswith("$(", i):
            end = _skip_substitution(text, i + 2)
            nested(text[i + 2:end - 1])
            result.simple = False
            state["have"] = True
            i = end
        elif c == "$":
            name, i, plain = variable(i)
            if name is None:
                cur.append("$")
                state["have"] = True
                continue
            result.used.append(name)
            result.unquoted.append(name)
            if not plain:
                result.simple = False
            value = env.get(name, "")
            if not value:
                continue
            if value[0] in " \t\n":
                end_word()
            fields = value.split()
            for index, field in enumerate(fields):
                cur.append(field)
                state["have"] = True
                if index < len(fields) - 1:
                    end_word()
            if value[-1] in " \t\n":
                end_word()
        elif c == "`":
            end = text.find("`", i + 1)
            end = n if end < 0 else end
            nested(text[i + 1:end])
            result.simple = False
            i = end + 1
        elif c in ";&|<>()":
            end_word()
            result.simple = False
            i += 1
        else:
            cur.append(c)
            state["have"] = True
            i += 1
    end_word()
    return result


# The guard lines teamware.qmail.routing_table writes: bounce unless a lower-cased variable matches.
_GUARD = re.compile(r'^\s*case "\$\(printf %s "\$(?P<var>[A-Za-z_][A-Za-z0-9_]*)" \| tr "\[:upper:\]" "\[:lower:\]"\)" in '
                    r'(?P<patterns>[^)]*)\) ;; \*\) echo "(?P<message>[^"]*)"; exit (?P<code>\d+) ;; esac\s*$')
# ... and the presence check before torecvm: defer (111) while the program is missing.
_PRESENCE = re.compile(r'^\s*test -x (?P<path>\S+) \|\| \{ echo "(?P<message>[^"]*)"; exit (?P<code>\d+); \}\s*$')


# ---------------------------------------------------------------- the router


class Options:
    def __init__(self, sender=DEFAULT_SENDER, aliasempty=DEFAULT_ALIASEMPTY, teamware_domains=(), teamware_user_prefix=None,
                 teamware_servers=(), delivery_wrappers=(DEFAULT_WRAPPER,), max_depth=DEFAULT_MAX_DEPTH):
        self.sender = sender
        self.aliasempty = aliasempty
        self.teamware_domains = [lower(d) for d in teamware_domains or ()]
        self.teamware_user_prefix = lower(teamware_user_prefix) if teamware_user_prefix else None
        self.teamware_servers = [lower(s) for s in teamware_servers or ()]
        self.delivery_wrappers = list(delivery_wrappers or ())
        self.max_depth = max_depth


class Router:
    """Routes addresses through one host's configuration (see the module docstring)."""

    def __init__(self, view, options=None):
        self.view = view
        self.options = options or Options()
        self.config = QmailConfig(view)
        self.warnings = list(self.config.warnings)
        self.notes = list(self.config.notes)
        self._check_users_cdb()

    # ---- global checks

    def _check_users_cdb(self):
        assign = self.view.stat(self.view.qmail_path("users", "assign"))
        cdb = self.view.stat(self.view.qmail_path("users", "cdb"))
        self.users_cdb_present = cdb is not None
        if assign is not None and cdb is None:
            text = self.view.read_text(self.view.qmail_path("users", "assign")) or ""
            if [line for line in text.split("\n") if line and not line.startswith(".")]:
                self.warnings.append("users/assign has entries but users/cdb does not exist: qmail ignores users/assign "
                                     "until qmail-newu compiles it")
        elif assign is not None and cdb is not None and assign.st_mtime > cdb.st_mtime:
            self.warnings.append("users/cdb is older than users/assign: qmail still routes by the old users/cdb; "
                                 "run qmail-newu")

    def relay_clients(self, tcp_rules=None, hosts_allow=None, tcp_rules_cdb=None):
        """The clients that get RELAYCLIENT: tcpserver rules (the text file) and hosts.allow lines for tcp-env.

        Returns (clients, warnings, notes); each client is a dict address, action, relayclient, line, source, path.
        """
        clients = []
        warnings = []
        notes = []
        if tcp_rules:
            text = self._read_optional(tcp_rules, warnings)
            if text is not None:
                for rule in parse_tcp_rules(text):
                    rule["path"] = tcp_rules
                    if rule["relayclient"] is not None and rule["action"] == "allow":
                        clients.append(rule)
                cdb_path = tcp_rules_cdb or tcp_rules + ".cdb"
                rules_stat = self.view.stat(tcp_rules)
                cdb_stat = self.view.stat(cdb_path)
                if cdb_stat is None:
                    warnings.append("%s exists but %s does not: tcpserver reads only the compiled rules; run tcprules"
                                    % (tcp_rules, cdb_path))
                elif rules_stat is not None and rules_stat.st_mtime > cdb_stat.st_mtime:
                    warnings.append("%s is older than %s: tcpserver still uses the old rules; run tcprules" % (cdb_path, tcp_rules))
        if hosts_allow:
            text = self._read_optional(hosts_allow, warnings)
            if text is not None:
                for rule in parse_hosts_allow(text):
                    rule["path"] = hosts_allow
                    if rule["relayclient"] is not None and rule["action"] == "allow":
                        clients.append(rule)
        for rule in clients:
            rule["effective"] = True
            if re.match(r"^\d{1,3}(\.\d{1,3}){0,2}$", rule["address"]):
                rule["effective"] = False
                warnings.append("%s line %d: %r is a partial address without its trailing dot: %s matches it as a whole "
                                "address, so no client gets RELAYCLIENT from it (write %s.)"
                                % (rule["path"], rule["line"], rule["address"],
                                   "tcpserver" if rule["source"] == "tcp_rules" else "tcp_wrappers", rule["address"]))
            if rule["relayclient"]:
                notes.append("%s line %d sets RELAYCLIENT=%r: qmail-smtpd appends it to every recipient of %s"
                             % (rule["path"], rule["line"], rule["relayclient"], rule["address"]))
        if not clients:
            notes.append("no relay client found (RELAYCLIENT is set for no address): only the rcpthosts domains are accepted")
        return clients, warnings, notes

    def _read_optional(self, path, warnings):
        try:
            return self.view.read_text(path)
        except (IOError, OSError) as exc:
            warnings.append("cannot read %s: %s" % (path, exc))
            return None

    # ---- one address

    def route(self, address):
        """Everything about one address, as a dict (see the module's RETURN)."""
        result = {"address": address, "warnings": [], "notes": []}
        accepted, entry, reason = self.config.smtpd_accepts(address)
        result["accepted_by_smtpd"] = {
            "relay_client": True,
            "stranger": accepted,
            "rcpthosts_entry": entry,
            "reason": reason,
            "relay_client_reason": "RELAYCLIENT is set: qmail-smtpd does not consult rcpthosts",
        }
        if self.config.rcpthosts_list is None:
            result["warnings"].append(OPEN_RELAY)
        try:
            self._route_queued(address, result, 0, (), [address], self.options.sender)
        except (IOError, OSError) as exc:
            result.setdefault("class", "unknown")
            reason = "cannot read %s: %s" % (getattr(exc, "filename", None) or "a file", exc.strerror or exc)
            result["destinations"] = [{"type": "unknown", "reason": reason}]
            result["warnings"].append("cannot read what qmail reads for %s (%s): run the module as root (become)" % (address, exc))
        result["final"] = self._leaves(result, [address])
        self._teamware_checks(result)
        result["warnings"] = _unique(result["warnings"])
        result["notes"] = _unique(result["notes"])
        result["summary"] = summary_line(result)
        return result

    def _route_queued(self, address, result, depth, delivered_to, chain, sender):
        """What qmail-send and its delivery programs do with a recipient in the queue."""
        if "\n" in address or "\0" in address:
            result["class"] = "invalid"
            result["destinations"] = [{"type": "bounce", "reason": "address contains a newline or NUL"}]
            return
        klass, rewritten, details = self.config.rewrite(address)
        result["class"] = klass
        result["rewritten"] = rewritten
        result["rewrite"] = details
        if details["envnoathost"]:
            result["notes"].append("no '@' in %s: qmail-send appends @%s (control/envnoathost)" % (address, self.config.envnoathost))
        at = rewritten.rfind("@")
        local, host = rewritten[:at], rewritten[at + 1:]
        result["local_part"] = local
        result["domain"] = host
        if klass == "remote":
            route = self.config.smtproute(host)
            result["remote"] = route
            result["local"] = None
            dest = {"type": "remote_smtp", "host": host, "relay": route["relay"], "port": route["port"],
                    "route": route["route"], "mx": route["mx"], "recipient": rewritten}
            dest["teamware"] = self._is_teamware_server(route, host, remote_domain=host)
            result["destinations"] = [dest]
            if route["relay"] and not route["relay"].startswith("["):
                result["notes"].append("qmail-remote resolves %s through DNS only (not /etc/hosts)" % route["relay"])
            return
        result["remote"] = None
        self._route_local(local, host, result, depth, delivered_to, chain, sender)

    # ---- qmail-lspawn

    def lookup_user(self, local):
        """qmail-lspawn's nughde_get: users/cdb, then qmail-getpw.  Returns a dict."""
        lookup = {"local": local, "skipped": []}
        cdb_path = self.view.qmail_path("users", "cdb")
        key = ("!" + lower(local)).encode("utf-8", "surrogateescape")
        raw_local = local.encode("utf-8", "surrogateescape")
        data = None
        try:
            if self.view.stat(cdb_path) is not None:
                wildchars = self.view.cdb_get(cdb_path, b"")
                if wildchars is None:
                    lookup["error"] = "Trouble reading users/cdb in qmail-lspawn."
                    return lookup
                found = self.view.cdb_get(cdb_path, key + b"\0")
                if found is not None:
                    data = found
                    lookup["source"] = "users/cdb"
                    lookup["assign"] = "=" + lower(local)
                else:
                    for i in range(len(key), 0, -1):
                        if i == 1 or key[i - 1:i] in wildchars:
                            found = self.view.cdb_get(cdb_path, key[:i])
                            if found is not None:
                                data = found + raw_local[i - 1:]
                                lookup["source"] = "users/cdb"
                                lookup["assign"] = "+" + key[1:i].decode("utf-8", "surrogateescape")
                                break
        except CdbUnavailable:
            lookup["error"] = "users/cdb exists but no cdb library is available to read it"
            return lookup
        if data is not None:
            fields = data.split(b"\0")
            if len(fields) < 6:
                lookup["error"] = "Internal qmail-lspawn bug."
                return lookup
            text = [f.decode("utf-8", "surrogateescape") for f in fields]
            lookup.update(user=text[0], uid=_scan_ulong(text[1]), gid=_scan_ulong(text[2]), home=text[3], dash=text[4],
                          ext=text[5])
            return lookup
        return self._getpw(local, lookup)

    def _getpw(self, local, lookup):
        """qmail-getpw.c: a passwd user owns name and name-anything; everything else is alias's."""
        for end in range(len(local), -1, -1):
            if end < GETPW_USERLEN and (end == len(local) or local[end] == AUTO_BREAK):
                username = lower(local[:end])
                entry = self.view.getpwnam(username) if username else None
                if entry is not None:
                    reason = None
                    if entry.uid == 0:
                        reason = "uid 0"
                    else:
                        st = self.view.stat(entry.home)
                        if st is None:
                            reason = "home %s does not exist" % entry.home
                        elif st.st_uid != entry.uid:
                            reason = "home %s is owned by uid %d, not by the user (uid %d)" % (entry.home, st.st_uid, entry.uid)
                    if reason is None:
                        dash, ext = ("-", local[end + 1:]) if end < len(local) else ("", "")
                        lookup.update(source="passwd", user=entry.name, uid=entry.uid, gid=entry.gid, home=entry.home,
                                      dash=dash, ext=ext)
                        return lookup
                    lookup["skipped"].append({"user": username, "reason": reason})
        entry = self.view.getpwnam("alias")
        if entry is None:
            lookup["error"] = MSG_NOALIAS
            return lookup
        lookup.update(source="alias", user=entry.name, uid=entry.uid, gid=entry.gid, home=entry.home, dash="-", ext=local)
        return lookup

    # ---- qmail-local

    def _route_local(self, local, host, result, depth, delivered_to, chain, sender):
        dests = []
        result["destinations"] = dests
        if not local:
            result["local"] = None
            dests.append({"type": "discard", "reason": "empty local part: qmail-lspawn reports success and delivers nothing"})
            return
        lookup = self.lookup_user(local)
        info = {"lookup": lookup.get("source"), "assign": lookup.get("assign"), "user": lookup.get("user"),
                "uid": lookup.get("uid"), "gid": lookup.get("gid"), "home": lookup.get("home"), "dash": lookup.get("dash"),
                "ext": lookup.get("ext"), "local": local, "host": host, "skipped": lookup["skipped"],
                "dot_qmail": None, "dot_qmail_tried": [], "default_delivery": False, "environment": {}, "lines": []}
        result["local"] = info
        prefix = None
        if result.get("class") == "virtual":
            prefix = lower(self.config.virtualdomains.get(result["rewrite"]["virtualdomains"].split(":", 1)[0]) or "")
        for skipped in lookup["skipped"]:
            if skipped["user"] == prefix:
                result["warnings"].append("passwd user %s of %s is skipped by qmail-getpw (%s): the virtual domain's mail "
                                          "goes to ~alias instead"
                                          % (skipped["user"], result["rewrite"]["virtualdomains"], skipped["reason"]))
            elif skipped["reason"] == "uid 0":
                result["notes"].append("passwd user %s has uid 0: qmail-getpw skips it (mail for it goes to the next "
                                       "candidate or ~alias)" % skipped["user"])
            elif "owned by" in skipped["reason"]:
                result["warnings"].append("passwd user %s is skipped by qmail-getpw: %s" % (skipped["user"], skipped["reason"]))
            else:
                result["notes"].append("passwd user %s is skipped by qmail-getpw: %s" % (skipped["user"], skipped["reason"]))
        if "error" in lookup:
            dests.append({"type": "defer", "reason": lookup["error"]})
            return
        if info["uid"] == 0:
            result["warnings"].append("%s is delivered as user %s with uid 0 (%s): qmail-lspawn defers it for ever "
                                      "(\"%s\")" % (local, info["user"], _describe_lookup(info), MSG_ROOT))
            dests.append({"type": "defer", "reason": MSG_ROOT})
            return
        self._qmail_local(info, result, depth, delivered_to, chain, sender)

    def qmail_local(self, user, home, local, dash, ext, host, sender=None):
        """What ``qmail-local user home local dash ext host sender aliasempty`` does (the lspawn part skipped)."""
        sender = self.options.sender if sender is None else sender
        address = "%s@%s" % (local, host)
        result = {"address": address, "class": "local", "warnings": [], "notes": [], "destinations": []}
        info = {"lookup": None, "assign": None, "user": user, "uid": None, "gid": None, "home": home, "dash": dash,
                "ext": ext, "local": local, "host": host, "skipped": [], "dot_qmail": None, "dot_qmail_tried": [],
                "default_delivery": False, "environment": {}, "lines": []}
        result["local"] = info
        self._qmail_local(info, result, 0, (), [address], sender)
        result["final"] = self._leaves(result, [address])
        return result

    def _qmail_local(self, info, result, depth, delivered_to, chain, sender):
        """qmail-local from its arguments: home checks, .qmail search, environment, lines."""
        dests = result["destinations"]
        local = info["local"]
        host = info["host"]
        home = info["home"]
        if not home.startswith("/"):
            dests.append({"type": "bounce", "reason": "qmail-local: usage (home %r is not absolute)" % home})
            return
        st = self.view.stat(home)
        if st is None or not stat.S_ISDIR(st.st_mode):
            dests.append({"type": "defer", "reason": "Unable to switch to %s: %s. (#4.3.0)"
                          % (home, "file does not exist" if st is None else "not a directory")})
            result["warnings"].append("home %s of %s does not exist: deliveries are deferred" % (home, info["user"]))
            return
        if st.st_mode & AUTO_PATRN:
            result["warnings"].append("home %s of %s is world-writable: qmail-local defers every delivery" % (home, info["user"]))
            dests.append({"type": "defer", "reason": MSG_HOME_WRITABLE})
            return
        if st.st_mode & 0o1000:
            result["warnings"].append("home %s of %s is sticky: qmail-local defers every delivery until the bit is cleared"
                                      % (home, info["user"]))
            dests.append({"type": "defer", "reason": MSG_HOME_STICKY})
            return

        env = local_environment(info["user"], home, local, info["dash"], info["ext"], host, sender)
        qmail_file, forward_only, default, error = self._qmesearch(info, env)
        if error:
            dests.append(error)
            if error["reason"] == MSG_QMAIL_WRITABLE:
                result["warnings"].append("%s is world-writable: qmail-local defers every delivery" % info["dot_qmail"])
            return
        if default is not None:
            env["DEFAULT"] = default
        info["environment"] = env
        if qmail_file is None and info["dash"]:
            dests.append({"type": "bounce", "reason": MSG_NO_MAILBOX})
            return
        env["NEWSENDER"] = self._newsender(info, sender, local, host)
        text = None
        if qmail_file is not None:
            try:
                text = self.view.read_text(qmail_file)
            except (IOError, OSError) as exc:
                dests.append({"type": "defer", "reason": "Unable to open %s: %s. (#4.3.0)" % (qmail_file, exc)})
                return
        if not text:
            text = self.options.aliasempty
            forward_only = False
            info["default_delivery"] = text
        self._run_lines(text, forward_only, info, env, result, depth, delivered_to, chain)

    def _qmesearch(self, info, env):
        """The .qmail file qmail-local reads: (path or None, forward-only, DEFAULT or None, error dest or None)."""
        home = info["home"]
        dash = info["dash"]
        ext = info["ext"]
        safeext = lower(ext).replace(".", ":")
        candidates = [(".qmail" + dash + safeext, None)]
        if len(safeext) >= 7 and safeext.endswith("default"):
            candidates[0] = (candidates[0][0], len(safeext) - 7)
        for i in range(len(safeext), -1, -1):
            if i == 0 or safeext[i - 1] == "-":
                candidates.append((".qmail" + dash + safeext[:i] + "default", i))
        for name, cut in candidates:
            path = posixpath.join(home, name)
            info["dot_qmail_tried"].append(path)
            try:
                st = self.view.stat(path)
            except (IOError, OSError) as exc:
                return None, False, None, {"type": "defer", "reason": "Unable to open %s: %s. (#4.3.0)" % (path, exc)}
            if st is None or not stat.S_ISREG(st.st_mode):
                continue
            info["dot_qmail"] = path
            if st.st_mode & AUTO_PATRN:
                return path, False, None, {"type": "defer", "reason": MSG_QMAIL_WRITABLE}
            default = ext[cut:] if cut is not None and cut <= len(ext) else None
            return path, bool(st.st_mode & 0o100), default, None
        return None, False, None, None

    def _newsender(self, info, sender, local, host):
        if not sender or sender == "#@[]":
            return sender
        base = posixpath.join(info["home"], ".qmail" + info["dash"] + lower(info["ext"]).replace(".", ":"))
        if self.view.stat(base + "-owner") is None:
            return sender
        if self.view.stat(base + "-owner-default") is not None:
            return "%s-owner-@%s-@[]" % (local, host)
        return "%s-owner@%s" % (local, host)

    def _run_lines(self, text, forward_only, info, env, result, depth, delivered_to, chain):
        """qmail-local's loop over the lines; forwards (&, bare addresses) are queued at the end."""
        dests = result["destinations"]
        lines = info["lines"]
        if not text.endswith("\n"):
            text += "\n"
        queued = []
        offset = 0
        stopped = None
        for number, raw in enumerate(text.split("\n")[:-1], 1):
            line = raw.rstrip(" \t")
            first = offset == 0
            offset += len(raw) + 1
            entry = {"number": number, "text": line}
            lines.append(entry)
            if not line:
                if first:
                    entry["type"] = "blank"
                    stopped = {"type": "defer", "reason": MSG_BLANK_FIRST}
                    result["warnings"].append("the first line of %s is blank: qmail-local defers every delivery" % info["dot_qmail"])
                    break
                entry["type"] = "blank"
                continue
            kind = line[0]
            if kind == "#":
                entry["type"] = "comment"
            elif kind in "./":
                if forward_only:
                    entry["type"] = "file"
                    stopped = {"type": "defer", "reason": MSG_XBIT_FILE}
                    break
                path = line if kind == "/" else posixpath.normpath(posixpath.join(info["home"], line))
                if line.endswith("/"):
                    path = path.rstrip("/") + "/"
                    entry["type"] = "maildir"
                    dests.append({"type": "maildir", "path": path, "user": info["user"], "line": number})
                else:
                    entry["type"] = "mbox"
                    dests.append({"type": "mbox", "path": path, "user": info["user"], "line": number})
            elif kind == "|":
                entry["type"] = "program"
                if forward_only:
                    stopped = {"type": "defer", "reason": MSG_XBIT_PROG}
                    break
                effect = self.program(line[1:], env, info, result)
                entry.update(effect.get("entry", {}))
                if effect["kind"] in ("bounce", "defer"):
                    stopped = dict(effect["dest"], line=number)
                    break
                if effect["kind"] == "deliver":
                    dest = dict(effect["dest"], line=number)
                    if dest["type"] == "forward":
                        self._follow(dest, depth, delivered_to + (env["RECIPIENT"],), chain, result, env["NEWSENDER"])
                    dests.append(dest)
            elif kind == "+":
                entry["type"] = "option"
                if line[1:] == "list":
                    forward_only = True
            else:
                entry["type"] = "forward"
                target = line[1:] if kind == "&" else line
                entry["target"] = target
                queued.append((number, target))
        if stopped is not None:
            if queued:
                result["notes"].append("forwards %s are not sent: qmail-local stops before it injects them"
                                       % ", ".join(target for dummy, target in queued))
            dests.append(stopped)
            return
        if queued:
            dest = {"type": "forward", "via": "&", "targets": [{"address": target} for dummy, target in queued],
                    "line": queued[0][0]}
            self._follow(dest, depth, delivered_to + (env["RECIPIENT"],), chain, result, env["NEWSENDER"])
            dests.append(dest)

    def _follow(self, dest, depth, delivered_to, chain, result, sender):
        """Route each forward target as qmail-send would, carrying this hop's Delivered-To lines."""
        for target in dest["targets"]:
            address = target["address"]
            sub = {"address": address, "warnings": [], "notes": []}
            target["route"] = sub
            path = chain + [address]
            if depth + 1 > self.options.max_depth:
                sub["class"] = "unknown"
                sub["destinations"] = [{"type": "unknown", "reason": "forward depth limit %d reached" % self.options.max_depth}]
                result["warnings"].append("forward chain longer than %d hops: %s" % (self.options.max_depth, " -> ".join(path)))
                continue
            klass, rewritten = self.config.rewrite(address)[:2]
            if klass != "remote":
                if rewritten in delivered_to:
                    sub["class"] = klass
                    sub["rewritten"] = rewritten
                    sub["destinations"] = [{"type": "bounce", "reason": MSG_LOOP, "loop": True}]
                    result["warnings"].append("forward LOOP: %s (qmail bounces it: %s)" % (" -> ".join(path), MSG_LOOP))
                    continue
            self._route_queued(address, sub, depth + 1, delivered_to, path, sender)
            result["warnings"].extend(sub.pop("warnings"))
            result["notes"].extend(sub.pop("notes"))
            sub["warnings"] = []
            sub["notes"] = []

    # ---- delivery programs

    def program(self, command, env, info, result):
        """What a '|' line does.  Returns {"kind": deliver|pass|bounce|defer, "dest": ..., "entry": ...}."""
        guard = _GUARD.match(command)
        if guard:
            value = lower(env.get(guard.group("var"), ""))
            patterns = guard.group("patterns").split("|")
            code = int(guard.group("code"))
            entry = {"program": "guard", "variable": guard.group("var"), "patterns": patterns}
            if any(fnmatch.fnmatchcase(value, pattern) for pattern in patterns):
                entry["guard"] = "pass"
                return {"kind": "pass", "entry": entry}
            entry["guard"] = "fail"
            kind = "bounce" if code in BOUNCE_CODES else ("pass" if code in (0, 99) else "defer")
            reason = "%s (guard: $%s=%r matches none of %s)" % (
                guard.group("message"), guard.group("var"), value, "|".join(patterns))
            return {"kind": kind, "dest": {"type": kind, "reason": reason}, "entry": entry}

        presence = _PRESENCE.match(command)
        if presence:
            path = presence.group("path").strip("'")
            entry = {"program": "presence check", "path": path}
            if self.view.exists(path):
                entry["guard"] = "pass"
                return {"kind": "pass", "entry": entry}
            entry["guard"] = "fail"
            code = int(presence.group("code"))
            kind = "bounce" if code in BOUNCE_CODES else ("pass" if code in (0, 99) else "defer")
            result["warnings"].append("%s does not exist on this host: deliveries are deferred until it is installed" % path)
            return {"kind": kind, "dest": {"type": kind, "reason": presence.group("message")}, "entry": entry}

        shell = parse_shell(command, env)
        entry = {}
        risky = [name for name in shell.unquoted if name in SENDER_CONTROLLED]
        if risky:
            entry["unquoted"] = _unique(risky)
            result["warnings"].append("unquoted %s in the pipe '|%s' (%s): sh word-splits values that remote senders "
                                      "control; write \"$%s\"" % (", ".join("$" + r for r in _unique(risky)), command,
                                                                  info.get("dot_qmail") or "default delivery", risky[0]))
        if "DEFAULT" in shell.used and "DEFAULT" not in env:
            result["warnings"].append("'|%s' uses $DEFAULT, which qmail-local sets only when a *default file is read: "
                                      "it is empty here (%s)" % (command, info.get("dot_qmail")))
        dest = {"type": "program", "command": command, "user": info["user"], "teamware": None}
        if not shell.simple or not shell.words:
            return {"kind": "deliver", "dest": dest, "entry": entry}
        argv = list(shell.words)
        while argv and (argv[0] == "exec" or re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", argv[0])):
            argv.pop(0)
        preline = False
        if argv and posixpath.basename(argv[0]) == "preline":
            preline = True
            self._check_program(argv[0], result)
            argv.pop(0)
            while argv and argv[0].startswith("-") and argv[0] != "-":
                if argv.pop(0) == "--":
                    break
        if not argv:
            return {"kind": "deliver", "dest": dest, "entry": entry}
        entry["argv"] = argv
        name = posixpath.basename(argv[0])
        if name == "torecvm":
            self._check_program(argv[0], result)
            options = _torecvm_options(argv[1:])
            dest = {"type": "teamware_torecvm", "program": argv[0], "argv": argv, "preline": preline, "user": info["user"],
                    "directory": options.get("d"), "sender": options.get("f"), "recipients": options.get("r", []),
                    "reports": options.get("p"), "teamware": True}
            if not preline:
                result["notes"].append("torecvm runs without preline: Teamware Office gets no Return-Path, so it cannot send "
                                       "receipt notifications")
            return {"kind": "deliver", "dest": dest, "entry": entry}
        if name in ("qmail-remote", "teamware-qmail-remote") or argv[0] in self.options.delivery_wrappers:
            safe = name != "qmail-remote"
            if "/" in argv[0]:
                self._check_program(argv[0], result)
            elif name == "qmail-remote":
                result["notes"].append("'qmail-remote' without a path must be in qmail-start's PATH")
            if len(argv) < 4:
                reason = "%s needs HOST SENDER RECIPIENT...: it gets %d argument(s)" % (name, len(argv) - 1)
                return {"kind": "defer", "dest": {"type": "defer", "reason": reason}, "entry": entry}
            route = self.config.smtproute(argv[1])
            dest = {"type": "teamware_smtp", "program": argv[0], "safe": safe, "host": argv[1], "relay": route["relay"],
                    "port": route["port"], "route": route["route"], "mx": route["mx"], "sender": argv[2],
                    "recipients": argv[3:], "user": info["user"], "teamware": True}
            if not safe:
                result["warnings"].append("bare qmail-remote pipe in %s: qmail-remote always exits 0, so mail is LOST "
                                          "(counted as delivered) when %s is down or refuses it; use the "
                                          "teamware-qmail-remote wrapper" % (info.get("dot_qmail") or "the default delivery",
                                                                             argv[1]))
            if route["relay"] and not route["relay"].startswith("["):
                result["notes"].append("qmail-remote resolves %s through DNS only (not /etc/hosts)" % route["relay"])
            elif route["mx"] and not argv[1].startswith("["):
                result["notes"].append("qmail-remote looks up the MX of %s in DNS (no smtproutes entry)" % argv[1])
            return {"kind": "deliver", "dest": dest, "entry": entry}
        if name == "forward":
            self._check_program(argv[0], result)
            if len(argv) < 2:
                return {"kind": "deliver", "dest": dest, "entry": entry}
            dest = {"type": "forward", "via": "forward", "program": argv[0],
                    "targets": [{"address": target} for target in argv[1:]]}
            return {"kind": "deliver", "dest": dest, "entry": entry}
        if name == "bouncesaying" and len(argv) == 2:
            return {"kind": "bounce", "dest": {"type": "bounce", "reason": argv[1]}, "entry": entry}
        if name == "true" and len(argv) == 1:
            return {"kind": "pass", "entry": entry}
        if name == "exit" and len(argv) == 2 and argv[1].isdigit():
            code = int(argv[1])
            if code in (0, 99):
                return {"kind": "pass", "entry": entry}
            kind = "bounce" if code in BOUNCE_CODES else "defer"
            return {"kind": kind, "dest": {"type": kind, "reason": "exit %d" % code}, "entry": entry}
        if "/" in argv[0]:
            self._check_program(argv[0], result)
        return {"kind": "deliver", "dest": dest, "entry": entry}

    def _check_program(self, path, result):
        if path.startswith("/") and not self.view.exists(path):
            result["warnings"].append("%s does not exist on this host: sh exits 127 and qmail-local defers the delivery" % path)

    # ---- results

    def _is_teamware_server(self, route, host, remote_domain=None):
        """True/False when teamware_servers or teamware_domains decide; None when nothing tells."""
        servers = self.options.teamware_servers
        if remote_domain and lower(remote_domain) in self.options.teamware_domains:
            return True
        if servers:
            names = set([lower(host)])
            if route["relay"]:
                names.add(lower(route["relay"]))
            for name in list(names):
                names.add("%s:%d" % (name, route["port"]))
                if name.startswith("[") and name.endswith("]"):
                    names.add(name[1:-1])
                    names.add("%s:%d" % (name[1:-1], route["port"]))
            return bool(names & set(servers))
        return None

    def _leaves(self, route, chain):
        leaves = []
        for dest in route.get("destinations", []):
            if dest["type"] == "forward":
                for target in dest["targets"]:
                    sub = target.get("route")
                    if sub is None:
                        continue
                    leaves.extend(self._leaves(sub, chain + [target["address"]]))
            else:
                leaf = dict(dest, chain=list(chain))
                leaf.setdefault("teamware", False)
                leaf["to"] = chain[-1]
                leaves.append(leaf)
        return leaves

    def is_teamware_address(self, address):
        opts = self.options
        if not opts.teamware_domains and not opts.teamware_user_prefix:
            return False
        local, at, domain = address.rpartition("@")
        if not at:
            local, domain = address, self.config.envnoathost
        if opts.teamware_domains and lower(domain) not in opts.teamware_domains:
            return False
        if opts.teamware_user_prefix and not lower(local).startswith(opts.teamware_user_prefix):
            return False
        return True

    def _teamware_checks(self, result):
        if not self.is_teamware_address(result["address"]):
            result["teamware_address"] = False
            return
        result["teamware_address"] = True
        for leaf in result["final"]:
            if leaf["type"] in ("maildir", "mbox"):
                result["warnings"].append("Teamware address %s lands in the Linux %s %s of user %s, not in Teamware Office"
                                          % (result["address"], leaf["type"], leaf["path"], leaf["user"]))
        if result["final"] and all(leaf.get("teamware") is False for leaf in result["final"]):
            kinds = ", ".join(_unique([leaf["type"] for leaf in result["final"]]))
            result["warnings"].append("Teamware address %s does not reach Teamware Office (%s)" % (result["address"], kinds))


def local_environment(user, home, local, dash, ext, host, sender):
    """The variables qmail-local sets for delivery programs (DEFAULT and NEWSENDER are added by the caller)."""
    env = {"USER": user, "HOME": home, "LOCAL": local, "HOST": host, "SENDER": sender,
           "RECIPIENT": "%s@%s" % (local, host), "EXT": ext}
    env["DTLINE"] = "Delivered-To: %s\n" % env["RECIPIENT"].replace("\n", "_")
    env["RPLINE"] = "Return-Path: <%s>\n" % quote2(sender).replace("\n", "_")
    rest = ext
    for index in (2, 3, 4):
        cut = rest.find("-")
        rest = rest[cut + 1:] if cut >= 0 else ""
        env["EXT%d" % index] = rest
    i = len(host)
    for index in (2, 3, 4):
        cut = host.rfind(".", 0, i)
        i = cut if cut >= 0 else i
        env["HOST%d" % index] = host[:i]
    return env


_QUOTE_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-./=?^_`{|}~")


def _quote(box):
    """qmail's quote(): a local part in double quotes when RFC 821 needs it."""
    need = (not box or any(c not in _QUOTE_OK for c in box) or box.startswith(".") or box.endswith(".") or ".." in box)
    if not need:
        return box
    return '"%s"' % "".join("\\" + c if c in '\r\n"\\' else c for c in box)


def quote2(address):
    """qmail's quote2(): quote the part before the last '@' of an envelope address."""
    if not address:
        return address
    at = address.rfind("@")
    if at < 0:
        return _quote(address)
    return _quote(address[:at]) + address[at:]


def _torecvm_options(args):
    """torecvm's -d -p -f -r options, attached (-d/to/smtp) or separate (-d /to/smtp); -r may repeat."""
    options = {}
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if len(arg) < 2 or arg[0] != "-" or arg[1] not in "dpfr":
            continue
        value = arg[2:]
        if not value and index < len(args):
            value = args[index]
            index += 1
        if arg[1] == "r":
            options.setdefault("r", []).append(value)
        else:
            options[arg[1]] = value
    return options


def _unique(items):
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


# ---------------------------------------------------------------- summaries


def _tilde(path, user, home):
    if home and user and (path == home or path.startswith(home.rstrip("/") + "/")):
        return "~%s%s" % (user, path[len(home.rstrip("/")):])
    return path


def _describe_lookup(info):
    if info.get("lookup") == "users/cdb":
        return "users/cdb %s -> %s" % (info["assign"], info["user"])
    if info.get("lookup") == "passwd":
        return "passwd %s" % info["user"]
    if info.get("lookup") == "alias":
        return "alias"
    return "user lookup failed"


def _how(route):
    parts = []
    klass = route.get("class")
    if klass == "remote":
        remote = route.get("remote") or {}
        parts.append("remote")
        if route.get("rewrite", {}).get("virtualdomains"):
            parts.append("virtualdomains %s (empty prefix: not virtual)" % route["rewrite"]["virtualdomains"])
        parts.append("smtproutes %s" % remote["route"] if remote.get("route") else "MX")
        return ", ".join(parts)
    if klass == "virtual":
        parts.append("virtualdomains %s" % route["rewrite"]["virtualdomains"])
    info = route.get("local")
    if not info:
        return ", ".join(parts) or (klass or "")
    parts.append(_describe_lookup(info))
    if info.get("dot_qmail"):
        text = _tilde(info["dot_qmail"], info["user"], info["home"])
        if info.get("default_delivery"):
            text += " (empty: default delivery %s)" % info["default_delivery"].strip()
        parts.append(text)
    elif info.get("dot_qmail_tried"):
        text = "no .qmail file"
        if info.get("default_delivery"):
            text += ": default delivery %s" % info["default_delivery"].strip()
        parts.append(text)
    return ", ".join(parts)


def _relay_text(dest):
    if dest.get("relay"):
        if dest["port"] != 25:
            return "%s:%d" % (dest["relay"], dest["port"])
        return dest["relay"]
    return "MX" if dest["port"] == 25 else "MX, port %d" % dest["port"]


def describe_destination(dest, address=None):
    kind = dest["type"]
    if kind == "teamware_torecvm":
        text = "Teamware Office by torecvm"
        if dest.get("directory"):
            text += " into %s" % dest["directory"]
        if dest.get("recipients") and dest["recipients"] != [address]:
            text += " for %s" % ", ".join(dest["recipients"])
        return text
    if kind == "teamware_smtp":
        text = "Teamware Office by SMTP via %s (%s)" % (dest["host"], _relay_text(dest))
        if dest.get("recipients") and dest["recipients"] != [address]:
            text += " for %s" % ", ".join(dest["recipients"])
        if not dest.get("safe"):
            text += " by a BARE qmail-remote (mail lost when it fails)"
        return text
    if kind == "remote_smtp":
        who = "Teamware Office" if dest.get("teamware") else "remote"
        if dest.get("relay"):
            return "%s by SMTP via %s" % (who, _relay_text(dest))
        return "%s by SMTP to the MX of %s%s" % (who, dest["host"], "" if dest["port"] == 25 else " port %d" % dest["port"])
    if kind in ("maildir", "mbox"):
        return "%s %s of user %s" % (kind, dest["path"], dest["user"])
    if kind == "program":
        return "program '|%s' as %s" % (dest["command"], dest["user"])
    if kind == "bounce":
        return "BOUNCE (%s)" % dest["reason"]
    if kind == "defer":
        return "DEFER (%s)" % dest["reason"]
    if kind == "discard":
        return "discarded (%s)" % dest["reason"]
    return "%s (%s)" % (kind, dest.get("reason", ""))


def describe_route(route):
    """The route of one address, without the address: 'DEST [how]' or 'forward to X [how] -> ...'."""
    dests = route.get("destinations", [])
    address = route.get("address")
    plain = [describe_destination(d, address) for d in dests if d["type"] != "forward"]
    forwards = [d for d in dests if d["type"] == "forward"]
    targets = [t for d in forwards for t in d["targets"]]
    pieces = list(plain)
    if targets:
        pieces.append("forward to %s" % ", ".join(t["address"] for t in targets))
    text = " + ".join(pieces) if pieces else "nothing"
    how = _how(route)
    if how:
        text += " [%s]" % how
    inner = []
    for target in targets:
        if target.get("route") is None:
            continue
        sub = describe_route(target["route"])
        inner.append(sub if len(targets) == 1 else "%s: %s" % (target["address"], sub))
    if inner:
        text += " -> " + ("; ".join(inner) if len(inner) == 1 else "(%s)" % "; ".join(inner))
    return text


def summary_line(route):
    text = "%s -> %s" % (route["address"], describe_route(route))
    smtpd = route.get("accepted_by_smtpd") or {}
    if smtpd and not smtpd.get("stranger"):
        text += " | from other hosts: refused, not in rcpthosts (relay clients only)"
    if route.get("warnings"):
        text += " | %d WARNING%s" % (len(route["warnings"]), "" if len(route["warnings"]) == 1 else "S")
    return text


# ---------------------------------------------------------------- the report of the modules

# The options of a route report, in Ansible's argument-spec format (plain data): teamware.qmail.qmail_route_info
# takes them with qmail_dir, and routing_table's route_report takes them as one dict, so both ask the same.
REPORT_OPTIONS = dict(
    addresses=dict(type="list", elements="str", required=True),
    passwd_file=dict(type="path", default="/etc/passwd", no_log=False),
    tcp_rules=dict(type="path", default="/etc/tcp.smtp"),
    tcp_rules_cdb=dict(type="path"),
    hosts_allow=dict(type="path", default="/etc/hosts.allow"),
    aliasempty=dict(type="str", default=DEFAULT_ALIASEMPTY),
    sender=dict(type="str", default=DEFAULT_SENDER),
    teamware_domains=dict(type="list", elements="str", default=[]),
    teamware_user_prefix=dict(type="str"),
    teamware_servers=dict(type="list", elements="str", default=[]),
    qmail_delivery_wrapper=dict(type="path", default=DEFAULT_WRAPPER),
    max_forward_depth=dict(type="int", default=DEFAULT_MAX_DEPTH),
    expected=dict(type="dict", default={}),
)


def report_problems(params):
    """What is wrong with REPORT_OPTIONS values beyond their types, one message each (empty when nothing is)."""
    problems = []
    if params["max_forward_depth"] < 1:
        problems.append("max_forward_depth must be at least 1")
    try:
        route_expect.parse(params["expected"])
    except route_expect.ExpectationError as exc:
        problems.append("expected: %s" % exc)
    return problems


def report(qmail_dir, params, cdb_library, cdb_library_name, relay=True):
    """Where qmail delivers params["addresses"], as the modules return it (see qmail_route_info's RETURN).

    params: the REPORT_OPTIONS values.  relay=False leaves out the relay clients (routing_table reports before the
    front end has written its files); report_problems(params) must be empty.  Raises IOError/OSError when qmail's
    files cannot be read.
    """
    view = HostView(qmail_dir, params["passwd_file"], make_cdb_opener(cdb_library))
    options = Options(
        sender=params["sender"],
        aliasempty=params["aliasempty"],
        teamware_domains=params["teamware_domains"],
        teamware_user_prefix=params["teamware_user_prefix"],
        teamware_servers=params["teamware_servers"],
        delivery_wrappers=[params["qmail_delivery_wrapper"]],
        max_depth=params["max_forward_depth"],
    )
    router = Router(view, options)
    result = {}
    relay_warnings, relay_notes = [], []
    if relay:
        result["relay_clients"], relay_warnings, relay_notes = router.relay_clients(
            params["tcp_rules"], params["hosts_allow"], params["tcp_rules_cdb"])
    routes = [router.route(address) for address in params["addresses"]]
    config = router.config
    result.update(
        summary=[route["summary"] for route in routes],
        routes=routes,
        config=dict(
            me=config.me,
            locals=config.locals_list,
            rcpthosts=config.rcpthosts_list,
            virtualdomains=config.virtualdomains_list,
            smtproutes=config.smtproutes_list,
            percenthack=control_lines(config.texts["percenthack"]),
            envnoathost=config.envnoathost,
            users_cdb=router.users_cdb_present,
            cdb_library=cdb_library_name,
        ),
        config_warnings=router.warnings + relay_warnings,
        notes=router.notes + relay_notes,
        wrong=route_expect.mismatches(routes, params["expected"]) if params["expected"] else [],
        checked=len(params["expected"] or {}),
    )
    return result


def report_warnings(result):
    """The warnings of a report, each once: the configuration's, then each route's."""
    return _unique(result["config_warnings"] + [text for route in result["routes"] for text in route["warnings"]])
