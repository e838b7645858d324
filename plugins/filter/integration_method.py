# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter: what an integration method needs, straight from the routing core's METHODS table."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.teamware.qmail.plugins.module_utils import routing


def integration_method(name):
    method = routing.METHODS.get(name)
    if method is None:
        raise AnsibleFilterError("teamware_integration_method: %r is not one of %s" % (name, ", ".join(sorted(routing.METHODS))))
    return {
        "name": method.name,
        "section": method.section,
        "title": method.title,
        "transport": method.transport,
        "hook": method.hook,
        "routing_kinds": list(method.routing_kinds),
        "needs_routing_user": method.needs_routing_user,
    }


class FilterModule(object):
    def filters(self):
        return {"integration_method": integration_method}
