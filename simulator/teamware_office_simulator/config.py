"""Configuration of the Teamware Office MIME connector SIMULATOR (tests only).

Reads ``ROOT/to.ini`` (section ``[MIME]``) and ``ROOT/tombsmtp.ini``
(``own_node`` keys) the way the simulator understands them, and implements the
single acceptance rule used by both the SMTP listener and ``torecvm``.

This is a simulator for tests, not Teamware Office: the key names ``smtp_port``
and ``sendmail`` are our own choice (the integration document does not name
them), see simulator/README.md.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

TO_INI = 'to.ini'
TOMBSMTP_INI = 'tombsmtp.ini'
MIME_SECTION = 'mime'
SPOOL_SUBDIR = 'smtp'

MODES = ('any', 'list', 'strict')
ALIAS_PREFIX = 'a:'

_DOMAIN_RE = re.compile(r'^[A-Za-z0-9_.-]+$')
_INLINE_COMMENT_RE = re.compile(r'\s[;#].*$')


class ConfigError(Exception):
    """The simulated Teamware Office configuration is missing or invalid."""


@dataclass(frozen=True)
class IniEntry:
    """One ``key = value`` line of an ini file."""

    section: str | None
    key: str
    value: str
    lineno: int


@dataclass
class IniFile:
    """Ini file parsed line by line, keeping repeated keys in file order.

    Section names and keys are case-insensitive (stored lower-cased); keys
    found before the first ``[section]`` have ``section`` None.
    """

    path: str | None = None
    entries: list[IniEntry] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    ignored_lines: list[int] = field(default_factory=list)

    def get_all(self, section: str | None, key: str) -> list[str]:
        """All values of ``key`` in ``section`` (None = top level), in order."""
        sect = section.lower() if section is not None else None
        key = key.lower()
        return [e.value for e in self.entries if e.section == sect and e.key == key]

    def get(self, section: str | None, key: str, default: str | None = None) -> str | None:
        """The last value of ``key`` in ``section``, or ``default``."""
        values = self.get_all(section, key)
        return values[-1] if values else default

    def get_all_anywhere(self, key: str) -> list[str]:
        """All values of ``key`` in any section or at top level, in file order."""
        key = key.lower()
        return [e.value for e in self.entries if e.key == key]


def parse_ini(text: str, path: str | None = None) -> IniFile:
    """Parse ini text tolerantly.

    ``[section]`` headers, ``key = value`` lines (repeated keys kept), full-line
    comments starting with ``;`` or ``#``, inline comments introduced by
    whitespace followed by ``;`` or ``#``, blank lines.  Values lose
    surrounding whitespace and one pair of surrounding double quotes.  Lines
    that are none of these are ignored (their numbers are kept in
    ``ignored_lines``).
    """
    ini = IniFile(path=path)
    section: str | None = None
    if text.startswith('\ufeff'):
        text = text[1:]
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in ';#':
            continue
        if line.startswith('['):
            end = line.find(']')
            if end > 1:
                section = line[1:end].strip().lower()
                if section not in ini.sections:
                    ini.sections.append(section)
                continue
            ini.ignored_lines.append(lineno)
            continue
        if '=' not in line:
            ini.ignored_lines.append(lineno)
            continue
        key, value = line.split('=', 1)
        key = key.strip().lower()
        if not key:
            ini.ignored_lines.append(lineno)
            continue
        value = _INLINE_COMMENT_RE.sub('', value).strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1].strip()
        ini.entries.append(IniEntry(section, key, value, lineno))
    return ini


def read_ini(path: str) -> IniFile:
    """Read and parse an ini file (UTF-8, falling back to Latin-1)."""
    with open(path, 'rb') as handle:
        data = handle.read()
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        text = data.decode('latin-1')
    return parse_ini(text, path=path)


@dataclass(frozen=True)
class Decision:
    """Result of the acceptance rule for one recipient address."""

    address: str
    accepted: bool
    reason: str
    teamware_address: str | None = None
    own_node: bool = False
    alias_of: str | None = None


@dataclass
class SimulatorConfig:
    """What the simulator understands of to.ini [MIME] and tombsmtp.ini."""

    root: str = '/to'
    deliver_relayed_dsn: int = 0
    no_relay: bool = False
    mode: str = 'any'
    allow: list[str] = field(default_factory=list)
    smtp_port: int = 25
    sendmail: bool = False
    # primary own nodes (own_node = company.com), lower-cased, file order
    own_nodes: list[str] = field(default_factory=list)
    # alias own nodes (own_node = A:tw.company.com) -> primary own node
    aliases: dict[str, str | None] = field(default_factory=dict)

    @property
    def spool_dir(self) -> str:
        """Where the SMTP listener stores messages (same as torecvm -dROOT/smtp)."""
        return os.path.join(self.root, SPOOL_SUBDIR)

    def all_own_nodes(self) -> set[str]:
        """Primary own nodes plus all A: aliases."""
        return set(self.own_nodes) | set(self.aliases)

    def as_dict(self) -> dict:
        """JSON-friendly view, used by ``teamware-office-simulator config``."""
        return {
            'root': self.root,
            'deliver_relayed_dsn': self.deliver_relayed_dsn,
            'no_relay': self.no_relay,
            'mode': self.mode,
            'allow': list(self.allow),
            'smtp_port': self.smtp_port,
            'sendmail': self.sendmail,
            'own_nodes': list(self.own_nodes),
            'aliases': dict(self.aliases),
        }


def _int_option(ini: IniFile, key: str, default: int, allowed: tuple[int, ...] | None = None,
                low: int | None = None, high: int | None = None) -> int:
    raw = ini.get(MIME_SECTION, key)
    if raw is None or raw == '':
        return default
    try:
        value = int(raw, 10)
    except ValueError:
        raise ConfigError('%s: [MIME] %s = %r is not an integer' % (ini.path, key, raw)) from None
    if allowed is not None and value not in allowed:
        raise ConfigError('%s: [MIME] %s = %r must be one of %s' % (ini.path, key, raw, ', '.join(str(a) for a in allowed)))
    if (low is not None and value < low) or (high is not None and value > high):
        raise ConfigError('%s: [MIME] %s = %r is out of range %s..%s' % (ini.path, key, raw, low, high))
    return value


def _check_domain(value: str, what: str, path: str | None) -> str:
    if not value or not _DOMAIN_RE.match(value):
        raise ConfigError('%s: %s %r is not a single domain name (one domain per line)' % (path, what, value))
    return value.lower()


def config_from_ini(to_ini: IniFile, tombsmtp_ini: IniFile | None, root: str = '/to') -> SimulatorConfig:
    """Build a SimulatorConfig from parsed to.ini and tombsmtp.ini."""
    cfg = SimulatorConfig(root=root)
    cfg.deliver_relayed_dsn = _int_option(to_ini, 'deliver_relayed_dsn', 0, allowed=(0, 1, 2))
    cfg.no_relay = bool(_int_option(to_ini, 'no_relay', 0, allowed=(0, 1)))
    cfg.sendmail = bool(_int_option(to_ini, 'sendmail', 0, allowed=(0, 1)))
    cfg.smtp_port = _int_option(to_ini, 'smtp_port', 25, low=1, high=65535)
    mode = (to_ini.get(MIME_SECTION, 'mode') or 'any').lower()
    if mode not in MODES:
        raise ConfigError('%s: [MIME] mode = %r must be one of %s' % (to_ini.path, mode, ', '.join(MODES)))
    cfg.mode = mode
    for value in to_ini.get_all(MIME_SECTION, 'allow'):
        domain = _check_domain(value, '[MIME] allow', to_ini.path)
        if domain not in cfg.allow:
            cfg.allow.append(domain)
    if tombsmtp_ini is not None:
        last_primary: str | None = None
        pending_aliases: list[str] = []
        for value in tombsmtp_ini.get_all_anywhere('own_node'):
            if value[:2].lower() == ALIAS_PREFIX:
                alias = _check_domain(value[2:].strip(), 'own_node alias', tombsmtp_ini.path)
                cfg.aliases[alias] = last_primary
                if last_primary is None:
                    pending_aliases.append(alias)
                continue
            if ':' in value:
                raise ConfigError('%s: own_node = %r: only the A: (alias) prefix is understood' % (tombsmtp_ini.path, value))
            primary = _check_domain(value, 'own_node', tombsmtp_ini.path)
            if primary not in cfg.own_nodes:
                cfg.own_nodes.append(primary)
            last_primary = primary
        # an alias written before any primary own_node belongs to the first primary
        for alias in pending_aliases:
            cfg.aliases[alias] = cfg.own_nodes[0] if cfg.own_nodes else None
    return cfg


def load_config(root: str) -> SimulatorConfig:
    """Read ROOT/to.ini (required) and ROOT/tombsmtp.ini (optional).

    Raises ConfigError when to.ini is missing or unreadable or a value is
    invalid.  A missing tombsmtp.ini means "no own nodes".
    """
    to_path = os.path.join(root, TO_INI)
    try:
        to_ini = read_ini(to_path)
    except OSError as exc:
        raise ConfigError('cannot read %s: %s' % (to_path, exc.strerror or exc)) from None
    tomb_path = os.path.join(root, TOMBSMTP_INI)
    tombsmtp_ini: IniFile | None
    try:
        tombsmtp_ini = read_ini(tomb_path)
    except FileNotFoundError:
        tombsmtp_ini = None
    except OSError as exc:
        raise ConfigError('cannot read %s: %s' % (tomb_path, exc.strerror or exc)) from None
    return config_from_ini(to_ini, tombsmtp_ini, root=root)


def split_address(address: str) -> tuple[str, str]:
    """Split ``local@domain`` at the last ``@``; ValueError if not fully qualified."""
    if not address or '@' not in address:
        raise ValueError('address %r is not of the form local@domain' % (address,))
    local, domain = address.rsplit('@', 1)
    if not local or not domain:
        raise ValueError('address %r is not of the form local@domain' % (address,))
    if any(ch.isspace() for ch in domain) or any(ch in '<>' for ch in address):
        raise ValueError('address %r is not of the form local@domain' % (address,))
    return local, domain


def check_recipient(cfg: SimulatorConfig, address: str) -> Decision:
    """The acceptance rule of the simulated MIME connector, for one recipient.

    * mode=any: accepted, except when no_relay=1 and the domain is neither an
      own node (primary or A: alias) nor in the allow list (relaying refused);
    * mode=list: accepted when the domain is in the allow list or an own node;
    * mode=strict: accepted only when the domain is an own node.

    Domains are compared exactly and case-insensitively.  For an accepted
    address in an A: alias domain, ``teamware_address`` is the address rewritten
    to the primary own node (john@tw.company.com -> john@company.com, section
    5.2.4); otherwise it is the address itself.
    """
    try:
        local, domain = split_address(address)
    except ValueError as exc:
        return Decision(address, False, str(exc))
    dom = domain.lower()
    own_nodes = cfg.all_own_nodes()
    is_own = dom in own_nodes
    in_allow = dom in cfg.allow
    if cfg.mode == 'any':
        if cfg.no_relay and not is_own and not in_allow:
            return Decision(address, False, 'relaying denied: %s is not an own node or allowed domain of this server (no_relay=1)' % dom)
        why = 'mode=any' + (', own node' if is_own else '')
    elif cfg.mode == 'list':
        if not is_own and not in_allow:
            return Decision(address, False, 'domain %s is not in the allow list or own nodes of this server (mode=list)' % dom)
        why = 'mode=list, %s' % ('own node' if is_own else 'allow list')
    else:
        if not is_own:
            return Decision(address, False, 'domain %s is not an own node of this server (mode=strict)' % dom)
        why = 'mode=strict, own node'
    alias_of = None
    teamware = address
    if dom in cfg.aliases:
        alias_of = cfg.aliases[dom]
        if alias_of:
            teamware = '%s@%s' % (local, alias_of)
        why += ', alias of %s' % (alias_of or '(no primary own_node)')
    return Decision(address, True, why, teamware_address=teamware, own_node=is_own, alias_of=alias_of)
