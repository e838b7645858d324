# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The repository as ansible_collections/teamware/qmail, for tests, benchmarks and playbook runs.

The repository root is the collection root; Python and ansible-core find it under
build/collections-root/ansible_collections/teamware/qmail, a symbolic link made here.
(`make unit` and the other scripts use build/collections-root-pyXY and set PYTHONPATH themselves.)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def collection_root():
    """build/collections-root, with the repository linked in (made when missing)."""
    root = os.path.join(REPO, "build", "collections-root")
    link = os.path.join(root, "ansible_collections", "teamware", "qmail")
    if not os.path.lexists(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(REPO, link)
    return root


def make_importable():
    """Put the collection root first on sys.path, dropping an ansible_collections package imported from elsewhere."""
    sys.path.insert(0, collection_root())
    for name in [m for m in sys.modules if m == "ansible_collections" or m.startswith("ansible_collections.")]:
        del sys.modules[name]
