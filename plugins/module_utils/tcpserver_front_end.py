# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tcpserver as teamware.qmail.relay_rules (format tcprules) writes it: the rules file, its cdb and the service.

Everything is planned (and every check made) before anything changes: the host's own rules that contradict the relay
clients stop the run (front_end_ownership), the rules file is replaced atomically and compiled into the cdb with
tcprules from the complete new file, and the daemontools service directory is built and linked last
(relay.ServiceDirectory).  What a changed run script owes tcpserver (a restart) is recorded before it changes
(front_end_service).

The functions take the AnsibleModule for its options, run_command, get_bin_path and fail_json.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.teamware.qmail.plugins.module_utils import files
from ansible_collections.teamware.qmail.plugins.module_utils import front_end_files
from ansible_collections.teamware.qmail.plugins.module_utils import front_end_ownership
from ansible_collections.teamware.qmail.plugins.module_utils import front_end_service
from ansible_collections.teamware.qmail.plugins.module_utils import relay

read_file = front_end_service.read_file


def service_directory(module, prefix):
    params = module.params
    if not params["supervise_dir"]:
        return None
    return relay.ServiceDirectory.from_vars(params["supervise_dir"], params["service_dir"], params["service_name"], prefix)


def tcprules_format(module, clients, prefix):
    params = module.params
    rules_file, rules_cdb = relay.rules_paths(prefix, params["rules_file"], params["rules_cdb"])
    service = service_directory(module, prefix)
    result = {}
    settings = None
    if params["run_script"] or service:
        settings = relay.TcpserverSettings.from_vars(
            prefix=prefix, rules_cdb=rules_cdb, uid=params["uid"], gid=params["gid"],
            bind_address="0" if params["bind_address"] is None else params["bind_address"], port=params["port"],
            qmail_dir=params["qmail_dir"], log_level=params["log_level"], logger=params["logger"],
            log_user=params["log_user"], probe=params["probe"], extra_options=params["extra_options"],
            user=params["user"], group=params["group"])
        settings.uid, settings.gid = front_end_service.account_ids(module, prefix)
        result.update(run_script=settings.run_script(), log_run_script=settings.log_run_script(), command=settings.argv())

    # Everything is planned (and every check made) before anything changes.
    service_changes = []
    if service:
        log_uid = front_end_service.log_user_id(module, prefix) if settings.logger == "multilog" else None
        service_changes = service.plan(result["run_script"], result["log_run_script"], settings.logger, log_uid)

    # The host's own rules stay, in their order; those that contradict the relay clients stop the run.
    merged = front_end_ownership.merge_rules(rules_file, read_file(module, rules_file), clients, params["take_over"])
    if merged.conflicts:
        module.fail_json(msg=front_end_ownership.render_conflicts(merged.conflicts), conflicts=merged.conflicts)
    content = front_end_ownership.render_rules(merged, clients)
    lines = content.splitlines()
    state = files.FileState(rules_file, content, mode=0o644, kind="rules")
    directory = os.path.dirname(rules_file)
    if not os.path.isdir(directory) and not module.check_mode:
        module.fail_json(msg="%srules_file: directory %s does not exist" % (prefix, directory))
    tcprules = module.get_bin_path(params["tcprules"], required=not module.check_mode)

    change = files.plan(state)
    reason = front_end_files.cdb_reason(rules_file, rules_cdb, change)
    changes = [change] if change else []
    if reason:
        changes.append({"path": rules_cdb, "kind": "cdb", "action": "write", "reasons": [reason],
                        "before": "", "after": ""})

    # What a changed run script owes tcpserver is recorded before the script changes (see front_end_service).
    owed, state_change = [], None
    if service:
        owed, owed_file = front_end_service.owed_state(module, service, service_changes, params["completed_actions"])
        state_change = files.plan(owed_file)
        if state_change:
            state_change["state"] = owed_file
    if not module.check_mode:
        front_end_service.write_tcprules(module, tcprules, state, change, reason, rules_cdb)
        if state_change:
            front_end_service.write_file(module, owed_file)
        if service_changes:
            # The cdb is in place before svscan can see the service; the link comes last.
            try:
                service.apply(service_changes)
            except OSError as exc:
                module.fail_json(msg="could not build the service %s: %s" % (service.real_dir, exc),
                                 rules_changed=change is not None, cdb_rebuilt=bool(reason))
    if state_change:
        service_changes = service_changes + [state_change]

    kinds = set(c["kind"] for c in service_changes if c["action"] == "write")
    result.update(
        changed=bool(changes or service_changes),
        lines=lines,
        changes=[relay.change_summary(c) for c in changes + service_changes],
        rules_changed=change is not None,
        cdb_rebuilt=bool(reason),
        cdb_reason=reason,
        run_script_changed="run script" in kinds,
        log_run_script_changed="log run script" in kinds,
        owed_actions=owed,
        kept=merged.kept,
    )
    if module._diff and (change or service_changes):  # pylint: disable=protected-access
        result["diff"] = ([files.diff_entry(change)] if change else []) + [relay.diff_entry(c) for c in service_changes]
    return result
