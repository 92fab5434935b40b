# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 29, sysctl keys and values: a key names a file under /proc/sys and nothing else;
hostile keys, values, interfaces and files are refused naming the field, before
anything is read or written, in check mode (with its diff) as in a real run."""

from __future__ import annotations

import os

import pytest

from ansible_collections.lvs.cluster.plugins.module_utils import sysctl_helpers as sh
from ansible_collections.lvs.cluster.plugins.modules import arp_sysctl, sysctls
from ansible_collections.lvs.cluster.tests.unit.ipvs_fake import AnsibleFail, FakeHost, run_module

CONTROL = [chr(c) for c in range(0x20)] + ['\x7f']
SECRET = u'SECRET-TOKEN\n'


def every_position(base, chars):
    return [base[:i] + c + base[i:] for c in chars for i in range(len(base) + 1)]


def hostile_keys():
    keys = every_position('net.ipv4.ip_forward', CONTROL)
    # parts that are empty or dots, as dots or as slashes (a "/" stands for a "." inside a part)
    for depth in range(1, 7):
        for prefix in ('net', 'net.ipv4', 'net.ipv4.conf.lo'):
            keys += [prefix + './/' * depth + '.etc.secret', prefix + './' * depth + '.ip_forward',
                     prefix + '.' * (depth + 1) + 'ip_forward', prefix + '/..' * depth + '/etc/secret',
                     prefix + '.' + '../' * depth + 'etc.secret']
    keys += ['../../etc/passwd', 'net/ipv4/../../x', 'net.ipv4.', '/etc/x', 'net..ipv4', '.net.ipv4', 'net.ipv4..',
             'net', 'net.', '.', '..', '', 'net.ipv4.conf.eth0/../x', 'net.ipv4.conf./eth0.x', 'net.ipv4.conf.eth0/.x',
             'net/ipv4/ip_forward', 'kernel/domainname', '-net.ipv4.ip_forward', '!net.ipv4.ip_forward',
             'net.ipv4.*', 'net.ipv4.ip_forwar?', 'net.ipv4.[i]p_forward', 'net.ipv4.ip_forward ', ' net.ipv4.ip_forward',
             'net.ipv4.ip forward', 'net.ipv4.ip_forward=1', 'net.ipv4.ip_forward#', 'net.ipv4.ip_forward;x',
             'net.ipv4.%i', 'net.ipv4.$HOME', 'net.ipv4.${x}', 'net.ipv4.ip_forward\\', 'net.ipv4."x"', "net.ipv4.'x'",
             'net.ipv4.' + 'x' * 300, 'net.' + '.'.join(['a'] * 200), 'net.ipv4.ip_f\u043erward', 'n\u0435t.ipv4.x',
             'net.ipv4.ip_forward\u2028', 'net.ipv4.ip_forward\x85', 'net.ipv4\u2024ip_forward', 'net.ipv4.\uff10',
             'net.ipv4.ip_forward\u200b', 'net.ipv4.ip_forward\xa0', 'net.ipv4.conf.eth0:1.rp_filter']
    return keys


def hostile_values():
    # a tab between words separates them (ip_local_port_range prints one): only around the value is it hostile
    others = [c for c in CONTROL if c != '\t']
    values = every_position('1', others) + every_position('32768 60999', others) + ['\t1', '1\t', '\t32768 60999']
    values += ['1' + tail for tail in ('\nnet.ipv4.vs.conntrack = 1', '\n[x]', '\r\n', ' ', '\t', ' =1', '=', '#', ';x',
                                       '%', '%n', '$HOME', '${x}', '\\', '\\n', '"', "'", '`id`', '$(id)', '|sh', '&',
                                       '*', '?', '\xa0', '\u200b', '\u2028', '\x85', '!', '<', '>', '(', ')', '{', '}')]
    values += ['', ' ', ' 1', '1  ', '"1"', "'1'", '1' * 2000, 'x ' * 600, 10 ** 2000, -10 ** 1100, True, False, None,
               [1], {'a': 1}, '\u0661', '\uff11', '\u00b9', '\u2460', '1\u00a02', '\u0031\u0301']
    return values


def hostile_interfaces():
    names = every_position('eth0.100', CONTROL)
    names += ['eth0.100' + tail for tail in ('/', '/..', ' ', ':1', '%x', '$x', '\\', '"', "'", ';', '#', '*', '=', '\u200b')]
    names += ['.', '..', '...', '/', '../..', 'eth0..1', '.eth0', 'eth0.', '-eth0', 'a' * 16, 'x' * 4096, '',
              '\u0435th0', 'eth\uff10', 'all', 'default']
    return names


@pytest.fixture
def fs(tmp_path, monkeypatch):
    """A fake /proc/sys and /sys/class/net, a secret beside them, and a spy on every open() of sysctl_helpers."""
    proc = tmp_path / 'proc'
    for key in ('net/ipv4/ip_forward', 'net/ipv4/ip_local_port_range', 'net/ipv4/conf/all/arp_ignore',
                'net/ipv4/conf/all/arp_announce', 'net/ipv4/conf/lo/arp_ignore', 'net/ipv4/conf/lo/arp_announce'):
        (proc / key).parent.mkdir(parents=True, exist_ok=True)
        (proc / key).write_text(u'0\n')
    (tmp_path / 'net' / 'lo').mkdir(parents=True)
    (tmp_path / 'etc').mkdir()
    (tmp_path / 'etc' / 'secret').write_text(SECRET)
    (proc / 'net' / 'ipv4' / 'conf' / 'evil').symlink_to(tmp_path / 'etc')
    monkeypatch.setattr(sh, 'PROC_SYS', str(proc))
    monkeypatch.setattr(sh, 'SYS_CLASS_NET', str(tmp_path / 'net'))
    opened = []

    def spy(path, *args, **kwargs):
        opened.append(path)
        return open(path, *args, **kwargs)

    monkeypatch.setattr(sh, 'open', spy, raising=False)
    return tmp_path, opened


def snapshot(root):
    out = {}
    for base, dirs, files in os.walk(str(root)):
        for name in dirs + files:
            path = os.path.join(base, name)
            out[path] = os.readlink(path) if os.path.islink(path) else (
                None if os.path.isdir(path) else (open(path).read(), os.stat(path).st_mtime_ns))
    return out


def refused(module, args, field, root, opened, before):
    """Problems of one hostile run, in check mode with its diff and for real: [] when it was refused
    naming field, nothing was opened, nothing changed (root is as `before`) and the secret appears nowhere."""
    problems = []
    for check_mode in (True, False):
        del opened[:]
        try:
            result = run_module(module, args, FakeHost(), check_mode=check_mode, diff=True)
            return ['accepted: %r' % (result.get('diff'),)]
        except AnsibleFail as exc:
            fail = exc.args[0]
        if fail.get('field') != field or not fail['msg'].startswith(field):
            problems.append(fail)
        if opened or 'SECRET' in repr(fail) or 'diff' in fail:
            problems.append(('read', opened, fail))
    if snapshot(root) != before:
        problems.append('changed files')
    return problems


def test_the_corpora_are_large_enough():
    assert len(hostile_keys()) >= 200 and len(hostile_values()) >= 200 and len(hostile_interfaces()) >= 200


def test_hostile_keys_are_refused_before_anything_is_read(fs):
    root, opened = fs
    before, failures = snapshot(root), {}
    for key in hostile_keys() + ['net.ipv4.conf.evil.secret']:
        problems = refused(sysctls, dict(file=str(root / 'x.conf'), values={key: 1}), 'values', root, opened, before)
        if problems:
            failures[key] = problems
    assert failures == {}


def test_hostile_values_are_refused_before_anything_is_read(fs):
    root, opened = fs
    before, failures = snapshot(root), {}
    for value in hostile_values():
        problems = refused(sysctls, dict(file=str(root / 'x.conf'), values={'net.ipv4.ip_forward': value}),
                           'values', root, opened, before)
        if problems:
            failures[repr(value)[:60]] = problems
        else:
            with pytest.raises(AnsibleFail) as err:
                run_module(sysctls, dict(file=str(root / 'x.conf'), values={'net.ipv4.ip_forward': value}), FakeHost())
            assert err.value.args[0]['msg'].startswith('values[net.ipv4.ip_forward]: ')
    assert failures == {}


def test_hostile_interfaces_never_become_a_key(fs):
    root, opened = fs
    before, failures = snapshot(root), {}
    for name in hostile_interfaces():
        args = dict(mode='dr', interfaces=['lo', name], persist_file=str(root / 'x.conf'))
        problems = refused(arp_sysctl, args, 'interfaces', root, opened, before)
        if problems:
            failures[name] = problems
    assert failures == {}


@pytest.mark.parametrize('module, option', [(sysctls, 'file'), (arp_sysctl, 'persist_file')], ids=['sysctls', 'arp_sysctl'])
def test_a_file_that_is_no_sysctl_d_file_is_never_read_into_a_diff(fs, module, option):
    root, opened = fs
    (root / 'link.conf').symlink_to(root / 'etc' / 'secret')
    (root / 'dir.conf').mkdir()
    (root / 'big.conf').write_text(u'# x\n' * 20000)
    for name, text in (('secret.conf', u'# ok\npassword = SECRET-TOKEN\n'), ('ini.conf', u'[a]\nSECRET=1\n'),
                       ('bad.conf', u'net.ipv4.ip_forward = SECRET TOKEN\x01\n'),
                       ('found.conf', u'# Found before: net.//.//.etc.secret = 0\n')):
        (root / name).write_text(text)
    failures = {}
    for name in ('link.conf', 'dir.conf', 'big.conf', 'secret.conf', 'ini.conf', 'bad.conf', 'found.conf',
                 'etc/secret', 'x.conf\n', 'x'):
        args = {option: str(root / name)}
        args.update(dict(values={'net.ipv4.ip_forward': 1}) if module is sysctls else dict(mode='dr'))
        try:
            fail = run_module(module, args, FakeHost(), check_mode=True, diff=True)
        except AnsibleFail as exc:
            fail = exc.args[0]
        if fail.get('field') != option or 'SECRET' in repr(fail) or 'diff' in fail:
            failures[name] = fail
    assert failures == {}
    assert (root / 'etc' / 'secret').read_text() == SECRET
