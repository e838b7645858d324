# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How qmail-send is controlled on a host: which service manager, and the command for each action.

qmail-send rereads only locals and virtualdomains on SIGHUP; everything else it
reads at start needs a restart.  The usual installations run it under
daemontools (svc), systemd, or an init script such as qmailctl.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

MANAGERS = ("auto", "daemontools", "systemd", "init", "none")
ACTIONS = ("reloaded", "restarted")


class ServiceError(ValueError):
    pass


def detect(manager, service_dir, service_name, init_script, systemd_unit, exists=os.path.exists):
    """The manager in use; 'auto' looks for a supervised qmail-send first, then systemd, then an init script."""
    if manager != "auto":
        return manager
    if exists(os.path.join(service_dir, service_name, "supervise")):
        return "daemontools"
    for unit_dir in ("/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"):
        if exists(os.path.join(unit_dir, systemd_unit)) and exists("/run/systemd/system"):
            return "systemd"
    if init_script and exists(init_script):
        return "init"
    return "none"


def command(manager, action, service_dir, service_name, init_script, systemd_unit, svc="svc"):
    """The argv that makes qmail-send reload (HUP) or restart; None when there is nothing to signal."""
    if action not in ACTIONS:
        raise ServiceError("action %r is not one of %s" % (action, ", ".join(ACTIONS)))
    if manager == "daemontools":
        return [svc, "-h" if action == "reloaded" else "-t", os.path.join(service_dir, service_name)]
    if manager == "systemd":
        if action == "reloaded":
            # qmail-start execs qmail-send, so the unit's main process is qmail-send.
            return ["systemctl", "kill", "--kill-whom=main", "--signal=HUP", systemd_unit]
        return ["systemctl", "restart", systemd_unit]
    if manager == "init":
        return [init_script, "hup" if action == "reloaded" else "restart"]
    if manager == "none":
        return None
    raise ServiceError("service manager %r is not one of %s" % (manager, ", ".join(MANAGERS)))
