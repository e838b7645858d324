# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""qmail-send's daemontools service, for teamware.qmail.qmail_send_service.

The two run scripts, and every change to the service directory, planned with relay.ServiceDirectory (the same
layout as tcpserver's: built in supervise_dir/name, linked into the scan directory last).  qmail-start reads its
default delivery only at start: a run script that existed and changed means qmail-send must be restarted; a new
one is started by supervise itself.  The restart leaves no trace on the host, so it is recorded in the service
directory's state file (owed_actions) before the run script changes, and reported on every call until the caller
says it ran (completed_actions): a run killed in between is finished by the next one.  Pure Python, no Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shlex

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
                                       "teamware.qmail qmail_send_service: owed to qmail-send; the qmail role clears it "
                                       "when it ran")
    except owed_actions.StateFileError as exc:
        raise ValidationError([("qmail_send_service_name", "%s; move it away (qmail-send may need svc -t %s)"
                                % (exc, service.real_dir))])
