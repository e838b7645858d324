#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A no-op re-run of site.yml on a configured host, side by side with a one-task play on the same host.

Run: .venv-py311/bin/python benchmarks/bench_site_noop.py [--rounds 5] [--method smtp_smtproutes]
[--front-end tcpserver|inetd] [--lab]

Without --lab the host is the temporary tree the localhost tests use (no container, no qmail), over the local
connection.  With --lab it is a container of the lab's qmail image (localhost/teamware-qmail-lab:bookworm-qmail,
named bench-qmail-1 on the podman network bench-net, 10.213.16.0/24), reached over the lab's podman connection
(lab_podman) with the lab's settings (inventory/lab/group_vars: qmail-send under daemontools, Teamware Office on
the same host); it is prepared and converged once, and removed at the end.  After the configuring run, the two
playbooks run alternately so that both see the same machine load; the medians and their ratio are printed.
Goal (both modes): the no-op site.yml takes at most 3 times as long as the one-task play.
"""

from __future__ import absolute_import, division, print_function

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)
sys.path.insert(0, HERE)

import lab  # noqa: E402  pylint: disable=wrong-import-position
from tests.integration.localhost.fake_host import FakeHost  # noqa: E402  pylint: disable=wrong-import-position
from tests.integration.localhost.playbook_helpers import run_playbook  # noqa: E402  pylint: disable=wrong-import-position
from tests.integration.localhost.test_qmail_role import METHODS  # noqa: E402  pylint: disable=wrong-import-position


def timed(playbook, tmp, variables):
    start = time.perf_counter()
    result = run_playbook(playbook, tmp, variables)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit("%s failed:\n%s" % (playbook, result.output[-3000:]))
    return elapsed, result


def lab_rounds(args):
    """The lab mode: one qmail container, converged once; then (site.yml no-op, one-task play) pairs."""
    with tempfile.TemporaryDirectory() as tmp:
        with lab.LabHosts("bench", "10.213.16", 1, args.method, tmp, front_end=args.front_end) as hosts:
            lab.log("prepare")
            hosts.prepare()
            lab.log("converge")
            hosts.play(lab.SITE)
            one_task = hosts.one_task_playbook()
            site_times, one_times = [], []
            for number in range(args.rounds):
                seconds, output, found, _memory = hosts.play(lab.SITE)
                if lab.changed_total(found) != 0:
                    raise SystemExit("site.yml changed something on a configured host:\n" + output[-3000:])
                site_times.append(seconds)
                one_times.append(hosts.play(one_task)[0])
                lab.log("round %d: site.yml %.2f s, one-task play %.2f s" % (number + 1, site_times[-1], one_times[-1]))
    return site_times, one_times


def localhost_rounds(args):
    """The localhost mode: the temporary tree of the localhost tests, over the local connection."""
    with tempfile.TemporaryDirectory() as tmp:
        host = FakeHost(os.path.join(tmp, "host"))
        variables = host.site_variables(args.front_end, teamware_integration_method=args.method, **METHODS[args.method])
        # The roles' defaults where the machine allows it: a configured host has the front ends' programs (then no
        # apt call is made) and its routing user (qmail_accounts names it, so no user call is made either).
        programs = ("tcpserver", "tcprules", "supervise", "setuidgid", "multilog", "tcpd", "inetd")
        if all(shutil.which(name) or os.path.exists(os.path.join("/usr/sbin", name)) for name in programs):
            variables.update(ucspi_tcp_manage_packages=True, inetd_manage_packages=True)
        else:
            print("note: ucspi-tcp, daemontools, tcpd or openbsd-inetd missing: package management stays off")
        variables.update(qmail_manage_routing_user=True)
        one_task = lab.one_task_playbook(tmp)
        site = os.path.join(REPO, "site.yml")
        timed(site, tmp, variables)
        site_times, one_times = [], []
        for _round in range(args.rounds):
            seconds, result = timed(site, tmp, variables)
            if result.changed() != 0:
                raise SystemExit("site.yml changed something on a configured host:\n" + result.output[-3000:])
            site_times.append(seconds)
            one_times.append(timed(one_task, tmp, variables)[0])
    return site_times, one_times


def main():
    parser = argparse.ArgumentParser(description=__doc__.partition("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--method", default="smtp_smtproutes", choices=sorted(set(METHODS) | set(lab.LAB_METHODS)),
                        help="a method of the localhost tests, or with --lab a method of inventory/lab/group_vars")
    parser.add_argument("--front-end", default="tcpserver", choices=["tcpserver", "inetd"])
    parser.add_argument("--lab", action="store_true",
                        help="a lab qmail container over the lab's podman connection, instead of the localhost tree")
    args = parser.parse_args()
    lab.exit_on_sigterm()
    if args.method not in (lab.LAB_METHODS if args.lab else METHODS):
        parser.error("--method %s is not a method of the %s mode" % (args.method, "lab" if args.lab else "localhost"))
    site_times, one_times = lab_rounds(args) if args.lab else localhost_rounds(args)
    site_median = statistics.median(site_times)
    one_median = statistics.median(one_times)
    ratio = site_median / one_median
    print("| playbook | median s | runs |")
    print("|---|---:|---|")
    where = "lab_podman" if args.lab else "localhost"
    print("| site.yml, no-op (%s, %s, %s) | %.2f | %s |"
          % (args.method, args.front_end, where, site_median, " ".join("%.2f" % t for t in site_times)))
    print("| one-task play | %.2f | %s |" % (one_median, " ".join("%.2f" % t for t in one_times)))
    print("\nratio %.2f (goal <= 3.0)" % ratio)
    return 0 if ratio <= 3.0 else 1


if __name__ == "__main__":
    sys.exit(main())
