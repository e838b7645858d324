# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only access to what qmail reads on one host: files, stat, the passwd database and cdb files.

Part of the route checks (see router.py); pure Python, nothing is ever written.  Tests use a
``HostView`` on a temporary tree.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import stat


def control_directory_problem(qmail_dir):
    """Why qmail_dir cannot be read as a qmail installation ("" when its control directory is there): no control
    directory, or one that cannot be looked at (a permission error is said as such, never as "not installed")."""
    control = os.path.join(qmail_dir, "control")
    try:
        info = HostView(qmail_dir).stat(control)
    except OSError as exc:
        return "qmail_dir: cannot look at %s: %s; run the module as root (become)" % (control, exc.strerror or exc)
    if info is None or not stat.S_ISDIR(info.st_mode):
        return "qmail_dir: %s has no control directory; is qmail installed there?" % qmail_dir
    return ""


class PasswdEntry:
    def __init__(self, name, uid, gid, home, shell=""):
        self.name = name
        self.uid = uid
        self.gid = gid
        self.home = home
        self.shell = shell


class CdbUnavailable(Exception):
    """users/cdb (or morercpthosts.cdb) exists but no cdb library is available to read it."""


def make_cdb_opener(library):
    """A function path -> (key bytes -> value bytes or None) for an imported cdb library.

    ``library`` is the module object of pure-cdb (``import cdblib``) or of
    Debian's python3-cdb (``import cdb``); None gives an opener that raises
    CdbUnavailable.
    """
    if library is None:
        def unavailable(path):
            raise CdbUnavailable(path)
        return unavailable
    if hasattr(library, "Reader"):
        def open_cdblib(path):
            with open(path, "rb") as handle:
                reader = library.Reader(handle.read())

            def get(key):
                return reader.get(key)
            return get
        return open_cdblib

    def open_python_cdb(path):
        database = library.init(path)

        def get(key):
            try:
                value = database.get(key)
            except TypeError:
                value = database.get(key.decode("latin-1"))
            if isinstance(value, str):
                value = value.encode("latin-1")
            return value
        return get
    return open_python_cdb


class HostView:
    """Read-only access to what qmail reads on one host.

    qmail_dir: qmail's home; passwd_file: the passwd database (a file: qmail-getpw
    uses getpwnam, which on most hosts means /etc/passwd); cdb_opener: see
    make_cdb_opener.
    """

    def __init__(self, qmail_dir="/var/qmail", passwd_file="/etc/passwd", cdb_opener=None):
        self.qmail_dir = qmail_dir
        self.passwd_file = passwd_file
        self.cdb_opener = cdb_opener or make_cdb_opener(None)
        self._passwd = None
        self._cdbs = {}

    def qmail_path(self, *parts):
        return os.path.join(self.qmail_dir, *parts)

    def read_bytes(self, path):
        """The file's bytes; None when it does not exist; OSError for anything else."""
        try:
            with open(path, "rb") as handle:
                return handle.read()
        except (IOError, OSError) as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return None
            raise

    def read_text(self, path):
        data = self.read_bytes(path)
        if data is None:
            return None
        return data.decode("utf-8", "surrogateescape")

    def stat(self, path):
        """os.stat (following links, as qmail's stat and open do), or None when absent."""
        try:
            return os.stat(path)
        except (IOError, OSError) as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return None
            raise

    def exists(self, path):
        """Whether path exists (following links, as test -x and exec do); OSError when it cannot be told, such as a
        directory on the way that may not be searched: never "missing" for a file that may well be there."""
        return self.stat(path) is not None

    def passwd(self):
        if self._passwd is None:
            entries = []
            text = self.read_text(self.passwd_file) or ""
            for line in text.split("\n"):
                fields = line.split(":")
                if len(fields) < 7 or not fields[0] or fields[0][0] in "+-#":
                    continue
                try:
                    uid = int(fields[2])
                    gid = int(fields[3])
                except ValueError:
                    continue
                entries.append(PasswdEntry(fields[0], uid, gid, fields[5], fields[6]))
            self._passwd = entries
        return self._passwd

    def getpwnam(self, name):
        for entry in self.passwd():
            if entry.name == name:
                return entry
        return None

    def cdb_get(self, path, key):
        """Value of key in the cdb at path (None when absent); None for the whole file when it does not exist."""
        if path not in self._cdbs:
            if self.stat(path) is None:
                self._cdbs[path] = None
            else:
                self._cdbs[path] = self.cdb_opener(path)
        getter = self._cdbs[path]
        if getter is None:
            return None
        return getter(key)
