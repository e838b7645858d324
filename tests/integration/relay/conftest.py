# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real SMTP front ends on loopback: tcpserver, inetd + tcpd, svscan, and a probe in place of qmail-smtpd.

Every process is started in a session of its own and stopped by its process group id in a
finalizer; all traffic stays on 127.0.0.0/8. Linux routes the whole of 127/8 to lo, so the
tests bind the client socket to 127.0.0.2 (the relay client) or 127.0.0.3 (a stranger).

tcpd has /etc/hosts.allow compiled in. inetd therefore runs inside ``unshare -m`` (a private
mount namespace) with the generated hosts.allow bind-mounted over /etc/hosts.allow, an empty
file over /etc/hosts.deny and a directory of the test over /run (inetd writes /run/inetd.pid):
the real files are never touched.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import os
import pwd
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time

import pytest

# The tests of this directory import free_port from here.
from ...loopback import free_port  # noqa: F401  pylint: disable=unused-import

ALLOWED = "127.0.0.2"
REFUSED = "127.0.0.3"
QMAIL = "/var/qmail"
# A domain that is certainly not in control/rcpthosts.
FOREIGN = "relay-check.invalid"

PROBE = """#!/bin/sh
# Stands in for qmail-smtpd: says whether the front end set RELAYCLIENT.
if [ "${RELAYCLIENT+set}" = set ]; then state="RELAYCLIENT=set"; else state="RELAYCLIENT=unset"; fi
echo "$state TCPREMOTEIP=${TCPREMOTEIP:-} uid=$(id -u)"
"""


def loud_skip(reason):
    pytest.skip("SKIPPED LOUDLY: " + reason)


def need(*programs):
    for program in programs:
        if not (shutil.which(program) or os.path.exists(program)):
            loud_skip("%s is not installed; this real-daemon test did not run" % program)


def wait_for_port(port, timeout=15.0, closed=False):
    """Wait until 127.0.0.1:port accepts connections (or, with closed=True, refuses them)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(1)
        try:
            sock.connect(("127.0.0.1", port))
            up = True
        except OSError:
            up = False
        finally:
            sock.close()
        if up != closed:
            return True
        time.sleep(0.1)
    return False


def ask_probe(port, source, timeout=10.0):
    """Connect from source to 127.0.0.1:port and read the probe's one line."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.bind((source, 0))
        sock.connect(("127.0.0.1", port))
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(1000)
            if not chunk:
                break
            data += chunk
    finally:
        sock.close()
    return data.decode()


def relays(port, source):
    line = ask_probe(port, source)
    assert line.startswith("RELAYCLIENT="), "probe said %r" % line
    return line.startswith("RELAYCLIENT=set")


def rcpt_code(port, source):
    """RCPT TO a foreign domain through real qmail-smtpd; no DATA, so nothing is queued."""
    client = smtplib.SMTP("127.0.0.1", port, source_address=(source, 0), timeout=20)
    try:
        client.helo("relay-test.invalid")
        assert client.mail("tester@%s" % FOREIGN)[0] == 250
        code, message = client.rcpt("someone@%s" % FOREIGN)
        client.rset()
        return code, message.decode()
    finally:
        try:
            client.quit()
        except smtplib.SMTPException:
            client.close()


def real_qmail_available():
    needed = [os.path.join(QMAIL, "bin", name) for name in ("qmail-smtpd", "tcp-env")]
    if not all(os.access(path, os.X_OK) for path in needed):
        return "qmail is not installed under %s" % QMAIL
    if not os.path.exists(os.path.join(QMAIL, "control", "rcpthosts")):
        return "%s/control/rcpthosts is missing (qmail-smtpd would be an open relay)" % QMAIL
    with open(os.path.join(QMAIL, "control", "rcpthosts")) as handle:
        if FOREIGN in handle.read().split():
            return "%s is in rcpthosts" % FOREIGN
    try:
        ids("qmaild", "nofiles")
    except KeyError:
        return "user qmaild or group nofiles is missing"
    return None


def root_and_accounts():
    """Why the real-daemon tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "not root: tcpserver -u/-g, chown to qmaill and mount namespaces need root"
    try:
        ids("qmaild", "nofiles")
        pwd.getpwnam("qmaill")
    except KeyError:
        return "qmail's accounts qmaild, qmaill and group nofiles are missing (install qmail first)"
    return None


@pytest.fixture(autouse=True)
def _needs_root_and_qmail_accounts():
    reason = root_and_accounts()
    if reason:
        loud_skip(reason)


def ids(user, group):
    return pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid


class Processes:
    """Processes started by a test, each in its own session; stopped by process group id."""

    def __init__(self):
        self.started = []

    def start(self, argv, log_path, **kwargs):
        log = open(log_path, "ab")
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, **kwargs)
        log.close()
        self.started.append(proc)
        return proc

    def stop(self, proc, timeout=10):
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=timeout)
        # Children left in the group (supervise, multilog, tcpserver's children) go too.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def stop_all(self):
        for proc in reversed(self.started):
            self.stop(proc)


@pytest.fixture
def processes():
    procs = Processes()
    yield procs
    procs.stop_all()


@pytest.fixture
def world_tmp():
    """A temporary directory that qmaild and qmaill can enter (pytest's tmp_path is 0700 under root)."""
    path = tempfile.mkdtemp(prefix="tw-relay-", dir="/tmp")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def write(path, text, mode=0o644):
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory)
        os.chmod(directory, 0o755)
    with open(path, "w") as handle:
        handle.write(text)
    os.chmod(path, mode)
    return path


def write_probe(directory, name="tcp-env"):
    return write(os.path.join(directory, name), PROBE, 0o755)


def namespace_usable():
    """unshare -m and mount work here (root with CAP_SYS_ADMIN)."""
    if not shutil.which("unshare"):
        return "unshare is not installed (util-linux)"
    done = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", "mount -t tmpfs tmpfs /mnt"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=30, check=False)
    if done.returncode != 0:
        return "cannot mount in a private mount namespace: %s" % done.stdout.strip()
    return None


def start_inetd(processes, work, inetd_conf, hosts_allow, run_dir=None):
    """inetd -d CONF in a private mount namespace with hosts.allow/hosts.deny/run bind-mounted."""
    reason = namespace_usable()
    if reason:
        loud_skip(reason)
    empty = write(os.path.join(work, "hosts.deny.empty"), "")
    run_dir = run_dir or os.path.join(work, "run")
    if not os.path.isdir(run_dir):
        os.makedirs(run_dir)
    script = ("set -e; mount --bind {allow} /etc/hosts.allow; mount --bind {deny} /etc/hosts.deny; "
              "mount --bind {run} /run; exec /usr/sbin/inetd -d {conf}").format(
        allow=hosts_allow, deny=empty, run=run_dir, conf=inetd_conf)
    return processes.start(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                           os.path.join(work, "inetd.log"))


def rebind_hosts_allow(proc, hosts_allow):
    """After a tool replaced hosts.allow by rename, show the new file at /etc/hosts.allow in inetd's namespace.

    (A bind mount holds the old inode; on a real host /etc/hosts.allow is the path itself.)
    """
    subprocess.run(["nsenter", "-t", str(proc.pid), "-m", "sh", "-c", 'umount /etc/hosts.allow && mount --bind "$0" /etc/hosts.allow',
                    hosts_allow], check=True, timeout=30)
