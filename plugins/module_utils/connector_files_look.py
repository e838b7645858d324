# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The MIME connector's to.ini and tombsmtp.ini as they are on the host, and what the writer makes of them.

One read path for both modules: teamware.qmail.mime_connector_files reads the files with ``look`` and writes what it
returns; teamware.qmail.mime_connector_info reads them with the same ``look`` and only reports its changes.  The
edits themselves are ``connector_files.plan`` (pure Python); this file only reads (never writes).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from ansible_collections.teamware.qmail.plugins.module_utils import connector_files, connector_keys

FIX_BY_HAND = "Fix these lines by hand, nothing changed: "


def installation_problems(root, root_isdir, torecvm, torecvm_needed, torecvm_executable, spool, spool_isdir, method):
    """What is missing of Teamware Office as the method needs it (mime_connector_info's require_installed), one message
    each, naming the role's variables (the role passes them as root and torecvm); empty when nothing is."""
    problems = []
    if not root_isdir:
        problems.append("mime_connector_root (default teamware_root): %s is not a directory; is Teamware Office "
                        "installed?" % root)
    if torecvm_needed and not torecvm_executable:
        problems.append("mime_connector_torecvm_path (default teamware_torecvm): method %s pipes mail into torecvm, but "
                        "%s is not an executable file;" % (method or "(unknown)", torecvm))
    if torecvm_needed and not spool_isdir:
        problems.append("mime_connector_root (default teamware_root): torecvm delivers into %s, which is not a "
                        "directory;" % spool)
    return problems


def read_file(name, path, problems):
    """The file's text (None when it does not exist or cannot be used) and its status (None when it does not exist)."""
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return None, None
    if not stat.S_ISREG(status.st_mode):
        problems.append("%s: %s is not a regular file" % (name, path))
        return None, status
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except (IOError, OSError) as exc:
        problems.append("%s: cannot read %s: %s" % (name, path, exc))
        return None, status
    try:
        return raw.decode("utf-8"), status
    except UnicodeDecodeError as exc:
        problems.append("%s: %s is not UTF-8 text (byte %d); fix it by hand" % (name, path, exc.start))
        return None, status


class Look:
    """The files of one host: ``paths``, ``texts`` and ``statuses`` (None: no file), the lines to fix by hand
    (``problems``), and per file its new text and changes (``plans``, empty when there are problems)."""

    def __init__(self, to_ini, tombsmtp_ini, settings):
        self.paths = {connector_keys.TO_INI: to_ini, connector_keys.TOMBSMTP_INI: tombsmtp_ini}
        self.problems, self.texts, self.statuses = [], {}, {}
        for name, path in self.paths.items():
            self.texts[name], self.statuses[name] = read_file(name, path, self.problems)
        found, self.plans = connector_files.plan(self.texts, settings)
        self.problems += found
        if self.problems:
            self.plans = {}

    def changes(self):
        """The keys that change, as ``file [section] option`` or ``file option``, to.ini's first."""
        return [change for name in self.paths for change in self.plans.get(name, (None, []))[1]]

    def facts(self):
        """Per file: its path, whether it exists, and whether it changes."""
        return dict((name, {"path": path, "exists": self.statuses[name] is not None,
                            "changed": bool(self.plans.get(name, (None, []))[1])})
                    for name, path in self.paths.items())
