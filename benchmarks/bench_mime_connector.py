#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mime_connector role's two ways of writing to.ini and tombsmtp.ini, side by side with a one-task play.

Run: .venv-py311/bin/python benchmarks/bench_mime_connector.py [--rounds 7]

On a temporary Teamware Office root on localhost (local connection, the localhost tests' setup), each round runs,
alternately so that all see the same machine load:

* the one-task play (a stat of the root);
* (a) community.general.ini_file for every key on every run: the read-only look (mime_connector_info), ini_file
  in check mode for each key (the only way to know, without predicting ini_file, whether the connector must be
  stopped), and, when one of them would change, stop, ini_file for each key, start;
* (b) the role as it is: one read-only call of mime_connector_info, which also names the keys the collection's
  writer mime_connector_files would change (with the writer's own code), and, when it names a change, stop,
  mime_connector_files, start.

and, for scale, (floor) a look in one call that does not read the files (mime_connector_info without the settings).

Each as a no-op (the files are right) and as a change (mime_connector_no_relay flips, one key changes).  (a) leaves
out the own_node reorder of tombsmtp.ini, which would cost (a) one more call: its times are a lower bound.  The
medians and their ratios to the one-task play are printed as a Markdown table.
"""

from __future__ import absolute_import, division, print_function

import argparse
import os
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)

import bench_site_noop  # noqa: E402  pylint: disable=wrong-import-position

ONE_TASK = """---
- name: One task on the same host
  hosts: teamware_servers
  gather_facts: false
  tasks:
    - name: Look at the Teamware Office root
      ansible.builtin.stat:
        path: "{{ teamware_root }}"
"""

ROLE = """---
- name: (b) the mime_connector role (mime_connector_info with the writer's changes, then only what changes)
  hosts: teamware_servers
  gather_facts: false
  roles:
    - role: teamware.qmail.mime_connector
"""

INI_FILE = """---
- name: (a) community.general.ini_file for every key on every run
  hosts: teamware_servers
  gather_facts: false
  vars:
    settings: "{{ hostvars[inventory_hostname] | teamware.qmail.mime_connector_settings(connector_options) }}"
    paths:
      to.ini: "{{ teamware_root }}/to.ini"
      tombsmtp.ini: "{{ teamware_root }}/tombsmtp.ini"
  tasks:
    - name: Look at Teamware Office
      teamware.qmail.mime_connector_info:
        root: "{{ teamware_root }}"
        state_file: "{{ teamware_root }}/teamware-qmail-connector.state"
      register: teamware

    - name: Would ini_file change a key
      community.general.ini_file: &edit
        path: "{{ paths[item.file] }}"
        section: "{{ item.section }}"
        option: "{{ item.option }}"
        values: "{{ item.value_list }}"
        state: present
        exclusive: true
        create: true
        modify_inactive_option: false
        ignore_spaces: true
      loop: "{{ settings.edits }}"
      check_mode: true
      diff: false
      register: would

    - name: Stop here when nothing changes
      ansible.builtin.meta: end_host
      when: would.results | selectattr('changed') | list | length == 0 and not teamware.start_owed

    - name: Stop the connector
      ansible.builtin.command: "{{ mime_connector_stop_command }}"
      changed_when: true

    - name: Write every key
      community.general.ini_file: *edit
      loop: "{{ settings.edits }}"

    - name: Start the connector
      ansible.builtin.command: "{{ mime_connector_start_command }}"
      changed_when: true
"""

FLOOR = """---
- name: (floor) one read-only call
  hosts: teamware_servers
  gather_facts: false
  tasks:
    - name: Look at Teamware Office
      teamware.qmail.mime_connector_info:
        root: "{{ teamware_root }}"
        state_file: "{{ teamware_root }}/teamware-qmail-connector.state"
      register: teamware

    - name: Stop here
      ansible.builtin.meta: end_host
"""

TO_INI = """; Teamware Office configuration
[General]
name = tw.server.company.com

[MIME]
; recommended settings, see section 4
mode = any
max_size = 10485760

[X400]
mode = relay
"""


def timed(playbook, tmp, variables):
    """Seconds and the changed count of one run (bench_site_noop.timed, which fails the benchmark on a failed run)."""
    elapsed, result = bench_site_noop.timed(playbook, tmp, variables)
    return elapsed, result.changed()


def setup(tmp):
    root = os.path.join(tmp, "to")
    os.makedirs(os.path.join(root, "smtp"))
    with open(os.path.join(root, "to.ini"), "w") as handle:
        handle.write(TO_INI)
    ctl = os.path.join(tmp, "ctl.sh")
    with open(ctl, "w") as handle:
        handle.write("#!/bin/sh\nexit 0\n")
    os.chmod(ctl, 0o755)
    playbooks = {}
    for name, text in (("one", ONE_TASK), ("b", ROLE), ("a", INI_FILE), ("floor", FLOOR)):
        playbooks[name] = os.path.join(tmp, "%s.yml" % name)
        with open(playbooks[name], "w") as handle:
            handle.write(text)
    variables = {
        "qmail_local_domains": ["company.com"], "teamware_server": "tw.server.company.com", "teamware_smtp_port": 2025,
        "teamware_integration_method": "smtp_smtproutes", "teamware_domains": ["tw.company.com"],
        "teamware_server_address": "127.0.0.1", "teamware_root": root,
        "mime_connector_stop_command": ctl + " stop", "mime_connector_start_command": ctl + " start",
    }
    return playbooks, variables


def variant(variables, name, no_relay):
    """The inventory of one run: the role reads mime_connector_no_relay, the plain playbook its connector_options."""
    if name == "a":
        return dict(variables, connector_options={"mime_connector_no_relay": no_relay})
    return dict(variables, mime_connector_no_relay=no_relay)


def rounds(args):
    times = dict((key, []) for key in ("one", "floor", "a-noop", "a-change", "b-noop", "b-change"))
    with tempfile.TemporaryDirectory() as tmp:
        playbooks, variables = setup(tmp)
        no_relay = 1
        timed(playbooks["b"], tmp, variant(variables, "b", no_relay))
        for number in range(args.rounds):
            times["one"].append(timed(playbooks["one"], tmp, variables)[0])
            times["floor"].append(timed(playbooks["floor"], tmp, variables)[0])
            for name in ("a", "b"):
                seconds, changed = timed(playbooks[name], tmp, variant(variables, name, no_relay))
                if changed != 0:
                    raise SystemExit("(%s) changed something on a configured root" % name)
                times[name + "-noop"].append(seconds)
                no_relay = 1 - no_relay
                seconds, changed = timed(playbooks[name], tmp, variant(variables, name, no_relay))
                if changed == 0:
                    raise SystemExit("(%s) changed nothing where no_relay changed" % name)
                times[name + "-change"].append(seconds)
            sys.stderr.write("round %d: %s\n" % (number + 1, ", ".join("%s %.2f s" % (k, v[-1]) for k, v in times.items())))
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.partition("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    times = rounds(args)
    one = statistics.median(times["one"])
    labels = {
        "one": "one-task play",
        "floor": "(floor) one read-only call (mime_connector_info alone), no-op",
        "a-noop": "(a) ini_file for every key, no-op", "a-change": "(a) ini_file for every key, one key changes",
        "b-noop": "(b) mime_connector_files, no-op", "b-change": "(b) mime_connector_files, one key changes",
    }
    print("| playbook (localhost) | median s | ratio to the one-task play | runs |")
    print("|---|---:|---:|---|")
    for key, label in labels.items():
        median = statistics.median(times[key])
        print("| %s | %.2f | %.2f | %s |" % (label, median, median / one, " ".join("%.2f" % t for t in times[key])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
