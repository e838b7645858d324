# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""routing_table's send_service option: qmail-send's daemontools service directory, in the same call."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  send_service:
    description:
      - Also own qmail-send's daemontools service (the qmail role's C(qmail_send_service_manage)); omitted, the module
        does not touch it. It is built in O(qmail_dir)C(/supervise/)O(send_service.service_name) and linked into the
        scan directory O(send_service.service_dir) last, so that svscan sees the service only when C(run), C(log/run)
        and C(log/main) are in place (svscan decides at first sight whether a service has a log service).
      - The directories are root-owned, mode 0755; C(log/main) belongs to O(send_service.log_user) (its C(uid) from
        O(qmail_accounts), else the passwd database). C(run) and C(log/run) (root, 0755) are written atomically.
        C(run) starts C(qmail-start) with O(send_service.default_delivery) and a clean environment; C(log/run) runs
        C(multilog t ./main) as O(send_service.log_user).
      - Everything is checked before anything changes (the routing files included); then the routing files are
        written, then the service, its link last. When the call writes nothing of the routing because the routing
        user is missing (RV(routing_user_needed)), it writes nothing of the service either.
      - svscan starts a NEW service within 5 seconds of its link. While the routing of the same call still owes
        follow-up work (RV(routing_user_needed), C(qmail-newu) or the HUP in RV(actions), RV(stale) files left with
        O(remove_stale=false)), a link that does not exist yet is therefore not created, and
        RV(send_service.link_deferred) says so; the rest of the service is written. Otherwise the new qmail-send could
        deliver queued mail before C(users/cdb) is rebuilt (with the users methods, C(+tw.) is only in
        C(users/assign), so C(tw.*) mail would go through C(qmail-getpw) and bounce). The caller makes one more call
        once that work ran (and was reported with O(completed_actions)); with no follow-up left, it creates the link.
        In check mode the link stays in RV(send_service.changes) (the run creates it later) and
        RV(send_service.link_deferred) is reported all the same. A link that exists and points elsewhere is set right
        at once.
      - qmail-start reads the default delivery only at start. RV(send_service.restart_needed) tells whether qmail-send
        must be restarted (its run script existed and changed); the module never restarts it
        (M(teamware.qmail.qmail_service) does). A restart leaves no trace on the host, so the module records it in
        C(teamware-qmail.json) in the service directory before it changes the run script, and reports it on every
        call until O(completed_actions) says it ran (V(restart_qmail_send)), so that a run killed in between is
        finished by the next one.
      - A name in the scan directory that is not a symbolic link belongs to somebody else; the module fails and
        changes nothing.
    type: dict
    suboptions:
      service_dir:
        description: The daemontools scan directory (created, root 0755, when missing).
        type: path
        default: /service
      service_name:
        description: The name of qmail-send's service directory, in C(supervise) and in O(send_service.service_dir).
        type: str
        default: qmail-send
      default_delivery:
        description: The default delivery instruction that C(qmail-start) passes on, e.g. C(./Maildir/) or C(./Mailbox).
        type: str
        default: ./Maildir/
      log_user:
        description: The user that runs multilog and owns C(log/main).
        type: str
        default: qmaill
"""
