#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark of the routing core at 10^2 to 10^5 users, domains, aliases and routes.

Run: make bench-core  (or: python benchmarks/bench_routing_core.py [--max 100000] [--json FILE])

Each scenario builds a valid inventory with N entries of one kind, then times
validation + table building (``routing.compute``), best of several rounds.  The
target is under 1 s for 100,000 entries on a 2-core machine, growing linearly:
the ratio column divides each time by the time of the size ten times smaller,
so about 10 means linear.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)

from tests.collection_root import make_importable  # noqa: E402  pylint: disable=wrong-import-position

make_importable()

from ansible_collections.teamware.qmail.plugins.module_utils import routing  # noqa: E402  pylint: disable=wrong-import-position

TWU = routing.Account("twu", 1000, 1000, "/home/twu")
ALIAS = routing.Account("alias", 999, 999, "/var/qmail/alias")


def aliases(n):
    """N aliases and group lists in ~alias (one .qmail file each), method 5.1.1 with user routing."""
    return dict(teamware_integration_method="torecvm_alias", teamware_routing="user", teamware_domains=["company.com"],
                teamware_user_prefix="tw.", qmail_local_domains=["company.com"],
                qmail_aliases=dict(("user%d" % i, ["person%d@company.com" % i, "team%d@company.com" % (i % 97)]) for i in range(n))), ()


def domains(n):
    """N Teamware base addresses routed by smtproutes (5.2.1): N rcpthosts lines and N routes."""
    return dict(teamware_integration_method="smtp_smtproutes", teamware_domains=["tw%d.company.com" % i for i in range(n)],
                qmail_local_domains=["company.com"], teamware_server="tw.server.company.com", teamware_smtp_port=2025), ()


def virtual_domains(n):
    """N Teamware virtual domains (5.1.2) next to N qmail domains."""
    return dict(teamware_integration_method="torecvm_virtualdomains", teamware_domains=["tw%d.company.com" % i for i in range(n)],
                qmail_local_domains=["q%d.company.com" % i for i in range(n)]), ()


def routes(n):
    """N routes of the admin's own, sorted into qmail's order."""
    entries = []
    for i in range(n):
        key = ("." if i % 3 == 0 else "") + "r%d.example.net" % i
        entries.append({"domain": key, "relay": "[10.%d.%d.%d]" % (i // 65536 % 256, i // 256 % 256, i % 256), "port": 2525})
    return dict(teamware_integration_method="none", qmail_local_domains=["company.com"], qmail_extra_smtproutes=entries), ()


def users(n):
    """N passwd users checked against the user-based naming rule (5.2.3)."""
    return dict(teamware_integration_method="smtp_users", teamware_domains=["company.com"], teamware_user_prefix="tw.",
                qmail_local_domains=["company.com"], teamware_server="tw.server.company.com"), ["user%d" % i for i in range(n)]


SCENARIOS = [aliases, domains, virtual_domains, routes, users]


def best_time(variables, existing, rounds):
    timings = []
    for _round in range(max(1, rounds)):
        start = time.perf_counter()
        routing.compute(variables, TWU, ALIAS, existing)
        timings.append(time.perf_counter() - start)
    return min(timings)


def main():
    parser = argparse.ArgumentParser(description=__doc__.partition("\n\n")[0])
    parser.add_argument("--max", type=int, default=100000, help="largest size (a power of ten)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    sizes = [10 ** e for e in range(2, 7) if 10 ** e <= args.max]
    results = []
    print("| scenario | N | seconds | ratio to N/10 |")
    print("|---|---:|---:|---:|")
    for scenario in SCENARIOS:
        previous = None
        for n in sizes:
            variables, existing = scenario(n)
            seconds = best_time(variables, existing, args.rounds)
            ratio = round(seconds / previous, 1) if previous else None
            previous = seconds
            results.append({"scenario": scenario.__name__, "n": n, "seconds": round(seconds, 4), "ratio": ratio})
            shown = "-" if ratio is None else str(ratio)
            print("| %s | %d | %.4f | %s |" % (scenario.__name__, n, seconds, shown), flush=True)
    slowest = max(r["seconds"] for r in results if r["n"] == sizes[-1])
    print("\nslowest at N=%d: %.3f s (target < 1 s); python %s on %s, %d cores"
          % (sizes[-1], slowest, platform.python_version(), platform.machine(), os.cpu_count()))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"python": platform.python_version(), "machine": platform.machine(), "cores": os.cpu_count(),
                       "results": results}, handle, indent=1)
    return 0 if slowest < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
