# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 29, the VIP boot units: what vip_address renders is judged by systemd's own
`systemd-analyze verify` and parsed back against what the options meant; hostile
option text is refused before anything is read or written, naming the option."""

from __future__ import annotations

import ipaddress
import json
import os
import random
import shutil
import subprocess

import pytest

from ansible_collections.lvs.cluster.plugins.module_utils import ip_helpers as iph
from ansible_collections.lvs.cluster.plugins.modules import vip_address
from ansible_collections.lvs.cluster.tests.unit.ipvs_fake import AnsibleFail, FakeHost, fixture_text, run_module

IP, MODPROBE = '/usr/sbin/ip', '/usr/sbin/modprobe'  # what run_module's get_bin_path answers
SHOW = (IP, '-j', 'addr', 'show')
CONTROL = [chr(c) for c in range(0x20)] + ['\x7f']


def tool(name):
    path = shutil.which(name)
    if not path:
        pytest.fail('%s is missing: install systemd (make host-packages)' % name)
    return path


def verify(paths):
    """systemd-analyze verify of unit files, all in one call: (rc, the lines it printed)."""
    proc = subprocess.run([tool('systemd-analyze'), 'verify', '--man=no', '--generators=no'] + paths,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False,
                          env=dict(os.environ, SYSTEMD_LOG_COLOR='0', LC_ALL='C'), timeout=120)
    return proc.returncode, proc.stdout.splitlines()


def complaints(rc, lines):
    words = ('Unknown', 'Invalid', 'Failed', 'ignoring', 'not executable', 'bad unit', 'fatal', 'lvs-vip')
    return ['exit %d' % rc] * bool(rc) + [line for line in lines if any(w in line for w in words)]


# ---------------------------------------------------------------- a strict reader of what we render

def parse_unit(text):
    """{section: [(key, value)]} of a unit, as systemd reads it, for the syntax a VIP unit may use:
    no line continuation, and no character that systemd would expand or unquote in a value."""
    sections, current = {}, None
    for line in text.split('\n'):
        stripped = line.strip()
        assert not stripped.endswith('\\'), 'a continuation line: %r' % line
        if not stripped or stripped[0] in '#;':
            continue
        if stripped.startswith('['):
            assert stripped.endswith(']'), line
            current = sections.setdefault(stripped[1:-1], [])
            continue
        key, sep, value = stripped.partition('=')
        assert sep and current is not None and key.isalnum(), 'not a setting: %r' % line
        for char in '%$"\'':
            assert char not in value, 'systemd expands or unquotes %r in %r' % (char, line)
        assert '\\' not in value or key in ('BindsTo', 'After'), 'an escape in %r' % line
        current.append((key, value))
    return sections


def exec_argv(value):
    """(prefix, argv) of an Exec line whose value parse_unit let through (so no quote, escape,
    specifier or variable: systemd splits it at blanks)."""
    prefix = ''
    while value[:1] in ('-', '@', ':', '+', '!'):
        prefix, value = prefix + value[0], value[1:]
    return prefix, value.split()


def meant(case):
    """What the unit of case must say, built from the options, not from ip_helpers."""
    addr, prefix, iface, kind, label, bind = (case[k] for k in ('address', 'prefix', 'interface', 'kind',
                                                                'label', 'bind'))
    v6 = ipaddress.ip_address(addr).version == 6
    execs = []
    if kind in ('ipip', 'ip6tnl'):
        execs.append(('ExecStart', '-', [MODPROBE, {'ipip': 'ipip', 'ip6tnl': 'ip6_tunnel'}[kind]]))
    if kind == 'ip6tnl':
        execs.append(('ExecStart', '', [IP, '-6', 'tunnel', 'change', 'ip6tnl0', 'mode', 'any']))
    if kind == 'dummy':
        execs.append(('ExecStart', '-', [IP, 'link', 'add', iface, 'type', 'dummy']))
    execs.append(('ExecStart', '', [IP, 'link', 'set', 'dev', iface, 'up']))
    execs.append(('ExecStart', '', [IP, 'addr', 'replace', '%s/%d' % (addr, prefix), 'dev', iface]
                  + ['label', label] * bool(label) + ['nodad', 'preferred_lft', '0'] * v6))
    execs.append(('ExecStop', '-', [IP, 'addr', 'del', '%s/%d' % (addr, prefix), 'dev', iface]))
    unit = [('Description', 'LVS VIP %s/%d on %s' % (addr, prefix, iface)), ('Wants', 'network-pre.target'),
            ('After', 'network-pre.target'), ('Before', 'network.target')]
    return unit, execs, bind


# ---------------------------------------------------------------- the valid corpus

def _word(rng, low, high):
    return ''.join(rng.choice('abcdefghijklmnopqrstuvwxyz0123456789_-') for _i in range(rng.randint(low, high)))


def _ifname(rng):
    while True:
        name = rng.choice('abcdefghijklmnopqrstuvwxyz') + _word(rng, 0, 3) + rng.choice(['-', '', '_']) + _word(rng, 0, 3)
        if rng.random() < 0.3:
            name += '.' + str(rng.randint(1, 4094))
        if iph.valid_ifname(name) and name not in ('lo', 'tunl0', 'ip6tnl0'):
            return name


def corpus(count=240, seed=29):
    """Options of `count` VIPs, each of another address: both families, every interface type,
    labels, prefixes, interfaces bound to their device or not."""
    rng, cases, seen = random.Random(seed), [], set()
    kinds = ['lo', 'existing', 'dummy', 'ipip', 'ip6tnl']
    while len(cases) < count:
        kind = kinds[len(cases) % len(kinds)]
        v6 = kind == 'ip6tnl' and rng.random() < 0.5 or kind not in ('ipip', 'ip6tnl') and rng.random() < 0.5
        if v6:
            addr = str(ipaddress.IPv6Address((0x20010db8 << 96) | rng.getrandbits(96)))
        else:
            addr = str(ipaddress.IPv4Address((rng.choice([10, 172, 198, 203]) << 24) | rng.getrandbits(24) | 1))
        if addr in seen or ipaddress.ip_address(addr).is_multicast:
            continue
        seen.add(addr)
        limit = 128 if v6 else 32
        iface = {'lo': 'lo', 'ipip': 'tunl0', 'ip6tnl': 'ip6tnl0'}.get(kind) or _ifname(rng)
        host_only = iface in ('lo', 'tunl0', 'ip6tnl0')
        prefix = limit if host_only or rng.random() < 0.5 else rng.randint(1, limit)
        label = None
        if not v6 and rng.random() < 0.5:
            room = 15 - len(iface) - 1
            label = iface if room < 1 or rng.random() < 0.2 else iface + ':' + _word(rng, 1, min(room, 6))
        # an existing interface but lo: the unit waits for its device (not in a container)
        cases.append(dict(address=addr, prefix=prefix, interface=iface, label=label, bind=kind == 'existing',
                          kind={'lo': 'existing'}.get(kind, kind)))
    return cases


def host_for(case):
    links = json.loads(fixture_text('ip_addr_show.json'))
    if case['kind'] == 'existing' and case['interface'] not in [link['ifname'] for link in links]:
        links.append(dict(ifname=case['interface'], flags=['UP'], addr_info=[]))
    return FakeHost(canned={SHOW: (0, json.dumps(links), '')})


def test_the_corpus_is_what_it_says():
    cases = corpus()
    assert len(cases) >= 200 and len(set(c['address'] for c in cases)) == len(cases)
    assert set(c['kind'] for c in cases) == {'existing', 'dummy', 'ipip', 'ip6tnl'}
    assert {ipaddress.ip_address(c['address']).version for c in cases} == {4, 6}
    assert sum(1 for c in cases if c['bind']) >= 30 and sum(1 for c in cases if c['label']) >= 30
    assert sum(1 for c in cases if '-' in c['interface']) >= 20  # device units with \x2d escapes


def test_every_rendered_unit_passes_systemd_analyze_verify_and_says_what_was_meant(tmp_path, monkeypatch):
    monkeypatch.setattr(iph, 'in_container', lambda: False)
    unit_dir = tmp_path / 'system'
    cases = corpus()
    paths = []
    for case in cases:
        args = dict(address=case['address'], prefix=case['prefix'], interface=case['interface'],
                    interface_type=case['kind'], label=case['label'], persist=True, unit_dir=str(unit_dir))
        result = run_module(vip_address, args, host_for(case))
        assert result['unit_file'] == str(unit_dir / iph.unit_name(case['address']))
        paths.append(result['unit_file'])
    assert len(set(paths)) == len(cases)
    rc, lines = verify(paths)
    assert complaints(rc, lines) == [], '\n'.join(lines[:20])

    devices = []
    for case, path in zip(cases, paths):
        with open(path) as handle:
            sections = parse_unit(handle.read())
        unit, execs, bind = meant(case)
        settings = sections['Unit']
        device = [value for key, value in settings if key == 'BindsTo']
        assert [s for s in settings if s[0] != 'BindsTo' and s[1] not in device] == unit
        assert len(device) == bind and (not bind or ('After', device[0]) in settings)
        devices += device
        service = sections['Service']
        assert service[:2] == [('Type', 'oneshot'), ('RemainAfterExit', 'yes')]
        assert [(key,) + exec_argv(value) for key, value in service[2:]] == execs
        assert sections['Install'] == [('WantedBy', 'multi-user.target')] and len(sections) == 3
    # systemd's own reading of the device units' names: the interface's path
    assert devices and all(d.endswith('.device') for d in devices)
    unescaped = subprocess.run([tool('systemd-escape'), '--unescape', '--path'] + [d[:-len('.device')] for d in devices],
                               stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout.split()
    assert unescaped == ['/sys/subsystem/net/devices/%s' % c['interface'] for c in cases if c['bind']]


def test_verify_and_the_reader_catch_an_injected_line(tmp_path):
    """The two judges above can fail: a unit with a line injected the way issue 29's zone id did."""
    good = iph.unit_text(IP, MODPROBE, 'lo', 'existing', '2001:db8::1', 128)
    bad = good.replace('dev lo nodad', 'dev lo nodad\nFoo=%Z\nExecStartPre=/nonexistent/x $HOME')
    path = tmp_path / 'lvs-vip-injected.service'
    path.write_text(bad)
    rc, lines = verify([str(path)])
    assert complaints(rc, lines)
    with pytest.raises(AssertionError):
        parse_unit(bad)
    assert parse_unit(good)


# ---------------------------------------------------------------- the hostile corpus

def hostile(base):
    """Hostile variants of a valid option text: every control character at every position,
    line breaks carrying unit lines, zone ids, specifiers, variables, escapes, quotes,
    very long text and look-alike characters."""
    out = [base[:i] + c + base[i:] for c in CONTROL for i in range(len(base) + 1)]
    out += [base + tail for tail in (
        '\nExecStartPre=/bin/sh -c id', '\n[Service]\nUser=root', '\r\nExecStart=x', '\nFoo=bar', '\x85x', '\u2028x',
        '%eth0', '%lo\nExecStart=x', '%i', '%n', '%%', '$HOME', '${HOME}', '\\x0a', '\\n', '\\', '"', "'", ' ',
        '\t', ';x', '#x', ' x', '\xa0', '\u200b', '/', ',x', '*', '?', '[x]', '|x', '&x', '`id`', '$(id)')]
    out += ['"%s"' % base, "'%s'" % base, ' ' + base, base * 200, 'x' * 4096]
    look_alikes = {'e': '\u0435', 'a': '\u0430', 'o': '\u043e', '0': '\uff10', '1': '\u0661', '.': '\u2024', ':': '\uff1a'}
    out += [base.replace(k, v, 1) for k, v in look_alikes.items() if k in base]
    return [text for text in out if text != base]


OPTIONS = [('address', '10.0.0.1', {}), ('address', '2001:db8::1/128', {}),
           ('interface', 'eth0', dict(address='10.0.0.1')), ('interface', 'lo', dict(address='10.0.0.1')),
           ('label', 'lo:vip1', dict(address='10.0.0.1'))]


def test_the_hostile_corpus_is_large_enough():
    for option in ('address', 'interface', 'label'):
        assert sum(len(hostile(base)) for name, base, _a in OPTIONS if name == option) >= 200


@pytest.mark.parametrize('option, base, others', OPTIONS)
def test_hostile_option_text_is_refused_before_anything_is_read_or_written(tmp_path, option, base, others):
    assert run_module(vip_address, dict(others, persist=True, unit_dir=str(tmp_path / 'ok'), **{option: base}),
                      FakeHost(canned={SHOW: (0, fixture_text('ip_addr_show.json'), '')}), check_mode=True)
    failures = []
    for text in hostile(base):
        host = FakeHost(canned={SHOW: (0, fixture_text('ip_addr_show.json'), '')})
        fail = None
        try:
            result = run_module(vip_address, dict(others, persist=True, unit_dir=str(tmp_path), **{option: text}), host)
            failures.append((text, 'accepted', result.get('commands')))
        except AnsibleFail as exc:
            fail = exc.args[0]
        if fail is None:
            continue
        if fail.get('field') != option or not fail['msg'].startswith(option + ': ') or host.calls:
            failures.append((text, fail, host.calls))
        if os.listdir(str(tmp_path)) != ['ok'] * os.path.exists(str(tmp_path / 'ok')):
            failures.append((text, 'wrote', os.listdir(str(tmp_path))))
            break
    assert failures == []


@pytest.mark.parametrize('field', ['address', 'interface', 'label', 'ip'])
def test_hostile_text_never_reaches_a_unit_line(field):
    grammar = iph.UNIT_PATH if field == 'ip' else iph.UNIT_WORD
    base = '/usr/sbin/ip' if field == 'ip' else 'lo'
    for text in [t for t in hostile(base) if t != base + '/']:  # a slash is one more path character
        with pytest.raises(iph.UnitError) as err:
            iph.unit_value(text, field, grammar)
        assert err.value.field == field
