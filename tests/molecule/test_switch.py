# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""After switching methods on a configured host (scenario method_switch): nothing of the old method is left.
That mail follows the new method is checked by test_mail.py, which reads the new method's expectations."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

QMAIL = "/var/qmail"
HOOKS = {
    "torecvm_alias": "alias", "torecvm_virtualdomains": "virtualdomains", "torecvm_users": "users",
    "smtp_smtproutes": "smtproutes", "smtp_alias": "alias", "smtp_users": "users", "smtp_forward": "forward",
}


def applies(scenario):
    return bool(scenario.switched_from)


@pytest.fixture(scope="module")
def switch(scenario):
    return scenario.switched_from


def artifacts(method, domains):
    """What a method leaves in qmail's configuration: (description, shell test that is true when it is there)."""
    hook = HOOKS[method]
    found = []
    if hook == "virtualdomains":
        found.append(("virtualdomains lines", "grep -qv '^#' %s/control/virtualdomains" % QMAIL))
    if hook == "users":
        found.append(("users/assign wildcard", "grep -q '^+' %s/users/assign" % QMAIL))
    if hook in ("virtualdomains", "users"):
        found.append(("~twu/.qmail-default", "test -e /home/twu/.qmail-default"))
    if hook in ("alias", "forward"):
        found.append(("~alias/.qmail-default", "test -e %s/alias/.qmail-default" % QMAIL))
    if hook == "smtproutes":
        for domain in domains:
            found.append(("smtproutes line for %s" % domain, "grep -q '^%s:' %s/control/smtproutes" % (domain, QMAIL)))
    if method.startswith("torecvm"):
        found.append((".qmail file that pipes into torecvm",
                      "grep -qs torecvm %s/alias/.qmail* /home/twu/.qmail*" % QMAIL))
    elif hook in ("alias", "users"):
        found.append((".qmail file that delivers by SMTP",
                      "grep -qs teamware-qmail-remote %s/alias/.qmail* /home/twu/.qmail*" % QMAIL))
    return found


def test_the_switch_changed_the_method(scenario, switch):
    assert switch["teamware_integration_method"] != scenario.method


def test_nothing_of_the_old_method_is_left(scenario, lab, switch):
    old = artifacts(switch["teamware_integration_method"], switch["teamware_domains"])
    new = artifacts(scenario.method, scenario.vars["teamware_domains"])
    kept = set(description for description, dummy in new)
    left = [description for description, test in old
            if description not in kept and lab.run(scenario.qmail, test).rc == 0]
    assert left == []
    for description, test in new:
        assert lab.run(scenario.qmail, test).rc == 0, "the new method's %s is missing" % description
    # qmail reads users/cdb, not users/assign: it must have been compiled after the last change
    assert lab.run(scenario.qmail, "test ! %s/users/assign -nt %s/users/cdb", QMAIL, QMAIL).rc == 0


def test_domains_moved_between_locals_and_rcpthosts(scenario, lab, switch):
    text = lab.read_file(scenario.qmail, "%s/control/locals" % QMAIL)
    local = [line for line in text.splitlines() if line and not line.startswith("#")]
    rcpthosts = lab.read_file(scenario.qmail, "%s/control/rcpthosts" % QMAIL).splitlines()
    for domain in scenario.vars["teamware_domains"]:
        assert domain in rcpthosts
        if scenario.vars["teamware_routing"] == "domain" and HOOKS[scenario.method] != "alias":
            assert domain not in local


def test_the_connector_follows_the_new_method(scenario, lab, switch):
    to_ini = lab.read_file(scenario.teamware, "/to/to.ini").splitlines()
    assert ("sendmail = %d" % (scenario.transport == "torecvm")) in to_ini, to_ini
    if scenario.transport == "smtp":
        assert "smtp_port = %d" % scenario.smtp_port in to_ini, to_ini
        assert lab.check(scenario.teamware, "/usr/local/sbin/lab-mime-connector status").strip() == "up"
