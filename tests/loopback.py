# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A free TCP port on loopback, for the tests that listen there (nothing leaves 127.0.0.0/8)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket


def free_port():
    """A port on 127.0.0.1 that nothing listened on a moment ago (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
