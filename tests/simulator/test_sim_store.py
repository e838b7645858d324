"""Message spool of the Teamware Office MIME connector SIMULATOR (tests only)."""

from __future__ import annotations

import json
import os
import time

from teamware_office_simulator import store

MESSAGE = (b'Return-Path: <bounce@example.org>\n'
           b'Delivered-To: twu-john@tw.company.com\n'
           b'Delivered-To: john@company.com\n'
           b'Subject: =?utf-8?q?caf=C3=A9?=\n'
           b'X-Long: first\n'
           b'  folded\n'
           b'x-long: second\n'
           b'\n'
           b'body\n')


def put(spool, raw=MESSAGE, **kwargs):
    params = dict(via='torecvm', sender='bounce@example.org', recipients=['john@tw.company.com'],
                  teamware_addresses=['john@company.com'], reports='A')
    params.update(kwargs)
    return store.store_message(str(spool), raw, **params)


def test_store_writes_eml_and_json(tmp_path):
    record = put(tmp_path)
    eml = tmp_path / (record['id'] + '.eml')
    assert eml.read_bytes() == MESSAGE
    on_disk = json.loads((tmp_path / (record['id'] + '.json')).read_text())
    assert on_disk == record
    assert record['via'] == 'torecvm'
    assert record['sender'] == 'bounce@example.org'
    assert record['recipients'] == ['john@tw.company.com']
    assert record['teamware_addresses'] == ['john@company.com']
    assert record['reports'] == 'A'
    assert record['return_path'] == '<bounce@example.org>'
    assert record['delivered_to'] == ['twu-john@tw.company.com', 'john@company.com']
    assert record['headers']['x-long'] == 'first folded'
    assert record['subject'] == 'caf\xe9'
    assert record['size'] == len(MESSAGE)
    assert record['received_at'].endswith('Z')
    assert not [n for n in os.listdir(tmp_path) if n.startswith('.')]


def test_no_return_path(tmp_path):
    record = put(tmp_path, raw=b'Subject: x\n\nbody\n')
    assert record['return_path'] is None and record['delivered_to'] == []


def test_list_sorted_and_complete_only(tmp_path):
    first = put(tmp_path, recipients=['a@company.com'])
    time.sleep(0.002)
    second = put(tmp_path, recipients=['b@company.com'])
    # an incomplete message (eml without json) and foreign files are not listed
    (tmp_path / '1.000000-1-deadbeef.eml').write_bytes(b'x')
    (tmp_path / 'foreign.json').write_text('{"not": "ours"}')
    (tmp_path / 'broken.json').write_text('{')
    listed = store.list_messages(str(tmp_path))
    assert [m['id'] for m in listed] == [first['id'], second['id']]
    assert store.read_message(listed[0]) == MESSAGE
    assert listed[0]['path'] == str(tmp_path / (first['id'] + '.eml'))


def test_list_missing_dir(tmp_path):
    assert store.list_messages(str(tmp_path / 'missing')) == []
    assert store.clear(str(tmp_path / 'missing')) == 0


def test_clear(tmp_path):
    put(tmp_path)
    put(tmp_path)
    (tmp_path / '1.000000-1-deadbeef.eml').write_bytes(b'orphan')
    (tmp_path / '.tmp-x.eml').write_bytes(b'partial')
    (tmp_path / 'foreign.txt').write_text('keep me')
    assert store.clear(str(tmp_path)) == 2
    assert os.listdir(tmp_path) == ['foreign.txt']


def test_wait_for_messages(tmp_path):
    start = time.monotonic()
    assert store.wait_for_messages(str(tmp_path), count=1, timeout=0.2) == []
    assert time.monotonic() - start >= 0.2
    put(tmp_path)
    assert len(store.wait_for_messages(str(tmp_path), count=1, timeout=5)) == 1


def test_ids_are_unique(tmp_path):
    ids = {put(tmp_path)['id'] for _count in range(20)}
    assert len(ids) == 20
