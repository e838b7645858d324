"""Message spool of the Teamware Office MIME connector SIMULATOR (tests only).

Every message the simulator accepts (by SMTP or through ``torecvm``) is
written to a spool directory as two files:

* ``<id>.eml``: the message bytes exactly as received (SMTP: after
  dot-unstuffing, with CRLF line ends turned into LF, like qmail hands a
  message to a program);
* ``<id>.json``: the envelope and a summary (see ``store_message``).

Both are written atomically (temporary file, fsync, ``os.replace``) and the
JSON file is written last, so a message that ``list_messages`` reports is
complete.  This is a simulator for tests, not Teamware Office.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from datetime import datetime, timezone
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.policy import compat32

from . import SIMULATOR_NAME

EML_SUFFIX = '.eml'
JSON_SUFFIX = '.json'
TMP_PREFIX = '.tmp-'
_ID_RE = re.compile(r'^[0-9]+\.[0-9]{6}-[0-9]+-[0-9a-f]{8}$')


def new_message_id(now: int | None = None) -> str:
    """A unique, time-sortable message id (safe across processes); ``now`` in nanoseconds."""
    if now is None:
        now = time.time_ns()
    return '%d.%06d-%d-%s' % (now // 1000000000, (now // 1000) % 1000000, os.getpid(), secrets.token_hex(4))


def _write_atomic(path: str, data: bytes) -> None:
    directory = os.path.dirname(path) or '.'
    tmp = os.path.join(directory, TMP_PREFIX + os.path.basename(path))
    try:
        with open(tmp, 'wb') as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _decode_subject(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # malformed encoded words: keep the raw text
        return value


def summarize_headers(raw: bytes) -> dict:
    """Header facts recorded in the JSON file of a message."""
    msg = BytesHeaderParser(policy=compat32).parsebytes(raw)
    headers: dict[str, str] = {}
    delivered_to: list[str] = []
    for name, value in msg.items():
        key = name.lower()
        text = ' '.join(str(value).split())
        if key not in headers:
            headers[key] = text
        if key == 'delivered-to':
            delivered_to.append(text)
    return {
        'return_path': headers.get('return-path'),
        'delivered_to': delivered_to,
        'headers': headers,
        'subject': _decode_subject(headers.get('subject')),
    }


def store_message(spool_dir: str, raw: bytes, *, via: str, sender: str | None, recipients: list[str],
                  teamware_addresses: list[str | None], reports: str | None = None,
                  client_address: str | None = None, helo: str | None = None,
                  extra: dict | None = None) -> dict:
    """Store one accepted message and return its JSON record.

    JSON keys: simulator, id, via ("smtp" or "torecvm"), sender (envelope
    sender, "" for the empty sender <>, None if torecvm got no -f),
    recipients (as given), teamware_addresses (one per recipient, A: alias
    domains rewritten to the primary own node), reports (torecvm -p: A, F, N;
    None for smtp), received_at (UTC ISO 8601), received_at_epoch,
    client_address ("ip:port" for smtp), helo, return_path (Return-Path header
    of the stored message or None), delivered_to (all Delivered-To headers),
    headers (first occurrence of each header, lower-cased names, unfolded),
    subject (RFC 2047 decoded), size (bytes of the .eml), eml (file name).
    Raises OSError when the spool directory cannot be written.
    """
    now_ns = time.time_ns()
    msg_id = new_message_id(now_ns)
    now = now_ns / 1e9
    record = {
        'simulator': SIMULATOR_NAME,
        'id': msg_id,
        'via': via,
        'sender': sender,
        'recipients': list(recipients),
        'teamware_addresses': list(teamware_addresses),
        'reports': reports,
        'received_at': datetime.fromtimestamp(now, timezone.utc).isoformat(timespec='microseconds').replace('+00:00', 'Z'),
        'received_at_epoch': now,
        'client_address': client_address,
        'helo': helo,
    }
    record.update(summarize_headers(raw))
    record['size'] = len(raw)
    record['eml'] = msg_id + EML_SUFFIX
    if extra:
        record.update(extra)
    _write_atomic(os.path.join(spool_dir, msg_id + EML_SUFFIX), raw)
    data = (json.dumps(record, indent=2, sort_keys=True) + '\n').encode('utf-8')
    _write_atomic(os.path.join(spool_dir, msg_id + JSON_SUFFIX), data)
    return record


def list_messages(spool_dir: str) -> list[dict]:
    """All complete messages of the spool, oldest first.

    Each dict is the JSON record plus ``path`` (absolute path of the .eml).
    A missing spool directory gives an empty list.
    """
    try:
        names = os.listdir(spool_dir)
    except FileNotFoundError:
        return []
    records = []
    for name in names:
        if name.startswith('.') or not name.endswith(JSON_SUFFIX):
            continue
        json_path = os.path.join(spool_dir, name)
        try:
            with open(json_path, 'rb') as handle:
                record = json.loads(handle.read().decode('utf-8'))
        except (OSError, ValueError):
            continue
        if not isinstance(record, dict) or record.get('simulator') != SIMULATOR_NAME:
            continue
        eml_path = os.path.join(spool_dir, record.get('eml') or name[:-len(JSON_SUFFIX)] + EML_SUFFIX)
        if not os.path.exists(eml_path):
            continue
        record['path'] = os.path.abspath(eml_path)
        records.append(record)
    records.sort(key=lambda r: (r.get('received_at_epoch') or 0, r.get('id') or ''))
    return records


def read_message(record: dict) -> bytes:
    """The stored bytes of a message returned by list_messages."""
    with open(record['path'], 'rb') as handle:
        return handle.read()


def clear(spool_dir: str) -> int:
    """Delete all simulator messages (and leftover temporary or orphan files); return how many messages."""
    try:
        names = os.listdir(spool_dir)
    except FileNotFoundError:
        return 0
    count = 0
    for record in list_messages(spool_dir):
        for path in (record['path'], record['path'][:-len(EML_SUFFIX)] + JSON_SUFFIX):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        count += 1
    for name in names:
        orphan = name.endswith(EML_SUFFIX) and _ID_RE.match(name[:-len(EML_SUFFIX)])
        if name.startswith(TMP_PREFIX) or orphan:
            try:
                os.unlink(os.path.join(spool_dir, name))
            except FileNotFoundError:
                pass
    return count


def wait_for_messages(spool_dir: str, count: int = 1, timeout: float = 10.0, interval: float = 0.05) -> list[dict]:
    """Poll until the spool holds at least ``count`` messages or ``timeout`` expires; return the list."""
    deadline = time.monotonic() + timeout
    while True:
        messages = list_messages(spool_dir)
        if len(messages) >= count or time.monotonic() >= deadline:
            return messages
        time.sleep(interval)
