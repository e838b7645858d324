# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make the repository importable as ansible_collections.teamware.qmail.

`make unit` sets PYTHONPATH itself; this fallback lets a plain `pytest tests/unit`
work from a checkout too (the repository root is the collection root).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

try:
    import ansible_collections.teamware.qmail  # noqa: F401  pylint: disable=unused-import
except ImportError:
    REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ROOT = os.path.join(REPO, "build", "collections-root")
    LINK = os.path.join(ROOT, "ansible_collections", "teamware", "qmail")
    if not os.path.lexists(LINK):
        os.makedirs(os.path.dirname(LINK), exist_ok=True)
        os.symlink(REPO, LINK)
    sys.path.insert(0, ROOT)
    for name in [m for m in sys.modules if m == "ansible_collections" or m.startswith("ansible_collections.")]:
        del sys.modules[name]
