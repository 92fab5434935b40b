# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.lvs.cluster.plugins.plugin_utils import data_model as dm
from ansible_collections.lvs.cluster.plugins.plugin_utils import model_check as mc
from ansible_collections.lvs.cluster.plugins.plugin_utils import director
from ansible_collections.lvs.cluster.tests.unit.keepalived_text import blocks, checks, parse, settings

HOSTVARS = {
    'rs1': {'lvs_address': '203.0.113.11'},
    'rs2': {'ansible_host': '203.0.113.12'},
    'rs3': {'ansible_host': 'rs3.example', 'ansible_default_ipv4': {'address': '198.51.100.13'}},
    'rs4': {'ansible_host': 'rs4.example'},
}
MODEL = [
    dict(name='web', address='198.51.100.100', port=80, scheduler='wrr', forwarding='nat',
         real_servers=[dict(host='rs1', weight=3), dict(address='203.0.113.12', port=8080)]),
    dict(name='web-dr', address='198.51.100.101', port=80, forwarding='direct',
         real_servers=[dict(host='rs3'), dict(host='rs1', forwarding='tun')]),
    dict(fwmark=7, vips=['198.51.100.102'], real_servers=[dict(host='rs2', forwarding='dr')]),
]


def test_director_services_resolves_hosts_and_forwarding():
    out = dm.director_services(MODEL, HOSTVARS)
    assert out[0]['real_servers'] == [
        dict(address='203.0.113.11', weight=3, forwarding='nat'),
        dict(address='203.0.113.12', port=8080, forwarding='nat')]
    assert out[1]['forwarding'] == 'dr'
    assert [d['address'] for d in out[1]['real_servers']] == ['198.51.100.13', '203.0.113.11']
    assert out[1]['real_servers'][1]['forwarding'] == 'tun'
    assert 'vips' not in out[2] and out[2]['forwarding'] == 'nat'
    assert out[2]['real_servers'] == [dict(address='203.0.113.12', forwarding='dr')]


def test_realserver_assignments_by_name_and_address():
    rs1 = dm.realserver_assignments(MODEL, 'rs1', ['203.0.113.11'])
    assert [(a['service'], a['forwarding'], a['vips']) for a in rs1] == [
        ('web', 'nat', ['198.51.100.100']), ('web-dr', 'tun', ['198.51.100.101'])]
    rs2 = dm.realserver_assignments(MODEL, 'rs2', ['203.0.113.12', 'fe80::1'])
    assert [(a['forwarding'], a['vips'], a['port']) for a in rs2] == [
        ('nat', ['198.51.100.100'], 8080), ('dr', ['198.51.100.102'], None)]
    assert dm.realserver_assignments(MODEL, 'client', ['198.51.100.10']) == []


@pytest.mark.parametrize('model, hostvars, message', [
    ([dict(address='1.2.3.4', port=80, real_servers=[dict(host='nope')])], HOSTVARS,
     'lvs_virtual_services[0].real_servers[0].host: '),
    ([dict(address='1.2.3.4', port=80, real_servers=[dict(host='rs4')])], HOSTVARS, 'set lvs_address'),
    ([dict(address='1.2.3.4', port=80, real_servers=[dict(host='rs1', address='1.1.1.1')])], HOSTVARS,
     'lvs_virtual_services[0].real_servers[0]: give exactly one of host and address'),
    ([dict(address='1.2.3.4', port=80, real_servers=[dict(weight=2)])], HOSTVARS,
     'lvs_virtual_services[0].real_servers[0]: give exactly one of host and address'),
    ([dict(address='1.2.3.4', prot=80)], HOSTVARS, 'lvs_virtual_services[0]: unknown key(s) prot'),
    ([dict(address='1.2.3.4', real_servers=[dict(host='rs1', forwarding='bogus')])], HOSTVARS,
     'lvs_virtual_services[0].real_servers[0].forwarding: '),
])
def test_errors_name_the_item(model, hostvars, message):
    with pytest.raises(AnsibleFilterError) as err:
        dm.director_services(model, hostvars)
    assert message in str(err.value)


@pytest.mark.parametrize('forwarding', ['dr', 'tun'])
def test_dr_fwmark_without_vips_is_refused(forwarding):
    with pytest.raises(AnsibleFilterError):
        dm.realserver_assignments([dict(fwmark=1, real_servers=[dict(host='rs1', forwarding=forwarding)])], 'rs1')


def test_a_service_marked_absent_assigns_its_real_servers_nothing():
    model = [dict(MODEL[0], state='absent'), MODEL[1]]
    assert [a['service'] for a in dm.realserver_assignments(model, 'rs1', ['203.0.113.11'])] == ['web-dr']


FWMARK = dict(name='web', fwmark=7, vips=['198.51.100.100', '198.51.100.101'], ports=[443, 80], scheduler='sh',
              scheduler_flags=['sh-port'], forwarding='dr', real_servers=[dict(address='198.51.100.11')])


def test_fwmark_rules_mark_the_listed_traffic_in_the_collection_s_own_table():
    text = dm.fwmark_rules([FWMARK, dict(fwmark=8, family='ipv6', vips=['2001:db8::1'], ports=[53],
                                         protocols=['udp', 'tcp']),
                            dict(fwmark=9, match='ip saddr 192.0.2.0/24 tcp dport 8000-8099'),
                            dict(fwmark=10, vips=['198.51.100.102']),  # marked by the user's firewall
                            dict(FWMARK, fwmark=11, state='absent'),
                            dict(address='198.51.100.100', port=80)])
    lines = text.splitlines()
    assert lines[3:6] == ['table inet lvs_cluster', 'delete table inet lvs_cluster', 'table inet lvs_cluster {']
    assert [line.strip() for line in lines if 'meta mark set' in line] == [
        'ip daddr { 198.51.100.100, 198.51.100.101 } tcp dport { 80, 443 } meta mark set 7',
        'ip6 daddr 2001:db8::1 tcp dport 53 meta mark set 8',
        'ip6 daddr 2001:db8::1 udp dport 53 meta mark set 8',
        'ip saddr 192.0.2.0/24 tcp dport 8000-8099 meta mark set 9']
    assert dm.fwmark_rules([dict(fwmark=10, vips=['198.51.100.102'])]) == ''
    assert dm.fwmark_rules([]) == ''
    # the table gets the ipvs_table shape without the marking keys
    assert 'ports' not in dm.director_services([FWMARK], {})[0]


@pytest.mark.parametrize('change,field', [
    (dict(fwmark=None, address='198.51.100.100', port=80), 'ports'),
    (dict(match='tcp dport 80'), 'match'),
    (dict(ports=[], protocols=['udp']), 'protocols'),
    (dict(ports=[0]), 'ports'),
    (dict(vips=[]), 'ports'),
    (dict(vips=['2001:db8::1']), 'vips'),
    (dict(ports=None, match='tcp dport 80; flush ruleset'), 'match'),
    (dict(ports=None, match='tcp dport 80 accept'), 'match'),
    (dict(ports=None, match='tcp dport 80\nip daddr 192.0.2.1'), 'match'),
    (dict(ports=[65536]), 'ports'),
    (dict(ports=None, match='tcp dport { 80'), 'match'),
    (dict(protocols=['icmp']), 'protocols'),
])
def test_bad_marking_is_refused_naming_the_field(change, field):
    svc = dict(FWMARK, **change)
    svc = dict((k, val) for k, val in svc.items() if val is not None)
    for check in (mc.check_model, dm.fwmark_rules):
        with pytest.raises(AnsibleFilterError) as err:
            check([svc]) if check is dm.fwmark_rules else check([svc], {})
        assert str(err.value).startswith('lvs_virtual_services[0].%s' % field), str(err.value)


def test_fwmark_rules_take_the_ports_at_both_ends():
    text = dm.fwmark_rules([dict(FWMARK, ports=[1, 65535])])
    assert 'tcp dport { 1, 65535 } meta mark set 7' in text


DUAL = {
    'rs1': {'lvs_address': ['203.0.113.11', '2001:db8:113::11']},
    'rs2': {'ansible_host': 'rs2.example', 'ansible_default_ipv4': {'address': '198.51.100.12'},
            'ansible_default_ipv6': {'address': '2001:db8:51::12'}},
    'rs3': {'lvs_address': '198.51.100.13'},
}


def test_a_host_resolves_to_its_address_of_the_service_s_family():
    model = [dict(name='web', address='2001:db8:51::100', port=80, forwarding='dr',
                  real_servers=[dict(host='rs1'), dict(host='rs2')]),
             dict(name='web', address='198.51.100.100', port=80, forwarding='dr',
                  real_servers=[dict(host='rs1'), dict(host='rs2')])]
    out = dm.director_services(model, DUAL)
    assert [d['address'] for d in out[0]['real_servers']] == ['2001:db8:113::11', '2001:db8:51::12']
    assert [d['address'] for d in out[1]['real_servers']] == ['203.0.113.11', '198.51.100.12']
    mc.check_model(model, DUAL)
    with pytest.raises(AnsibleFilterError, match=r'real_servers\[0\]\.host: cannot tell the IPv6 address of host rs3'):
        dm.director_services([dict(address='2001:db8::1', port=80, real_servers=[dict(host='rs3')])], DUAL)


def test_assignments_say_the_families_a_tunnel_joins():
    model = [dict(name='t6', address='2001:db8:51::101', port=80, forwarding='tun',
                  real_servers=[dict(host='rs1'), dict(address='198.51.100.13')]),
             dict(name='t4', address='198.51.100.102', port=80, forwarding='tun',
                  real_servers=[dict(address='2001:db8:113::11')])]
    got = [(a['service'], a['family'], a['real_server_family'])
           for a in dm.realserver_assignments(model, 'rs1', ['2001:db8:113::11'])]
    assert got == [('t6', 'ipv6', 'ipv6'), ('t4', 'ipv4', 'ipv6')]
    got = [(a['family'], a['real_server_family']) for a in dm.realserver_assignments(model, 'rs3', ['198.51.100.13'])]
    assert got == [('ipv6', 'ipv4')]


def test_a_host_without_an_address_of_the_family_is_refused_once_its_facts_are_known():
    model = [dict(address='2001:db8::1', port=80, real_servers=[dict(host='rs3')])]
    mc.check_model(model, {'rs3': {}})  # no facts yet: they may give the address
    with pytest.raises(AnsibleFilterError, match=r'\[0\]\.real_servers\[0\]\.host: cannot tell the IPv6 address'):
        mc.check_model(model, {'rs3': {'ansible_default_ipv4': {'address': '198.51.100.13'},
                                       'ansible_default_ipv6': {}}})


def tcp_checked(method, port, weight='1'):
    """A keepalived real_server's keywords and checkers: the default check of a TCP service, every 2 s."""
    return dict(lvs_method=method, weight=weight), {'TCP_CHECK': dict(connect_port=port, delay_loop='2')}


def test_director_view_is_the_separate_filters_in_one_call():
    marked = dict(MODEL[2], ports=[80, 443])  # traffic the collection marks for fwmark 7
    model = MODEL[:2] + [marked, dict(address='198.51.100.100', port=443, state='absent',
                                      real_servers=[dict(address='203.0.113.99', forwarding='nat')])]
    view = director.director_view(model, HOSTVARS)
    # ipvs_table's services: rs1 by its lvs_address, rs2 by its IP ansible_host, rs3 by its default IPv4
    # fact; forwarding aliases and defaults resolved; the marking keys (vips, ports) are not ipvs_table's
    assert json.loads(view['services_json']) == [
        dict(name='web', address='198.51.100.100', port=80, scheduler='wrr', forwarding='nat', real_servers=[
            dict(address='203.0.113.11', weight=3, forwarding='nat'),
            dict(address='203.0.113.12', port=8080, forwarding='nat')]),
        dict(name='web-dr', address='198.51.100.101', port=80, forwarding='dr', real_servers=[
            dict(address='198.51.100.13', forwarding='dr'), dict(address='203.0.113.11', forwarding='tun')]),
        dict(fwmark=7, forwarding='nat', real_servers=[dict(address='203.0.113.12', forwarding='dr')]),
        dict(address='198.51.100.100', port=443, state='absent', forwarding='nat',
             real_servers=[dict(address='203.0.113.99', forwarding='nat')])]
    # the fwmark service's traffic: to its vips, on its ports, over tcp when no protocol is listed
    assert [line.strip() for line in view['fwmark_rules'].splitlines() if 'meta mark set' in line] == [
        'ip daddr 198.51.100.102 tcp dport { 80, 443 } meta mark set 7']
    assert view['empty'] is False
    # the absent service's NAT real server forwards nothing; each VIP once, fwmark vips after
    assert view['nat_addresses'] == ['203.0.113.11', '203.0.113.12']
    assert view['vips'] == ['198.51.100.100', '198.51.100.101', '198.51.100.102']
    assert view['service_keys'] == ['-t 198.51.100.100:80', '-t 198.51.100.101:80', '-f 7']
    assert 'keepalived_conf' not in view
    plain = model[:2] + model[3:]  # keepalived checks a fwmark service's real servers on a stated port
    conf = parse(director.director_view(plain, HOSTVARS, {'delay_loop': 2})['keepalived_conf'])
    # keepalived.conf(5)'s blocks of the services that stay; web-dr's scheduler is the default
    expected = {
        ('198.51.100.100', '80'): (dict(lvs_sched='wrr', lvs_method='NAT', protocol='TCP'), {
            ('203.0.113.11', '80'): tcp_checked('NAT', '80', weight='3'), ('203.0.113.12', '8080'): tcp_checked('NAT', '8080')}),
        ('198.51.100.101', '80'): (dict(lvs_sched='wlc', lvs_method='DR', protocol='TCP'), {
            ('198.51.100.13', '80'): tcp_checked('DR', '80'), ('203.0.113.11', '80'): tcp_checked('TUN', '80')})}
    found = blocks(conf, 'virtual_server')
    assert list(found) == list(expected)
    for key, (service, real_servers) in expected.items():
        assert settings(found[key]) == service
        got = blocks(found[key], 'real_server')
        assert dict((k, (settings(block), checks(block))) for k, block in got.items()) == real_servers


@pytest.mark.parametrize('model', [None, [], [dict(address='198.51.100.100', port=80, state='absent')]])
def test_director_view_of_no_service_left_is_empty(model):
    view = director.director_view(model, HOSTVARS)
    assert view['empty'] is True and view['vips'] == [] and view['nat_addresses'] == []
    assert view['service_keys'] == []
    assert view['fwmark_rules'] == ''


def test_director_view_checks_the_model_first():
    with pytest.raises(AnsibleFilterError, match=r'lvs_virtual_services\[0\]\.real_servers\[0\]'):
        bad = dict(address='203.0.113.1', weight=-1)
        director.director_view([dict(address='198.51.100.100', port=80, real_servers=[bad])], HOSTVARS)
