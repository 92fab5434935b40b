# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles' own variables: typed strictly, every string matched against its grammar, secrets never shown."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.lvs.cluster.plugins.plugin_utils import role_settings as rs
from ansible_collections.lvs.cluster.tests.unit.hostile.corpus import hostile

# A valid value of each string-carrying variable, and what the role reads it as.
VALID = {
    'director_vip_interface': 'eth0', 'director_vrrp_interface': 'bond0.100', 'realserver_dr_interface': 'lo',
    'realserver_tun_nic': 'ens3', 'realserver_dr_arp_interfaces': ['lo', 'eth0'],
    'director_sysctl_file': '/etc/sysctl.d/90-lvs-director.conf', 'director_rules_file': '/etc/ipvsadm.rules',
    'director_keepalived_conf': '/etc/keepalived/keepalived.conf',
    'realserver_dr_sysctl_file': '/etc/sysctl.d/90-lvs-realserver-dr.conf',
    'realserver_tun_sysctl_file': '/etc/sysctl.d/90-lvs-realserver-tun.conf',
    'director_packages': ['ipvsadm'], 'director_keepalived_packages': ['keepalived'],
    'director_nftables_packages': ['nftables'], 'director_vrrp_group': 'lvs_directors', 'director_vrrp_instance': 'LVS',
    'director_vrrp_auth_pass': 's3cret', 'director_vrrp_extra_addresses': ['10.0.0.1/24 dev eth1'],
    'director_vips': ['198.51.100.100', '2001:db8::64/64'], 'realserver_dr_vips': ['198.51.100.100'],
    'realserver_tun_vips': ['198.51.100.100'], 'director_vrrp_unicast_peers': ['192.0.2.2'],
    'realserver_nat_gateway': ['10.0.0.1'], 'lvs_address': ['203.0.113.11'], 'realserver_dr_addresses': ['fe80::1'],
    'realserver_tun_addresses': ['203.0.113.11'], 'realserver_nat_routes': ['default', '10.9.0.0/16'],
    'realserver_nat_unit': 'lvs-nat-routes.service', 'director_sysctls': {'net.core.somaxconn': 4096},
    'director_health_check': {'delay_loop': 3, 'type': 'http', 'path': '/'},
    'director_engine': 'static', 'director_purge': 'owned', 'director_ipvs_backend': 'auto',
    'director_vip_interface_type': 'auto', 'realserver_dr_interface_type': 'dummy',
}


def test_every_role_variable_that_carries_text_has_a_grammar():
    free = [name for name in rs.specs() if rs.grammar(name) is rs.FREE
            and rs.specs()[name].get('type', 'str') in ('str', 'path', 'list', 'dict')]
    assert free == ['director_keepalived_extra_config']  # verbatim by design (docs/security.md)
    assert sorted(n for n in rs.specs() if rs.specs()[n].get('type', 'str') in ('str', 'path', 'list', 'dict')
                  and n not in free) == sorted(VALID)


def test_valid_values_are_taken_and_come_back_canonical():
    checked = rs.check_settings(dict(VALID, director_drain_timeout='30', director_vrrp_preempt='yes',
                                     director_vips=['2001:DB8::0064/64'], lvs_address='203.0.113.11'))
    assert checked['director_drain_timeout'] == 30 and checked['director_vrrp_preempt'] is True
    assert checked['director_vips'] == ['2001:db8::64/64'] and checked['lvs_address'] == ['203.0.113.11']


def _text_cases():
    for name, valid in sorted(VALID.items()):
        if isinstance(valid, dict) or rs.grammar(name) == 'choices':
            continue
        first = valid[0] if isinstance(valid, list) else valid
        for index, value in enumerate(hostile(first)[::3]):
            if value in (valid if isinstance(valid, list) else [valid]):
                continue
            yield pytest.param(name, [value] if isinstance(valid, list) else value, id='%s-%d' % (name, index))


TEXT_CASES = list(_text_cases())


def test_the_corpus_of_role_variables_is_at_least_200_cases():
    assert len(TEXT_CASES) >= 200


# what ends a word, a line or a block in keepalived.conf, a unit, a sysctl.d or an nft file
BREAKING = set('\x00\x0b\x0c\x1b\x7f\x85\u2028\r\n\t"{}#!\\$')


def _grouped():
    groups = {}
    for case in TEXT_CASES:
        groups.setdefault(case.values[0], []).append(case.values[1])
    return sorted(groups.items())


@pytest.mark.parametrize('name, values', _grouped())
def test_a_hostile_string_in_a_role_variable_is_refused_naming_it_or_harmless(name, values):
    problems = []
    for value in values:
        try:
            _refused_or_harmless(name, value)
        except AssertionError as exc:
            problems.append('%r: %s' % (value, str(exc).splitlines()[0][:200]))
    assert not problems, problems[:20]


def _refused_or_harmless(name, value):
    try:
        checked = rs.check_settings({name: value})[name]
    except AnsibleFilterError as err:
        assert str(err).startswith(name), str(err)
        if name in rs.SECRETS and value.strip():
            assert value not in str(err)
        return
    # taken: a value its grammar allows, which breaks no format it reaches
    for text in checked if isinstance(checked, list) else [checked]:
        assert not set(text) & BREAKING, (name, text)
        assert ' ' not in text or name == 'director_vrrp_extra_addresses', (name, text)
        assert text.isascii() and text.isprintable(), (name, text)
        if rs.grammar(name) is rs.PATH:
            assert not {'.', '..', ''} & set(text.split('/')[1:]), (name, text)


@pytest.mark.parametrize('name, value', [
    ('director_drain_timeout', '30 '), ('director_drain_timeout', '0x1e'), ('director_vrrp_priority', 100.5),
    ('director_packages', 'ipvsadm,keepalived'), ('realserver_nat_routes', 'default'),
    ('realserver_dr_arp_interfaces', 'lo'), ('director_vrrp_preempt', 'yes '), ('director_vrrp_advert_int', '0.5s'),
    ('director_sysctls', 'net.ipv4.ip_forward=1'), ('director_health_check', 'tcp'),
    ('director_engine', 'Static'), ('director_purge', 'owned '),
])
def test_text_is_not_coerced_into_numbers_or_lists(name, value):
    with pytest.raises(AnsibleFilterError, match='^' + name):
        rs.check_settings({name: value})


@pytest.mark.parametrize('key, value', [
    ('net..ipv4.ip_forward', 1), ('../../etc/passwd', 1), ('net/ipv4/../../x', 1), ('net.ipv4.', 1), ('/etc/x', 1),
    ('net.ipv4.ip_forward\n', 1), ('net.ipv4.ip_forward', '1\n'), ('net.ipv4.ip_forward', '1; reboot'),
    ('net.ipv4.ip_forward', True), ('net.ipv4.ip_forward', ''), ('net.ipv4.ip_forward', [1]),
])
def test_director_sysctls_are_keys_and_values(key, value):
    with pytest.raises(AnsibleFilterError, match=r'^director_sysctls\['):
        rs.check_settings({'director_sysctls': {key: value}})


def test_the_vrrp_password_never_appears_in_an_error():
    for value in ['toolongpassword', 'pa ss', 'pa"ss', 'pass\n', 12345678901]:
        with pytest.raises(AnsibleFilterError) as err:
            rs.check_settings({'director_vrrp_auth_pass': value})
        assert str(value) not in str(err.value) and 'director_vrrp_auth_pass' in str(err.value)


def test_a_value_that_needs_facts_is_left_to_the_role():
    class Lazy(dict):
        def __getitem__(self, key):
            raise KeyError(key)  # what an undefined template raises on a host without facts
    assert rs.check_settings(Lazy(director_vip_interface='{{ ansible_facts.default_ipv4.interface }}')) == {}
