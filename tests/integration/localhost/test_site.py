# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""site.yml against localhost with every path under a temporary directory (no container, no qmail)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import routing

from .fake_host import FakeHost
from .playbook_helpers import REPO, run_playbook, snapshot
from .test_qmail_role import METHODS

SITE = os.path.join(REPO, "site.yml")

pytestmark = pytest.mark.skipif(not shutil.which("tcprules"), reason="needs tcprules (Debian package ucspi-tcp)")

# Every method is covered by test_qmail_role.py; here each front end and both transports once.
CASES = [("smtp_smtproutes", "tcpserver"), ("smtp_forward", "tcpserver"), ("torecvm_users", "inetd")]


@pytest.fixture
def host(tmp_path):
    return FakeHost(tmp_path / "host")


def site_variables(host, method, front_end="tcpserver", **extra):
    return host.site_variables(front_end, teamware_integration_method=method, **dict(METHODS[method], **extra))


def read(path):
    with open(path) as handle:
        return handle.read()


@pytest.mark.parametrize("method, front_end", CASES)
def test_site_configures_everything_and_a_second_run_changes_nothing(tmp_path, host, method, front_end):
    first = run_playbook(SITE, tmp_path, site_variables(host, method, front_end))
    assert first.returncode == 0, first.output
    etc = os.path.join(host.root, "etc")
    if front_end == "tcpserver":
        rules = [line for line in read(os.path.join(etc, "tcp.smtp")).splitlines() if not line.startswith("#")]
        assert rules == ['127.:allow,RELAYCLIENT=""', '192.0.2.10:allow,RELAYCLIENT=""', ":allow"]
        assert os.path.exists(os.path.join(etc, "tcp.smtp.cdb"))
        assert os.path.islink(os.path.join(host.root, "service", "qmail-smtpd"))
        assert not os.path.exists(os.path.join(etc, "inetd.conf")) or "qmail-smtpd" not in read(os.path.join(etc, "inetd.conf"))
    else:
        assert "tcp-env: 192.0.2.10: setenv = RELAYCLIENT" in read(os.path.join(etc, "hosts.allow"))
        assert "tcp-env qmail-smtpd" in read(os.path.join(etc, "inetd.conf")).replace(host.qmail + "/bin/", "")
        assert not os.path.lexists(os.path.join(host.root, "service", "qmail-smtpd"))
    to_ini = read(os.path.join(host.root, "to", "to.ini"))
    assert ("sendmail = 1" in to_ini) == routing.METHODS[method].transport.sendmail
    assert "own_node" in read(os.path.join(host.root, "to", "tombsmtp.ini"))
    host.clear_actions()
    before = snapshot(host.root)
    second = run_playbook(SITE, tmp_path, site_variables(host, method, front_end))
    assert second.returncode == 0, second.output
    assert second.changed() == 0, second.output
    assert host.actions() == []
    assert snapshot(host.root) == before


def test_check_mode_on_a_fresh_tree_changes_nothing(tmp_path, host):
    variables = site_variables(host, "smtp_alias")
    before = snapshot(host.root)
    result = run_playbook(SITE, tmp_path, variables, check=True, diff=True)
    assert result.returncode == 0, result.output
    assert result.changed() > 0
    assert snapshot(host.root) == before
    assert host.actions() == []


@pytest.mark.parametrize("extra, variable", [
    (dict(teamware_domains=["company.com"], teamware_routing="domain"), "teamware_domains"),
    (dict(qmail_relay_clients=["10.0.0.0/8"]), "qmail_relay_clients"),
    (dict(teamware_smtp_port=25, teamware_server_address="127.0.0.1"), "teamware_smtp_port"),
    (dict(qmail_smtp_front_end="xinetd"), "qmail_smtp_front_end"),
    (dict(teamware_route_check_sample=["postmaster@company.com", {"a": 1}]), "teamware_route_check_sample[1]: {'a': 1}"),
])
def test_invalid_inventory_fails_before_any_file_changes(tmp_path, host, extra, variable):
    variables = site_variables(host, "smtp_alias", **extra)
    before = snapshot(host.root)
    result = run_playbook(SITE, tmp_path, variables)
    assert result.returncode != 0
    assert variable in result.output
    # routing and site settings are not reported as the MIME connector's
    assert "Invalid Teamware Office MIME connector settings" not in result.output
    assert snapshot(host.root) == before
    assert host.actions() == []


@pytest.mark.parametrize("extra, message", [
    (dict(teamware_domains=["company.com"], teamware_routing="domain"),
     "msg\": \"Invalid qmail and Teamware Office routing settings (the inventory of localhost), nothing changed: teamware_domains"),
    (dict(mime_connector_mode="open"), "msg\": \"Invalid Teamware Office MIME connector settings, nothing changed: mime_connector_mode"),
], ids=["routing", "connector"])
def test_routing_and_connector_problems_have_their_own_headings(tmp_path, host, extra, message):
    result = run_playbook(SITE, tmp_path, site_variables(host, "smtp_alias", **extra), check=True)
    assert result.returncode != 0
    assert message in result.output, result.output
    other = [heading for heading in ("Invalid qmail and Teamware Office routing", "Invalid Teamware Office MIME connector")
             if heading not in message]
    assert other[0] not in result.output, result.output


def test_a_misspelt_variable_stops_the_run_before_anything_changes(tmp_path, host):
    """site.yml imported twice: on the second time hostvars holds the facts and registered results of the first, which
    the inventory check knows. Then qmail_aliases misspelt, which would have removed ~alias/.qmail-root: the run stops
    in the first play, naming it, and nothing changes."""
    twice = os.path.join(str(tmp_path), "site_twice.yml")
    with open(twice, "w") as handle:
        handle.write("---\n- name: First time\n  ansible.builtin.import_playbook: %s\n"
                     "- name: Second time\n  ansible.builtin.import_playbook: %s\n" % (SITE, SITE))
    variables = site_variables(host, "smtp_smtproutes")
    first = run_playbook(twice, tmp_path, variables)
    assert first.returncode == 0, first.output
    assert os.path.exists(os.path.join(host.alias, ".qmail-root"))
    host.clear_actions()
    before = snapshot(host.root)
    variables["qmail_alaises"] = variables.pop("qmail_aliases")
    result = run_playbook(SITE, tmp_path, variables)
    assert result.returncode != 0, result.output
    assert "qmail_alaises: no role of teamware.qmail" in result.output
    assert "did you mean qmail_aliases?" in result.output
    assert "teamware_qmail_own_variables" in result.output
    assert "Configure the qmail hosts" not in result.output
    assert snapshot(host.root) == before
    assert host.actions() == []


def test_a_variable_of_the_admins_own_passes_when_listed(tmp_path, host):
    variables = site_variables(host, "smtp_smtproutes", qmail_backup_host="b.company.com")
    refused = run_playbook(SITE, tmp_path, variables, check=True)
    assert refused.returncode != 0 and "qmail_backup_host" in refused.output
    variables["teamware_qmail_own_variables"] = ["qmail_backup_host"]
    passed = run_playbook(SITE, tmp_path, variables, check=True)
    assert passed.returncode == 0, passed.output


def test_a_mime_connector_qmail_host_not_in_the_inventory_is_named(tmp_path, host):
    variables = site_variables(host, "smtp_smtproutes", mime_connector_qmail_host="nosuchhost")
    before = snapshot(host.root)
    result = run_playbook(SITE, tmp_path, variables)
    assert result.returncode != 0
    assert "mime_connector_qmail_host: 'nosuchhost' is not a host of the inventory" in result.output, result.output
    assert "hostvars['nosuchhost']" not in result.output
    assert snapshot(host.root) == before
    assert host.actions() == []


def test_switching_the_front_end_disables_the_old_one_first(tmp_path, host):
    """tcpserver -> inetd -> tcpserver: the chosen front end is not configured while the other still serves the port;
    the other is disabled, then the chosen one is configured; each switch settles in one run."""
    etc = os.path.join(host.root, "etc")
    link = os.path.join(host.root, "service", "qmail-smtpd")
    assert run_playbook(SITE, tmp_path, site_variables(host, "smtp_smtproutes", "tcpserver")).returncode == 0
    assert os.path.islink(link)

    to_inetd = run_playbook(SITE, tmp_path, site_variables(host, "smtp_smtproutes", "inetd"))
    assert to_inetd.returncode == 0, to_inetd.output
    assert not os.path.lexists(link)
    assert "tcp-env qmail-smtpd" in read(os.path.join(etc, "inetd.conf")).replace(host.qmail + "/bin/", "")
    # the inetd role looked (first play) and saw tcpserver still serving the port, so the batch play did not include
    # its changes; the ucspi_tcp role disabled tcpserver, then the inetd role ran (its look and its changes)
    assert to_inetd.output.count("included: teamware.qmail.inetd for localhost") == 2, to_inetd.output
    assert to_inetd.output.count("included: teamware.qmail.ucspi_tcp for localhost") == 1, to_inetd.output
    settled = run_playbook(SITE, tmp_path, site_variables(host, "smtp_smtproutes", "inetd"))
    assert settled.returncode == 0 and settled.changed() == 0, settled.output
    # its look, and its apply, which ends at once
    assert settled.output.count("included: teamware.qmail.inetd for localhost") == 2, settled.output
    assert "included: teamware.qmail.ucspi_tcp" not in settled.output

    to_tcpserver = run_playbook(SITE, tmp_path, site_variables(host, "smtp_smtproutes", "tcpserver"))
    assert to_tcpserver.returncode == 0, to_tcpserver.output
    assert os.path.islink(link)
    assert "qmail-smtpd" not in read(os.path.join(etc, "inetd.conf"))
    assert "RELAYCLIENT" not in read(os.path.join(etc, "hosts.allow"))
    assert to_tcpserver.output.count("included: teamware.qmail.ucspi_tcp for localhost") == 2, to_tcpserver.output
    settled = run_playbook(SITE, tmp_path, site_variables(host, "smtp_smtproutes", "tcpserver"))
    assert settled.returncode == 0 and settled.changed() == 0, settled.output
    assert "included: teamware.qmail.inetd" not in settled.output


# A host set up by hand that serves more than Teamware (docs/existing-hosts.md).
HAND_MADE = {
    "control/rcpthosts": "company.com\nbackup.example.org\n",
    "control/virtualdomains": "other.example:other.example\n",
    "control/smtproutes": "partner.example:[192.0.2.7]\n",
    "users/assign": "+other.example-:vpopmail:89:89:/home/vpopmail/domains/other.example:-::\n.\n",
}


def test_a_hand_made_host_keeps_its_own_entries_and_settles(tmp_path, host):
    for relative, text in HAND_MADE.items():
        host.write(os.path.join(host.qmail, relative), text)
    first = run_playbook(SITE, tmp_path, site_variables(host, "smtp_smtproutes"))
    assert first.returncode == 0, first.output
    for relative, text in HAND_MADE.items():
        present = read(os.path.join(host.qmail, relative)).splitlines()
        assert all(line in present for line in text.splitlines()), (relative, present)
    assert "tw.company.com:[127.0.0.1]:2025" in read(os.path.join(host.qmail, "control", "smtproutes"))
    host.clear_actions()
    before = snapshot(host.root)
    second = run_playbook(SITE, tmp_path, site_variables(host, "smtp_smtproutes"))
    assert second.returncode == 0 and second.changed() == 0, second.output
    assert host.actions() == [] and snapshot(host.root) == before


def test_a_contradicting_host_entry_stops_site_before_any_change(tmp_path, host):
    host.write(os.path.join(host.qmail, "control", "virtualdomains"), "tw.company.com:vpopmail\n")
    variables = site_variables(host, "smtp_smtproutes")
    before = snapshot(host.root)
    result = run_playbook(SITE, tmp_path, variables)
    assert result.returncode != 0
    assert "virtualdomains:tw.company.com" in result.output and "qmail_take_over" in result.output
    assert snapshot(host.root) == before
    taken = run_playbook(SITE, tmp_path, dict(variables, qmail_take_over=["virtualdomains:tw.company.com"]))
    assert taken.returncode == 0, taken.output
    assert not os.path.exists(os.path.join(host.qmail, "control", "virtualdomains"))


def test_a_run_killed_before_the_hup_is_finished_by_the_next(tmp_path, host):
    """The state file records the HUP before the files change; a run killed after the files still owes it."""
    variables = site_variables(host, "smtp_smtproutes")
    assert run_playbook(SITE, tmp_path, variables).returncode == 0
    # what a kill between writing locals and the HUP leaves: the new files, and the HUP recorded as owed
    state_path = os.path.join(host.qmail, "control", "teamware-qmail.json")
    state = json.loads(read(state_path))
    state["pending"] = ["hup_qmail_send"]
    host.write(state_path, json.dumps(state))
    host.clear_actions()
    rerun = run_playbook(SITE, tmp_path, variables)
    assert rerun.returncode == 0, rerun.output
    assert host.actions() == ["qmailctl hup"]
    assert json.loads(read(state_path))["pending"] == []
    host.clear_actions()
    settled = run_playbook(SITE, tmp_path, variables)
    assert settled.returncode == 0 and settled.changed() == 0, settled.output
    assert host.actions() == []


def test_a_run_killed_between_stopping_and_starting_the_connector_is_finished_by_the_next(tmp_path, host):
    """The start of the connector fails once (as a run killed after the stop would leave it): the marker written before
    the stop stays, and the next run, whose files are right, starts the connector all the same."""
    variables = site_variables(host, "smtp_smtproutes")
    assert run_playbook(SITE, tmp_path, variables).returncode == 0
    marker = os.path.join(host.root, "to", "teamware-qmail-connector.state")
    assert not os.path.exists(marker)
    once = os.path.join(host.root, "start-fails-once")
    host.write(once, "")
    failing_start = os.path.join(host.root, "failing-start")
    host.stub(failing_start, 'if [ -e "%s" ]; then rm -f "%s"; exit 1; fi' % (once, once))
    changed = dict(variables, mime_connector_no_relay=0, mime_connector_start_command=failing_start + " start")
    host.clear_actions()
    killed = run_playbook(SITE, tmp_path, changed)
    assert killed.returncode != 0, killed.output
    assert host.actions() == ["qmailctl stop", "failing-start start"]
    assert os.path.exists(marker)
    host.clear_actions()
    rerun = run_playbook(SITE, tmp_path, dict(variables, mime_connector_no_relay=0))
    assert rerun.returncode == 0, rerun.output
    # the files were already right: no stop, only the start the connector was owed
    assert host.actions() == ["qmailctl start"]
    assert not os.path.exists(marker)
    host.clear_actions()
    settled = run_playbook(SITE, tmp_path, dict(variables, mime_connector_no_relay=0))
    assert settled.returncode == 0 and settled.changed() == 0, settled.output
    assert host.actions() == []


def test_a_stopped_connector_is_started_when_the_status_command_says_so(tmp_path, host):
    running = os.path.join(host.root, "connector-running")
    variables = site_variables(host, "smtp_smtproutes", mime_connector_status_command="test -e %s" % running,
                               mime_connector_start_command="touch %s" % running)
    first = run_playbook(SITE, tmp_path, variables)
    assert first.returncode == 0, first.output
    assert os.path.exists(running)
    settled = run_playbook(SITE, tmp_path, variables)
    assert settled.returncode == 0 and settled.changed() == 0, settled.output
    os.unlink(running)  # the connector stopped by itself; its files are right
    host.clear_actions()
    rerun = run_playbook(SITE, tmp_path, variables)
    assert rerun.returncode == 0, rerun.output
    assert os.path.exists(running)
    assert host.actions() == []  # no stop: only the start


def test_a_run_killed_before_tcpserver_was_restarted_is_finished_by_the_next(tmp_path, host, monkeypatch):
    """svc -t fails once after the run script changed (as a run killed before the restart would leave it): the restart
    recorded in the service directory is made by the next run, which changes no file."""
    tools = os.path.join(host.root, "daemontools")
    os.makedirs(tools)
    once = os.path.join(host.root, "svc-fails-once")
    host.stub(os.path.join(tools, "svok"))
    host.stub(os.path.join(tools, "svc"), 'if [ -e "%s" ]; then rm -f "%s"; exit 111; fi' % (once, once))
    monkeypatch.setenv("PATH", tools + os.pathsep + os.environ["PATH"])
    variables = site_variables(host, "smtp_smtproutes")
    assert run_playbook(SITE, tmp_path, variables).returncode == 0
    real = os.path.join(host.root, "supervise", "qmail-smtpd")
    state = os.path.join(real, "teamware-qmail.json")
    quiet = dict(variables, ucspi_tcp_log_level="quiet")
    host.write(once, "")
    host.clear_actions()
    killed = run_playbook(SITE, tmp_path, quiet)
    assert killed.returncode != 0, killed.output
    assert "tcpserver -q" in read(os.path.join(real, "run"))
    assert json.loads(read(state))["owed"] == ["restart_tcpserver"]
    host.clear_actions()
    rerun = run_playbook(SITE, tmp_path, quiet)
    assert rerun.returncode == 0, rerun.output
    assert [a for a in host.actions() if a.startswith("svc ")] == ["svc -t %s" % real]
    assert not os.path.exists(state)
    host.clear_actions()
    settled = run_playbook(SITE, tmp_path, quiet)
    assert settled.returncode == 0 and settled.changed() == 0, settled.output
    assert host.actions() == []


def test_a_run_killed_before_the_inetd_hup_is_finished_by_the_next(tmp_path, host, monkeypatch):
    """The HUP of inetd fails once after inetd.conf changed (as a run killed before the HUP would leave it): the HUP
    recorded beside inetd.conf is sent by the next run, which changes no file."""
    tools = os.path.join(host.root, "tools")
    os.makedirs(tools)
    once = os.path.join(host.root, "hup-fails-once")
    host.stub(os.path.join(tools, "start-stop-daemon"), 'if [ -e "%s" ]; then rm -f "%s"; exit 2; fi' % (once, once))
    monkeypatch.setenv("PATH", tools + os.pathsep + os.environ["PATH"])
    variables = site_variables(host, "torecvm_users", "inetd", inetd_reload_method="pidfile")
    assert run_playbook(SITE, tmp_path, variables).returncode == 0
    conf = os.path.join(host.root, "etc", "inetd.conf")
    state = os.path.join(host.root, "etc", "teamware-qmail-inetd.json")
    assert not os.path.exists(state)
    moved = dict(variables, inetd_port="2525")
    host.write(once, "")
    host.clear_actions()
    killed = run_playbook(SITE, tmp_path, moved)
    assert killed.returncode != 0, killed.output
    assert read(conf).startswith("2525 stream tcp nowait nobody ")
    assert json.loads(read(state))["owed"] == ["hup_inetd"]
    host.clear_actions()
    rerun = run_playbook(SITE, tmp_path, moved)
    assert rerun.returncode == 0, rerun.output
    assert [a for a in host.actions() if a.startswith("start-stop-daemon ")] == [
        "start-stop-daemon --stop --signal HUP --quiet --pidfile /run/inetd.pid --exec /usr/sbin/inetd"]
    assert not os.path.exists(state)
    host.clear_actions()
    settled = run_playbook(SITE, tmp_path, moved)
    assert settled.returncode == 0 and settled.changed() == 0, settled.output
    assert host.actions() == []
