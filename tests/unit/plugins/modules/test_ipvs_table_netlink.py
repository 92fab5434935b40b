# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ipvs_table over netlink: the same plans, tables and refusals as through ipvsadm."""

from __future__ import annotations

import socket
import struct
from unittest import mock

import pytest

from ansible.module_utils import basic

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_apply
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_diff as df
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_model as md
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_netlink as nl
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_parse as ps
from ansible_collections.lvs.cluster.plugins.modules import ipvs_table
from ansible_collections.lvs.cluster.tests.unit import ipvs_fake as fk
from ansible_collections.lvs.cluster.tests.unit.ipvs_fake import AnsibleFail, FakeHost, fixture_text, run_module
from ansible_collections.lvs.cluster.tests.unit.netlink_fake import socket_factory
from ansible_collections.lvs.cluster.tests.unit.plugins.modules.test_ipvs_table import (
    APPLIED_AROUND, DNS, DRAIN_ARGS, DRAIN_SAVE, DRAINED, REFUSED_BATCH, WEB)

MORE = ('-A -u [2001:db8::2]:53 -s wrr -p 30 -M 48 -o -b flag-1,flag-3\n'
        '-a -u [2001:db8::2]:53 -r [2001:db8::30]:5353 -m -w 0 -x 100 -y 10\n'
        '-a -u [2001:db8::2]:53 -r 198.51.100.31:53 -i -w 7 --tun-type gue --tun-port 1 --tun-remcsum\n'
        '-A -f 4294967295 -s wlc -p 86400 -M 0.0.0.0\n'
        '-a -f 4294967295 -r 198.51.100.32:0 -i -w 65535 --tun-type gre --tun-nocsum\n')
FIXTURES = [(fixture_text('ipvsadm_save_full.txt'), fixture_text('ipvsadm_list_thresholds.txt')), (MORE, None)]


def both_hosts(save=None, thresholds=None):
    return FakeHost(save, thresholds), FakeHost(save, thresholds, netlink=True)


def parsed(host):
    table = ps.parse_save(host.ipvsadm(['-S', '-n'])[1])
    return ps.merge_thresholds(table, ps.parse_listing(host.ipvsadm(['-L', '-n', '--thresholds'])[1]))


@pytest.mark.parametrize('save, thresholds', FIXTURES)
def test_netlink_reads_the_table_ipvsadm_prints(save, thresholds):
    host = FakeHost(save, thresholds, netlink=True)
    with mock.patch('socket.socket', socket_factory(host)):
        table, _conns = nl.IPVSNetlink().read()
    assert table == parsed(host) and len(table) >= 2


@pytest.mark.parametrize('save, thresholds', FIXTURES)
def test_netlink_writes_what_ipvsadm_restores(save, thresholds):
    # every service and real server of the fixtures, added over netlink into an empty kernel
    source = FakeHost(save, thresholds)
    table = parsed(source)
    ops = []
    for key in table.keys():
        ops.append(df.Op(kind='add_service', service=table.service(key)))
        ops += [df.Op(kind='add_dest', service=table.service(key), dest=dest) for dest in table.dests(key).values()]
    host = FakeHost(netlink=True)
    with mock.patch('socket.socket', socket_factory(host)):
        assert nl.IPVSNetlink().apply(ops) == (len(ops), [])
    assert host.ipvsadm(['-S', '-n']) == source.ipvsadm(['-S', '-n'])
    assert parsed(host) == table


def test_the_same_run_on_both_backends(kernel):
    by_cli, by_netlink = both_hosts()
    cli = run_module(ipvs_table, dict(services=[WEB, DNS], backend='ipvsadm'), by_cli, diff=True)
    net = run_module(ipvs_table, dict(services=[WEB, DNS]), by_netlink, diff=True)
    assert (cli['backend'], net['backend']) == ('ipvsadm', 'netlink')
    for name in ('changed', 'commands', 'diff', 'services', 'rules', 'keys'):
        assert cli[name] == net[name]
    assert by_cli.ipvsadm(['-S', '-n']) == by_netlink.ipvsadm(['-S', '-n'])
    # netlink: no ipvsadm at all; the family, the dumps, one batch, the verifying dumps
    assert by_netlink.ipvsadm_calls() == []
    batches = [data for data in by_netlink.netlink_sends if len(data) > 200]
    assert len(batches) == 1
    again = run_module(ipvs_table, dict(services=[WEB, DNS]), by_netlink)
    assert again['changed'] is False and again['commands'] == []


def test_check_mode_over_netlink_changes_nothing_and_predicts(kernel):
    host = FakeHost(fixture_text('ipvsadm_save_full.txt'), fixture_text('ipvsadm_list_thresholds.txt'), netlink=True)
    before = host.ipvsadm(['-S', '-n'])
    args = dict(services=[WEB, DNS], purge='all')
    predicted = run_module(ipvs_table, args, host, check_mode=True)
    assert host.ipvsadm(['-S', '-n']) == before
    real = run_module(ipvs_table, args, host)
    assert predicted['commands'] == real['commands'] and predicted['rules'] == real['rules']


def test_a_request_the_kernel_refuses_mid_batch_reports_what_the_others_changed(kernel):
    host = FakeHost(netlink=True)
    with pytest.raises(AnsibleFail) as err:
        run_module(ipvs_table, dict(services=REFUSED_BATCH), host)
    failed = err.value.args[0]
    assert failed['msg'].startswith('the kernel refused 1 of 4 operations: -A -t 192.0.2.35:80 -s wlc -p 60 --pe '
                                    'nosuch: Scheduler or persistence engine not found; 3 applied, 0 never sent')
    assert failed['refused'] == ['-A -t 192.0.2.35:80 -s wlc -p 60 --pe nosuch: Scheduler or persistence engine not found']
    assert failed['changed'] is True and failed['applied'] == APPLIED_AROUND
    assert failed['recovered'] == 'found' and host.kernel.services == []
    assert failed['rollback_applied'] == ['-D -t 192.0.2.34:80', '-D -t 192.0.2.36:80']


def test_an_incomplete_request_is_refused_as_the_kernel_refuses_it(kernel):
    # the fake decodes on its own: a service without its whole entry is EINVAL, as in the kernel
    host = FakeHost(netlink=True)
    op = df.Op(kind='add_service', service=ps.parse_rule('-A -t 192.0.2.1:80 -s rr')[1])
    with mock.patch('socket.socket', socket_factory(host)):
        netlink = nl.IPVSNetlink()
        with mock.patch.object(nl, 'service_attrs', nl.service_key_attrs):
            refused = netlink.apply([op])
    assert [exc.errno for _index, exc in refused[1]] == [22] and host.kernel.services == []


def test_many_requests_go_in_few_batches(kernel):
    services = [dict(address='10.0.%d.1' % i, port=80, scheduler='rr', forwarding='dr',
                     real_servers=[dict(address='10.200.0.%d' % n) for n in range(1, 9)]) for i in range(200)]
    host = FakeHost(netlink=True)
    result = run_module(ipvs_table, dict(services=services, purge='all', return_table=False), host)
    assert len(result['commands']) == 1800
    writes = [data for data in host.netlink_sends if len(data) > nl.BATCH_BYTES // 2]
    assert 1 <= len(writes) <= 1800 * 200 // nl.BATCH_BYTES + 1
    assert len(host.kernel.services) == 200
    assert run_module(ipvs_table, dict(services=services, purge='all'), host)['changed'] is False


def test_backend_netlink_without_the_kernels_answer_fails_clearly(kernel):
    with pytest.raises(AnsibleFail) as err:
        run_module(ipvs_table, dict(services=[WEB], backend='netlink'), FakeHost())
    assert 'backend=netlink' in err.value.args[0]['msg'] and 'No such file or directory' in err.value.args[0]['msg']
    assert run_module(ipvs_table, dict(services=[WEB]), FakeHost())['backend'] == 'ipvsadm'


def test_drain_over_netlink_reads_the_connections(kernel, monkeypatch):
    host = FakeHost(DRAIN_SAVE, netlink=True)
    host.conns = {DRAINED: (4, 1)}
    clock = iter(range(0, 10000, 10))
    monkeypatch.setattr(ipvs_apply.time, 'monotonic', lambda: next(clock))
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, msg: None)
    result = run_module(ipvs_table, DRAIN_ARGS, host)
    assert result['drained'][0]['active_conns'] == 4 and result['drained'][0]['inactive_conns'] == 1
    assert result['drained'][0]['timed_out'] is True and host.table.dest(*DRAINED) is None
    assert host.ipvsadm_calls() == []


@pytest.mark.parametrize('code, method', [(1, 'dr'), (3, 'dr'), (0x100 | 3, 'dr'), (0x100 | 2, 'tun'), (0x100, 'nat')])
def test_netlink_reads_the_method_as_ipvsadm_prints_it(code, method):
    # a local real server (LOCALNODE, 1) is -g in ipvsadm -S; bits above the method are other connection flags
    dest = ps.parse_rule('-a -t 192.0.2.1:80 -r 192.0.2.11:80 -g -w 1')[2]
    attrs = nl.parse_attrs(b''.join(nl.dest_attrs(dest)))
    attrs[nl.DEST_FWD_METHOD] = struct.pack('=I', code)
    assert nl.dest_from(attrs, socket.AF_INET)[0].forwarding == method


def test_netlink_words_each_refusal_as_ipvsadm_does(kernel):
    host = FakeHost('-A -t 192.0.2.1:80 -s rr\n', netlink=True)
    service = ps.parse_rule('-A -t 192.0.2.1:80 -s rr')[1]
    missing = ps.parse_rule('-a -t 192.0.2.1:80 -r 192.0.2.11:80 -m -w 1')[2]
    ops = [df.Op(kind='edit_dest', service=service, dest=missing), df.Op(kind='delete_dest', service=service, dest=missing),
           df.Op(kind='add_service', service=service), df.Op(kind='edit_service', service=service.replace(port=81))]
    with mock.patch('socket.socket', socket_factory(host)):
        refused = nl.IPVSNetlink().apply(ops)
    assert [str(exc).rsplit(': ', 1)[1] for _index, exc in refused[1]] == [
        fk.ENOENT_DEST, fk.ENOENT_DEST, fk.EEXIST_SERVICE, fk.ESRCH_SERVICE]


# IP_VS_CONN_F_MASQ, _TUNNEL, _DROUTE of linux/ip_vs.h; 1 is _LOCALNODE, which
# delivers to the director itself and reads back as ipvsadm's -g
@pytest.mark.parametrize('forwarding, code', [('nat', 0), ('tun', 2), ('dr', 3)])
def test_each_forwarding_method_is_sent_as_the_kernels_code(forwarding, code):
    dest = md.Dest(address='192.0.2.10', port=80, forwarding=forwarding, weight=1, u_threshold=0, l_threshold=0)
    attrs = nl.parse_attrs(b''.join(nl.dest_attrs(dest)))
    assert struct.unpack('=I', attrs[nl.DEST_FWD_METHOD]) == (code,)


@pytest.mark.parametrize('code', [4, 5, 7])
def test_a_real_server_with_a_method_ipvsadm_cannot_name_fails_clearly(kernel, code):
    # the kernel keeps any 3-bit method (fixtures/netlink_lab.json, "forwarding methods"): another tool's
    host = FakeHost('-A -t 192.0.2.1:80 -s rr\n', netlink=True)
    service = ps.parse_rule('-A -t 192.0.2.1:80 -s rr')[1]
    dest = ps.parse_rule('-a -t 192.0.2.1:80 -r 192.0.2.11:80 -m -w 1')[2]
    with mock.patch('socket.socket', socket_factory(host)), mock.patch.dict(nl.FWD_METHOD, nat=code):
        assert nl.IPVSNetlink().apply([df.Op(kind='add_dest', service=service, dest=dest)]) == (1, [])
    before = repr(host.kernel.services)
    with pytest.raises(AnsibleFail) as err:
        run_module(ipvs_table, dict(services=[WEB]), host)
    assert err.value.args[0]['msg'] == (
        'cannot read the IPVS table over netlink: service -t 192.0.2.1:80: real server 192.0.2.11:80 has '
        'forwarding method %d, none of nat (0), dr (1, 3) or tun (2) that ipvsadm and this collection know: '
        'change it (ipvsadm -e) or delete it' % code)
    assert repr(host.kernel.services) == before
