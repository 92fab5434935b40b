# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The hostile-input corpus through the gate: each case refused naming its field, or rendered harmless.

Generated per class: control characters and format breakers in every string
field of the model, zone ids, wrong types, deep nesting, huge values,
IPv4-mapped IPv6, one service under two spellings. A case the gate takes must
render to what the model meant (the format's own tool judges that in the
keepalived and nft tests).
"""

from __future__ import annotations

import copy

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.lvs.cluster.plugins.plugin_utils import director
from ansible_collections.lvs.cluster.plugins.plugin_utils import model_check as mc
from ansible_collections.lvs.cluster.tests.unit.hostile.corpus import hostile

F = 'lvs_virtual_services[0]'
BASE = dict(name='web', address='198.51.100.100', port=80, forwarding='dr', scheduler='wrr',
            persistence_netmask='24', persistence_engine='sip', protocol='udp', health_check={'type': 'none'},
            real_servers=[dict(address='203.0.113.11', weight=2, forwarding='dr', health_check={'type': 'none'})])
HTTP = dict(BASE, protocol='tcp', persistence_engine=None,
            health_check={'type': 'http', 'path': '/health', 'virtualhost': 'www.example.com'})
FWMARK = dict(fwmark=7, vips=['198.51.100.100'], ports=[80], protocols=['tcp'], real_servers=[dict(host='rs1', forwarding='tun')])
SORRY = dict(HTTP, sorry_server={'address': '198.51.100.9', 'port': 80})
MISC = dict(HTTP, health_check={'type': 'misc', 'script': '/usr/local/bin/check web'})
HOSTVARS = {'rs1': {'lvs_address': '203.0.113.12'}}

# (base service, path to a string field, its field name in errors)
STRING_FIELDS = [
    (BASE, ('name',), F + '.name'),
    (BASE, ('address',), F + '.address'),
    (BASE, ('scheduler',), F + '.scheduler'),
    (BASE, ('protocol',), F + '.protocol'),
    (BASE, ('forwarding',), F + '.forwarding'),
    (BASE, ('persistence_netmask',), F + '.persistence_netmask'),
    (BASE, ('persistence_engine',), F + '.persistence_engine'),
    (BASE, ('real_servers', 0, 'address'), F + '.real_servers[0].address'),
    (BASE, ('real_servers', 0, 'forwarding'), F + '.real_servers[0].forwarding'),
    (FWMARK, ('vips', 0), F + '.vips[0]'),
    (FWMARK, ('protocols', 0), F + '.protocols'),
    (FWMARK, ('real_servers', 0, 'host'), F + '.real_servers[0].host'),
    (HTTP, ('health_check', 'path'), F + '.health_check.path'),
    (HTTP, ('health_check', 'virtualhost'), F + '.health_check.virtualhost'),
    (MISC, ('health_check', 'script'), F + '.health_check.script'),
    (SORRY, ('sorry_server', 'address'), F + '.sorry_server.address'),
]


def _set(service, path, value):
    service = copy.deepcopy(service)
    target = service
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return service


def _cases():
    for base, path, field in STRING_FIELDS:
        target = base
        for key in path:
            target = target[key]
        valid = target[0] if isinstance(target, list) else target
        for index, value in enumerate(hostile(str(valid))[::2]):
            yield pytest.param(_set(base, path, value), field, id='%s-%d' % (field[len(F) + 1:], index))


CASES = list(_cases())


def test_the_corpus_is_at_least_200_cases_per_class():
    assert len(CASES) >= 200 * 2
    per_field = {}
    for case in CASES:
        per_field[case.values[1]] = per_field.get(case.values[1], 0) + 1
    assert min(per_field.values()) >= 50 and len(per_field) == len(STRING_FIELDS)


def test_a_failing_case_fails_its_group():
    with pytest.raises(AssertionError, match='1 of 2 cases'):
        _each([(dict(BASE, name='web'), F + '.name'), (dict(BASE, name='web\n'), F + '.name')], _refused)


def _by_field(cases):
    """The cases grouped by their field: one test each, every case of it run and its failures listed."""
    groups = {}
    for case in cases:
        groups.setdefault(case.values[-1], []).append(case.values)
    return [pytest.param(field, values, id=field[len(F) + 1:] or field) for field, values in groups.items()]


def _each(values, check):
    problems = []
    for value in values:
        try:
            check(*value)
        except (AssertionError, pytest.fail.Exception) as exc:
            problems.append('%r: %s' % (value[0], str(exc).splitlines()[0][:300]))
    assert not problems, '%d of %d cases:\n%s' % (len(problems), len(values), '\n'.join(problems[:20]))


@pytest.mark.parametrize('field, values', _by_field(CASES))
def test_a_hostile_string_is_refused_naming_its_field_or_rendered_as_meant(field, values):
    _each(values, _refused_or_as_meant)


def _refused_or_as_meant(service, field):
    try:
        checked = mc.check_model([service], HOSTVARS)
    except AnsibleFilterError as exc:
        assert str(exc).startswith(field), str(exc)
        return
    # taken: only where the value means the same as a valid one (e.g. "WRR" is not taken, "web " is a name)
    view = director.director_view(checked, HOSTVARS, {'delay_loop': 3})
    text = view['keepalived_conf'] + view['fwmark_rules']
    assert not set(text) & set('\r\x00\x0b\x0c\x1b\x7f\x85\u2028'), (field, service)
    # outside its comment line the value is nowhere (a name is a comment, and nothing else)
    lines = [line for line in text.splitlines() if not line.startswith('#')]
    for forbidden in ('include', 'notify', 'ExecStart', 'evil', '/bin/sh -c', '%n', '${'):
        assert not [line for line in lines if forbidden in line], (field, service)
    assert len([line for line in lines if line.startswith('virtual_server ')]) == 1, text
    assert len([line for line in lines if line.strip().startswith('real_server ')]) == 1, text


WRONG_TYPES = [([], 'list'), ({}, 'dict'), (True, 'bool'), (1.5, 'float'), ('80 ', 'text'), ('0x50', 'text'),
               ('1e3', 'text'), ('+80', 'text'), ('8_0', 'text'), (' 80', 'text'), ('80\n', 'text'), ('80.0', 'text'),
               ('0080', 'text'), ('٨٠', 'text'), ('eighty', 'text'), (80.0, 'float'), ([80], 'list'), (None, 'none')]
INT_FIELDS = [('port', F + '.port'), ('fwmark', F + '.fwmark'), ('persistence_timeout', F + '.persistence_timeout'),
              ('quorum', F + '.quorum'), ('hysteresis', F + '.hysteresis')]
RS_INT_FIELDS = ['port', 'weight', 'u_threshold', 'l_threshold', 'tun_port']


def _type_cases():
    for name, field in INT_FIELDS:
        for value, kind in WRONG_TYPES[:-1]:
            base = dict(BASE, fwmark=None) if name != 'fwmark' else dict(FWMARK)
            yield pytest.param(dict(base, **{name: value}), field, id='%s-%s-%r' % (name, kind, value))
    for name in RS_INT_FIELDS:
        for value, kind in WRONG_TYPES[:-1]:
            service = copy.deepcopy(BASE)
            service['real_servers'][0][name] = value
            yield pytest.param(service, F + '.real_servers[0].' + name, id='rs-%s-%s-%r' % (name, kind, value))
    for name in ('real_servers', 'vips', 'ports', 'protocols', 'scheduler_flags'):
        for value in ('203.0.113.11', 'a,b', '[1, 2]', 80, {'a': 1}):
            base = FWMARK if name in ('vips', 'ports', 'protocols') else BASE
            yield pytest.param(dict(base, **{name: value}), F + '.' + name, id='%s-%r' % (name, value))
    for name in ('persistent', 'one_packet', 'inhibit_on_failure'):
        for value in ('maybe', 2, [], {}, 'true '):
            yield pytest.param(dict(BASE, **{name: value}), F + '.' + name, id='%s-%r' % (name, value))


TYPE_CASES = list(_type_cases())


def test_the_type_corpus_is_at_least_200_cases():
    assert len(TYPE_CASES) >= 200


@pytest.mark.parametrize('field, values', _by_field(TYPE_CASES))
def test_a_wrong_type_is_refused_naming_its_field(field, values):
    _each(values, _refused)


def _refused(service, field):
    service = dict((k, v) for k, v in service.items() if v is not None)
    with pytest.raises(AnsibleFilterError) as err:
        mc.check_model([service], HOSTVARS)
    assert str(err.value).startswith(field), str(err.value)


def _address_cases():
    mapped = ['::ffff:198.51.100.%d' % i for i in range(1, 41)] + ['::ffff:c633:64%02x' % i for i in range(1, 41)]
    zones = enumerate(['lo', '1', 'eth0\nX=1', '', '%', 'a b'] * 5)
    zoned = ['fe80::%x%%eth0' % i for i in range(1, 21)] + ['2001:db8::%x%%%s' % (i, z) for i, z in zones]
    special = ['0.0.0.0', '::', '224.0.0.%d' % 1, 'ff02::1', '255.255.255.255', '::198.51.100.1', 'fe80::1']
    words = ['localhost', 'web.example.com', '198.51.100', '198.51.100.256', '1.2.3.4.5', '2001:db8:::1', '::ffff::1']
    for index, address in enumerate(mapped + zoned + special + words):
        yield pytest.param(dict(BASE, address=address), F + '.address', id='vip-%d' % index)
        yield pytest.param(dict(BASE, real_servers=[dict(address=address)]), F + '.real_servers[0].address',
                           id='rs-%d' % index)


ADDRESS_CASES = list(_address_cases())


def test_the_address_corpus_is_at_least_200_cases():
    assert len(ADDRESS_CASES) >= 200


@pytest.mark.parametrize('field, values', _by_field(ADDRESS_CASES))
def test_an_address_that_is_no_vip_or_real_server_is_refused(field, values):
    _each(values, _refused)


def _spellings():
    for index in range(1, 101):
        yield ('2001:db8::%x' % index, '2001:DB8:0:0:0:0:0:%X' % index)
        yield ('2001:db8::%x' % index, '[2001:0db8::%04x]' % index)


def test_one_service_under_two_spellings_is_refused_as_a_duplicate():
    v6 = dict(forwarding='nat', protocol='tcp', persistence_engine=None, real_servers=[dict(address='2001:db8::b')])
    spellings = list(_spellings())
    assert len(spellings) >= 200
    for one, other in spellings:
        with pytest.raises(AnsibleFilterError, match=r'lvs_virtual_services\[1\]: duplicates lvs_virtual_services\[0\]'):
            mc.check_model([dict(BASE, **dict(v6, address=one)), dict(BASE, **dict(v6, name='again', address=other))])


@pytest.mark.parametrize('depth', [9, 10, 50, 1000, 100000])
@pytest.mark.parametrize('where', ['real_servers', 'health_check', 'name'])
def test_deep_nesting_is_refused_naming_the_field(depth, where):
    deep = 'x'
    for _level in range(depth):
        deep = [deep]
    with pytest.raises(AnsibleFilterError, match='nested deeper than'):
        mc.check_model([dict(BASE, **{where: deep})])


@pytest.mark.parametrize('size', [100001, 200000])
def test_huge_lists_are_refused(size):
    with pytest.raises(AnsibleFilterError, match='more than 100000 items'):
        mc.check_model([dict(BASE, real_servers=[{}] * size)])
