# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""keepalived.conf's virtual_server blocks, from keepalived_services().

Rendered here and not in the role's template: through Jinja, 5,000 services of
8 real servers took 13 s on the controller, and carrying them to the template
as a fact (one dict per real server) twice that. The template includes this one
text; VRRP and global settings stay in the template.
"""

from __future__ import annotations

from ansible_collections.lvs.cluster.plugins.module_utils import return_schema

# A check's keywords are its keys, in the order its return schema declares them.
CHECK_KEYS = tuple(key for key in return_schema.CHECK if key != 'checker')
URL_KEYS = tuple(return_schema.CHECK['url']['contains'])


def _check(check, out):
    out.append('        %s {' % check['checker'])
    for key in CHECK_KEYS:
        if key not in check:
            continue
        if key == 'url':
            out.append('            url {')
            out.extend('                %s %s' % (name, check['url'][name]) for name in URL_KEYS if name in check['url'])
            out.append('            }')
        elif key == 'misc_path':
            out.append('            misc_path "%s"' % check['misc_path'])
        else:
            out.append('            %s %s' % (key, check[key]))
    out.append('        }')


def _real_server(rs, out):
    out.append('    real_server %s%s {' % (rs['address'], ' %d' % rs['port'] if rs['port'] else ''))
    out.append('        lvs_method %s' % rs['method'])
    out.extend('        %s %s' % (keyword, value) for keyword, value in rs['numbers'])
    if rs['inhibit_on_failure']:
        out.append('        inhibit_on_failure')
    if rs['check']:
        _check(rs['check'], out)
    out.append('    }')


def _virtual_server(index, vs, out):
    fwmark = vs.get('fwmark') is not None
    out.append('')
    out.append('# %s' % (vs['name'] if 'name' in vs else 'service %d' % index))
    if fwmark:
        out.append('virtual_server fwmark %s {' % vs['fwmark'])
    else:
        port = int(vs.get('port') or 0)
        out.append('virtual_server %s%s {' % (vs['address'], ' %d' % port if port else ''))
    out.append('    lvs_sched %s' % (vs.get('scheduler') or 'wlc'))
    out.extend('    %s' % flag for flag in vs.get('scheduler_flags') or [])
    out.append('    lvs_method %s' % vs['method'])
    if fwmark:
        out.append('    ip_family %s' % ('inet6' if vs['family'] == 'ipv6' else 'inet'))
    else:
        out.append('    protocol %s' % vs['protocol'].upper())
    for key in ('persistence_timeout', 'persistence_granularity'):
        if key in vs:
            out.append('    %s %s' % (key, vs[key]))
    if vs.get('persistence_engine'):
        out.append('    persistence_engine %s' % vs['persistence_engine'])
    if vs.get('one_packet'):
        out.append('    ops')
    out.extend('    %s %s' % (key, vs[key]) for key in ('quorum', 'hysteresis') if key in vs)
    if 'sorry_server' in vs:
        sorry = vs['sorry_server']
        out.append('    sorry_server %s%s' % (sorry['address'], ' %d' % sorry['port'] if 'port' in sorry else ''))
        out.append('    sorry_server_lvs_method %s' % sorry['method'])
    for rs in vs['real_servers']:
        _real_server(rs, out)
    out.append('}')


def virtual_servers(services):
    """The virtual_server blocks of keepalived_services(), each after a blank line and its name."""
    out = []
    for index, vs in enumerate(services):
        _virtual_server(index, vs, out)
    return ''.join(line + '\n' for line in out)
