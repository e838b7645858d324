# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's own cdb reader agrees with pure-cdb's writer and reader."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io

import pytest

from ansible_collections.teamware.qmail.plugins.module_utils import cdb_reader

cdblib = pytest.importorskip("cdblib", reason="needs pure-cdb to write reference cdb files")


def build(records):
    out = io.BytesIO()
    with cdblib.Writer(out) as writer:
        for key, value in records:
            writer.put(key, value)
    return out.getvalue()


def test_reader_finds_what_pure_cdb_wrote_and_nothing_else():
    records = [(("!user%d-" % i).encode(), ("user%d\0%d\0%d\0/home/u%d\0-\0\0" % (i, i, i, i)).encode()) for i in range(3000)]
    records.append((b"!tw.", b"twu\x00503\x00503\x00/home/twu\x00-\x00\x00"))
    records.append((b"", b"empty key"))
    data = build(records)
    ours = cdb_reader.Reader(data)
    theirs = cdblib.Reader(data)
    for key, value in records:
        assert ours.get(key) == value == theirs.get(key)
    for missing in (b"!nobody-", b"!tw", b"x" * 300):
        assert ours.get(missing) is None and theirs.get(missing) is None


def test_repeated_keys_come_back_in_file_order():
    data = build([(b"k", b"1"), (b"other", b"x"), (b"k", b"2")])
    assert list(cdb_reader.Reader(data).gets(b"k")) == [b"1", b"2"]


def test_hash_is_djb_cdb_hash():
    assert cdb_reader.cdb_hash(b"") == 5381
    assert cdb_reader.cdb_hash(b"a") == ((5381 << 5) + 5381) ^ ord("a")


@pytest.mark.parametrize("data", [b"", b"\0" * 100])
def test_short_files_are_refused(data):
    with pytest.raises(OSError):
        cdb_reader.Reader(data)
