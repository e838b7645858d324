# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the Teamware Office MIME connector settings, computed on the controller.

Documentation: the sidecar files mime_connector_settings.yml and mime_connector_problems.yml
beside this file.  What the current files on a host need is found there, by the
teamware.qmail.mime_connector_info module.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.teamware.qmail.plugins.module_utils.validators import ValidationError


def _connector():
    """connector.py (and the routing core behind it), imported when one of these filters runs: ansible-core imports
    every filter file of the collection in each worker that looks up any teamware.qmail filter, so a top-level import
    here would cost every such task of a run the whole core (about 25 ms each)."""
    from ansible_collections.teamware.qmail.plugins.module_utils import connector
    return connector


def _mapping(value, what):
    if not isinstance(value, Mapping):
        raise AnsibleFilterError("%s must be a mapping of variables, not %s" % (what, type(value).__name__))
    return value


def problem_report(problems):
    """(variable, reason) pairs as one message: the routing variables of the qmail host (teamware_*, qmail_*) and the
    connector's own (mime_connector_*) each under their own heading."""
    routing = [item for item in problems if not item[0].startswith("mime_connector_")]
    own = [item for item in problems if item[0].startswith("mime_connector_")]
    parts = []
    if routing:
        parts.append("Invalid qmail and Teamware Office routing settings, nothing changed: %s" % ValidationError(routing).render())
    if own:
        parts.append("Invalid Teamware Office MIME connector settings, nothing changed: %s" % ValidationError(own).render())
    return " ".join(parts)


def mime_connector_settings(variables, options=None):
    """The connector settings; fails naming every wrong variable."""
    try:
        return _connector().compute(_mapping(variables, "the input"), _mapping(options or {}, "options"))
    except ValidationError as exc:
        raise AnsibleFilterError(problem_report(exc.problems))


def mime_connector_problems(variables, options=None):
    """Every problem as "variable: reason"; an empty list when the settings are valid."""
    return _connector().find_problems(_mapping(variables, "the input"), _mapping(options or {}, "options"))


class FilterModule(object):
    """teamware.qmail MIME connector filters."""

    def filters(self):
        return {
            "mime_connector_settings": mime_connector_settings,
            "mime_connector_problems": mime_connector_problems,
        }
