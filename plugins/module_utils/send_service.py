# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""qmail-send's daemontools service, for teamware.qmail.routing_table's send_service option.

The two run scripts, and every change to the service directory, planned with relay.ServiceDirectory (the same
layout as tcpserver's: built in supervise_dir/name, linked into the scan directory last); Part is one call's work
(checked in full before anything changes, then applied), imported by routing_table only when the option is set.  qmail-start reads its
default delivery only at start: a run script that existed and changed means qmail-send must be restarted; a new
one is started by supervise itself.  The restart leaves no trace on the host, so it is recorded in the service
directory's state file (owed_actions) before the run script changes, and reported on every call until the caller
says it ran (completed_actions): a run killed in between is finished by the next one.  Pure Python, no Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import pwd
import shlex

from ansible_collections.teamware.qmail.plugins.module_utils import files
from ansible_collections.teamware.qmail.plugins.module_utils import owed_actions
from ansible_collections.teamware.qmail.plugins.module_utils import relay
from ansible_collections.teamware.qmail.plugins.module_utils import validators
from ansible_collections.teamware.qmail.plugins.module_utils.validators import Problems, ValidationError

PATH_TAIL = "/usr/local/bin:/usr/bin:/bin"
# In qmail-send's service directory (supervise looks only at run, log, down and supervise/).
STATE_NAME = owed_actions.STATE_NAME
OWED_ACTIONS = ("restart_qmail_send",)


class SendService:
    """The settings of qmail-send's service, each checked and named by its role variable."""

    def __init__(self, service, qmail_dir, default_delivery, log_user):
        self.service = service
        self.qmail_dir = qmail_dir
        self.default_delivery = default_delivery
        self.log_user = log_user

    @classmethod
    def from_vars(cls, qmail_dir, service_dir, service_name, default_delivery, log_user):
        """The service is built in qmail_dir/supervise/service_name and linked as service_dir/service_name."""
        problems = Problems()
        qmail = problems.check("qmail_dir", validators.absolute_path, qmail_dir)
        scan = problems.check("qmail_service_dir", validators.absolute_path, service_dir)
        name = problems.check("qmail_send_service_name", relay.service_directory_name, service_name)
        delivery = problems.check("qmail_default_delivery", _default_delivery, default_delivery)
        user = problems.check("log_user", validators.user_name, log_user)
        inside = (os.path.join(qmail, "supervise"), os.path.join(qmail, "supervise", name)) if qmail and name else ()
        if scan and inside and os.path.join(scan, name) in inside:
            problems.add("qmail_service_dir", "qmail-send's service is built in %s/supervise and linked into the scan "
                                              "directory %s: they must differ" % (qmail, scan))
        problems.raise_if_any()
        service = relay.ServiceDirectory(os.path.join(qmail, "supervise"), scan, name, prefix="qmail_")
        return cls(service, qmail, delivery, user)

    def run_script(self):
        lines = [
            "#!/bin/sh",
            relay.MARKER,
            "# qmail-send under daemontools; qmail-start reads the default delivery only at start.",
            "exec env - PATH=%s qmail-start %s" % (shlex.quote("%s/bin:%s" % (self.qmail_dir, PATH_TAIL)),
                                                   shlex.quote(self.default_delivery)),
        ]
        return "".join(line + "\n" for line in lines)

    def log_run_script(self):
        lines = ["#!/bin/sh", relay.MARKER, "exec setuidgid %s multilog t ./main" % self.log_user]
        return "".join(line + "\n" for line in lines)

    def plan(self, log_uid):
        """Every change, in the order it is applied (the link last); ValidationError before anything changes."""
        return self.service.plan(self.run_script(), self.log_run_script(), "multilog", log_uid)


def _default_delivery(value):
    return validators._text(value, "default delivery")  # pylint: disable=protected-access


def restart_needed(changes):
    """Whether the planned changes make a restart of qmail-send owed: its run script existed and its content changes."""
    return any(c["kind"] == "run script" and c["action"] == "write" and "content" in c["reasons"] for c in changes)


def owed_state(service, changes, completed):
    """(owed actions, FileState of the state file): what an earlier call recorded and nobody said ran, plus what the
    planned changes make owed (owed_actions).  A state file that is not ours raises ValidationError (nothing changes)."""
    path = os.path.join(service.real_dir, STATE_NAME)
    try:
        return owed_actions.owed_state(path, OWED_ACTIONS, completed,
                                       ["restart_qmail_send"] if restart_needed(changes) else [],
                                       "teamware.qmail routing_table (send_service): owed to qmail-send; the qmail role "
                                       "clears it when it ran")
    except owed_actions.StateFileError as exc:
        raise ValidationError([("qmail_send_service_name", "%s; move it away (qmail-send may need svc -t %s)"
                                % (exc, service.real_dir))])


def log_user_id(accounts, name, check_mode, warn):
    """The uid of the log user, from accounts (qmail_accounts) or else passwd; None in check mode when it does not
    exist yet (warn says so)."""
    account = accounts.get(name)
    if account is not None:
        if not isinstance(account, dict) or not isinstance(account.get("uid"), int) or isinstance(account.get("uid"), bool):
            raise ValidationError([("qmail_accounts", "%s: uid must be a number" % name)])
        return account["uid"]
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        if not check_mode:
            raise ValidationError([("log_user", "user %s does not exist; install qmail first" % name)])
        warn("log_user: %s does not exist yet (check mode): the owner of log/main is not checked" % name)
        return None


class Part:
    """One call's work on qmail-send's service (routing_table's send_service): every change planned and checked on
    creation (ValidationError before anything changes), applied with apply: the owed restart on disk before the run
    script changes, the link last (or, new while the routing owes follow-up work, in a later call: defer_new_link)."""

    def __init__(self, options, qmail_dir, accounts, completed, check_mode, warn):
        """options: send_service's service_dir, service_name, default_delivery, log_user; completed: the call's
        completed_actions (only OWED_ACTIONS concern the service)."""
        self.settings = SendService.from_vars(qmail_dir, options["service_dir"], options["service_name"],
                                              options["default_delivery"], options["log_user"])
        self.changes = self.settings.plan(log_user_id(accounts, self.settings.log_user, check_mode, warn))
        self.owed, self.owed_file = owed_state(self.settings.service, self.changes,
                                               [action for action in completed if action in OWED_ACTIONS])
        self.state_change = files.plan(self.owed_file)
        self.link_deferred = False

    def defer_new_link(self, follow_up_owed, check_mode):
        """A link that does not exist yet is left out when the routing of the same call still owes follow-up work
        (the routing user, qmail-newu, the HUP, stale files): svscan would start qmail-send within 5 s, before users/cdb
        is rebuilt.  The caller makes another call once that ran.  In check mode the link stays among the changes (it
        is created later in the same run), so that a look still shows it; link_deferred is reported either way."""
        new = [c for c in self.changes if c["kind"] == "link" and c["reasons"] == ["create"]]
        self.link_deferred = bool(follow_up_owed and new)
        if self.link_deferred and not check_mode:
            self.changes = [c for c in self.changes if c not in new]

    def all_changes(self):
        """Every change with the state file's (last: it is written first, but reported after what it is for)."""
        return self.changes + ([self.state_change] if self.state_change else [])

    def apply(self):
        """Write it all; OSError when the host refuses."""
        if self.state_change:
            files.apply(self.owed_file)
        self.settings.service.apply(self.changes)

    def result(self):
        """The send_service entry of routing_table's result."""
        return dict(changes=[relay.change_summary(c) for c in self.all_changes()],
                    restart_needed="restart_qmail_send" in self.owed, link_deferred=self.link_deferred,
                    run_script=self.settings.run_script())

    def diff(self):
        return [relay.diff_entry(c) for c in self.all_changes()]
