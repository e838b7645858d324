# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-method settings of the document's example, shared by the module and role tests."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

METHOD_SETTINGS = {
    "none": dict(teamware_domains=["tw.company.com"]),
    "torecvm_alias": dict(teamware_routing="domain", teamware_domains=["tw.company.com"]),
    "torecvm_virtualdomains": dict(teamware_domains=["tw.company.com"]),
    "torecvm_users": dict(teamware_domains=["company.com"], teamware_user_prefix="tw."),
    "smtp_smtproutes": dict(teamware_domains=["tw.company.com"]),
    "smtp_alias": dict(teamware_routing="user", teamware_domains=["company.com"], teamware_user_prefix="tw."),
    "smtp_users": dict(teamware_domains=["company.com"], teamware_user_prefix="tw."),
    "smtp_forward": dict(teamware_domains=["company.com"], teamware_user_prefix="tw.", teamware_rewrite_domain="tw.company.com"),
}
