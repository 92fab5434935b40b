# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.lvs.cluster.plugins.plugin_utils import data_model as dm
from ansible_collections.lvs.cluster.plugins.plugin_utils.keepalived import keepalived_services

HOSTVARS = {'rs1': {'lvs_address': '198.51.100.11'}, 'rs2': {'lvs_address': '198.51.100.12'}}
DEFAULTS = {'delay_loop': 3, 'connect_timeout': 2, 'retry': 1, 'delay_before_retry': 1}


def web(**extra):
    svc = dict(name='web', address='198.51.100.100', port=80, scheduler='wrr', forwarding='dr',
               real_servers=[dict(host='rs1', weight=3), dict(host='rs2')])
    svc.update(extra)
    return svc


def test_default_check_is_tcp_on_the_real_server_port():
    vs = keepalived_services([web()], HOSTVARS, DEFAULTS)[0]
    assert vs['method'] == 'DR' and vs['protocol'] == 'tcp' and vs['family'] == 'ipv4'
    rs1 = vs['real_servers'][0]
    assert rs1['address'] == '198.51.100.11' and rs1['weight'] == 3 and rs1['method'] == 'DR'
    assert rs1['check'] == dict(checker='TCP_CHECK', connect_port=80, delay_loop=3, connect_timeout=2,
                                retry=1, delay_before_retry=1)
    assert rs1['inhibit_on_failure'] is False


def test_checks_merge_key_by_key_defaults_service_real_server():
    model = [web(health_check=dict(type='http', path='/health', status_code=[200, '300-399'], delay_loop=0.5),
                 inhibit_on_failure=True,
                 real_servers=[dict(host='rs1', health_check=dict(port=8080, digest='9B3A0C85A887A256D6939DA88AABD8CD'),
                                    inhibit_on_failure=False),
                               dict(host='rs2', health_check=dict(type='none'))])]
    rs1, rs2 = keepalived_services(model, HOSTVARS, DEFAULTS)[0]['real_servers']
    assert rs1['check'] == dict(checker='HTTP_GET', connect_port=8080, delay_loop=0.5, connect_timeout=2,
                                retry=1, delay_before_retry=1,
                                url=dict(path='/health', status_code='200 300-399',
                                         digest='9b3a0c85a887a256d6939da88aabd8cd'))
    assert rs1['inhibit_on_failure'] is False
    assert rs2['check'] is None and rs2['inhibit_on_failure'] is True


def test_udp_has_no_default_check_and_misc_runs_a_script():
    model = [dict(address='198.51.100.100', port=53, protocol='udp', one_packet=True,
                  real_servers=[dict(host='rs1'),
                                dict(host='rs2', health_check=dict(type='misc', script='/bin/dig-check rs2',
                                                                   timeout=3, connect_timeout=9))])]
    rs1, rs2 = keepalived_services(model, HOSTVARS, DEFAULTS)[0]['real_servers']
    assert rs1['check'] is None and rs1['method'] == 'NAT'
    assert rs2['check'] == dict(checker='MISC_CHECK', misc_path='/bin/dig-check rs2', misc_timeout=3,
                                delay_loop=3, retry=1, delay_before_retry=1)


def test_fwmark_persistence_sorry_server_quorum_and_tunnels():
    model = [dict(fwmark=7, family='ipv4', vips=['198.51.100.100'], persistence_netmask='24',
                  forwarding='tun', sorry_server=dict(host='rs2', port=80), quorum=2, hysteresis=1,
                  real_servers=[dict(host='rs1', tun_type='gue', tun_port=6080, tun_csum=True,
                                     health_check=dict(port=80)),
                                dict(host='rs2', port=8080)]),
             dict(address='2001:db8::100', port=443, persistent=True, persistence_netmask='64',
                  real_servers=[dict(address='2001:db8::11', health_check=dict(type='https'))]),
             dict(address='198.51.100.101', port=80, state='absent', real_servers=[])]
    fw, v6 = keepalived_services(model, HOSTVARS, DEFAULTS)
    assert fw['persistence_timeout'] == 300 and fw['persistence_granularity'] == '255.255.255.0'
    assert fw['sorry_server'] == dict(address='198.51.100.12', port=80, method='TUN')
    assert fw['quorum'] == 2 and fw['hysteresis'] == 1
    assert fw['real_servers'][0]['method'] == 'TUN type gue port 6080 csum'
    assert fw['real_servers'][0]['port'] is None and fw['real_servers'][0]['check']['connect_port'] == 80
    # keepalived takes no port on a fwmark real server: it only feeds the check
    assert fw['real_servers'][1]['port'] is None and fw['real_servers'][1]['check']['connect_port'] == 8080
    assert v6['family'] == 'ipv6' and v6['persistence_granularity'] == '64'
    assert v6['real_servers'][0]['check']['checker'] == 'SSL_GET'


@pytest.mark.parametrize('service, rs, message', [
    (dict(health_check=dict(type='icmp')), {}, "lvs_virtual_services[0].health_check.type: 'icmp' is not one of"),
    (dict(health_check=dict(kind='http')), {}, 'lvs_virtual_services[0].health_check: unknown key(s) kind'),
    (dict(health_check='http'), {}, 'lvs_virtual_services[0].health_check: must be a dictionary'),
    ({}, dict(health_check=dict(delay_loop=0)), 'real_servers[0].health_check.delay_loop: must be a number of seconds'),
    ({}, dict(health_check=dict(retry=-1)), 'real_servers[0].health_check.retry: must be 0 to 100'),
    ({}, dict(health_check=dict(port=70000)), 'real_servers[0].health_check.port: must be 1 to 65535'),
    ({}, dict(health_check=dict(type='http', path='health')), 'health_check.path: must be an absolute URL path'),
    ({}, dict(health_check=dict(type='http', path='/a b')), 'health_check.path: must be a URL path without spaces'),
    ({}, dict(health_check=dict(type='http', status_code=99)), "health_check.status_code: '99' is not a status code"),
    ({}, dict(health_check=dict(type='http', status_code='200x')), "health_check.status_code: '200x' is not a status"),
    # a newline at the end: `$` of a pattern matches before it, a full match does not
    ({}, dict(health_check=dict(type='http', status_code=['200\n'])), "health_check.status_code: '200\\n' is not a"),
    ({}, dict(health_check=dict(type='http', digest='a' * 32 + '\n')), 'health_check.digest: must be the 32 hex'),
    ({}, dict(health_check=dict(type='misc', script='/bin/true\n')), 'health_check.script: a misc check needs'),
    ({}, dict(health_check=dict(type='http', digest='xyz')), 'health_check.digest: must be the 32 hex digits'),
    ({}, dict(health_check=dict(type='http', digest='a' * 33)), 'health_check.digest: must be the 32 hex digits'),
    ({}, dict(health_check=dict(type='misc')), 'health_check.script: a misc check needs the script'),
    ({}, dict(health_check=dict(type='misc', script='a "b"')), 'health_check.script: a misc check needs'),
    ({}, dict(health_check=dict(type='misc', script='/bin/true\n}')), 'health_check.script: a misc check needs'),
    (dict(protocol='udp', health_check=dict(type='http')), {}, 'a http check connects over TCP; a udp service'),
    (dict(quorum=0), {}, 'lvs_virtual_services[0].quorum: must be 1 to'),
    (dict(inhibit_on_failure='yes'), {}, 'lvs_virtual_services[0].inhibit_on_failure: must be true or false'),
    (dict(sorry_server=dict(address='backup.example', port=80)), {}, "sorry_server.address: 'backup.example' is not an IP"),
    (dict(sorry_server=dict(port=80)), {}, 'sorry_server: give exactly one of host and address'),
    (dict(sorry_server=dict(address='198.51.100.9', weight=1)), {}, 'sorry_server: unknown key(s) weight'),
])
def test_bad_values_name_their_field(service, rs, message):
    svc = web(**service)
    svc['real_servers'][0].update(rs)
    with pytest.raises(AnsibleFilterError, match='^.*' + __import__('re').escape(message)):
        keepalived_services([svc], HOSTVARS, DEFAULTS)


def test_fwmark_without_any_port_to_check_is_refused():
    model = [dict(fwmark=7, vips=['198.51.100.100'], forwarding='dr', real_servers=[dict(host='rs1')])]
    with pytest.raises(AnsibleFilterError, match=r'real_servers\[0\]\.health_check\.port: no port to check'):
        keepalived_services(model, HOSTVARS, DEFAULTS)


def test_the_static_engine_drops_the_keepalived_keys():
    model = [web(health_check=dict(type='http'), quorum=1, sorry_server=dict(address='198.51.100.9'),
                 real_servers=[dict(host='rs1', health_check=dict(port=81), inhibit_on_failure=True)])]
    out = dm.director_services(model, HOSTVARS)[0]
    assert not set(out) & dm.HA_SERVICE_KEYS
    assert out['real_servers'] == [dict(address='198.51.100.11', forwarding='dr')]
