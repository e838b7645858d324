# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the relay front ends' files hold now, read only.

* tcpserver: whether tcprules must compile the rules file into its cdb;
* inetd + tcpd: the active inetd.conf lines a regexp finds, whether hosts.allow holds the collection's block (whether
  inetd, the front end that was not chosen, still serves the SMTP port: front_end_service.other_front_end_active).

Pure Python, no Ansible imports (relay.py validates and renders what the front ends must hold; inetd_files plans the
inetd front end's files as the collection writes them).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

# The marker lines of the collection's block in hosts.allow ({mark} is BEGIN or END, as ansible.builtin.blockinfile
# takes it: earlier versions wrote the block with it).
HOSTS_ALLOW_MARKER = "# {mark} teamware.qmail inetd role: SMTP relay clients (tcpd rereads this file at every connection)"


def cdb_reason(rules_file, rules_cdb, change):
    """Why tcprules must run, or '' when the cdb matches the rules file (change: files.plan of the rules file)."""
    if change is not None:
        # Any rewrite of the rules file (content, or only mode) makes it newer than the cdb.
        return "rules changed" if set(change["reasons"]) & set(["content", "create"]) else "rules file rewritten"
    if not os.path.exists(rules_cdb):
        return "cdb missing"
    if os.stat(rules_cdb).st_mtime_ns < os.stat(rules_file).st_mtime_ns:
        return "cdb older than rules"
    return ""


def matching_lines(text, regexp):
    """The lines of text (without their line ends) that the regexp finds, with or without the line end."""
    if not text:
        return []
    pattern = re.compile(regexp)
    return [line.rstrip("\r\n") for line in text.splitlines(True)
            if pattern.search(line) or pattern.search(line.rstrip("\r\n"))]


def has_block(text, marker):
    """Whether text holds a BEGIN or END line of the marker."""
    if not text:
        return False
    wanted = set(marker.replace("{mark}", mark) for mark in ("BEGIN", "END"))
    return any(line.strip() in wanted for line in text.splitlines())
