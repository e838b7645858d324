#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: relay_rules
short_description: Decide which SMTP clients qmail-smtpd lets relay, for tcpserver or for inetd and tcpd
version_added: "0.1.0"
description:
  - qmail-smtpd accepts mail for any domain from a client whose connection carries the environment
    variable C(RELAYCLIENT), and only mail for C(control/rcpthosts) from every other client.
    The front end that accepts the connection sets it ("Integrating Qmail with Teamware Office", 3.1).
  - With O(format=tcprules) (ucspi-tcp's tcpserver, 3.1.2) the module writes the rules file O(rules_file)
    atomically (temporary file in the same directory, then rename) and compiles it into O(rules_cdb) with
    C(tcprules RULES_CDB RULES_CDB.tmp < RULES_FILE). It compiles only when the rules changed or the cdb is
    missing or older than the rules file, and always from the complete new rules file. The host's own rules
    stay, in their order, before the collection's block (see O(take_over)).
  - B(Never) use the document's command C(tcprules /etc/tcp.smtp.cdb /etc/tcp.smtp < /etc/tcp.smtp).
    Its second argument is tcprules' temporary file, which tcprules truncates and renames onto the cdb,
    so the command destroys the rules file it is reading.
  - tcpserver reads the cdb at every connection; a new cdb takes effect at the next connection without a restart.
  - With O(run_script) the module also returns the daemontools C(run) and C(log/run) scripts of tcpserver
    (RV(run_script), RV(log_run_script)).
  - With O(supervise_dir) and O(service_dir) the module owns tcpserver's whole daemontools service. It builds
    O(supervise_dir)/O(service_name) (root, 0755) with C(log) and, for O(logger=multilog), C(log/main) (owned by
    O(log_user)), writes C(run) and C(log/run) atomically (root, 0755), creates the scan directory O(service_dir)
    when it is missing, and links O(service_dir)/O(service_name) to the service directory last, so that svscan sees
    the service only when it is complete. Everything is checked before anything changes; RV(run_script_changed)
    tells whether tcpserver must be restarted (C(svc -t)). The service is never restarted by the module.
  - With O(state=absent) (O(format=tcprules)) the module takes the service out of the scan directory and, when
    supervise runs it (C(svok)), stops it and its logger and lets supervise exit (C(svc -dx)). The rules file,
    the cdb and the service directory stay; O(relay_clients) are not looked at.
  - Something under the service's name in the scan directory that is not a symbolic link is never touched;
    the module fails and names O(service_dir).
  - With O(format=hosts_allow) (inetd and tcp_wrappers, 3.1.1) the module writes O(inetd_conf) and O(hosts_allow),
    each atomically. In O(inetd_conf) the first active line for the SMTP port (or of the collection's shape on another
    port) becomes RV(inetd_line) and the others go; without one the line is appended. In O(hosts_allow) the block
    between the marker lines of O(hosts_allow_marker) holds RV(lines); a new block goes to the top of the file (tcpd
    uses the first line that matches). Every other line of both files stays. With O(state=absent) those
    C(inetd.conf) lines go at once, the block only once inetd no longer listens on the port (RV(inetd_holds_port)).
    A file the module creates is root's with mode 0644; an existing one keeps its owner and mode.
  - Until inetd has reread C(inetd.conf) it still serves the port through tcpd, which reads C(hosts.allow) at every
    connection; without the block the relay clients would lose C(RELAYCLIENT) (their relayed mail refused with 553).
    So with O(state=absent) the block stays while inetd (a live O(inetd_program) in O(inetd_pid_file)) listens on
    O(port); the call after the HUP (O(completed_actions)) waits up to 5 seconds for inetd to let go of it, and warns
    when the block still has to stay. An inetd that does not run holds nothing, so the block goes at once.
  - A changed C(inetd.conf) owes inetd a HUP; so does an inetd that runs but does not greet on the port (with
    O(smtp_banner)). The module never signals inetd; it reports C(hup_inetd) in RV(owed_actions). It records the HUP
    in C(teamware-qmail-inetd.json) beside O(inetd_conf) before C(inetd.conf) changes, and reports it on every call
    until O(completed_actions) clears it, so a run killed in between is finished by the next one.
  - A relay client is a full IPv4 address (V(1.2.3.4)) or its first one to three octets (V(1.2.3), V(1.2.3.), V(127.)).
    Both front ends get a prefix with a trailing dot (C(1.2.3.)); tcp_wrappers would never match the document's
    C(tcp-env:1.2.3:) without it.
  - With O(state=present) a program that is neither tcpserver nor inetd listening on O(port) (postfix, exim...) fails the
    module before any change, also in check mode (RV(port_holders)).
  - Every option is checked before anything changes; a failure names the variable (O(variable_prefix) + option name,
    with the list index) and the reason.
author:
  - teamware.qmail contributors (@teamware)
extends_documentation_fragment:
  - teamware.qmail.attributes
attributes:
  check_mode:
    details:
      - Reports the rules file, the cdb and the parts of the service directory (or C(inetd.conf), C(hosts.allow) and the
        state file) that would be written; tcprules is not run (and need not be installed).
      - With O(state=absent), C(svok) runs (it changes nothing); C(svc -dx) does not.
  diff_mode:
    details:
      - The diff shows the rules file, the run scripts, the directories and the link; the cdb is binary and is only listed
        in RV(changes).
      - With O(format=hosts_allow), C(inetd.conf), C(hosts.allow) and the state file, before and after.
      - With O(state=absent) check mode shows the block gone from C(hosts.allow) even while inetd holds the port (the
        whole plan, as it is once inetd has had its HUP).
options:
  format:
    description: V(tcprules) for tcpserver, V(hosts_allow) for inetd and tcpd.
    type: str
    default: tcprules
    choices: [tcprules, hosts_allow]
  relay_clients:
    description:
      - The clients that may relay, each a full or partial IPv4 address as a string. Quote partial addresses in YAML
        (V('127.')); an unquoted C(127.) or C(10.0) is a number and is refused.
      - Duplicates, CIDR notation, ranges, host names, white space and line breaks are refused.
      - An empty list lets nobody relay.
    type: list
    elements: raw
    required: true
  variable_prefix:
    description: Put in front of option names in error messages, e.g. V(ucspi_tcp_) to name the role variables.
    type: str
    default: ""
  rules_file:
    description: The tcprules source file (O(format=tcprules)).
    type: path
    default: /etc/tcp.smtp
  rules_cdb:
    description: The compiled rules that tcpserver reads with C(-x); its temporary file is the same name with C(.tmp).
    type: path
    default: /etc/tcp.smtp.cdb
  tcprules:
    description: The tcprules program, a name looked up in C(PATH) or a path.
    type: str
    default: tcprules
  run_script:
    description:
      - Also return tcpserver's daemontools scripts (RV(run_script), RV(log_run_script)); implied by O(supervise_dir).
      - The numeric ids are O(uid) and O(gid), or else those of O(user) and O(group) on the host.
      - In check mode a missing account (created by a task that did not run) gives a warning
        and C(UNKNOWN) in the script; otherwise the module fails.
    type: bool
    default: false
  uid:
    description: Numeric uid for tcpserver's C(-u) (the qmaild user); looked up from O(user) on the host when omitted.
    type: int
  gid:
    description: Numeric gid for tcpserver's C(-g) (the nofiles group); looked up from O(group) on the host when omitted.
    type: int
  user:
    description: The account tcpserver switches to (O(uid) is looked up from it); with O(format=hosts_allow) the user of the C(inetd.conf) line.
    type: str
    default: qmaild
  group:
    description: The group tcpserver switches to (O(gid) is looked up from it).
    type: str
    default: nofiles
  bind_address:
    description:
      - Local address to listen on. tcpserver takes V(0) for every address (its default here); inetd takes no
        prefix for every address (its default here) or an IPv4 address (written C(127.0.0.1:smtp)).
    type: str
  port:
    description: Port number or service name.
    type: str
    default: smtp
  qmail_dir:
    description: qmail's home; the programs are C(bin/qmail-smtpd) and C(bin/tcp-env) below it.
    type: path
    default: /var/qmail
  log_level:
    description: tcpserver's messages, V(verbose) (C(-v)), V(errors) (C(-Q), tcpserver's own default) or V(quiet) (C(-q)).
    type: str
    default: verbose
    choices: [verbose, errors, quiet]
  logger:
    description: What C(log/run) runs, C(multilog t ./main) or qmail's C(splogger smtpd 3) (syslog).
    type: str
    default: multilog
    choices: [multilog, splogger]
  log_user:
    description: The account the logger runs as (C(setuidgid)); owns C(log/main) with O(supervise_dir) and O(logger=multilog).
    type: str
    default: qmaill
  probe:
    description: A program tcpserver runs instead of qmail-smtpd (tests).
    type: path
  extra_options:
    description: More tcpserver options, each one word, e.g. V([-R, -H]). C(-x), C(-u) and C(-g) are set by the module.
    type: list
    elements: str
    default: []
  tcpd:
    description: tcp_wrappers' tcpd, for the C(inetd.conf) line.
    type: path
    default: /usr/sbin/tcpd
  state:
    description:
      - With O(format=tcprules) and O(supervise_dir), V(present) builds and links the service, V(absent) removes its link
        from the scan directory and stops it (needs O(supervise_dir) and O(service_dir)).
      - With O(format=hosts_allow), V(present) writes the C(inetd.conf) line and the C(hosts.allow) block, V(absent)
        removes them.
    type: str
    default: present
    choices: [present, absent]
  supervise_dir:
    description:
      - Where tcpserver's service directory O(service_name) is built (O(format=tcprules)); together with O(service_dir).
      - Without it the module does not touch the service.
    type: path
  service_dir:
    description: The scan directory of svscan, where the service is linked as O(service_name); together with O(supervise_dir).
    type: path
  service_name:
    description: The name of the service directory and of its link in the scan directory.
    type: str
    default: qmail-smtpd
  inetd_conf:
    description: inetd's configuration file (C(/etc/inetd.conf)), where the module writes the SMTP line; required with O(format=hosts_allow).
    type: path
  hosts_allow:
    description: tcp_wrappers' allow file (C(/etc/hosts.allow)), where the module writes the relay clients; required with O(format=hosts_allow).
    type: path
  hosts_allow_marker:
    description:
      - The marker lines of the block in O(hosts_allow) (C({mark}) is BEGIN or END), as M(ansible.builtin.blockinfile)
        takes it (earlier versions of the collection wrote the block with it).
    type: str
    default: "# {mark} teamware.qmail inetd role: SMTP relay clients (tcpd rereads this file at every connection)"
  other_front_end:
    description:
      - The other front end, as its role's variables describe it (the roles pass it). Keys C(kind) (V(inetd) with
        O(format=tcprules), V(tcpserver) with O(format=hosts_allow)) and C(state) (its role's state), and for
        V(kind=inetd) C(inetd_conf), C(hosts_allow), C(hosts_allow_marker), C(port), C(qmail_dir), C(tcpd), C(user),
        C(bind_address); for V(kind=tcpserver) C(supervise_dir), C(service_dir), C(service_name), C(port),
        C(bind_address). Every key the module reads must be there (with C(state=present) C(port) and C(bind_address));
        the module carries none of the roles' defaults, and fails, changing nothing, naming the missing keys. The
        roles hand them complete (site.yml from P(teamware.qmail.site_settings#filter)'s C(front_end_values), a role
        alone through P(teamware.qmail.front_end_values#filter)).
      - With C(state=absent) (site.yml, for the front end it did not choose) RV(other_front_end_active) tells whether
        it still serves the SMTP port; with O(state=present) the module then fails, changing nothing, saying that the
        other front end must be taken out first (site.yml looks in check mode, where the module shows its plan, and
        takes it out first).
      - With C(state=present) (both roles in one play) the module fails, before any change, when both would serve the
        same port on the same address (an address for every address overlaps any); this is the collection's one check
        that exactly one front end owns the SMTP port.
      - Without C(state) (its role is not part of the run) it is not looked at.
    type: dict
  required_programs:
    description:
      - Programs the front end needs (names looked up in C(PATH) and the sbin directories, or absolute paths); RV(missing_programs)
        lists those that are not there.
      - With O(format=tcprules) and O(state=present) the module changes nothing while one is missing, so that the role can
        install the packages first (and look only once on a host that has them).
    type: list
    elements: str
    default: []
  manage_packages:
    description:
      - Whether the caller installs O(packages) when a program of O(required_programs) is missing (the roles'
        C(ucspi_tcp_manage_packages), C(inetd_manage_packages)).
      - With V(false) and a program missing the module fails, changing nothing, naming the variable (O(variable_prefix)
        + C(manage_packages)), the missing programs and O(packages); the roles' look needs no task of its own for it.
    type: bool
    default: true
  packages:
    description: The packages that provide O(required_programs), named in the failure of O(manage_packages=false).
    type: list
    elements: str
    default: []
  completed_actions:
    description:
      - Restarts (or the HUP of inetd) the caller carried out after an earlier call reported them in RV(owed_actions);
        they are cleared from the state file, C(teamware-qmail.json) in the service directory (O(format=tcprules) with
        O(supervise_dir)) or C(teamware-qmail-inetd.json) beside O(inetd_conf) (O(format=hosts_allow)).
      - A restart or a HUP leaves no trace on the host, so the module records it there before it changes a run script
        or C(inetd.conf), and reports it on every call until the caller says it ran; a run killed in between is finished
        by the next one.
    type: list
    elements: str
    choices: [restart_tcpserver, restart_logger, hup_inetd]
    default: []
  smtp_banner:
    description:
      - Also look whether the front end serves SMTP (O(state=present)) - tcpserver supervised and up (C(svok), C(svstat)),
        inetd running (O(inetd_pid_file)) - and connect to its port to read qmail-smtpd's C(220) greeting (then C(QUIT)).
        The result is in RV(running) and RV(smtp_banner).
      - The line must be exactly C(220 GREETING ESMTP), GREETING the first line of O(qmail_dir)C(/control/smtpgreeting)
        or, without that file, of C(control/me) (as qmail-smtpd works it out); when neither can be read, any C(220)
        line passes and RV(smtp_banner) says so (C(note)).
      - The module connects only to the host's own addresses, from the host itself.
    type: dict
    suboptions:
      host:
        description: Where to connect; default O(bind_address), loopback C(127.0.0.1) for every address. Must be the host's own.
        type: str
      port:
        description: The port; default O(port).
        type: str
      timeout:
        description: Seconds to wait for the connection and the greeting.
        type: float
        default: 5.0
      wait:
        description: Try again for this many seconds while there is no C(220) (a front end that was just started).
        type: float
        default: 0.0
      required:
        description: Fail, naming why, when nothing answers with C(220) (in check mode, warn).
        type: bool
        default: false
  inetd_pid_file:
    description: With O(format=hosts_allow) and O(smtp_banner), or O(state=absent), where inetd writes its pid.
    type: path
    default: /run/inetd.pid
  inetd_program:
    description: With O(format=hosts_allow) and O(smtp_banner), or O(state=absent), the inetd program that pid must run.
    type: path
    default: /usr/sbin/inetd
  take_over:
    description:
      - The host's own lines the collection may replace, named as a conflict names them (C(tcprules:ADDRESS), C(tcprules:default),
        C(inetd.conf:SERVICE), C(hosts.allow:DAEMONS:CLIENTS)); site.yml passes C(qmail_take_over).
      - The host's own lines are kept otherwise (the rules file's lines outside the collection's block, other inetd.conf
        lines, hosts.allow outside the marked block); one that contradicts O(relay_clients) or the port stops the module
        before anything changes (see docs/existing-hosts.md).
    type: list
    elements: str
    default: []
notes:
  - tcpserver uses the first rule it finds in the order full address, then shorter and shorter prefixes,
    then the empty rule. The rules file ends with the default rule C(:allow), so every other client may
    connect and send mail for C(control/rcpthosts).
  - tcpd rereads C(hosts.allow) at every connection; only a changed C(inetd.conf) needs inetd to be sent a HUP.
  - Earlier versions wrote the C(inetd.conf) line with M(ansible.builtin.lineinfile) and the C(hosts.allow) block with
    M(ansible.builtin.blockinfile); files they wrote read as current.
seealso:
  - name: tcprules
    description: Rule format and the atomic cdb update.
    link: https://cr.yp.to/ucspi-tcp/tcprules.html
  - name: hosts_options
    description: tcp_wrappers' extended option syntax (setenv).
    link: https://manpages.debian.org/bookworm/libwrap0-dev/hosts_options.5.en.html
"""

EXAMPLES = r"""
- name: Let loopback and the Teamware Office server relay through tcpserver
  teamware.qmail.relay_rules:
    relay_clients: ["127.", "192.0.2.10"]
    rules_file: /etc/tcp.smtp
    rules_cdb: /etc/tcp.smtp.cdb
    run_script: true
    uid: 995
    gid: 995
    variable_prefix: ucspi_tcp_
  register: relay

- name: Build, link and (only for a new run script) restart tcpserver's service
  teamware.qmail.relay_rules:
    relay_clients: ["127."]
    supervise_dir: /var/qmail/supervise
    service_dir: /service
    user: qmaild
    group: nofiles
    variable_prefix: ucspi_tcp_
  register: smtpd

- name: Restart tcpserver only when its run script changed (rules take effect at the next connection)
  ansible.builtin.command:
    argv: [svc, -t, /var/qmail/supervise/qmail-smtpd]
  changed_when: true
  when: smtpd.run_script_changed

- name: Take tcpserver's service out of the scan directory and stop it
  teamware.qmail.relay_rules:
    state: absent
    relay_clients: []
    supervise_dir: /var/qmail/supervise
    service_dir: /service

- name: Write the smtp line of inetd.conf and the relay clients into hosts.allow
  teamware.qmail.relay_rules:
    format: hosts_allow
    relay_clients: ["127.", "192.0.2."]
    inetd_conf: /etc/inetd.conf
    hosts_allow: /etc/hosts.allow
  register: inetd

- name: Send inetd the HUP a changed inetd.conf owes it (tcpd rereads hosts.allow by itself)
  ansible.builtin.command:
    argv: [start-stop-daemon, --stop, --signal, HUP, --quiet, --pidfile, /run/inetd.pid, --exec, /usr/sbin/inetd]
  register: hup
  changed_when: hup.rc == 0
  failed_when: hup.rc not in [0, 1]
  when: "'hup_inetd' in inetd.owed_actions"

- name: Clear the HUP that was sent
  teamware.qmail.relay_rules:
    format: hosts_allow
    relay_clients: ["127.", "192.0.2."]
    completed_actions: "{{ inetd.owed_actions }}"
"""

RETURN = r"""
lines:
  description: The rules file (O(format=tcprules)) or the C(hosts.allow) lines (O(format=hosts_allow)).
  returned: always
  type: list
  elements: str
  sample: ['127.:allow,RELAYCLIENT=""', ":allow"]
clients:
  description: The relay clients as both front ends match them (prefixes end with a dot).
  returned: always
  type: list
  elements: str
  sample: ["127.", "192.0.2.10"]
changes:
  description: The files written or removed (in check mode, to be), with the action and the reasons.
  returned: always
  type: list
  elements: dict
  sample: [{"path": "/etc/tcp.smtp", "kind": "rules", "action": "write", "reasons": ["content"]}]
rules_changed:
  description: The rules file changed.
  returned: always
  type: bool
cdb_rebuilt:
  description: tcprules compiled the cdb (in check mode, would compile it).
  returned: always
  type: bool
cdb_reason:
  description: Why the cdb was compiled, V(rules changed), V(cdb missing) or V(cdb older than rules); empty when it was not.
  returned: always
  type: str
run_script:
  description: The daemontools C(run) script of tcpserver.
  returned: when O(format=tcprules) and O(run_script=true)
  type: str
log_run_script:
  description: The daemontools C(log/run) script.
  returned: when O(format=tcprules) and O(run_script=true)
  type: str
command:
  description: tcpserver's command line as a list.
  returned: when O(format=tcprules) and O(run_script=true)
  type: list
  elements: str
run_script_changed:
  description: The C(run) script was written (in check mode, would be); tcpserver must be restarted (C(svc -t)).
  returned: always
  type: bool
log_run_script_changed:
  description: The C(log/run) script was written (in check mode, would be); the logger must be restarted.
  returned: always
  type: bool
inetd_line:
  description: The C(inetd.conf) line.
  returned: when O(format=hosts_allow)
  type: str
  sample: smtp stream tcp nowait qmaild /usr/sbin/tcpd /var/qmail/bin/tcp-env /var/qmail/bin/qmail-smtpd
daemon:
  description: The daemon name tcpd looks up in C(hosts.allow), the file name of the program it runs (C(tcp-env)).
  returned: when O(format=hosts_allow)
  type: str
inetd_holds_port:
  description:
    - inetd (a live O(inetd_program) in O(inetd_pid_file)) still listens on O(port), so it has not reread C(inetd.conf)
      since its line went; the block in O(hosts_allow) stays until it has (in check mode the plan shows it gone).
  returned: when O(format=hosts_allow) and O(state=absent)
  type: bool
missing_programs:
  description: The programs of O(required_programs) that are not there.
  returned: always
  type: list
  elements: str
other_front_end_active:
  description: The front end of O(other_front_end) still serves the SMTP port (false without O(other_front_end)).
  returned: always
  type: bool
port_holders:
  description:
    - The sockets listening on O(port) at an address that overlaps O(bind_address) (V(0.0.0.0) and V(::) overlap any),
      from C(/proc/net/tcp{,6}) and C(/proc/PID/fd) (O(state=present)), each with C(address), C(port), C(pid) and
      C(program) (null when no readable process holds it, e.g. as non-root), C(pids), C(foreign).
    - A program that is neither tcpserver nor inetd (nor O(inetd_program)) fails the module before any change, also in
      check mode, naming the port, the program and its pid.
  returned: always
  type: list
  elements: dict
  sample: [{address: 0.0.0.0, port: 25, pid: 812, program: tcpserver, pids: [812], foreign: false}]
ansible_facts:
  description: Facts for the play, so that a play that runs either front end's look reads one name (site.yml).
  returned: always
  type: dict
  contains:
    qmail_other_front_end_active:
      description:
        - RV(other_front_end_active) as a fact. site.yml configures the chosen front end at once when it is false, and
          takes the other one out first when it is true.
      type: bool
removed:
  description:
    - The lines the module took out of O(inetd_conf) (an old smtp line, one that O(take_over) names, all of them with
      O(state=absent)) and of O(hosts_allow) (those that O(take_over) names), each with its file.
  returned: when O(format=hosts_allow)
  type: list
  elements: dict
  sample: [{"file": "/etc/inetd.conf", "line": "smtp stream tcp nowait root /usr/sbin/exim4 exim4 -bs"}]
kept:
  description: The host's own rules in O(rules_file), kept before the collection's block (O(format=tcprules)).
  returned: when O(format=tcprules) and O(state=present)
  type: list
  elements: str
conflicts:
  description: The host's own lines that contradict the inventory (file, line, entry to name in O(take_over), reason).
  returned: failed
  type: list
  elements: dict
owed_actions:
  description:
    - Restarts owed to tcpserver (this call changed a run script, or an earlier one did and O(completed_actions) has not
      cleared it); the ucspi_tcp role carries them out (C(svc -t)) and then clears them.
    - With O(format=hosts_allow), C(hup_inetd) - inetd must reread C(inetd.conf) - when this call changed it, an earlier
      one did and O(completed_actions) has not cleared it, or inetd runs but does not greet on the port (O(smtp_banner));
      the inetd role sends the HUP and then clears it.
  returned: always
  type: list
  elements: str
  sample: [restart_tcpserver]
running:
  description: The front end runs (tcpserver supervised and up, or inetd's pid file names a live inetd); null without a service.
  returned: when O(smtp_banner) is given and O(state=present)
  type: bool
smtp_banner:
  description: What answered on the SMTP port.
  returned: when O(smtp_banner) is given and O(state=present)
  type: dict
  sample: {host: 127.0.0.1, port: 25, ok: true, line: "220 mail.company.com ESMTP", error: "", tries: 1,
           summary: "SMTP on 127.0.0.1:25 answers: 220 mail.company.com ESMTP"}
front_end_problem:
  description: Why the front end does not serve SMTP as qmail-smtpd (empty when it does).
  returned: when O(smtp_banner) is given and O(state=present)
  type: str
"""

import functools

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.teamware.qmail.plugins.module_utils import files
from ansible_collections.teamware.qmail.plugins.module_utils import front_end_service
from ansible_collections.teamware.qmail.plugins.module_utils import front_end_settings
from ansible_collections.teamware.qmail.plugins.module_utils import relay
from ansible_collections.teamware.qmail.plugins.module_utils import tcpserver_front_end
from ansible_collections.teamware.qmail.plugins.module_utils.validators import ValidationError


DEFAULT_MARKER = front_end_service.DEFAULT_MARKER
# other_front_end_active as a fact: the same name whichever front end's role looked (site.yml).
FACT = "qmail_other_front_end_active"


ARGUMENT_SPEC = dict(
    format=dict(type="str", default="tcprules", choices=["tcprules", "hosts_allow"]),
    relay_clients=dict(type="list", elements="raw", required=True),
    variable_prefix=dict(type="str", default=""),
    rules_file=dict(type="path", default="/etc/tcp.smtp"),
    rules_cdb=dict(type="path", default="/etc/tcp.smtp.cdb"),
    tcprules=dict(type="str", default="tcprules"),
    run_script=dict(type="bool", default=False),
    uid=dict(type="int"),
    gid=dict(type="int"),
    user=dict(type="str", default="qmaild"),
    group=dict(type="str", default="nofiles"),
    bind_address=dict(type="str"),
    port=dict(type="str", default="smtp"),
    qmail_dir=dict(type="path", default="/var/qmail"),
    log_level=dict(type="str", default="verbose", choices=sorted(relay.LOG_LEVELS)),
    logger=dict(type="str", default="multilog", choices=list(relay.LOGGERS)),
    log_user=dict(type="str", default="qmaill"),
    probe=dict(type="path"),
    extra_options=dict(type="list", elements="str", default=[]),
    tcpd=dict(type="path", default="/usr/sbin/tcpd"),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    supervise_dir=dict(type="path"),
    service_dir=dict(type="path"),
    service_name=dict(type="str", default="qmail-smtpd"),
    inetd_conf=dict(type="path"),
    hosts_allow=dict(type="path"),
    hosts_allow_marker=dict(type="str", default=DEFAULT_MARKER),
    required_programs=dict(type="list", elements="str", default=[]),
    manage_packages=dict(type="bool", default=True),
    packages=dict(type="list", elements="str", default=[]),
    other_front_end=dict(type="dict"),
    completed_actions=dict(type="list", elements="str", default=[], choices=list(front_end_service.OWED_ACTIONS)),
    smtp_banner=dict(type="dict", options=dict(
        host=dict(type="str"),
        port=dict(type="str"),
        timeout=dict(type="float", default=5.0),
        wait=dict(type="float", default=0.0),
        required=dict(type="bool", default=False),
    )),
    inetd_pid_file=dict(type="path", default="/run/inetd.pid"),
    inetd_program=dict(type="path", default="/usr/sbin/inetd"),
    take_over=dict(type="list", elements="str", default=[]),
)


def fail_validation(module, exc):
    module.fail_json(msg="Invalid relay settings, the front end left as it was: %s" % exc.render(),
                     problems=[{"variable": var, "reason": reason} for var, reason in exc.problems])


def inetd_front_end():
    """inetd_front_end.py (and inetd_files.py), imported only where inetd is the front end: a no-op run of the
    tcpserver front end does not pay for them."""
    from ansible_collections.teamware.qmail.plugins.module_utils import inetd_front_end as writer
    return writer


def hosts_allow_format(module, clients, prefix):
    """inetd.conf's line and hosts.allow's block, written atomically (inetd_front_end); the HUP a changed inetd.conf
    owes is recorded before it changes and reported in owed_actions."""
    inetd = inetd_front_end()
    settings = inetd.settings_from(module.params, prefix)
    lines = relay.hosts_allow_lines(clients, settings.daemon)
    wanted, changes, removed, owed, held = inetd.plan(module, settings, clients, lines)
    inetd.write(module, wanted, changes)
    result = dict(changed=bool(changes), lines=lines, changes=[relay.change_summary(c) for c in changes],
                  rules_changed=False, cdb_rebuilt=False, cdb_reason="", run_script_changed=False,
                  log_run_script_changed=False, owed_actions=owed, inetd_line=settings.line(), daemon=settings.daemon,
                  removed=removed)
    if held is not None:
        result["inetd_holds_port"] = held
    if held and not module.check_mode and inetd.HUP not in owed:
        module.warn("inetd still listens on port %s with the inetd.conf it read before the smtp line went: the relay "
                    "clients' block stays in %s until inetd rereads it (send it a HUP); the next run then takes it out"
                    % (module.params["port"], module.params["hosts_allow"]))
    if module._diff and changes:
        result["diff"] = [files.diff_entry(c) for c in changes]
    return result


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        required_together=[("supervise_dir", "service_dir")],
        required_if=[("format", "hosts_allow", ("inetd_conf", "hosts_allow"))],
        supports_check_mode=True,
    )
    params = module.params
    prefix = params["variable_prefix"]
    clients = []
    missing = [program for program in params["required_programs"] if not front_end_service.find_program(module, program)]
    if missing and not params["manage_packages"]:
        module.fail_json(msg="%smanage_packages: false, but %s cannot be found; install %s or let the role do it."
                         % (prefix, ", ".join(missing), " and ".join(params["packages"]) or "them"),
                         missing_programs=missing)
    try:
        other_active = (front_end_service.other_front_end_active(module, params, params["other_front_end"])
                        if params["state"] == "present" else False)
        if other_active and not module.check_mode:
            # While the other front end holds the port nothing changes, and saying nothing would leave the port to
            # nobody once it is taken out: fail, saying what to do. site.yml takes it out first (the look, in check
            # mode, tells it so); check mode shows the plan at once.
            module.fail_json(msg=front_end_settings.still_serving("tcpserver" if params["format"] == "tcprules"
                                                                  else "inetd"), other_front_end_active=True)
        # A daemon that is neither front end on the port (postfix, exim...) stops the call, also in the look.
        holders = front_end_service.port_taken(module, params) if params["state"] == "present" else []
        tcprules_missing = missing and params["format"] == "tcprules"
        if tcprules_missing and params["state"] == "present":
            # Look before acting: while a program tcpserver needs is missing nothing changes; the role installs the
            # packages and calls the module again.
            relay.relay_clients(params["relay_clients"], prefix + "relay_clients")
            module.exit_json(changed=False, missing_programs=missing, other_front_end_active=other_active, changes=[],
                             ansible_facts={FACT: other_active}, port_holders=holders,
                             rules_changed=False, cdb_rebuilt=False, cdb_reason="", run_script_changed=False,
                             log_run_script_changed=False, owed_actions=[], clients=[])
        if params["format"] == "tcprules" and params["state"] == "absent":
            if not params["supervise_dir"]:
                module.fail_json(msg="state=absent needs supervise_dir and service_dir: it removes the service")
            # Only the service goes; the relay clients and the rules file are left alone.
            result = front_end_service.service_absent(module, tcpserver_front_end.service_directory(module, prefix))
        else:
            clients = relay.relay_clients(params["relay_clients"], prefix + "relay_clients")
            if params["format"] == "tcprules":
                result = tcpserver_front_end.tcprules_format(module, clients, prefix)
            else:
                result = hosts_allow_format(module, clients, prefix)
    except ValidationError as exc:
        fail_validation(module, exc)
    result["clients"] = [client.pattern for client in clients]
    result["missing_programs"] = missing
    result["other_front_end_active"] = other_active
    result["port_holders"] = holders
    result["ansible_facts"] = {FACT: other_active}
    if params["smtp_banner"] is not None and params["state"] == "present":
        if params["format"] == "tcprules":
            look = functools.partial(front_end_service.tcpserver_status, module, tcpserver_front_end.service_directory(module, prefix))
        else:
            look = functools.partial(front_end_service.inetd_status, params["inetd_pid_file"], params["inetd_program"])
        result.update(front_end_service.serving(module, params, look))
        if (params["format"] == "hosts_allow" and result["running"] and not result["smtp_banner"]["ok"]
                and inetd_front_end().HUP not in result["owed_actions"] + params["completed_actions"]):
            # inetd runs but does not serve the port: it has not reread an inetd.conf that is already right.
            result["owed_actions"].append(inetd_front_end().HUP)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
