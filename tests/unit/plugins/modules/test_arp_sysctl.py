# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.lvs.cluster.plugins.module_utils import sysctl_helpers as sh
from ansible_collections.lvs.cluster.plugins.modules import arp_sysctl
from ansible_collections.lvs.cluster.tests.unit.ipvs_fake import AnsibleFail, FakeHost, run_module


@pytest.fixture
def proc(tmp_path, monkeypatch):
    """A fake /proc/sys and /sys/class/net with lo, eth0, eth0.100."""
    root = tmp_path / 'proc'
    net = tmp_path / 'net'
    for iface in ('all', 'default', 'lo', 'eth0', 'eth0.100'):
        conf = root / 'net' / 'ipv4' / 'conf' / iface
        conf.mkdir(parents=True)
        for key, value in (('arp_ignore', '0'), ('arp_announce', '0'), ('rp_filter', '2'),
                           ('proxy_arp', '0')):
            (conf / key).write_text(u'%s\n' % value)
        if iface not in ('all', 'default'):
            (net / iface).mkdir(parents=True)
    monkeypatch.setattr(sh, 'PROC_SYS', str(root))
    monkeypatch.setattr(sh, 'SYS_CLASS_NET', str(net))
    return tmp_path


def value(proc, iface, key):
    return (proc / 'proc' / 'net' / 'ipv4' / 'conf' / iface / key).read_text().strip()


def test_dr_mode_live_and_persisted(proc):
    conf = proc / 'sysctl.d' / '90-lvs-cluster.conf'
    args = dict(mode='dr', interfaces=['lo', 'eth0.100'], persist_file=str(conf))
    result = run_module(arp_sysctl, args, FakeHost(), diff=True)
    assert result['changed'] is True
    assert result['sysctls'] == {
        'net.ipv4.conf.all.arp_ignore': '1', 'net.ipv4.conf.lo.arp_ignore': '1',
        'net.ipv4.conf.eth0/100.arp_ignore': '1', 'net.ipv4.conf.all.arp_announce': '2',
        'net.ipv4.conf.lo.arp_announce': '2', 'net.ipv4.conf.eth0/100.arp_announce': '2'}
    assert value(proc, 'eth0.100', 'arp_ignore') == '1'
    assert value(proc, 'all', 'arp_announce') == '2'
    assert value(proc, 'all', 'rp_filter') == '2'  # dr mode leaves rp_filter alone
    text = conf.read_text()
    assert text.startswith('# Managed by lvs.cluster.arp_sysctl (mode dr)')
    assert 'net.ipv4.conf.eth0/100.arp_ignore = 1\n' in text
    assert run_module(arp_sysctl, args, FakeHost())['changed'] is False


def test_check_mode_changes_nothing(proc):
    conf = proc / 'x.conf'
    result = run_module(arp_sysctl, dict(mode='dr', persist_file=str(conf)), FakeHost(),
                        check_mode=True)
    assert result['changed_keys'] == ['net.ipv4.conf.all.arp_ignore', 'net.ipv4.conf.all.arp_announce']
    assert value(proc, 'all', 'arp_ignore') == '0' and not conf.exists()


def _modprobing_host(proc):
    """modprobe creates the tunnel device of its module, as the kernel does."""
    host = FakeHost()
    devices = {'ipip': 'tunl0', 'ip6_tunnel': 'ip6tnl0'}

    def fake_modprobe(argv, **kw):
        host.calls.append(argv)
        conf = proc / 'proc' / 'net' / 'ipv4' / 'conf' / devices[argv[-1]]
        conf.mkdir(parents=True)
        (conf / 'rp_filter').write_text(u'1\n')
        (proc / 'net' / devices[argv[-1]]).mkdir()
        return 0, '', ''
    host.run_command = fake_modprobe
    return host


def test_tun_mode_sets_rp_filter_and_loads_ipip(proc, monkeypatch):
    host = _modprobing_host(proc)
    result = run_module(arp_sysctl, dict(mode='tun', interfaces=['eth0'], persist=False), host)
    assert host.calls == [['/usr/sbin/modprobe', 'ipip']]
    assert value(proc, 'tunl0', 'rp_filter') == '0' and value(proc, 'all', 'rp_filter') == '0'
    assert 'net.ipv4.conf.tunl0.rp_filter' in result['sysctls']


def test_tun_mode_leaves_the_nic_its_own_rp_filter(proc):
    """The decapsulated packets arrive on tunl0: the kernel checks max(all, tunl0), never the NIC's."""
    result = run_module(arp_sysctl, dict(mode='tun', interfaces=['eth0'], persist=False), _modprobing_host(proc))
    assert value(proc, 'eth0', 'rp_filter') == '2'
    assert sorted(key for key in result['sysctls'] if key.endswith('.rp_filter')) == [
        'net.ipv4.conf.all.rp_filter', 'net.ipv4.conf.tunl0.rp_filter']
    assert value(proc, 'eth0', 'arp_ignore') == '1'  # the NIC still keeps quiet about the VIPs


def test_tun_mode_gives_the_nic_back_the_rp_filter_an_older_run_relaxed(proc):
    conf = proc / 'sysctl.d' / '90-lvs-realserver-tun.conf'
    conf.parent.mkdir()
    conf.write_text(u'# Managed by lvs.cluster.arp_sysctl (mode tun); local changes will be overwritten.\n'
                    u'# Found before: net.ipv4.conf.eth0.rp_filter = 2\n'
                    u'net.ipv4.conf.eth0.rp_filter = 0\n')
    (proc / 'proc' / 'net' / 'ipv4' / 'conf' / 'eth0' / 'rp_filter').write_text(u'0\n')
    run_module(arp_sysctl, dict(mode='tun', interfaces=['eth0'], persist_file=str(conf)), _modprobing_host(proc))
    assert value(proc, 'eth0', 'rp_filter') == '2' and 'eth0.rp_filter' not in conf.read_text()


def test_ipv4_in_ipv6_relaxes_ip6tnl0_only(proc, monkeypatch):
    host = _modprobing_host(proc)
    result = run_module(arp_sysctl, dict(mode='tun', interfaces=['eth0', 'ip6tnl0'], persist=False), host)
    assert host.calls == [['/usr/sbin/modprobe', 'ip6_tunnel']]
    assert value(proc, 'ip6tnl0', 'rp_filter') == '0'
    assert 'net.ipv4.conf.tunl0.rp_filter' not in result['sysctls']


def test_absent_resets_and_removes_file(proc):
    conf = proc / 'lvs.conf'
    conf.write_text(u'# old\n')
    (proc / 'proc' / 'net' / 'ipv4' / 'conf' / 'all' / 'arp_ignore').write_text(u'1\n')
    result = run_module(arp_sysctl, dict(mode='dr', state='absent', persist_file=str(conf)),
                        FakeHost())
    assert result['changed_keys'] == ['net.ipv4.conf.all.arp_ignore']
    assert value(proc, 'all', 'arp_ignore') == '0'
    assert not conf.exists()


def test_proxy_arp_and_rp_filter_when_given(proc):
    result = run_module(arp_sysctl, dict(mode='dr', rp_filter=0, proxy_arp=1, persist=False),
                        FakeHost())
    assert result['sysctls']['net.ipv4.conf.all.rp_filter'] == '0'
    assert value(proc, 'all', 'proxy_arp') == '1'


@pytest.mark.parametrize('args,field', [
    (dict(mode='dr', interfaces=['eth9']), 'interfaces'),
    (dict(mode='dr', interfaces=['tunl0']), 'interfaces'),
    (dict(mode='dr', interfaces=['a/b']), 'interfaces'),
    (dict(mode='dr', arp_ignore=9), 'arp_ignore'),
    (dict(mode='dr', arp_announce=3), 'arp_announce'),
    (dict(mode='tun', rp_filter=5), 'rp_filter'),
    (dict(mode='dr', proxy_arp=2), 'proxy_arp'),
])
def test_validation(proc, args, field):
    args['persist'] = False
    with pytest.raises(AnsibleFail) as err:
        run_module(arp_sysctl, args, FakeHost())
    assert err.value.args[0]['field'] == field
    assert value(proc, 'all', 'arp_ignore') == '0'


def test_absent_puts_back_what_the_first_run_found(proc):
    conf = proc / 'sysctl.d' / '90-lvs-realserver-tun.conf'
    (proc / 'proc' / 'net' / 'ipv4' / 'conf' / 'eth0' / 'arp_ignore').write_text(u'2\n')
    tunl0 = proc / 'proc' / 'net' / 'ipv4' / 'conf' / 'tunl0'
    tunl0.mkdir()
    (tunl0 / 'rp_filter').write_text(u'1\n')
    (proc / 'net' / 'tunl0').mkdir()
    args = dict(mode='tun', interfaces=['eth0'], arp_ignore=1, rp_filter=0, persist_file=str(conf))
    run_module(arp_sysctl, args, FakeHost())
    assert value(proc, 'eth0', 'rp_filter') == '2' and value(proc, 'eth0', 'arp_ignore') == '1'
    assert '# Found before: net.ipv4.conf.eth0.arp_ignore = 2\n' in conf.read_text()
    assert '# Found before: net.ipv4.conf.all.rp_filter = 2\n' in conf.read_text()
    # a second run keeps the first record, not its own values
    run_module(arp_sysctl, dict(args, arp_ignore=3), FakeHost())
    assert '# Found before: net.ipv4.conf.eth0.arp_ignore = 2\n' in conf.read_text()
    # an interface no longer listed gets its values back, and leaves the record
    dropped = run_module(arp_sysctl, dict(args, arp_ignore=3, interfaces=[]), FakeHost())
    assert 'net.ipv4.conf.eth0.arp_ignore' in dropped['changed_keys']
    assert value(proc, 'eth0', 'arp_ignore') == '2' and value(proc, 'eth0', 'rp_filter') == '2'
    assert 'eth0' not in conf.read_text()
    run_module(arp_sysctl, dict(args, arp_ignore=3), FakeHost())
    checked = run_module(arp_sysctl, dict(args, state='absent'), FakeHost(), check_mode=True)
    assert value(proc, 'eth0', 'arp_ignore') == '3' and conf.exists()
    result = run_module(arp_sysctl, dict(args, state='absent'), FakeHost())
    assert checked['changed_keys'] == result['changed_keys']
    for iface, key, was in (('eth0', 'arp_ignore', '2'), ('all', 'arp_ignore', '0'),
                            ('all', 'rp_filter', '2'), ('eth0', 'rp_filter', '2'), ('tunl0', 'rp_filter', '1'),
                            ('all', 'arp_announce', '0')):
        assert value(proc, iface, key) == was, (iface, key)
    assert not conf.exists()
    assert run_module(arp_sysctl, dict(args, state='absent'), FakeHost())['changed'] is False
