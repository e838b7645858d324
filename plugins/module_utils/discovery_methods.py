# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Discovery, second half: the inventory variables of the method found, the host's own entries, the aliases,
and the round trip through routing.build_routing_table (what site.yml would replace: qmail_take_over).

Pure Python, no Ansible imports; discovery.py calls these with its Host and Result objects.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.teamware.qmail.plugins.module_utils import discovery_parse as p
from ansible_collections.teamware.qmail.plugins.module_utils import extras, ownership, routing, routing_files
from ansible_collections.teamware.qmail.plugins.module_utils import validators as v

WRAPPER = routing.DEFAULTS["qmail_delivery_wrapper"]


def method_variables(host, result, cand, teamware):
    """The variables of the method of one candidate (see discovery._candidates), read where its hook is found."""
    method = routing.METHODS[cand["method"]]
    result.variables["teamware_integration_method"] = method.name
    _READ_AT[method.hook.found_at](host, result, cand, teamware)


def _pipe_reader(reader):
    """A reader of a hook that hands mail on from a .qmail-default file: its delivery line, then ``reader``."""
    def read(host, result, cand, teamware):
        path = os.path.join(cand["home"], ".qmail-default")
        _delivery(host, result, cand["delivery"], path)
        reader(host, result, cand, teamware, path)
        for domain in result.variables.get("teamware_domains") or ():
            result.teamware_lines.add(("rcpthosts", domain))
    return read


def _virtualdomains(host, result, cand, teamware, path):
    var = result.variables
    var["teamware_domains"] = list(cand["domains"])
    var["teamware_routing_user"] = cand["user"]
    for line in cand["virtual_lines"]:
        result.teamware_lines.add(("virtualdomains", line))


def _users(host, result, cand, teamware, path):
    var = result.variables
    var["teamware_user_prefix"] = cand["assign"]["local"].lower()
    var["teamware_routing_user"] = cand["user"]
    result.teamware_lines.add(("users_assign", cand["assign"]["line"]))
    _user_domains(host, result, teamware)


def _smtproutes(host, result, cand):
    var = result.variables
    var["teamware_domains"] = list(cand["domains"])
    _relay(var, result, cand["relay"], cand["port"])
    for line in cand["route_lines"]:
        result.teamware_lines.add(("smtproutes", line))
    for domain in cand["domains"]:
        result.teamware_lines.add(("rcpthosts", domain))
    default = host.route_for("")
    if default and (default["relay"], default["port"]) == (cand["relay"], cand["port"]):
        var["teamware_default_route"] = True
        result.teamware_lines.add(("smtproutes", default["line"]))


def _relay(var, result, relay, port):
    """teamware_server / teamware_server_address / teamware_smtp_port from a relay of smtproutes."""
    if relay.startswith("["):
        var["teamware_server_address"] = relay[1:-1]
    else:
        var["teamware_server"] = relay
    var["teamware_smtp_port"] = port or 25


def _delivery(host, result, info, path):
    """Variables and unsafe lines of the line that hands mail to Teamware Office."""
    var = result.variables
    line = info["line"]
    unquoted = p.unquoted_variables(info)
    if unquoted:
        result.unsafe_line(path, line, "the qmail variable(s) %s are not in double quotes: sh splits them, and an empty "
                           "$SENDER (a bounce) shifts the arguments" % ", ".join("$" + n for n in unquoted),
                           "every variable is quoted")
    if info["type"] == "torecvm":
        _torecvm(result, info, path)
    elif info["type"] == "qmail_remote":
        _qmail_remote(host, result, info, path)
    else:
        rcpt = info["recipient"]
        if rcpt["kind"] != "rewrite" or rcpt["user_variable"] != "LOCAL":
            result.undecide("teamware_rewrite_domain", "%s: %r forwards to %r, not to \"$LOCAL\"@domain as 5.2.4 does"
                            % (path, line, rcpt["raw"]))
            return
        var["teamware_rewrite_domain"] = rcpt["domain"]
        route = host.route_for(rcpt["domain"])
        if route is None or not route["relay"]:
            result.undecide("teamware_server", "no smtproutes line routes the alias base address %s to Teamware "
                            "Office" % rcpt["domain"])
        else:
            _relay(var, result, route["relay"], route["port"])
            result.teamware_lines.add(("smtproutes", route["line"]))
    _recipient(result, info, path)


def _torecvm(result, info, path):
    var = result.variables
    options = info["options"]
    if info["program"] != routing.DEFAULTS["teamware_torecvm"]:
        var["teamware_torecvm"] = info["program"]
    root = options.get("d", "")
    if root.endswith("/smtp") and root.startswith("/"):
        if root[:-5] != routing.DEFAULTS["teamware_root"]:
            var["teamware_root"] = root[:-5]
    else:
        result.undecide("teamware_root", "%s: torecvm's -d%s is not the smtp folder of a Teamware Office root" % (path, root))
    reports = options.get("p", "A")
    if reports in routing.TORECVM_REPORTS:
        if reports != "A":
            var["teamware_torecvm_reports"] = reports
    else:
        result.undecide("teamware_torecvm_reports", "%s: torecvm's -p%s is none of -pA, -pF, -pN" % (path, reports))
    if not info["preline"]:
        result.unsafe_line(path, info["line"], "torecvm runs without preline: Teamware Office never sees Return-Path "
                           "and cannot send receipt notifications (5.1); a missing torecvm bounces the mail",
                           "torecvm runs through %s/bin/preline -f, after a check that defers (111) while torecvm is "
                           "missing" % routing.DEFAULTS["qmail_dir"])


def _qmail_remote(host, result, info, path):
    var = result.variables
    if info["bare"]:
        result.unsafe_line(path, info["line"], "a bare qmail-remote always exits 0: while Teamware Office is down or "
                           "refuses the message, qmail records success and the mail is lost",
                           "the collection's wrapper %s defers (111) or bounces (100) instead" % WRAPPER)
    elif info["program"] != host.wrapper:
        host.wrapper = info["program"]
    target = info["host"]
    route = host.route_for(target)
    relay_, port = (route["relay"], route["port"]) if route and route["relay"] else (target, None)
    if route and route["relay"]:
        result.teamware_lines.add(("smtproutes", route["line"]))
    if target.startswith("["):
        var["teamware_server_address"] = target[1:-1]
    else:
        var["teamware_server"] = target.lower()
        if relay_.startswith("["):
            var["teamware_server_address"] = relay_[1:-1]
        elif relay_.lower() != target.lower():
            result.undecide("teamware_server", "smtproutes sends %s to another name, %s; the collection routes the "
                            "server's name only to itself or to an [address]" % (target, relay_))
    var["teamware_smtp_port"] = port or 25
    if dequoted(info["sender"]) != "$SENDER":
        result.undecide("teamware_integration_method", "%s: %r does not pass \"$SENDER\" as the sender" % (path, info["line"]))


def dequoted(word):
    return p.dequote(word)[0]


def _recipient(result, info, path):
    rcpt = info["recipient"]
    if info["type"] == "forward_program":
        return
    if rcpt["kind"] == "document_sender":
        result.unsafe_line(path, info["line"], "-r\"$SENDER\"@\"$HOST\" (document 5.1.2) hands Teamware Office the "
                           "message's sender as recipient: in a virtual domain the user part is $DEFAULT",
                           "-r\"$DEFAULT\"@\"$HOST\"")
    elif rcpt["kind"] == "rewrite":
        result.variables["teamware_rewrite_domain"] = rcpt["domain"]
    elif rcpt["kind"] != "original":
        result.undecide("teamware_rewrite_domain", "%s: the recipient %r is neither the original address nor "
                        "\"$LOCAL\"/\"$DEFAULT\"@domain" % (path, rcpt["raw"]))


def _alias_routing(host, result, cand, teamware, path):
    """teamware_routing, teamware_domains and teamware_user_prefix of a ~alias/.qmail-default method."""
    var = result.variables
    guards = dict((g["variable"], g["patterns"]) for g in cand["lines"] if g["type"] == "guard")
    method = routing.METHODS[cand["method"]]
    if "HOST" in guards:
        var["teamware_domains"] = [d.lower() for d in guards["HOST"]]
        # 'tw.?*' (the prefix and a name), or 'tw.*' as earlier versions wrote it
        prefixes = [x[:-2] if x.endswith("?*") else x[:-1] for x in guards.get("LOCAL", ()) if x.endswith("*")]
        if prefixes:
            var["teamware_user_prefix"] = prefixes[0]
        routing_kind = "user" if prefixes else "domain"
    else:
        result.unsafe_line(path, cand["delivery"]["line"], "the line catches every address of every local domain that "
                           "has no user: typos and mail for qmail's own domains go to Teamware Office too",
                           "guard lines bounce (#5.1.1) what is not a Teamware Office address")
        routing_kind = _alias_kind_from_teamware(host, result, teamware)
        if routing_kind == "user":
            result.undecide("teamware_user_prefix", "the document's ~alias/.qmail-default hands Teamware Office every "
                            "unknown address; user-based routing in the collection needs the naming rule of the "
                            "Teamware addresses (e.g. tw.), which the host's files do not show")
    if "domain" in method.routing_kinds and "user" in method.routing_kinds and routing_kind:
        var["teamware_routing"] = routing_kind
    if routing_kind == "domain":
        var["qmail_local_domains"] = [d for d in host.locals if d not in var.get("teamware_domains", ())]
        for domain in var.get("teamware_domains", ()):
            result.teamware_lines.add(("locals", domain))


# Where a hook is found (methods.Hook.found_at) -> the reader of the variables there.
_READ_AT = {"alias": _pipe_reader(_alias_routing), "virtualdomains": _pipe_reader(_virtualdomains),
            "users": _pipe_reader(_users), "smtproutes": lambda host, result, cand, teamware: _smtproutes(host, result, cand)}


def _alias_kind_from_teamware(host, result, teamware):
    """Without guard lines, only tombsmtp.ini can tell which local domains are Teamware Office's."""
    var = result.variables
    rewrite = var.get("teamware_rewrite_domain")
    if routing.METHODS[var["teamware_integration_method"]].hook.forwards_to_rewrite_domain or rewrite:
        _user_domains(host, result, teamware)
        return "user"
    if not teamware["known"]:
        result.undecide("teamware_domains", "~alias/.qmail-default catches every unknown address of every local "
                        "domain (%s); which of them are Teamware Office's base addresses (and so whether routing is "
                        "by domain or by user) is not on the qmail host: give teamware_root (tombsmtp.ini)"
                        % ", ".join(host.locals))
        return None
    shared = [d for d in teamware["domains"] if d in host.locals]
    if not shared:
        result.undecide("teamware_domains", "none of tombsmtp.ini's base addresses (%s) is local for qmail"
                        % ", ".join(teamware["domains"]))
        return None
    var["teamware_domains"] = shared
    return "user" if set(shared) == set(host.locals) else "domain"


def _user_domains(host, result, teamware):
    """User-based routing: the Teamware base addresses are qmail's local domains; which ones, tombsmtp.ini says,
    or there is only one."""
    var = result.variables
    if var.get("teamware_domains"):
        return
    shared = [d for d in teamware["domains"] if d in host.locals]
    if shared:
        var["teamware_domains"] = shared
    elif len(host.locals) == 1:
        var["teamware_domains"] = list(host.locals)
    else:
        result.undecide("teamware_domains", "user-based routing shares qmail's local domains (%s); which of them are "
                        "Teamware Office's base addresses is not on the qmail host: give teamware_root (tombsmtp.ini)"
                        % ", ".join(host.locals))


def aliases(host, result):
    """qmail_aliases from ~alias/.qmail-NAME files that only forward; other files are the host's own."""
    found = {}
    for name, text in sorted(host.dot_qmail.get(host.alias_home, {}).items()):
        if not name.startswith(".qmail-") or name == ".qmail-default":
            continue
        path = os.path.join(host.alias_home, name)
        lines = [info for info in p.dot_qmail_lines(text) if info["line"]]
        marked = any(info["type"] == "marker" for info in lines)
        content = [info for info in lines if info["type"] not in ("marker", "comment")]
        alias = name[len(".qmail-"):].replace(":", ".")
        if content and all(info["type"] == "forward" for info in content):
            problems = v.Problems()
            cleaned = routing._aliases(problems, {alias: [info["address"] for info in content]})
            if cleaned:
                found.update(cleaned)
                if not marked:
                    result.foreign.append({"file": path, "line": " ".join(i["line"] for i in content),
                                           "variable": "qmail_aliases"})
                    if text != "".join("&%s\n" % a for a in cleaned[alias]):
                        result.take_over.append(path)
                continue
        if marked:
            continue
        _foreign_dot_qmail(result, path, text, lines)
    if found:
        result.variables["qmail_aliases"] = found


def _foreign_dot_qmail(result, path, text, lines):
    delivery = next((info for info in lines if info["type"] in ("torecvm", "qmail_remote")), None)
    if delivery and delivery.get("bare"):
        result.unsafe_line(path, delivery["line"], "a bare qmail-remote always exits 0: mail is lost while Teamware "
                           "Office is down", "left alone (the host's own file): make it an alias of qmail_aliases to a "
                           "Teamware address, or use %s" % WRAPPER)
    if delivery:
        result.undecide("qmail_aliases", "%s hands mail to Teamware Office by a pipe (%r); an alias needs a fixed "
                        "address" % (path, delivery["line"]))
    result.foreign.append({"file": path, "line": (text or "").split("\n", 1)[0], "variable": None,
                           "note": "kept: the collection never removes a .qmail file without its marker"})


def foreign_entries(host, result):
    """Every control and users/assign entry that is not Teamware Office's, mapped to qmail_extra_* where valid."""
    var = result.variables
    if "qmail_local_domains" not in var:
        var["qmail_local_domains"] = list(host.locals)
    if host.locals_missing:
        result.notes.append("control/locals is missing (qmail takes control/me); the collection writes locals.")
    own = set(var.get("teamware_domains") or ()) | set(var["qmail_local_domains"])
    _extra(result, "qmail_extra_rcpthosts", "control/rcpthosts",
           [(d, d) for d in host.rcpthosts or () if d.lower() not in own],
           lambda problems, d: extras.rcpthosts(problems, [d], {}))
    _extra(result, "qmail_extra_virtualdomains", "control/virtualdomains",
           [(line, {"domain": key, "prepend": value}) for key, value, line in host.virtual
            if ("virtualdomains", line) not in result.teamware_lines],
           lambda problems, e: extras.virtualdomains(problems, [e], {}))
    routes = []
    for key, value, line in host.routes:
        if ("smtproutes", line) not in result.teamware_lines:
            relay_, port = p.route_value(value)
            routes.append((line, dict([("domain", key), ("relay", relay_)] + ([("port", port)] if port else []))))
    _extra(result, "qmail_extra_smtproutes", "control/smtproutes", routes, lambda problems, e: routing._routes(problems, [e]))
    users = [(e["line"], _user_entry(e)) for e in host.assign if ("users_assign", e["line"]) not in result.teamware_lines]
    _extra(result, "qmail_extra_users", host.assign_source, users,
           lambda problems, e: extras.users(problems, [e], var.get("teamware_user_prefix")) if e else problems.add("x", "malformed"))
    for domain in host.morercpthosts:
        result.foreign.append({"file": "control/morercpthosts", "line": domain, "variable": None,
                               "note": "kept: the collection never writes morercpthosts"})


def _user_entry(entry):
    if not entry["ok"] or not entry["uid"].isdigit() or not entry["gid"].isdigit():
        return None
    found = {"address" if entry["exact"] else "prefix": entry["local"], "user": entry["user"], "uid": int(entry["uid"]),
             "gid": int(entry["gid"]), "home": entry["home"]}
    if entry["dash"] != ("" if entry["exact"] else "-"):
        found["dash"] = entry["dash"]
    if entry["ext"]:
        found["extension"] = entry["ext"]
    return found


def _extra(result, variable, path, entries, check):
    values = []
    for line, value in entries:
        problems = v.Problems()
        check(problems, value)
        if problems.items or value is None:
            result.foreign.append({"file": path, "line": line, "variable": None,
                                   "note": "kept as the host's own, not declared: %s"
                                   % "; ".join(m for _n, m in problems.items) if problems.items else "malformed"})
            continue
        values.append(value)
        result.foreign.append({"file": path, "line": line, "variable": variable})
    if values:
        result.variables[variable] = values


def accounts(host, result):
    user = result.variables.get("teamware_routing_user") or routing.DEFAULTS["teamware_routing_user"]
    entry = host.passwd.get(user)
    routing_account = routing.Account(user, int(entry["uid"]), int(entry["gid"]), entry["home"]) if entry else None
    alias = host.passwd.get("alias")
    alias_account = routing.Account("alias", int(alias["uid"]), int(alias["gid"]), alias["home"]) if alias else \
        routing.Account("alias", None, None, host.alias_home)
    return routing_account, alias_account


def check_round_trip(host, result):
    """Build the routing table from the variables found: invalid variables are undecided; host lines and .qmail
    files the collection would replace are qmail_take_over (when they are Teamware's) and corrections."""
    var = result.variables
    settings = dict((k, val) for k, val in var.items() if k in routing.DEFAULTS)
    if any(u["item"] != "qmail_smtp_front_end" and u["item"] != "qmail_relay_clients" for u in result.undecided):
        return
    routing_account, alias_account = accounts(host, result)
    try:
        table = routing.compute(settings, routing_account, alias_account, sorted(host.passwd))
    except v.ValidationError as exc:
        result.undecide("inventory", "the variables found do not pass the collection's checks: %s" % exc)
        return
    take_over = list(result.take_over)
    desired = dict((kind, [x for x in (table["control"].get(kind) if kind != "users_assign" else table["users_assign"])
                           if x != "."]) for kind, _n in ownership.LINE_FILES)
    claims = ownership.Claims(desired, table.get("user_prefix"))
    for kind, name in ownership.LINE_FILES:
        for conflict in ownership.merge(kind, _host_lines(host, kind), desired[kind], set(), "keep", claims).conflicts:
            if (kind, conflict["line"]) in result.teamware_lines:
                take_over.append(conflict["entry"])
            else:
                result.undecide("qmail_take_over", "%s: %r %s" % (name, conflict["line"], conflict["reason"]))
    for entry in table["dot_qmail"]:
        current = host.dot_text(os.path.dirname(entry["path"]), os.path.basename(entry["path"]))
        wanted = "".join(line + "\n" for line in entry["lines"][1:])
        if current is not None and not routing_files.is_marked(current) and current != wanted:
            if entry["path"] not in take_over:
                take_over.append(entry["path"])
            for unsafe in result.unsafe:
                if unsafe["file"] == entry["path"]:
                    unsafe["site_yml_writes"] = entry["lines"][1:]
    if take_over:
        var["qmail_take_over"] = take_over


def _host_lines(host, kind):
    if kind == "users_assign":
        return [e["line"] for e in host.assign]
    if kind == "virtualdomains":
        return [line for _k, _v, line in host.virtual]
    if kind == "smtproutes":
        return [line for _k, _v, line in host.routes]
    if kind == "locals":
        return list(host.locals) if not host.locals_missing else []
    return list(host.rcpthosts or ())
