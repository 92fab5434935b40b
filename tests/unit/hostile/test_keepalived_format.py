# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 29: no value breaks out of its place in keepalived.conf.

Hostile strings, generated (at least 200 per field), put in every string field
keepalived.conf interpolates: each is refused naming its place, or rendered so
that keepalived --config-test accepts the file and the file read back holds
what the model meant - one virtual_server with one real_server per case, the
keywords we wrote and no other (no include, notify_master or script), the value
where it belongs.
"""

from __future__ import annotations

import itertools
import re

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.lvs.cluster.plugins.plugin_utils import keepalived_conf as kc
from ansible_collections.lvs.cluster.plugins.plugin_utils import keepalived_vrrp as kv
from ansible_collections.lvs.cluster.tests.unit.format_tools import keepalived_test
from ansible_collections.lvs.cluster.tests.unit.keepalived_text import blocks, checks, parse, settings

HEADER = 'global_defs {\n    router_id test\n    enable_script_security\n    script_user root\n}\n'

# what ends a line, a word, a quote, a comment or a block for keepalived's reader, or for a reader of ours
BREAKERS = ['\n', '\r', '\r\n', '\x00', '\x0b', '\x0c', '\x1c', '\x85', '\u2028', '\u2029', '"', "'", '\\', '\\\n',
            '#', '!', '{', '}', ' ', '\t', '$_PWD', '${_RANDOM}', '\n@node ', '\n~SEQ(i, 1, 2) ', '\n$X=1\n']
PAYLOADS = ['include /tmp/evil.conf', 'notify_master "/bin/sh -c id"', '}\nvirtual_server 192.0.2.99 80 {',
            'vrrp_script evil {\n    script "/bin/sh -c id"\n}', 'x' * 1100 + ' include /tmp/evil.conf',
            'real_server 192.0.2.98 80 {\n}']


def hostile(base):
    """At least 200 hostile variants of a benign value."""
    out = [base + breaker + payload for breaker, payload in itertools.product(BREAKERS, PAYLOADS)]
    out += [breaker + base for breaker in BREAKERS] + [base + breaker for breaker in BREAKERS]
    out += ['x' * 300, base * 200, '', 'caf\xe9', '\u0645\u0631\u062d\u0628\u0627']
    # printable oddities a format must carry as they are, or refuse
    out += [base + odd for odd in ('%0A', '?a=b&c=d', ';x', '|x', '`id`', '<x>', '*', '(x)', ',x', '=x', '[x]')]
    assert len(set(out)) >= 200
    return out


def _service(index, **change):
    """One service as keepalived_services() gives it, its address numbered by index, with change applied."""
    check = dict(checker='HTTP_GET', connect_port=80, retry=1, url=dict(path='/health', status_code='200',
                                                                        virtualhost='www.example.org'))
    real_server = dict(address='198.51.100.11', port=80, method='DR', numbers=[('weight', 1)],
                       inhibit_on_failure=False, check=check)
    vs = dict(name='web', address='10.%d.%d.1' % (index // 250, index % 250), port=80, protocol='tcp',
              family='ipv4', method='DR', scheduler='wlc', real_servers=[real_server])
    for key, value in change.items():
        if key.startswith('check.url.'):
            check['url'][key[len('check.url.'):]] = value
        elif key.startswith('check.'):
            check[key[len('check.'):]] = value
        elif key.startswith('rs.'):
            real_server[key[3:]] = value
        else:
            vs[key] = value
    return vs


MISC = dict(checker='MISC_CHECK', retry=1, misc_path='/bin/true')
# field -> (the change that puts a value there, a benign value)
FIELDS = {
    'name': (lambda v: {'name': v}, 'web'),
    'misc_path': (lambda v: {'rs.check': dict(MISC, misc_path=v)}, '/bin/true --url http://x/?a=b#c'),
    'url path': (lambda v: {'check.url.path': v}, '/health'),
    'virtualhost': (lambda v: {'check.url.virtualhost': v}, 'www.example.org'),
    'status_code': (lambda v: {'check.url.status_code': v}, '200 300-399'),
    'scheduler': (lambda v: {'scheduler': v}, 'wrr'),
    'scheduler flag': (lambda v: {'scheduler_flags': [v]}, 'sh-port'),
    'persistence_engine': (lambda v: {'persistence_engine': v}, 'sip'),
    'address': (lambda v: {'address': v}, '10.0.0.1'),
    'real server address': (lambda v: {'rs.address': v}, '198.51.100.11'),
}


def _meaning(text):
    """The one virtual_server of a case's text, its real servers' keywords and checks."""
    top = parse(text)
    assert [word for word, _args, _block in top] == ['virtual_server'], top
    (key, block), = blocks(top, 'virtual_server').items()
    return key, settings(block), {rs: (settings(b), checks(b)) for rs, b in blocks(block, 'real_server').items()}


@pytest.mark.parametrize('field', list(FIELDS))
def test_every_hostile_value_is_refused_or_means_what_the_model_meant(field):
    change, benign = FIELDS[field]
    cases = hostile(benign)
    rendered, refused = [], 0
    for index, value in enumerate(cases, start=1):
        try:
            text = kc.virtual_servers([_service(index, **change(value))])
        except AnsibleFilterError as exc:
            assert str(exc).startswith('keepalived.conf, the virtual_server of service '), str(exc)
            refused += 1
            continue
        # the same meaning as the benign value gives, but for the value itself where it belongs
        expected = _meaning(kc.virtual_servers([_service(index, **change(benign))]))
        got = _meaning(text)
        assert got[0] == expected[0] or field == 'address', (value, text)
        if field == 'name':
            assert got == expected, (value, text)
            assert text.count('\n') == expected_lines(index, benign, change)
        elif field == 'misc_path':
            (_key, (_rs, found)), = got[2].items()
            assert found == {'MISC_CHECK': dict(retry='1', misc_path=value)}, (value, text)
        elif field in ('url path', 'virtualhost', 'status_code'):
            (_key, (_rs, found)), = got[2].items()
            assert found['HTTP_GET']['url'][field.replace('url ', '')] == value, (value, text)
        elif field == 'address':
            assert got[1:] == expected[1:] and got[0][0] == value, (value, text)
        else:
            assert got[2] == expected[2], (value, text)
        rendered.append(text)
    # keepalived itself reads every rendered case, in one file: as many virtual servers, nothing else
    code, messages = keepalived_test(HEADER + ''.join(rendered))
    assert (code, messages) == (0, ''), messages
    assert refused + len(rendered) == len(cases)
    if field == 'name':
        assert refused == 0  # a comment is escaped, never refused


def expected_lines(index, benign, change):
    return kc.virtual_servers([_service(index, **change(benign))]).count('\n')


@pytest.mark.parametrize('name', ['web\ninclude /tmp/evil.conf', 'web\n}\nvirtual_server 192.0.2.99 80 {\n}',
                                  'web\nvrrp_instance X {\n notify_master "/bin/sh -c id"\n}', 'web\\',
                                  'x' * 1100 + 'include /tmp/evil.conf'])
def test_a_service_name_stays_one_comment_line(name):
    """The finding: a newline in a name started a new virtual_server, an include or a script."""
    text = kc.virtual_servers([_service(1, name=name)])
    assert [line for line in text.splitlines() if line.startswith('#')] == [text.splitlines()[1]]
    assert len(text.splitlines()[1].encode('utf-8')) < 1000
    assert [word for word, _args, _block in parse(text)] == ['virtual_server']
    assert 'include' not in [line.split()[0] for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize('helper, value', [
    (kc.word, 'a b'), (kc.word, 'a#b'), (kc.word, '@x'), (kc.word, '~SEQ'), (kc.word, 'a$b'), (kc.word, 'a"b'),
    (kc.word, 'x' * 256), (kc.word, 'caf\xe9'), (kc.word, ''), (kc.word, 7),
    (kc.quoted, 'a"b'), (kc.quoted, 'a\\b'), (kc.quoted, 'a$b'), (kc.quoted, 'a\nb'), (kc.quoted, 'x' * 501),
    (kc.number, True), (kc.number, '80'), (kc.number, float('nan')),
    (kc.address, 'fe80::1%eth0'), (kc.address, '10.0.0.1\n'), (kc.address, 'host.example'),
])
def test_the_helpers_refuse_what_keepalived_conf_cannot_hold(helper, value):
    with pytest.raises(AnsibleFilterError, match='^here: '):
        helper(value, 'here')


def test_the_helpers_keep_what_it_can():
    assert kc.word('/a?b=c&d=%20', 'x') == '/a?b=c&d=%20'
    assert kc.quoted("/bin/check --x 'a b' #1 {}", 'x') == '"/bin/check --x \'a b\' #1 {}"'
    assert kc.number(0.5, 'x') == '0.5' and kc.number(3.0, 'x') == '3'
    assert kc.address('2001:DB8::0:1', 'x') == '2001:db8::1'
    assert kc.comment('web #1 !\\ caf\xe9\n\u2028') == 'web #1 !\\\\ caf\xe9\\n\\u2028'


# -- VRRP -----------------------------------------------------------------------------------------------------------

VRRP = {
    'director_vrrp_instance': 'LVS', 'director_vrrp_interface': 'eth0', 'director_vip_interface': 'eth0',
    'director_vrrp_router_id': 51, 'director_vrrp_priority': 200, 'director_vrrp_version': 2,
    'director_vrrp_advert_int': 1, 'director_vrrp_preempt': True, 'director_vrrp_preempt_delay': 0,
    'director_vrrp_auth_pass': 's3cr3t-x', 'director_vrrp_unicast': True,
    'director_vrrp_unicast_peers': ['192.0.2.12'], 'director_vrrp_extra_addresses': ['203.0.113.1/24 dev eth0'],
    'director_lvs_sync': True, 'director_lvs_sync_id': 51, 'director_vips': ['198.51.100.100', '2001:db8::100'],
    'inventory_hostname': 'director1', '__director_vrrp_index': 0, '__director_vrrp_src_ip': '192.0.2.11',
    '__director_vrrp_auth_file': '/TESTDIR/auth.conf',
}
# the role variable -> a benign value, and how the value goes in (a list's element, or the value)
VRRP_STRINGS = {
    'director_vrrp_instance': 'LVS', 'director_vrrp_interface': 'eth0', 'director_vip_interface': 'eth0',
    'director_vrrp_auth_pass': 's3cr3t', 'director_vrrp_unicast_peers': '192.0.2.12',
    'director_vrrp_extra_addresses': '203.0.113.1/24 dev eth0', 'director_vips': '198.51.100.100',
    'inventory_hostname': 'director1',
}
VRRP_KEYWORDS = {'state', 'interface', 'virtual_router_id', 'priority', 'version', 'advert_int', 'include',
                 'unicast_src_ip'}


def _vrrp_meaning(text):
    top = parse(text)
    assert [word for word, _args, _block in top] == ['global_defs', 'vrrp_instance'], top
    (name, block), = blocks(top, 'vrrp_instance').items()
    words = [word for word, _args, sub in block if sub is None]
    assert set(words) <= VRRP_KEYWORDS and len(words) == len(set(words)), words
    subs = {word: [w for w, _a, _b in sub] for word, _args, sub in block if sub is not None}
    return name, settings(top[0][2]), subs


AUTH = 'authentication {\n    auth_type PASS\n    auth_pass %s\n}\n'


@pytest.mark.parametrize('variable', list(VRRP_STRINGS))
def test_every_hostile_vrrp_value_is_refused_naming_the_role_variable_or_means_what_it_said(variable):
    cases = hostile(VRRP_STRINGS[variable])
    checked = 0
    for value in cases:
        values = dict(VRRP, **{variable: [value] if isinstance(VRRP[variable], list) else value})
        try:
            found = kv.vrrp_settings(values)
        except AnsibleFilterError as exc:
            assert str(exc).startswith(variable + ' ') or str(exc).startswith(variable + ':'), str(exc)
            if variable == 'director_vrrp_auth_pass' and value:
                assert value not in str(exc)  # the password is never shown
            continue
        assert 's3cr3t' not in str(found)  # the password never leaves vrrp_settings
        name, globals_, subs = _vrrp_meaning(found['conf'])
        assert name == (found['instance'],) and globals_['router_id'] == found['name']
        assert subs == {'unicast_peer': ['192.0.2.12'], 'virtual_ipaddress': ['198.51.100.100/32', '203.0.113.1/24'],
                        'virtual_ipaddress_excluded': ['2001:db8::100/128']}
        code, messages = keepalived_test(found['conf'], files=[('auth.conf', AUTH % VRRP['director_vrrp_auth_pass'])],
                                         interfaces=sorted({found['interface'], found['vip_interface']}))
        assert (code, messages) == (0, ''), (value, messages)
        checked += 1
    assert checked < len(cases)


def test_the_vrrp_password_reaches_keepalived_through_the_include_only():
    found = kv.vrrp_settings(VRRP)
    assert found['auth'] is True and 'auth_pass' not in found['conf'] and 's3cr3t' not in repr(found)
    assert re.search(r'^    include /TESTDIR/auth.conf$', found['conf'], re.M)
    code, messages = keepalived_test(found['conf'], files=[('auth.conf', AUTH % 's3cr3t-x')])
    assert (code, messages) == (0, ''), messages
