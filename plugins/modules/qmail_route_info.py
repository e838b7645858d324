#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: qmail_route_info
short_description: Explain where qmail delivers each address, from the host's live configuration
version_added: "0.1.0"
description:
  - Reads the live qmail configuration of the host and explains, for each address of O(addresses), what qmail does with it,
    the way qmail's own programs decide it (notqmail 1.09 / qmail 1.03). Nothing is changed and no mail is sent.
  - "Reception: whether C(qmail-smtpd) accepts the recipient from a relay client (always: C(RELAYCLIENT) skips
    C(control/rcpthosts)) and from any other host (C(control/rcpthosts): the exact domain, or a C(.suffix) entry;
    a missing rcpthosts makes the host an open relay, an empty one refuses everything)."
  - "Class (C(qmail-send)): C(local) when the domain is in C(control/locals) (or C(control/me) when locals is missing);
    C(virtual) when C(control/virtualdomains) maps it (C(user@domain), C(domain), C(.suffix) longest first, then the
    empty key; the local part becomes C(prefix-local)); otherwise C(remote). C(control/percenthack) and
    C(control/envnoathost) are applied first."
  - "Local deliveries: the user from C(users/cdb) (an exact C(=local) entry, else the longest C(+prefix) wildcard), else
    from the passwd database as C(qmail-getpw) does it (a user with uid other than 0 whose existing home it owns owns
    C(name) and C(name-anything)), else user C(alias); then the C(.qmail) file C(qmail-local) reads (C(.qmail-EXT), then
    C(-default) files from the longest prefix; lower case, C(.) written C(:)), the checks of the home directory and of the
    file, and each line with the variables C(qmail-local) sets (C(SENDER), C(RECIPIENT), C(LOCAL), C(HOST), C(EXT),
    C(DEFAULT), C(HOST2)..., C(USER), C(HOME)) expanded the way C(/bin/sh) would."
  - "Destinations: C(teamware_torecvm) (a pipe to C(torecvm), also through C(preline)); C(teamware_smtp) (a pipe to the
    C(teamware-qmail-remote) wrapper or to a bare C(qmail-remote), with relay and port from C(control/smtproutes));
    C(remote_smtp) for remote addresses (C(control/smtproutes): exact host, then C(.suffix) longest first, then the empty
    key; an empty relay means MX); C(forward) (C(&address), bare address lines and C(| forward) pipes, followed
    recursively up to O(max_forward_depth) hops, loops detected as C(qmail-local) detects them with its
    C(Delivered-To) line); C(maildir), C(mbox), C(program) (any other pipe), C(bounce) and C(defer) with the reason
    qmail would give; C(discard) for an empty local part."
  - "The guards and the presence check that M(teamware.qmail.routing_table) writes into the C(.qmail-default) files
    (bounce unless C($HOST), C($LOCAL) or C($DEFAULT) matches; defer while C(torecvm) is missing) are evaluated, on
    one pipe line in front of the delivery (C(case ... esac; exec DELIVERY)) or on lines of their own, as earlier
    versions wrote them."
  - "Warnings: a missing rcpthosts (open relay), a bare C(qmail-remote) pipe (it always exits 0: mail is lost when the
    server is down), an unquoted C($SENDER), C($RECIPIENT), C($LOCAL), C($DEFAULT) ... in a pipe, a Teamware address
    (O(teamware_domains), O(teamware_user_prefix)) that lands in a Linux mailbox or does not reach Teamware Office, a
    forward loop, a world-writable or sticky home, a world-writable C(.qmail) file, C(users/cdb) older than
    C(users/assign), a delivery as uid 0, a program that does not exist, CR characters or duplicate keys in control
    files, uncompiled tcpserver rules."
author:
  - teamware.qmail contributors (@teamware)
extends_documentation_fragment:
  - teamware.qmail.attributes.INFO
options:
  addresses:
    description:
      - The recipient addresses to explain, e.g. V(tw.john@company.com).
      - An address without C(@) gets C(@) and C(control/envnoathost), as C(qmail-send) does.
    type: list
    elements: str
    required: true
  qmail_dir:
    description: qmail's home directory (C(control), C(users) and C(bin) below it).
    type: path
    default: /var/qmail
  passwd_file:
    description:
      - The passwd database as a file. C(qmail-getpw) uses C(getpwnam()), which on most hosts reads this file; users that
        come only from NSS (LDAP, NIS) are not seen.
    type: path
    default: /etc/passwd
  tcp_rules:
    description:
      - The tcpserver rules file (the text that C(tcprules) compiles into a C(.cdb)); lines C(ADDR:allow,RELAYCLIENT="")
        make relay clients. Ignored when it does not exist.
    type: path
    default: /etc/tcp.smtp
  tcp_rules_cdb:
    description:
      - The compiled rules tcpserver reads, by default O(tcp_rules) followed by C(.cdb); a warning is given when it is
        missing or older than O(tcp_rules).
    type: path
  hosts_allow:
    description:
      - "The tcp_wrappers file of an inetd setup; lines C(tcp-env: ADDR: setenv = RELAYCLIENT) make relay clients.
        Ignored when it does not exist."
    type: path
    default: /etc/hosts.allow
  aliasempty:
    description:
      - The default delivery, C(qmail-start)'s argument, used when a C(.qmail) file is missing (for a user without an
        extension) or empty.
    type: str
    default: ./Maildir/
  sender:
    description:
      - The envelope sender used as C($SENDER) in the expanded delivery lines (V('') for a bounce).
    type: str
    default: sender@example.net
  teamware_domains:
    description:
      - The Teamware Office base addresses. With O(teamware_user_prefix) an address is a Teamware address when its
        domain is one of these and its local part starts with the prefix; without it, when its domain is one of these.
      - Remote deliveries to these domains count as deliveries to Teamware Office.
    type: list
    elements: str
    default: []
  teamware_user_prefix:
    description: The naming rule of user-based routing, e.g. V(tw.).
    type: str
  teamware_servers:
    description:
      - The Teamware Office SMTP servers as qmail addresses them (V(tw.server.company.com), V([127.0.0.1]),
        V([127.0.0.1]:2025)); a remote delivery whose host or smtproutes relay is one of these counts as a delivery to
        Teamware Office (used for the forwarding method, whose alias base address is not a Teamware domain).
    type: list
    elements: str
    default: []
  qmail_delivery_wrapper:
    description:
      - The collection's safe wrapper around C(qmail-remote); pipes to it (or to any program named
        C(teamware-qmail-remote)) are Teamware SMTP deliveries that defer and bounce properly.
    type: path
    default: /usr/local/bin/teamware-qmail-remote
  max_forward_depth:
    description: How many forwarding hops are followed before the module gives up on an address.
    type: int
    default: 10
  expected:
    description:
      - Where some of the addresses must go, as C(teamware_expected_routes) gives it (address to a word or a list of
        words, see P(teamware.qmail.route_expectations#filter)). The wrong ones are returned in RV(wrong).
    type: dict
    default: {}
  smtp_banner:
    description:
      - Also connect from the host to its own SMTP port and read qmail-smtpd's C(220) greeting (then C(QUIT)); the
        result is RV(smtp_banner). A host whose routing is right but where nothing answers on port 25 receives no mail.
      - The line must be exactly qmail-smtpd's greeting, C(220 GREETING ESMTP) with GREETING the first line of
        O(qmail_dir)C(/control/smtpgreeting) or, without that file, of C(control/me); another daemon's C(220) (postfix,
        exim) fails. When neither file can be read, any C(220) line passes and RV(smtp_banner) says so (C(note)).
      - Only the host's own addresses are allowed (loopback, or the front end's bind address); any other fails.
    type: dict
    suboptions:
      host:
        description: The address to connect to; empty, V(0) or V(*) (every address) mean C(127.0.0.1).
        type: str
        default: 127.0.0.1
      port:
        description: The port number or service name.
        type: str
        default: smtp
      timeout:
        description: Seconds to wait for the connection and the greeting.
        type: float
        default: 5.0
notes:
  - C(users/cdb) and C(control/morercpthosts.cdb) are read with C(pure-cdb) (C(import cdblib)) or C(python-cdb)
    (C(import cdb)) when the managed host has one, else with the collection's own pure-Python reader.
  - The module reads files as the user it runs as; run it with C(become) so that homes and C(.qmail) files are
    readable.
  - Programs in pipes are not run. Besides the guard lines of M(teamware.qmail.routing_table), C(torecvm),
    C(qmail-remote), C(teamware-qmail-remote), C(forward), C(preline), C(bouncesaying MESSAGE), C(true) and C(exit N) are
    understood; any other program is reported as C(program) with its expanded command line.
  - DNS is not queried; relays given by name are resolved by qmail through DNS only (never C(/etc/hosts)).
seealso:
  - module: teamware.qmail.routing_table
"""

EXAMPLES = r"""
- name: Where do these addresses go?
  teamware.qmail.qmail_route_info:
    addresses:
      - tw.john@company.com
      - john@company.com
      - postmaster@company.com
    teamware_domains: [company.com]
    teamware_user_prefix: tw.
  become: true
  register: routes

- name: Show one line per address
  ansible.builtin.debug:
    var: routes.summary

- name: Fail when a Teamware address does not reach Teamware Office
  ansible.builtin.assert:
    that: routes.routes | map(attribute='final') | flatten | selectattr('teamware', 'equalto', false) | list | length == 0

- name: A test tree instead of the live host
  teamware.qmail.qmail_route_info:
    addresses: [john@tw.company.com]
    qmail_dir: /srv/test/qmail
    passwd_file: /srv/test/passwd
    tcp_rules: /srv/test/tcp.smtp
    teamware_domains: [tw.company.com]
    teamware_servers: ["[127.0.0.1]:2025"]
"""

RETURN = r"""
wrong:
  description: "C(address: expected X, got Y) for every address of O(expected) whose route is not the expected one."
  returned: always
  type: list
  elements: str
checked:
  description: How many addresses O(expected) names.
  returned: always
  type: int
summary:
  description: One human-readable line per address, in the order of O(addresses).
  returned: always
  type: list
  elements: str
  sample:
    - "tw.john@company.com -> Teamware Office by SMTP via tw.server.company.com ([127.0.0.1]:2025)
       [users/cdb +tw. -> twu, ~twu/.qmail-default]"
    - "john@tw.company.com -> Teamware Office by SMTP via [127.0.0.1]:2025 [remote, smtproutes tw.company.com:[127.0.0.1]:2025]"
routes:
  description: Everything about each address, in the order of O(addresses).
  returned: always
  type: list
  elements: dict
  contains:
    address:
      description: The address as given.
      type: str
    queued_as:
      description:
        - The recipient as C(qmail-smtpd) queues it (a source route dropped, quotes and backslash escapes removed); it is
          what qmail routes.
      type: str
    accepted_by_smtpd:
      description: What C(qmail-smtpd) does with the recipient.
      type: dict
      contains:
        relay_client:
          description: Accepted from a client with C(RELAYCLIENT) set (always true).
          type: bool
        stranger:
          description: Accepted from any other host (C(control/rcpthosts)).
          type: bool
        rcpthosts_entry:
          description: The rcpthosts line that matched, if any.
          type: str
        reason:
          description: Why, or the SMTP error other hosts get.
          type: str
    class:
      description: V(local), V(virtual) or V(remote) (qmail-send's rewrite); V(invalid) for an address with a newline.
      type: str
    rewritten:
      description: The recipient after rewriting (C(prefix-local@domain) for a virtual domain).
      type: str
    rewrite:
      description: What rewrote it, C(locals) and C(virtualdomains) lines, and whether envnoathost or percenthack applied.
      type: dict
    local_part:
      description: The local part qmail-lspawn gets (with the virtualdomains prefix).
      type: str
    domain:
      description: The domain part after rewriting.
      type: str
    local:
      description:
        - For local and virtual addresses, the user lookup and qmail-local's view; null for remote ones.
        - Keys C(lookup) (V(users/cdb), V(passwd) or V(alias)), C(assign) (the users/assign key that matched, C(=local) or
          C(+prefix)), C(user), C(uid), C(gid), C(home), C(dash), C(ext), C(skipped) (passwd users qmail-getpw passed over,
          with the reason), C(dot_qmail) (the file read, or null), C(dot_qmail_tried), C(default_delivery) (the
          aliasempty text when it was used, else false), C(environment) (the variables of delivery programs) and C(lines)
          (each line with its C(type), one of comment, forward, program, maildir, mbox, blank, option; programs with
          C(argv)).
      type: dict
    remote:
      description: For remote addresses, the smtproutes lookup (C(host), C(route), C(relay), C(port), C(mx)).
      type: dict
    destinations:
      description:
        - What the delivery does, in order. Each has a C(type) among V(teamware_torecvm), V(teamware_smtp),
          V(remote_smtp), V(forward), V(maildir), V(mbox), V(program), V(bounce), V(defer), V(discard).
        - V(forward) has C(targets), each with C(address) and C(route), the same structure for the forwarded address.
      type: list
      elements: dict
    final:
      description:
        - The final destinations after following every forward, each with C(chain) (the addresses from the given one
          to the last forward target), C(to) (the last of them) and C(teamware) (true when it reaches Teamware Office,
          false when it certainly does not, null when the module cannot tell).
      type: list
      elements: dict
      sample:
        - {"type": "teamware_smtp", "host": "tw.server.company.com", "relay": "[127.0.0.1]", "port": 2025, "safe": true,
           "route": "tw.server.company.com:[127.0.0.1]:2025", "recipients": ["tw.john@company.com"], "teamware": true,
           "chain": ["tw.john@company.com"], "to": "tw.john@company.com"}
    teamware_address:
      description: Whether the address is a Teamware address by O(teamware_domains) and O(teamware_user_prefix).
      type: bool
    warnings:
      description: What will lose, misroute, defer or expose mail for this address.
      type: list
      elements: str
    notes:
      description: Facts worth knowing that are not faults.
      type: list
      elements: str
    summary:
      description: The line of RV(summary) for this address.
      type: str
smtp_banner:
  description:
    - What answered on the SMTP port (O(smtp_banner)); C(ok) when the line is C(expected), qmail-smtpd's greeting (read
      from C(expected_from)), or, when that is unknown (C(note)), when it starts with C(220).
  returned: when O(smtp_banner) is given
  type: dict
  sample: {host: 127.0.0.1, port: 25, ok: true, line: "220 mail.company.com ESMTP", error: "", tries: 1,
           summary: "SMTP on 127.0.0.1:25 answers: 220 mail.company.com ESMTP"}
relay_clients:
  description:
    - The clients that get C(RELAYCLIENT), from O(tcp_rules) and O(hosts_allow).
    - C(effective) is false for a partial address without its trailing dot (C(1.2.3)), which matches no client.
  returned: always
  type: list
  elements: dict
  sample: [{"address": "192.0.2.10", "action": "allow", "relayclient": "", "line": 1, "source": "tcp_rules",
            "path": "/etc/tcp.smtp", "effective": true}]
config:
  description: The control files as qmail reads them.
  returned: always
  type: dict
  contains:
    me:
      description: control/me.
      type: str
    locals:
      description: The local domains (control/me when control/locals is missing).
      type: list
      elements: str
    rcpthosts:
      description: The lines of control/rcpthosts; null when the file is missing (open relay).
      type: list
      elements: str
    virtualdomains:
      description: The lines of control/virtualdomains.
      type: list
      elements: str
    smtproutes:
      description: The lines of control/smtproutes.
      type: list
      elements: str
    percenthack:
      description: The lines of control/percenthack.
      type: list
      elements: str
    envnoathost:
      description: The domain appended to addresses without C(@).
      type: str
    users_cdb:
      description: Whether users/cdb exists.
      type: bool
    cdb_library:
      description: The cdb library used (V(cdblib), V(cdb) or V(teamware.qmail cdb_reader)).
      type: str
config_warnings:
  description: Warnings about the whole configuration (also shown as Ansible warnings).
  returned: always
  type: list
  elements: str
notes:
  description: Notes about the whole configuration.
  returned: always
  type: list
  elements: str
"""

import traceback

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.teamware.qmail.plugins.module_utils import cdb_reader, qmail_host, route_report, smtp_banner

# (module, name): looked for once; the tests replace both.
CDB_FOUND = cdb_reader.best_library()
CDB_LIBRARY = CDB_FOUND[0]
CDB_LIBRARY_NAME = CDB_FOUND[1]


def main():
    argument_spec = dict(route_report.REPORT_OPTIONS, qmail_dir=dict(type="path", default="/var/qmail"),
                         smtp_banner=dict(type="dict", options=dict(host=dict(type="str", default=smtp_banner.LOOPBACK),
                                                                    port=dict(type="str", default="smtp"),
                                                                    timeout=dict(type="float", default=5.0))))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    qmail_dir = params["qmail_dir"]

    problem = qmail_host.control_directory_problem(qmail_dir)
    if problem:
        module.fail_json(msg=problem)
    problems = route_report.report_problems(params)
    if problems:
        module.fail_json(msg="; ".join(problems))
    try:
        result = route_report.report(qmail_dir, params, CDB_LIBRARY, CDB_LIBRARY_NAME)
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot read the qmail configuration: %s" % exc, exception=traceback.format_exc())
    for text in route_report.report_warnings(result):
        module.warn(text)
    if params["smtp_banner"] is not None:
        options = params["smtp_banner"]
        try:
            result["smtp_banner"] = smtp_banner.check(options["host"], options["port"], options["timeout"],
                                                      greeting=smtp_banner.expected_greeting(qmail_dir))
        except smtp_banner.BannerError as exc:
            module.fail_json(msg="smtp_banner: %s" % exc)
        result["smtp_banner"]["summary"] = smtp_banner.describe(result["smtp_banner"])
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
