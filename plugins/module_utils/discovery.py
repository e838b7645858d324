# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Discovery: which integration method a hand-configured qmail host implements, as inventory variables.

Given the text of a host's files (see ``discover``), works out the method of "Integrating Qmail with Teamware
Office" (5.1.1 to 5.2.4, or ``none``) and the inventory variables that make the collection write the same
routing, the host's own (foreign) entries, each unsafe line of the document's kind with the correction site.yml
makes, and what cannot be decided (it guesses nothing).  Lines are recognised as the document prints them and
as routing.build_routing_table writes them.  Pure Python, no Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.teamware.qmail.plugins.module_utils import discovery_methods as dm
from ansible_collections.teamware.qmail.plugins.module_utils import discovery_parse as p
from ansible_collections.teamware.qmail.plugins.module_utils import relay, routing
from ansible_collections.teamware.qmail.plugins.module_utils import validators as v

DELIVERIES = ("torecvm", "qmail_remote", "forward_program")
# (where the hook is found, the delivery found there) -> the method (methods.Hook.found_at, .delivery_found).
METHOD_OF = dict(((m.hook.found_at, m.hook.delivery_found(m.transport)), m.name) for m in routing.METHODS.values()
                 if m.hook.found_at)


class Host:
    """The host's files, parsed.  ``data``: see ``discover``."""

    def __init__(self, data):
        files = data.get("files", {})
        self.qmail_dir = data.get("qmail_dir") or "/var/qmail"
        self.me = p.first_line(files.get("control/me"))
        self.rcpthosts = p.control_lines(files.get("control/rcpthosts"))
        self.morercpthosts = p.control_lines(files.get("control/morercpthosts")) or []
        locals_ = p.control_lines(files.get("control/locals"))
        self.locals_missing = locals_ is None
        self.locals = [d.lower() for d in (locals_ if locals_ is not None else ([self.me] if self.me else []))]
        self.virtual = p.colon_map(p.control_lines(files.get("control/virtualdomains")))
        self.routes = p.colon_map(p.control_lines(files.get("control/smtproutes")))
        self.assign_source = data.get("assign_source", "users/assign")
        self.assign = p.assign_entries(files.get("users/assign"))
        self.passwd = dict((e["name"], e) for e in data.get("passwd", ()))
        alias = self.passwd.get("alias")
        self.alias_home = (alias["home"] if alias else "%s/alias" % self.qmail_dir).rstrip("/")
        self.dot_qmail = dict((home.rstrip("/"), files_) for home, files_ in data.get("dot_qmail", {}).items())
        self.wrapper = data.get("delivery_wrapper") or routing.DEFAULTS["qmail_delivery_wrapper"]
        self.data = data

    def dot_text(self, home, name):
        return self.dot_qmail.get(home.rstrip("/"), {}).get(name)

    def parsed(self, home, name):
        text = self.dot_text(home, name)
        if text is None:
            return None
        return p.dot_qmail_lines(text)

    def route_for(self, host):
        for key, value, line in reversed(self.routes):
            if key == host.lower():
                relay, port = p.route_value(value)
                return {"relay": relay, "port": port, "line": line}
        return None

    def home_of_prepend(self, prepend):
        """Where qmail reads the .qmail files of a virtualdomains prepend: a users/assign wildcard, else passwd."""
        for entry in self.assign:
            if not entry["exact"] and entry["ok"] and entry["local"].lower() == (prepend + "-").lower():
                return entry["user"], entry["home"]
        user = self.passwd.get(prepend)
        return (prepend, user["home"]) if user else (prepend, None)


class Result:
    def __init__(self):
        self.method = None
        self.candidates = []
        self.variables = {}
        self.foreign = []
        self.unsafe = []
        self.undecided = []
        self.notes = []
        self.teamware_lines = set()
        self.take_over = []

    def undecide(self, item, reason):
        self.undecided.append({"item": item, "reason": reason})

    def unsafe_line(self, path, line, problem, correction):
        entry = {"file": path, "line": line, "problem": problem, "correction": correction}
        if entry not in self.unsafe:
            self.unsafe.append(entry)

    def as_dict(self):
        method = self.method or "undecided"
        return {"method": method, "section": routing.METHODS[method].section if method in routing.METHODS else None,
                "candidates": self.candidates, "variables": self.variables, "foreign": self.foreign,
                "unsafe": self.unsafe, "undecided": self.undecided, "notes": self.notes,
                "report": report_lines(method, self)}


def homes_to_read(data):
    """The homes whose .qmail-default (and .qmail) files discovery needs: ~alias, the virtualdomains prepends'
    and the users/assign wildcards' homes, the routing user's."""
    host = Host(data)
    homes = [host.alias_home]
    for _key, prepend, _line in host.virtual:
        home = host.home_of_prepend(prepend)[1]
        if home:
            homes.append(home)
    homes += [e["home"] for e in host.assign if e["ok"] and not e["exact"]]
    user = host.passwd.get(data.get("routing_user") or "")
    if user:
        homes.append(user["home"])
    result = []
    for home in homes:
        if home.rstrip("/") not in result:
            result.append(home.rstrip("/"))
    return result


def _delivery(lines):
    for info in lines or ():
        if info["type"] in DELIVERIES:
            return info
    return None


def _candidates(host, result):
    """Every place that hands mail to Teamware Office, as candidate dicts (method, hook, home, file, ...)."""
    found = []
    alias_default = host.parsed(host.alias_home, ".qmail-default")
    delivery = _delivery(alias_default)
    if delivery and ("alias", delivery["type"]) in METHOD_OF:
        found.append({"method": METHOD_OF[("alias", delivery["type"])], "hook": "alias", "home": host.alias_home,
                      "lines": alias_default, "delivery": delivery})
    by_user = {}
    for key, prepend, line in host.virtual:
        user, home = host.home_of_prepend(prepend)
        delivery = _delivery(host.parsed(home, ".qmail-default")) if home else None
        if delivery is None:
            continue
        method = METHOD_OF.get(("virtualdomains", delivery["type"]))
        if method is None:
            result.undecide("teamware_integration_method", "virtualdomains line %r leads to %s/.qmail-default, which "
                            "delivers by %s: not one of the document's methods" % (line, home, delivery["type"]))
            continue
        entry = by_user.setdefault(prepend, {"method": method, "hook": "virtualdomains", "user": user,
                                             "home": home, "lines": host.parsed(home, ".qmail-default"),
                                             "delivery": delivery, "domains": [], "virtual_lines": []})
        entry["domains"].append(key)
        entry["virtual_lines"].append(line)
    found += list(by_user.values())
    prepends = set((prepend + "-").lower() for _k, prepend, _l in host.virtual)
    for entry in host.assign:
        if entry["exact"] or not entry["ok"] or not entry["local"] or entry["local"].lower() in prepends:
            continue
        name = ".qmail%sdefault" % (entry["dash"] + (entry["ext"] + "-" if entry["ext"] else ""))
        delivery = _delivery(host.parsed(entry["home"], name))
        if delivery and ("users", delivery["type"]) in METHOD_OF:
            found.append({"method": METHOD_OF[("users", delivery["type"])], "hook": "users", "user": entry["user"],
                          "home": entry["home"], "lines": host.parsed(entry["home"], name), "delivery": delivery,
                          "assign": entry})
    return found


def _smtproutes_candidates(host, found, teamware):
    """Routes of rcpthosts domains (neither local nor virtual) to a relay: 5.2.1's lines, grouped by relay."""
    virtual = set(key for key, _v, _l in host.virtual)
    servers = set()
    for cand in found:
        if cand["delivery"]["type"] == "qmail_remote":
            route = host.route_for(cand["delivery"]["host"])
            servers.add(route["relay"] if route else cand["delivery"]["host"])
    groups = {}
    for domain in host.rcpthosts or ():
        domain = domain.lower()
        if domain in host.locals or domain in virtual or domain.startswith("."):
            continue
        route = host.route_for(domain)
        if not route or not route["relay"]:
            continue
        known = teamware["domains"] and domain in teamware["domains"]
        if found and not known and route["relay"] not in servers:
            continue
        if teamware["domains"] and not known:
            continue
        groups.setdefault((route["relay"], route["port"]), []).append((domain, route["line"]))
    return groups


def teamware_side(data):
    """What to.ini and tombsmtp.ini say: smtp_port, sendmail, own_node base addresses and A: aliases."""
    to_ini = p.ini_values(data.get("to_ini"))
    mime = dict((k.lower(), v) for section, values in to_ini.items() if section and section.upper() == "MIME"
                for k, v in values.items())
    nodes = []
    for section in p.ini_values(data.get("tombsmtp_ini")).values():
        nodes += section.get("own_node", [])
    port = (mime.get("smtp_port") or [None])[-1]
    return {"known": data.get("to_ini") is not None or data.get("tombsmtp_ini") is not None,
            "smtp_port": int(port) if port and port.isdigit() else None,
            "sendmail": (mime.get("sendmail") or [None])[-1],
            "domains": [n.lower() for n in nodes if not n.upper().startswith("A:")],
            "aliases": [n[2:].lower() for n in nodes if n.upper().startswith("A:")]}


def discover(data):
    """Work out the integration of a host.

    data: qmail_dir; files (relative name -> text or None: control/rcpthosts, control/morercpthosts,
    control/locals, control/virtualdomains, control/smtproutes, control/me, users/assign); assign_source
    ('users/assign' or 'users/cdb'); dot_qmail (home -> {'.qmail-NAME': text}); passwd (dicts name, uid, gid,
    home); tcp_rules, tcp_rules_path, tcp_rules_cdb (bytes or None), inetd_conf, hosts_allow, to_ini,
    tombsmtp_ini (text or None); routing_user; delivery_wrapper.  Returns a dict: method (a name of
    routing.METHODS or 'undecided'), section, candidates, variables, foreign, unsafe, undecided, notes.
    """
    host = Host(data)
    result = Result()
    teamware = teamware_side(data)
    found = _candidates(host, result)
    groups = _smtproutes_candidates(host, found, teamware)
    if len(groups) > 1:
        result.undecide("teamware_integration_method", "rcpthosts domains are routed to several relays (%s): which of "
                        "them is Teamware Office cannot be told from the qmail host; give teamware_root so that "
                        "tombsmtp.ini names the Teamware base addresses" % "; ".join(
                            "%s via %s" % (", ".join(d for d, _l in g), relay_) for (relay_, _p), g in sorted(groups.items())))
    elif groups:
        (relay_, port), routed = list(groups.items())[0]
        found.append({"method": METHOD_OF[("smtproutes", None)], "hook": "smtproutes", "relay": relay_, "port": port,
                      "domains": [d for d, _l in routed], "route_lines": [line for _d, line in routed]})
    result.candidates = [dict((k, c[k]) for k in ("method", "hook") if k in c) for c in found]
    if data.get("routing_user"):
        chosen = [c for c in found if c.get("user") in (None, data["routing_user"])]
        found = chosen
    if len(found) > 1:
        result.undecide("teamware_integration_method", "more than one place hands mail to Teamware Office: %s; "
                        "remove the ones that are not meant, or adopt by hand" % ", ".join(
                            "%s (%s)" % (c["method"], c.get("home") or c["hook"]) for c in found))
    if result.undecided and any(u["item"] == "teamware_integration_method" for u in result.undecided):
        result.method = None
    elif not found:
        result.method = "none"
        _method_none(host, result, teamware)
    else:
        result.method = found[0]["method"]
        _method_variables(host, result, found[0], teamware)
    _common(host, result, teamware)
    return result.as_dict()


def _method_none(host, result, teamware):
    result.variables.update(teamware_integration_method="none", teamware_domains=list(teamware["domains"]))
    result.notes.append("No file hands mail to Teamware Office: qmail and Teamware Office work side by side (section 2).")


def _method_variables(host, result, cand, teamware):
    dm.method_variables(host, result, cand, teamware)


def _common(host, result, teamware):
    dm.aliases(host, result)
    dm.foreign_entries(host, result)
    front_end(host, result)
    if teamware["smtp_port"] and result.variables.get("teamware_smtp_port") not in (None, teamware["smtp_port"]):
        result.undecide("teamware_smtp_port", "qmail sends to port %s, but to.ini says the MIME connector listens on "
                        "port %s" % (result.variables["teamware_smtp_port"], teamware["smtp_port"]))
    if host.qmail_dir != routing.DEFAULTS["qmail_dir"]:
        result.variables["qmail_dir"] = host.qmail_dir
    if host.wrapper != routing.DEFAULTS["qmail_delivery_wrapper"]:
        result.variables["qmail_delivery_wrapper"] = host.wrapper
    if result.method in routing.METHODS:
        dm.check_round_trip(host, result)


def front_end(host, result):
    """qmail_relay_clients and qmail_smtp_front_end from the tcpserver rules, inetd.conf and hosts.allow."""
    data = host.data
    path = data.get("tcp_rules_path") or "/etc/tcp.smtp"
    text = data.get("tcp_rules")
    cdb = data.get("tcp_rules_cdb")
    rules = p.tcp_rules(text)
    if cdb is not None and not (text or "").strip():
        rules = p.tcp_rules_from_cdb(cdb)
        _destroyed_rules_file(path, text, rules, result)
    inetd = p.inetd_smtp_lines(data.get("inetd_conf"))
    tcpserver = bool(rules) or cdb is not None
    clients = []
    if tcpserver:
        clients += _tcp_clients(path, rules, result)
    if inetd:
        clients += [c for c in _hosts_allow_clients(data, result) if c not in clients]
    if tcpserver and inetd:
        result.undecide("qmail_smtp_front_end", "both tcpserver rules (%s) and an inetd.conf smtp line (%r) exist; "
                        "say which one serves port 25" % (path, inetd[0]))
    elif tcpserver or inetd:
        result.variables["qmail_smtp_front_end"] = "tcpserver" if tcpserver else "inetd"
    else:
        result.undecide("qmail_smtp_front_end", "neither tcpserver rules (%s) nor an inetd.conf smtp line running "
                        "qmail-smtpd were found" % path)
    if tcpserver or inetd:
        result.variables["qmail_relay_clients"] = clients


def _destroyed_rules_file(path, text, rules, result):
    """The tcpserver rules file is missing or empty beside its cdb: the document's tcprules line destroyed it."""
    problem = ("%s is %s but %s.cdb exists: the rules file was destroyed, as the document's 'tcprules %s.cdb %s < %s' "
               "does (the rules file is tcprules' temporary file, truncated and renamed over the cdb)"
               % (path, "missing" if text is None else "empty", path, path, path, path))
    if rules:
        problem += "; the relay clients were read back from the cdb"
    else:
        # tcprules truncates its temporary file before it reads its input, so the document's line compiles nothing.
        problem += "; the cdb holds no rule either (tcprules truncated the file before it read it): no client may relay"
        result.undecide("qmail_relay_clients", "%s.cdb holds no rule (the document's tcprules line compiled an empty "
                        "file): today no client may relay, not even the host itself, which site.yml refuses; say which "
                        "clients may relay (127. and the Teamware Office server)" % path)
    result.unsafe_line(path, None, problem, "the ucspi_tcp role writes %s again and compiles it with "
                       "'tcprules %s.cdb %s.tmp < %s'" % (path, path, path, path))


def _client(pattern, path, line, result):
    try:
        client = relay.relay_client(pattern)
    except v.InvalidValue as exc:
        result.undecide("qmail_relay_clients", "%s: %r: %s" % (path, line, exc))
        return None
    if client.partial and not pattern.endswith("."):
        result.unsafe_line(path, line, "the partial address %r has no trailing dot: it matches no client" % pattern,
                           "written as %r" % client.pattern)
    return client.pattern


def _tcp_clients(path, rules, result):
    clients = []
    for rule in rules:
        line = rule["line"] if rule["line"] is not None else "%s:%s (from the cdb)" % (rule["address"], rule["action"])
        if rule["action"] == "allow" and "RELAYCLIENT" in rule["env"] and rule["env"]["RELAYCLIENT"] == "" and rule["address"]:
            client = _client(rule["address"], path, line, result)
            if client and client not in clients:
                clients.append(client)
        elif not (rule["address"] == "" and rule["action"] == "allow" and not rule["env"]):
            note = ("kept: the host's own rule stays in %s, before the collection's block" % path if rule["line"] is not None
                    else "LOST: only in the cdb (the rules file is gone); put it back into %s before site.yml, which "
                         "compiles the cdb from that file" % path)
            result.foreign.append({"file": path, "line": line, "variable": None, "note": note})
    return clients


def _hosts_allow_clients(data, result):
    path = data.get("hosts_allow_path") or "/etc/hosts.allow"
    clients = []
    for entry in p.hosts_allow(data.get("hosts_allow")):
        if not entry["relayclient"]:
            continue
        for pattern in entry["clients"]:
            client = _client(pattern, path, entry["line"], result)
            if client and client not in clients:
                clients.append(client)
    return clients


def report_lines(method, result):
    """What an admin reads: the method, the unsafe lines with their corrections, the foreign entries, the
    undecided items and the next step."""
    lines = ["Method: %s%s" % (method, " (%s)" % routing.METHODS[method].section if method in routing.METHODS else "")]
    for entry in result.unsafe:
        lines.append("UNSAFE %s: %s -- %s; correction: %s"
                     % (entry["file"], entry["line"] or "(file)", entry["problem"], entry["correction"]))
    for entry in result.foreign:
        lines.append("Host's own entry %s: %s -> %s" % (entry["file"], entry["line"],
                                                        entry["variable"] or entry.get("note") or "kept"))
    for entry in result.undecided:
        lines.append("UNDECIDED %s: %s" % (entry["item"], entry["reason"]))
    lines.extend("Note: %s" % note for note in result.notes)
    if result.undecided:
        lines.append("Decide the undecided items in the inventory yourself; no variables file is written while any remain.")
    lines.append("Next: ansible-playbook site.yml --check --diff (it shows the safety corrections above and nothing else).")
    return lines
