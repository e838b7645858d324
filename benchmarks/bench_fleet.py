#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""site.yml on a fleet of lab qmail hosts: first converge, no-op re-run and the controller's memory, for N hosts.

Run: .venv-py311/bin/python benchmarks/bench_fleet.py [--sizes 1,5,10,20] [--method smtp_smtproutes] [--json FILE]

For each N, N containers of the lab's qmail image (fleet-N-qmail-I on the podman network fleet-N-net, subnets
10.213.17.0/24, 10.213.18.0/24, ... one per size) are started and prepared (molecule/resources/prepare.yml, not
timed); Teamware Office (the simulator) runs on each qmail host, so the fleet needs no other container.  Then
site.yml runs with forks=N over the lab's podman connection: the first converge, then no-op re-runs (which must
change nothing).  The containers of one size are removed before the next size starts, and at the end in any case.
Reported per N: seconds, the ratio to N=1 (measured in the same run), and the peak memory of the controller
(ansible-playbook and every process under it, sampled from /proc; and its largest single process).
Goals (the issue's): 20 hosts converge in at most 4 times one host; a no-op of 20 hosts at most 3 times one host.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import lab  # noqa: E402  pylint: disable=wrong-import-position

FIRST_NET = 17
GOALS = {"converge": 4.0, "noop": 3.0}


def measure(size, net, method, rounds, workdir):
    with lab.LabHosts("fleet-%d" % size, "10.213.%d" % net, size, method, workdir) as hosts:
        lab.log("%d hosts: prepare" % size)
        hosts.prepare()
        lab.log("%d hosts: converge" % size)
        converge, _output, found, converge_memory = hosts.play(lab.SITE, forks=size)
        if len(found) != size or any(entry["failed"] or entry["unreachable"] for entry in found.values()):
            raise SystemExit("converge of %d hosts: recap %s" % (size, found))
        noops, memory = [], converge_memory
        for _round in range(rounds):
            seconds, output, found, noop_memory = hosts.play(lab.SITE, forks=size)
            if lab.changed_total(found) != 0:
                raise SystemExit("the no-op run of %d hosts changed something:\n%s" % (size, output[-3000:]))
            noops.append(seconds)
            memory = (max(memory[0], noop_memory[0]), max(memory[1], noop_memory[1]))
        lab.log("%d hosts: converge %.1f s, no-op %s s" % (size, converge, " ".join("%.1f" % t for t in noops)))
    return {"hosts": size, "converge": converge, "noop": statistics.median(noops), "noop_runs": noops,
            "peak_tree_mib": memory[0], "peak_process_mib": memory[1]}


def report(results):
    base = results[0]
    print("| hosts | first converge s | ratio to %d host(s) | no-op s (median) | ratio | controller peak MiB (all processes) "
          "| largest process MiB |" % base["hosts"])
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for row in results:
        print("| %d | %.1f | %.2f | %.1f | %.2f | %.0f | %.0f |" % (
            row["hosts"], row["converge"], row["converge"] / base["converge"], row["noop"], row["noop"] / base["noop"],
            row["peak_tree_mib"], row["peak_process_mib"]))
    ok = True
    last = results[-1]
    if base["hosts"] == 1 and last["hosts"] == 20:
        for key, goal in sorted(GOALS.items()):
            ratio = last[key] / base[key]
            ok = ok and ratio <= goal
            print("%s of 20 hosts: %.2f times one host (goal <= %.1f)" % (key, ratio, goal))
    else:
        print("(the goals compare 20 hosts with 1; this run had --sizes %s)" % ",".join(str(r["hosts"]) for r in results))
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.partition("\n\n")[0])
    parser.add_argument("--sizes", default="1,5,10,20", help="numbers of hosts, comma-separated (quick run: 1,5)")
    parser.add_argument("--method", default="smtp_smtproutes", choices=lab.LAB_METHODS)
    parser.add_argument("--rounds", type=int, default=2, help="no-op re-runs per size (the median is reported)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    lab.exit_on_sigterm()
    try:
        sizes = [int(size) for size in args.sizes.split(",")]
    except ValueError:
        parser.error("--sizes: numbers separated by commas, e.g. 1,5")
    if not sizes or min(sizes) < 1 or max(sizes) > 200 or len(sizes) > 256 - FIRST_NET:
        parser.error("--sizes: between 1 and 200 hosts each")
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        for offset, size in enumerate(sizes):
            results.append(measure(size, FIRST_NET + offset, args.method, args.rounds, workdir))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"method": args.method, "results": results}, handle, indent=1)
    return 0 if report(results) else 1


if __name__ == "__main__":
    sys.exit(main())
