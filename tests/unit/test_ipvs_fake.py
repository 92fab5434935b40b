# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The simulated host against real ipvsadm 1.31 transcripts, and proof that it
catches a planner that mixes up add and edit."""

from __future__ import annotations

import json
import re

import pytest

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_diff
from ansible_collections.lvs.cluster.plugins.modules import ipvs_dest, ipvs_service, ipvs_table
from ansible_collections.lvs.cluster.tests.unit.ipvs_fake import AnsibleFail, FakeHost, fixture_text, run_module

LAB = json.loads(fixture_text('ipvsadm_lab.json'))


def lab_host(case):
    # the connection table's size (the listings' first line) is the kernel's
    # build and state, not the IPVS table's: take the lab's
    sizes = re.findall(r'\(size=(\d+)\)', ''.join(p['stdout'] for p in case['probes']))
    host = FakeHost(conn_tab_size=int(sizes[0]) if sizes else 4096)
    for step in case['setup']:
        assert host.ipvsadm(step['argv'], step['stdin']) == (0, '', ''), step
    return host


def probe_id(case, probe):
    return '%s: ipvsadm %s' % (case['name'], ' '.join(probe['argv']))


PROBES = [(case, i) for case in LAB['cases'] for i in range(len(case['probes']))]


@pytest.mark.parametrize('case, index', PROBES, ids=[probe_id(c, c['probes'][i]) for c, i in PROBES])
def test_fake_answers_like_the_lab(case, index):
    host = lab_host(case)
    for probe in case['probes'][:index]:
        host.ipvsadm(probe['argv'], probe['stdin'])
    probe = case['probes'][index]
    rc, out, err = host.ipvsadm(probe['argv'], probe['stdin'])
    assert (rc, err) == (probe['rc'], probe['stderr'])
    assert out == probe['stdout']


@pytest.mark.parametrize('case', LAB['cases'], ids=[c['name'] for c in LAB['cases']])
def test_fake_table_after_the_probes_is_the_labs(case):
    host = lab_host(case)
    for probe in case['probes']:
        host.ipvsadm(probe['argv'], probe['stdin'])
    assert host.ipvsadm(['-S', '-n']) == (0, case['save_after'], '')


# ---------------------------------------------------------------- mutation: add <-> edit

WEB = dict(address='198.51.100.100', port=80, scheduler='wrr', forwarding='nat',
           real_servers=[dict(address='203.0.113.11', weight=3), dict(address='203.0.113.12', port=8080)])
RS = dict(virtual_address='10.0.0.1', virtual_port=80, address='192.168.1.10', port=8080)


def full_host():
    return FakeHost(fixture_text('ipvsadm_save_full.txt'), fixture_text('ipvsadm_list_thresholds.txt'))


# (module, args, host factory, kernel's answer once the planner's switches are swapped)
DEST_SCENARIOS = {
    'table: new real servers': (ipvs_table, dict(services=[WEB]), FakeHost, 'No such destination'),
    'table: new threshold': (ipvs_table, dict(services=[dict(
        address='10.0.0.1', port=80, scheduler='wrr', forwarding='nat', real_servers=[dict(
            address='192.168.1.10', port=8080, weight=3, u_threshold=200, l_threshold=50)])]),
        full_host, 'Destination already exists'),
    'service: new real servers': (ipvs_service, dict(address='10.0.0.9', port=80, real_servers=[
        dict(address='192.168.1.10', port=8080, forwarding='nat')]), FakeHost, 'No such destination'),
    'service: new weight': (ipvs_service, dict(address='10.0.0.1', port=80, real_servers=[
        dict(address='192.168.1.10', port=8080, weight=9)]), full_host, 'Destination already exists'),
    'dest: add': (ipvs_dest, dict(RS, address='192.168.1.12', forwarding='nat'), full_host, 'No such destination'),
    'dest: edit': (ipvs_dest, dict(RS, weight=5), full_host, 'Destination already exists'),
}
SERVICE_SCENARIOS = {
    'table: new service': (ipvs_table, dict(services=[WEB]), FakeHost, 'No such service'),
    'table: new scheduler': (ipvs_table, dict(services=[dict(address='10.0.0.1', port=80, scheduler='lc')]),
                             full_host, 'Service already exists'),
    'service: new service': (ipvs_service, dict(address='10.0.0.9', port=80), FakeHost, 'No such service'),
    'service: persistence off': (ipvs_service, dict(address='10.0.0.1', port=443, persistent=False),
                                 full_host, 'Service already exists'),
}
SWAPS = {'dest': {'add_dest': '-e', 'edit_dest': '-a'}, 'service': {'add_service': '-E', 'edit_service': '-A'}}
CASES = [('dest', name) for name in DEST_SCENARIOS] + [('service', name) for name in SERVICE_SCENARIOS]


def scenario(kind, name):
    return (DEST_SCENARIOS if kind == 'dest' else SERVICE_SCENARIOS)[name]


@pytest.mark.parametrize('kind, name', CASES, ids=['%s %s' % c for c in CASES])
def test_scenario_applies_with_the_right_switches(kernel, kind, name):
    module, args, make_host, _refusal = scenario(kind, name)
    host = make_host()
    assert run_module(module, args, host)['changed'] is True
    assert run_module(module, args, host)['changed'] is False


@pytest.mark.parametrize('kind, name', CASES, ids=['%s %s' % c for c in CASES])
def test_swapped_add_and_edit_are_refused(kernel, monkeypatch, kind, name):
    module, args, make_host, refusal = scenario(kind, name)
    monkeypatch.setattr(ipvs_diff.Op, 'COMMAND', dict(ipvs_diff.Op.COMMAND, **SWAPS[kind]))
    with pytest.raises(AnsibleFail) as err:
        run_module(module, args, make_host())
    assert err.value.args[0]['msg'].startswith('the kernel refused')
    assert err.value.args[0]['refused'][0].endswith(': ' + refusal)
