# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""front_end_files.lineinfile_keeps / blockinfile_keeps against ansible.builtin.lineinfile and blockinfile themselves.

The inetd role skips those modules when the prediction says the file is already right: whenever the
prediction says "keeps", the module must leave the file alone (the role's arguments, check mode).  The
prediction follows the byte-wise modules of ansible-core 2.19 exactly; ansible-core 2.21's lineinfile reads
text with universal newlines and also leaves a CRLF line alone, where the prediction is stricter (the role
then calls the module, which changes nothing).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible.module_utils.testing import patch_module_args
from ansible.modules import blockinfile, lineinfile
from ansible.release import __version__ as ansible_version

from ansible_collections.teamware.qmail.plugins.module_utils import front_end_files
from ansible_collections.teamware.qmail.plugins.module_utils import relay

INETD = relay.InetdSettings.from_vars()
LINE = INETD.line()
REGEXP = INETD.service_regexp()
MARKER = "# {mark} teamware.qmail inetd role: SMTP relay clients"
BLOCK = "tcp-env: 127.: setenv = RELAYCLIENT\ntcp-env: 192.0.2.: setenv = RELAYCLIENT"
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="the role's files are root:root; run as root")
# ansible-core 2.19's lineinfile works on bytes split at LF, as the prediction does; later ones read text.
LINEINFILE_BYTEWISE = tuple(int(part) for part in ansible_version.split(".")[:2]) < (2, 21)


def agrees(keeps, changes, exact=True):
    """The prediction is safe (keeps -> no change) and, where the module is byte-wise, exact."""
    return (changes is not keeps) if exact else (not keeps or not changes)


def run_check_mode(capsys, module, args):
    with patch_module_args(dict(args, _ansible_check_mode=True)):
        with pytest.raises(SystemExit):
            module.main()
    result = json.loads(capsys.readouterr().out)
    assert not result.get("failed"), result
    return result["changed"]


def prepare(tmp_path, data):
    path = os.path.join(str(tmp_path), "file")
    if os.path.exists(path):
        os.unlink(path)
    if data is not None:
        with open(path, "wb") as handle:
            handle.write(data)
        os.chmod(path, 0o644)
    return path


def lineinfile_changes(capsys, tmp_path, data):
    path = prepare(tmp_path, data)
    return run_check_mode(capsys, lineinfile, {"path": path, "regexp": REGEXP, "line": LINE, "create": True,
                                               "owner": "root", "group": "root", "mode": "0644"})


def blockinfile_changes(capsys, tmp_path, data, block=BLOCK):
    path = prepare(tmp_path, data)
    return run_check_mode(capsys, blockinfile, {"path": path, "block": block, "marker": MARKER, "insertbefore": "BOF",
                                                "create": True, "owner": "root", "group": "root", "mode": "0644"})


WANTED = LINE.encode() + b"\n"
INETD_CASES = [
    (None, False),
    (b"", False),
    (WANTED, True),
    (b"# comment\n" + WANTED + b"ftp stream tcp nowait root /usr/sbin/tcpd in.ftpd\n", True),
    (LINE.encode(), False),
    (LINE.encode() + b"\r\n", False),
    (LINE.encode() + b" \n", False),
    (b"#" + WANTED, False),
    (WANTED + b"smtp stream tcp nowait qmaild /usr/sbin/tcpd /other/qmail-smtpd\n", False),
    (b"smtp stream tcp nowait qmaild /usr/sbin/tcpd /other/qmail-smtpd\n" + WANTED, True),
]


@ROOT_ONLY
@pytest.mark.parametrize("data, keeps", INETD_CASES)
def test_lineinfile_prediction(capsys, tmp_path, data, keeps):
    assert front_end_files.lineinfile_keeps(data, REGEXP, LINE) is keeps
    assert agrees(keeps, lineinfile_changes(capsys, tmp_path, data), LINEINFILE_BYTEWISE)


BEGIN = MARKER.replace("{mark}", "BEGIN").encode() + b"\n"
END = MARKER.replace("{mark}", "END").encode() + b"\n"
BODY = BLOCK.encode() + b"\n"
BLOCK_CASES = [
    (None, BLOCK, False),
    (b"", BLOCK, False),
    (BEGIN + BODY + END, BLOCK, True),
    (BEGIN + BODY + END + b"ALL: ALL\n", BLOCK, True),
    (b"sshd: ALL\n" + BEGIN + BODY + END, BLOCK, True),
    (b"sshd: ALL\r" + BEGIN + BODY + END, BLOCK, False),
    (BEGIN + BODY + END.rstrip(b"\n"), BLOCK, False),
    (END + BODY + BEGIN, BLOCK, False),
    (BEGIN + b"tcp-env: 127.: setenv = RELAYCLIENT\n" + END, BLOCK, False),
    (BEGIN + BODY + END + BEGIN + BODY + END, BLOCK, True),  # the last BEGIN and END count
    (BEGIN + b"old\n" + END + BEGIN + BODY + END, BLOCK, True),
    (BEGIN + BODY + END + BEGIN + b"old\n" + END, BLOCK, False),
    (BEGIN.replace(b"\n", b"\r\n") + BODY + END, BLOCK, False),
    (b"ALL: ALL\n", "", True),
    (BEGIN + END, "", False),
]


@ROOT_ONLY
@pytest.mark.parametrize("data, block, keeps", BLOCK_CASES)
def test_blockinfile_prediction(capsys, tmp_path, data, block, keeps):
    assert front_end_files.blockinfile_keeps(data, MARKER, block) is keeps
    assert agrees(keeps, blockinfile_changes(capsys, tmp_path, data, block))


PIECES = st.sampled_from([WANTED, BEGIN, END, BODY, b"\n", b"\r\n", b"ALL: ALL\n", b"#" + WANTED, LINE.encode(),
                          BLOCK.encode(), b"tcp-env: 127.: setenv = RELAYCLIENT\n", b"\r",
                          b"smtp stream tcp nowait qmaild /usr/sbin/tcpd /other/qmail-smtpd\n"])


@ROOT_ONLY
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(PIECES, max_size=6))
def test_predictions_on_generated_files(capsys, tmp_path, pieces):
    data = b"".join(pieces)
    assert agrees(front_end_files.lineinfile_keeps(data, REGEXP, LINE), lineinfile_changes(capsys, tmp_path, data),
                  LINEINFILE_BYTEWISE), data
    assert agrees(front_end_files.blockinfile_keeps(data, MARKER, BLOCK), blockinfile_changes(capsys, tmp_path, data)), data


@ROOT_ONLY
def test_owned_by_root(tmp_path):
    path = prepare(tmp_path, b"x\n")
    assert front_end_files.owned_by_root(path, 0o644) is True
    os.chmod(path, 0o600)
    assert front_end_files.owned_by_root(path, 0o644) is False
    assert front_end_files.owned_by_root(str(tmp_path), 0o644) is False
    assert front_end_files.owned_by_root(os.path.join(str(tmp_path), "missing"), 0o644) is False
