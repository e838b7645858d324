# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""front_end_settings: the front-end roles' values checked on the controller, as relay_rules checks them on the host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible_collections.teamware.qmail.plugins.filter import site_settings
from ansible_collections.teamware.qmail.plugins.module_utils import front_end_files
from ansible_collections.teamware.qmail.plugins.module_utils import front_end_settings as core

ROLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "roles")
# The roles' defaults, from their argument specs (as site_settings hands them in).
DEFAULTS = site_settings.role_defaults(core.SPEC_DEFAULTS)


def front_end_problems(front_end, host):
    return core.front_end_problems(front_end, host, DEFAULTS)


def role_defaults(role):
    with open(os.path.join(ROLES, role, "defaults", "main.yml")) as handle:
        return yaml.safe_load(handle)


@pytest.mark.parametrize("role, prefix", [("ucspi_tcp", "ucspi_tcp_"), ("inetd", "inetd_"), ("qmail", "qmail_")])
def test_the_defaults_are_read_from_the_roles_argument_specs(role, prefix):
    # no copy here: each variable's default is its role's (argument spec and defaults/main.yml agree)
    found = role_defaults(role)
    names = [name for name, owner in core.SPEC_DEFAULTS.items() if owner == role]
    assert names and all(name.startswith(prefix) or name == "qmail_dir" for name in names)
    assert dict((name, DEFAULTS[name]) for name in names) == dict((name, found[name]) for name in names)
    assert not [name for name in dir(core) if name.endswith("_DEFAULTS") and name != "SPEC_DEFAULTS"]


def test_the_roles_defaults_pass_for_both_front_ends():
    assert front_end_problems("tcpserver", {}) == []
    assert front_end_problems("inetd", {}) == []
    # null is the role's default, as site.yml passes it
    assert front_end_problems("tcpserver", {"ucspi_tcp_probe": None, "inetd_bind_address": None}) == []


def test_a_default_handed_in_is_the_one_checked():
    # the defaults come from the caller: a wrong one is named like a wrong inventory value
    problems = core.front_end_problems("tcpserver", {}, dict(DEFAULTS, ucspi_tcp_port="2 5"))
    assert [v for v, _r in problems] == ["ucspi_tcp_port"]


def test_each_front_end_s_values_are_complete_with_the_roles_defaults():
    assert core.front_end_values("inetd", "absent", {}, DEFAULTS, "/var/qmail") == {
        "kind": "inetd", "state": "absent", "inetd_conf": "/etc/inetd.conf", "hosts_allow": "/etc/hosts.allow",
        "hosts_allow_marker": front_end_files.HOSTS_ALLOW_MARKER, "port": "smtp", "qmail_dir": "/var/qmail",
        "tcpd": "/usr/sbin/tcpd", "user": "qmaild", "bind_address": ""}
    assert core.front_end_values("tcpserver", "present", {}, DEFAULTS, "/opt/qmail") == {
        "kind": "tcpserver", "state": "present", "supervise_dir": "/opt/qmail/supervise", "service_dir": "/service",
        "service_name": "qmail-smtpd", "port": "smtp", "bind_address": "0"}
    host = {"inetd_conf": "/x/inetd.conf", "inetd_port": 2525, "inetd_bind_address": None,
            "ucspi_tcp_supervise_dir": "/srv/supervise", "ucspi_tcp_service_dir": "/etc/service"}
    inetd = core.front_end_values("inetd", "absent", host, DEFAULTS, "/var/qmail")
    assert (inetd["inetd_conf"], inetd["port"], inetd["bind_address"]) == ("/x/inetd.conf", "2525", "")
    tcpserver = core.front_end_values("tcpserver", "absent", host, DEFAULTS, "/var/qmail")
    assert (tcpserver["supervise_dir"], tcpserver["service_dir"]) == ("/srv/supervise", "/etc/service")


@pytest.mark.parametrize("host, variable", [
    ({"ucspi_tcp_extra_options": ["-R; rm -rf /"]}, "ucspi_tcp_extra_options[0]"),
    ({"ucspi_tcp_extra_options": ["-u0"]}, "ucspi_tcp_extra_options[0]"),
    ({"ucspi_tcp_extra_options": "-R"}, "ucspi_tcp_extra_options"),
    ({"ucspi_tcp_port": "25; reboot"}, "ucspi_tcp_port"),
    ({"ucspi_tcp_bind_address": "10.0.0"}, "ucspi_tcp_bind_address"),
    ({"ucspi_tcp_log_level": "chatty"}, "ucspi_tcp_log_level"),
    ({"ucspi_tcp_logger": "syslog"}, "ucspi_tcp_logger"),
    ({"ucspi_tcp_log_user": "Log User"}, "ucspi_tcp_log_user"),
    ({"ucspi_tcp_probe": "probe"}, "ucspi_tcp_probe"),
    ({"ucspi_tcp_rules_file": "/etc/tcp.smtp.cdb"}, "ucspi_tcp_rules_file"),
    ({"ucspi_tcp_rules_cdb": "tcp.smtp.cdb"}, "ucspi_tcp_rules_cdb"),
    ({"ucspi_tcp_service_dir": "service"}, "ucspi_tcp_service_dir"),
    ({"ucspi_tcp_supervise_dir": "/service", "ucspi_tcp_service_dir": "/service"}, "ucspi_tcp_supervise_dir"),
    ({"inetd_port": "2 5"}, "inetd_port"),
    ({"inetd_port": 70000}, "inetd_port"),
    ({"inetd_bind_address": "localhost"}, "inetd_bind_address"),
    ({"inetd_user": "qmail d"}, "inetd_user"),
    ({"inetd_tcpd": "tcpd"}, "inetd_tcpd"),
])
def test_each_wrong_value_is_named(host, variable):
    problems = front_end_problems("tcpserver", host)
    assert [name for name, _reason in problems] == [variable], problems


def test_a_shell_command_in_the_extra_options_is_refused_with_the_reason():
    (variable, reason), = front_end_problems("tcpserver", {"ucspi_tcp_extra_options": ["-R", "-c 10 && sh"]})
    assert variable == "ucspi_tcp_extra_options[1]"
    assert "must start with '-' and use only letters, digits" in reason


def test_the_front_end_not_chosen_is_checked_as_far_as_disabling_it_reads_it():
    # inetd chosen: tcpserver is only taken out of the scan directory; its run-script values do not matter
    assert front_end_problems("inetd", {"ucspi_tcp_extra_options": ["; sh"], "ucspi_tcp_port": "x y"}) == []
    assert [v for v, _r in front_end_problems("inetd", {"ucspi_tcp_service_dir": "service"})] == ["ucspi_tcp_service_dir"]
    # tcpserver chosen: inetd's line is still looked for (and removed), so its values must be right
    assert [v for v, _r in front_end_problems("tcpserver", {"inetd_port": "s m t p"})] == ["inetd_port"]


def test_every_wrong_value_at_once_and_qmail_dir_left_to_the_routing_check():
    problems = front_end_problems("tcpserver", {"ucspi_tcp_extra_options": ["x"], "inetd_port": "?",
                                                "qmail_dir": "var/qmail"})
    names = [name for name, _reason in problems]
    assert "ucspi_tcp_extra_options[0]" in names and "inetd_port" in names
    assert not [name for name in names if name.endswith("qmail_dir")]
