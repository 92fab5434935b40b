# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.lvs.cluster.plugins.module_utils import ip_helpers as iph
from ansible_collections.lvs.cluster.plugins.module_utils import sysctl_helpers as sh
from ansible_collections.lvs.cluster.tests.unit.ipvs_fake import fixture_text


def test_parse_links_and_addresses():
    links = iph.parse_links(fixture_text('ip_addr_show.json'))
    assert sorted(links) == ['eth0', 'lo', 'lvs0']
    assert iph.link_is_up(links['lo']) and not iph.link_is_up(links['lvs0'])
    assert iph.addresses(links['lo']) == [('127.0.0.1', 8, 'lo'), ('10.0.0.5', 32, 'lo:vip5'),
                                          ('::1', 128, None)]
    assert iph.find_address(links, 'fd00::2') == [('eth0', 64, None)]
    assert iph.parse_links('') == {}
    with pytest.raises(iph.IpError):
        iph.parse_links('{not json')


def test_argv_and_units():
    assert iph.addr_argv('/sbin/ip', 'add', '10.0.0.1', 32, 'lo', 'lo:1') == [
        '/sbin/ip', 'addr', 'add', '10.0.0.1/32', 'dev', 'lo', 'label', 'lo:1']
    assert iph.unit_name('2001:db8::1') == 'lvs-vip-2001_db8__1.service'
    text = iph.unit_text('/sbin/ip', '/sbin/modprobe', 'tunl0', 'ipip', '10.0.0.1', 32)
    assert 'ExecStart=-/sbin/modprobe ipip\n' in text
    assert 'ExecStop=-/sbin/ip addr del 10.0.0.1/32 dev tunl0\n' in text
    assert iph.unit_place(text) == ('10.0.0.1', 32, 'tunl0')
    assert 'BindsTo' not in text
    assert iph.legacy_unit_re('2001:db8::1').match('lvs-vip-eth0.100-2001_db8__1-128.service')
    assert not iph.legacy_unit_re('10.0.0.1').match('lvs-vip-lo-10.0.0.10-32.service')


def test_a_unit_of_valid_options_is_what_hosts_have_already():
    """Byte for byte what 0.3 wrote: units on hosts are not rewritten by the checks."""
    assert iph.unit_text('/usr/sbin/ip', '/usr/sbin/modprobe', 'br-lan', 'dummy', '10.0.0.1', 24, 'br-lan:v1',
                         bind_device=True) == (
        '# Managed by lvs.cluster.vip_address; local changes will be overwritten.\n[Unit]\n'
        'Description=LVS VIP 10.0.0.1/24 on br-lan\nWants=network-pre.target\nAfter=network-pre.target\n'
        'Before=network.target\nBindsTo=sys-subsystem-net-devices-br\\x2dlan.device\n'
        'After=sys-subsystem-net-devices-br\\x2dlan.device\n\n[Service]\nType=oneshot\nRemainAfterExit=yes\n'
        'ExecStart=-/usr/sbin/ip link add br-lan type dummy\nExecStart=/usr/sbin/ip link set dev br-lan up\n'
        'ExecStart=/usr/sbin/ip addr replace 10.0.0.1/24 dev br-lan label br-lan:v1\n'
        'ExecStop=-/usr/sbin/ip addr del 10.0.0.1/24 dev br-lan\n\n[Install]\nWantedBy=multi-user.target\n')


def test_a_vip_unit_waits_for_its_device_and_goes_with_it():
    text = iph.unit_text('/sbin/ip', '/sbin/modprobe', 'bond0.100', 'existing', '10.0.0.1', 32, bind_device=True)
    assert 'BindsTo=sys-subsystem-net-devices-bond0.100.device\n' in text
    assert 'After=sys-subsystem-net-devices-bond0.100.device\n' in text
    assert iph.device_unit('br-lan') == 'sys-subsystem-net-devices-br\\x2dlan.device'


@pytest.mark.parametrize('name,ok', [('lo', True), ('eth0.100', True), ('a' * 15, True), ('br-lan', True),
                                     ('a' * 16, False), ('a b', False), ('a/b', False), ('lo:1', False),
                                     ('', False), ('..', False), ('eth0\n', False), ('-x', False),
                                     ('eth0.', False), ('eth0..1', False), ('eth\u0430', False), (None, False)])
def test_valid_ifname(name, ok):
    assert iph.valid_ifname(name) is ok


@pytest.mark.parametrize('label,ok', [('lo', True), ('lo:vip5', True), ('lo:a.b-c_1:2', True), ('lo:' + 'a' * 12, True),
                                      ('lo:' + 'a' * 13, False), ('lo:', False), ('lo1', False), ('eth0:1', False),
                                      ('lo:a b', False), ('lo:\n', False), ('lo:%i', False)])
def test_valid_label(label, ok):
    assert iph.valid_label(label, 'lo') is ok


@pytest.mark.parametrize('text', ['a b', 'a\nb', '%i', '$X', 'a\\b', '"a"', "'a'", '#', ';', '', 'a' * 256, 'é'])
def test_a_unit_value_is_one_plain_word(text):
    with pytest.raises(iph.UnitError) as err:
        iph.unit_value(text, 'label')
    assert str(err.value).startswith('label: ') and err.value.field == 'label'


def test_unit_paths_and_devices():
    assert iph.unit_value('/usr/sbin/ip', 'ip', iph.UNIT_PATH) == '/usr/sbin/ip'
    for bad in ('ip', '/opt/my tools/ip', '/usr/sbin/ip\n'):
        with pytest.raises(iph.UnitError):
            iph.unit_value(bad, 'ip', iph.UNIT_PATH)
    assert iph.unit_value(iph.device_unit('br-lan'), 'interface', iph.UNIT_DEVICE)
    with pytest.raises(iph.UnitError):
        iph.unit_value('sys-subsystem-net-devices-a\\n.device', 'interface', iph.UNIT_DEVICE)
    with pytest.raises(iph.UnitError, match='^ip: '):
        iph.unit_text('/usr/sbin/i p', '/sbin/modprobe', 'lo', 'existing', '10.0.0.1', 32)


def test_sysctl_keys():
    assert sh.conf_key('eth0.100', 'rp_filter') == 'net.ipv4.conf.eth0/100.rp_filter'
    assert sh.key_to_path('net.ipv4.conf.eth0/100.rp_filter') == \
        '/proc/sys/net/ipv4/conf/eth0.100/rp_filter'
    assert sh.render_conf(['hdr'], [('a.b', '1')]) == '# hdr\na.b = 1\n'
    assert sh.render_conf([], [('net.ipv4.ip_local_port_range', '1024 65000')]).endswith('= 1024 65000\n')


@pytest.mark.parametrize('header, values', [(['a\nb.c = 1'], []), ([], [('a.b', '1\nc.d = 2')]),
                                            ([], [('a.b\n', '1')]), ([], [('a.b', '1  2')]), ([], [('-a.b', '1')])])
def test_render_conf_refuses_what_it_cannot_render(header, values):
    with pytest.raises(sh.SysctlError):
        sh.render_conf(header, values)


@pytest.mark.parametrize('key,ok', [('net.ipv4.ip_forward', True), ('net.ipv4.conf.eth0/100.rp_filter', True),
                                    ('net.ipv4.vs.sync_qlen_max', True), ('kernel.pid_max', True),
                                    ('net..ipv4', False), ('net.ipv4.', False), ('.net.ipv4', False),
                                    ('net.//.x', False), ('net./.x', False), ('net.a/.x', False), ('net./a.x', False),
                                    ('kernel/pid_max', False), ('/etc/x', False), ('-net.ipv4.x', False),
                                    ('net.ipv4.*', False), ('net', False), ('net.ipv4.x\n', False),
                                    ('net.ipv4.' + 'x' * 250, False)])
def test_a_sysctl_key_has_one_grammar(key, ok):
    if ok:
        assert sh.check_key(key) == key
    else:
        with pytest.raises(sh.SysctlError):
            sh.check_key(key)
        with pytest.raises(sh.SysctlError):
            sh.key_to_path(key)


def test_a_sysctl_d_file_s_comments_are_no_settings():
    # systemd-sysctl and procps take both "#" and ";" as comment marks
    assert sh.parse_conf('# a.b = 1\n; c.d = 2\n  ; e.f = 3\ng.h = 4\n') == {'g.h': '4'}


def test_read_missing_value(monkeypatch, tmp_path):
    monkeypatch.setattr(sh, 'PROC_SYS', str(tmp_path))
    assert sh.read_value('net.ipv4.conf.none.rp_filter') is None
    assert sh.read_file(str(tmp_path / 'nope')) is None
