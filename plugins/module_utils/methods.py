# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The integration methods, each in one place: a method is a hook and a transport.

hook       what makes qmail route the mail to Teamware Office, and what it writes on qmail's side
           (alias, virtualdomains, users, smtproutes, forward; ``NO_HOOK`` for section 2);
transport  how the message reaches Teamware Office (torecvm or SMTP; ``NO_TRANSPORT`` for section 2).

Everything that differs between methods is an attribute or a method of these objects: the routing entries
(``Hook.add_entries``, ``Transport.delivery_lines``), the guard lines, the rules between variables that depend on
the method (the flags below, read by rules.py and connector.py), the Teamware side (``Hook.teamware_addresses``,
``Transport.inbound``/``sendmail``) and how discovery recognises the method (``Hook.found_at``,
``Hook.delivery_found``: discovery.METHOD_OF is built from them).  routing.build_routing_table, rules.py, connector.py and discovery*.py hold no method names.

The objects write into a routing.RoutingTable through its ``add_dot_qmail``, ``add_route`` and its ``virtual``,
``users``, ``notes`` lists, so this file needs nothing from routing.py.  Pure Python, no Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.teamware.qmail.plugins.module_utils import pipe_lines

NO_MAILBOX = "Sorry, no mailbox here by that name. (#5.1.1)"

_q = pipe_lines.quote


class _Named:
    """Compares equal to its name, so that ``method.hook == "alias"`` reads as before (the name of NO_HOOK and
    NO_TRANSPORT is None)."""

    name = None

    def __eq__(self, other):
        if isinstance(other, _Named):
            return self.name == other.name
        return self.name == other

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(self.name)

    def __repr__(self):
        return "<%s %s>" % (type(self).__name__, self.name)


# ---------------------------------------------------------------------------------------------------------------
# Transports


class Transport(_Named):
    """How the message reaches Teamware Office.

    inbound, sendmail   what the MIME connector is told (to.ini: how mail comes in; sendmail = 1 for torecvm);
    needs_server        the Teamware Office server must be known (teamware_server or teamware_server_address);
    delivery_found      the delivery line discovery finds in a .qmail file (discovery_parse's line types).
    """

    inbound = "smtp"
    sendmail = False
    needs_server = False
    delivery_found = None

    def delivery_lines(self, s, recipient):
        """The .qmail line(s) that hand the message for ``recipient`` (a shell expression) to Teamware Office."""
        return []

    def add_pipe_routes(self, table, s, method):
        """What a .qmail pipe of this transport also needs (a hook with ``pipes_delivery`` calls it)."""

    def add_notes(self, table, s):
        """Notes of the transport, whatever the hook."""


class NoTransport(Transport):
    """Section 2: nothing is delivered to Teamware Office by qmail."""


class TorecvmTransport(Transport):
    name = "torecvm"
    inbound = "torecvm"
    sendmail = True
    delivery_found = "torecvm"

    def delivery_lines(self, s, recipient):
        # preline exits 100 (bounce) when it cannot run a missing program; the mail must wait instead.
        preline = "%s/bin/preline" % s.qmail_dir if s.teamware_preserve_return_path else None
        return [pipe_lines.build_presence_check(s.teamware_torecvm),
                pipe_lines.build_torecvm_delivery(s.teamware_torecvm, "%s/smtp" % s.teamware_root,
                                                  s.teamware_torecvm_reports, recipient, preline=preline)]

    def add_notes(self, table, s):
        if s.teamware_preserve_return_path:
            table.notes.append("5.1: torecvm runs through preline, so Teamware Office sees Return-Path and can send "
                               "receipt notifications.")


class SmtpTransport(Transport):
    name = "smtp"
    needs_server = True
    delivery_found = "qmail_remote"

    def delivery_lines(self, s, recipient):
        return [pipe_lines.build_smtp_delivery(s.qmail_delivery_wrapper, smtp_host_argument(s), recipient)]

    def add_pipe_routes(self, table, s, method):
        host = smtp_host_argument(s)
        relay = teamware_relay(s)
        if host != relay or s.teamware_smtp_port != 25:
            table.add_route(host, "teamware_server")
        table.notes.append("%s: the document's '| qmail-remote ...' line always exits 0, so mail is lost when Teamware "
                           "Office is down or refuses it; the collection's wrapper defers (111) or bounces (100) instead."
                           % method.section)


NO_TRANSPORT = NoTransport()
TORECVM = TorecvmTransport()
SMTP = SmtpTransport()


# ---------------------------------------------------------------------------------------------------------------
# Hooks


class Hook(_Named):
    """What makes qmail route the mail, and everything that follows from it.

    routes_mail                      qmail routes mail to Teamware Office (False only for section 2): the Teamware
                                     domains go into rcpthosts and must be given;
    needs_routing_user               the mail is delivered through the routing user's home;
    teamware_domains_must_be_remote  qmail must not treat the Teamware base addresses as local (5.1.2, 5.2.1);
    pipes_delivery                   a .qmail pipe hands the message to Teamware Office (the transport's lines);
    forwards_to_rewrite_domain       qmail forwards to teamware_rewrite_domain and routes that by smtproutes (5.2.4);
    allows_default_route             teamware_default_route may send every remote domain to Teamware Office;
    claims_teamware_routes           a qmail_extra_smtproutes entry for a Teamware domain is a second role;
    found_at                         where discovery finds the hook ("alias": ~alias/.qmail-default,
                                     "virtualdomains", "users": users/assign, "smtproutes").
    """

    routes_mail = True
    needs_routing_user = False
    teamware_domains_must_be_remote = False
    pipes_delivery = False
    forwards_to_rewrite_domain = False
    allows_default_route = False
    claims_teamware_routes = False
    found_at = None

    def teamware_local_domains(self, routing_kind, teamware_domains):
        """The Teamware domains this hook makes local for qmail (control/locals)."""
        return []

    def add_entries(self, table, s, method):
        """The hook's lines on qmail's side: .qmail files, control/virtualdomains, users/assign, smtproutes."""

    def delivery_found(self, transport):
        """The delivery line discovery finds where the hook hands mail on (see Transport.delivery_found)."""
        return transport.delivery_found

    def teamware_addresses(self, s):
        """(base addresses, own_node aliases) of the MIME connector."""
        if s.teamware_rewrite_domain:
            return [s.teamware_rewrite_domain], []
        return list(s.teamware_domains), self.other_local_aliases(s)

    def other_local_aliases(self, s):
        """Domains that reach Teamware Office as they came, besides its base addresses."""
        return []


class NoHook(Hook):
    """Section 2: qmail and Teamware Office side by side; the Teamware domains are none of qmail's business."""

    routes_mail = False

    def teamware_addresses(self, s):
        return list(s.teamware_domains), []


class AliasHook(Hook):
    """~alias/.qmail-default catches addresses with no local user (5.1.1, 5.2.2)."""

    name = "alias"
    pipes_delivery = True
    found_at = "alias"

    def teamware_local_domains(self, routing_kind, teamware_domains):
        return list(teamware_domains) if routing_kind == "domain" else []

    def add_entries(self, table, s, method):
        recipient = recipient_expression(s, "LOCAL", '"$RECIPIENT"')
        table.add_dot_qmail(s.alias_account, "default", one_pipe(alias_guards(s), method.transport.delivery_lines(s, recipient)),
                            "unknown local addresses that are Teamware Office's go to Teamware Office (%s)" % method.section)


class VirtualdomainsHook(Hook):
    """control/virtualdomains maps the Teamware domains to the routing user (5.1.2)."""

    name = "virtualdomains"
    needs_routing_user = True
    teamware_domains_must_be_remote = True
    pipes_delivery = True
    found_at = "virtualdomains"

    def add_entries(self, table, s, method):
        table.virtual += ["%s:%s" % (d, s.teamware_routing_user) for d in s.teamware_domains]
        recipient = recipient_expression(s, "DEFAULT", '"$DEFAULT"@"$HOST"')
        table.add_dot_qmail(s.routing_account, "default", one_pipe(name_guard(), method.transport.delivery_lines(s, recipient)),
                            "mail for the Teamware virtual domains goes to Teamware Office (%s)" % method.section)
        table.notes.append("5.1.2: the Teamware address is built from \"$DEFAULT\"@\"$HOST\"; the document's $SENDER "
                           "would hand Teamware the message's sender as recipient.")


class UsersHook(Hook):
    """users/assign maps the prefixed local parts to the routing user (5.1.3, 5.2.3)."""

    name = "users"
    needs_routing_user = True
    pipes_delivery = True
    found_at = "users"

    def add_entries(self, table, s, method):
        account = s.routing_account
        fields = (s.teamware_user_prefix, account.name, _id(account.uid), _id(account.gid), account.home)
        table.users.append("+%s:%s:%s:%s:%s:-::" % fields)
        recipient = recipient_expression(s, "DEFAULT", '"$RECIPIENT"')
        table.add_dot_qmail(account, "default", one_pipe(name_guard(), method.transport.delivery_lines(s, recipient)),
                            "addresses starting with %r go to Teamware Office (%s)" % (s.teamware_user_prefix, method.section))

    def other_local_aliases(self, s):
        """users/assign catches the prefix at every local domain, and the pipe hands Teamware Office the address as
        it came: the connector must take qmail's other local domains too, as aliases of its base address
        (tw.john@mail.company.com is tw.john@company.com), or it refuses them ('does not like recipient') and the
        mail bounces."""
        return [d for d in s.qmail_local_domains if d not in s.teamware_domains]


class SmtproutesHook(Hook):
    """control/smtproutes sends the Teamware domains to the Teamware server (5.2.1)."""

    name = "smtproutes"
    teamware_domains_must_be_remote = True
    allows_default_route = True
    claims_teamware_routes = True
    found_at = "smtproutes"

    def add_entries(self, table, s, method):
        for domain in s.teamware_domains:
            table.add_route(domain, "teamware_domains")
        if s.teamware_default_route:
            table.add_route("", "teamware_default_route")

    def delivery_found(self, transport):
        return None


class ForwardHook(Hook):
    """~alias/.qmail-default forwards to an alias base address that smtproutes routes (5.2.4)."""

    name = "forward"
    forwards_to_rewrite_domain = True
    claims_teamware_routes = True
    found_at = "alias"

    def add_entries(self, table, s, method):
        forward = pipe_lines.build_forward("%s/bin/forward" % s.qmail_dir, '"$LOCAL"@%s' % _q(s.teamware_rewrite_domain))
        table.add_dot_qmail(s.alias_account, "default", one_pipe(alias_guards(s), [forward]),
                            "Teamware addresses are forwarded to the alias base address %s (%s)"
                            % (s.teamware_rewrite_domain, method.section))
        table.add_route(s.teamware_rewrite_domain, "teamware_rewrite_domain")
        table.notes.append("5.2.4: forward changes only the envelope; To and Cc headers stay as they were.")

    def delivery_found(self, transport):
        return "forward_program"

    def teamware_addresses(self, s):
        return list(s.teamware_domains), [s.teamware_rewrite_domain]


NO_HOOK = NoHook()
HOOKS = dict((hook.name, hook) for hook in (AliasHook(), VirtualdomainsHook(), UsersHook(), SmtproutesHook(), ForwardHook()))


# ---------------------------------------------------------------------------------------------------------------
# Methods


class Method:
    """One integration method: a hook and a transport, with the document's section and title.

    ``hook`` and ``transport`` are the objects above; each compares equal to its name ("alias", "smtp", ...).
    """

    def __init__(self, name, section, title, transport, hook, routing_kinds):
        self.name = name
        self.section = section
        self.title = title
        # A name ("smtp", "alias"; None for section 2) or the object itself (a hook or transport of one's own).
        self.transport = transport if isinstance(transport, Transport) else TRANSPORTS[transport]
        self.hook = hook if isinstance(hook, Hook) else (HOOKS[hook] if hook else NO_HOOK)
        self.routing_kinds = routing_kinds

    @property
    def routes_mail(self):
        return self.hook.routes_mail

    @property
    def needs_routing_user(self):
        return self.hook.needs_routing_user

    @property
    def teamware_domains_must_be_remote(self):
        """Teamware base addresses that qmail must not treat as local (5.1.2, 5.2.1)."""
        return self.hook.teamware_domains_must_be_remote

    def add_entries(self, table, s):
        """Everything the method writes on qmail's side (routing.build_routing_table adds the rest)."""
        self.hook.add_entries(table, s, self)
        if self.hook.pipes_delivery:
            self.transport.add_pipe_routes(table, s, self)
        self.transport.add_notes(table, s)

    def teamware_side(self, s):
        """What the Teamware Office MIME connector must be told (to.ini, tombsmtp.ini)."""
        base, aliases = self.hook.teamware_addresses(s)
        return {
            "inbound": self.transport.inbound,
            "sendmail": self.transport.sendmail,
            "base_addresses": base,
            "own_node_aliases": aliases,
            "smtp_port": s.teamware_smtp_port,
            "server": smtp_host_argument(s) if (s.teamware_server or s.teamware_server_address) else None,
        }


TRANSPORTS = {None: NO_TRANSPORT, "torecvm": TORECVM, "smtp": SMTP}

METHODS = dict((m.name, m) for m in (
    Method("none", "2", "qmail and Teamware Office side by side, no routing between them", None, None, ()),
    Method("torecvm_alias", "5.1.1", "torecvm from ~alias/.qmail-default", "torecvm", "alias", ("domain", "user")),
    Method("torecvm_virtualdomains", "5.1.2", "torecvm through virtualdomains", "torecvm", "virtualdomains", ("domain",)),
    Method("torecvm_users", "5.1.3", "torecvm through qmail-users", "torecvm", "users", ("user",)),
    Method("smtp_smtproutes", "5.2.1", "SMTP through smtproutes", "smtp", "smtproutes", ("domain",)),
    Method("smtp_alias", "5.2.2", "SMTP from ~alias/.qmail-default", "smtp", "alias", ("domain", "user")),
    Method("smtp_users", "5.2.3", "SMTP through qmail-users", "smtp", "users", ("user",)),
    Method("smtp_forward", "5.2.4", "SMTP after forwarding to an alias base address", "smtp", "forward", ("user",)),
))


# ---------------------------------------------------------------------------------------------------------------
# The pieces the hooks and transports share


def recipient_expression(s, user_variable, original):
    """The address handed to Teamware Office: the original one, or rewritten to teamware_rewrite_domain."""
    if s.teamware_rewrite_domain:
        return '"$%s"@%s' % (user_variable, _q(s.teamware_rewrite_domain))
    return original


def smtp_host_argument(s):
    """The host name the delivery wrapper hands to qmail-remote (smtproutes maps it to relay and port)."""
    if s.teamware_server:
        return s.teamware_server
    return "[%s]" % s.teamware_server_address


def teamware_relay(s):
    """The relay of the routes to Teamware Office: [address] when given, else the server's name."""
    if s.teamware_server_address:
        return "[%s]" % s.teamware_server_address
    return s.teamware_server


def one_pipe(guards, delivery):
    """The guards and the delivery line(s) as the ONE pipe line of a .qmail file (pipe_lines.one_line): qmail-local
    starts a sh per pipe line, so every line more costs every message a process."""
    return [pipe_lines.one_line(guards + delivery)]


def alias_guards(s):
    """Guards for ~alias/.qmail-default: the Teamware domains, and with user routing also the prefix followed by a
    name (the prefix alone, tw.@company.com, names no Teamware user: Teamware Office would refuse it)."""
    guards = [pipe_lines.build_guard("HOST", s.teamware_domains, NO_MAILBOX)]
    if s.teamware_routing == "user":
        guards.append(pipe_lines.build_guard("LOCAL", [s.teamware_user_prefix + "?*"], NO_MAILBOX))
    return guards


def name_guard():
    """The routing user's .qmail-default gets the Teamware user's name in $DEFAULT; an empty one (the prefix alone,
    tw.@company.com, or @tw.company.com) names nobody and is bounced here rather than by Teamware Office."""
    return [pipe_lines.build_guard("DEFAULT", ["?*"], NO_MAILBOX)]


def _id(number):
    return "UNKNOWN" if number is None else str(number)
