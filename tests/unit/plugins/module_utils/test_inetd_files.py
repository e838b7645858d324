# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""inetd_files: inetd.conf and hosts.allow as the collection writes them.

The host's own lines stay; the collection's line and block are replaced where they are; absent takes them out; a
second pass changes nothing.  Files that ansible.builtin.lineinfile and blockinfile wrote with the inetd role's old
arguments (earlier versions of the collection) read as they are: such a host sees no change.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible.module_utils.testing import patch_module_args
from ansible.modules import blockinfile, lineinfile

from ansible_collections.teamware.qmail.plugins.module_utils import front_end_files
from ansible_collections.teamware.qmail.plugins.module_utils import inetd_files
from ansible_collections.teamware.qmail.plugins.module_utils import relay

INETD = relay.InetdSettings.from_vars()
LINE = INETD.line()
MARKER = front_end_files.HOSTS_ALLOW_MARKER
BEGIN = inetd_files.markers(MARKER)[0]
END = inetd_files.markers(MARKER)[1]
BLOCK = ["tcp-env: 127.: setenv = RELAYCLIENT", "tcp-env: 192.0.2.: setenv = RELAYCLIENT"]
EXIM = "smtp stream tcp nowait root /usr/sbin/exim4 exim4 -bs"
POP3 = "pop3 stream tcp nowait root /var/qmail/bin/qmail-popup qmail-popup mail.company.com /bin/checkpassword"
OLD_PORT = "2525 stream tcp nowait qmaild /usr/sbin/tcpd /var/qmail/bin/tcp-env /var/qmail/bin/qmail-smtpd"
SUBMISSION = "587 stream tcp nowait qmaild /var/qmail/bin/tcp-env tcp-env /var/qmail/bin/qmail-smtpd"


def lines_of(data):
    return re.findall(r"[^\n]*\n|[^\n]+$", data)


def text(*lines):
    return "".join(line + "\n" for line in lines)


def block(lines=None):
    return [BEGIN] + list(BLOCK if lines is None else lines) + [END]


# ---------------------------------------------------------------- inetd.conf

@pytest.mark.parametrize("before, after, removed", [
    (None, text(LINE), []),
    ("", text(LINE), []),
    (text(LINE), text(LINE), []),
    # the host's own lines stay, in their order; a commented smtp line is the host's
    (text("# admin", "#" + EXIM, POP3), text("# admin", "#" + EXIM, POP3, LINE), []),
    (text("# admin", LINE, POP3), text("# admin", LINE, POP3), []),
    # a missing last line end is added before the line is appended
    (POP3, text(POP3, LINE), []),
    # the first active line for the port becomes the line, where it was; the others go
    (text("# a", EXIM, POP3, "25 stream tcp nowait root /bin/false false"), text("# a", LINE, POP3),
     [EXIM, "25 stream tcp nowait root /bin/false false"]),
    (text(LINE.replace("qmaild", "root"), SUBMISSION), text(LINE, SUBMISSION), [LINE.replace("qmaild", "root")]),
    # the collection's old line on another port goes (a changed port); the line stays where it is
    (text(OLD_PORT, POP3, LINE), text(POP3, LINE), [OLD_PORT]),
    (text(EXIM, POP3, LINE, OLD_PORT), text(POP3, LINE), [EXIM, OLD_PORT]),
    (text(LINE, LINE), text(LINE), [LINE]),
    # the line without its line end, or with CRLF, is written again
    (LINE, text(LINE), []),
    (LINE + "\r\n", text(LINE), [])
])
def test_inetd_conf_present(before, after, removed):
    assert inetd_files.inetd_conf(before, INETD) == (after, removed)
    assert inetd_files.inetd_conf(after, INETD) == (after, [])


@pytest.mark.parametrize("before, after, removed", [
    (None, None, []),
    ("", "", []),
    (text("# admin", "#" + LINE, POP3), text("# admin", "#" + LINE, POP3), []),
    (text("# admin", LINE, POP3, OLD_PORT, SUBMISSION), text("# admin", POP3, SUBMISSION), [LINE, OLD_PORT]),
    (text(EXIM), "", [EXIM]),
])
def test_inetd_conf_absent(before, after, removed):
    assert inetd_files.inetd_conf(before, INETD, present=False) == (after, removed)


def test_inetd_conf_on_another_address_and_port():
    settings = relay.InetdSettings.from_vars(bind_address="127.0.0.1", port="2525")
    wanted = settings.line()
    assert wanted.startswith("127.0.0.1:2525 ")
    # the smtp port is the host's own now; the collection's old line on port 25 goes
    before = text(EXIM.replace("smtp", "pop3"), LINE, "smtp stream tcp nowait root /usr/sbin/sendmail sendmail -bs")
    after, removed = inetd_files.inetd_conf(before, settings)
    assert after == text(EXIM.replace("smtp", "pop3"), wanted, "smtp stream tcp nowait root /usr/sbin/sendmail sendmail -bs")
    assert removed == [LINE]


# ---------------------------------------------------------------- hosts.allow

@pytest.mark.parametrize("before, after", [
    (None, text(*block())),
    ("", text(*block())),
    # a new block goes to the top (tcpd uses the first line that matches)
    (text("# admin", "sshd: 192.0.2.1"), text(*block() + ["# admin", "sshd: 192.0.2.1"])),
    ("sshd: 192.0.2.1", text(*block()) + "sshd: 192.0.2.1"),
    # an existing block is replaced where it is
    (text("# admin", *block(["tcp-env: 10.: setenv = RELAYCLIENT"]) + ["ALL: ALL"]),
     text("# admin", *block() + ["ALL: ALL"])),
    (text(*block() + ["sshd: ALL"]), text(*block() + ["sshd: ALL"])),
    # two blocks: one, where the first was
    (text(*block(["old"]) + ["sshd: ALL"] + block(["older"])), text(*block() + ["sshd: ALL"])),
    # a marker line without its partner goes alone; the lines after it are the host's
    (text("sshd: ALL", BEGIN, "ALL: 192.0.2.9"), text(*block() + ["sshd: ALL", "ALL: 192.0.2.9"])),
    (text("sshd: ALL", END, "ALL: 192.0.2.9"), text(*block() + ["sshd: ALL", "ALL: 192.0.2.9"])),
    (text(END, "x", BEGIN), text(*block() + ["x"])),
    # CRLF marker lines are the block's
    (BEGIN + "\r\nold\r\n" + END + "\r\nsshd: ALL\r\n", text(*block()) + "sshd: ALL\r\n"),
])
def test_hosts_allow_present(before, after):
    assert inetd_files.hosts_allow(before, MARKER, BLOCK) == (after, [])
    assert inetd_files.hosts_allow(after, MARKER, BLOCK) == (after, [])


def test_hosts_allow_removes_the_lines_taken_over_and_keeps_the_others():
    before = text("sshd: ALL", "tcp-env: ALL: setenv = RELAYCLIENT", "tcp-env: ALL: setenv = RELAYCLIENT\r", "ALL: ALL")
    after, removed = inetd_files.hosts_allow(before, MARKER, BLOCK, remove=["tcp-env: ALL: setenv = RELAYCLIENT"])
    assert after == text(*block() + ["sshd: ALL", "ALL: ALL"])
    assert removed == ["tcp-env: ALL: setenv = RELAYCLIENT"] * 2


@pytest.mark.parametrize("before, after", [
    (None, None),
    ("", ""),
    (text("sshd: ALL"), text("sshd: ALL")),
    (text(*block()), ""),
    (text("# admin", *block() + ["sshd: ALL"]), text("# admin", "sshd: ALL")),
])
def test_hosts_allow_absent(before, after):
    assert inetd_files.hosts_allow(before, MARKER, BLOCK, present=False) == (after, [])


# ---------------------------------------------------------------- files of earlier versions: no change


def run_module(capsys, module, args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    result = json.loads(capsys.readouterr().out)
    assert not result.get("failed"), result


def written_by(capsys, tmp_path, module, data, args):
    """The file that the module wrote from data (None: no file)."""
    path = os.path.join(str(tmp_path), "file")
    if os.path.exists(path):
        os.unlink(path)
    if data is not None:
        with open(path, "w") as handle:
            handle.write(data)
    run_module(capsys, module, dict(args, path=path, create=True))
    with open(path) as handle:
        return handle.read()


# The host's own lines: nothing of the collection's, no bare CR (tcpd and inetd read lines up to LF).
HOST_LINES = st.lists(st.sampled_from(["# admin", "#" + LINE, POP3, SUBMISSION, "sshd: 192.0.2.1", "ALL: ALL", "", "  ",
                                       "tcp-env: 10.: deny"]), max_size=5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=HOST_LINES, final_newline=st.booleans())
def test_files_that_lineinfile_and_blockinfile_wrote_stay_as_they_are(capsys, tmp_path, lines, final_newline):
    host = "\n".join(lines) + ("\n" if final_newline and lines else "")
    conf = written_by(capsys, tmp_path, lineinfile, host, {"regexp": INETD.service_regexp(), "line": LINE})
    assert inetd_files.inetd_conf(conf, INETD) == (conf, [])
    old_block = {"block": "\n".join(BLOCK), "marker": MARKER, "insertbefore": "BOF"}
    allow = written_by(capsys, tmp_path, blockinfile, host, old_block)
    assert inetd_files.hosts_allow(allow, MARKER, BLOCK) == (allow, [])
    # the old role's absent state (blockinfile state absent) and the writer's agree
    removed = written_by(capsys, tmp_path, blockinfile, allow, {"block": "", "marker": MARKER, "state": "absent"})
    assert inetd_files.hosts_allow(allow, MARKER, BLOCK, present=False)[0] == removed


PIECES = st.sampled_from([LINE + "\n", EXIM + "\n", OLD_PORT + "\n", POP3 + "\n", BEGIN + "\n", END + "\n", "old\n", "\n",
                          "\r\n", "sshd: ALL\n", LINE, "tcp-env: ALL: setenv = RELAYCLIENT\n", "#" + LINE + "\n"])


@settings(max_examples=200, deadline=None)
@given(pieces=st.lists(PIECES, max_size=8), present=st.booleans())
def test_the_writer_keeps_every_host_line_and_a_second_pass_changes_nothing(pieces, present):
    before = "".join(pieces)
    conf, removed = inetd_files.inetd_conf(before, INETD, present)
    assert inetd_files.inetd_conf(conf, INETD, present) == (conf, [])
    assert lines_of(conf).count(LINE + "\n") == (1 if present else 0)
    pattern = re.compile(INETD.service_regexp())
    host = [line.rstrip("\r\n") for line in lines_of(before) if not pattern.search(line.rstrip("\r\n"))]
    assert [line.rstrip("\r\n") for line in lines_of(conf) if line != LINE + "\n"] == host
    ours = [line.rstrip("\r\n") for line in lines_of(before) if pattern.search(line.rstrip("\r\n"))]
    # what goes: every line of the collection's but the line itself, which stays once
    copies = ours.count(LINE)
    gone = [line for line in ours if line != LINE] + [LINE] * (copies - 1 if present and copies else copies)
    assert sorted(removed) == sorted(gone)
    allow, dummy = inetd_files.hosts_allow(before, MARKER, BLOCK, present)
    assert inetd_files.hosts_allow(allow, MARKER, BLOCK, present) == (allow, [])
    assert lines_of(allow).count(BEGIN + "\n") == lines_of(allow).count(END + "\n") == (1 if present else 0)
    assert host_part(allow) == host_part(before)


def host_part(data):
    """The lines of hosts.allow outside the collection's blocks (BEGIN up to the next END), without lone markers."""
    data = re.sub(r"(?ms)^[ \t]*%s[ \t\r]*\n.*?^[ \t]*%s[ \t\r]*\n" % (re.escape(BEGIN), re.escape(END)), "", data)
    return [line.rstrip("\r\n") for line in lines_of(data) if line.strip() not in (BEGIN, END)]
