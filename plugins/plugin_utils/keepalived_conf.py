# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""keepalived.conf's virtual_server blocks, from keepalived_services().

Rendered here and not in the role's template: through Jinja, 5,000 services of
8 real servers took 13 s on the controller, and carrying them to the template
as a fact (one dict per real server) twice that. The template includes this one
text; VRRP and global settings are rendered by keepalived_vrrp.
"""

from __future__ import annotations

import math
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_syntax as sx
from ansible_collections.lvs.cluster.plugins.module_utils import return_schema

# keepalived.conf has no escape for a newline, and its reader (lib/parser.c)
# also acts on "#" and "!" (comments), '"' (quotes), "{" and "}" (blocks),
# "\\" (escapes and continued lines), "$" (definitions), "@" and "~" at a
# line's start (conditional lines, ~SEQ) and reads at most 1024 bytes a line,
# the rest becoming a line of its own. Every value written goes through one of
# the helpers below: words and quoted strings from an allow list of printable
# ASCII without those, bounded; comments escaped.
SPECIAL = '"\'{}#!\\$'
_WORD = re.compile(r'(?![@~])[!-~]{1,255}')
_QUOTED = re.compile(r'[ -~]{1,500}')
COMMENT_BYTES = 200
STATUS = re.compile(r'[1-5][0-9]{2}(-[1-5][0-9]{2})?')

# A check's keywords are its keys, in the order its return schema declares them.
CHECK_KEYS = tuple(key for key in return_schema.CHECK if key != 'checker')
URL_KEYS = tuple(return_schema.CHECK['url']['contains'])
METHODS = ('NAT', 'DR', 'TUN')


def _fail(where, message):
    raise AnsibleFilterError('%s: %s' % (where, message))


def word(value, where):
    """One keepalived.conf word: 1 to 255 printable ASCII characters, none of them space or SPECIAL."""
    if not isinstance(value, str) or not _WORD.fullmatch(value) or any(c in SPECIAL for c in value):
        _fail(where, 'must be 1 to 255 printable ASCII characters without space, %s, and not start '
                     'with @ or ~ (keepalived.conf has no escape for them), got %r' % (' '.join(SPECIAL), value))
    return value


def quoted(value, where):
    """A double-quoted keepalived.conf string: 1 to 500 printable ASCII characters without ", \\ or $,
    single quotes in pairs (keepalived splits a script's command line itself, quotes included)."""
    if not isinstance(value, str) or not _QUOTED.fullmatch(value) or any(c in '"\\$' for c in value) or \
            value.count("'") % 2:
        _fail(where, 'must be 1 to 500 printable ASCII characters (spaces too) without ", \\ or $ and with '
                     'single quotes in pairs (keepalived.conf has no escape for them), got %r' % (value,))
    return '"%s"' % value


def choice(value, choices, where):
    """One of a declared set of keywords."""
    if value not in choices:
        _fail(where, 'must be one of %s, got %r' % (', '.join(choices), value))
    return value


def status_codes(value, where):
    """An HTTP check's status codes: codes (200) and ranges (200-299), space-separated."""
    codes = value.split(' ') if isinstance(value, str) else []
    if not codes or not all(STATUS.fullmatch(code) for code in codes):
        _fail(where, 'must be HTTP status codes (200) or ranges (200-299), separated by single spaces, got %r'
              % (value,))
    return value


def number(value, where):
    """An int, or a float with no more digits than it needs; never a bool or a string."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        _fail(where, 'must be a number, got %r' % (value,))
    return str(int(value)) if value == int(value) else repr(value)


def address(value, where):
    """An IP address, in its canonical form (no zone, brackets or spaces)."""
    try:
        return sx.canonical_ip(value)[0]
    except sx.ModelError as exc:
        _fail(where, str(exc))


def comment(text):
    """Text safe after "# " on a line of its own: printable characters but "\\" as they are, the rest
    escaped ("\\n", "\\x07", "\\u2028"), cut at COMMENT_BYTES bytes of UTF-8 with "...".

    A comment is only read by people: escaping keeps the line one comment
    (keepalived would take a newline for a new line, a "\\" at the end for a
    continued one, a long line for two).
    """
    out, size = [], 0
    for char in str(text):
        part = char if char.isprintable() and char != '\\' else char.encode('unicode_escape').decode('ascii')
        size += len(part.encode('utf-8'))
        if size > COMMENT_BYTES:
            out.append('...')
            break
        out.append(part)
    return ''.join(out)


def _check(check, out, where):
    where = '%s %s' % (where, check['checker'])
    out.append('        %s {' % word(check['checker'], where))
    for key in CHECK_KEYS:
        if key not in check:
            continue
        if key == 'url':
            out.append('            url {')
            out.extend('                %s %s' % (name, (status_codes if name == 'status_code' else word)(
                str(check['url'][name]), '%s url %s' % (where, name))) for name in URL_KEYS if name in check['url'])
            out.append('            }')
        elif key == 'misc_path':
            out.append('            misc_path %s' % quoted(check['misc_path'], where + ' misc_path'))
        else:
            out.append('            %s %s' % (key, number(check[key], '%s %s' % (where, key))))
    out.append('        }')


def _real_server(rs, out, where):
    where = '%s, real_server %s' % (where, rs.get('address'))
    port = ' ' + number(rs['port'], where + ' port') if rs['port'] else ''
    out.append('    real_server %s%s {' % (address(rs['address'], where), port))
    method = str(rs['method']).split(' ')
    out.append('        lvs_method %s' % ' '.join([choice(method[0], METHODS, where + ' lvs_method')]
                                                  + [word(part, where + ' lvs_method') for part in method[1:]]))
    out.extend('        %s %s' % (keyword, number(value, '%s %s' % (where, keyword))) for keyword, value in rs['numbers'])
    if rs['inhibit_on_failure']:
        out.append('        inhibit_on_failure')
    if rs['check']:
        _check(rs['check'], out, where)
    out.append('    }')


def _virtual_server(index, vs, out):
    fwmark = vs.get('fwmark') is not None
    out.append('')
    out.append('# %s' % comment(vs['name'] if 'name' in vs else 'service %d' % index))
    where = 'keepalived.conf, the virtual_server of service %s' % comment(vs.get('name', index))
    if fwmark:
        out.append('virtual_server fwmark %s {' % number(vs['fwmark'], where + ' fwmark'))
    else:
        port = ' ' + number(vs['port'], where + ' port') if vs.get('port') else ''
        out.append('virtual_server %s%s {' % (address(vs['address'], where), port))
    out.append('    lvs_sched %s' % choice(vs.get('scheduler') or sx.DEFAULT_SCHEDULER, sx.SCHEDULERS, where + ' lvs_sched'))
    out.extend('    %s' % choice(flag, tuple(sx.SCHED_FLAG_BITS), where + ' scheduler flag')
               for flag in vs.get('scheduler_flags') or [])
    out.append('    lvs_method %s' % choice(vs['method'], METHODS, where + ' lvs_method'))
    if fwmark:
        out.append('    ip_family %s' % ('inet6' if vs['family'] == 'ipv6' else 'inet'))
    else:
        out.append('    protocol %s' % choice(str(vs['protocol']).upper(), ('TCP', 'UDP', 'SCTP'), where + ' protocol'))
    for key in ('persistence_timeout', 'persistence_granularity'):
        if key in vs:
            out.append('    %s %s' % (key, word(str(vs[key]), '%s %s' % (where, key))))
    if vs.get('persistence_engine'):
        out.append('    persistence_engine %s' % word(vs['persistence_engine'], where + ' persistence_engine'))
    if vs.get('one_packet'):
        out.append('    ops')
    out.extend('    %s %s' % (key, number(vs[key], '%s %s' % (where, key))) for key in ('quorum', 'hysteresis') if key in vs)
    if 'sorry_server' in vs:
        sorry = vs['sorry_server']
        out.append('    sorry_server %s%s' % (address(sorry['address'], where + ' sorry_server'),
                                              ' ' + number(sorry['port'], where + ' sorry_server port')
                                              if 'port' in sorry else ''))
        out.append('    sorry_server_lvs_method %s' % choice(sorry['method'], METHODS, where + ' sorry_server_lvs_method'))
    for rs in vs['real_servers']:
        _real_server(rs, out, where)
    out.append('}')


def virtual_servers(services):
    """The virtual_server blocks of keepalived_services(), each after a blank line and its name."""
    out = []
    for index, vs in enumerate(services):
        _virtual_server(index, vs, out)
    return ''.join(line + '\n' for line in out)
