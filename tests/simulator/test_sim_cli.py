"""Command line of the Teamware Office MIME connector SIMULATOR (tests only)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from simulator_helpers import SIMULATOR_DIR, run_bin, write_root
from teamware_office_simulator import cli, torecvm

MESSAGE = b'Subject: cli\n\nbody\n'


def _deliver(root, rcpt='john@tw.company.com'):
    assert torecvm.deliver(['-d%s/smtp' % root, '-f', '-r' + rcpt], MESSAGE)[0] == 0


def test_list_json_and_text(tw_root, capsys):
    _deliver(tw_root)
    _deliver(tw_root, 'mary@company.com')
    capsys.readouterr()
    assert cli.main(['list', '--root', tw_root, '--json']) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r['recipients'] for r in records] == [['john@tw.company.com'], ['mary@company.com']]
    assert cli.main(['list', '--spool', os.path.join(tw_root, 'smtp')]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and 'via=torecvm' in lines[0] and '(Teamware john@company.com)' in lines[0]


def test_wait_and_clear(tw_root, capsys):
    assert cli.main(['wait', '--root', tw_root, '--timeout', '0.1']) == 1
    _deliver(tw_root)
    assert cli.main(['wait', '--root', tw_root, '--count', '1', '--timeout', '5']) == 0
    assert cli.main(['clear', '--root', tw_root]) == 0
    assert 'removed 1 message' in capsys.readouterr().out
    assert cli.main(['wait', '--root', tw_root, '--timeout', '0']) == 1


def test_config_and_check(tmp_path, capsys):
    root = write_root(tmp_path, mime={'mode': 'list', 'allow': ['a.example', 'b.example'], 'no_relay': '1'})
    assert cli.main(['config', '--root', root]) == 0
    cfg = json.loads(capsys.readouterr().out)
    assert cfg['allow'] == ['a.example', 'b.example'] and cfg['aliases'] == {'tw.company.com': 'company.com'}
    assert cli.main(['check', '--root', root, 'john@tw.company.com', 'x@b.example']) == 0
    out = capsys.readouterr().out
    assert 'accepted john@tw.company.com -> Teamware address john@company.com' in out
    assert cli.main(['check', '--root', root, '--json', 'x@elsewhere.org']) == 1
    assert json.loads(capsys.readouterr().out)[0]['accepted'] is False
    write_root(tmp_path, mime={'mode': 'bogus'})
    assert cli.main(['config', '--root', root]) == 2
    assert cli.main(['check', '--root', root, 'x@company.com']) == 2


def test_torecvm_subcommand(tw_root):
    proc = run_bin('teamware-office-simulator', ['torecvm', '-d%s/smtp' % tw_root, '-pN', '-f', '-rjohn@company.com'], MESSAGE)
    assert proc.returncode == 0, proc.stdout
    proc = run_bin('teamware-office-simulator', ['list', '--root', tw_root, '--json'])
    assert json.loads(proc.stdout)[0]['reports'] == 'N'


def test_help_says_simulator():
    proc = run_bin('teamware-office-simulator', ['--help'])
    assert proc.returncode == 0 and b'SIMULATOR' in proc.stdout
    proc = subprocess.run([sys.executable, '-m', 'teamware_office_simulator', 'serve', '--help'], cwd=SIMULATOR_DIR,
                          stdout=subprocess.PIPE, timeout=20, check=False)
    assert proc.returncode == 0 and b'SIMULATOR' in proc.stdout and b'--defer-rcpt' in proc.stdout
