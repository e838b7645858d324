# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A read-only cdb ("constant database", D. J. Bernstein) reader in pure Python.

qmail keeps users/cdb and control/morercpthosts.cdb in this format.  The route
checks prefer an installed library (pure-cdb's ``cdblib``, Debian's ``cdb``); this
reader, with the same ``Reader(data).get(key)`` interface as ``cdblib``, lets them
work on hosts that have neither.  Format: 256 (position, slot count) pairs, then the
records (key length, data length, key, data), then 256 hash tables of (hash,
position) slots; all numbers are little-endian 32-bit.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import struct
import sys

_PAIR = struct.Struct("<LL")


def cdb_hash(key):
    value = 5381
    for byte in bytearray(key):
        value = (((value << 5) + value) & 0xFFFFFFFF) ^ byte
    return value


class Reader:
    """Look keys up in the bytes of a cdb file."""

    def __init__(self, data):
        if len(data) < 2048:
            # OSError, as pure-cdb raises it, and as qmail sees it: "Trouble reading users/cdb"
            raise OSError("CDB too small: %d bytes, shorter than the 2048-byte header" % len(data))
        self.data = data

    def _pair(self, offset):
        if offset + 8 > len(self.data):
            raise OSError("truncated cdb file")
        return _PAIR.unpack_from(self.data, offset)

    def gets(self, key):
        """Every value stored under key, in file order."""
        key = bytes(key)
        hashed = cdb_hash(key)
        table, slots = self._pair((hashed & 0xFF) * 8)
        if not slots:
            return
        slot = (hashed >> 8) % slots
        for _probe in range(slots):
            slot_hash, position = self._pair(table + slot * 8)
            if position == 0:
                return
            if slot_hash == hashed:
                key_length, data_length = self._pair(position)
                start = position + 8
                if self.data[start:start + key_length] == key:
                    yield self.data[start + key_length:start + key_length + data_length]
            slot = (slot + 1) % slots

    def get(self, key, default=None):
        """The first value stored under key, or default."""
        for value in self.gets(key):
            return value
        return default


def records(data):
    """Every (key, value) record of a cdb file's bytes, in file order (the records lie between the 2048-byte
    header and the first hash table); [] for a file too short to be a cdb."""
    if data is None or len(data) < 2048:
        return []
    tables = [struct.unpack_from("<L", data, i * 8)[0] for i in range(256)]
    end = min(tables) if tables else len(data)
    found, position = [], 2048
    while position + 8 <= end:
        key_length, data_length = struct.unpack_from("<LL", data, position)
        start = position + 8
        found.append((data[start:start + key_length], data[start + key_length:start + key_length + data_length]))
        position = start + key_length + data_length
    return found


def best_library():
    """(library, name) for reading cdb files: pure-cdb's cdblib, else Debian's cdb, else this reader."""
    try:
        import cdblib
        return cdblib, "cdblib"
    except ImportError:
        pass
    try:
        import cdb
        return cdb, "cdb"
    except ImportError:
        return sys.modules[__name__], "teamware.qmail cdb_reader"
