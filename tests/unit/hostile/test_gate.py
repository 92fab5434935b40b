# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 29's findings at the controller's gate: each refused naming the field, or handed on typed and canonical."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.lvs.cluster.plugins.plugin_utils import data_model as dm
from ansible_collections.lvs.cluster.plugins.plugin_utils import director
from ansible_collections.lvs.cluster.plugins.plugin_utils import model_check as mc

HEALTH = {'delay_loop': 3}


def web(**changes):
    service = dict(name='web', address='198.51.100.100', port=80, forwarding='dr',
                   real_servers=[dict(address='203.0.113.11')])
    service.update(changes)
    return service


def refused(model, field):
    with pytest.raises(AnsibleFilterError) as err:
        mc.check_model(model, {})
    assert str(err.value).startswith(field + ': '), str(err.value)
    return str(err.value)


@pytest.mark.parametrize('name', ['web\nvirtual_server 10.0.0.1 80 {', 'web\ninclude /tmp/x', 'a\rb', 'x\x00', '',
                                  ' leading', 'w' * 65, 'web # comment', 'web!', 'web{'])
def test_a_name_reaching_keepalived_conf_is_refused(name):
    refused([web(name=name)], 'lvs_virtual_services[0].name')


@pytest.mark.parametrize('vips, field', [
    (['198.51.100.1\n}\nvirtual_server fwmark 9 {'], 'lvs_virtual_services[0].vips[0]'),
    (['fe80::1%eth0'], 'lvs_virtual_services[0].vips[0]'),
    (['198.51.100.2', '::ffff:198.51.100.1'], 'lvs_virtual_services[0].vips[1]'),
    ([['198.51.100.1']], 'lvs_virtual_services[0].vips'),
    ('198.51.100.1', 'lvs_virtual_services[0].vips'),
])
def test_the_vips_of_a_fwmark_service_are_checked_without_ports(vips, field):
    refused([dict(fwmark=7, vips=vips, real_servers=[dict(address='203.0.113.11', forwarding='dr')])], field)


@pytest.mark.parametrize('service, field', [
    (web(health_check={'path': '/x\nnotify_master /bin/sh'}), 'lvs_virtual_services[0].health_check.path'),
    (web(health_check={'type': 'misc', 'script': 'x\ny'}), 'lvs_virtual_services[0].health_check.script'),
    (web(health_check={'tipe': 'tcp'}), 'lvs_virtual_services[0].health_check'),
    (web(quorum=0), 'lvs_virtual_services[0].quorum'),
    (web(hysteresis=-1), 'lvs_virtual_services[0].hysteresis'),
    (web(sorry_server={'address': '198.51.100.9\n}'}), 'lvs_virtual_services[0].sorry_server.address'),
    (web(sorry_server={'address': 'fe80::9%eth0'}), 'lvs_virtual_services[0].sorry_server.address'),
    (web(inhibit_on_failure='maybe'), 'lvs_virtual_services[0].inhibit_on_failure'),
    (web(real_servers=[dict(address='203.0.113.11', health_check={'virtualhost': 'a b'})]),
     'lvs_virtual_services[0].real_servers[0].health_check.virtualhost'),
])
def test_keepalived_only_keys_are_checked_by_the_gate(service, field):
    refused([service], field)


@pytest.mark.parametrize('service, field', [
    (web(port='80 '), 'lvs_virtual_services[0].port'),
    (web(port='0x50'), 'lvs_virtual_services[0].port'),
    (web(port=80.0), 'lvs_virtual_services[0].port'),
    (web(port=True), 'lvs_virtual_services[0].port'),
    (web(scheduler='sh', scheduler_flags='sh-port'), 'lvs_virtual_services[0].scheduler_flags'),
    (web(real_servers='203.0.113.11'), 'lvs_virtual_services[0].real_servers'),
    (web(real_servers=[dict(address='203.0.113.11', weight='3 ')]), 'lvs_virtual_services[0].real_servers[0].weight'),
])
def test_text_is_not_coerced_into_numbers_or_lists(service, field):
    refused([service], field)


def test_a_number_in_its_plain_spelling_is_handed_on_as_a_number():
    model = mc.check_model([web(port='80', forwarding='nat', real_servers=[dict(address='203.0.113.11', port='8080')])])
    assert model[0]['port'] == 80 and model[0]['real_servers'][0]['port'] == 8080
    view = director.director_view([web(port='80', forwarding='nat')], {}, HEALTH)  # crashed with TypeError
    assert 'virtual_server 198.51.100.100 80 {' in view['keepalived_conf']


def test_deep_nesting_is_refused_naming_the_field():
    deep = []
    for _level in range(5000):
        deep = [deep]
    message = refused([web(real_servers=deep)], 'lvs_virtual_services[0].real_servers' + '[0]' * 7)
    assert 'nested deeper than' in message
    with pytest.raises(AnsibleFilterError, match='nested deeper'):
        director.director_view([web(health_check={'path': deep})], {}, HEALTH)


def test_huge_values_are_refused():
    refused([web(name='w' * 5000)], 'lvs_virtual_services[0].name')


def test_addresses_are_handed_on_canonical():
    model = [dict(name='v6', address='2001:DB8:0:0::0064', port=80, forwarding='nat',
                  real_servers=[dict(address='2001:0db8::000b'), dict(address='[2001:db8::c]')])]
    checked = mc.check_model(model)
    assert checked[0]['address'] == '2001:db8::64'
    assert [rs['address'] for rs in checked[0]['real_servers']] == ['2001:db8::b', '2001:db8::c']
    view = director.director_view(model, {}, HEALTH)
    assert view['vips'] == ['2001:db8::64'] and 'real_server 2001:db8::b 80 {' in view['keepalived_conf']


def test_one_service_under_two_spellings_is_a_duplicate():
    v6 = dict(forwarding='nat', real_servers=[dict(address='2001:db8::b')])
    refused([web(address='2001:db8::64', **v6), web(name='again', address='2001:DB8::0064', **v6)],
            'lvs_virtual_services[1]')


def test_a_respelt_vip_is_the_same_vip_to_a_real_server():
    model = [web(address='2001:DB8::64', real_servers=[dict(host='rs1')])]
    assigned = dm.realserver_assignments(model, 'rs1', [])
    assert assigned[0]['vips'] == ['2001:db8::64']
    # the record of an earlier run, in the spelling of then: not a VIP that left
    recorded = dm.canonical_records(['2001:db8:0::64', '198.51.100.7/24', 'not an address'])
    assert recorded == ['2001:db8::64', '198.51.100.7/24', 'not an address']
    assert set(recorded) - set(assigned[0]['vips']) == {'198.51.100.7/24', 'not an address'}
