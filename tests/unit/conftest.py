# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared by the unit tests: a path that may not be looked at."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest


@pytest.fixture
def deny_access(monkeypatch):
    """deny_access(name, path): os.<name> (stat, lstat) raises PermissionError for path, as behind a directory that
    may not be searched (the tests run as root, whom no mode stops); every other path is looked at as usual."""
    def deny(name, path):
        real = getattr(os, name)

        def denied(candidate, *args, **kwargs):
            if candidate == path:
                raise PermissionError(13, "Permission denied", path)
            return real(candidate, *args, **kwargs)
        monkeypatch.setattr(os, name, denied)
    return deny
