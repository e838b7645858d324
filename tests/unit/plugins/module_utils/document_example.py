# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The example of "Integrating Qmail with Teamware Office", shared by the tests."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.teamware.qmail.plugins.module_utils.routing import Account

TWU = Account("twu", 503, 503, "/home/twu")
ALIAS = Account("alias", 999, 995, "/var/qmail/alias")

BASE = {
    "qmail_local_domains": ["company.com"],
    "teamware_server": "tw.server.company.com",
    "teamware_smtp_port": 2025,
}


def example(method, **extra):
    variables = dict(BASE, teamware_integration_method=method)
    variables.update(extra)
    return variables
