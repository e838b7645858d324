"""pytest fixtures for the Teamware Office MIME connector SIMULATOR (tests only, not Teamware Office)."""

from __future__ import annotations

import threading

import pytest

from simulator_helpers import write_root
from teamware_office_simulator.smtp_server import make_server


@pytest.fixture
def tw_root(tmp_path):
    """A Teamware root: mode=any, own_node company.com with alias tw.company.com, ROOT/smtp present."""
    return write_root(tmp_path / 'to')


@pytest.fixture
def smtp_server():
    """Factory: start the simulated SMTP listener on 127.0.0.1, a free port, in a thread."""
    servers = []

    def start(root: str, **kwargs):
        server = make_server(root, bind='127.0.0.1', port=0, **kwargs)
        thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
        thread.start()
        servers.append((server, thread))
        return server

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(2)
