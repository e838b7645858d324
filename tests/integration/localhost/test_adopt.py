# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/adopt.yml on hosts integrated by hand from the document, then site.yml with what it found."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil

import pytest
import yaml

from .fake_host import GID, UID, FakeHost
from .playbook_helpers import REPO, run_playbook, snapshot

ADOPT = os.path.join(REPO, "playbooks", "adopt.yml")
SITE = os.path.join(REPO, "site.yml")

pytestmark = pytest.mark.skipif(not shutil.which("tcprules"), reason="needs tcprules (Debian package ucspi-tcp)")

# What adopt.yml finds replaces these of the test host's settings.
INTEGRATION = ("teamware_server", "teamware_server_address", "teamware_smtp_port", "qmail_local_domains", "qmail_aliases",
               "qmail_relay_clients", "qmail_smtp_front_end")


def read(path):
    with open(path) as handle:
        return handle.read()


def entries(path):
    return set(line for line in read(path).splitlines() if line and not line.startswith("#"))


def hand_made(host, method):
    """The document's lines for the method, plus the host's own entries (backup MX, partner route, admin alias)."""
    control = os.path.join(host.qmail, "control")
    etc = os.path.join(host.root, "etc")
    os.makedirs(etc)
    os.makedirs(os.path.join(host.root, "to"))
    host.write(os.path.join(etc, "passwd"), "alias:x:%d:%d::%s:/bin/false\ntwu:x:%d:%d::%s:/bin/sh\n"
               % (UID, GID, host.alias, UID, GID, host.twu))
    host.write(os.path.join(control, "locals"), "company.com\n")
    host.write(os.path.join(host.alias, ".qmail-root"), "admin@company.com\n")
    if method == "smtp_smtproutes":
        host.write(os.path.join(control, "rcpthosts"), "company.com\ntw.company.com\nbackup.example.org\n")
        host.write(os.path.join(control, "smtproutes"), "tw.company.com:[127.0.0.1]:2025\npartner.example:[192.0.2.7]\n")
        host.write(os.path.join(etc, "tcp.smtp"), '127.:allow,RELAYCLIENT=""\n192.0.2.10:allow,RELAYCLIENT=""\n')
        host.write(os.path.join(host.root, "to", "to.ini"), "[MIME]\nsmtp_port = 2025\n")
        return "tcpserver"
    host.write(os.path.join(control, "rcpthosts"), "company.com\ntw.company.com\n")
    host.write(os.path.join(control, "virtualdomains"), "tw.company.com:twu\n")
    host.write(os.path.join(host.twu, ".qmail-default"), '| %s/torecvm -d%s/to/smtp -pA -f"$SENDER" -r"$SENDER"@"$HOST"\n'
               % (host.root, host.root))
    host.write(os.path.join(etc, "inetd.conf"), "smtp stream tcp nowait qmaild /usr/sbin/tcpd %s/bin/tcp-env %s/bin/qmail-smtpd\n"
               % (host.qmail, host.qmail))
    host.write(os.path.join(etc, "hosts.allow"), "tcp-env:127.0.0.1: setenv = RELAYCLIENT\ntcp-env:192.0.2: setenv = RELAYCLIENT\n")
    return "inetd"


@pytest.mark.parametrize("method", ["smtp_smtproutes", "torecvm_virtualdomains"])
def test_adopt_then_site_keeps_the_hosts_entries_and_settles(tmp_path, method):
    host = FakeHost(tmp_path / "host")
    front_end = hand_made(host, method)
    base = dict((k, v) for k, v in host.site_variables(front_end).items() if k not in INTEGRATION)
    adopt_vars = dict(base, adopt_become=False, adopt_passwd_file=os.path.join(host.root, "etc", "passwd"),
                      adopt_teamware_root=os.path.join(host.root, "to"))
    before = snapshot(host.root)
    adopted = run_playbook(ADOPT, tmp_path, adopt_vars)
    assert adopted.returncode == 0, adopted.output
    assert snapshot(host.root) == before
    assert "Method: %s" % method in adopted.output and "site.yml --check --diff" in adopted.output
    written = os.path.join(str(tmp_path), "host_vars", "localhost", "teamware_qmail.yml")
    found = yaml.safe_load(read(written))
    assert found["teamware_integration_method"] == method
    assert found["qmail_aliases"] == {"root": ["admin@company.com"]}

    # never overwritten without adopt_force
    host.write(written, "# mine\n")
    assert run_playbook(ADOPT, tmp_path, adopt_vars).returncode == 0
    assert read(written) == "# mine\n"

    site_vars = dict(base, **found)
    checked = run_playbook(SITE, tmp_path, site_vars, check=True, diff=True)
    assert checked.returncode == 0, checked.output
    assert snapshot(host.root) == before

    first = run_playbook(SITE, tmp_path, site_vars)
    assert first.returncode == 0, first.output
    control = os.path.join(host.qmail, "control")
    if method == "smtp_smtproutes":
        assert entries(os.path.join(control, "rcpthosts")) == {"company.com", "tw.company.com", "backup.example.org"}
        assert entries(os.path.join(control, "smtproutes")) == {"tw.company.com:[127.0.0.1]:2025", "partner.example:[192.0.2.7]"}
        assert found["qmail_extra_rcpthosts"] == ["backup.example.org"]
    else:
        assert entries(os.path.join(control, "virtualdomains")) == {"tw.company.com:twu"}
        assert '-r"$DEFAULT"@"$HOST"' in read(os.path.join(host.twu, ".qmail-default"))
        assert "tcp-env: 192.0.2.: setenv = RELAYCLIENT" in read(os.path.join(host.root, "etc", "hosts.allow"))
    assert read(os.path.join(host.alias, ".qmail-root")).splitlines()[1:] == ["&admin@company.com"]
    host.clear_actions()
    settled = snapshot(host.root)
    second = run_playbook(SITE, tmp_path, site_vars)
    assert second.returncode == 0 and second.changed() == 0, second.output
    assert snapshot(host.root) == settled
