# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""After switching methods on a configured host (scenario method_switch): nothing of the old method is left.
That mail follows the new method is checked by test_mail.py, which reads the new method's expectations."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from lab import METHODS

QMAIL = "/var/qmail"
# What a hook leaves in qmail's configuration, by the place discovery finds it (Hook.found_at), for the Teamware
# domains; and the word of a transport's .qmail pipe (Transport.delivery_found).
LEFT_AT = {
    "virtualdomains": lambda domains: [("virtualdomains lines", "grep -qv '^#' %s/control/virtualdomains" % QMAIL)],
    "users": lambda domains: [("users/assign wildcard", "grep -q '^+' %s/users/assign" % QMAIL)],
    "alias": lambda domains: [("~alias/.qmail-default", "test -e %s/alias/.qmail-default" % QMAIL)],
    "smtproutes": lambda domains: [("smtproutes line for %s" % domain, "grep -q '^%s:' %s/control/smtproutes" % (domain, QMAIL))
                                   for domain in domains],
}
PIPE_WORD = {"torecvm": "torecvm", "qmail_remote": "teamware-qmail-remote"}


def applies(scenario):
    return bool(scenario.switched_from)


@pytest.fixture(scope="module")
def switch(scenario):
    return scenario.switched_from


def artifacts(name, domains):
    """What a method leaves in qmail's configuration: (description, shell test that is true when it is there)."""
    method = METHODS[name]
    hook = method.hook
    found = LEFT_AT[hook.found_at](domains)
    if hook.needs_routing_user:
        found.append(("~twu/.qmail-default", "test -e /home/twu/.qmail-default"))
    if hook.pipes_delivery:
        word = PIPE_WORD[method.transport.delivery_found]
        found.append((".qmail file that pipes into %s" % word, "grep -qs %s %s/alias/.qmail* /home/twu/.qmail*" % (word, QMAIL)))
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
        made_local = scenario.method_object.hook.teamware_local_domains(scenario.routing_kind, [domain])
        assert (domain in local) == bool(made_local), (domain, local)


def test_the_connector_follows_the_new_method(scenario, lab, switch):
    to_ini = lab.read_file(scenario.teamware, "/to/to.ini").splitlines()
    assert ("sendmail = %d" % scenario.method_object.transport.sendmail) in to_ini, to_ini
    if scenario.transport == "smtp":
        assert "smtp_port = %d" % scenario.smtp_port in to_ini, to_ini
        assert lab.check(scenario.teamware, "/usr/local/sbin/lab-mime-connector status").strip() == "up"
