# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A qmail host on a temporary tree: qmail's layout with stand-ins that log what they are asked to do."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

QMAIL_USERS = ("alias", "qmaild", "qmaill", "qmailp", "qmailq", "qmailr", "qmails")
UID = os.getuid() or 1000
GID = os.getgid() or 1000

STUB = """#!/bin/sh
echo "$(basename "$0") $*" >> {log}
{extra}
"""


class FakeHost:
    def __init__(self, root):
        self.root = str(root)
        self.qmail = os.path.join(self.root, "var", "qmail")
        self.alias = os.path.join(self.qmail, "alias")
        self.twu = os.path.join(self.root, "home", "twu")
        self.log = os.path.join(self.root, "actions.log")
        for path in ("bin", "control", "users", "alias"):
            os.makedirs(os.path.join(self.qmail, path))
        os.makedirs(self.twu)
        self.write(os.path.join(self.qmail, "control", "me"), "mail.company.com\n")
        self.stub(os.path.join(self.qmail, "bin", "qmail-send"))
        self.stub(os.path.join(self.qmail, "bin", "qmail-newu"), 'touch "%s/users/cdb"' % self.qmail)
        self.stub(os.path.join(self.root, "qmailctl"))

    def write(self, path, text):
        with open(path, "w") as handle:
            handle.write(text)

    def stub(self, path, extra=""):
        self.write(path, STUB.format(log=self.log, extra=extra))
        os.chmod(path, 0o755)

    def actions(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as handle:
            return [line.strip() for line in handle]

    def clear_actions(self):
        if os.path.exists(self.log):
            os.unlink(self.log)

    def site_variables(self, front_end="tcpserver", **extra):
        """Everything site.yml needs to run against this tree: qmail, both front ends, the connector."""
        etc = os.path.join(self.root, "etc")
        teamware = os.path.join(self.root, "to")
        for path in (etc, os.path.join(self.root, "service"), os.path.join(self.root, "supervise"), teamware,
                     os.path.join(teamware, "smtp")):
            if not os.path.isdir(path):
                os.makedirs(path)
        torecvm = os.path.join(self.root, "torecvm")
        if not os.path.exists(torecvm):
            self.stub(torecvm)
        variables = self.variables(
            qmail_smtp_front_end=front_end,
            qmail_relay_clients=["127.", "192.0.2.10"],
            teamware_root=teamware,
            teamware_torecvm=torecvm,
            # the front ends switch to these accounts; nobody/nogroup exist on every Debian host
            ucspi_tcp_user="nobody", ucspi_tcp_group="nogroup", ucspi_tcp_log_user="nobody",
            ucspi_tcp_manage_packages=False,
            ucspi_tcp_rules_file=os.path.join(etc, "tcp.smtp"),
            ucspi_tcp_rules_cdb=os.path.join(etc, "tcp.smtp.cdb"),
            ucspi_tcp_service_dir=os.path.join(self.root, "service"),
            ucspi_tcp_supervise_dir=os.path.join(self.root, "supervise"),
            inetd_manage_packages=False,
            inetd_user="nobody",
            inetd_conf=os.path.join(etc, "inetd.conf"),
            inetd_hosts_allow=os.path.join(etc, "hosts.allow"),
            inetd_reload_method="none",
            # no svscan or inetd on the tree: the front ends are not looked at, nor the SMTP port (tests that start
            # the daemons turn this on)
            ucspi_tcp_ensure_running=False,
            inetd_ensure_running=False,
            teamware_route_check_smtp=False,
            mime_connector_stop_command="%s stop" % os.path.join(self.root, "qmailctl"),
            mime_connector_start_command="%s start" % os.path.join(self.root, "qmailctl"),
        )
        variables.update(extra)
        return variables

    def variables(self, **extra):
        accounts = dict((name, {"uid": UID, "gid": GID, "home": self.alias if name == "alias" else self.qmail}) for name in QMAIL_USERS)
        accounts["twu"] = {"uid": UID, "gid": GID, "home": self.twu}
        variables = {
            "qmail_dir": self.qmail,
            "qmail_accounts": accounts,
            # a real qmail's groups need not exist on the test machine
            "qmail_required_groups": [],
            "qmail_manage_routing_user": False,
            "qmail_delivery_wrapper": os.path.join(self.root, "teamware-qmail-remote"),
            "qmail_service_manager": "init",
            "qmail_init_script": os.path.join(self.root, "qmailctl"),
            "qmail_local_domains": ["company.com"],
            "qmail_aliases": {"root": ["admin@company.com"], "postmaster": ["admin@company.com"]},
            "teamware_server": "tw.server.company.com",
            "teamware_server_address": "127.0.0.1",
            "teamware_smtp_port": 2025,
        }
        variables.update(extra)
        return variables
