# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os

import pytest

from ansible_collections.lvs.cluster.plugins.modules import vip_address
from ansible_collections.lvs.cluster.tests.unit.ipvs_fake import (
    AnsibleFail, FakeHost, fixture_text, run_module)

IP = '/usr/sbin/ip'
SHOW = (IP, '-j', 'addr', 'show')


def host():
    return FakeHost(canned={SHOW: (0, fixture_text('ip_addr_show.json'), '')})


def changes(h):
    return [c for c in h.calls if c != list(SHOW)]


def test_add_on_lo(tmp_path):
    h = host()
    result = run_module(vip_address, dict(address='10.0.0.1', unit_dir=str(tmp_path)), h, diff=True)
    assert result['commands'] == ['/usr/sbin/ip addr add 10.0.0.1/32 dev lo']
    assert changes(h) == [[IP, 'addr', 'add', '10.0.0.1/32', 'dev', 'lo']]
    assert result['address'] == '10.0.0.1/32'
    assert not os.listdir(str(tmp_path))  # persist not requested


def test_check_mode_same_commands_and_diff(tmp_path):
    h = host()
    result = run_module(vip_address, dict(address='10.0.0.1', unit_dir=str(tmp_path)), h,
                        check_mode=True, diff=True)
    assert result['commands'] == ['/usr/sbin/ip addr add 10.0.0.1/32 dev lo']
    assert changes(h) == []
    # Sorted (IPv4 first), as the real run reads them back from the kernel.
    assert result['diff'][0]['after'] == ('lo 10.0.0.1/32\nlo 10.0.0.5/32 label lo:vip5\n'
                                          'lo 127.0.0.1/8\nlo ::1/128\n')
    assert 'lo 127.0.0.1/8\n' in result['diff'][0]['before']


def test_existing_address_is_idempotent(tmp_path):
    h = host()
    result = run_module(vip_address, dict(address='10.0.0.5/32', label='lo:vip5',
                                          unit_dir=str(tmp_path)), h)
    assert result['changed'] is False and changes(h) == []


def test_prefix_change_replaces(tmp_path):
    h = host()
    result = run_module(vip_address, dict(address='192.0.2.2', prefix=25, interface='eth0',
                                          unit_dir=str(tmp_path)), h)
    assert result['commands'] == ['/usr/sbin/ip addr del 192.0.2.2/24 dev eth0',
                                  '/usr/sbin/ip addr add 192.0.2.2/25 dev eth0']


@pytest.mark.parametrize('interface,address,text', [
    ('lo', '10.0.0.9/24', 'a VIP on lo takes a host prefix (/32): with /24 the kernel treats every address of 10.0.0.0/24'),
    ('tunl0', '10.0.0.9/24', 'a VIP on tunl0 takes a host prefix (/32): with /24 the kernel routes into the tunnel'),
    ('lo', '2001:db8::9/64', 'a VIP on lo takes a host prefix (/128): with /64'),
])
def test_a_network_prefix_on_lo_or_tunl0_is_refused(tmp_path, interface, address, text):
    h = host()
    with pytest.raises(AnsibleFail) as err:
        run_module(vip_address, dict(address=address, interface=interface, unit_dir=str(tmp_path)), h)
    assert err.value.args[0]['field'] == 'prefix'
    assert err.value.args[0]['msg'].startswith('prefix: ' + text)
    assert changes(h) == [] and not os.listdir(str(tmp_path))


def test_a_moved_vip_replaces_its_one_unit_and_leaves_the_old_interface(tmp_path):
    h = host()
    first = run_module(vip_address, dict(address='10.0.0.5', persist=True, unit_dir=str(tmp_path)), h)
    assert first['unit_file'] == str(tmp_path / 'lvs-vip-10.0.0.5.service')
    moved = run_module(vip_address, dict(address='10.0.0.5', interface='lvs0', interface_type='dummy',
                                         prefix=24, persist=True, unit_dir=str(tmp_path)), host(), check_mode=True)
    assert moved['commands'] == ['/usr/sbin/ip addr del 10.0.0.5/32 dev lo',
                                 '/usr/sbin/ip link set dev lvs0 up',
                                 '/usr/sbin/ip addr add 10.0.0.5/24 dev lvs0']
    run_module(vip_address, dict(address='10.0.0.5', interface='lvs0', interface_type='dummy',
                                 prefix=24, persist=True, unit_dir=str(tmp_path)), host())
    assert sorted(os.listdir(str(tmp_path))) == ['lvs-vip-10.0.0.5.service', 'multi-user.target.wants']
    assert os.listdir(str(tmp_path / 'multi-user.target.wants')) == ['lvs-vip-10.0.0.5.service']
    assert 'addr replace 10.0.0.5/24 dev lvs0' in (tmp_path / 'lvs-vip-10.0.0.5.service').read_text()
    # the unit says where the address is, whatever interface the task names
    other = tmp_path / 'other'
    run_module(vip_address, dict(address='10.0.0.5', persist=True, unit_dir=str(other)), host())
    gone = run_module(vip_address, dict(address='10.0.0.5', interface='eth0', state='absent',
                                        unit_dir=str(other)), host())
    assert gone['commands'] == ['/usr/sbin/ip addr del 10.0.0.5/32 dev lo']
    assert os.listdir(str(other / 'multi-user.target.wants')) == []
    assert not (other / 'lvs-vip-10.0.0.5.service').exists()


def test_a_unit_of_0_1_is_replaced(tmp_path):
    legacy = tmp_path / 'lvs-vip-lo-10.0.0.5-32.service'
    legacy.write_text(u'ExecStop=-/usr/sbin/ip addr del 10.0.0.5/32 dev lo\n')
    (tmp_path / 'multi-user.target.wants').mkdir()
    os.symlink(str(legacy), str(tmp_path / 'multi-user.target.wants' / legacy.name))
    result = run_module(vip_address, dict(address='10.0.0.5', label='lo:vip5', persist=True,
                                          unit_dir=str(tmp_path)), host())
    assert result['changed'] is True and result['commands'] == []
    assert sorted(os.listdir(str(tmp_path / 'multi-user.target.wants'))) == ['lvs-vip-10.0.0.5.service']
    assert not legacy.exists()


def test_absent_removes_address_and_unit(tmp_path):
    unit = tmp_path / 'lvs-vip-10.0.0.5.service'
    unit.write_text(u'old')
    wants = tmp_path / 'multi-user.target.wants'
    wants.mkdir()
    os.symlink(str(unit), str(wants / unit.name))
    h = host()
    result = run_module(vip_address, dict(address='10.0.0.5', state='absent',
                                          unit_dir=str(tmp_path)), h)
    assert result['commands'] == ['/usr/sbin/ip addr del 10.0.0.5/32 dev lo']
    assert not unit.exists() and not os.path.lexists(str(wants / unit.name))
    assert result['changed'] is True


def test_dummy_created_and_persisted(tmp_path):
    h = host()
    args = dict(address='2001:db8::1', interface='vip0', interface_type='dummy', persist=True,
                unit_dir=str(tmp_path))
    result = run_module(vip_address, args, h)
    assert result['commands'] == ['/usr/sbin/ip link add vip0 type dummy',
                                  '/usr/sbin/ip link set dev vip0 up',
                                  '/usr/sbin/ip addr add 2001:db8::1/128 dev vip0 nodad preferred_lft 0']
    unit = tmp_path / 'lvs-vip-2001_db8__1.service'
    text = unit.read_text()
    assert 'ExecStart=-/usr/sbin/ip link add vip0 type dummy\n' in text
    assert 'ExecStart=/usr/sbin/ip addr replace 2001:db8::1/128 dev vip0 nodad preferred_lft 0\n' in text
    assert 'WantedBy=multi-user.target\n' in text
    link = tmp_path / 'multi-user.target.wants' / unit.name
    assert os.readlink(str(link)) == str(unit)


def test_persist_only_change_and_idempotence(tmp_path):
    args = dict(address='10.0.0.5', label='lo:vip5', persist=True, unit_dir=str(tmp_path))
    first = run_module(vip_address, args, host(), diff=True)
    assert first['changed'] is True and first['commands'] == []
    assert 'label lo:vip5' in first['diff'][1]['after']
    second = run_module(vip_address, args, host())
    assert second['changed'] is False


def test_down_dummy_is_set_up(tmp_path):
    result = run_module(vip_address, dict(address='10.0.0.7', interface='lvs0',
                                          interface_type='dummy', unit_dir=str(tmp_path)), host())
    assert result['commands'] == ['/usr/sbin/ip link set dev lvs0 up',
                                  '/usr/sbin/ip addr add 10.0.0.7/32 dev lvs0']


def test_tunl0_loads_ipip(tmp_path):
    result = run_module(vip_address, dict(address='10.0.0.1', interface='tunl0', persist=True,
                                          unit_dir=str(tmp_path)), host(), check_mode=True)
    assert result['commands'] == ['/usr/sbin/modprobe ipip', '/usr/sbin/ip link set dev tunl0 up',
                                  '/usr/sbin/ip addr add 10.0.0.1/32 dev tunl0']
    assert not os.listdir(str(tmp_path))


@pytest.mark.parametrize('args,field', [
    (dict(address='10.0.0.300'), 'address'),
    (dict(address='10.0.0.1/33'), 'prefix'),
    (dict(address='10.0.0.1/24', prefix=32), 'prefix'),
    (dict(address='10.0.0.1/x'), 'address'),
    (dict(address='10.0.0.1', interface='bad name'), 'interface'),
    (dict(address='10.0.0.1', label='eth0:1'), 'label'),
    (dict(address='2001:db8::1', label='lo:1'), 'label'),
    (dict(address='10.0.0.1', interface='eth9'), 'interface'),
    (dict(address='10.0.0.1', interface='lo', interface_type='ipip'), 'interface'),
])
def test_validation(tmp_path, args, field):
    h = host()
    args['unit_dir'] = str(tmp_path)
    with pytest.raises(AnsibleFail) as err:
        run_module(vip_address, args, h)
    assert err.value.args[0]['field'] == field
    assert changes(h) == []


def _host_with(ifname, address, prefix):
    import json
    links = json.loads(fixture_text('ip_addr_show.json'))
    for link in links:
        if link['ifname'] == ifname:
            link['flags'] = link.get('flags', []) + ['UP']
            link.setdefault('addr_info', []).append(dict(family='inet', local=address, prefixlen=prefix))
    if ifname not in [link['ifname'] for link in links]:
        links.append(dict(ifname=ifname, flags=['UP'], addr_info=[dict(family='inet', local=address, prefixlen=prefix)]))
    return FakeHost(canned={SHOW: (0, json.dumps(links), '')})


@pytest.mark.parametrize('interface,kind,last', [
    ('lvs0', 'dummy', '/usr/sbin/ip link del lvs0'),
    ('tunl0', 'ipip', '/usr/sbin/ip link set dev tunl0 down'),
])
def test_the_last_vip_takes_the_interface_its_unit_made(tmp_path, interface, kind, last):
    args = dict(address='10.0.0.9', interface=interface, interface_type=kind, persist=True, unit_dir=str(tmp_path))
    run_module(vip_address, args, host())
    gone = run_module(vip_address, dict(args, state='absent'), _host_with(interface, '10.0.0.9', 32))
    assert gone['commands'] == ['/usr/sbin/ip addr del 10.0.0.9/32 dev %s' % interface, last]
    # an interface that carries another address stays
    (tmp_path / 'x').mkdir()
    run_module(vip_address, dict(args, unit_dir=str(tmp_path / 'x')), host())
    h = _host_with(interface, '10.0.0.9', 32)
    import json
    links = json.loads(h.canned[SHOW][1])
    next(link for link in links if link['ifname'] == interface)['addr_info'].append(
        dict(family='inet', local='10.0.0.10', prefixlen=32))
    h.canned[SHOW] = (0, json.dumps(links), '')
    kept = run_module(vip_address, dict(args, state='absent', unit_dir=str(tmp_path / 'x')), h)
    assert kept['commands'] == ['/usr/sbin/ip addr del 10.0.0.9/32 dev %s' % interface]


def test_an_ipv6_vip_skips_dad_and_is_never_a_source_address(tmp_path):
    result = run_module(vip_address, dict(address='2001:db8::1', persist=True, unit_dir=str(tmp_path)), host())
    assert result['commands'] == ['/usr/sbin/ip addr add 2001:db8::1/128 dev lo nodad preferred_lft 0']
    unit = (tmp_path / 'lvs-vip-2001_db8__1.service').read_text()
    assert 'ExecStart=/usr/sbin/ip addr replace 2001:db8::1/128 dev lo nodad preferred_lft 0\n' in unit
    assert 'ExecStop=-/usr/sbin/ip addr del 2001:db8::1/128 dev lo\n' in unit


def _host_with6(ifname, address, preferred):
    import json
    links = json.loads(fixture_text('ip_addr_show.json'))
    next(link for link in links if link['ifname'] == ifname)['addr_info'].append(
        dict(family='inet6', local=address, prefixlen=128, preferred_life_time=preferred))
    return FakeHost(canned={SHOW: (0, json.dumps(links), '')})


def test_an_ipv6_vip_preferred_as_source_is_replaced_in_place(tmp_path):
    result = run_module(vip_address, dict(address='2001:db8::1', unit_dir=str(tmp_path)),
                        _host_with6('lo', '2001:db8::1', 4294967295))
    assert result['commands'] == ['/usr/sbin/ip addr replace 2001:db8::1/128 dev lo nodad preferred_lft 0']
    again = run_module(vip_address, dict(address='2001:db8::1', unit_dir=str(tmp_path)),
                       _host_with6('lo', '2001:db8::1', 0))
    assert again['changed'] is False and again['commands'] == []


def test_ip6tnl0_loads_ip6_tunnel_in_mode_any_and_goes_back(tmp_path):
    import json
    args = dict(address='2001:db8::1', interface='ip6tnl0', persist=True, unit_dir=str(tmp_path))
    result = run_module(vip_address, args, host())
    assert result['commands'] == ['/usr/sbin/modprobe ip6_tunnel', '/usr/sbin/ip -6 tunnel change ip6tnl0 mode any',
                                  '/usr/sbin/ip link set dev ip6tnl0 up',
                                  '/usr/sbin/ip addr add 2001:db8::1/128 dev ip6tnl0 nodad preferred_lft 0']
    unit = (tmp_path / 'lvs-vip-2001_db8__1.service').read_text()
    assert 'ExecStart=-/usr/sbin/modprobe ip6_tunnel\nExecStart=/usr/sbin/ip -6 tunnel change ip6tnl0 mode any\n' in unit
    links = json.loads(fixture_text('ip_addr_show.json')) + [dict(
        ifname='ip6tnl0', flags=['NOARP', 'UP'], addr_info=[dict(family='inet6', local='2001:db8::1', prefixlen=128,
                                                                 preferred_life_time=0)])]
    detail = [dict(ifname='ip6tnl0', linkinfo=dict(info_kind='ip6tnl', info_data=dict(proto='any')))]
    h = FakeHost(canned={SHOW: (0, json.dumps(links), ''),
                         (IP, '-j', '-d', 'link', 'show', 'dev', 'ip6tnl0'): (0, json.dumps(detail), '')})
    assert run_module(vip_address, args, h)['changed'] is False
    gone = run_module(vip_address, dict(args, state='absent'), h)
    assert gone['commands'] == ['/usr/sbin/ip addr del 2001:db8::1/128 dev ip6tnl0',
                                '/usr/sbin/ip -6 tunnel change ip6tnl0 mode ip6ip6',
                                '/usr/sbin/ip link set dev ip6tnl0 down']


@pytest.mark.parametrize('args, field', [
    (dict(address='2001:db8::1%lo\nExecStartPre=sh -c id'), 'address'),
    (dict(address='2001:db8::1%lo\n[Service]\nUser=root'), 'address'),
    (dict(address='10.0.0.1', label='lo:\nExecStart=x'), 'label'),
])
def test_no_option_can_write_a_line_into_the_boot_unit(tmp_path, args, field):
    """Issue 29: a zone id (or a label) with a newline went verbatim into the
    unit, which was written and enabled before ip refused the address."""
    h = host()
    with pytest.raises(AnsibleFail) as err:
        run_module(vip_address, dict(args, persist=True, unit_dir=str(tmp_path)), h)
    assert err.value.args[0]['field'] == field and err.value.args[0]['msg'].startswith(field + ': ')
    assert h.calls == [] and os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize('address, unit', [('2001:DB8:0::0:1', 'lvs-vip-2001_db8__1.service'),
                                           ('[2001:db8::1]/128', 'lvs-vip-2001_db8__1.service')])
def test_one_vip_one_spelling(tmp_path, address, unit):
    result = run_module(vip_address, dict(address=address, persist=True, unit_dir=str(tmp_path)), host())
    assert result['address'] == '2001:db8::1/128' and os.listdir(str(tmp_path / 'multi-user.target.wants')) == [unit]
    assert 'addr replace 2001:db8::1/128 dev lo' in (tmp_path / unit).read_text()


@pytest.mark.parametrize('args, field, text', [
    (dict(address='::ffff:10.0.0.1'), 'address', 'IPv4-mapped'),
    (dict(address='fe80::1'), 'address', 'link-local'),
    (dict(address='10.0.0.1/032'), 'address', None),
    (dict(address='10.0.0.1/\u0663\u0662'), 'address', 'bad prefix length'),
    (dict(address=' 10.0.0.1'), 'address', None),
    (dict(address='10.0.0.1', interface='lo:1'), 'interface', None),
    (dict(address='10.0.0.1', interface='-lo'), 'interface', None),
    (dict(address='10.0.0.1', label='lo:a b'), 'label', None),
    (dict(address='10.0.0.1', label='lo:'), 'label', None),
])
def test_what_ip_or_the_kernel_refuses_is_refused_first(tmp_path, args, field, text):
    h = host()
    with pytest.raises(AnsibleFail) as err:
        run_module(vip_address, dict(args, persist=True, unit_dir=str(tmp_path)), h)
    assert err.value.args[0]['field'] == field and (text or '') in err.value.args[0]['msg']
    assert h.calls == [] and os.listdir(str(tmp_path)) == []
