# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one source of the per-method example settings (the document's example: qmail's domain company.com, Teamware
Office's tw.company.com, the naming rule tw.).

EXAMPLES holds every variant that appears anywhere, with the method's own keys only (EXAMPLE_KEYS; the server, port
and local domains belong to the page or lab that uses it).  METHOD_SETTINGS picks one variant per method for the
module and role tests.  LAB_METHOD_FILES names the lab's inventory/lab/group_vars/method_*.yml, which
scripts/docs/gen_method_lists.py writes from it.  tests/unit/test_method_lists.py holds the other copies against
EXAMPLES: the lab's files, the settings on the docs/methods/*.md pages and the cases of
tests/unit/plugins/module_utils/test_routing_document.py.

Plain Python without imports: the generator loads this file by its path.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The keys that say which method and how it routes; every other key of an example is the site's.
EXAMPLE_KEYS = ("teamware_integration_method", "teamware_routing", "teamware_domains", "teamware_user_prefix",
                "teamware_rewrite_domain")

_DOMAIN = dict(teamware_domains=["tw.company.com"])
_USER = dict(teamware_domains=["company.com"], teamware_user_prefix="tw.")
_REWRITE = dict(_USER, teamware_rewrite_domain="tw.company.com")

EXAMPLES = {
    "none": dict(_DOMAIN, teamware_integration_method="none"),
    "torecvm_alias_domain": dict(_DOMAIN, teamware_integration_method="torecvm_alias", teamware_routing="domain"),
    "torecvm_alias_user": dict(_USER, teamware_integration_method="torecvm_alias", teamware_routing="user"),
    "torecvm_virtualdomains": dict(_DOMAIN, teamware_integration_method="torecvm_virtualdomains"),
    "torecvm_users": dict(_USER, teamware_integration_method="torecvm_users"),
    "torecvm_users_rewrite": dict(_REWRITE, teamware_integration_method="torecvm_users"),
    "smtp_smtproutes": dict(_DOMAIN, teamware_integration_method="smtp_smtproutes"),
    "smtp_alias_domain": dict(_DOMAIN, teamware_integration_method="smtp_alias", teamware_routing="domain"),
    "smtp_alias_user": dict(_USER, teamware_integration_method="smtp_alias", teamware_routing="user"),
    "smtp_alias_user_rewrite": dict(_REWRITE, teamware_integration_method="smtp_alias", teamware_routing="user"),
    "smtp_users": dict(_USER, teamware_integration_method="smtp_users"),
    "smtp_forward": dict(_REWRITE, teamware_integration_method="smtp_forward"),
}

# One example per method, without the method's name: what the module and role tests add to their base settings.
_DEFAULT_VARIANT = {
    "none": "none",
    "torecvm_alias": "torecvm_alias_domain",
    "torecvm_virtualdomains": "torecvm_virtualdomains",
    "torecvm_users": "torecvm_users",
    "smtp_smtproutes": "smtp_smtproutes",
    "smtp_alias": "smtp_alias_user",
    "smtp_users": "smtp_users",
    "smtp_forward": "smtp_forward",
}

METHOD_SETTINGS = dict(
    (method, dict((k, val) for k, val in EXAMPLES[variant].items() if k != "teamware_integration_method"))
    for method, variant in _DEFAULT_VARIANT.items())


# The lab's inventory/lab/group_vars/method_*.yml (scripts/docs/gen_method_lists.py writes them): one example each,
# the file's comment, and what the lab's tests expect ({user} = the Teamware user's name): the address a sender uses,
# the envelope recipient qmail hands to Teamware Office, and the Teamware address the connector files it under.
LAB_METHOD_FILES = {
    "method_smtp_alias_domain": dict(
        example="smtp_alias_domain",
        comment="Integration method 5.2.2, domain-based: ~alias/.qmail-default delivers the Teamware domain by SMTP (safe wrapper).",
        rcpt="{user}@tw.company.com", envelope="{user}@tw.company.com", address="{user}@tw.company.com"),
    "method_smtp_alias_user": dict(
        example="smtp_alias_user_rewrite",
        comment="Integration method 5.2.2, user-based: ~alias/.qmail-default delivers tw.* by SMTP, rewritten to \"$LOCAL\"@tw.company.com.",
        rcpt="tw.{user}@company.com", envelope="tw.{user}@tw.company.com", address="tw.{user}@tw.company.com"),
    "method_smtp_forward": dict(
        example="smtp_forward",
        comment="Integration method 5.2.4: ~alias/.qmail-default forwards tw.* to the alias base address tw.company.com, routed by smtproutes.",
        rcpt="tw.{user}@company.com", envelope="tw.{user}@tw.company.com", address="tw.{user}@company.com"),
    "method_smtp_smtproutes": dict(
        example="smtp_smtproutes",
        comment="Integration method 5.2.1: smtproutes sends tw.company.com to the Teamware Office server.",
        rcpt="{user}@tw.company.com", envelope="{user}@tw.company.com", address="{user}@tw.company.com"),
    "method_smtp_users": dict(
        example="smtp_users",
        comment="Integration method 5.2.3: users/assign maps tw.* to twu, whose .qmail-default delivers by SMTP (safe wrapper).",
        rcpt="tw.{user}@company.com", envelope="tw.{user}@company.com", address="tw.{user}@company.com"),
    "method_torecvm_alias_domain": dict(
        example="torecvm_alias_domain",
        comment="Integration method 5.1.1, domain-based: ~alias/.qmail-default pipes the Teamware domain into torecvm.",
        rcpt="{user}@tw.company.com", envelope="{user}@tw.company.com", address="{user}@tw.company.com"),
    "method_torecvm_alias_user": dict(
        example="torecvm_alias_user",
        comment="Integration method 5.1.1, user-based: ~alias/.qmail-default pipes tw.* addresses of company.com into torecvm.",
        rcpt="tw.{user}@company.com", envelope="tw.{user}@company.com", address="tw.{user}@company.com"),
    "method_torecvm_users": dict(
        example="torecvm_users_rewrite",
        comment="Integration method 5.1.3: users/assign maps tw.* to twu; the document's rewrite to \"$DEFAULT\"@tw.company.com.",
        rcpt="tw.{user}@company.com", envelope="{user}@tw.company.com", address="{user}@tw.company.com"),
    "method_torecvm_virtualdomains": dict(
        example="torecvm_virtualdomains",
        comment="Integration method 5.1.2: virtualdomains maps tw.company.com to twu, whose .qmail-default pipes into torecvm.",
        rcpt="{user}@tw.company.com", envelope="{user}@tw.company.com", address="{user}@tw.company.com"),
}
