# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible.module_utils import basic

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_apply
from ansible_collections.lvs.cluster.plugins.modules import ipvs_dest
from ansible_collections.lvs.cluster.tests.unit.ipvs_fake import (
    AnsibleFail, FakeHost, fixture_text, run_module)

SVC = dict(virtual_address='10.0.0.1', virtual_port=80)
RS = dict(SVC, address='192.168.1.10', port=8080)
POLL = ['-L', '-n', '--exact', '-t', '10.0.0.1:80']


def full_host():
    return FakeHost(fixture_text('ipvsadm_save_full.txt'),
                    fixture_text('ipvsadm_list_thresholds.txt'))


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(ipvs_apply.time, 'sleep', lambda seconds: None)


def test_add_dest(kernel):
    host = full_host()
    args = dict(SVC, address='192.168.1.12', port=8080, forwarding='masq', weight=2)
    result = run_module(ipvs_dest, args, host, diff=True)
    assert result['commands'] == ['-a -t 10.0.0.1:80 -r 192.168.1.12:8080 -m -w 2']
    assert host.restores == ['-a -t 10.0.0.1:80 -r 192.168.1.12:8080 -m -w 2\n']
    assert result['diff'] == {'before': '', 'after': '-a -t 10.0.0.1:80 -r 192.168.1.12:8080 -m -w 2\n'}
    assert result['real_server']['forwarding'] == 'nat'
    assert run_module(ipvs_dest, args, host)['changed'] is False


def test_edit_weight_keeps_everything_else(kernel):
    host = full_host()
    result = run_module(ipvs_dest, dict(RS, weight=5), host, check_mode=True, diff=True)
    assert result['commands'] == ['-e -t 10.0.0.1:80 -r 192.168.1.10:8080 -m -w 5 -x 100 -y 50']
    assert host.restores == []
    assert result['diff']['before'] == '-a -t 10.0.0.1:80 -r 192.168.1.10:8080 -m -w 3 -x 100 -y 50\n'


def test_unchanged_dest(kernel):
    host = full_host()
    result = run_module(ipvs_dest, dict(RS, weight=3, forwarding='nat', u_threshold=100), host)
    assert result['changed'] is False and host.restores == []


def test_absent(kernel):
    host = full_host()
    result = run_module(ipvs_dest, dict(RS, state='absent'), host)
    assert result['commands'] == ['-e -t 10.0.0.1:80 -r 192.168.1.10:8080 -m -w 0 -x 100 -y 50',
                                  '-d -t 10.0.0.1:80 -r 192.168.1.10:8080']  # drained first (the default)
    assert result['real_server'] is None
    assert run_module(ipvs_dest, dict(RS, state='absent'), host)['changed'] is False


def test_fwmark_dest_default_port(kernel):
    host = full_host()
    result = run_module(ipvs_dest, dict(fwmark=1, address='192.168.1.30', state='absent', drain_timeout=0), host)
    assert result['commands'] == ['-d -f 1 -r 192.168.1.30:0']


def test_service_must_exist(kernel):
    host = full_host()
    with pytest.raises(AnsibleFail) as err:
        run_module(ipvs_dest, dict(virtual_address='10.9.9.9', virtual_port=80,
                                   address='192.168.1.10'), host)
    assert err.value.args[0]['field'] == 'virtual_address'
    assert 'does not exist' in err.value.args[0]['msg']


def test_drained_check_mode_reports_edit_and_delete(kernel):
    host = full_host()
    result = run_module(ipvs_dest, dict(RS, state='drained'), host, check_mode=True)
    assert result['commands'] == ['-e -t 10.0.0.1:80 -r 192.168.1.10:8080 -m -w 0 -x 100 -y 50',
                                  '-d -t 10.0.0.1:80 -r 192.168.1.10:8080']
    assert host.restores == []
    assert POLL not in host.ipvsadm_calls()


def test_drained_waits_then_deletes(kernel):
    host = full_host()
    key = ('-t 10.0.0.1:80', '192.168.1.10:8080')
    host.conn_script = [{key: (3, 1)}, {key: (1, 1)}, {key: (0, 4)}]
    result = run_module(ipvs_dest, dict(RS, state='drained', drain_poll=1), host)
    assert result['changed'] is True
    assert host.restores == ['-e -t 10.0.0.1:80 -r 192.168.1.10:8080 -m -w 0 -x 100 -y 50\n',
                             '-d -t 10.0.0.1:80 -r 192.168.1.10:8080\n']
    assert host.ipvsadm_calls().count(POLL) == 3
    assert result['drained']['active_conns'] == 0 and result['drained']['inactive_conns'] == 4
    assert result['real_server'] is None
    assert run_module(ipvs_dest, dict(RS, state='drained'), host)['changed'] is False


def test_drained_inactive_flag_waits_for_inactive(kernel):
    host = full_host()
    key = ('-t 10.0.0.1:80', '192.168.1.10:8080')
    host.conn_script = [{key: (0, 4)}, {key: (0, 0)}]
    run_module(ipvs_dest, dict(RS, state='drained', drain_inactive=True), host)
    assert host.ipvsadm_calls().count(POLL) == 2


BUSY = ('-t 10.0.0.1:80', '192.168.1.10:8080')


def busy_until_timeout(monkeypatch, seconds_per_reading):
    """A real server that keeps 5 connections, on a clock that moves
    `seconds_per_reading` each time it is read, removed with drain_timeout 150."""
    host = full_host()
    host.conns = {BUSY: (5, 0)}
    clock = iter(range(0, 10000, seconds_per_reading))
    monkeypatch.setattr(ipvs_apply.time, 'monotonic', lambda: next(clock))
    return host, run_module(ipvs_dest, dict(RS, state='absent', drain_timeout=150), host)


def test_drain_timeout_deletes_anyway_and_warns(kernel, monkeypatch):
    # one drain behaviour (ipvs_table's): a drain that runs out deletes, naming what was cut
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, msg: warnings.append(msg))
    host, result = busy_until_timeout(monkeypatch, 100)
    assert result['drained']['timed_out'] is True and result['drained']['active_conns'] == 5
    assert host.table.dest(*BUSY) is None
    assert warnings and '192.168.1.10:8080 (5 active' in warnings[0]


def test_drain_stops_at_its_timeout_not_a_poll_later(kernel, monkeypatch):
    # 50 s per reading: the poll that finds 150 s waited is the last
    _host, result = busy_until_timeout(monkeypatch, 50)
    assert result['drained']['timed_out'] is True and result['drained']['waited'] == 150


def test_absent_without_drain_deletes_at_once(kernel):
    host = full_host()
    result = run_module(ipvs_dest, dict(RS, state='absent', drain_timeout=0), host)
    assert result['commands'] == ['-d -t 10.0.0.1:80 -r 192.168.1.10:8080'] and 'drained' not in result
    assert POLL not in host.ipvsadm_calls()


def test_drained_weight_already_zero_skips_edit(kernel):
    host = full_host()
    result = run_module(ipvs_dest, dict(virtual_address='10.0.0.1', virtual_port=443,
                                        address='10.0.0.22', state='drained'), host)
    assert result['commands'] == ['-d -t 10.0.0.1:443 -r 10.0.0.22:443']


@pytest.mark.parametrize('args,field', [
    (dict(RS, forwarding='dr'), 'port'),
    (dict(RS, weight=-2), 'weight'),
    (dict(RS, drain_poll=0, state='drained'), 'drain_poll'),
    (dict(RS, drain_timeout=-1, state='drained'), 'drain_timeout'),
    (dict(RS, forwarding='nat', tun_type='gre'), 'tun_type'),
    (dict(RS, tun_port=6080), 'tun_port'),  # current forwarding is nat
    (dict(SVC, virtual_address=None, address='192.168.1.10'), 'virtual_address'),
    (dict(RS, address='2001:db8::1', forwarding='nat'), 'address'),
    (dict(RS, u_threshold=5, l_threshold=6), 'l_threshold'),
])
def test_validation_errors(kernel, args, field):
    host = full_host()
    with pytest.raises(AnsibleFail) as err:
        run_module(ipvs_dest, args, host)
    assert err.value.args[0]['field'] == field
    assert host.restores == []


def test_aliases_for_virtual_service(kernel):
    host = full_host()
    result = run_module(ipvs_dest, dict(vip='10.0.0.1', vport=80, address='192.168.1.11',
                                        port=8080), host)
    assert result['changed'] is False
