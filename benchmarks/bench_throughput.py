#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mail throughput of each integration method on the lab, with real qmail: messages per second into Teamware Office.

Run: .venv-py311/bin/python benchmarks/bench_throughput.py [--messages 500] [--methods smtp_smtproutes,...] [--json FILE]

One qmail host of the lab's qmail image (thru-qmail-1, with Teamware Office, the simulator, on the same host) and
the relay client (thru-client), on the podman network thru-net, 10.213.30.0/24; removed at the end in any case.
For each method (the lab's settings, inventory/lab/group_vars/method_NAME.yml; the host is switched from method to
method by site.yml, as the method_switch scenario does):

1. site.yml configures the method; the simulator's spool is emptied;
2. qmail-send is stopped (svc -d), and the client hands the messages to qmail-smtpd in one SMTP session (one
   message per transaction, to Teamware users of the method's address form), so that they wait in the queue;
3. qmail-send is started, and the time from its start to the last message stored by Teamware Office (the
   simulator's received_at_epoch) is taken inside the container.

Every method is measured in the same run; its msgs/s is reported with its ratio to smtp_smtproutes (qmail-remote
straight to the connector).  The machine's load average (/proc/loadavg) is recorded before and after each method;
with --repeat-baseline, smtp_smtproutes is measured again after the last method, and the ratios are taken against
the mean of its two rates, so that a change of the machine's load during the run does not skew the baseline.
Goal (the issue's): every method at least 0.7 times smtp_smtproutes, with the
no-loss wrapper and preline included.

--concurrencylocal N writes N into the host's control/concurrencylocal before the first method (qmail-send reads it
at each start, and each method starts it anew); by default the file is absent and qmail-send runs at most 10 local
deliveries at a time (20 remote ones).  The collection does not write that file (docs/benchmarks.md says why).

--torecvm-standin measures each torecvm method a second time (row METHOD+standin) with /usr/bin/torecvm replaced by
a small sh stand-in that stores the message and its arrival time and does nothing else (the simulator's torecvm is a
Python program started once per message, about 26 ms; Teamware Office's own torecvm is a C program): what is left is
qmail's local delivery and the collection's pipe line (guards, presence check, exec).  The simulator's torecvm is put
back after each such row.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import lab  # noqa: E402  pylint: disable=wrong-import-position

# One lab variant of each of the seven methods (the lab also has the other routing kind of smtp_alias and
# torecvm_alias: --methods all).
SEVEN = ["smtp_smtproutes", "smtp_alias_user", "smtp_users", "smtp_forward",
         "torecvm_alias_domain", "torecvm_users", "torecvm_virtualdomains"]
BASE = "smtp_smtproutes"
GOAL = 0.7
USERS = 20

# Run by python3 in the client container: one SMTP session, one transaction per message.
SENDER = r"""
import smtplib, sys
server, count, pattern = sys.argv[1], int(sys.argv[2]), sys.argv[3]
session = smtplib.SMTP(server, 25, timeout=120)
session.ehlo("client.company.com")
for number in range(count):
    rcpt = pattern.replace("{user}", "user%02d" % (number % USERS))
    body = "From: bench@example.org\nTo: %s\nSubject: throughput %d\n\nmessage %d of %d\n" % (rcpt, number, number, count)
    session.sendmail("bench@example.org", [rcpt], body)
session.quit()
""".replace("USERS", str(USERS))

# Run by python3 in the qmail container: start qmail-send, wait for the spool, report start and last arrival.
TIMER = r"""
import json, os, subprocess, sys, time
spool, count, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
def stored():
    return [name for name in os.listdir(spool) if name.endswith(".json") and not name.startswith(".")]
start = time.time()
subprocess.check_call(["svc", "-u", "/service/qmail-send"])
while len(stored()) < count and time.time() < start + timeout:
    time.sleep(0.1)
names = stored()
last = 0.0
for name in names:
    with open(os.path.join(spool, name)) as handle:
        last = max(last, json.load(handle)["received_at_epoch"])
print(json.dumps({"start": start, "last": last, "count": len(names)}))
"""


# The torecvm stand-in of --torecvm-standin: the message into the -d directory, then a .json with the arrival time
# (renamed into place, as the timer counts the .json files).  Four processes: sh, cat, date, mv.
STANDIN = r"""#!/bin/sh
# bench_throughput.py --torecvm-standin: NOT torecvm; stores the message and its arrival time, nothing else.
dir=
for arg in "$@"; do case $arg in -d*) dir=${arg#-d} ;; esac; done
[ -d "$dir" ] || exit 111
cat > "$dir/standin.$$.eml" || exit 111
printf '{"received_at_epoch": %s}\n' "$(date +%s.%N)" > "$dir/.standin.$$.json" || exit 111
mv "$dir/.standin.$$.json" "$dir/standin.$$.json" || exit 111
"""
TORECVM = "/usr/bin/torecvm"
SIMULATOR_TORECVM = "/opt/teamware-office-simulator/bin/torecvm"


def use_standin(hosts, on):
    """/usr/bin/torecvm in the qmail host: the stand-in (on) or the simulator's again."""
    if on:
        hosts.exec(hosts.names[0], ["sh", "-c", 'cat > "$1.new" && chmod 755 "$1.new" && mv "$1.new" "$1"', "sh", TORECVM],
                   data=STANDIN)
    else:
        hosts.exec(hosts.names[0], ["ln", "-sfn", SIMULATOR_TORECVM, TORECVM])


def rcpt_pattern(method):
    path = os.path.join(lab.REPO, "inventory", "lab", "group_vars", "method_%s.yml" % method)
    with open(path) as handle:
        return yaml.safe_load(handle)["lab_teamware_rcpt"]


def wait_down(hosts, qmail):
    for _attempt in range(100):
        if ": down " in hosts.exec(qmail, ["svstat", "/service/qmail-send"]):
            return
        hosts.exec(qmail, ["sleep", "0.2"])
    raise SystemExit("qmail-send did not stop")


def loadavg():
    """The machine's 1-minute load average (the containers share its kernel)."""
    with open("/proc/loadavg") as handle:
        return float(handle.read().split()[0])


def set_concurrencylocal(hosts, value):
    """control/concurrencylocal of the qmail host (read by qmail-send when it starts)."""
    hosts.exec(hosts.names[0], ["sh", "-c", 'printf "%s\\n" "$1" > /var/qmail/control/concurrencylocal', "sh", str(value)])
    lab.log("control/concurrencylocal: %s" % hosts.exec(hosts.names[0], ["cat", "/var/qmail/control/concurrencylocal"]).strip())


def measure(hosts, method, messages, timeout, standin=False):
    qmail = hosts.names[0]
    hosts.switch(method)
    lab.log("%s: configure" % method)
    _seconds, output, found, _memory = hosts.play(lab.SITE, forks=1)
    if any(entry["failed"] for entry in found.values()):
        raise SystemExit("site.yml failed for %s:\n%s" % (method, output[-3000:]))
    hosts.exec(qmail, ["teamware-office-simulator", "clear", "--root", "/to"])
    hosts.exec(qmail, ["sh", "-c", "rm -f /to/smtp/standin.* /to/smtp/.standin.*"])  # the simulator clears its own only
    hosts.exec(qmail, ["svc", "-d", "/service/qmail-send"])
    wait_down(hosts, qmail)
    lab.log("%s: queue %d messages from the client" % (method, messages))
    hosts.exec(hosts.client, ["python3", "-c", SENDER, "%s.10" % hosts.net, str(messages), rcpt_pattern(method)])
    lab.log("%s: start qmail-send%s" % (method, " (torecvm stand-in)" if standin else ""))
    if standin:
        use_standin(hosts, True)
    load_before = loadavg()
    try:
        result = json.loads(hosts.exec(qmail, ["python3", "-c", TIMER, "/to/smtp", str(messages), str(timeout)]))
    finally:
        if standin:
            use_standin(hosts, False)
    if result["count"] != messages:
        raise SystemExit("%s: %d of %d messages reached Teamware Office within %d s" % (method, result["count"], messages, timeout))
    seconds = result["last"] - result["start"]
    load_after = loadavg()
    lab.log("%s: %d messages in %.1f s (load average %.2f before, %.2f after)" % (method, messages, seconds, load_before, load_after))
    return {"method": method + ("+standin" if standin else ""), "messages": messages, "seconds": seconds, "per_second": messages / seconds,
            "load_before": load_before, "load_after": load_after}


def baseline_rate(results):
    """msgs/s of smtp_smtproutes: the mean of its measurements in this run (two with --repeat-baseline)."""
    rates = [row["per_second"] for row in results if row["method"] == BASE]
    return sum(rates) / len(rates) if rates else None


def report(results):
    base = baseline_rate(results)
    print("| method | messages | seconds | msgs/s | ratio to %s | load average before / after |" % BASE)
    print("|---|---:|---:|---:|---:|---:|")
    ok = True
    for row in results:
        ratio = row["per_second"] / base if base else float("nan")
        row["ratio"] = ratio
        ok = ok and (not base or row["method"] == BASE or ratio >= GOAL)  # the baseline's own rows are no goal
        print("| %s | %d | %.1f | %.1f | %.2f | %.2f / %.2f |" % (
            row["method"], row["messages"], row["seconds"], row["per_second"], ratio, row["load_before"], row["load_after"]))
    if base:
        print("\ngoal: every method >= %.2f times %s: %s" % (GOAL, BASE, "met" if ok else "MISSED"))
    else:
        print("\n(no ratios: %s was not measured)" % BASE)
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.partition("\n\n")[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--methods", default=",".join(SEVEN),
                        help="lab methods, comma-separated, or 'all' (default: one variant of each of the seven)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds to wait for the last message of a method")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--prefix", default="thru", help="names of the containers and network (default thru)")
    parser.add_argument("--net", default="10.213.30", help="the network's /24 without its last byte (default 10.213.30)")
    parser.add_argument("--concurrencylocal", type=int,
                        help="write this into control/concurrencylocal first (default: the file stays absent: 10)")
    parser.add_argument("--torecvm-standin", action="store_true",
                        help="measure each torecvm method again with a sh stand-in for the simulator's torecvm")
    parser.add_argument("--repeat-baseline", action="store_true",
                        help="measure %s again after the last method; ratios against the mean of both" % BASE)
    args = parser.parse_args()
    methods = lab.LAB_METHODS if args.methods == "all" else args.methods.split(",")
    unknown = [method for method in methods if method not in lab.LAB_METHODS]
    if unknown or args.messages < 1:
        parser.error("unknown method(s) %s; the lab has %s" % (", ".join(unknown), ", ".join(lab.LAB_METHODS)))
    if args.concurrencylocal is not None and not 1 <= args.concurrencylocal <= 120:
        parser.error("--concurrencylocal: 1 to 120 (qmail's conf-spawn limit)")
    if args.repeat_baseline and BASE not in methods:
        parser.error("--repeat-baseline needs %s among the methods" % BASE)
    if args.repeat_baseline:
        methods = methods + [BASE]
    lab.exit_on_sigterm()
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        with lab.LabHosts(args.prefix, args.net, 1, methods[0], workdir, client=True) as hosts:
            lab.log("prepare")
            hosts.prepare()
            if args.concurrencylocal is not None:
                set_concurrencylocal(hosts, args.concurrencylocal)
            for method in methods:
                results.append(dict(measure(hosts, method, args.messages, args.timeout),
                                    concurrencylocal=args.concurrencylocal))
                if args.torecvm_standin and method.startswith("torecvm_"):
                    results.append(dict(measure(hosts, method, args.messages, args.timeout, standin=True),
                                        concurrencylocal=args.concurrencylocal))
    ok = report(results)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
