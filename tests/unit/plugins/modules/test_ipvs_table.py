# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import time

import pytest

from ansible.module_utils import basic

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_apply
from ansible_collections.lvs.cluster.plugins.modules import ipvs_table
from ansible_collections.lvs.cluster.tests.unit.ipvs_fake import (
    AnsibleFail, FakeHost, fixture_text, run_module)

READ = [['-S', '-n'], ['-L', '-n', '--thresholds']]


def full_host():
    return FakeHost(fixture_text('ipvsadm_save_full.txt'),
                    fixture_text('ipvsadm_list_thresholds.txt'))


WEB = dict(name='web', address='198.51.100.100', port=80, scheduler='wrr', forwarding='nat',
           real_servers=[dict(address='203.0.113.11', weight=3),
                         dict(address='203.0.113.12', port=8080)])
DNS = dict(protocol='udp', address='198.51.100.100', port=53, scheduler='rr', one_packet=True,
           forwarding='dr', real_servers=[dict(address='198.51.100.21')])


def test_create_two_services_in_one_batch(kernel):
    host = FakeHost()
    result = run_module(ipvs_table, dict(services=[WEB, DNS]), host, diff=True)
    expected = ['-A -t 198.51.100.100:80 -s wrr',
                '-a -t 198.51.100.100:80 -r 203.0.113.11:80 -m -w 3',
                '-a -t 198.51.100.100:80 -r 203.0.113.12:8080 -m -w 1',
                '-A -u 198.51.100.100:53 -s rr -o',
                '-a -u 198.51.100.100:53 -r 198.51.100.21:53 -g -w 1']
    assert result['changed'] is True
    assert result['commands'] == expected
    assert host.restores == [''.join(line + '\n' for line in expected)]
    assert host.ipvsadm_calls() == [['-S', '-n'], ['-R']] + READ
    # the diff in canonical order (port 53 first), the same in check mode and after re-reading
    assert result['diff'] == {'before': '', 'after': ''.join(line + '\n' for line in expected[3:] + expected[:3])}
    assert [s['key'] for s in result['services']] == ['-t 198.51.100.100:80', '-u 198.51.100.100:53']
    assert [d['forwarding'] for d in result['services'][0]['real_servers']] == ['nat', 'nat']
    again = run_module(ipvs_table, dict(services=[WEB, DNS]), host)
    assert again['changed'] is False and again['commands'] == []
    assert len(host.restores) == 1


# What ipvsadm prints to stderr on every run where it was built for a newer
# IPVS than the kernel's (ipvsadm.c), however the command went.
VERSION_WARNING = ('Warning: IPVS version mismatch: \n  Kernel compiled with IPVS version 1.2.1\n'
                   '  ipvsadm v1.31 requires minimum IPVS version 1.2.1\n\n')


class WarningHost(FakeHost):
    def ipvsadm(self, args, stdin=None):
        rc, out, err = super().ipvsadm(args, stdin)
        return rc, out, VERSION_WARNING + err


def test_ipvsadms_version_warning_is_not_an_error(kernel):
    host = WarningHost()
    result = run_module(ipvs_table, dict(services=[WEB, DNS], backend='ipvsadm'), host)
    assert result['changed'] is True and len(host.restores) == 1
    assert host.table.dest('-t 198.51.100.100:80', '203.0.113.11:80') is not None
    assert run_module(ipvs_table, dict(services=[WEB, DNS], backend='ipvsadm'), host)['changed'] is False


def test_check_mode_predicts_the_real_run(kernel):
    args = dict(purge='all', services=[
        dict(address='10.0.0.1', port=80, scheduler='lc', forwarding='nat', real_servers=[
            dict(address='192.168.1.11', port=8080, weight=4),
            dict(address='192.168.1.12', port=8080)]),
        dict(WEB)])
    checked_host = full_host()
    checked = run_module(ipvs_table, args, checked_host, check_mode=True, diff=True)
    assert checked_host.restores == []
    assert checked_host.ipvsadm_calls() == READ
    real_host = full_host()
    real = run_module(ipvs_table, args, real_host, diff=True)
    assert checked['commands'] == real['commands']
    assert checked['diff']['before'] == real['diff']['before']
    assert checked['services'] == real['services']
    assert real['commands'][:7] == [
        '-D -t 10.0.0.1:443', '-D -u 10.0.0.2:53', '-D --sctp-service 10.0.0.3:3868',
        '-D -t [2001:db8::1]:80', '-D -f 1', '-D -f 2 -6', '-E -t 10.0.0.1:80 -s lc']
    assert real['removed_services'] == ['-t 10.0.0.1:443', '-u 10.0.0.2:53',
                                        '--sctp-service 10.0.0.3:3868', '-t [2001:db8::1]:80',
                                        '-f 1', '-f 2 -6']
    # ipvsadm's order: its sort subtracts addresses as 32-bit ints, 198.x < 10.x
    assert real_host.table.keys() == ['-t 198.51.100.100:80', '-t 10.0.0.1:80']
    assert sorted(real_host.table.dests('-t 10.0.0.1:80')) == ['192.168.1.11:8080', '192.168.1.12:8080']


def test_check_mode_diff_matches_the_real_run_in_ipvsadm_order(kernel):
    args = dict(purge='all', services=[
        dict(address='10.0.0.1', port=80, scheduler='lc', forwarding='nat', real_servers=[
            dict(address='192.168.1.11', port=8080, weight=4)]),
        dict(WEB)])
    checked = run_module(ipvs_table, args, full_host(), check_mode=True, diff=True)
    real = run_module(ipvs_table, args, full_host(), diff=True)
    assert checked['diff'] == real['diff']


def test_purge_none_keeps_unlisted(kernel):
    host = full_host()
    args = dict(services=[dict(address='10.0.0.1', port=80, real_servers=[
        dict(address='192.168.1.12', port=8080, forwarding='nat')])])
    result = run_module(ipvs_table, args, host)
    assert result['commands'] == ['-a -t 10.0.0.1:80 -r 192.168.1.12:8080 -m -w 1']
    assert len(host.table.keys()) == 7


def test_purge_real_servers_keeps_unlisted_services(kernel):
    host = full_host()
    args = dict(purge='real_servers', drain_timeout=0, services=[dict(address='10.0.0.1', port=80, real_servers=[
        dict(address='192.168.1.12', port=8080, forwarding='nat')])])
    result = run_module(ipvs_table, args, host)
    assert result['commands'] == ['-d -t 10.0.0.1:80 -r 192.168.1.10:8080',
                                  '-d -t 10.0.0.1:80 -r 192.168.1.11:8080',
                                  '-a -t 10.0.0.1:80 -r 192.168.1.12:8080 -m -w 1']
    assert len(host.table.keys()) == 7


def test_purge_real_servers_leaves_services_without_a_list(kernel):
    host = full_host()
    result = run_module(ipvs_table, dict(purge='real_servers', services=[
        dict(address='10.0.0.1', port=80)]), host)
    assert result['changed'] is False


def test_state_absent_removes_one_service(kernel):
    host = full_host()
    result = run_module(ipvs_table, dict(services=[
        dict(protocol='udp', address='10.0.0.2', port=53, state='absent')]), host, diff=True)
    assert result['commands'] == ['-D -u 10.0.0.2:53']
    assert result['diff']['after'] == ''
    assert result['services'] == []
    again = run_module(ipvs_table, dict(services=[
        dict(protocol='udp', address='10.0.0.2', port=53, state='absent')]), host)
    assert again['changed'] is False


def test_matching_table_is_idempotent_and_thresholds_count(kernel):
    host = full_host()
    args = dict(services=[dict(address='10.0.0.1', port=80, scheduler='wrr', forwarding='nat',
                               real_servers=[dict(address='192.168.1.10', port=8080, weight=3,
                                                  u_threshold=100, l_threshold=50)])])
    assert run_module(ipvs_table, args, host)['changed'] is False
    args['services'][0]['real_servers'][0]['u_threshold'] = 200
    result = run_module(ipvs_table, args, host)
    assert result['commands'] == ['-e -t 10.0.0.1:80 -r 192.168.1.10:8080 -m -w 3 -x 200 -y 50']


def test_real_server_forwarding_overrides_service_default(kernel):
    host = FakeHost()
    result = run_module(ipvs_table, dict(services=[dict(
        address='10.0.0.9', port=80, forwarding='nat',
        real_servers=[dict(address='10.0.0.21', forwarding='dr'), dict(address='10.1.0.5', port=81)])]),
        host)
    assert result['commands'][1:] == ['-a -t 10.0.0.9:80 -r 10.0.0.21:80 -g -w 1',
                                      '-a -t 10.0.0.9:80 -r 10.1.0.5:81 -m -w 1']


@pytest.mark.parametrize('services, field', [
    ([WEB, WEB], 'services[1]'),
    ([WEB, dict(DNS, forwarding='dr', real_servers=[dict(address='198.51.100.21', port=54)])],
     'services[1].real_servers[0].port'),
    ([WEB, DNS, dict(address='10.0.0.9', port=80, real_servers=[
        dict(address='10.0.0.1'), dict(address='bogus')])], 'services[2].real_servers[1].address'),
    ([dict(address='not-an-ip', port=80)], 'services[0].address'),
    ([dict(fwmark=3, port=80)], 'services[0].port'),
    ([dict(address='10.0.0.9', port=80, one_packet=True)], 'services[0].one_packet'),
    ([dict(address='10.0.0.9', port=80, real_servers=[
        dict(address='10.0.0.1', forwarding='nat'), dict(address='10.0.0.1', forwarding='nat')])],
     'services[0].real_servers[1]'),
    ([dict(address='10.0.0.9', port=80, real_servers=[
        dict(address='10.0.0.1', weight=70000)])], 'services[0].real_servers[0].weight'),
])
def test_validation_names_the_field_and_changes_nothing(kernel, services, field):
    host = FakeHost()
    with pytest.raises(AnsibleFail) as err:
        run_module(ipvs_table, dict(services=services), host)
    assert err.value.args[0]['field'] == field
    assert err.value.args[0]['msg'].startswith(field + ': ')
    assert host.restores == []


def test_validation_happens_before_any_read(kernel):
    host = FakeHost()
    with pytest.raises(AnsibleFail):
        run_module(ipvs_table, dict(services=[dict(address='10.0.0.9')]), host)
    assert host.calls == []


def test_argspec_refuses_bad_purge(kernel):
    with pytest.raises(AnsibleFail) as err:
        run_module(ipvs_table, dict(services=[], purge='everything'), FakeHost())
    assert 'purge' in err.value.args[0]['msg']


def test_failed_verification_is_loud(kernel):
    host = FakeHost()
    host.break_apply = True
    with pytest.raises(AnsibleFail) as err:
        run_module(ipvs_table, dict(services=[WEB]), host)
    assert 'differs' in err.value.args[0]['msg']


def test_a_thousand_services_in_one_batch(kernel):
    services = [dict(address='10.%d.%d.1' % (i // 250, i % 250), port=80, scheduler='rr',
                     forwarding='dr', real_servers=[dict(address='10.200.0.%d' % n) for n in (1, 2)])
                for i in range(1000)]
    host = FakeHost()
    start = time.monotonic()
    result = run_module(ipvs_table, dict(services=services, purge='all'), host)
    assert len(result['commands']) == 3000
    assert len(host.restores) == 1
    again = run_module(ipvs_table, dict(services=services, purge='all'), host)
    assert again['changed'] is False
    assert time.monotonic() - start < 30


DRAIN_SAVE = ('-A -t 198.51.100.100:80 -s wrr\n'
              '-a -t 198.51.100.100:80 -r 198.51.100.11:80 -g -w 1\n'
              '-a -t 198.51.100.100:80 -r 198.51.100.13:80 -g -w 2\n')
DRAIN_ARGS = dict(purge='real_servers', drain_timeout=30, drain_poll=0.01, services=[
    dict(address='198.51.100.100', port=80, scheduler='wrr', forwarding='dr',
         real_servers=[dict(address='198.51.100.11'), dict(address='198.51.100.12')])])
DRAINED = ('-t 198.51.100.100:80', '198.51.100.13:80')


def test_drain_adds_first_then_weight_0_waits_for_active_then_deletes(kernel):
    host = FakeHost(DRAIN_SAVE)
    host.conn_script = [{DRAINED: (2, 5)}, {DRAINED: (1, 6)}, {DRAINED: (0, 7)}]
    result = run_module(ipvs_table, DRAIN_ARGS, host)
    assert host.restores == ['-a -t 198.51.100.100:80 -r 198.51.100.12:80 -g -w 1\n'
                             '-e -t 198.51.100.100:80 -r 198.51.100.13:80 -g -w 0\n',
                             '-d -t 198.51.100.100:80 -r 198.51.100.13:80\n']
    assert result['commands'] == ['-a -t 198.51.100.100:80 -r 198.51.100.12:80 -g -w 1',
                                  '-e -t 198.51.100.100:80 -r 198.51.100.13:80 -g -w 0',
                                  '-d -t 198.51.100.100:80 -r 198.51.100.13:80']
    polls = [c for c in host.ipvsadm_calls() if c[:3] == ['-L', '-n', '--exact']]
    assert len(polls) == 3  # inactive connections are not waited for
    assert result['drained'] == [dict(service=DRAINED[0], real_server=DRAINED[1], active_conns=0, inactive_conns=7,
                                      waited=result['drained'][0]['waited'], vanished=False, timed_out=False)]
    assert host.table.dest(*DRAINED) is None and host.table.dest('-t 198.51.100.100:80', '198.51.100.12:80')
    again = run_module(ipvs_table, DRAIN_ARGS, host)
    assert again['changed'] is False and 'drained' not in again


def test_drain_of_several_services_lists_the_table_once_per_poll(kernel):
    # thousands of services may drain at once: one ipvsadm per poll, not one per service
    second = DRAIN_SAVE.replace('198.51.100.100:80', '198.51.100.101:80')
    host = FakeHost(DRAIN_SAVE + second)
    other = ('-t 198.51.100.101:80', '198.51.100.13:80')
    host.conn_script = [{DRAINED: (1, 0), other: (0, 0)}, {DRAINED: (0, 0), other: (1, 0)}, {}]
    args = dict(DRAIN_ARGS, services=DRAIN_ARGS['services'] + [
        dict(DRAIN_ARGS['services'][0], address='198.51.100.101')])
    result = run_module(ipvs_table, args, host)
    polls = [c for c in host.ipvsadm_calls() if c[:1] == ['-L'] and '--thresholds' not in c]
    assert polls == [['-L', '-n']] * 3
    assert [d['timed_out'] for d in result['drained']] == [False, False]
    assert host.table.dest(*DRAINED) is None and host.table.dest(*other) is None


def test_drain_check_mode_lists_the_same_commands_and_waits_for_nothing(kernel):
    checked = run_module(ipvs_table, DRAIN_ARGS, FakeHost(DRAIN_SAVE), check_mode=True, diff=True)
    host = FakeHost(DRAIN_SAVE)
    real = run_module(ipvs_table, DRAIN_ARGS, host, diff=True)
    assert checked['commands'] == real['commands'] and checked['diff'] == real['diff']
    assert 'drained' not in checked


def test_drain_timeout_deletes_anyway_and_says_so(kernel, monkeypatch):
    host = FakeHost(DRAIN_SAVE)
    host.conns = {DRAINED: (4, 0)}
    clock = iter(range(0, 10000, 10))
    monkeypatch.setattr(ipvs_apply.time, 'monotonic', lambda: next(clock))
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, msg: warnings.append(msg))
    result = run_module(ipvs_table, DRAIN_ARGS, host)
    assert result['drained'][0]['timed_out'] is True and result['drained'][0]['active_conns'] == 4
    assert host.table.dest(*DRAINED) is None
    assert warnings and 'ran out' in warnings[0] and DRAINED[1] in warnings[0]


def test_without_drain_deletes_in_one_batch(kernel):
    host = FakeHost(DRAIN_SAVE)
    run_module(ipvs_table, dict(DRAIN_ARGS, drain_timeout=0), host)
    assert host.restores == ['-d -t 198.51.100.100:80 -r 198.51.100.13:80\n'
                             '-a -t 198.51.100.100:80 -r 198.51.100.12:80 -g -w 1\n']


@pytest.mark.parametrize('args, field', [(dict(drain_timeout=-1), 'drain_timeout'),
                                         (dict(drain_poll=0), 'drain_poll')])
def test_drain_settings_are_checked_first(kernel, args, field):
    host = FakeHost(DRAIN_SAVE)
    with pytest.raises(AnsibleFail) as err:
        run_module(ipvs_table, dict(DRAIN_ARGS, **args), host)
    assert err.value.args[0]['field'] == field and host.calls == []


OWNED_SAVE = ('-A -t 198.51.100.100:80 -s wrr\n'
              '-a -t 198.51.100.100:80 -r 198.51.100.11:80 -g -w 1\n'
              '-A -t 198.51.100.101:80 -s rr\n'
              '-A -t 198.51.100.2:8080 -s rr\n'
              '-A -f 7 -6 -s rr\n')
KEPT = dict(address='198.51.100.100', port=80, forwarding='dr', real_servers=[dict(address='198.51.100.11')])


def test_owned_services_no_longer_listed_go_and_foreign_ones_stay(kernel):
    host = FakeHost(OWNED_SAVE)
    result = run_module(ipvs_table, dict(purge='real_servers', services=[KEPT],
                                         owned=['-t 198.51.100.100:80', '-t 198.51.100.101:80',
                                                '-f 7 -6', '-t 198.51.100.102:80']), host)
    assert result['commands'] == ['-D -t 198.51.100.101:80', '-D -f 7 -6']
    assert host.table.keys() == ['-t 198.51.100.2:8080', '-t 198.51.100.100:80']  # ipvsadm's order
    assert result['removed_services'] == ['-t 198.51.100.101:80', '-f 7 -6']


def test_owned_keys_are_normalised_and_checked(kernel):
    host = FakeHost(OWNED_SAVE)
    result = run_module(ipvs_table, dict(services=[KEPT], owned=['-t  198.51.100.101:80']), host)
    assert result['commands'] == ['-D -t 198.51.100.101:80']
    with pytest.raises(AnsibleFail) as err:
        run_module(ipvs_table, dict(services=[KEPT], owned=['198.51.100.101:80']), FakeHost(OWNED_SAVE))
    assert err.value.args[0]['field'] == 'owned[0]'


# a batch whose second service the kernel refuses (an unknown persistence engine)
REFUSED_BATCH = [dict(address='192.0.2.34', port=80, forwarding='nat', real_servers=[dict(address='203.0.113.11')]),
                 dict(address='192.0.2.35', port=80, persistence_timeout=60, persistence_engine='nosuch'),
                 dict(address='192.0.2.36', port=80)]
APPLIED_AROUND = ['-A -t 192.0.2.34:80 -s wlc', '-a -t 192.0.2.34:80 -r 203.0.113.11:80 -m -w 1',
                  '-A -t 192.0.2.36:80 -s wlc']


def test_a_rule_the_kernel_refuses_mid_batch_reports_what_the_others_changed(kernel):
    # ipvsadm -R goes on after a refused line: the failure must not claim that nothing changed
    host = FakeHost()
    with pytest.raises(AnsibleFail) as err:
        run_module(ipvs_table, dict(services=REFUSED_BATCH), host)
    failed = err.value.args[0]
    assert failed['msg'].startswith('the kernel refused 1 of 4 operations: -A -t 192.0.2.35:80 -s wlc -p 60 --pe '
                                    'nosuch: Scheduler or persistence engine not found; 3 applied, 0 never sent')
    assert failed['changed'] is True and failed['applied'] == APPLIED_AROUND
    assert failed['recovered'] == 'found' and host.kernel.services == []
    assert failed['rollback_applied'] == ['-D -t 192.0.2.34:80', '-D -t 192.0.2.36:80']


@pytest.mark.parametrize('services, field, text', [
    ([WEB, dict(DNS, real_servers=[dict(address='198.51.100.21', weight='heavy')])],
     'services[1].real_servers[0].weight', 'must be an integer'),
    ([dict(WEB, real_servers=[dict(address='203.0.113.11', weigth=2)])], 'services[0].real_servers[0]', 'weigth'),
    ([dict(WEB, sheduler='rr')], 'services[0]', 'unknown key(s) sheduler'),
    ([dict(WEB, scheduler='fastest')], 'services[0].scheduler', 'is not one of'),
    ([dict(WEB, real_servers=['203.0.113.11'])], 'services[0].real_servers[0]', 'must be a dictionary'),
])
def test_items_are_checked_naming_their_index(kernel, services, field, text):
    host = FakeHost()
    with pytest.raises(AnsibleFail) as err:
        run_module(ipvs_table, dict(services=services), host)
    assert err.value.args[0]['field'] == field and text in err.value.args[0]['msg']
    assert host.ipvsadm_calls() == []  # refused before the table is read


def test_item_values_are_converted_as_ansible_does(kernel):
    host = FakeHost()
    result = run_module(ipvs_table, dict(services=[dict(address='198.51.100.100', port='80', forwarding='nat',
                                                        real_servers=[dict(address='203.0.113.11', weight='3')])]),
                        host)
    assert result['commands'] == ['-A -t 198.51.100.100:80 -s wlc', '-a -t 198.51.100.100:80 -r 203.0.113.11:80 -m -w 3']


def test_check_mode_without_ip_vs_loads_nothing(kernel, monkeypatch):
    from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_cli
    real = run_module(ipvs_table, dict(services=[WEB, DNS]), FakeHost())
    monkeypatch.setattr(ipvs_cli, 'PROC_IPVS', str(kernel / 'missing'))
    host = FakeHost()
    checked = run_module(ipvs_table, dict(services=[WEB, DNS]), host, check_mode=True, diff=True)
    assert host.calls == []  # no modprobe, and no ipvsadm (it would modprobe ip_vs itself)
    assert checked['commands'] == real['commands'] and checked['rules'] == real['rules']


def test_rules_file_keeps_the_table_and_changes_only_when_it_differs(kernel, tmp_path):
    rules = tmp_path / 'ipvsadm.rules'
    rules.write_text('# the package\'s\n')
    rules.chmod(0o644)
    args = dict(services=[WEB, DNS], rules_file=str(rules))
    checked = run_module(ipvs_table, args, FakeHost(), check_mode=True)
    assert checked['changed'] is True and rules.read_text() == '# the package\'s\n'  # check mode writes nothing
    host = FakeHost()
    result = run_module(ipvs_table, args, host)
    # the canonical order (address, then port: 53 before 80), thresholds only where not 0
    assert rules.read_text() == ('-A -u 198.51.100.100:53 -s rr -o\n'
                                 '-a -u 198.51.100.100:53 -r 198.51.100.21:53 -g -w 1\n'
                                 '-A -t 198.51.100.100:80 -s wrr\n'
                                 '-a -t 198.51.100.100:80 -r 203.0.113.11:80 -m -w 3\n'
                                 '-a -t 198.51.100.100:80 -r 203.0.113.12:8080 -m -w 1\n')
    assert result['rules'] == rules.read_text().splitlines()
    assert oct(rules.stat().st_mode & 0o777) == '0o600'
    assert result['keys'] == ['-t 198.51.100.100:80', '-u 198.51.100.100:53']
    again = run_module(ipvs_table, args, host)
    assert again['changed'] is False
    rules.chmod(0o644)  # the mode alone differs: a change, the table untouched
    fixed = run_module(ipvs_table, args, host)
    assert fixed['changed'] is True and fixed['commands'] == [] and oct(rules.stat().st_mode & 0o777) == '0o600'
    # the table changed elsewhere: the file follows it, and the kernel's table is the file's
    host.ipvsadm(['-e', '-t', '198.51.100.100:80', '-r', '203.0.113.11:80', '-m', '-w', '9'])
    healed = run_module(ipvs_table, args, host)
    assert healed['commands'] == ['-e -t 198.51.100.100:80 -r 203.0.113.11:80 -m -w 3']
    assert sorted(rules.read_text().splitlines()) == sorted(host.ipvsadm(['-S', '-n'])[1].splitlines())


def test_return_table_false_leaves_the_table_out(kernel):
    result = run_module(ipvs_table, dict(services=[WEB, DNS], return_table=False), FakeHost())
    assert 'services' not in result and 'rules' not in result
    assert result['invocation']['module_args']['services'] == '2 services (return_table=false)'
    assert result['keys'] == ['-t 198.51.100.100:80', '-u 198.51.100.100:53'] and len(result['commands']) == 5


def test_services_json_is_the_same_table_as_one_text(kernel):
    listed, texted = FakeHost(), FakeHost()
    by_list = run_module(ipvs_table, dict(services=[WEB, DNS]), listed)
    by_text = run_module(ipvs_table, dict(services_json=json.dumps([WEB, DNS]), return_table=False), texted)
    assert by_text['commands'] == by_list['commands'] and listed.restores == texted.restores
    assert by_text['invocation']['module_args']['services_json'] == '2 services (return_table=false)'
    assert run_module(ipvs_table, dict(services_json=json.dumps([WEB, DNS])), texted)['changed'] is False


@pytest.mark.parametrize('args, field, text', [
    (dict(services_json='[{"address": "198.51.100.1", "port": 80,'), 'services_json', 'not JSON text'),
    (dict(services_json='{"address": "198.51.100.1"}'), 'services_json', 'JSON list of services, got dict'),
    (dict(services_json='[{"address": "198.51.100.1", "port": 80, "real_servers": [{"address": "x"}]}]'),
     'services_json[0].real_servers[0].address', ''),
])
def test_services_json_is_checked_naming_the_field_before_any_read(kernel, args, field, text):
    host = FakeHost()
    with pytest.raises(AnsibleFail) as failed:
        run_module(ipvs_table, args, host)
    assert failed.value.args[0]['field'] == field and text in failed.value.args[0]['msg']
    assert host.ipvsadm_calls() == []


@pytest.mark.parametrize('args', [dict(), dict(services=[WEB], services_json='[]')])
def test_services_or_services_json_exactly_one(kernel, args):
    with pytest.raises(AnsibleFail) as failed:
        run_module(ipvs_table, args, FakeHost())
    assert 'services' in failed.value.args[0]['msg'] and 'services_json' in failed.value.args[0]['msg']
