# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The attributes blocks of the collection's modules, written once."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # A module that writes files: full check mode and diff.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
"""

    # A module that only reads: check mode returns the same result, there is nothing to diff.
    INFO = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return the same result.
    support: full
    details: The module never changes anything; check mode returns the same result.
  diff_mode:
    description: Returns details on what has changed (or would change).
    support: none
    details: Nothing is ever changed.
"""

    # A module that runs a command (a signal, a restart): check mode reports it, there is no file to diff.
    ACTION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
"""
