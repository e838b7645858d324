# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who listens on a TCP port of the host, read from /proc (Linux).

* /proc/net/tcp and tcp6 (or a process's own /proc/PID/net/..., its network namespace): the sockets in LISTEN state
  on the port, with their local address (the kernel prints it as 32-bit words in host byte order) and inode;
* /proc/PID/fd: which processes hold those sockets (a link ``socket:[INODE]``), named by /proc/PID/comm (or the
  basename of /proc/PID/exe).

A socket that no readable process holds (a non-root caller cannot read other users' fds; a process in another pid
namespace) is reported without a pid or program.  The root of /proc is a parameter, so that the unit tests use a tree
of their own.  Pure Python, no Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import struct

LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp and tcp6
# An address for every address: a listener there overlaps any other on the same port; as a bind address (tcpserver's
# "0", inetd's empty or "*") every listener on the port overlaps it.
ANY = ("", "0", "*", "0.0.0.0", "::")
_SOCKET = "socket:["


def _address(hex_text):
    """The text form of a /proc/net/tcp{,6} address (IPv4-mapped IPv6 addresses as IPv4)."""
    words = [int(hex_text[start:start + 8], 16) for start in range(0, len(hex_text), 8)]
    packed = struct.pack("=%dI" % len(words), *words)
    address = ipaddress.ip_address(packed)
    if address.version == 6 and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def listeners(table, port):
    """[(address, inode)] of the sockets of /proc/net/tcp (or tcp6) text that listen on port (any address)."""
    found = []
    for line in (table or "").splitlines()[1:]:
        fields = line.split()
        if len(fields) <= 9 or fields[3] != LISTEN:
            continue
        address, _sep, number = fields[1].rpartition(":")
        if number.upper() == "%04X" % port:
            try:
                found.append((_address(address), fields[9]))
            except ValueError:
                found.append(("?", fields[9]))
    return found


def listening_inodes(table, port):
    """The socket inodes of /proc/net/tcp (or tcp6) text that listen on port (any address)."""
    return set(inode for dummy, inode in listeners(table, port))


def read_table(path):
    try:
        with open(path, "r") as handle:
            return handle.read()
    except OSError:
        return ""


def socket_inodes(pid, proc="/proc"):
    """The socket inodes among /proc/PID/fd; OSError when the directory cannot be read (another user's, as non-root)."""
    inodes = set()
    fd_dir = os.path.join(proc, str(pid), "fd")
    for name in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, name))
        except FileNotFoundError:  # closed since (the listing's own descriptor)
            continue
        if target.startswith(_SOCKET):
            inodes.add(target[len(_SOCKET):-1])
    return inodes


def program_names(pid, proc="/proc"):
    """(comm, exe basename) of a process; either is '' when it cannot be read."""
    try:
        with open(os.path.join(proc, str(pid), "comm"), "r") as handle:
            comm = handle.read().strip()
    except OSError:
        comm = ""
    try:
        exe = os.path.basename(os.readlink(os.path.join(proc, str(pid), "exe")).replace(" (deleted)", ""))
    except OSError:
        exe = ""
    return comm, exe


def overlaps(listener, bind_address):
    """Whether a listener's address takes the port from a front end bound to bind_address."""
    bind = "" if bind_address is None else str(bind_address).strip()
    return listener in ANY or bind in ANY or listener == bind


def _owners(inodes, proc):
    """{inode: [pid]} for the processes of /proc whose fds can be read."""
    owners = {}
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        try:
            held = socket_inodes(entry, proc) & inodes
        except OSError:
            continue
        for inode in held:
            owners.setdefault(inode, []).append(int(entry))
    return owners


def holders(port, bind_address, front_ends, proc="/proc"):
    """Every socket listening on port at an address that overlaps bind_address, with the processes that hold it.

    Returns a list of dicts: address, port, pid and program (of the first holder; None when no readable process holds
    it), pids (every holder) and foreign: True when some process holds it and none of them is named in front_ends
    (by comm or by the basename of its exe; a front end's children may share its socket), None when unattributed.
    """
    sockets = []
    for table in ("tcp", "tcp6"):
        sockets.extend((address, inode) for address, inode in listeners(read_table(os.path.join(proc, "net", table)), port)
                       if overlaps(address, bind_address))
    if not sockets:
        return []
    owners = _owners(set(inode for dummy, inode in sockets), proc)
    found = []
    for address, inode in sockets:
        pids = sorted(owners.get(inode, []))
        names = dict((pid, program_names(pid, proc)) for pid in pids)
        front = [pid for pid in pids if set(names[pid]) & set(front_ends)]
        first = (front or pids or [None])[0]
        found.append({"address": address, "port": port, "pid": first,
                      "program": (names[first][0] or names[first][1] or "?") if first is not None else None,
                      "pids": pids, "foreign": (not front) if pids else None})
    return found


def describe(holder):
    """One holder for people: 'PROGRAM (pid PID) on ADDRESS:PORT'."""
    where = ("[%s]:%d" if ":" in holder["address"] else "%s:%d") % (holder["address"], holder["port"])
    if holder["pid"] is None:
        return "a socket on %s whose process cannot be read" % where
    return "%s (pid %d) on %s" % (holder["program"], holder["pid"], where)
