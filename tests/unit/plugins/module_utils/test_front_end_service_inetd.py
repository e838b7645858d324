# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""front_end_service.inetd_holds_port: whether inetd (a live program in its pid file) still listens on the SMTP port.

The "inetd" is this test's own process (its program is the Python interpreter) with a real socket on 127.0.0.1.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket
import sys

from ansible_collections.teamware.qmail.plugins.module_utils import front_end_service
from ansible_collections.teamware.qmail.plugins.module_utils import port_holders

from ....loopback import free_port

TCP = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0 100 0 0 10 0
   1: 0100007F:0019 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 2222 1 0 20 4 30 10 -1
   2: 0100007F:09C5 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3333 1 0 100 0 0 10 0
"""


def test_only_listening_sockets_on_the_port_count():
    # 0x19 = 25 listening; the established connection to 25 is not a listener; 0x9C5 = 2501 is another port
    assert port_holders.listening_inodes(TCP, 25) == set(["1111"])
    assert port_holders.listening_inodes(TCP, 2501) == set(["3333"])
    assert port_holders.listening_inodes(TCP, 2525) == set()
    assert port_holders.listening_inodes(None, 25) == set()


def test_an_inetd_holds_the_port_while_it_listens_there(tmp_path):
    pid_file = tmp_path / "inetd.pid"
    pid_file.write_text("%d\n" % os.getpid())
    program = os.path.realpath(sys.executable)
    port = free_port()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind(("127.0.0.1", port))
        listener.listen(1)
        assert front_end_service.inetd_holds_port(str(pid_file), program, str(port)) is True
        # another port is not held
        assert front_end_service.inetd_holds_port(str(pid_file), program, str(free_port())) is False
        # the pid is not inetd_program's: that inetd does not run
        assert front_end_service.inetd_holds_port(str(pid_file), "/usr/sbin/inetd", str(port)) is False
    finally:
        listener.close()
    # inetd reread inetd.conf and let go of the port
    assert front_end_service.inetd_holds_port(str(pid_file), program, str(port)) is False


def test_an_inetd_that_does_not_run_holds_nothing(tmp_path):
    assert front_end_service.inetd_holds_port(str(tmp_path / "no.pid"), "/usr/sbin/inetd", "smtp") is False
    (tmp_path / "empty.pid").write_text("")
    assert front_end_service.inetd_holds_port(str(tmp_path / "empty.pid"), "/usr/sbin/inetd", "smtp") is False


def test_an_inetd_whose_sockets_cannot_be_read_is_taken_to_hold_the_port(tmp_path, monkeypatch):
    pid_file = tmp_path / "inetd.pid"
    pid_file.write_text("%d\n" % os.getpid())

    def unreadable(path):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(front_end_service.os, "listdir", unreadable)
    assert front_end_service.inetd_holds_port(str(pid_file), os.path.realpath(sys.executable), "25") is True
