# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A free TCP port on loopback, for the tests that listen there (nothing leaves 127.0.0.0/8)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import os
import socket
import subprocess
import sys


def free_port():
    """A port on 127.0.0.1 that nothing listened on a moment ago (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


LISTENER = """#!{python}
# A listener the test started under a name of its own (its /proc comm): greets each client with argv[3], if any.
import socket, sys
sock = socket.socket()
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind((sys.argv[1], int(sys.argv[2])))
sock.listen(5)
print("ready", flush=True)
while True:
    conn, _peer = sock.accept()
    if len(sys.argv) > 3:
        conn.sendall(sys.argv[3].encode() + b"\\r\\n")
    conn.close()
"""


@contextlib.contextmanager
def named_listener(directory, name, port, address="127.0.0.1", greeting=None):
    """A process named name (a script of that name) listening on address:port until the block ends; yields its pid.

    It is started by the test and killed by its id."""
    script = os.path.join(str(directory), name)
    with open(script, "w") as handle:
        handle.write(LISTENER.format(python=os.path.realpath(sys.executable)))
    os.chmod(script, 0o755)
    child = subprocess.Popen([script, address, str(port)] + ([greeting] if greeting is not None else []),
                             stdout=subprocess.PIPE)
    try:
        if child.stdout.readline().strip() != b"ready":
            raise RuntimeError("%s did not start listening on %s:%s" % (name, address, port))
        yield child.pid
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
