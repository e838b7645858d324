"""Helpers for the tests of the Teamware Office MIME connector SIMULATOR (tests only, not Teamware Office).

Importing this module puts simulator/ on sys.path.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

SIMULATOR_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'simulator'))
BIN_DIR = os.path.join(SIMULATOR_DIR, 'bin')
if SIMULATOR_DIR not in sys.path:
    sys.path.insert(0, SIMULATOR_DIR)


def write_root(root, mime: str | dict | None = None, tombsmtp: str | None = 'own_node = company.com\nown_node = A:tw.company.com\n',
               spool: bool = True) -> str:
    """Create a Teamware root with to.ini ([MIME] from a dict or raw text) and tombsmtp.ini."""
    root = str(root)
    os.makedirs(root, exist_ok=True)
    if isinstance(mime, dict) or mime is None:
        lines = ['; to.ini written by the simulator tests', '[General]', 'name = test', '', '[MIME]']
        for key, value in (mime or {}).items():
            values = value if isinstance(value, list) else [value]
            lines.extend('%s = %s' % (key, v) for v in values)
        text = '\n'.join(lines) + '\n'
    else:
        text = mime
    with open(os.path.join(root, 'to.ini'), 'w', encoding='utf-8') as handle:
        handle.write(text)
    tomb = os.path.join(root, 'tombsmtp.ini')
    if tombsmtp is None:
        if os.path.exists(tomb):
            os.unlink(tomb)
    else:
        with open(tomb, 'w', encoding='utf-8') as handle:
            handle.write(tombsmtp)
    if spool:
        os.makedirs(os.path.join(root, 'smtp'), exist_ok=True)
    return root


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run_bin(name: str, args: list[str], stdin: bytes = b'', env: dict | None = None, timeout: float = 20) -> subprocess.CompletedProcess:
    """Run simulator/bin/NAME with the Python running the tests."""
    return subprocess.run([sys.executable, os.path.join(BIN_DIR, name)] + list(args), input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env, timeout=timeout, check=False)
