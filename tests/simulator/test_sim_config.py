"""Ini parsing and configuration of the Teamware Office MIME connector SIMULATOR (tests only)."""

from __future__ import annotations

import os

import pytest

from simulator_helpers import write_root
from teamware_office_simulator.config import ConfigError, load_config, parse_ini, read_ini


def test_parse_repeated_keys_comments_and_sections():
    ini = parse_ini(
        '\ufefftop = 1\n'
        '; a comment\n'
        '# another comment\n'
        '\n'
        '[MIME]\n'
        'Allow = a.example\n'
        'allow=b.example ; inline comment\n'
        '  ALLOW =  "c.example"  \n'
        'mode = list # inline\n'
        'garbage line without equals\n'
        '[Other]\n'
        'allow = d.example\n'
        '[mime]\n'
        'allow = e.example\n'
        'empty =\n'
    )
    assert ini.get(None, 'top') == '1'
    assert ini.get_all('MIME', 'allow') == ['a.example', 'b.example', 'c.example', 'e.example']
    assert ini.get_all('mime', 'ALLOW') == ini.get_all('MIME', 'allow')
    assert ini.get('Mime', 'mode') == 'list'
    assert ini.get('other', 'allow') == 'd.example'
    assert ini.get_all_anywhere('allow') == ['a.example', 'b.example', 'c.example', 'd.example', 'e.example']
    assert ini.get('mime', 'empty') == ''
    assert ini.get('mime', 'missing', 'dflt') == 'dflt'
    assert ini.sections == ['mime', 'other']
    assert ini.ignored_lines == [10]


def test_value_keeps_semicolon_without_leading_space():
    ini = parse_ini('[x]\nkey = a;b\nother = x=y\n')
    assert ini.get('x', 'key') == 'a;b'
    assert ini.get('x', 'other') == 'x=y'


def test_last_repeated_scalar_wins():
    ini = parse_ini('[MIME]\nmode = any\nmode = strict\n')
    assert ini.get('mime', 'mode') == 'strict'


def test_read_ini_latin1(tmp_path):
    path = tmp_path / 'x.ini'
    path.write_bytes('[MIME]\nname = caf\xe9\n'.encode('latin-1'))
    assert read_ini(str(path)).get('mime', 'name') == 'caf\xe9'


def test_defaults(tmp_path):
    root = write_root(tmp_path, mime={}, tombsmtp=None)
    cfg = load_config(root)
    assert (cfg.deliver_relayed_dsn, cfg.no_relay, cfg.mode, cfg.allow, cfg.smtp_port, cfg.sendmail) == (0, False, 'any', [], 25, False)
    assert cfg.own_nodes == [] and cfg.aliases == {}
    assert cfg.spool_dir == os.path.join(root, 'smtp')


def test_all_values_case_insensitive_keys(tmp_path):
    root = write_root(tmp_path, mime='[mime]\nDELIVER_RELAYED_DSN = 2\nNo_Relay = 1\nMode = STRICT\nallow=A.Example\nallow = b.example\n'
                      'allow = a.example\nsmtp_port = 2025\nsendmail = 1\n[General]\nmode = list\n')
    cfg = load_config(root)
    assert cfg.deliver_relayed_dsn == 2
    assert cfg.no_relay is True
    assert cfg.mode == 'strict'
    assert cfg.allow == ['a.example', 'b.example']
    assert cfg.smtp_port == 2025
    assert cfg.sendmail is True


def test_own_nodes_top_level_and_sections(tmp_path):
    root = write_root(tmp_path, mime={}, tombsmtp=(
        '; tombsmtp.ini\n'
        'own_node = A:early.company.com\n'
        'own_node = Company.com\n'
        'own_node = A:tw.company.com\n'
        '[Some section]\n'
        'OWN_NODE = a:TW2.Company.com\n'
        '[Second]\n'
        'own_node = other.org\n'
        'own_node = A:tw.other.org\n'
    ))
    cfg = load_config(root)
    assert cfg.own_nodes == ['company.com', 'other.org']
    assert cfg.aliases == {
        'early.company.com': 'company.com',
        'tw.company.com': 'company.com',
        'tw2.company.com': 'company.com',
        'tw.other.org': 'other.org',
    }
    assert cfg.all_own_nodes() == {'company.com', 'other.org', 'early.company.com', 'tw.company.com', 'tw2.company.com', 'tw.other.org'}


def test_missing_to_ini_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match='to.ini'):
        load_config(str(tmp_path))


@pytest.mark.parametrize('mime, tombsmtp, message', [
    ({'mode': 'sometimes'}, '', 'mode'),
    ({'no_relay': '2'}, '', 'no_relay'),
    ({'no_relay': 'yes'}, '', 'not an integer'),
    ({'deliver_relayed_dsn': '3'}, '', 'deliver_relayed_dsn'),
    ({'sendmail': '5'}, '', 'sendmail'),
    ({'smtp_port': 'smtp'}, '', 'smtp_port'),
    ({'smtp_port': '70000'}, '', 'out of range'),
    ({'allow': 'a.example, b.example'}, '', 'one domain per line'),
    ({}, 'own_node = X:company.com\n', 'A: '),
    ({}, 'own_node = company.com tw.company.com\n', 'one domain per line'),
])
def test_invalid_values(tmp_path, mime, tombsmtp, message):
    root = write_root(tmp_path, mime=mime, tombsmtp=tombsmtp)
    with pytest.raises(ConfigError, match=message):
        load_config(root)
