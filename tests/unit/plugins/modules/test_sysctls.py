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


def test_a_key_with_a_newline_is_no_key(proc):
    # a pattern's `$` matches before a final newline: only a full match refuses it
    with pytest.raises(AnsibleFail) as err:
        run_module(sysctls, dict(file=str(proc / 'x.conf'), values={'net.ipv4.ip_forward\n': 1}), FakeHost())
    assert err.value.args[0]['msg'].startswith("values: 'net.ipv4.ip_forward\\n' is not a sysctl key")


@pytest.mark.parametrize('values', [{'net.ipv4.nosuch': 1}, {'bad key': 1}, {'net.ipv4.ip_forward': True},
                                    {'net.ipv4.ip_forward': [1]}])
def test_bad_values_are_refused_before_anything_changes(proc, values):
    conf = proc / 'x.conf'
    with pytest.raises(AnsibleFail) as err:
        run_module(sysctls, dict(file=str(conf), values=values), FakeHost())
    assert err.value.args[0]['field'] == 'values'
    assert not conf.exists() and live(proc, 'net.ipv4.ip_forward') == '0'


def test_a_key_of_a_module_not_loaded_loads_it_and_check_mode_predicts_it(proc):
    """A fresh director: ip_vs not loaded, so net.ipv4.vs.* is missing. Check
    mode loads nothing and predicts the load and the values; the real run
    loads ip_vs (which brings the keys) and sets them."""
    vs = proc / 'proc' / 'net' / 'ipv4' / 'vs'
    for path in vs.iterdir():
        path.unlink()
    vs.rmdir()
    conf = proc / 'lvs.conf'
    args = dict(file=str(conf), values={'net.ipv4.ip_forward': 1, 'net.ipv4.vs.conn_reuse_mode': 0})

    class Modprobe(FakeHost):
        def run_command(self, argv, data=None, binary_data=False, **kwargs):
            if argv[-2:] == ['modprobe', 'ip_vs'] or argv[-1:] == ['ip_vs']:
                self.calls.append(list(argv))
                vs.mkdir()
                (vs / 'conn_reuse_mode').write_text(u'1\n')
                return 0, '', ''
            return super(Modprobe, self).run_command(argv, data, binary_data, **kwargs)

    host = Modprobe()
    checked = run_module(sysctls, args, host, check_mode=True, diff=True)
    assert host.calls == [] and not vs.exists() and not conf.exists()
    assert checked['changed'] and checked['modules_loaded'] == ['ip_vs']
    assert checked['changed_keys'] == ['net.ipv4.ip_forward', 'net.ipv4.vs.conn_reuse_mode']
    assert 'net.ipv4.vs.conn_reuse_mode = 0\n' in checked['diff'][0]['after']
    done = run_module(sysctls, args, host, diff=True)
    assert [call[-1] for call in host.calls] == ['ip_vs']
    assert done['modules_loaded'] == ['ip_vs'] and done['changed_keys'] == checked['changed_keys']
    assert live(proc, 'net.ipv4.vs.conn_reuse_mode') == '0'
    assert '# Found before: net.ipv4.vs.conn_reuse_mode = 1\n' in conf.read_text()
    again = run_module(sysctls, args, host)
    assert again['changed'] is False and again['modules_loaded'] == []


def test_a_module_that_does_not_bring_the_key_is_a_clear_error(proc):
    args = dict(file=str(proc / 'x.conf'), values={'net.ipv4.vs.no_such_key': 1})
    with pytest.raises(AnsibleFail) as err:
        run_module(sysctls, args, FakeHost())
    assert err.value.args[0]['field'] == 'values'
    assert 'no such kernel setting' in err.value.args[0]['msg'] and 'ip_vs loaded' in err.value.args[0]['msg']
    assert not (proc / 'x.conf').exists() and live(proc, 'net.ipv4.ip_forward') == '0'


@pytest.fixture
def secret(proc):
    """A file beside the fake /proc/sys that no key may reach."""
    path = proc / 'etc' / 'secret'
    path.parent.mkdir()
    path.write_text(u'SECRET-TOKEN\n')
    return path


@pytest.mark.parametrize('key', ['net.//.//.etc.secret', 'net.ipv4.//.//.//.etc.secret'])
def test_a_key_never_reaches_a_file_out_of_proc_sys(proc, secret, key):
    """Issue 29: "/" stands for a dot inside a part, so "//" was a ".." path
    component: the old value of the file outside /proc/sys went into the diff
    (check mode too) and the sysctl.d file, and the file was overwritten."""
    conf = proc / 'x.conf'
    for check_mode in (True, False):
        with pytest.raises(AnsibleFail) as err:
            run_module(sysctls, dict(file=str(conf), values={key: 1}), FakeHost(), check_mode=check_mode, diff=True)
        assert err.value.args[0]['field'] == 'values' and 'SECRET' not in str(err.value.args[0])
        assert err.value.args[0]['msg'].startswith("values: %r is not a sysctl key" % key)
    assert secret.read_text() == u'SECRET-TOKEN\n' and not conf.exists()


def test_a_key_through_a_symbolic_link_out_of_proc_sys_is_refused(proc, secret):
    os_link = proc / 'proc' / 'net' / 'ipv4' / 'evil'
    os_link.symlink_to(secret.parent)
    with pytest.raises(AnsibleFail) as err:
        run_module(sysctls, dict(file=str(proc / 'x.conf'), values={'net.ipv4.evil.secret': 1}), FakeHost(),
                   check_mode=True, diff=True)
    assert err.value.args[0]['msg'] == 'values: net.ipv4.evil.secret resolves out of %s' % sh.PROC_SYS
    assert secret.read_text() == u'SECRET-TOKEN\n'


@pytest.mark.parametrize('name, text', [('shadow', u'root:$6$hash:19000::::::\n'),
                                        ('app.conf', u'password = hunter2\n'),
                                        ('app.conf', u'[db]\nnet.ipv4.ip_forward = 1\n')])
def test_a_file_that_is_no_sysctl_d_file_is_neither_shown_nor_rewritten(proc, name, text):
    path = proc / name
    path.write_text(text)
    for check_mode in (True, False):
        with pytest.raises(AnsibleFail) as err:
            run_module(sysctls, dict(file=str(path), values={'net.ipv4.ip_forward': 1}), FakeHost(),
                       check_mode=check_mode, diff=True)
        assert err.value.args[0]['field'] == 'file' and 'hunter2' not in str(err.value.args[0])
    assert path.read_text() == text and live(proc, 'net.ipv4.ip_forward') == '0'


@pytest.mark.parametrize('value, shown', [(' 1', "' 1'"), ('1\n', "'1\\n'"), ('1\nnet.ipv4.vs.conntrack = 1', None),
                                          ('%n', None), ('\u0661', None), ('', "''")])
def test_a_value_is_checked_before_anything_changes(proc, value, shown):
    conf = proc / 'x.conf'
    with pytest.raises(AnsibleFail) as err:
        run_module(sysctls, dict(file=str(conf), values={'net.ipv4.ip_forward': value}), FakeHost())
    assert err.value.args[0]['field'] == 'values'
    assert err.value.args[0]['msg'].startswith('values[net.ipv4.ip_forward]: %s' % (shown or ''))
    assert not conf.exists() and live(proc, 'net.ipv4.ip_forward') == '0'


def test_a_port_range_is_one_value(proc):
    (proc / 'proc' / 'net' / 'ipv4' / 'ip_local_port_range').write_text(u'32768\t60999\n')
    conf = proc / 'x.conf'
    result = run_module(sysctls, dict(file=str(conf), values={'net.ipv4.ip_local_port_range': '20000\t60999'}),
                        FakeHost())
    assert result['sysctls'] == {'net.ipv4.ip_local_port_range': '20000 60999'}
    assert 'net.ipv4.ip_local_port_range = 20000 60999\n' in conf.read_text()
