# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""port_holders: who listens on a port, from a fake /proc tree and from the real one (a listener the test starts)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket
import sys

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import port_holders

from ....loopback import free_port, named_listener

HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
ROW = "   %d: %s:%04X 00000000:0000 %s 00000000:00000000 00:00000000 00000000     0        0 %s 1 0 100 0 0 10 0\n"
ROW6 = ("   %d: %s:%04X 00000000000000000000000000000000:0000 %s 00000000:00000000 00:00000000 00000000     0        0 "
        "%s 1 0 100 0 0 10 0\n")
FRONT_ENDS = ("tcpserver", "inetd", "inetutils-inetd")


def hex4(address):
    """An IPv4 address as the kernel prints it in /proc/net/tcp (a 32-bit word in host byte order)."""
    return "%08X" % int.from_bytes(socket.inet_aton(address), sys.byteorder)


def hex6(address):
    packed = socket.inet_pton(socket.AF_INET6, address)
    return "".join("%08X" % int.from_bytes(packed[start:start + 4], sys.byteorder) for start in range(0, 16, 4))


class FakeProc:
    """A /proc tree: net/tcp, net/tcp6 and processes with fd links, comm and exe."""

    def __init__(self, root):
        self.root = str(root)
        os.makedirs(os.path.join(self.root, "net"))
        self.tcp, self.tcp6 = [], []
        self.write()

    def write(self):
        for name, rows in (("tcp", self.tcp), ("tcp6", self.tcp6)):
            with open(os.path.join(self.root, "net", name), "w") as handle:
                handle.write(HEADER + "".join(rows))

    def listen(self, address, port, inode, state="0A"):
        if ":" in address:
            self.tcp6.append(ROW6 % (len(self.tcp6), hex6(address), port, state, inode))
        else:
            self.tcp.append(ROW % (len(self.tcp), hex4(address), port, state, inode))
        self.write()

    def process(self, pid, comm, exe, inodes, readable=True):
        base = os.path.join(self.root, str(pid))
        os.makedirs(base)
        with open(os.path.join(base, "comm"), "w") as handle:
            handle.write(comm + "\n")
        os.symlink(exe, os.path.join(base, "exe"))
        if not readable:  # what a non-root caller meets: the fd directory cannot be listed
            with open(os.path.join(base, "fd"), "w") as handle:
                handle.write("")
            return
        os.makedirs(os.path.join(base, "fd"))
        os.symlink("/dev/null", os.path.join(base, "fd", "0"))
        for number, inode in enumerate(inodes, 3):
            os.symlink("socket:[%s]" % inode, os.path.join(base, "fd", str(number)))


@pytest.fixture
def proc(tmp_path):
    made = FakeProc(tmp_path / "proc")
    os.makedirs(os.path.join(made.root, "self"))  # not a pid: skipped
    return made


def test_addresses_are_read_as_the_kernel_prints_them():
    table = HEADER + ROW % (0, hex4("127.0.0.1"), 25, "0A", "11") + ROW % (1, hex4("192.0.2.7"), 25, "0A", "12")
    table += ROW % (2, hex4("127.0.0.1"), 25, "01", "13") + ROW % (3, hex4("0.0.0.0"), 2525, "0A", "14")
    assert port_holders.listeners(table, 25) == [("127.0.0.1", "11"), ("192.0.2.7", "12")]
    table6 = HEADER + ROW6 % (0, hex6("::"), 25, "0A", "21") + ROW6 % (1, hex6("::ffff:127.0.0.1"), 25, "0A", "22")
    table6 += ROW6 % (2, hex6("2001:db8::1"), 25, "0A", "23")
    assert port_holders.listeners(table6, 25) == [("::", "21"), ("127.0.0.1", "22"), ("2001:db8::1", "23")]
    assert port_holders.listeners(None, 25) == [] and port_holders.listening_inodes(table, 2525) == set(["14"])


@pytest.mark.parametrize("listener, bind, overlap", [
    ("0.0.0.0", "127.0.0.1", True), ("::", "127.0.0.1", True), ("127.0.0.1", "0", True), ("192.0.2.7", "", True),
    ("192.0.2.7", None, True), ("192.0.2.7", "*", True), ("127.0.0.1", "127.0.0.1", True),
    ("127.0.0.1", "192.0.2.7", False), ("::1", "127.0.0.1", False),
])
def test_which_addresses_overlap(listener, bind, overlap):
    assert port_holders.overlaps(listener, bind) is overlap


def test_a_foreign_daemon_is_named_with_its_pid(proc):
    proc.listen("0.0.0.0", 25, "5001")
    proc.listen("::", 25, "5002")
    proc.process(812, "master", "/usr/lib/postfix/sbin/master", ["5001", "5002", "77"])
    proc.process(900, "bash", "/usr/bin/bash", ["78"])
    found = port_holders.holders(25, "0", FRONT_ENDS, proc.root)
    assert found == [
        {"address": "0.0.0.0", "port": 25, "pid": 812, "program": "master", "pids": [812], "foreign": True},
        {"address": "::", "port": 25, "pid": 812, "program": "master", "pids": [812], "foreign": True},
    ]
    assert port_holders.describe(found[0]) == "master (pid 812) on 0.0.0.0:25"
    assert port_holders.describe(found[1]) == "master (pid 812) on [::]:25"


def test_the_front_ends_are_not_foreign_nor_their_children_sharing_the_socket(proc):
    proc.listen("127.0.0.1", 25, "6001")
    proc.listen("0.0.0.0", 2525, "6002")  # another port: not looked at
    proc.process(300, "tcpserver", "/usr/bin/tcpserver", ["6001"])
    proc.process(301, "qmail-smtpd", "/var/qmail/bin/qmail-smtpd", ["6001"])
    proc.process(302, "exim4", "/usr/sbin/exim4", ["6002"])
    found = port_holders.holders(25, "127.0.0.1", FRONT_ENDS, proc.root)
    assert found == [{"address": "127.0.0.1", "port": 25, "pid": 300, "program": "tcpserver", "pids": [300, 301],
                      "foreign": False}]


def test_a_program_is_known_by_comm_or_by_its_exe(proc):
    # a script's comm is its own name; an interpreter named as the front end's program (tests) by its exe
    proc.listen("127.0.0.1", 25, "7001")
    proc.process(400, "python3", "/usr/bin/inetutils-inetd", ["7001"])
    assert port_holders.holders(25, "127.0.0.1", FRONT_ENDS, proc.root)[0]["foreign"] is False
    assert port_holders.holders(25, "127.0.0.1", ("tcpserver",), proc.root)[0]["foreign"] is True


def test_an_address_elsewhere_does_not_count(proc):
    proc.listen("192.0.2.7", 25, "8001")
    proc.process(500, "sendmail", "/usr/sbin/sendmail-mta", ["8001"])
    assert port_holders.holders(25, "127.0.0.1", FRONT_ENDS, proc.root) == []
    assert port_holders.holders(25, "0", FRONT_ENDS, proc.root)[0]["program"] == "sendmail"


def test_a_socket_no_readable_process_holds_is_reported_without_a_program(proc):
    proc.listen("0.0.0.0", 25, "9001")
    proc.process(600, "master", "/usr/lib/postfix/sbin/master", [], readable=False)
    found = port_holders.holders(25, "0", FRONT_ENDS, proc.root)
    assert found == [{"address": "0.0.0.0", "port": 25, "pid": None, "program": None, "pids": [], "foreign": None}]
    assert port_holders.describe(found[0]) == "a socket on 0.0.0.0:25 whose process cannot be read"


def test_nothing_listening_reads_no_process(proc):
    proc.listen("0.0.0.0", 25, "9101", state="01")  # a connection, not a listener
    assert port_holders.holders(25, "0", FRONT_ENDS, os.path.join(proc.root)) == []
    assert port_holders.holders(25, "0", FRONT_ENDS, os.path.join(proc.root, "missing")) == []


def test_the_real_proc_names_a_listener_the_test_starts(tmp_path):
    port = free_port()
    with named_listener(tmp_path, "fake-postfix", port) as pid:
        found = port_holders.holders(port, "127.0.0.1", FRONT_ENDS)
        assert found == [{"address": "127.0.0.1", "port": port, "pid": pid, "program": "fake-postfix", "pids": [pid],
                          "foreign": True}]
        # named as a front end's program by its exe (the interpreter), as relay_rules adds its inetd_program
        again = port_holders.holders(port, "0", FRONT_ENDS + (os.path.basename(os.path.realpath(sys.executable)),))
        assert again[0]["foreign"] is False
