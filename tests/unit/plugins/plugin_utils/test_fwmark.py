# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fwmark service's match: an allow list of nftables matches, written back canonically; nft judges the result."""

from __future__ import annotations

import re

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.lvs.cluster.plugins.plugin_utils import fwmark as fw
from ansible_collections.lvs.cluster.tests.unit.format_tools import nft_list


def _rule(match, family='ipv4'):
    return fw.rules(dict(fwmark=7, family=family, match=match), 'lvs_virtual_services[3]')[0]


@pytest.mark.parametrize('match, canonical', [
    ('ip daddr 198.51.100.104 tcp dport 8000-8099', 'ip daddr 198.51.100.104 tcp dport 8000-8099'),
    ('ip saddr 10.0.0.0/8 ip daddr { 192.0.2.1, 10.0.0.1-10.0.0.9 } tcp dport { 443, 80 }',
     'ip saddr 10.0.0.0/8 ip daddr { 10.0.0.1-10.0.0.9, 192.0.2.1 } tcp dport { 80, 443 }'),
    ('ip daddr == 192.0.2.1  udp\tdport eq 53', 'ip daddr 192.0.2.1 udp dport 53'),
    ('ip daddr ne 192.0.2.1 tcp sport gt 1023', 'ip daddr != 192.0.2.1 tcp sport > 1023'),
    ('tcp dport >= 1024', 'tcp dport >= 1024'),
    ('meta l4proto { UDP, 6, 47 }', 'meta l4proto { tcp, udp, gre }'),
    ('ip protocol 200', 'ip protocol 200'),
    ('meta iifname { "eth1", "ens*" } sctp dport 5000', 'iifname { "ens*", "eth1" } sctp dport 5000'),
    ('iifname != "eth0"', 'iifname != "eth0"'),
    ('ip daddr { 192.0.2.1 }', 'ip daddr 192.0.2.1'),
])
def test_a_match_is_written_back_canonically_as_nft_lists_it(match, canonical):
    assert _rule(match) == canonical
    listed = nft_list(fw.ruleset([(7, [_rule(match)])]))
    assert re.findall(r'^\t\t(.*) meta mark set 0x00000007$', listed, re.M) == [canonical]


def test_ipv6_matches_go_with_an_ipv6_service():
    rule = _rule('ip6 saddr 2001:DB8::/32 ip6 daddr 2001:db8:0::1-2001:db8::9 ip6 nexthdr esp', 'ipv6')
    assert rule == 'ip6 saddr 2001:db8::/32 ip6 daddr 2001:db8::1-2001:db8::9 ip6 nexthdr esp'
    assert rule in nft_list(fw.ruleset([(8, [rule])]))


@pytest.mark.parametrize('match, reason', [
    ('tcp dport 80 snat to 192.0.2.9', "'snat' is not a selector"),
    ('tcp dport 80 ip saddr set 192.0.2.9', "'set' where a value belongs|'set'"),
    ('ip dscp set cs1', "'ip dscp' is not a selector"),
    ('tcp dport 80 notrack', "'notrack' is not a selector"),
    ('tcp dport vmap { 80 : accept }', "'vmap' is not a port"),
    ('tcp dport >= 1024 tcp dport <= 2048', 'tcp dport twice'),
    ('meta iifname "eth0" iifname "eth1"', 'iifname twice'),
    ('tcp dport 80 counter', "'counter'"),
    ('ip daddr @blocked', "'@'"),
    ('ip daddr $vips', "'\\$'"),
    ('tcp dport 80 ; flush ruleset', "';'"),
    ('tcp dport 80\nip daddr 192.0.2.1', "'\\\\n'"),
    ('tcp dport { 80', 'not closed'),
    ('tcp dport { }', 'not empty'),
    ('tcp dport { 80, { 81 } }', 'flat'),
    ('ip6 daddr 2001:db8::1', 'the service is ipv4'),
    ('ip daddr fe80::1%eth0', "'%'"),
    ('ip saddr 10.0.0.1/8', 'host bits set: the prefix is 10.0.0.0/8'),
    ('ip daddr 10.0.0.9-10.0.0.1', 'range 10.0.0.9-10.0.0.1 is empty'),
    ('tcp dport 90-80', 'port range 90-80 is empty'),
    ('tcp dport 0', 'not a port'),
    ('tcp dport 65536', 'not a port'),
    ('tcp dport { 80-90, 85 }', 'overlap'),
    ('tcp dport 80 udp sport 53', 'names its transport once'),
    ('meta l4proto udp tcp dport 80', 'names its transport once'),
    ('ip protocol 256', 'not a protocol'),
    ('meta l4proto "tcp"', 'without quotes'),
    ('iifname "eth0\\"; drop"', 'outside the grammar|not an interface'),
    ('iifname "a-name-longer-than-15"', 'not an interface name'),
    ('ip daddr < 10.0.0.1', 'compares ports only'),
    ('tcp dport < { 80, 90 }', 'one port'),
    ('', 'empty'),
    ('tcp', "'tcp' is not a selector"),
    ('tcp dport', 'missing at the end'),
])
def test_anything_outside_the_allow_list_is_refused_naming_the_field(match, reason):
    with pytest.raises(AnsibleFilterError) as err:
        _rule(match)
    message = str(err.value)
    assert message.startswith('lvs_virtual_services[3].match: '), message
    assert re.search(reason, message), message
    assert 'Allowed: one or more matches SELECTOR [OPERATOR] VALUE' in message  # what is allowed, said


def test_a_match_that_is_no_string_is_refused():
    with pytest.raises(AnsibleFilterError, match=r'\[3\]\.match: must be a string'):
        _rule(['tcp', 'dport', '80'])


def test_vips_with_a_zone_never_reach_the_ruleset():
    with pytest.raises(AnsibleFilterError, match=r'\.vips: .*not an IP address'):
        fw.rules(dict(fwmark=7, family='ipv6', vips=['fe80::1%eth0\n}'], ports=[80]), 'lvs_virtual_services[3]')
