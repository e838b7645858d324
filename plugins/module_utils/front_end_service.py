# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SMTP front ends as running services, for teamware.qmail.relay_rules.

* whether the front end that was not chosen still serves the SMTP port;
* taking tcpserver's service out of svscan's scan directory and stopping it;
* what a run owes tcpserver (a restart after its run script changed): recorded in the service directory's state
  file (owed_actions) before the run script changes, and reported on every call until the caller says it ran, so
  that a run killed in between is finished by the next one;
* whether the chosen front end runs (supervise and svstat for tcpserver, the pid file for inetd), and whether
  qmail-smtpd's 220 greeting answers on its port (smtp_banner).

The functions take the AnsibleModule for run_command, get_bin_path, warn and fail_json.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import os
import pwd
import re
import time

from ansible_collections.teamware.qmail.plugins.module_utils import files
from ansible_collections.teamware.qmail.plugins.module_utils import front_end_files
from ansible_collections.teamware.qmail.plugins.module_utils import front_end_settings
from ansible_collections.teamware.qmail.plugins.module_utils import owed_actions
from ansible_collections.teamware.qmail.plugins.module_utils import port_holders
from ansible_collections.teamware.qmail.plugins.module_utils import relay
from ansible_collections.teamware.qmail.plugins.module_utils import smtp_banner
from ansible_collections.teamware.qmail.plugins.module_utils.validators import ValidationError

DEFAULT_MARKER = front_end_files.HOSTS_ALLOW_MARKER
# In tcpserver's service directory (supervise looks only at run, log, down and supervise/).
STATE_NAME = owed_actions.STATE_NAME
# What a run can owe the front end, in the order the role carries it out: tcpserver's (ucspi_tcp role), inetd's (inetd
# role: reread inetd.conf).
TCPSERVER_ACTIONS = ("restart_tcpserver", "restart_logger")
INETD_ACTIONS = ("hup_inetd",)
OWED_ACTIONS = TCPSERVER_ACTIONS + INETD_ACTIONS
_OWED_BY_KIND = {"run script": "restart_tcpserver", "log run script": "restart_logger"}


def read_file(module, path):
    try:
        return files.read_text(path)
    except OSError as exc:
        module.fail_json(msg="could not read %s: %s" % (path, exc))


def find_program(module, program):
    """An absolute path must be an executable file; a name is looked up like get_bin_path (PATH and the sbin dirs)."""
    if os.path.isabs(program):
        return os.path.isfile(program) and os.access(program, os.X_OK)
    return module.get_bin_path(program) is not None


# ---- tcpserver under daemontools ------------------------------------------------------------------------------


def account_ids(module, prefix):
    """uid/gid for tcpserver's -u/-g: the options, else looked up on the host (pwd, grp); None when missing."""
    params = module.params
    uid, gid = params["uid"], params["gid"]
    if uid is None:
        try:
            uid = pwd.getpwnam(params["user"]).pw_uid
        except KeyError:
            uid = None
    if gid is None:
        try:
            gid = grp.getgrnam(params["group"]).gr_gid
        except KeyError:
            gid = None
    if uid is None or gid is None:
        if not module.check_mode:
            raise ValidationError([(prefix + "user", "the numeric uid of %s and gid of %s are needed for tcpserver's -u and -g: "
                                    "user %s or group %s does not exist; install qmail (teamware.qmail.qmail) first"
                                    % (params["user"], params["group"], params["user"], params["group"]))])
        module.warn("%suser: %s or %sgroup: %s does not exist yet (check mode): the run script shows UNKNOWN ids"
                    % (prefix, params["user"], prefix, params["group"]))
    return uid, gid


def log_user_id(module, prefix):
    """The uid that owns multilog's directory; None in check mode when the account is not there yet."""
    name = module.params["log_user"]
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        if not module.check_mode:
            raise ValidationError([(prefix + "log_user", "user %s does not exist; install qmail (teamware.qmail.qmail) first" % name)])
        module.warn("%slog_user: %s does not exist yet (check mode): the owner of log/main is not checked" % (prefix, name))
        return None


def supervised(module, service):
    """Whether supervise runs the service (svok); false without daemontools."""
    svok = module.get_bin_path("svok")
    return bool(svok) and module.run_command([svok, service.real_dir])[0] == 0


def service_up(module, service):
    """Whether svstat says the supervised service is up (its run script runs)."""
    svstat = module.get_bin_path("svstat")
    if not svstat:
        return False
    rc, out, _err = module.run_command([svstat, service.real_dir])
    return rc == 0 and re.search(r":\s+up\b", out or "") is not None


def run_svc_tools(module, service):
    """Stop a supervised service: svok, then svc -dx on it and its log service. Returns whether it ran."""
    if not supervised(module, service):
        return False
    if not module.check_mode:
        svc = module.get_bin_path("svc", required=True)
        rc, out, err = module.run_command([svc, "-dx", service.real_dir, os.path.join(service.real_dir, "log")])
        if rc != 0:
            module.fail_json(msg="svc -dx %s failed (rc %d): %s" % (service.real_dir, rc, (err or out).strip()))
    return True


def service_absent(module, service):
    """daemontools' way to remove a service: out of the scan directory first (so that svscan does not
    start it again), then supervise is told to stop the service and its logger and to exit."""
    change = service.plan_absent()
    if change and not module.check_mode:
        try:
            service.remove_link()
        except OSError as exc:
            module.fail_json(msg="could not remove %s: %s" % (service.link, exc))
    changes = [change] if change else []
    if run_svc_tools(module, service):
        changes.append({"path": service.real_dir, "kind": "service", "action": "stop", "reasons": ["supervised"],
                        "before": "supervised\n", "after": "stopped\n"})
    result = dict(changed=bool(changes), lines=[], changes=[relay.change_summary(c) for c in changes], rules_changed=False,
                  cdb_rebuilt=False, cdb_reason="", run_script_changed=False, log_run_script_changed=False, owed_actions=[])
    if module._diff and changes:  # pylint: disable=protected-access
        result["diff"] = [relay.diff_entry(c) for c in changes]
    return result


def state_path(service):
    return os.path.join(service.real_dir, STATE_NAME)


def owed_state(module, service, service_changes, completed):
    """(owed actions, FileState of the state file): what was owed before and not completed, plus the restarts that the
    planned changes make owed (a run script that exists and changes; a new one is started by supervise itself)."""
    new = [_OWED_BY_KIND[change["kind"]] for change in service_changes
           if change["kind"] in _OWED_BY_KIND and change["action"] == "write" and "content" in change["reasons"]]
    try:
        return owed_actions.owed_state(state_path(service), TCPSERVER_ACTIONS,
                                       [action for action in completed if action in TCPSERVER_ACTIONS], new,
                                       "teamware.qmail relay_rules: restarts owed to this service; the ucspi_tcp role "
                                       "clears them when they ran")
    except owed_actions.StateFileError as exc:
        module.fail_json(msg="%s; move it away (tcpserver may need svc -t %s), nothing changed" % (exc, service.real_dir))
    return [], None


def tcpserver_status(module, service):
    """running: supervise runs the service and svstat says up; with why it does not, for a message."""
    if service is None:
        return {"running": None, "why": "no service directory"}
    if not supervised(module, service):
        return {"running": False, "supervised": False,
                "why": "supervise does not run %s: is svscan running on %s? (start daemontools: svscanboot or its service)"
                       % (service.real_dir, service.scan_dir)}
    if not service_up(module, service):
        return {"running": False, "supervised": True, "why": "svstat %s says it is not up (svc -u starts it)" % service.real_dir}
    return {"running": True, "supervised": True, "why": ""}


# ---- inetd ---------------------------------------------------------------------------------------------------


def inetd_status(pid_file, program):
    """running: the pid in pid_file is a live process of program (as start-stop-daemon --pidfile --exec sees it)."""
    text = files.read_text(pid_file) if pid_file else None
    pid = (text or "").strip()
    if not pid.isdigit():
        return {"running": False, "why": "inetd is not running: no pid in %s" % pid_file}
    try:
        exe = os.readlink("/proc/%s/exe" % pid)
    except OSError:
        return {"running": False, "why": "inetd is not running: no process %s (%s)" % (pid, pid_file)}
    if program and os.path.realpath(exe.replace(" (deleted)", "")) != os.path.realpath(program):
        return {"running": False, "why": "process %s of %s is %s, not %s" % (pid, pid_file, exe, program)}
    return {"running": True, "why": ""}


def inetd_holds_port(pid_file, program, port):
    """Whether inetd (a live program in pid_file) listens on port: it still serves the SMTP line of the inetd.conf it
    read last, and runs tcpd, which reads hosts.allow, for every connection there.  Its sockets are looked up in its
    own /proc/PID/fd and /proc/PID/net/tcp{,6} (its network namespace).  An inetd that runs but whose sockets cannot be
    read is taken to hold it; an inetd that is not running (no live program in pid_file) holds nothing."""
    if not inetd_status(pid_file, program)["running"]:
        return False
    pid = (files.read_text(pid_file) or "").strip()
    try:
        number = smtp_banner.port_number(port)
    except smtp_banner.BannerError:
        return True
    try:
        sockets = port_holders.socket_inodes(pid)
        listening = set()
        for table in ("tcp", "tcp6"):
            listening |= port_holders.listening_inodes(files.read_text("/proc/%s/net/%s" % (pid, table)), number)
    except OSError:
        return True
    return bool(sockets & listening)


# The front ends' programs as /proc names them (comm, or the basename of exe): ucspi-tcp's tcpserver, openbsd-inetd's
# /usr/sbin/inetd (Debian, the lab), inetutils' inetutils-inetd; relay_rules adds the basename of its inetd_program.
FRONT_END_PROGRAMS = ("tcpserver", "inetd", "inetutils-inetd")


def port_taken(module, params, proc="/proc"):
    """Who listens on the chosen front end's port at an address that overlaps its bind address (port_holders.holders).

    A program that is neither front end (postfix, exim, sendmail...) fails the call before anything changes, naming
    the port, the program and its pid; tcpserver and inetd are left to the switching between them (other_front_end).
    A listener whose process cannot be read (as non-root) is only reported. Returns the holders (port_holders).
    """
    try:
        number = smtp_banner.port_number(params["port"])
    except smtp_banner.BannerError:
        return []
    inetd = params["inetd_program"] or "inetd"
    names = FRONT_END_PROGRAMS + (os.path.basename(inetd), os.path.basename(os.path.realpath(inetd)))
    found = port_holders.holders(number, params["bind_address"], names, proc)
    foreign = [holder for holder in found if holder["foreign"]]
    if foreign:
        own = "tcpserver" if params["format"] == "tcprules" else "inetd"
        module.fail_json(msg="%sport: port %d is held by %s, which is neither tcpserver nor inetd, so %s cannot serve "
                         "qmail-smtpd there: stop it and disable it, then run again; nothing changed"
                         % (params["variable_prefix"] or "", number, ", ".join(port_holders.describe(h) for h in foreign), own),
                         port_holders=found)
    return found


# ---- the other front end -------------------------------------------------------------------------------------


# The keys of relay_rules' other_front_end that other_front_end_active reads, by the other's kind and state: the roles
# hand them complete (site.yml from qmail_site.front_end_values, a role alone through the front_end_values filter), so
# that the module carries none of the roles' defaults.
OTHER_KEYS = {
    ("inetd", "absent"): ("inetd_conf", "hosts_allow", "hosts_allow_marker", "port", "qmail_dir", "tcpd", "user",
                          "bind_address"),
    ("tcpserver", "absent"): ("supervise_dir", "service_dir", "service_name"),
    ("inetd", "present"): ("port", "bind_address"),
    ("tcpserver", "present"): ("port", "bind_address"),
}


def _other_values(module, params, other):
    """other's kind and state checked, and every key it needs there (OTHER_KEYS), before anything is looked at."""
    name = (params.get("variable_prefix") or "") + "other_front_end"
    kind = other.get("kind")
    if kind not in front_end_settings.ROLES:
        module.fail_json(msg="%s: kind must be inetd or tcpserver, not %r" % (name, kind))
    missing = [key for key in OTHER_KEYS[kind, other["state"]] if other.get(key) is None]
    if missing:
        module.fail_json(msg="%s: %s missing (%s, state %s); give every value of the other front end (the roles hand "
                         "them complete), nothing changed" % (name, ", ".join(missing), kind, other["state"]))
    return kind


def other_front_end_active(module, params, other):
    """Whether the other front end still serves (or is set up to serve) the SMTP port, with its role's state absent.

    other (relay_rules' other_front_end): its state decides. absent (the one site.yml did not choose): inetd, an
    active inetd.conf line for its port or its qmail-smtpd, or the relay block in hosts.allow (what the inetd role's
    absent state removes); tcpserver, its link in the scan directory, or supervise still running it (what the
    ucspi_tcp role's absent state removes and stops).  present (both roles in one play): fails where both would serve
    the same port and address (front_end_settings.both_serve_port, the one check of that), else False.  Unset: its
    role is not part of the run, False.  The keys it reads must all be there (OTHER_KEYS).
    """
    if not other or other.get("state") not in ("present", "absent"):
        return False
    kind = _other_values(module, params, other)
    if other["state"] == "present":
        own = front_end_settings.other_kind(kind)
        problem = front_end_settings.both_serve_port(own, params["port"], params["bind_address"], other)
        if problem:
            module.fail_json(msg="%s; nothing changed" % problem)
        return False
    if kind == "inetd":
        settings = relay.InetdSettings.from_vars(
            prefix="inetd_", qmail_dir=other["qmail_dir"], tcpd=other["tcpd"], user=other["user"],
            bind_address=other["bind_address"], port=str(other["port"]))
        inetd_conf = read_file(module, other["inetd_conf"])
        hosts_allow = read_file(module, other["hosts_allow"])
        return bool(front_end_files.matching_lines(inetd_conf, settings.service_regexp())) or front_end_files.has_block(
            hosts_allow, other["hosts_allow_marker"])
    service = relay.ServiceDirectory.from_vars(other["supervise_dir"], other["service_dir"], other["service_name"],
                                               "ucspi_tcp_")
    return os.path.lexists(service.link) or supervised(module, service)


# ---- is it serving? ------------------------------------------------------------------------------------------


def serving(module, params, look):
    """smtp_banner (O(smtp_banner) of relay_rules): qmail-smtpd's greeting on the front end's own address and port.

    look() says whether the front end runs (tcpserver_status or inetd_status). With a wait, both are asked again every
    half second until both are good or the time is up (a front end that was just started).  Returns the result
    keys running, supervised, smtp_banner and front_end_problem; with required, fails (outside check mode) naming why
    nothing serves the port.
    """
    options = params["smtp_banner"]
    host = options.get("host")
    if host is None:
        host = params["bind_address"] or ""
    deadline = time.time() + (options.get("wait") or 0)
    greeting = smtp_banner.expected_greeting(params["qmail_dir"])
    tries = 0
    while True:
        try:
            banner = smtp_banner.check(host, options.get("port") or params["port"],
                                       options.get("timeout") or smtp_banner.DEFAULT_TIMEOUT, greeting=greeting)
        except smtp_banner.BannerError as exc:
            module.fail_json(msg="smtp_banner: %s" % exc)
        status = look()
        tries += 1
        if (banner["ok"] and status["running"] is not False) or time.time() >= deadline:
            break
        time.sleep(0.5)
    banner["tries"] = tries
    problem = status["why"] if status["running"] is False else ("" if banner["ok"] else smtp_banner.describe(banner))
    banner["summary"] = smtp_banner.describe(banner)
    if problem and options.get("required"):
        if module.check_mode:
            module.warn("check mode: %s (a real run starts the front end first)" % problem)
        else:
            module.fail_json(msg="Nothing serves SMTP on %s:%d as qmail-smtpd: %s" % (banner["host"], banner["port"], problem),
                             smtp_banner=banner, running=status["running"])
    return {"running": status["running"], "smtp_banner": banner, "front_end_problem": problem,
            "supervised": status.get("supervised")}


def write_file(module, state):
    try:
        files.apply(state)
    except OSError as exc:
        module.fail_json(msg="could not write %s: %s" % (state.path, exc))


def write_tcprules(module, tcprules, state, change, reason, rules_cdb):
    """The rules file, then the cdb compiled from the complete new rules file."""
    if change:
        write_file(module, state)
    if reason:
        # tcprules writes CDB.tmp, then renames it onto CDB; the input is the complete new rules file.
        with open(state.path, "rb") as handle:
            content = handle.read()
        rc, out, err = module.run_command([tcprules, rules_cdb, rules_cdb + ".tmp"], data=content, binary_data=True)
        if rc != 0:
            module.fail_json(msg="tcprules failed (rc %d), %s left as it was: %s" % (rc, rules_cdb, (err or out).strip()),
                             rules_changed=change is not None)
