# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""site.yml checks everything before the first write (issue 14, part 3): a configured host whose routing would change
(smtp_smtproutes to another method) and one wrong setting that used to be caught only after qmail's routing had been
rewritten and qmail-send told; the run stops in the first play and the host's files stay byte for byte as they were.
And what only a host can tell (qmail installed, its own entries, programs, service directories): a second host that
cannot take the inventory stops the run in the first play, before the first host changes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil

import pytest

from ...loopback import free_port, named_listener
from .fake_host import FakeHost
from .playbook_helpers import REPO, run_playbook, snapshot
from .test_qmail_role import METHODS

SITE = os.path.join(REPO, "site.yml")
FIRST_PLAY = "PLAY [Check the inventory and look at every host before anything changes]"
QMAIL_PLAY = "PLAY [Configure and check the hosts, a batch at a time]"

pytestmark = pytest.mark.skipif(not shutil.which("tcprules"), reason="needs tcprules (Debian package ucspi-tcp)")


@pytest.fixture(scope="module")
def configured(tmp_path_factory):
    """A host that site.yml configured for smtp_smtproutes behind tcpserver, with no action left over. (Shared by the
    tests: each one shows that its run left the host as it was.)"""
    tmp = tmp_path_factory.mktemp("configured")
    host = FakeHost(tmp / "host")
    first = run_playbook(SITE, tmp, site_variables(host, "smtp_smtproutes"))
    assert first.returncode == 0, first.output
    host.clear_actions()
    host.would_change = {}
    return host


def would_change(tmp_path, host, method, front_end):
    """Without the wrong setting, site.yml would change the routing (check mode; asked once per method)."""
    if (method, front_end) not in host.would_change:
        result = run_playbook(SITE, tmp_path, site_variables(host, method, front_end), check=True, diff=True)
        assert result.returncode == 0, result.output
        host.would_change[method, front_end] = result.changed() > 0 and "control/" in result.output
    return host.would_change[method, front_end]


def site_variables(host, method, front_end="tcpserver", **extra):
    return host.site_variables(front_end, teamware_integration_method=method, **dict(METHODS[method], **extra))


def missing(host, name):
    return os.path.join(host.root, "nowhere", name)


# (the method switched to, the front end, the wrong setting, what the message must say)
LATE_CHECKS = {
    "a shell command in ucspi_tcp_extra_options": (
        "smtp_alias", "tcpserver", lambda host: dict(ucspi_tcp_extra_options=["-R", "-c 40; touch /tmp/owned"]),
        "ucspi_tcp_extra_options[1]: option '-c 40; touch /tmp/owned' must start with '-' and use only letters"),
    "a malformed inetd_port (inetd chosen)": (
        "smtp_alias", "inetd", lambda host: dict(inetd_port="smtp 25"),
        "inetd_port: port 'smtp 25' is neither a number nor a service name"),
    "a malformed inetd_port (tcpserver chosen, inetd's line looked for)": (
        "smtp_alias", "tcpserver", lambda host: dict(inetd_port=99999),
        "inetd_port: "),
    "a malformed ucspi_tcp_service_dir": (
        "smtp_alias", "tcpserver", lambda host: dict(ucspi_tcp_service_dir="service"),
        "ucspi_tcp_service_dir: path 'service' must be absolute"),
    "mime_connector_qmail_host not in the inventory": (
        "smtp_alias", "tcpserver", lambda host: dict(mime_connector_qmail_host="mail2.company.com"),
        "mime_connector_qmail_host: 'mail2.company.com' is not a host of the inventory"),
    "a missing teamware_root": (
        "torecvm_users", "tcpserver", lambda host: dict(teamware_root=missing(host, "to")),
        "mime_connector_root (default teamware_root): {nowhere}/to is not a directory; is Teamware Office installed?"),
    "a missing torecvm": (
        "torecvm_users", "tcpserver", lambda host: dict(teamware_torecvm=missing(host, "torecvm")),
        "mime_connector_torecvm_path (default teamware_torecvm): method torecvm_users pipes mail into torecvm, but "
        "{nowhere}/torecvm is not an executable file"),
    "a missing torecvm spool": (
        "torecvm_alias", "tcpserver", lambda host: dict(teamware_root=host.root + "/to-without-spool"),
        "mime_connector_root (default teamware_root): torecvm delivers into {root}/to-without-spool/smtp, which is not "
        "a directory"),
}


@pytest.mark.parametrize("method, front_end, setting, message", LATE_CHECKS.values(), ids=list(LATE_CHECKS))
def test_a_wrong_setting_stops_the_run_before_anything_changes(tmp_path, configured, method, front_end, setting,
                                                               message):
    host = configured
    extra = setting(host)
    if "to-without-spool" in str(extra.get("teamware_root")) and not os.path.isdir(extra["teamware_root"]):
        os.makedirs(extra["teamware_root"])
    variables = site_variables(host, method, front_end, **extra)
    assert would_change(tmp_path, host, method, front_end)
    before = snapshot(host.root)

    result = run_playbook(SITE, tmp_path, variables)

    assert result.returncode != 0, result.output
    message = message.format(root=host.root, nowhere=missing(host, "")[:-1])
    assert message in result.output, result.output
    assert FIRST_PLAY in result.output and QMAIL_PLAY not in result.output, result.output
    assert snapshot(host.root) == before
    assert host.actions() == []


def broken_qmail(host):
    os.unlink(os.path.join(host.qmail, "bin", "qmail-send"))
    return {}


def contradicting_entry(host):
    domain = METHODS["smtp_smtproutes"]["teamware_domains"][0]
    host.write(os.path.join(host.qmail, "control", "smtproutes"), "%s:partner.example.net\n" % domain)
    return dict(method="smtp_smtproutes")


def file_for_service_dir(host):
    host.site_variables()  # makes the service directories
    host.write(os.path.join(host.root, "service", "qmail-smtpd"), "not a link\n")
    return {}


def missing_tcpd(host):
    return dict(qmail_smtp_front_end="inetd", inetd_tcpd=missing(host, "tcpd"))


# What the second host has wrong, and what the message must say.
HOST_CHECKS = {
    "qmail not installed": (broken_qmail, "qmail_dir: qmail is not installed as the collection expects"),
    "an entry of the host's own that contradicts the method": (
        contradicting_entry, "Entries on the host that the collection did not write contradict the inventory"),
    "something else where the service directory is linked": (file_for_service_dir, "is not a symbolic link"),
    "tcpd missing while inetd_manage_packages is false": (
        missing_tcpd, "inetd_manage_packages: false, but {nowhere}/tcpd cannot be found"),
}


@pytest.mark.parametrize("breakage, message", HOST_CHECKS.values(), ids=list(HOST_CHECKS))
def test_a_host_that_cannot_take_the_inventory_stops_the_run_before_any_host_changes(
        tmp_path, configured, breakage, message):
    good = configured
    assert would_change(tmp_path, good, "smtp_alias", "tcpserver")
    bad = FakeHost(tmp_path / "bad")
    extra = breakage(bad)
    bad_variables = site_variables(bad, extra.pop("method", "smtp_alias"), **extra)
    before = snapshot(good.root)

    # mail1 comes first: in a run without the looks, it would have been rewritten before mail2 failed
    result = run_playbook(SITE, tmp_path, {}, hosts={"mail1": site_variables(good, "smtp_alias"), "mail2": bad_variables})

    assert result.returncode != 0, result.output
    assert message.format(nowhere=missing(bad, "")[:-1]) in result.output, result.output
    assert FIRST_PLAY in result.output and QMAIL_PLAY not in result.output, result.output
    assert snapshot(good.root) == before
    assert good.actions() == []


def test_a_foreign_daemon_on_a_hosts_smtp_port_stops_the_run_before_any_host_changes(tmp_path, configured):
    # issue 14: is the port free? A program that is neither tcpserver nor inetd on mail2's SMTP port (a listener this
    # test starts on loopback, on a free port) stops site.yml in its first play; neither host changes
    good = configured
    assert would_change(tmp_path, good, "smtp_alias", "tcpserver")
    bad = FakeHost(tmp_path / "bad")
    port = free_port()
    bad_variables = site_variables(bad, "smtp_alias", ucspi_tcp_port=str(port))
    before, bad_before = snapshot(good.root), snapshot(bad.root)

    with named_listener(tmp_path, "fake-postfix", port) as pid:
        result = run_playbook(SITE, tmp_path, {}, hosts={"mail1": site_variables(good, "smtp_alias"), "mail2": bad_variables})

    assert result.returncode != 0, result.output
    assert ("ucspi_tcp_port: port %d is held by fake-postfix (pid %d) on 127.0.0.1:%d, which is neither tcpserver nor "
            "inetd, so tcpserver cannot serve qmail-smtpd there: stop it and disable it, then run again; nothing changed"
            % (port, pid, port)) in result.output, result.output
    assert FIRST_PLAY in result.output and QMAIL_PLAY not in result.output, result.output
    assert snapshot(good.root) == before and snapshot(bad.root) == bad_before
    assert good.actions() == [] and bad.actions() == []
