# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles' task files read in the order Ansible runs them: the lock first, records before changes,
least change.

Each entry point is flattened (blocks, their always sections, and the task files
it imports or includes by a fixed name) into the tasks a run meets, in order.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.lvs.cluster.plugins.modules import ipvs_table
from ansible_collections.lvs.cluster.plugins.plugin_utils import role_settings as rs
from ansible_collections.lvs.cluster.plugins.plugin_utils import director
from ansible_collections.lvs.cluster.tests.unit.ipvs_fake import FakeHost, run_module

ROOT = Path(__file__).resolve().parents[2]
ROLES = ROOT / 'roles'
INCLUDES = ('ansible.builtin.import_tasks', 'ansible.builtin.include_tasks', 'import_tasks', 'include_tasks')
# tasks that run on the controller only, or read nothing of the host
CONTROLLER = ('ansible.builtin.set_fact', 'ansible.builtin.assert', 'ansible.builtin.fail', 'ansible.builtin.debug')
# what changes a host (the roles' modules and the builtins they write with)
CHANGES = ('lvs.cluster.vip_address', 'lvs.cluster.arp_sysctl', 'lvs.cluster.ipvs_table', 'lvs.cluster.sysctls',
           'ansible.builtin.copy', 'ansible.builtin.template', 'ansible.builtin.file', 'ansible.builtin.apt',
           'ansible.builtin.package', 'ansible.builtin.lineinfile', 'ansible.builtin.service',
           'ansible.builtin.systemd_service', 'ansible.builtin.command')


def module_of(task):
    return next((key for key in task if '.' in key or key in INCLUDES), None)


def flatten(role, name, section='tasks'):
    """[(task, section)] of tasks/<name> as a run meets them; section is 'always' inside an always."""
    out = []
    for task in yaml.safe_load((ROLES / role / 'tasks' / name).read_text()) or []:
        if 'block' in task:
            for part in ('block', 'rescue', 'always'):
                for sub in task.get(part) or []:
                    out += _expand(role, sub, 'always' if part == 'always' else section)
        else:
            out += _expand(role, task, section)
    return out


def _expand(role, task, section):
    module = module_of(task)
    if module in INCLUDES:
        target = task[module] if isinstance(task[module], str) else task[module]['file']
        if '{{' not in target and (ROLES / role / 'tasks' / target).exists():
            return [(task, section)] + flatten(role, target, section)
    if 'block' in task:
        out = []
        for part in ('block', 'rescue', 'always'):
            for sub in task.get(part) or []:
                out += _expand(role, sub, 'always' if part == 'always' else section)
        return out
    return [(task, section)]


def index(tasks, predicate, what):
    found = [i for i, (task, _s) in enumerate(tasks) if predicate(task)]
    assert found, 'no task %s' % what
    return found[0]


def writes(record):
    return lambda task: module_of(task) == 'ansible.builtin.copy' and record in task[module_of(task)]['dest']


def is_module(name, **args):
    return lambda task: module_of(task) == name and all(task[name].get(k) == v for k, v in args.items())


# ---------------------------------------------------------------- the lock

ENTRY_POINTS = [('director', 'main.yml')] + [(role, name) for role in ('realserver_dr', 'realserver_tun', 'realserver_nat')
                                             for name in ('main.yml', 'leave.yml')]


@pytest.mark.parametrize('role, entry', ENTRY_POINTS)
def test_each_entry_point_takes_the_lock_before_it_reads_the_host_and_releases_it_always(role, entry):
    tasks = flatten(role, entry)
    first = next(i for i, (task, _s) in enumerate(tasks) if module_of(task) not in CONTROLLER + INCLUDES)
    task, section = tasks[first]
    assert module_of(task) == 'lvs.cluster.run_lock' and task['lvs.cluster.run_lock'].get('state', 'present') == 'present', \
        '%s/%s: the first task on the host is %r, not the lock' % (role, entry, task.get('name'))
    assert section == 'tasks'
    released = [i for i, (task, section) in enumerate(tasks)
                if module_of(task) == 'lvs.cluster.run_lock' and task['lvs.cluster.run_lock'].get('state') == 'absent']
    assert len(released) == 1 and tasks[released[0]][1] == 'always' and released[0] == len(tasks) - 1
    # every task between them is inside the block whose always releases it
    assert all(section == 'always' for _t, section in tasks[released[0]:])
    holder = {task['lvs.cluster.run_lock']['holder'] for task, _s in tasks if module_of(task) == 'lvs.cluster.run_lock'}
    assert holder == {'{{ __lvs_run_id }}'}  # one holder per run on a host, in every role: no role waits for another


@pytest.mark.parametrize('role', ['director', 'realserver_dr', 'realserver_tun', 'realserver_nat'])
def test_the_lock_settings_are_role_variables_checked_and_documented(role):
    spec = yaml.safe_load((ROLES / role / 'meta' / 'argument_specs.yml').read_text())['argument_specs']['main']['options']
    defaults = yaml.safe_load((ROLES / role / 'defaults' / 'main.yml').read_text())
    for name, value in (('timeout', 900), ('lease', 600)):
        var = '%s_lock_%s' % (role, name)
        assert spec[var]['type'] == 'int' and spec[var]['default'] == defaults[var] == value
        # checked with every role variable, first in the role, and its range declared
        with pytest.raises(AnsibleFilterError, match='^%s: must be' % var):
            rs.check_settings({var: -1})
        assert rs.check_settings({var: value}) == {var: value}
    first = [task for task, _s in flatten(role, 'main.yml')][:2]
    assert any('lvs.cluster.checked_settings' in json.dumps(task) and '__lvs_run_id' in json.dumps(task)
               for task in first), '%s: the settings are not checked first' % role


# ---------------------------------------------------------------- records before changes

def test_director_records_its_vips_before_it_carries_them_and_trims_after():
    tasks = flatten('director', 'static.yml')
    before = index(tasks, writes('__director_vips_file'), 'writing the VIPs record')
    carry = index(tasks, lambda t: module_of(t) == 'lvs.cluster.vip_address'
                  and t['lvs.cluster.vip_address'].get('state') != 'absent', 'carrying the VIPs')
    remove = index(tasks, is_module('lvs.cluster.vip_address', state='absent'), 'removing VIPs')
    assert before < remove and before < carry
    assert '__director_vips_during_text' in tasks[before][0]['ansible.builtin.copy']['content']
    trims = [i for i, (t, _s) in enumerate(tasks) if writes('__director_vips_file')(t)]
    assert trims[-1] > max(carry, remove)


def test_director_records_the_services_it_will_create_before_the_table_changes():
    tasks = flatten('director', 'static.yml')
    table = index(tasks, lambda t: module_of(t) == 'lvs.cluster.ipvs_table', 'converging the table')
    records = [i for i, (t, _s) in enumerate(tasks) if writes('__director_owned_file')(t)]
    assert records and records[0] < table < records[-1]
    assert '__director_owned_during_text' in tasks[records[0]][0]['ansible.builtin.copy']['content']
    variables = yaml.safe_load((ROLES / 'director' / 'vars' / 'main.yml').read_text())
    assert "__director['service_keys']" in variables['__director_owned_during_text']


def test_director_records_the_engine_before_it_applies_the_table():
    tasks = flatten('director', 'main.yml')
    apply = index(tasks, lambda t: module_of(t) in INCLUDES and 'engine' in str(t[module_of(t)]),
                  'including the engine')
    records = [i for i, (t, _s) in enumerate(tasks) if writes('__director_engine_marker')(t)]
    assert records and records[0] < apply < records[-1]


@pytest.mark.parametrize('role', ['realserver_dr', 'realserver_tun'])
def test_real_servers_record_their_vips_before_any_change(role):
    tasks = flatten(role, 'main.yml')
    # the record of this run (the removal's own trims the record after it removed)
    record = index(tasks, lambda t: writes('__%s_vips_file' % role)(t)
                   and '__%s_record_wanted' % role in t['ansible.builtin.copy']['content'], 'writing the record')
    # what the record lets a later run find and remove: VIPs, their ARP and rp_filter settings, modules at boot
    changes = [i for i, (t, _s) in enumerate(tasks) if module_of(t) in ('lvs.cluster.vip_address', 'lvs.cluster.arp_sysctl')
               and t[module_of(t)].get('state', 'present') == 'present'
               or (writes('/etc/modules-load.d/')(t))]
    assert changes and record < min(changes)


def test_the_nat_real_server_records_routes_before_it_replaces_them():
    tasks = flatten('realserver_nat', 'main.yml')
    record = index(tasks, writes('__realserver_nat_file'), 'writing the record')
    route = index(tasks, lambda t: 'route' in json.dumps(t.get('ansible.builtin.command', {}))
                  and 'replace' in json.dumps(t.get('ansible.builtin.command', {})) and 'via' in json.dumps(t),
                  'replacing a route')
    assert record < route


def test_the_keys_recorded_first_are_the_keys_ipvs_table_returns(kernel):
    """What the role records before the change is what it trims to after: no key churns, none is lost."""
    model = [dict(address='2001:DB8:0:0::100', port=443, protocol='tcp', real_servers=[dict(address='2001:db8::11')]),
             dict(address='198.51.100.100', port=53, protocol='udp', real_servers=[dict(address='203.0.113.11')]),
             dict(fwmark=7, family='ipv6', vips=['2001:db8::101'], real_servers=[dict(address='2001:db8::12')]),
             dict(address='198.51.100.100', port=80, state='absent'),
             dict(address='[2001:db8::200]', port=8080, real_servers=[])]
    view = director.director_view(model, {})
    result = run_module(ipvs_table, dict(services_json=view['services_json'], return_table=False),
                        FakeHost(), check_mode=True)
    assert view['service_keys'] == result['keys'] and len(result['keys']) == 4


# ---------------------------------------------------------------- least change

def _file_absent_paths(role):
    for path in sorted((ROLES / role / 'tasks').glob('*.yml')):
        for task, _s in flatten(role, path.name):
            module = module_of(task)
            if module == 'ansible.builtin.file' and task[module].get('state') == 'absent':
                items = task.get('loop') if '{{ item }}' in task[module]['path'] else [task[module]['path']]
                for item in items if isinstance(items, list) else [items]:
                    yield path.name, task.get('name'), item


@pytest.mark.parametrize('role', ['director', 'realserver_dr', 'realserver_tun', 'realserver_nat'])
def test_no_folder_is_removed_with_what_others_keep_in_it(role):
    """A folder goes with rmdir, only when empty: `file: state=absent` on it deletes everything inside."""
    folders = [(name, task, item) for name, task, item in _file_absent_paths(role)
               if re.search(r'\|\s*dirname|/etc/lvs-cluster\s*$|/var/lib/lvs-cluster\s*$', str(item))]
    assert not folders


def test_tun_relaxes_rp_filter_only_where_the_decapsulated_packets_arrive():
    """The role passes the NIC for its ARP settings; arp_sysctl in tun mode leaves its rp_filter alone."""
    tasks = flatten('realserver_tun', 'main.yml')
    arp = [t['lvs.cluster.arp_sysctl'] for t, _s in tasks if module_of(t) == 'lvs.cluster.arp_sysctl'
           and t['lvs.cluster.arp_sysctl'].get('state', 'present') == 'present']
    assert [a['mode'] for a in arp] == ['tun']
    # the module's own behaviour: tests/unit/plugins/modules/test_arp_sysctl.py (the NIC keeps its rp_filter)


# ---------------------------------------------------------------- interfaces, from the facts, first

@pytest.mark.parametrize('role, variable', [('realserver_dr', 'realserver_dr_interface'),
                                            ('realserver_dr', 'realserver_dr_arp_interfaces'),
                                            ('realserver_tun', 'realserver_tun_nic')])
def test_an_interface_variable_is_checked_from_the_facts_before_the_host_is_touched(role, variable):
    tasks = flatten(role, 'main.yml')
    check = index(tasks, lambda t: module_of(t) == 'ansible.builtin.assert'
                  and str(t['ansible.builtin.assert'].get('fail_msg', '')).startswith(variable + ':')
                  and "ansible_facts['interfaces']" in json.dumps(t), 'checking %s' % variable)
    first = next(i for i, (t, _s) in enumerate(tasks) if module_of(t) not in CONTROLLER + INCLUDES)
    assert check < first
