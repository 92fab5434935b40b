# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.lvs.cluster.plugins.module_utils import sysctl_helpers as sh
from ansible_collections.lvs.cluster.plugins.modules import sysctls
from ansible_collections.lvs.cluster.tests.unit.ipvs_fake import AnsibleFail, FakeHost, run_module


@pytest.fixture
def proc(tmp_path, monkeypatch):
    root = tmp_path / 'proc'
    for key, value in (('net/ipv4/ip_forward', '0'), ('net/ipv4/vs/conntrack', '0'),
                       ('net/ipv4/vs/expire_nodest_conn', '0')):
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_text(u'%s\n' % value)
    monkeypatch.setattr(sh, 'PROC_SYS', str(root))
    return tmp_path


def live(proc, key):
    return (proc / 'proc' / key.replace('.', '/')).read_text().strip()


def test_set_record_restore(proc):
    conf = proc / '90-lvs-director.conf'
    args = dict(file=str(conf), values={'net.ipv4.ip_forward': 1, 'net.ipv4.vs.conntrack': '1'})
    checked = run_module(sysctls, args, FakeHost(), check_mode=True, diff=True)
    assert not conf.exists() and live(proc, 'net.ipv4.ip_forward') == '0'
    first = run_module(sysctls, args, FakeHost(), diff=True)
    assert checked['changed_keys'] == first['changed_keys'] == ['net.ipv4.ip_forward', 'net.ipv4.vs.conntrack']
    assert checked['diff'] == first['diff']
    assert live(proc, 'net.ipv4.ip_forward') == '1'
    text = conf.read_text()
    assert '# Found before: net.ipv4.ip_forward = 0\n' in text and 'net.ipv4.ip_forward = 1\n' in text
    assert run_module(sysctls, args, FakeHost())['changed'] is False
    # a key that leaves the values goes back at once
    fewer = run_module(sysctls, dict(args, values={'net.ipv4.ip_forward': 1}), FakeHost())
    assert fewer['changed_keys'] == ['net.ipv4.vs.conntrack'] and live(proc, 'net.ipv4.vs.conntrack') == '0'
    assert 'conntrack' not in conf.read_text()
    gone = run_module(sysctls, dict(args, state='absent'), FakeHost())
    assert gone['changed_keys'] == ['net.ipv4.ip_forward'] and live(proc, 'net.ipv4.ip_forward') == '0'
    assert not conf.exists()
    assert run_module(sysctls, dict(args, state='absent'), FakeHost())['changed'] is False


@pytest.mark.parametrize('values', [{'net.ipv4.nosuch': 1}, {'bad key': 1}, {'net.ipv4.ip_forward': True},
                                    {'net.ipv4.ip_forward': [1]}])
def test_bad_values_are_refused_before_anything_changes(proc, values):
    conf = proc / 'x.conf'
    with pytest.raises(AnsibleFail) as err:
        run_module(sysctls, dict(file=str(conf), values=values), FakeHost())
    assert err.value.args[0]['field'] == 'values'
    assert not conf.exists() and live(proc, 'net.ipv4.ip_forward') == '0'
