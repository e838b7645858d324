# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/adopt.yml on hosts integrated by hand from the document, one per method, then site.yml with what it found.

Each host is built from the document's own lines for the method (section 5, as printed; only the paths and ids the
document tells the admin to replace are the test tree's: /to, /usr/bin/torecvm, the uid and gid of twu, the inetd
user), plus the host's own entries of every kind: a backup MX in rcpthosts and morercpthosts, another product's
virtual domain with vpopmail's users/assign line, a partner route, the admin's own ~alias/.qmail files, and front-end
lines of the host's own (a tcpserver rule, an inetd.conf service, a hosts.allow line).

For each method: adopt.yml changes nothing on the host; site.yml --check --diff removes nothing of the host's own
but the document's unsafe lines (docs/document-vs-qmail.md); site.yml keeps every entry of the host's own and a
second run changes nothing; a front-end line that contradicts the inventory stops site.yml with nothing changed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
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

TORECVM = '| /usr/bin/torecvm -d/to/smtp -pA -f"$SENDER" -r"$RECIPIENT"'
INETD = "smtp stream tcp nowait qmaild /usr/sbin/tcpd /var/qmail/bin/tcp-env /var/qmail/bin/qmail-smtpd"
VPOPMAIL = "+other.example-:other.example:89:89:/home/vpopmail/domains/other.example:-::"

# The document's lines, method by method: file (relative to qmail's home, 'twu/' for the routing user's home) ->
# lines; 'front_end'; 'teamware': tombsmtp.ini and to.ini of the Teamware Office host; 'answers': what adopt.yml
# cannot decide and says so (the admin answers it in the inventory).
DOCUMENT = {
    "torecvm_alias": {  # 5.1.1, domain-based: the Teamware domain is local (5.1)
        "control/rcpthosts": ["company.com", "tw.company.com"], "control/locals": ["company.com", "tw.company.com"],
        "alias/.qmail-default": [TORECVM],
        "front_end": "inetd", "teamware": {"tombsmtp.ini": "own_node = tw.company.com\n"}},
    "torecvm_virtualdomains": {  # 5.1.2
        "control/rcpthosts": ["company.com", "tw.company.com"], "control/virtualdomains": ["tw.company.com:twu"],
        "twu/.qmail-default": ['| /usr/bin/torecvm -d/to/smtp -pA -f"$SENDER" -r"$DEFAULT"@"$HOST"'],
        "front_end": "inetd"},
    "torecvm_users": {  # 5.1.3, with the rewrite the section shows
        "users/assign": ["+tw.:twu:503:503:/home/twu:-::"],
        "twu/.qmail-default": ['| /usr/bin/torecvm -d/to/smtp -pA -f"$SENDER" -r"$DEFAULT"@tw.company.com'],
        "front_end": "tcpserver"},
    "smtp_smtproutes": {  # 5.2.1
        "control/rcpthosts": ["company.com", "tw.company.com"], "control/smtproutes": ["tw.company.com:tw.server.company.com:2025"],
        "front_end": "tcpserver", "teamware": {"to.ini": "[MIME]\nsmtp_port = 2025\n"}},
    "smtp_alias": {  # 5.2.2, domain-based (the Teamware domain is local), same machine
        "control/rcpthosts": ["company.com", "tw.company.com"], "control/locals": ["company.com", "tw.company.com"],
        "control/smtproutes": ["tw.server.company.com:[127.0.0.1]:2025"],
        "alias/.qmail-default": ['| qmail-remote tw.server.company.com "$SENDER" "$RECIPIENT"'],
        "front_end": "inetd",
        "teamware": {"tombsmtp.ini": "own_node = tw.company.com\n", "to.ini": "[MIME]\nsmtp_port = 2025\n"}},
    "smtp_users": {  # 5.2.3
        "users/assign": ["+tw.:twu:503:503:/home/twu:-::"],
        "twu/.qmail-default": ['| qmail-remote tw.server.com "$SENDER" "$RECIPIENT"'],
        "front_end": "tcpserver"},
    "smtp_forward": {  # 5.2.4, same machine
        "control/smtproutes": ["tw.company.com:[127.0.0.1]:2025"],
        "alias/.qmail-default": ['| forward "$LOCAL"@tw.company.com'],
        "front_end": "tcpserver",
        "teamware": {"tombsmtp.ini": "own_node = company.com\nown_node = A:tw.company.com\n", "to.ini": "[MIME]\nsmtp_port = 2025\n"},
        # While anything is undecided adopt.yml works out no qmail_take_over: the admin names the files its report
        # lists as unsafe (the document's line) and as the alias to rewrite, as site.yml's conflict would.
        "answers": {"teamware_user_prefix": "tw.", "qmail_take_over": ["alias/.qmail-default", "alias/.qmail-root"]}},
}

# The host's own entries, on every host: file -> lines (kept by every run, in this order).
HOST_OWN = {
    "control/rcpthosts": ["backup.example.org", "other.example"],
    "control/morercpthosts": ["backup2.example.org"],
    "control/virtualdomains": ["other.example:other.example"],
    "control/smtproutes": ["partner.example:[192.0.2.7]"],
    "users/assign": [VPOPMAIL],
    "alias/.qmail-archive": ["./Maildir-archive/"],
}
HOST_OWN_FRONT_END = {
    "tcpserver": {"etc/tcp.smtp": ["198.51.100.7:deny"]},
    "inetd": {"etc/inetd.conf": ["pop3 stream tcp nowait root /var/qmail/bin/qmail-popup qmail-popup mail.company.com "
                                 "/bin/checkpassword /var/qmail/bin/qmail-pop3d Maildir"],
              "etc/hosts.allow": ["sshd: 192.0.2.1"]},
}
# The relay clients of the document's front-end lines (3.1.1, 3.1.2).
RELAY_CLIENTS = {"tcpserver": ["127.", "192.0.2.10"], "inetd": ["127.0.0.1", "192.0.2.10"]}
# A line of the host's own that contradicts the inventory, for the conflict run: file -> line, the entry it names.
CONFLICT = {
    "tcpserver": ("etc/tcp.smtp", "192.0.2.10:deny", "tcprules:192.0.2.10"),
    "inetd": ("etc/inetd.conf", "25 stream tcp nowait root /usr/sbin/exim4 exim4 -bs", "inetd.conf:25"),
}


def read(path):
    with open(path) as handle:
        return handle.read()


def lines_of(path):
    return read(path).splitlines() if os.path.exists(path) else []


class Host(FakeHost):
    """The test tree as the document's admin left it."""

    def path(self, name):
        if name.startswith("twu/"):
            return os.path.join(self.twu, name[4:])
        if name.startswith("etc/"):
            return os.path.join(self.root, name)
        return os.path.join(self.qmail, name)

    def localise(self, line):
        """The paths and ids the document tells the admin to replace, as the test tree has them."""
        line = line.replace("/usr/bin/torecvm", os.path.join(self.root, "torecvm")).replace("-d/to/", "-d%s/to/" % self.root)
        line = line.replace(":503:503:/home/twu:", ":%d:%d:%s:" % (UID, GID, self.twu)).replace("/var/qmail/", self.qmail + "/")
        return line.replace("nowait qmaild ", "nowait nobody ")

    def build(self, method):
        doc = DOCUMENT[method]
        files = dict((name, []) for name in ("control/rcpthosts", "control/locals", "users/assign"))
        files["control/locals"] = ["company.com"]
        files["control/rcpthosts"] = ["company.com"]
        files["alias/.qmail-root"] = ["admin@company.com"]
        for name, lines in list(HOST_OWN.items()) + list(HOST_OWN_FRONT_END[doc["front_end"]].items()):
            files[name] = list(lines)
        for name, lines in doc.items():
            if "/" in name:
                own = HOST_OWN.get(name, [])
                files[name] = own + [line for line in lines if line not in own] if name != "control/locals" else lines
        if doc["front_end"] == "tcpserver":
            # 3.1.2: the document's rules file
            files["etc/tcp.smtp"] = ['127.:allow,RELAYCLIENT=""', '192.0.2.10:allow,RELAYCLIENT=""'] + files["etc/tcp.smtp"]
        else:
            # 3.1.1: the document's inetd.conf and hosts.allow lines (the dotless prefix is its own)
            files["etc/inetd.conf"] = [INETD] + files["etc/inetd.conf"]
            files["etc/hosts.allow"] += ["tcp-env:127.0.0.1: setenv = RELAYCLIENT", "tcp-env:192.0.2.10: setenv = RELAYCLIENT"]
        files["users/assign"] = files["users/assign"] + ["."]
        for name, lines in files.items():
            self.write(self.path(name), "".join(self.localise(line) + "\n" for line in lines))
        self.write(os.path.join(self.root, "etc", "passwd"), "alias:x:%d:%d::%s:/bin/false\ntwu:x:%d:%d::%s:/bin/sh\n"
                   % (UID, GID, self.alias, UID, GID, self.twu))
        for name, text in doc.get("teamware", {}).items():
            self.write(os.path.join(self.root, "to", name), text)
        return files


def host_for(tmp_path, method):
    host = Host(tmp_path / "host")
    os.makedirs(os.path.join(host.root, "etc"))
    os.makedirs(os.path.join(host.root, "to", "smtp"))
    base = dict((k, v) for k, v in host.site_variables(DOCUMENT[method]["front_end"]).items() if k not in INTEGRATION)
    files = host.build(method)
    return host, base, files


def adopted_variables(tmp_path, host, base, method):
    """Run adopt.yml twice (read-only on the host; an existing file is never overwritten); the variables it found."""
    adopt_vars = dict(base, adopt_become=False, adopt_passwd_file=os.path.join(host.root, "etc", "passwd"),
                      adopt_teamware_root=os.path.join(host.root, "to"))
    before = snapshot(host.root)
    adopted = run_playbook(ADOPT, tmp_path, adopt_vars, extra_args=["-v"])
    assert adopted.returncode == 0, adopted.output
    assert snapshot(host.root) == before
    assert "Method: %s" % method in adopted.output and "site.yml --check --diff" in adopted.output
    written = os.path.join(str(tmp_path), "host_vars", "localhost", "teamware_qmail.yml")
    answers = DOCUMENT[method].get("answers", {})
    if answers:
        # It guesses nothing: it names what it cannot decide and writes no file; the admin answers in the inventory.
        assert "UNDECIDED teamware_user_prefix" in adopted.output
        assert not os.path.exists(written)
        answers = dict(answers, qmail_take_over=[host.path(name) for name in answers["qmail_take_over"]])
        return dict(integration_result(adopted.output)["variables"], **answers)
    found = yaml.safe_load(read(written))
    host.write(written, "# mine\n")
    assert run_playbook(ADOPT, tmp_path, adopt_vars).returncode == 0
    assert read(written) == "# mine\n"
    return found


def integration_result(output):
    """qmail_integration_info's result, as ansible-playbook -v prints it."""
    task = output.index("TASK [Work out the integration method")
    match = re.search(r"^ok: \[localhost\] => (\{.*\})$", output[task:], re.M)
    return json.loads(match.group(1))


def removed_and_added(output):
    removed = set(line[1:] for line in output.splitlines() if line.startswith("-") and not line.startswith("---"))
    added = set(line[1:] for line in output.splitlines() if line.startswith("+") and not line.startswith("+++"))
    return removed, added


def assert_host_own_kept(host, files, front_end):
    for name, lines in list(HOST_OWN.items()) + list(HOST_OWN_FRONT_END[front_end].items()):
        lines = [host.localise(line) for line in lines]
        now = lines_of(host.path(name))
        kept = [line for line in now if line in lines]
        assert kept == lines, (name, now)
    # vpopmail's line stays before qmail-newu's closing '.'
    assign = lines_of(host.path("users/assign"))
    assert assign.index(VPOPMAIL) < assign.index(".")


@pytest.mark.parametrize("method", sorted(DOCUMENT))
def test_adopt_then_site_keeps_the_hosts_entries_and_settles(tmp_path, method):
    host, base, files = host_for(tmp_path, method)
    front_end = DOCUMENT[method]["front_end"]
    found = adopted_variables(tmp_path, host, base, method)
    assert found["teamware_integration_method"] == method
    assert found["qmail_aliases"] == {"root": ["admin@company.com"]}
    assert found["qmail_smtp_front_end"] == front_end and found["qmail_relay_clients"] == RELAY_CLIENTS[front_end]

    site_vars = dict(base, **found)
    before = snapshot(host.root)
    checked = run_playbook(SITE, tmp_path, site_vars, check=True, diff=True)
    assert checked.returncode == 0, checked.output
    assert snapshot(host.root) == before
    # Nothing of the host's is removed but the document's unsafe lines: its pipes in .qmail-default, the alias
    # written 'addr' instead of '&addr' (docs/document-vs-qmail.md); lines that only move into the collection's
    # block are removed and added again.
    removed, added = removed_and_added(checked.output)
    unsafe = set(host.localise(line) for name, lines in DOCUMENT[method].items() if name.endswith(".qmail-default")
                 for line in lines) | {"admin@company.com"}
    assert removed - added <= unsafe, sorted(removed - added - unsafe)

    first = run_playbook(SITE, tmp_path, site_vars)
    assert first.returncode == 0, first.output
    assert_host_own_kept(host, files, front_end)
    assert read(host.path("alias/.qmail-root")).splitlines()[1:] == ["&admin@company.com"]
    host.clear_actions()
    settled = snapshot(host.root)
    second = run_playbook(SITE, tmp_path, site_vars)
    assert second.returncode == 0 and second.changed() == 0, second.output
    assert snapshot(host.root) == settled

    if method not in ("smtp_smtproutes", "torecvm_virtualdomains"):
        return
    # A front-end line of the host's own that contradicts the inventory: site.yml stops before any change, in check
    # mode too, naming the file, the line and the entry to take over.
    name, line, entry = CONFLICT[front_end]
    with open(host.path(name), "a") as handle:
        handle.write(line + "\n")
    spoiled = snapshot(host.root)
    for check in (True, False):
        refused = run_playbook(SITE, tmp_path, site_vars, check=check)
        assert refused.returncode != 0 and snapshot(host.root) == spoiled, refused.output
        assert "nothing changed" in refused.output and line in refused.output and entry in refused.output
