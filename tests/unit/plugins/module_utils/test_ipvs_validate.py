# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_model as m
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_schema as s
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_validate as v

SERVICE_OPTIONS = ('scheduler', 'scheduler_flags', 'persistent', 'persistence_timeout',
                   'persistence_netmask', 'persistence_engine', 'one_packet')


def params(**kw):
    base = dict(protocol=None, address='10.0.0.1', port=80, fwmark=None, family=None)
    base.update(dict.fromkeys(SERVICE_OPTIONS))
    base.update(kw)
    return base


def build(**kw):
    return v.build_service(params(**kw))


@pytest.mark.parametrize('kw,field', [
    (dict(fwmark=1), 'address'),
    (dict(fwmark=1, address=None), 'port'),
    (dict(fwmark=1, address=None, port=None, protocol='tcp'), 'protocol'),
    (dict(address=None), 'address'),
    (dict(port=None), 'port'),
    (dict(address='not-an-ip'), 'address'),
    (dict(address='10.0.0.1', family='ipv6'), 'family'),
    (dict(family='ipx'), 'family'),
    (dict(protocol='icmp'), 'protocol'),
    (dict(scheduler='fastest'), 'scheduler'),
    (dict(scheduler='wlc', scheduler_flags=['sh-port']), 'scheduler_flags'),
    (dict(scheduler='sh', scheduler_flags=['mh-fallback']), 'scheduler_flags'),
    (dict(scheduler_flags=['bogus']), 'scheduler_flags'),
    (dict(persistent=False, persistence_timeout=60), 'persistence_timeout'),
    (dict(persistent=False, persistence_netmask='24'), 'persistence_netmask'),
    (dict(persistence_netmask='255.0.255.0'), 'persistence_netmask'),
    (dict(persistence_netmask='33'), 'persistence_netmask'),
    (dict(address='2001:db8::1', persistence_netmask='0'), 'persistence_netmask'),
    (dict(address='2001:db8::1', persistence_netmask='255.255.255.0'), 'persistence_netmask'),
    (dict(persistence_engine='bad name'), 'persistence_engine'),
    (dict(persistence_engine='x' * 16), 'persistence_engine'),
    (dict(persistence_engine='sip\n'), 'persistence_engine'),  # a second line in ipvsadm -R's batch
    (dict(persistence_timeout=True), 'persistence_timeout'),
])
def test_service_errors_name_field(kw, field):
    with pytest.raises(v.ValidationError) as err:
        build(**kw)
    assert err.value.field == field
    assert str(err.value).startswith(field + ': ')


@pytest.mark.parametrize('kw', [
    dict(port=1),
    dict(persistence_netmask='32'),
    dict(persistence_netmask='1'),
    dict(address='2001:db8::1', persistence_netmask='128'),
    dict(address='2001:db8::1', persistence_netmask='1'),
    dict(persistence_engine='x' * 15),
])
def test_service_edges_inside_are_taken(kw):
    """The last value each undeclared range takes (port 1: the lowest without persistence)."""
    build(**kw)


def test_service_build_ok():
    s = build(protocol='udp', address='[2001:DB8::1]', port=53, persistence_netmask='/64')
    assert s.key == '-u [2001:db8::1]:53'
    assert s.persistent is True and s.netmask == 64
    assert s.scheduler is None  # unstated stays None


def test_fwmark_service_build():
    s = build(address=None, port=None, fwmark=5, family='ipv6')
    assert s.key == '-f 5 -6' and s.port == 0


def test_key_only_for_dest_module():
    s = v.build_service({'protocol': None, 'virtual_address': '10.0.0.1', 'virtual_port': 80,
                         'fwmark': None, 'family': None}, v.DEST_MODULE_SERVICE_FIELDS)
    assert s.key == '-t 10.0.0.1:80' and s.scheduler is None
    with pytest.raises(v.ValidationError) as err:
        v.build_service({'protocol': None, 'virtual_address': None, 'virtual_port': 80,
                         'fwmark': None, 'family': None}, v.DEST_MODULE_SERVICE_FIELDS)
    assert err.value.field == 'virtual_address'


@pytest.mark.parametrize('kw,field', [
    (dict(port=0), 'port'),                                    # port 0 needs persistence
    (dict(one_packet=True), 'one_packet'),                    # tcp
    (dict(scheduler='sh', scheduler_flags=['flag-3']), 'scheduler_flags'),
    (dict(scheduler='mh', scheduler_flags=['flag-3']), 'scheduler_flags'),
])
def test_resolved_service_errors(kw, field):
    s = build(**kw).resolve(None)
    with pytest.raises(v.ValidationError) as err:
        v.validate_service(s, flag_names=kw.get('scheduler_flags'))
    assert err.value.field == field


def test_resolved_service_ok_cases():
    v.validate_service(build(port=0, persistent=True).resolve(None))
    v.validate_service(build(protocol='udp', one_packet=True).resolve(None))
    v.validate_service(build(address=None, port=None, fwmark=3, one_packet=True).resolve(None))


def test_flags_checked_against_current_scheduler():
    current = build(scheduler='mh').resolve(None)
    wanted = build(scheduler_flags=['sh-port']).resolve(current)
    with pytest.raises(v.ValidationError) as err:
        v.validate_service(wanted, flag_names=['sh-port'])
    assert err.value.field == 'scheduler_flags'


# ------------------------------------------------------------ dests

SERVICE = build(scheduler='wlc').resolve(None)
FWMARK = build(address=None, port=None, fwmark=1).resolve(None)
V6 = build(address='2001:db8::1').resolve(None)


def dest(**kw):
    item = dict.fromkeys(o.name for o in s.DEST_OPTIONS)
    item.update(address='192.168.1.10')
    item.update(kw)
    return item


@pytest.mark.parametrize('kw,field', [
    (dict(address=None), 'address'),
    (dict(address='nope'), 'address'),
    (dict(forwarding='bridge'), 'forwarding'),
    (dict(tun_type='vxlan'), 'tun_type'),
    (dict(tun_csum=True, tun_remcsum=True), 'tun_remcsum'),
])
def test_dest_build_errors(kw, field):
    with pytest.raises(v.ValidationError) as err:
        v.build_dest(dest(**kw), 'real_servers[2].')
    assert err.value.field == 'real_servers[2].' + field


@pytest.mark.parametrize('kw,field', [
    (dict(forwarding='dr', port=8080), 'port'),
    (dict(forwarding='tun', port=8080), 'port'),
    (dict(forwarding='nat', tun_type='gue'), 'tun_type'),
    (dict(forwarding='masq', tun_csum=True), 'tun_csum'),
    (dict(forwarding='gate', tun_port=6080), 'tun_port'),
    (dict(forwarding='nat', port=0), 'port'),
    (dict(u_threshold=10, l_threshold=20), 'l_threshold'),
    (dict(forwarding='tun', tun_type='ipip', tun_port=6080), 'tun_port'),
    (dict(forwarding='tun', tun_type='ipip', tun_csum=True), 'tun_csum'),
    (dict(forwarding='tun', tun_type='gre', tun_remcsum=True), 'tun_remcsum'),
    (dict(forwarding='tun', tun_type='gre', tun_port=1), 'tun_port'),
])
def test_dest_request_errors(kw, field):
    d = v.build_dest(dest(**kw))
    with pytest.raises(v.ValidationError) as err:
        v.validate_dest_request(SERVICE, d)
    assert err.value.field == field


def test_dest_request_allows_port_mapping_for_nat_and_fwmark():
    v.validate_dest_request(SERVICE, v.build_dest(dest(forwarding='nat', port=8080)))
    v.validate_dest_request(FWMARK, v.build_dest(dest(forwarding='dr', port=8080)))
    v.validate_dest_request(SERVICE, v.build_dest(dest(forwarding='dr', port=80)))
    v.validate_dest_request(SERVICE, v.build_dest(dest(u_threshold=10, l_threshold=10)))


@pytest.mark.parametrize('kw', [dict(u_threshold=0, l_threshold=20), dict(l_threshold=20)])
def test_lower_threshold_needs_an_upper_one(kw):
    # Real kernel 6.1: `ipvsadm -a ... -y 5` (no -x) fails with "Numerical
    # result out of range": l_threshold > u_threshold is refused even for u 0.
    with pytest.raises(v.ValidationError) as err:
        v.validate_dest(SERVICE, v.build_dest(dest(**kw)).resolve(SERVICE))
    assert err.value.field == 'l_threshold'
    if 'u_threshold' in kw:
        with pytest.raises(v.ValidationError):
            v.validate_dest_request(SERVICE, v.build_dest(dest(**kw)))


@pytest.mark.parametrize('service,kw,field', [
    (SERVICE, dict(address='2001:db8::10', forwarding='dr'), 'address'),
    (V6, dict(address='10.1.1.1', forwarding='nat', port=80), 'address'),
    (SERVICE, dict(forwarding='tun', tun_type='gue'), 'tun_port'),
])
def test_resolved_dest_errors(service, kw, field):
    stated = v.build_dest(dest(**kw))
    with pytest.raises(v.ValidationError) as err:
        v.validate_dest(service, stated.resolve(service), 'rs.', stated=stated)
    assert err.value.field == 'rs.' + field


# The real server's port and tunnel port: ranges the schema declares nowhere
# (the declared ones are generated in tests/unit/test_declared_edges.py).
DEST_EDGES = [(name, value, ok) for name, lo, hi in (('port', 0, 65535), ('tun_port', 1, 65535))
              for value, ok in ((lo, True), (hi, True), (lo - 1, False), (hi + 1, False))]


@pytest.mark.parametrize('name, value, ok', DEST_EDGES)
def test_undeclared_dest_ranges_at_their_edges(name, value, ok):
    if ok:
        assert getattr(v.build_dest(dest(**{name: value})), name) == value
    else:
        with pytest.raises(v.ValidationError) as err:
            v.build_dest(dest(**{name: value}))
        assert err.value.field == name


def test_mixed_family_allowed_for_tun():
    stated = v.build_dest(dest(address='2001:db8::10', forwarding='ipip'))
    v.validate_dest(SERVICE, stated.resolve(SERVICE), stated=stated)


ADDRESS_SPELLINGS = [('2001:DB8:0::0:10', '2001:db8::10'), ('192.168.001.010', None),
                     ('2001:db8::c0a8:10a', '2001:db8::c0a8:10a')]


@pytest.mark.parametrize('given, canonical', ADDRESS_SPELLINGS)
def test_a_real_servers_address_is_canonical(given, canonical):
    """Spelt any way, a real server is one key: the address as the kernel and
    ipvsadm print it (IPv4 with leading zeros is refused, as ip(8) reads it octal)."""
    if canonical is None:
        with pytest.raises(v.ValidationError) as err:
            v.build_dest(dest(address=given))
        assert err.value.field == 'address'
    else:
        assert v.build_dest(dest(address=given)).address == canonical


def test_tunnel_option_checked_against_current_forwarding():
    current = m.Dest(address='192.168.1.10', port=80, forwarding='nat', weight=1,
                     u_threshold=0, l_threshold=0)
    stated = v.build_dest(dest(tun_port=6080))
    with pytest.raises(v.ValidationError) as err:
        v.validate_dest(SERVICE, stated.resolve(SERVICE, current), stated=stated)
    assert err.value.field == 'tun_port'


def test_duplicate_dests():
    a = v.build_dest(dest()).resolve(SERVICE)
    b = v.build_dest(dest(port=80)).resolve(SERVICE)
    with pytest.raises(v.ValidationError) as err:
        v.check_unique_dests([a, b])
    assert err.value.field == 'real_servers[1]'
    assert 'real_servers[0]' in err.value.message
    v.check_unique_dests([a, v.build_dest(dest(address='192.168.1.11')).resolve(SERVICE)])


def test_stated_records_must_be_resolved_before_a_table_takes_them():
    stated = v.build_service({'address': '10.0.0.1', 'port': 80, 'protocol': None, 'fwmark': None, 'family': None})
    assert isinstance(stated, m.StatedService)
    with pytest.raises(TypeError):
        m.Table().add_service(stated)
    resolved = stated.resolve()
    assert not isinstance(resolved, m.StatedService) and resolved.scheduler == 'wlc'
    dest = v.build_dest({'address': '192.168.1.10'})
    assert isinstance(dest, m.StatedDest) and not isinstance(dest.resolve(resolved), m.StatedDest)
    table = m.Table()
    table.add_service(resolved)
    with pytest.raises(TypeError):
        table.add_dest(resolved.key, dest)
