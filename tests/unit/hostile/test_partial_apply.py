# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 29's partial-apply and nesting findings: a kernel that refuses the K-th request mid-batch.

The fake kernel logs each write it took (in its own words, parsed by its
own code): `applied` and `rollback_applied` must be exactly that log, and
after the failure the table must be the table as found.
"""

from __future__ import annotations

import json
from unittest import mock

import pytest

from ansible_collections.lvs.cluster.plugins.module_utils import input_bounds as b
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_apply
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_cli
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_netlink as nl
from ansible_collections.lvs.cluster.plugins.modules import ipvs_table
from ansible_collections.lvs.cluster.tests.unit import ipvs_fake as fk
from ansible_collections.lvs.cluster.tests.unit.ipvs_fake import AnsibleFail, FakeHost, run_module

FOUND = ('-A -t 198.51.100.1:80 -s wrr\n'
         '-a -t 198.51.100.1:80 -r 203.0.113.11:80 -m -w 3 -x 100 -y 10\n'
         '-a -t 198.51.100.1:80 -r 203.0.113.12:80 -m -w 1\n'
         '-a -t 198.51.100.1:80 -r 203.0.113.13:80 -m -w 2\n'
         '-A -t 198.51.100.2:443 -s rr -p 300\n'
         '-a -t 198.51.100.2:443 -r 203.0.113.21:443 -g -w 1\n'
         '-a -t 198.51.100.2:443 -r 203.0.113.22:443 -g -w 1\n'
         '-A -u 198.51.100.3:53 -s rr\n'
         '-a -u 198.51.100.3:53 -r 203.0.113.31:53 -g -w 1\n'
         '-A -f 7 -s wlc\n'
         '-a -f 7 -r 203.0.113.41:0 -g -w 1\n')
THRESHOLDS = [('-t 198.51.100.1:80', '203.0.113.11:80', 100, 10)]
# deletions (a service, a real server), edits (a scheduler, persistence, a weight, thresholds) and additions
MODEL = [
    dict(address='198.51.100.1', port=80, scheduler='rr', forwarding='nat', real_servers=[
        dict(address='203.0.113.11', weight=5), dict(address='203.0.113.12', u_threshold=50),
        dict(address='203.0.113.14', weight=2)]),
    dict(address='198.51.100.2', port=443, persistence_timeout=600, forwarding='dr', real_servers=[
        dict(address='203.0.113.21'), dict(address='203.0.113.23', weight=4)]),
    dict(fwmark=7, scheduler='sh', forwarding='dr', real_servers=[dict(address='203.0.113.41', weight=9)]),
    dict(address='198.51.100.4', port=80, forwarding='dr', real_servers=[
        dict(address='203.0.113.51'), dict(address='203.0.113.52')]),
]
ARGS = dict(services=MODEL, purge='all')


def found_host(netlink):
    host = FakeHost(FOUND, netlink=netlink)
    for skey, dkey, upper, lower in THRESHOLDS:
        dest = host.table.dest(skey, dkey)
        dest['u'], dest['l'] = upper, lower
    return host


def state(host):
    """The whole table as ipvsadm shows it, thresholds included (sorted: order of insertion aside)."""
    return host.ipvsadm(['-S', '-n'])[1], host.ipvsadm(['-L', '-n', '--thresholds'])[1]


def words(lines):
    """Rules in the fake's own words, as its kernel logs the writes it took."""
    return [fk.write_key(fk.parse_args(line.split())) for line in lines]


def planned(netlink, args=None):
    """The plan (check mode reads the table and loads nothing: any existing file stands for ip_vs)."""
    args = args or ARGS
    with mock.patch.object(ipvs_cli, 'PROC_IPVS', __file__):
        return run_module(ipvs_table, dict(args, backend='netlink' if netlink else 'ipvsadm'), found_host(netlink),
                          check_mode=True)['commands']


PLAN = planned(False)


def test_the_model_plans_every_kind_of_operation(kernel):
    assert set(line.split()[0] for line in PLAN) == {'-D', '-E', '-A', '-d', '-e', '-a'}
    assert planned(True) == PLAN


def fail(host, args):
    with pytest.raises(AnsibleFail) as err:
        run_module(ipvs_table, args, host)
    return err.value.args[0]


def check_accounting(failed, host, found, k, plan=PLAN):
    """What the fake's kernel took is what the result lists; the table is back as found."""
    applied, back = failed['applied'], failed['rollback_applied']
    assert host.kernel.written == words(applied) + words(back)
    assert failed['commands'] == plan
    assert failed['refused'][0] == '%s: %s' % (plan[k - 1], fk.ENOMEM)
    assert len(applied) + len(failed['refused']) + len(failed['not_sent']) == len(plan)
    assert [line for line in plan if line not in applied and line not in failed['not_sent']] == \
        [entry.rsplit(': ', 1)[0] for entry in failed['refused']]
    assert '%d applied, %d never sent' % (len(applied), len(failed['not_sent'])) in failed['msg']
    assert failed['recovered'] == 'found' and 'the table is as found' in failed['msg']
    assert state(host) == found
    assert failed['changed'] is bool(applied)


@pytest.mark.parametrize('netlink', [False, True], ids=['ipvsadm', 'netlink'])
@pytest.mark.parametrize('k', range(1, len(PLAN) + 1))
def test_the_kth_request_refused(kernel, netlink, k):
    host = found_host(netlink)
    found = state(host)
    host.kernel.refuse_writes(k)
    failed = fail(host, dict(ARGS, backend='netlink' if netlink else 'ipvsadm'))
    check_accounting(failed, host, found, k)
    assert PLAN[k - 1] not in failed['applied']
    # drained deletions go in a batch of their own after the others: never sent after a refusal before
    # them; a batch runs whole (ipvsadm -R and the kernel's netlink both go on after a refusal)
    deletes = [line for line in PLAN if line.startswith('-d ')]
    assert failed['not_sent'] == (deletes if k <= len(PLAN) - len(deletes) else [])


@pytest.mark.parametrize('k', [1, 4, 6, 9])
def test_no_netlink_batch_goes_after_a_refusal(kernel, monkeypatch, k):
    args = dict(ARGS, drain_timeout=0)  # one batch of the plan's, cut in several by netlink
    plan = planned(True, args)
    monkeypatch.setattr(nl, 'BATCH_BYTES', 520)  # a few requests a batch
    host = found_host(True)
    found = state(host)
    host.kernel.refuse_writes(k)
    failed = fail(host, args)
    check_accounting(failed, host, found, k, plan)
    sent = len(plan) - len(failed['not_sent'])
    assert k <= sent < len(plan) and failed['not_sent'] == plan[sent:]
    assert len(host.netlink_sends) > 3


@pytest.mark.parametrize('netlink', [False, True], ids=['ipvsadm', 'netlink'])
def test_a_failed_drain_deletion_puts_back_the_weights_too(kernel, netlink):
    host = found_host(netlink)
    found = state(host)
    args = dict(ARGS, backend='netlink' if netlink else 'ipvsadm', drain_timeout=5, drain_poll=0.01)
    plan = planned(netlink, args)
    deletes = [line for line in plan if line.startswith('-d ')]
    assert len(deletes) == 2 and plan[-2:] == deletes
    host.kernel.refuse_writes(len(plan) - 1)  # the first deletion, after the weight 0 batch and the drain
    failed = fail(host, args)
    assert failed['applied'] == plan[:-2] + plan[-1:] and failed['refused'] == ['%s: %s' % (plan[-2], fk.ENOMEM)]
    assert host.kernel.written == words(failed['applied']) + words(failed['rollback_applied'])
    assert failed['recovered'] == 'found' and state(host) == found


@pytest.mark.parametrize('netlink', [False, True], ids=['ipvsadm', 'netlink'])
def test_a_failed_rollback_is_reported_with_both_lists(kernel, monkeypatch, netlink):
    host = found_host(netlink)
    plan_back = ipvs_apply.rollback_ops

    def refusing_rollback(*args):
        ops = plan_back(*args)
        host.kernel.refuse_writes(2)  # the rollback's second request
        return ops
    monkeypatch.setattr(ipvs_apply, 'rollback_ops', refusing_rollback)
    host.kernel.refuse_writes(3)
    failed = fail(host, dict(ARGS, backend='netlink' if netlink else 'ipvsadm'))
    assert failed['recovered'] == 'partial'
    assert 'the rollback failed too' in failed['msg'] and 'neither as found nor as planned' in failed['msg']
    assert failed['rollback_refused'][0].endswith(': ' + fk.ENOMEM)
    # the kernel's log since the rollback began: what rollback_applied says
    assert host.kernel.written == words(failed['rollback_applied'])
    assert len(failed['applied']) + len(failed['refused']) + len(failed['not_sent']) == len(PLAN)
    assert failed['refused'] == ['%s: %s' % (PLAN[2], fk.ENOMEM)]


def test_check_mode_is_unaffected(kernel):
    host = found_host(True)
    found = state(host)
    host.kernel.refuse_writes(1)
    result = run_module(ipvs_table, ARGS, host, check_mode=True)
    assert result['commands'] == PLAN and state(host) == found and host.kernel.written == []


# ---------------------------------------------------------------- nesting and sizes

def nest(depth, leaf='x'):
    for _level in range(depth):
        leaf = [leaf]
    return leaf


@pytest.mark.parametrize('args, field, text', [
    (dict(services_json='[' * 100000 + ']' * 100000), 'services_json', 'nesting deeper than 10 levels'),
    (dict(services_json=json.dumps([dict(address='10.0.0.1', port=80, name=nest(50))])), 'services_json',
     'nesting deeper than 10 levels'),
    (dict(services_json='[{"name": "[[[[[[[[[[[[[[[[", "address": "10.0.0.1", "port": "x"}]'),
     'services_json[0].name', 'is not up to 64 letters'),  # brackets inside a string are no nesting
    (dict(services=[dict(address='10.0.0.1', port=80, name=nest(20))]), 'services[0].name' + '[0]' * 8,
     'nesting deeper than 10 levels'),
    (dict(services=[dict(address='10.0.0.1', port=80, name='n' * 1025)]), 'services[0].name',
     'longer than 1024 characters'),
    (dict(services=[dict(address='10.0.0.1', port=80, real_servers=[{'x' * 2000: 1}])]),
     'services[0].real_servers[0] (a key)', 'longer than 1024 characters'),
])
def test_deep_or_huge_input_is_refused_naming_the_option(kernel, args, field, text):
    host = FakeHost(netlink=True)
    failed = fail(host, args)
    assert failed['field'] == field and text in failed['msg'], failed['msg'][:300]
    assert host.calls == [] and host.netlink_sends == []  # before the host is read


def test_size_bounds(kernel, monkeypatch):
    monkeypatch.setattr(b, 'MAX_SERVICES', 3)
    monkeypatch.setattr(b, 'MAX_REAL_SERVERS', 2)
    monkeypatch.setattr(b, 'MAX_ENTRIES', 3)
    service = dict(address='10.0.0.1', port=80)
    two = [dict(address='10.0.1.1'), dict(address='10.0.1.2')]
    cases = [(dict(services=[service] * 4), 'services', 'more than 3 services'),
             (dict(services_json=json.dumps([dict(service, real_servers=two * 2)])),
              'services_json[0].real_servers', 'more than 2 real servers'),
             (dict(services=[dict(service, real_servers=two), dict(service, port=81, real_servers=two)]),
              'services', 'more than 3 real servers in all')]
    for args, field, text in cases:
        failed = fail(FakeHost(), args)
        assert failed['field'] == field and text in failed['msg']


def test_the_bounds_are_far_above_the_benchmarks():
    assert b.MAX_SERVICES >= 10 * 5000 and b.MAX_ENTRIES >= 10 * 5000 * 8 and b.MAX_REAL_SERVERS >= 1000
    services = [dict(name='svc%d' % i, address='10.%d.%d.1' % (i // 250, i % 250), port=80, forwarding='dr',
                     real_servers=[dict(address='10.200.%d.%d' % (i // 250, n), weight=1) for n in range(1, 9)])
                for i in range(5000)]
    text = json.dumps(services)
    b.check_json_text(text, 'services_json')
    b.check_services(json.loads(text), 'services_json')
