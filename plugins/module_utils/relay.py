# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SMTP relay front ends of qmail-smtpd: who gets RELAYCLIENT.

Pure Python, no Ansible imports.  Two front ends set RELAYCLIENT for trusted
clients ("Integrating Qmail with Teamware Office", 3.1):

* ucspi-tcp's tcpserver, with a rules file compiled by tcprules into a cdb
  (``1.2.3.4:allow,RELAYCLIENT=""``; 3.1.2), run under daemontools;
* inetd + tcp_wrappers' tcpd, with an inetd.conf smtp line and hosts.allow lines
  in the extended option syntax (``tcp-env: 1.2.3.4: setenv = RELAYCLIENT``; 3.1.1).

A relay client is a full IPv4 address (``1.2.3.4``) or its first one to three
octets (``1.2.3``, ``1.2.3.``, ``127.``), which both front ends write as a
prefix with a trailing dot (``1.2.3.``): tcprules looks up "shorter and shorter
prefixes of $TCPREMOTEIP ending with a dot", and tcp_wrappers treats a pattern
ending with "." as a prefix.  The document's hosts.allow example
``tcp-env:1.2.3: setenv = RELAYCLIENT`` has no trailing dot; tcp_wrappers would
compare it with the whole address and never match, so the dot is always written.

Everything is validated before anything is rendered; a ValidationError names
each variable (``ucspi_tcp_relay_clients[2]``) and the reason.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import re
import stat

from ansible_collections.teamware.qmail.plugins.module_utils import files
from ansible_collections.teamware.qmail.plugins.module_utils import validators
from ansible_collections.teamware.qmail.plugins.module_utils.validators import InvalidValue, Problems, ValidationError

MARKER = "# Managed by teamware.qmail: changes made here are overwritten."
RELAY_INSTRUCTION = 'allow,RELAYCLIENT=""'
DEFAULT_RULE = ":allow"
HOSTS_ALLOW_OPTION = "setenv = RELAYCLIENT"

LOG_LEVELS = {"verbose": "-v", "errors": "-Q", "quiet": "-q"}
LOGGERS = ("multilog", "splogger")

# fullmatch() everywhere: '$' would also accept a trailing newline.
_SERVICE_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}")
_OPTION = re.compile(r"[A-Za-z0-9_./:=@+-]+")
_DAEMON = re.compile(r"[A-Za-z0-9_.+-]+")
_SMTP_NAMES = ("smtp", "25")


class Client:
    """One relay client: an IPv4 address, or a prefix of one to three octets."""

    def __init__(self, address, partial):
        self.address = address
        self.partial = partial

    @property
    def pattern(self):
        """How tcprules and hosts.allow write it: a prefix ends with a dot."""
        return self.address + "." if self.partial else self.address

    def matches(self, ip):
        """Whether a client with this IPv4 address gets RELAYCLIENT (for tests and previews)."""
        if self.partial:
            return ip.startswith(self.pattern)
        return ip == self.address

    def __eq__(self, other):
        return isinstance(other, Client) and (self.address, self.partial) == (other.address, other.partial)

    def __hash__(self):
        return hash((self.address, self.partial))

    def __repr__(self):
        return "Client(%r)" % self.pattern


def relay_client(value):
    """A Client from one list entry, or InvalidValue with the reason."""
    if isinstance(value, bool) or not isinstance(value, str):
        if isinstance(value, (int, float)):
            raise InvalidValue("%r is a number, not a string: YAML reads an unquoted 127. or 10.0 as a number, "
                               "which would silently become another prefix; quote it, e.g. '127.'" % (value,))
        raise InvalidValue("%r is a %s, not a string with an IPv4 address or partial address" % (value, type(value).__name__))
    if value and value == value.strip() and not any(char in value for char in "\r\n\0"):
        if any(char.isspace() for char in value):
            raise InvalidValue("%r contains white space; give one address or partial address per list entry" % value)
        if "/" in value:
            raise InvalidValue("%r is in CIDR notation, which tcprules does not take; %s" % (value, _cidr_hint(value)))
        if "-" in value:
            raise InvalidValue("%r is an address range; list the addresses or give a partial address, e.g. '1.2.3.'" % value)
        if not value.startswith("=") and "@" not in value and any(char in value for char in ':,="'):
            raise InvalidValue("%r is not an address: give only the address or partial address; the collection writes "
                               "the rule around it" % value)
        if value.startswith("=") or "@" in value or any(char.isalpha() for char in value):
            raise InvalidValue("%r is not an IPv4 address or partial address: host names and user@ rules are not supported, "
                               "because only addresses are checked the same way by tcpserver and tcpd" % value)
    address = validators.partial_ipv4(value)
    return Client(address, len(address.split(".")) < 4)


def _cidr_hint(value):
    try:
        network = ipaddress.IPv4Network(value, strict=False)
    except ValueError:
        return "write the octets of the prefix, e.g. '10.1.' for 10.1.0.0/16"
    if network.prefixlen % 8:
        return "only whole octets can be given (/8, /16, /24, /32): list the addresses or prefixes it covers"
    octets = str(network.network_address).split(".")[:network.prefixlen // 8]
    if len(octets) == 4:
        return "write %r" % ".".join(octets)
    if not octets:
        return "0.0.0.0/0 would let everybody relay (an open relay); it cannot be given"
    return "write %r" % (".".join(octets) + ".")


def relay_clients(values, variable):
    """Validate the whole list; a ValidationError names every bad entry."""
    problems = Problems()
    if values is None:
        values = []
    if isinstance(values, (str, bytes, dict)) or not isinstance(values, (list, tuple)):
        problems.add(variable, "must be a list of IPv4 addresses or partial addresses, e.g. ['127.', '192.0.2.10'], not %r" % (values,))
        problems.raise_if_any()
    clients = []
    seen = {}
    for index, value in enumerate(values):
        name = "%s[%d]" % (variable, index)
        client = problems.check(name, relay_client, value)
        if client is None:
            continue
        if client in seen:
            problems.add(name, "%r repeats %s (%r); list each client once" % (value, seen[client][0], seen[client][1]))
            continue
        seen[client] = (name, value)
        clients.append(client)
    problems.raise_if_any()
    return clients


# ---------------------------------------------------------------- tcpserver


def tcprules_lines(clients):
    """The rules file for tcprules: one relay rule per client, then the default rule.

    The default ``:allow`` lets every other client connect without RELAYCLIENT, so
    qmail-smtpd accepts from them only mail for the domains in control/rcpthosts.
    """
    lines = [MARKER, "# Clients that may relay (qmail-smtpd skips rcpthosts when RELAYCLIENT is set):"]
    lines += ["%s:%s" % (client.pattern, RELAY_INSTRUCTION) for client in clients]
    lines += ["# Everybody else may connect, but only mail for control/rcpthosts is accepted:", DEFAULT_RULE]
    return lines


def rules_paths(prefix, rules_file, rules_cdb):
    """The rules file and its cdb, checked: absolute, and the rules file is neither the cdb nor tcprules' CDB.tmp."""
    problems = Problems()
    rules = problems.check(prefix + "rules_file", validators.absolute_path, rules_file)
    cdb = problems.check(prefix + "rules_cdb", validators.absolute_path, rules_cdb)
    if rules and cdb and rules in (cdb, cdb + ".tmp"):
        problems.add(prefix + "rules_file", "%s must differ from the cdb %s and from tcprules' temporary file %s.tmp, "
                                            "which tcprules overwrites" % (rules, cdb, cdb))
    problems.raise_if_any()
    return rules, cdb


def bind_address(value, allow_any_word="0"):
    """tcpserver's host argument ('0' = every local address) or inetd's address prefix ('' = all)."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise InvalidValue("%r is not a string with an IPv4 address" % (value,))
    if value == allow_any_word:
        return value
    return validators.ipv4(value)


def port_name(value):
    """A port number or a service name from /etc/services (e.g. smtp)."""
    if isinstance(value, bool):
        raise InvalidValue("port must be a number or a service name, not %r" % (value,))
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        return str(validators.port(value))
    if not isinstance(value, str) or not _SERVICE_NAME.fullmatch(value):
        raise InvalidValue("port %r is neither a number nor a service name such as smtp" % (value,))
    return value


def numeric_id(value, what):
    if isinstance(value, bool):
        raise InvalidValue("%s must be a number, not %r" % (what, value))
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InvalidValue("%s %r is not a number" % (what, value))
    if number < 0:
        raise InvalidValue("%s %d is negative" % (what, number))
    return number


def extra_option(value):
    value = validators._text(value, "option")  # pylint: disable=protected-access
    if not _OPTION.fullmatch(value) or not value.startswith("-"):
        raise InvalidValue("option %r must start with '-' and use only letters, digits and _ . / : = @ + -" % value)
    if value.startswith(("-x", "-u", "-g")):
        raise InvalidValue("option %r is set by the collection itself" % value)
    return value


class TcpserverSettings:
    """What the daemontools run scripts of tcpserver need, validated together."""

    def __init__(self, rules_cdb, uid, gid, bind, port, qmail_dir, log_level, logger, log_user, probe, extra_options):
        self.rules_cdb = rules_cdb
        self.uid = uid
        self.gid = gid
        self.bind = bind
        self.port = port
        self.qmail_dir = qmail_dir
        self.log_level = log_level
        self.logger = logger
        self.log_user = log_user
        self.probe = probe
        self.extra_options = extra_options

    @classmethod
    def from_vars(cls, prefix="", rules_cdb="/etc/tcp.smtp.cdb", uid=None, gid=None, bind_address="0", port="smtp",
                  qmail_dir="/var/qmail", log_level="verbose", logger="multilog", log_user="qmaill", probe=None,
                  extra_options=None, user="qmaild", group="nofiles"):
        """Validate; uid/gid None means the account is not there yet (check mode): the script shows placeholders."""
        problems = Problems()
        cdb = problems.check(prefix + "rules_cdb", validators.absolute_path, rules_cdb)
        uid_value = gid_value = None
        if uid is not None:
            uid_value = problems.check(prefix + "user", numeric_id, uid, "uid of %s" % user)
        if gid is not None:
            gid_value = problems.check(prefix + "group", numeric_id, gid, "gid of %s" % group)
        bind = problems.check(prefix + "bind_address", bind_address_tcpserver, bind_address)
        port_value = problems.check(prefix + "port", port_name, port)
        qdir = problems.check(prefix + "qmail_dir", validators.absolute_path, qmail_dir)
        level = problems.check(prefix + "log_level", validators.choice, log_level, sorted(LOG_LEVELS), "log level")
        log = problems.check(prefix + "logger", validators.choice, logger, LOGGERS, "logger")
        luser = problems.check(prefix + "log_user", validators.user_name, log_user)
        probe_value = None
        if probe:
            probe_value = problems.check(prefix + "probe", validators.absolute_path, probe)
        options = []
        if extra_options is None:
            extra_options = []
        if not isinstance(extra_options, (list, tuple)):
            problems.add(prefix + "extra_options", "must be a list of options, e.g. ['-R', '-H'], not %r" % (extra_options,))
        else:
            for index, option in enumerate(extra_options):
                options.append(problems.check("%sextra_options[%d]" % (prefix, index), extra_option, option))
        problems.raise_if_any()
        return cls(cdb, uid_value, gid_value, bind, port_value, qdir, level, log, luser, probe_value, options)

    @property
    def program(self):
        return self.probe or "%s/bin/qmail-smtpd" % self.qmail_dir

    def argv(self):
        """tcpserver's command line (the document's 3.1.2, with looked-up ids)."""
        uid = "UNKNOWN" if self.uid is None else str(self.uid)
        gid = "UNKNOWN" if self.gid is None else str(self.gid)
        argv = ["tcpserver", LOG_LEVELS[self.log_level]] + list(self.extra_options)
        return argv + ["-x", self.rules_cdb, "-u", uid, "-g", gid, self.bind, self.port, self.program]

    def run_script(self):
        lines = [
            "#!/bin/sh",
            MARKER,
            "# qmail-smtpd behind tcpserver (\"Integrating Qmail with Teamware Office\" 3.1.2).",
            "# Relay rules: %s, read at every connection (no restart needed when it changes)." % self.rules_cdb,
            "PATH=/command:/usr/local/bin:/usr/local/sbin:/usr/bin:/bin:/usr/sbin:/sbin",
            "export PATH",
            "exec %s 2>&1" % " ".join(self.argv()),
        ]
        return "".join(line + "\n" for line in lines)

    def log_run_script(self):
        if self.logger == "multilog":
            command = "exec setuidgid %s multilog t ./main" % self.log_user
        else:
            command = "exec setuidgid %s %s/bin/splogger smtpd 3" % (self.log_user, self.qmail_dir)
        lines = [
            "#!/bin/sh",
            MARKER,
            "PATH=/command:/usr/local/bin:/usr/local/sbin:/usr/bin:/bin:/usr/sbin:/sbin",
            "export PATH",
            command,
        ]
        return "".join(line + "\n" for line in lines)


def bind_address_tcpserver(value):
    return bind_address(value, "0")


# ---------------------------------------------------------------- inetd + tcpd


def hosts_allow_lines(clients, daemon="tcp-env"):
    """hosts.allow lines in tcp_wrappers' extended option syntax (3.1.1).

    tcpd names the daemon after the last path component of the program it runs,
    here qmail's tcp-env.  A client that matches no line is let in by tcpd's
    default (unless hosts.deny says otherwise) without RELAYCLIENT.
    """
    if not _DAEMON.fullmatch(daemon or ""):
        raise InvalidValue("daemon name %r must be a program's file name, e.g. tcp-env" % (daemon,))
    if not clients:
        return ["# No relay clients: every client must send mail for control/rcpthosts only."]
    return ["%s: %s: %s" % (daemon, client.pattern, HOSTS_ALLOW_OPTION) for client in clients]


def inetd_bind_address(value):
    if value in (None, ""):
        return ""
    return bind_address(value, "*")


class InetdSettings:
    """The inetd.conf smtp line (3.1.1), validated."""

    def __init__(self, qmail_dir, tcpd, user, bind, port):
        self.qmail_dir = qmail_dir
        self.tcpd = tcpd
        self.user = user
        self.bind = bind
        self.port = port

    @classmethod
    def from_vars(cls, prefix="", qmail_dir="/var/qmail", tcpd="/usr/sbin/tcpd", user="qmaild", bind_address="", port="smtp"):
        problems = Problems()
        qdir = problems.check(prefix + "qmail_dir", validators.absolute_path, qmail_dir)
        tcpd_value = problems.check(prefix + "tcpd", validators.absolute_path, tcpd)
        user_value = problems.check(prefix + "user", validators.user_name, user)
        bind = problems.check(prefix + "bind_address", inetd_bind_address, bind_address)
        port_value = problems.check(prefix + "port", port_name, port)
        problems.raise_if_any()
        return cls(qdir, tcpd_value, user_value, bind, port_value)

    @property
    def tcp_env(self):
        return "%s/bin/tcp-env" % self.qmail_dir

    @property
    def qmail_smtpd(self):
        return "%s/bin/qmail-smtpd" % self.qmail_dir

    @property
    def daemon(self):
        """The name tcpd looks up in hosts.allow: the file name of the program it runs."""
        return "tcp-env"

    def line(self):
        service = "%s:%s" % (self.bind, self.port) if self.bind else self.port
        return "%s stream tcp nowait %s %s %s %s" % (service, self.user, self.tcpd, self.tcp_env, self.qmail_smtpd)

    def services(self):
        return _SMTP_NAMES if self.port in _SMTP_NAMES else (self.port,)

    def service_regexp(self):
        """Active (not commented) inetd.conf lines that serve this SMTP port, or have exactly the collection's shape.

        Matches ``smtp ...``, ``25 ...``, ``127.0.0.1:smtp ...`` and a line of the collection's shape for another
        port (tcpd, tcp-env and this qmail-smtpd as this user), so a changed port or address replaces the old line.
        Other lines that run qmail-smtpd on another port (a submission port) are the host's own and stay.
        (front_end_ownership.inetd_conflicts stops the run before a line for the port that runs another program
        would be replaced.)
        """
        services = "|".join(re.escape(name) for name in self.services())
        shape = r"\s+stream\s+tcp\s+nowait\s+%s\s+%s\s+%s\s+%s\s*$" % tuple(
            re.escape(word) for word in (self.user, self.tcpd, self.tcp_env, self.qmail_smtpd))
        return r"^\s*(?:(?:[^\s#:]+:)?(?:%s)\s|[^\s#]\S*%s)" % (services, shape)


# ---------------------------------------------------------------- daemontools service directory


ROOT_DIRECTORY = (0, 0, 0o755)


def _describe(kind, uid, gid, mode, target=None):
    if kind == "link":
        return "symbolic link to %s\n" % target
    owner = "" if uid is None else " owner %d" % uid
    group = "" if gid is None else " group %d" % gid
    return "directory%s%s mode %04o\n" % (owner, group, mode)


def _directory_change(path, kind, uid, gid, mode, variable, create_only=False):
    """One directory that must exist with uid/gid/mode (None = not checked); a change dict or None."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return {"path": path, "kind": kind, "action": "create", "reasons": ["create"], "uid": uid, "gid": gid, "mode": mode,
                "before": "", "after": _describe("directory", uid, gid, mode)}
    if not stat.S_ISDIR(info.st_mode):
        raise ValidationError([(variable, "%s exists and is not a directory" % path)])
    if create_only:
        return None
    reasons = []
    if stat.S_IMODE(info.st_mode) != mode:
        reasons.append("mode")
    if (uid is not None and info.st_uid != uid) or (gid is not None and info.st_gid != gid):
        reasons.append("owner")
    if not reasons:
        return None
    return {"path": path, "kind": kind, "action": "attributes", "reasons": reasons, "uid": uid, "gid": gid, "mode": mode,
            "before": _describe("directory", info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)),
            "after": _describe("directory", uid, gid, mode)}


def _missing_ancestors(path):
    """The missing directories above path, outermost first (created like the file module does)."""
    missing = []
    parent = os.path.dirname(path)
    while parent and parent != os.path.dirname(parent) and not os.path.lexists(parent):
        missing.insert(0, parent)
        parent = os.path.dirname(parent)
    return missing


def link_state(link, variable, real_dir=None):
    """What is at the service's name in the scan directory: None (nothing), or the symlink's target.

    Anything that is not a symbolic link belongs to somebody else: ValidationError, nothing changes.
    """
    if not os.path.lexists(link):
        return None
    if not os.path.islink(link):
        if real_dir is None:
            reason = ("%s is not a symbolic link; the role removes only its own link. "
                      "Stop that service (svc -dx) and remove it yourself." % link)
        else:
            reason = ("%s exists and is not a symbolic link; the role links it to %s. "
                      "Stop that service and move it away first." % (link, real_dir))
        raise ValidationError([(variable, reason)])
    return os.readlink(link)


class ServiceDirectory:
    """tcpserver's daemontools service: built in supervise_dir/name, linked into the scan directory last.

    supervise_dir, supervise_dir/name and its log directory: root, 0755; log/main (multilog only):
    log_uid, root, 0755; run and log/run: root, 0755, written atomically; the scan directory is
    created (root, 0755) only when missing; the link scan_dir/name -> supervise_dir/name comes last,
    so that svscan sees the service only when run, log/run and log/main are in place (svscan decides
    at first sight whether a service has a log service).
    """

    def __init__(self, supervise_dir, scan_dir, name="qmail-smtpd", prefix=""):
        self.supervise_dir = supervise_dir
        self.scan_dir = scan_dir
        self.name = name
        self.prefix = prefix
        self.real_dir = os.path.join(supervise_dir, name)
        self.link = os.path.join(scan_dir, name)
        self.run_path = os.path.join(self.real_dir, "run")
        self.log_run_path = os.path.join(self.real_dir, "log", "run")

    @classmethod
    def from_vars(cls, supervise_dir, scan_dir, name="qmail-smtpd", prefix=""):
        problems = Problems()
        supervise = problems.check(prefix + "supervise_dir", validators.absolute_path, supervise_dir)
        scan = problems.check(prefix + "service_dir", validators.absolute_path, scan_dir)
        service = problems.check(prefix + "service_name", service_directory_name, name)
        if supervise and scan and service and os.path.join(scan, service) in (supervise, os.path.join(supervise, service)):
            problems.add(prefix + "supervise_dir", "the service is built in %s and linked into the scan directory %s: "
                                                   "they must differ" % (supervise, scan))
        problems.raise_if_any()
        return cls(supervise, scan, service, prefix)

    def plan(self, run_script, log_run_script, logger, log_uid):
        """Every change, in the order it is applied; raises ValidationError before anything changes."""
        uid, gid, mode = ROOT_DIRECTORY
        where = self.prefix + "supervise_dir"
        target = link_state(self.link, self.prefix + "service_dir", self.real_dir)
        changes = []
        for path in _missing_ancestors(self.supervise_dir):
            changes.append(_directory_change(path, "directory", uid, gid, mode, where))
        for path in (self.supervise_dir, self.real_dir, os.path.join(self.real_dir, "log")):
            changes.append(_directory_change(path, "directory", uid, gid, mode, where))
        if logger == "multilog":
            changes.append(_directory_change(os.path.join(self.real_dir, "log", "main"), "log directory", log_uid, gid, mode, where))
        for path, content, kind in ((self.run_path, run_script, "run script"), (self.log_run_path, log_run_script, "log run script")):
            if os.path.isdir(path):
                raise ValidationError([(where, "%s is a directory, not a script" % path)])
            state = files.FileState(path, content, uid=uid, gid=gid, mode=mode, kind=kind)
            change = files.plan(state)
            if change:
                change["state"] = state
            changes.append(change)
        for path in _missing_ancestors(self.scan_dir) + [self.scan_dir]:
            changes.append(_directory_change(path, "scan directory", uid, gid, mode, self.prefix + "service_dir", create_only=True))
        if target != self.real_dir:
            changes.append({"path": self.link, "kind": "link", "action": "link", "reasons": ["create" if target is None else "target"],
                            "before": "" if target is None else _describe("link", None, None, None, target),
                            "after": _describe("link", None, None, None, self.real_dir)})
        return [change for change in changes if change]

    def apply(self, changes):
        for change in changes:
            kind = change["kind"]
            if "state" in change:
                files.apply(change["state"])
            elif kind == "link":
                temporary = os.path.join(self.scan_dir, ".%s.link.tmp" % self.name)
                if os.path.lexists(temporary):
                    os.unlink(temporary)
                # svscan skips names that start with a dot; the rename replaces any old link at once.
                os.symlink(self.real_dir, temporary)
                os.rename(temporary, self.link)
            else:
                if change["action"] == "create":
                    os.mkdir(change["path"], change["mode"])
                os.chmod(change["path"], change["mode"])
                if change["uid"] is not None or change["gid"] is not None:
                    os.chown(change["path"], -1 if change["uid"] is None else change["uid"],
                             -1 if change["gid"] is None else change["gid"])

    def plan_absent(self):
        """The link to remove (or None); raises ValidationError when the name holds something that is not a link."""
        target = link_state(self.link, self.prefix + "service_dir")
        if target is None:
            return None
        return {"path": self.link, "kind": "link", "action": "remove", "reasons": ["absent"],
                "before": _describe("link", None, None, None, target), "after": ""}

    def remove_link(self):
        try:
            os.unlink(self.link)
        except FileNotFoundError:
            pass


def service_directory_name(value):
    value = validators._text(value, "service name")  # pylint: disable=protected-access
    if not _DAEMON.fullmatch(value) or value.startswith("."):
        raise InvalidValue("service name %r must be one file name (letters, digits, _ . + -), not starting with a dot" % value)
    return value


def change_summary(change):
    return dict((key, change[key]) for key in ("path", "kind", "action", "reasons") if key in change)


def diff_entry(change):
    """One change as Ansible's --diff shows it (files, directories and the link alike)."""
    return {
        "before_header": change["path"] if change["before"] else "%s (absent)" % change["path"],
        "after_header": change["path"] if change["action"] != "remove" else "%s (absent)" % change["path"],
        "before": change["before"],
        "after": change["after"],
    }
