# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.lvs.cluster.plugins.modules import ipvs_service
from ansible_collections.lvs.cluster.tests.unit.ipvs_fake import (
    IPVSADM, AnsibleFail, FakeHost, fixture_text, run_module)

READ = [['-S', '-n'], ['-L', '-n', '--thresholds']]


def full_host():
    return FakeHost(fixture_text('ipvsadm_save_full.txt'),
                    fixture_text('ipvsadm_list_thresholds.txt'))


WEB = dict(protocol='tcp', address='10.0.0.1', port=80)


def test_create_service_with_real_servers(kernel):
    host = FakeHost()
    args = dict(address='10.0.0.9', port=80, scheduler='wrr', real_servers=[
        dict(address='192.168.1.10', port=8080, forwarding='masq', weight=3),
        dict(address='192.168.1.11', port=8080, forwarding='nat', u_threshold=100, l_threshold=10)])
    result = run_module(ipvs_service, args, host, diff=True)
    expected = ['-A -t 10.0.0.9:80 -s wrr',
                '-a -t 10.0.0.9:80 -r 192.168.1.10:8080 -m -w 3',
                '-a -t 10.0.0.9:80 -r 192.168.1.11:8080 -m -w 1 -x 100 -y 10']
    assert result['changed'] is True
    assert result['commands'] == expected
    assert host.restores == [''.join(line + '\n' for line in expected)]
    # empty table: one -S read, apply, re-read (-S and, now with dests, --thresholds)
    assert host.ipvsadm_calls() == [['-S', '-n'], ['-R'], ['-S', '-n'], ['-L', '-n', '--thresholds']]
    assert all(c[0] == IPVSADM for c in host.calls)  # ip_vs_wrr already loaded
    assert result['diff'] == {'before': '', 'after': ''.join(line + '\n' for line in expected)}
    assert result['service']['scheduler'] == 'wrr'
    assert [d['key'] for d in result['real_servers']] == ['192.168.1.10:8080', '192.168.1.11:8080']

    # second identical run: nothing to do
    again = run_module(ipvs_service, args, host)
    assert again['changed'] is False and again['commands'] == []
    assert len(host.restores) == 1


def test_check_mode_predicts_same_commands_without_apply(kernel):
    args = dict(WEB, scheduler='lc', purge_real_servers=True, drain_timeout=0, real_servers=[
        dict(address='192.168.1.11', port=8080, forwarding='nat', weight=4),
        dict(address='192.168.1.12', port=8080, forwarding='nat')])
    checked_host = full_host()
    checked = run_module(ipvs_service, args, checked_host, check_mode=True, diff=True)
    assert checked_host.restores == []
    assert checked_host.ipvsadm_calls() == READ
    real_host = full_host()
    real = run_module(ipvs_service, args, real_host, diff=True)
    assert checked['commands'] == real['commands'] == [
        '-E -t 10.0.0.1:80 -s lc',
        '-d -t 10.0.0.1:80 -r 192.168.1.10:8080',
        '-e -t 10.0.0.1:80 -r 192.168.1.11:8080 -m -w 4',
        '-a -t 10.0.0.1:80 -r 192.168.1.12:8080 -m -w 1']
    assert checked['diff'] == real['diff']
    assert checked['real_servers'] == real['real_servers']
    assert checked['service'] == real['service']
    assert real['diff']['before'] == (
        '-A -t 10.0.0.1:80 -s wrr\n'
        '-a -t 10.0.0.1:80 -r 192.168.1.10:8080 -m -w 3 -x 100 -y 50\n'
        '-a -t 10.0.0.1:80 -r 192.168.1.11:8080 -m -w 1\n')
    assert real_host.ipvsadm_calls() == READ + [['-R']] + READ


def test_matching_table_is_idempotent(kernel):
    host = full_host()
    args = dict(address='10.0.0.1', port=443, scheduler='sh',
                scheduler_flags=['sh-fallback', 'sh-port'], persistence_timeout=600,
                persistence_netmask='24', real_servers=[
                    dict(address='10.0.0.21', forwarding='gate'),
                    dict(address='10.0.0.22', port=443, forwarding='dr', weight=0)])
    result = run_module(ipvs_service, args, host)
    assert result['changed'] is False and result['commands'] == []
    assert host.restores == []


def test_unstated_options_keep_current_values(kernel):
    host = full_host()
    result = run_module(ipvs_service, dict(address='10.0.0.1', port=443), host)
    assert result['changed'] is False
    assert result['service']['persistence_timeout'] == 600


def test_flags_renamed_flag_bits_compare_equal(kernel):
    host = full_host()
    result = run_module(ipvs_service, dict(address='10.0.0.1', port=443,
                                           scheduler_flags=['flag-1', 'flag-2']), host)
    assert result['changed'] is False


def test_disable_persistence_is_an_edit(kernel):
    host = full_host()
    result = run_module(ipvs_service, dict(address='10.0.0.1', port=443, persistent=False), host)
    assert result['commands'] == ['-E -t 10.0.0.1:443 -s sh -b sh-fallback,sh-port']


def test_fwmark_ipv6_and_persistence_default(kernel):
    host = FakeHost()
    result = run_module(ipvs_service, dict(fwmark=9, family='ipv6', persistent=True,
                                           persistence_netmask='64', scheduler='rr'), host)
    assert result['commands'] == ['-A -f 9 -6 -s rr -p 300 -M 64']
    assert result['service']['fwmark'] == 9 and result['service']['address'] is None


def test_absent_deletes_service(kernel):
    host = full_host()
    result = run_module(ipvs_service, dict(WEB, state='absent'), host, diff=True)
    assert result['commands'] == ['-D -t 10.0.0.1:80']
    assert result['diff']['after'] == ''
    assert result['service'] is None and result['real_servers'] == []
    again = run_module(ipvs_service, dict(WEB, state='absent'), host)
    assert again['changed'] is False


def test_real_servers_omitted_leaves_them(kernel):
    host = full_host()
    result = run_module(ipvs_service, dict(WEB, scheduler='rr', purge_real_servers=True), host)
    assert result['commands'] == ['-E -t 10.0.0.1:80 -s rr']
    assert len(result['real_servers']) == 2


def test_edit_keeps_thresholds(kernel):
    host = full_host()
    result = run_module(ipvs_service, dict(WEB, real_servers=[
        dict(address='192.168.1.10', port=8080, weight=9)]), host)
    assert result['commands'] == ['-e -t 10.0.0.1:80 -r 192.168.1.10:8080 -m -w 9 -x 100 -y 50']


def test_verification_failure_is_loud(kernel):
    host = FakeHost()
    host.break_apply = True  # kernel ignores the batch
    with pytest.raises(AnsibleFail) as err:
        run_module(ipvs_service, dict(address='10.0.0.9', port=80), host)
    assert 'differs from the expected result' in err.value.args[0]['msg']
    assert err.value.args[0]['expected'] == ['-A -t 10.0.0.9:80 -s wlc']


def test_restore_stderr_fails(kernel):
    host = FakeHost(canned={(IPVSADM, '-R'): (0, '', 'Service not defined\n')})
    with pytest.raises(AnsibleFail) as err:
        run_module(ipvs_service, dict(address='10.0.0.9', port=80), host)
    assert 'Service not defined' in err.value.args[0]['msg']


def test_read_failure_reports_command(kernel):
    host = FakeHost(canned={(IPVSADM, '-S', '-n'): (2, '', 'Can\'t initialize ipvs\n')})
    with pytest.raises(AnsibleFail) as err:
        run_module(ipvs_service, dict(WEB), host)
    assert err.value.args[0]['cmd'] == [IPVSADM, '-S', '-n']


def test_missing_ipvs_is_clear(kernel, monkeypatch):
    from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_cli
    monkeypatch.setattr(ipvs_cli, 'PROC_IPVS', str(kernel / 'missing'))
    host = FakeHost()
    with pytest.raises(AnsibleFail) as err:
        run_module(ipvs_service, dict(WEB), host)
    assert 'modprobe ip_vs' in err.value.args[0]['msg']
    assert host.calls == [['/usr/sbin/modprobe', 'ip_vs']]


def test_scheduler_module_loaded_only_when_applying(kernel):
    host = FakeHost()
    run_module(ipvs_service, dict(WEB, scheduler='lblcr'), host, check_mode=True)
    assert ['/usr/sbin/modprobe', 'ip_vs_lblcr'] not in host.calls
    run_module(ipvs_service, dict(WEB, scheduler='lblcr'), host)
    assert ['/usr/sbin/modprobe', 'ip_vs_lblcr'] in host.calls


def test_scheduler_built_into_the_kernel_is_not_loaded(kernel):
    import os
    tree = kernel / 'lib-modules' / os.uname()[2]
    tree.mkdir(parents=True)
    (tree / 'modules.builtin').write_text(u'kernel/net/netfilter/ipvs/ip_vs.ko\n'
                                          u'kernel/net/netfilter/ipvs/ip_vs_lblcr.ko\n')
    host = FakeHost()
    run_module(ipvs_service, dict(WEB, scheduler='lblcr'), host)
    assert not [call for call in host.calls if 'modprobe' in call[0]]


@pytest.mark.parametrize('args,field', [
    (dict(WEB, port=None), 'port'),
    (dict(WEB, fwmark=3), 'protocol'),
    (dict(address='10.0.0.1', port=0), 'port'),
    (dict(WEB, one_packet=True), 'one_packet'),
    (dict(WEB, scheduler='rr', scheduler_flags=['sh-port']), 'scheduler_flags'),
    (dict(WEB, persistence_netmask='255.0.255.0'), 'persistence_netmask'),
    (dict(WEB, real_servers=[dict(address='10.1.1.1', forwarding='dr', port=8080)]),
     'real_servers[0].port'),
    (dict(WEB, real_servers=[dict(address='10.1.1.1', weight=70000)]), 'real_servers[0].weight'),
    (dict(WEB, real_servers=[dict(address='2001:db8::5')]), 'real_servers[0].address'),
    (dict(WEB, real_servers=[dict(address='10.1.1.1'), dict(address='10.1.1.1', port=80)]),
     'real_servers[1]'),
    (dict(WEB, real_servers=[dict(address='10.1.1.1', forwarding='tun', tun_type='gue')]),
     'real_servers[0].tun_port'),
])
def test_validation_errors_name_field_and_change_nothing(kernel, args, field):
    host = full_host()
    with pytest.raises(AnsibleFail) as err:
        run_module(ipvs_service, args, host)
    assert err.value.args[0]['field'] == field
    assert err.value.args[0]['msg'].startswith(field + ': ')
    assert host.restores == []


def test_argspec_refuses_unknown_choice(kernel):
    host = FakeHost()
    with pytest.raises(AnsibleFail) as err:
        run_module(ipvs_service, dict(WEB, scheduler='fastest'), host)
    assert 'scheduler' in err.value.args[0]['msg']
    assert host.calls == []


def test_port_zero_persistent_ok(kernel):
    host = FakeHost()
    result = run_module(ipvs_service, dict(address='10.0.0.1', port=0, persistent=True), host)
    assert result['commands'] == ['-A -t 10.0.0.1:0 -s wlc -p 300']


def test_gue_real_server(kernel):
    host = FakeHost()
    result = run_module(ipvs_service, dict(WEB, real_servers=[dict(
        address='192.168.2.10', forwarding='tunnel', tun_type='gue', tun_port=6080,
        tun_remcsum=True)]), host)
    assert result['commands'][1] == ('-a -t 10.0.0.1:80 -r 192.168.2.10:80 -i -w 1 --tun-type gue '
                                     '--tun-port 6080 --tun-remcsum')


def test_check_mode_without_ip_vs_loads_nothing_and_predicts_from_an_empty_table(kernel, monkeypatch):
    from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_cli
    monkeypatch.setattr(ipvs_cli, 'PROC_IPVS', str(kernel / 'missing'))
    host = FakeHost()
    result = run_module(ipvs_service, dict(WEB, scheduler='lblcr'), host, check_mode=True)
    # neither modprobe nor ipvsadm, which would modprobe ip_vs itself
    assert host.calls == []
    assert result['changed'] is True and result['commands'][0].startswith('-A -t ')
