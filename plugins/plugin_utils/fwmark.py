# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The nftables rules that mark the traffic of the model's fwmark services.

One table of the collection's own, inet lvs_cluster, replaced in one
transaction (declare, delete, define: nft -f applies a file atomically), so
that other rulesets are never touched and a removed service leaves no rule.
"""

from __future__ import annotations

import ipaddress
import re

from ansible.errors import AnsibleFilterError

TABLE = 'inet lvs_cluster'
DEFAULT_PROTOCOLS = ('tcp',)
# what a match may not hold: it is one rule, not a ruleset
_FORBIDDEN = re.compile(r'[;#\n\r]|\b(meta\s+mark\s+set|mark\s+set|accept|drop|reject|jump|goto|return)\b')


def _set(items):
    """One value, or an anonymous set: as `nft list` prints them back."""
    return items[0] if len(items) == 1 else '{ %s }' % ', '.join(items)


def rules(service, sfield):
    """The nft rules (without the mark) of one fwmark service, [] when it lists no traffic.

    service: one model entry, typed. Errors name sfield.KEY.
    """
    given = [key for key in ('ports', 'protocols', 'match') if service.get(key) not in (None, [])]
    if not given:
        return []
    if service.get('fwmark') is None:
        raise AnsibleFilterError('%s.%s: only a fwmark service lists the traffic to mark' % (sfield, given[0]))
    if service.get('match') is not None:
        if 'ports' in given or 'protocols' in given:
            raise AnsibleFilterError('%s.match: give either match or ports and protocols' % sfield)
        match = service['match'].strip()
        if not match or _FORBIDDEN.search(match) or match.count('{') != match.count('}'):
            raise AnsibleFilterError('%s.match: %r must be one nftables match (no ";", "#", newline, '
                                     'verdict or mark statement; braces balanced)' % (sfield, service['match']))
        return [match]
    if 'ports' not in given:
        raise AnsibleFilterError('%s.protocols: needs ports' % sfield)
    for port in service['ports']:
        if not 1 <= port <= 65535:
            raise AnsibleFilterError('%s.ports: %d is not a port (1 to 65535)' % (sfield, port))
    vips = service.get('vips') or []
    if not vips:
        raise AnsibleFilterError('%s.ports: needs vips, the addresses the traffic goes to' % sfield)
    version = 6 if service.get('family') == 'ipv6' else 4
    addresses = []
    for vip in vips:
        try:
            address = ipaddress.ip_address(str(vip).strip('[]'))
        except ValueError:
            raise AnsibleFilterError('%s.vips: %r is not an IP address' % (sfield, vip))
        if address.version != version:
            raise AnsibleFilterError('%s.vips: %s is not an IPv%d address, as the service\'s family is'
                                     % (sfield, address, version))
        addresses.append(str(address))
    daddr = '%s daddr %s' % ('ip' if version == 4 else 'ip6', _set(sorted(set(addresses))))
    ports = _set([str(p) for p in sorted(set(service['ports']))])
    return ['%s %s dport %s' % (daddr, proto, ports)
            for proto in sorted(set(service.get('protocols') or DEFAULT_PROTOCOLS))]


def ruleset(marked):
    """nft -f text for [(fwmark, [rule, ...]), ...]; '' when nothing is marked."""
    lines = ['%s meta mark set %d' % (rule, mark) for mark, found in marked for rule in found]
    if not lines:
        return ''
    return '\n'.join([
        '#!/usr/sbin/nft -f',
        '# Managed by lvs.cluster (director role): the marks of the fwmark services.',
        '# Declared, deleted and defined again: nft -f applies the file as one transaction.',
        'table %s' % TABLE,
        'delete table %s' % TABLE,
        'table %s {' % TABLE,
        '\tchain prerouting {',
        '\t\t# before IPVS (LOCAL_IN) sees the packets',
        '\t\ttype filter hook prerouting priority mangle; policy accept;',
    ] + ['\t\t' + line for line in lines] + ['\t}', '}']) + '\n'
