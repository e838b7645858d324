"""The acceptance rule of the Teamware Office MIME connector SIMULATOR (tests only)."""

from __future__ import annotations

import pytest

from teamware_office_simulator.config import SimulatorConfig, check_recipient


def make_cfg(mode='any', no_relay=False, allow=(), own=('company.com',), aliases=None):
    if aliases is None:
        aliases = {'tw.company.com': 'company.com'}
    return SimulatorConfig(root='/to', mode=mode, no_relay=no_relay, allow=list(allow), own_nodes=list(own), aliases=dict(aliases))


ALLOW = ('accepted.domain.com',)

# mode, no_relay, address, accepted, teamware address
TABLE = [
    # mode=any accepts everything unless no_relay=1
    ('any', False, 'john@company.com', True, 'john@company.com'),
    ('any', False, 'john@tw.company.com', True, 'john@company.com'),
    ('any', False, 'x@accepted.domain.com', True, 'x@accepted.domain.com'),
    ('any', False, 'x@elsewhere.org', True, 'x@elsewhere.org'),
    ('any', True, 'john@company.com', True, 'john@company.com'),
    ('any', True, 'john@tw.company.com', True, 'john@company.com'),
    ('any', True, 'x@accepted.domain.com', True, 'x@accepted.domain.com'),
    ('any', True, 'x@elsewhere.org', False, None),
    ('any', True, 'x@sub.company.com', False, None),
    # mode=list: allow list or own nodes, no_relay does not widen it
    ('list', False, 'john@company.com', True, 'john@company.com'),
    ('list', False, 'john@tw.company.com', True, 'john@company.com'),
    ('list', False, 'x@accepted.domain.com', True, 'x@accepted.domain.com'),
    ('list', False, 'x@elsewhere.org', False, None),
    ('list', False, 'x@sub.accepted.domain.com', False, None),
    ('list', True, 'x@accepted.domain.com', True, 'x@accepted.domain.com'),
    ('list', True, 'x@elsewhere.org', False, None),
    # mode=strict: own nodes (primary and A: aliases) only
    ('strict', False, 'john@company.com', True, 'john@company.com'),
    ('strict', False, 'john@tw.company.com', True, 'john@company.com'),
    ('strict', False, 'x@accepted.domain.com', False, None),
    ('strict', False, 'x@elsewhere.org', False, None),
    ('strict', True, 'john@company.com', True, 'john@company.com'),
    ('strict', True, 'x@accepted.domain.com', False, None),
    # case-insensitive domains, local part kept as given
    ('strict', False, 'John.Woo@COMPANY.COM', True, 'John.Woo@COMPANY.COM'),
    ('strict', False, 'John.Woo@Tw.Company.Com', True, 'John.Woo@company.com'),
    ('list', False, 'x@ACCEPTED.domain.COM', True, 'x@ACCEPTED.domain.COM'),
    ('any', True, 'x@Accepted.Domain.Com', True, 'x@Accepted.Domain.Com'),
    # exact domain: no suffix or prefix matching
    ('strict', False, 'x@company.com.evil.org', False, None),
    ('strict', False, 'x@xcompany.com', False, None),
    ('strict', False, 'x@.company.com', False, None),
]


@pytest.mark.parametrize('mode, no_relay, address, accepted, teamware', TABLE)
def test_acceptance_table(mode, no_relay, address, accepted, teamware):
    decision = check_recipient(make_cfg(mode=mode, no_relay=no_relay, allow=ALLOW), address)
    assert decision.accepted is accepted, decision.reason
    assert decision.teamware_address == teamware
    assert decision.address == address


def test_reasons_are_explicit():
    assert 'no_relay' in check_recipient(make_cfg(no_relay=True), 'x@elsewhere.org').reason
    assert 'mode=list' in check_recipient(make_cfg(mode='list'), 'x@elsewhere.org').reason
    assert 'mode=strict' in check_recipient(make_cfg(mode='strict'), 'x@elsewhere.org').reason
    decision = check_recipient(make_cfg(), 'john@tw.company.com')
    assert decision.own_node and decision.alias_of == 'company.com' and 'alias of company.com' in decision.reason


@pytest.mark.parametrize('address', ['', 'john', '@company.com', 'john@', '<john@company.com>', 'john@company .com'])
def test_malformed_addresses_are_refused(address):
    assert not check_recipient(make_cfg(), address).accepted


def test_local_part_with_at_sign_uses_last_at():
    decision = check_recipient(make_cfg(mode='strict'), '"a@b"@tw.company.com')
    assert decision.accepted and decision.teamware_address == '"a@b"@company.com'


def test_alias_without_primary_own_node_is_accepted_unchanged():
    decision = check_recipient(make_cfg(mode='strict', own=(), aliases={'tw.company.com': None}), 'john@tw.company.com')
    assert decision.accepted and decision.teamware_address == 'john@tw.company.com'


def test_strict_without_own_nodes_refuses_everything():
    assert not check_recipient(make_cfg(mode='strict', own=(), aliases={}), 'john@company.com').accepted
