# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where will qmail deliver an address?  qmail's delivery, re-done in Python.

Pure Python, no Ansible imports and no third-party imports: the ``teamware.qmail.qmail_route_info``
module (through route_report.py) and the unit tests share it.
Every step follows notqmail 1.09 (a maintained qmail 1.03), file by file:

* qmail-smtpd / rcpthosts.c, qmail-send.c rewrite(), qmail-remote.c smtproutes: qmail_config.py;
* qmail-lspawn.c and qmail-getpw.c (which user delivers), qmail-local.c's .qmail search and
  environment: local_delivery.py;
* qmail-local.c: the home checks and the meaning of each .qmail line: here; what a '|' line does:
  delivery_programs.py;
* forwards are routed again as qmail-send would, with their Delivered-To lines (loops bounce).

The host is reached through a ``qmail_host.HostView`` (file contents, stat, passwd and users/cdb);
tests use one on a temporary tree.  Nothing is ever written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import posixpath
import stat

from ansible_collections.teamware.qmail.plugins.module_utils import delivery_programs
from ansible_collections.teamware.qmail.plugins.module_utils import local_delivery as ld
from ansible_collections.teamware.qmail.plugins.module_utils import relay_parsers
from ansible_collections.teamware.qmail.plugins.module_utils import route_summary
from ansible_collections.teamware.qmail.plugins.module_utils.qmail_config import OPEN_RELAY, QmailConfig, lower
from ansible_collections.teamware.qmail.plugins.module_utils.route_options import (
    DEFAULT_ALIASEMPTY, DEFAULT_MAX_DEPTH, DEFAULT_SENDER, DEFAULT_WRAPPER)


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


def _is_dir(info):
    return info is not None and stat.S_ISDIR(info.st_mode)


def smtpd_queued_address(address):
    """The recipient as qmail-smtpd queues it from RCPT TO (addrparse): a source route '@a,@b:' dropped, double
    quotes removed and backslash escapes resolved anywhere in the address."""
    text = address
    if text.startswith("@") and ":" in text:
        text = text.split(":", 1)[1]
    out = []
    escaped = False
    for char in text:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char != '"':
            out.append(char)
    return "".join(out)


class Router:
    """Routes addresses through one host's configuration (see the module docstring)."""

    def __init__(self, view, options=None):
        self.view = view
        self.options = options or Options()
        self.config = QmailConfig(view)
        self.warnings = list(self.config.warnings)
        self.notes = list(self.config.notes)
        self.programs = delivery_programs.Programs(view, self.config, self.options.delivery_wrappers)
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
        """The clients that get RELAYCLIENT (see relay_parsers.relay_clients): (clients, warnings, notes)."""
        return relay_parsers.relay_clients(self.view, tcp_rules, hosts_allow, tcp_rules_cdb)

    # ---- one address

    def route(self, address):
        """Everything about one address, as a dict (see the module's RETURN)."""
        result = {"address": address, "warnings": [], "notes": []}
        queued = smtpd_queued_address(address)
        result["queued_as"] = queued
        if queued != address:
            result["notes"].append("qmail-smtpd queues %s as %s (it strips a source route, quotes and backslash escapes)"
                                   % (address, queued))
        address = queued
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
            # Only a permission error is helped by become; a damaged file (users/cdb too short) is not.
            hint = ": run the module as root (become)" if getattr(exc, "errno", None) in (errno.EACCES, errno.EPERM) else ""
            result["warnings"].append("cannot read what qmail reads for %s (%s)%s" % (address, exc, hint))
        result["final"] = self._leaves(result, [address])
        self._teamware_checks(result)
        result["warnings"] = route_summary.unique(result["warnings"])
        result["notes"] = route_summary.unique(result["notes"])
        result["summary"] = route_summary.summary_line(result)
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
        """qmail-lspawn's nughde_get: users/cdb, then qmail-getpw (see local_delivery.lookup_user)."""
        return ld.lookup_user(self.view, local)

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
                                      "(\"%s\")" % (local, info["user"], route_summary.describe_lookup(info), ld.MSG_ROOT))
            dests.append({"type": "defer", "reason": ld.MSG_ROOT})
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
        if st.st_mode & ld.AUTO_PATRN:
            result["warnings"].append("home %s of %s is world-writable: qmail-local defers every delivery" % (home, info["user"]))
            dests.append({"type": "defer", "reason": ld.MSG_HOME_WRITABLE})
            return
        if st.st_mode & 0o1000:
            result["warnings"].append("home %s of %s is sticky: qmail-local defers every delivery until the bit is cleared"
                                      % (home, info["user"]))
            dests.append({"type": "defer", "reason": ld.MSG_HOME_STICKY})
            return

        env = ld.local_environment(info["user"], home, local, info["dash"], info["ext"], host, sender)
        qmail_file, forward_only, default, error = ld.qmesearch(self.view, info)
        if error:
            dests.append(error)
            if error["reason"] == ld.MSG_QMAIL_WRITABLE:
                result["warnings"].append("%s is world-writable: qmail-local defers every delivery" % info["dot_qmail"])
            return
        if default is not None:
            env["DEFAULT"] = default
        info["environment"] = env
        if qmail_file is None and info["dash"]:
            dests.append({"type": "bounce", "reason": ld.MSG_NO_MAILBOX})
            return
        env["NEWSENDER"] = ld.newsender(self.view, info, sender, local, host)
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
                    stopped = {"type": "defer", "reason": ld.MSG_BLANK_FIRST}
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
                    stopped = {"type": "defer", "reason": ld.MSG_XBIT_FILE}
                    break
                path = line if kind == "/" else posixpath.normpath(posixpath.join(info["home"], line))
                if line.endswith("/"):
                    path = path.rstrip("/") + "/"
                    entry["type"] = "maildir"
                    dests.append(self._maildir(path, info, number, result))
                else:
                    entry["type"] = "mbox"
                    dests.append({"type": "mbox", "path": path, "user": info["user"], "line": number})
            elif kind == "|":
                entry["type"] = "program"
                if forward_only:
                    stopped = {"type": "defer", "reason": ld.MSG_XBIT_PROG}
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
                    sub["destinations"] = [{"type": "bounce", "reason": ld.MSG_LOOP, "loop": True}]
                    result["warnings"].append("forward LOOP: %s (qmail bounces it: %s)" % (" -> ".join(path), ld.MSG_LOOP))
                    continue
            self._route_queued(address, sub, depth + 1, delivered_to, path, sender)
            result["warnings"].extend(sub.pop("warnings"))
            result["notes"].extend(sub.pop("notes"))
            sub["warnings"] = []
            sub["notes"] = []

    # ---- delivery programs

    def _maildir(self, path, info, number, result):
        """A maildir delivery, or the deferral qmail-local makes of it when the Maildir is not there (maildir.c:
        chdir, then tmp/ and new/): the message waits in the queue until queuelifetime, then bounces."""
        missing = [part for part in ("", "tmp", "new") if not _is_dir(self.view.stat(posixpath.join(path, part)))]
        if not missing:
            return {"type": "maildir", "path": path, "user": info["user"], "line": number}
        result["warnings"].append("the Maildir %s of user %s is missing%s: qmail-local defers every delivery to it "
                                  "(Unable to chdir to maildir. (#4.2.1)) and bounces it after queuelifetime; create it "
                                  "with maildirmake" % (path, info["user"], "" if "" in missing else " its " + "/, ".join(missing) + "/"))
        return {"type": "defer", "reason": "Unable to chdir to maildir. (#4.2.1)", "path": path, "user": info["user"],
                "line": number}

    def program(self, command, env, info, result):
        """What a '|' line does (see delivery_programs.Programs.effect)."""
        return self.programs.effect(command, env, info, result)

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
        if not self.is_teamware_address(result["queued_as"]):
            result["teamware_address"] = False
            return
        result["teamware_address"] = True
        for leaf in result["final"]:
            if leaf["type"] in ("maildir", "mbox"):
                result["warnings"].append("Teamware address %s lands in the Linux %s %s of user %s, not in Teamware Office"
                                          % (result["address"], leaf["type"], leaf["path"], leaf["user"]))
        if result["final"] and all(leaf.get("teamware") is False for leaf in result["final"]):
            kinds = ", ".join(route_summary.unique([leaf["type"] for leaf in result["final"]]))
            result["warnings"].append("Teamware address %s does not reach Teamware Office (%s)" % (result["address"], kinds))
