# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The director's VRRP settings: checked with the role variable named, rendered, judged by keepalived;
the password never in keepalived.conf, a diff, a fact or an error."""

from __future__ import annotations

import os

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core before 2.19 trusts every template
    def trust_as_template(text):
        return text

from ansible_collections.lvs.cluster.plugins.plugin_utils import keepalived_vrrp as kv
from ansible_collections.lvs.cluster.tests.unit.format_tools import keepalived_test
from ansible_collections.lvs.cluster.tests.unit.keepalived_text import blocks, parse, settings

ROLE = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'roles', 'director')
PASSWORD = 'Pa55-w0r'

BASE = {
    'director_vrrp_instance': 'LVS', 'director_vrrp_interface': 'eth0', 'director_vip_interface': 'eth1',
    'director_vrrp_router_id': 51, 'director_vrrp_priority': 190, 'director_vrrp_version': 3,
    'director_vrrp_advert_int': 0.5, 'director_vrrp_preempt': True, 'director_vrrp_preempt_delay': 0,
    'director_vrrp_auth_pass': '', 'director_vrrp_unicast': False, 'director_vrrp_unicast_peers': [],
    'director_vrrp_extra_addresses': [], 'director_lvs_sync': True, 'director_lvs_sync_id': 51,
    'director_vips': ['198.51.100.100', '198.51.100.101/24', '2001:DB8::0:100'],
    'inventory_hostname': 'director1', '__director_vrrp_index': 1, '__director_vrrp_src_ip': '192.0.2.11',
    '__director_vrrp_auth_file': '/TESTDIR/auth.conf',
}
AUTH = dict(BASE, director_vrrp_version=2, director_vrrp_advert_int=1, director_vrrp_auth_pass=PASSWORD,
            director_vrrp_unicast=True, director_vrrp_unicast_peers=['192.0.2.12', '192.0.2.12', '192.0.2.13'],
            director_vrrp_extra_addresses=['203.0.113.1/24 dev eth2', '203.0.113.2'])


def _judge(found, interfaces=('eth0', 'eth1', 'eth2')):
    files = [('auth.conf', _auth_file_text(PASSWORD))] if found['auth'] else []
    return keepalived_test(found['conf'], files=files, interfaces=interfaces)


def _tasks(name):
    with open(os.path.join(ROLE, 'tasks', name)) as handle:
        return yaml.safe_load(handle)


def _auth_task():
    found = [task for task in _tasks('keepalived.yml') if 'director_vrrp_auth_pass' in str(task)]
    assert len(found) == 1, found
    return found[0]


def _auth_file_text(password):
    """The password file as the role's task writes it."""
    content = _auth_task()['ansible.builtin.copy']['content']
    return Templar(loader=DataLoader(), variables={'director_vrrp_auth_pass': password}).template(
        trust_as_template(content))


def test_the_settings_come_back_canonical_and_keepalived_accepts_them():
    found = kv.vrrp_settings(BASE)
    assert found['addresses'] == ['198.51.100.100/32 dev eth1', '198.51.100.101/24 dev eth1']
    assert found['excluded'] == ['2001:db8::100/128 dev eth1']
    assert found['advert_int'] == '0.5' and found['auth'] is False
    top = parse(found['conf'])
    assert settings(top[0][2]) == {'router_id': 'director1', 'enable_script_security': '', 'script_user': 'root',
                                   'lvs_sync_daemon': 'eth0 inst LVS id 51'}
    instance = blocks(top, 'vrrp_instance')[('LVS',)]
    assert settings(instance) == {'state': 'BACKUP', 'interface': 'eth0', 'virtual_router_id': '51',
                                  'priority': '190', 'version': '3', 'advert_int': '0.5'}
    assert _judge(found) == (0, '')


def test_the_password_is_included_from_its_file_and_keepalived_reads_it():
    found = kv.vrrp_settings(AUTH)
    assert PASSWORD not in repr(found)
    assert found['unicast_peers'] == ['192.0.2.12', '192.0.2.13']
    assert found['addresses'][-2:] == ['203.0.113.1/24 dev eth2', '203.0.113.2/32 dev eth0']
    instance = blocks(parse(found['conf']), 'vrrp_instance')[('LVS',)]
    assert settings(instance)['include'] == '/TESTDIR/auth.conf' and 'auth_pass' not in found['conf']
    assert settings(instance)['unicast_src_ip'] == '192.0.2.11'
    assert _judge(found) == (0, '')
    # keepalived reads the password from the file: a wrong block there fails its test
    code, messages = keepalived_test(found['conf'], files=[('auth.conf', 'authentication {\n auth_type NOPE\n}\n')],
                                     interfaces=('eth0', 'eth1', 'eth2'))
    assert code != 0 and "auth.conf: Line 2) (LVS) unknown authentication type 'NOPE'" in messages


@pytest.mark.parametrize('index, preempt, delay, state, extra', [
    (0, True, 0, 'MASTER', None), (1, True, 0, 'BACKUP', None), (0, False, 0, 'BACKUP', 'nopreempt'),
    (0, True, 30, 'BACKUP', 'preempt_delay')])
def test_the_first_director_starts_as_master_unless_it_waits(index, preempt, delay, state, extra):
    found = kv.vrrp_settings(dict(BASE, __director_vrrp_index=index, director_vrrp_preempt=preempt,
                                  director_vrrp_preempt_delay=delay))
    instance = settings(blocks(parse(found['conf']), 'vrrp_instance')[('LVS',)])
    assert instance['state'] == state
    assert extra is None or extra in instance


@pytest.mark.parametrize('change, message', [
    (dict(director_vrrp_instance='LVS\n}\ninclude /tmp/x'), r'^director_vrrp_instance: must be 1 to 64'),
    (dict(director_vrrp_instance='LVS {'), r'^director_vrrp_instance: '),
    (dict(director_vrrp_interface='eth0\n'), r'^director_vrrp_interface: must be an interface name'),
    (dict(director_vrrp_interface='a-name-longer-than-15'), r'^director_vrrp_interface: '),
    (dict(director_vip_interface='eth0 dev lo'), r'^director_vip_interface: '),
    (dict(director_vrrp_router_id=0), r'^director_vrrp_router_id: must be a whole number 1 to 255, got 0'),
    (dict(director_vrrp_router_id='51 '), r'^director_vrrp_router_id: '),
    (dict(director_vrrp_router_id=True), r'^director_vrrp_router_id: '),
    (dict(director_vrrp_priority=255), r'^director_vrrp_priority: must be a whole number 1 to 254'),
    (dict(director_vrrp_version=4), r'^director_vrrp_version: '),
    (dict(director_vrrp_version=2), r'^director_vrrp_advert_int: VRRP version 2 takes whole seconds'),
    (dict(director_vrrp_advert_int=0.005), r'^director_vrrp_advert_int: must be 0.01 to 40.95'),
    (dict(director_vrrp_advert_int=41), r'^director_vrrp_advert_int: '),
    (dict(director_vrrp_advert_int='1\n'), r'^director_vrrp_advert_int: '),
    (dict(director_vrrp_preempt='yes please'), r'^director_vrrp_preempt: must be true or false'),
    (dict(director_vrrp_preempt_delay=-1), r'^director_vrrp_preempt_delay: '),
    (dict(director_vrrp_auth_pass='ninechars'), r'^director_vrrp_auth_pass: .*got 9 characters \(not shown\)'),
    (dict(director_vrrp_auth_pass='a\nb'), r'^director_vrrp_auth_pass: '),
    (dict(director_vrrp_auth_pass='a}b'), r'^director_vrrp_auth_pass: '),
    (dict(director_vrrp_auth_pass='abc'), r'^director_vrrp_auth_pass: needs director_vrrp_version 2'),
    (dict(director_vrrp_unicast=True), r'^director_vrrp_unicast_peers: director_vrrp_unicast needs'),
    (dict(director_vrrp_unicast_peers='192.0.2.12'), r'^director_vrrp_unicast_peers: must be a list'),
    (dict(director_vrrp_unicast_peers=['192.0.2.12\n}']), r'^director_vrrp_unicast_peers: '),
    (dict(director_vrrp_unicast_peers=['fe80::1%eth0']), r'^director_vrrp_unicast_peers: '),
    (dict(director_vrrp_unicast=True, director_vrrp_unicast_peers=['2001:db8::12']), r'^director_vrrp_unicast_peers: .*not an IPv4 address'),
    (dict(director_vrrp_extra_addresses=['203.0.113.1/24 dev eth1 label x']), r'^director_vrrp_extra_addresses: '),
    (dict(director_vrrp_extra_addresses=['203.0.113.1/33']), r'^director_vrrp_extra_addresses: .*prefix'),
    (dict(director_vrrp_extra_addresses=['203.0.113.1/24  dev eth1']), r'^director_vrrp_extra_addresses: '),
    (dict(director_vrrp_extra_addresses=['203.0.113.1/24 dev eth1\n}']), r'^director_vrrp_extra_addresses: '),
    (dict(director_vrrp_extra_addresses='203.0.113.1/24'), r'^director_vrrp_extra_addresses: must be a list'),
    (dict(director_vips=['::ffff:198.51.100.1']), r'^director_vips: .*IPv4-mapped'),
    (dict(director_vips=['198.51.100.1/24\n']), r'^director_vips: '),
    (dict(director_lvs_sync_id=256), r'^director_lvs_sync_id: '),
    (dict(inventory_hostname='director 1'), r'^inventory_hostname \(router_id\): '),
])
def test_a_bad_setting_is_refused_naming_the_role_variable(change, message):
    with pytest.raises(AnsibleFilterError, match=message) as err:
        kv.vrrp_settings(dict(BASE, **change))
    password = change.get('director_vrrp_auth_pass')
    assert not password or password not in str(err.value)


def test_version_2_needs_an_ipv4_vip():
    with pytest.raises(AnsibleFilterError, match=r'^director_vrrp_version: 2 carries IPv4 adverts'):
        kv.vrrp_settings(dict(BASE, director_vrrp_version=2, director_vrrp_advert_int=1, director_vips=['2001:db8::1']))


def test_numbers_and_booleans_written_as_text_by_older_templating_are_read():
    found = kv.vrrp_settings(dict(BASE, director_vrrp_priority='190', director_vrrp_advert_int='1.50',
                                  director_vrrp_preempt='False'))
    assert (found['priority'], found['advert_int'], found['preempt']) == (190, '1.5', False)


# -- the finding: the password in --diff ---------------------------------------------------------------------------

def _render_role_template(values):
    """keepalived.conf as the role's template renders it, with the variables both its versions read."""
    with open(os.path.join(ROLE, 'templates', 'keepalived.conf.j2')) as handle:
        source = handle.read()
    variables = {key: value for key, value in values.items() if not key.startswith('__') or key == '__director_vips'}
    variables.update(ansible_managed='Ansible managed', director_keepalived_extra_config='',
                     __director_keepalived_conf='', __director_vips=values['director_vips'],
                     __director_vrrp_index=values['__director_vrrp_index'],
                     __director_vrrp_src_ip=values['__director_vrrp_src_ip'],
                     __director_vrrp=kv.vrrp_settings(values) if hasattr(kv, 'vrrp_settings') else {})
    return Templar(loader=DataLoader(), variables=variables).template(trust_as_template(source))


def test_keepalived_conf_and_its_diff_never_hold_the_password():
    text = _render_role_template(AUTH)
    assert PASSWORD not in text
    assert 'include /TESTDIR/auth.conf' in text
    assert keepalived_test(text, files=[('auth.conf', _auth_file_text(PASSWORD))],
                           interfaces=('eth0', 'eth1', 'eth2')) == (0, '')


def test_only_a_task_without_diff_or_output_writes_the_password_to_a_file_only_root_reads():
    task = task_found = _auth_task()
    assert task['no_log'] is True and task['diff'] is False
    assert task['ansible.builtin.copy']['mode'] == '0600' and task['ansible.builtin.copy']['owner'] == 'root'
    assert PASSWORD in _auth_file_text(PASSWORD)
    # no other task of the role reads the password (main.yml hands it to the check, which returns none of it)
    for name in sorted(os.listdir(os.path.join(ROLE, 'tasks'))):
        for task in _tasks(name):
            if 'director_vrrp_auth_pass' in str(task) and task != task_found:
                assert name == 'main.yml' and 'lvs.cluster.vrrp_settings' in str(task), (name, task)
    # the role's argument spec masks it too
    with open(os.path.join(ROLE, 'meta', 'argument_specs.yml')) as handle:
        spec = yaml.safe_load(handle)['argument_specs']['main']['options']
    assert spec['director_vrrp_auth_pass']['no_log'] is True


def test_a_keepalived_conf_holding_a_password_is_replaced_without_a_diff():
    """An older release wrote the password into keepalived.conf: the diff's before side would show it."""
    tasks = [task for task in _tasks('keepalived.yml') if 'ansible.builtin.template' in task]
    assert sorted((task.get('diff', True), task['when']) for task in tasks) == [
        (False, '__director_conf_password.rc == 0'), (True, '__director_conf_password.rc != 0')]
    grep = [task for task in _tasks('keepalived.yml') if task.get('register') == '__director_conf_password'][0]
    assert grep['ansible.builtin.command']['argv'][:2] == ['grep', '-q']  # says whether, never what


def test_unused_peers_of_the_other_family_are_no_error():
    # an IPv6-only instance without unicast: the default peers (the other directors' IPv4 addresses) go unused
    values = dict(BASE, director_vips=['2001:db8::100'], director_vrrp_version=3, director_vrrp_auth_pass='',
                  director_vrrp_unicast=False, director_vrrp_unicast_peers=['198.51.100.2'])
    assert kv.vrrp_settings(values)['family'] == 'ipv6'
    with pytest.raises(AnsibleFilterError, match='director_vrrp_unicast_peers: 198.51.100.2 is not an IPv6'):
        kv.vrrp_settings(dict(values, director_vrrp_unicast=True))
