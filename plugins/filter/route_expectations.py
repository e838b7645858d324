# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the deploy check: the expected routes of the inventory against qmail_route_info's findings.

Documentation: the sidecar files route_expectations.yml and route_mismatches.yml beside this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.teamware.qmail.plugins.module_utils import route_expect


def route_expectations(expected):
    """teamware_expected_routes validated: address -> list of canonical words; fails on an unknown word."""
    try:
        return route_expect.normalize(expected)
    except route_expect.ExpectationError as exc:
        raise AnsibleFilterError(str(exc))


def route_mismatches(routes, expected):
    """'address: expected X, got Y' for every wrong route; empty when every route is the expected one."""
    if routes is None:
        routes = []
    if not isinstance(routes, (list, tuple)):
        raise AnsibleFilterError("route_mismatches: the input must be the 'routes' list of qmail_route_info, not %s"
                                 % type(routes).__name__)
    try:
        return route_expect.mismatches(routes, expected)
    except route_expect.ExpectationError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    def filters(self):
        return {
            "route_expectations": route_expectations,
            "route_mismatches": route_mismatches,
        }
