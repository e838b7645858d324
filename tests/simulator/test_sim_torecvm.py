"""torecvm of the Teamware Office MIME connector SIMULATOR (tests only)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from simulator_helpers import BIN_DIR, run_bin, write_root
from teamware_office_simulator import store, torecvm

MESSAGE = b'From: sender@example.org\nTo: john@tw.company.com\nSubject: hello\n\nbody\n'


def test_attached_options_and_stored_content(tw_root, capsys):
    spool = os.path.join(tw_root, 'smtp')
    code, record = torecvm.deliver(['-d' + spool, '-pF', '-fsender@example.org', '-rjohn@tw.company.com'], MESSAGE)
    assert code == 0
    assert 'stored message' in capsys.readouterr().out
    (listed,) = store.list_messages(spool)
    assert listed['id'] == record['id']
    assert store.read_message(listed) == MESSAGE
    assert listed['via'] == 'torecvm'
    assert listed['sender'] == 'sender@example.org'
    assert listed['recipients'] == ['john@tw.company.com']
    assert listed['teamware_addresses'] == ['john@company.com']
    assert listed['reports'] == 'F'
    assert listed['return_path'] is None
    assert listed['subject'] == 'hello'
    assert listed['root'] == tw_root


@pytest.mark.parametrize('option, expected', [([], 'A'), (['-pA'], 'A'), (['-pF'], 'F'), (['-pN'], 'N')])
def test_reports_option_recorded(tw_root, option, expected):
    code, record = torecvm.deliver(['-d%s/smtp' % tw_root] + option + ['-fa@b.c', '-rx@company.com'], MESSAGE)
    assert code == 0 and record['reports'] == expected


def test_empty_sender_does_not_consume_next_argument(tw_root):
    code, record = torecvm.deliver(['-d%s/smtp' % tw_root, '-pA', '-f', '-rjohn@company.com'], MESSAGE)
    assert code == 0
    assert record['sender'] == ''
    assert record['recipients'] == ['john@company.com']


def test_no_sender_option_recorded_as_none(tw_root):
    code, record = torecvm.deliver(['-d%s/smtp' % tw_root, '-rjohn@company.com'], MESSAGE)
    assert code == 0 and record['sender'] is None


def test_several_recipients(tw_root):
    code, record = torecvm.deliver(['-d%s/smtp' % tw_root, '-f', '-ra@company.com', '-rb@tw.company.com'], MESSAGE)
    assert code == 0
    assert record['recipients'] == ['a@company.com', 'b@tw.company.com']
    assert record['teamware_addresses'] == ['a@company.com', 'b@company.com']


@pytest.mark.parametrize('rargs', [[], ['-r'], ['-r', '-rjohn@company.com']])
def test_missing_recipient_is_permanent(tw_root, rargs, capsys):
    code, record = torecvm.deliver(['-d%s/smtp' % tw_root, '-pA', '-fa@b.c'] + rargs, MESSAGE)
    assert (code, record) == (100, None)
    assert 'recipient missing' in capsys.readouterr().out
    assert store.list_messages(os.path.join(tw_root, 'smtp')) == []


def test_refused_domain_is_permanent(tmp_path, capsys):
    root = write_root(tmp_path, mime={'mode': 'strict'})
    code, record = torecvm.deliver(['-d%s/smtp' % root, '-f', '-rjohn@company.com', '-rx@elsewhere.org'], MESSAGE)
    assert (code, record) == (100, None)
    out = capsys.readouterr().out
    assert 'x@elsewhere.org refused' in out and 'mode=strict' in out
    assert store.list_messages(os.path.join(root, 'smtp')) == []


def test_malformed_recipient_is_permanent(tw_root):
    assert torecvm.deliver(['-d%s/smtp' % tw_root, '-f', '-r@tw.company.com'], MESSAGE)[0] == 100


def test_missing_directory_is_temporary(tmp_path, capsys):
    root = write_root(tmp_path, spool=False)
    assert torecvm.deliver(['-d%s/smtp' % root, '-f', '-rjohn@company.com'], MESSAGE) == (111, None)
    assert 'does not exist' in capsys.readouterr().out


@pytest.mark.parametrize('argv', [
    ['-f', '-rjohn@company.com'],                        # no -d
    ['-d', '/to/smtp', '-f', '-rjohn@company.com'],      # detached -d
    ['-d{spool}', '-pX', '-rjohn@company.com'],          # bad -p
    ['-d{spool}', '-f', 'stray', '-rjohn@company.com'],  # unquoted variable split by sh
    ['-d{spool}', '--root'],
])
def test_bad_command_line_is_temporary(tw_root, argv):
    argv = [a.format(spool=os.path.join(tw_root, 'smtp')) for a in argv]
    assert torecvm.deliver(argv, MESSAGE)[0] == 111


def test_configuration_error_is_temporary(tmp_path, capsys):
    root = write_root(tmp_path, mime={'mode': 'bogus'})
    assert torecvm.deliver(['-d%s/smtp' % root, '-f', '-rjohn@company.com'], MESSAGE)[0] == 111
    assert 'configuration error' in capsys.readouterr().out


def test_root_option(tmp_path):
    root = write_root(tmp_path / 'root', mime={'mode': 'strict'})
    spool = tmp_path / 'elsewhere'
    spool.mkdir()
    # default root = parent of -d: no to.ini there -> temporary failure
    assert torecvm.deliver(['-d%s' % spool, '-f', '-rjohn@company.com'], MESSAGE)[0] == 111
    assert torecvm.deliver(['-d%s' % spool, '--root', root, '-f', '-rjohn@company.com'], MESSAGE)[0] == 0
    assert torecvm.deliver(['-d%s' % spool, '--root=%s' % root, '-f', '-rx@elsewhere.org'], MESSAGE)[0] == 100


def test_unexpected_error_is_temporary(tw_root, monkeypatch):
    def boom(*_args, **_kwargs):
        raise RuntimeError('surprise')
    monkeypatch.setattr(torecvm, 'store_message', boom)
    assert torecvm.deliver(['-d%s/smtp' % tw_root, '-f', '-rjohn@company.com'], MESSAGE)[0] == 111


def test_write_error_is_temporary(tw_root, monkeypatch, capsys):
    def fail(*_args, **_kwargs):
        raise PermissionError(13, 'Permission denied')
    monkeypatch.setattr(torecvm, 'store_message', fail)
    assert torecvm.deliver(['-d%s/smtp' % tw_root, '-f', '-rjohn@company.com'], MESSAGE)[0] == 111
    assert 'cannot write message' in capsys.readouterr().out


@pytest.mark.skipif(os.geteuid() == 0, reason='root can write into a read-only directory')
def test_unwritable_directory_is_temporary(tw_root):
    spool = os.path.join(tw_root, 'smtp')
    os.chmod(spool, 0o555)
    try:
        assert torecvm.deliver(['-d' + spool, '-f', '-rjohn@company.com'], MESSAGE)[0] == 111
    finally:
        os.chmod(spool, 0o755)


def test_executable_through_sh_like_qmail(tw_root):
    """The .qmail line of section 5.1, run by /bin/sh with qmail's variables (empty SENDER = bounce)."""
    spool = os.path.join(tw_root, 'smtp')
    env = dict(os.environ, SENDER='', RECIPIENT='john@tw.company.com', HOST='tw.company.com', DEFAULT='john', LOCAL='twu-john')
    # the bin script is run by the interpreter running the tests
    line = '"$PYTHON" %s/torecvm -d%s -pA -f"$SENDER" -r"$DEFAULT"@"$HOST"' % (BIN_DIR, spool)
    env['PYTHON'] = sys.executable
    proc = subprocess.run(['/bin/sh', '-c', line], input=b'Return-Path: <>\n' + MESSAGE, stdout=subprocess.PIPE, env=env,
                          timeout=20, check=False)
    assert proc.returncode == 0, proc.stdout
    (record,) = store.list_messages(spool)
    assert record['sender'] == ''
    assert record['recipients'] == ['john@tw.company.com']
    assert record['teamware_addresses'] == ['john@company.com']
    assert record['return_path'] == '<>'
    assert record['qmail_env']['DEFAULT'] == 'john'


def test_bin_exit_codes(tw_root):
    spool = os.path.join(tw_root, 'smtp')
    assert run_bin('torecvm', ['-d' + spool, '-f', '-rjohn@company.com'], MESSAGE).returncode == 0
    proc = run_bin('torecvm', ['-d' + spool, '-f', '-r'], MESSAGE)
    assert proc.returncode == 100 and b'torecvm SIMULATOR' in proc.stdout
    assert run_bin('torecvm', ['-d' + spool + '/missing', '-f', '-rjohn@company.com'], MESSAGE).returncode == 111
    proc = run_bin('torecvm', ['--help'])
    assert proc.returncode == 0 and b'SIMULATOR' in proc.stdout


def test_bin_is_executable_with_shebang():
    for name in ('torecvm', 'teamware-office-simulator'):
        path = os.path.join(BIN_DIR, name)
        assert os.access(path, os.X_OK)
        with open(path, 'rb') as handle:
            assert handle.readline() == b'#!/usr/bin/env python3\n'
