# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The names of the MIME connector's files, section and keys the collection owns (connector.py re-exports them).

On their own so that the modules that read and write the files on the host (mime_connector_info,
mime_connector_files, through connector_files.py and connector_files_look.py) do not import connector.py and the
routing core behind it, which only the controller's filters need.

Pure Python, no Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

TO_INI = "to.ini"
TOMBSMTP_INI = "tombsmtp.ini"
MIME_SECTION = "MIME"
SMTP_HOST_KEY = "smtp_host"

# Keys the role manages, in the order they are written.
TO_INI_KEYS = ("deliver_relayed_dsn", "no_relay", "mode", "allow", "smtp_port", "sendmail", SMTP_HOST_KEY)
