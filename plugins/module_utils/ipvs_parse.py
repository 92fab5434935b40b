# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Parsing ipvsadm's output (ipvsadm 1.31: print_service_entry, print_tunnel_rule,
print_title, list_timeout, list_daemon, print_conn) into the model."""

from __future__ import annotations

from collections import OrderedDict

from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_model import (
    NUMBERS, Dest, Service, Table)
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_syntax import (
    IPVSADM_FORWARDING, LIST_FORWARDING, LIST_PROTOCOL, ModelError, PROTOCOL_SWITCH,
    SWITCH_FORWARDING, SWITCH_PROTOCOL, family_of, format_hostport, full_prefix, prefix_from_netmask,
    sched_flag_bits, split_hostport)


# ---------------------------------------------------------------- parsing -S

NUMBER_SWITCHES = dict((switch, name) for name, number in NUMBERS for switch in (number.switch, number.long_switch))


def _take(tokens, i, what):
    if i + 1 >= len(tokens):
        raise ModelError('option %s needs a value in %r' % (what, ' '.join(tokens)))
    return tokens[i + 1]


def parse_rule(line):
    """Parse one ipvsadm rule line (-S output or our own restore lines).

    Returns (command, Service, Dest or None). Service carries only the key
    for -a/-e/-d lines.
    """
    tokens = line.split()
    if not tokens:
        raise ModelError('empty rule')
    command = tokens[0]
    if command not in ('-A', '-E', '-D', '-a', '-e', '-d'):
        raise ModelError('unknown rule command %r' % command)
    svc = {'sched_flags': frozenset(), 'persistent': False, 'ops': False, 'family': 'ipv4'}
    dst = {}
    flag_text = None
    i = 1
    while i < len(tokens):
        tok = tokens[i]
        if tok in SWITCH_PROTOCOL:
            svc['address'], svc['port'] = split_hostport(_take(tokens, i, tok))
            svc['protocol'] = SWITCH_PROTOCOL[tok]
            svc['family'] = family_of(svc['address'])
            i += 2
            continue
        if tok in ('-f', '--fwmark-service'):
            # ipvsadm prints the u32 mark with %d: 4294967295 reads -1
            svc['fwmark'] = int(_take(tokens, i, tok)) & 0xffffffff
            svc['port'] = 0
            i += 2
            continue
        if tok in ('-6', '--ipv6'):
            svc['family'] = 'ipv6'
            i += 1
            continue
        if tok in ('-s', '--scheduler'):
            svc['scheduler'] = _take(tokens, i, tok)
        elif tok in ('-p', '--persistent'):
            svc['persistent'] = True
            svc['timeout'] = int(_take(tokens, i, tok))
        elif tok in ('-M', '--netmask'):
            svc['netmask_text'] = _take(tokens, i, tok)
        elif tok == '--pe':
            svc['pe'] = _take(tokens, i, tok)
        elif tok in ('-b', '--sched-flags'):
            if i + 1 == len(tokens):
                # print_sched_flags() names only bits 1 and 2 for sh and mh:
                # with flag-3 alone, `ipvsadm -S` prints "-b " and nothing else.
                flag_text = ''
                i += 1
                continue
            flag_text = _take(tokens, i, tok)
        elif tok in ('-r', '--real-server'):
            dst['address'], dst['port'] = split_hostport(_take(tokens, i, tok))
        elif tok in NUMBER_SWITCHES:
            dst[NUMBER_SWITCHES[tok]] = int(_take(tokens, i, tok))
        elif tok == '--tun-type':
            dst['tun_type'] = _take(tokens, i, tok)
        elif tok == '--tun-port':
            dst['tun_port'] = int(_take(tokens, i, tok))
        else:
            if tok in ('-o', '--ops'):
                svc['ops'] = True
            elif tok in SWITCH_FORWARDING:
                dst['forwarding'] = SWITCH_FORWARDING[tok]
            elif tok in ('--tun-nocsum', '--tun-csum', '--tun-remcsum'):
                dst['tun_flags'] = tok[len('--tun-'):]
            else:
                raise ModelError('unknown token %r in %r' % (tok, line))
            i += 1
            continue
        i += 2
    if 'fwmark' not in svc and 'address' not in svc:
        raise ModelError('no service in %r' % line)
    mask = svc.pop('netmask_text', None)
    if svc['persistent']:
        svc['netmask'] = (prefix_from_netmask(mask, svc['family'])
                          if mask is not None else full_prefix(svc['family']))
    if flag_text:
        svc['sched_flags'] = sched_flag_bits(flag_text)
    elif flag_text == '' and svc.get('scheduler') in ('sh', 'mh'):
        svc['sched_flags'] = frozenset([3])
    service = Service(**svc)
    dest = None
    if command in ('-a', '-e', '-d'):
        if 'address' not in dst:
            raise ModelError('no real server in %r' % line)
        dst.setdefault('forwarding', IPVSADM_FORWARDING)
        for name, number in NUMBERS:
            dst.setdefault(name, number.initial)
        if dst['forwarding'] != 'tun':
            dst.pop('tun_type', None)
        elif dst.get('tun_type') in ('gue', 'gre'):
            dst.setdefault('tun_flags', 'nocsum')
        dest = Dest(**dst)
    return command, service, dest


def parse_save(text):
    """Parse `ipvsadm -S -n` (FMT_RULE) output into a Table.

    Thresholds are not part of -S output; merge them with merge_thresholds().
    """
    table = Table()
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith('#'):
            continue
        command, service, dest = parse_rule(line)
        if command == '-A':
            table.add_service(service)
        elif command == '-a':
            if service.key not in table:
                raise ModelError('real server before its service: %r' % line)
            table.add_dest(service.key, dest)
        else:
            raise ModelError('unexpected %s in save output' % command)
    return table


# ---------------------------------------------------------------- parsing -L

_TITLE_COLUMNS = {
    'Forward Weight ActiveConn InActConn': 'default',
    'Forward TunnelInfo Weight ActiveConn InActConn': 'tun_info',
    'Conns InPkts OutPkts InBytes OutBytes': 'stats',
    'CPS InPPS OutPPS InBPS OutBPS': 'rate',
    'Uthreshold Lthreshold ActiveConn InActConn': 'thresholds',
    'Weight PersistConn ActiveConn InActConn': 'persistent_conn',
}
_COUNTER_NAMES = {
    'stats': ('conns', 'inpkts', 'outpkts', 'inbytes', 'outbytes'),
    'rate': ('cps', 'inpps', 'outpps', 'inbps', 'outbps'),
}
_SUFFIX = {'K': 10 ** 3, 'M': 10 ** 6, 'G': 10 ** 9, 'T': 10 ** 12}


def _number(token):
    """print_largenum(): exact digits, or a K/M/G/T suffix without --exact."""
    if token and token[-1] in _SUFFIX:
        return int(token[:-1]) * _SUFFIX[token[-1]]
    return int(token)


def listing_key(tokens):
    """Service key from the head tokens of a -L line; returns (key, used)."""
    if tokens[0] == 'FWM':
        key = '-f %d' % (int(tokens[1]) & 0xffffffff)
        if len(tokens) > 2 and tokens[2] == 'IPv6':
            return key + ' -6', 3
        return key, 2
    if tokens[0] not in LIST_PROTOCOL:
        raise ModelError('unknown protocol in %r' % ' '.join(tokens))
    address, port = split_hostport(tokens[1])
    proto = LIST_PROTOCOL[tokens[0]]
    return '%s %s' % (PROTOCOL_SWITCH[proto], format_hostport(address, port)), 2


def _parse_service_tail(tokens):
    """Scheduler/flags/persistence tail of a default-format service line."""
    info = {'scheduler': tokens[0] if tokens else None, 'scheduler_flags': [],
            'persistent': False, 'persistence_timeout': None,
            'persistence_netmask': None, 'persistence_engine': None,
            'one_packet': False}
    i = 1
    while i < len(tokens):
        tok = tokens[i]
        if tok.startswith('(') and tok.endswith(')'):
            info['scheduler_flags'] = [f for f in tok[1:-1].split(',') if f]
        elif tok == 'persistent':
            info['persistent'] = True
            info['persistence_timeout'] = int(tokens[i + 1])
            i += 1
        elif tok == 'mask':
            info['persistence_netmask'] = tokens[i + 1]
            i += 1
        elif tok == 'pe':
            info['persistence_engine'] = tokens[i + 1]
            i += 1
        elif tok == 'ops':
            info['one_packet'] = True
        i += 1
    return info


def parse_listing(text):
    """Parse `ipvsadm -L -n [--exact] [--stats|--rate|--thresholds|
    --persistent-conn|--tun-info] [-t|-u|-f ...]` output.

    Returns {'version': str or None, 'size': int or None, 'format': name,
    'services': OrderedDict key -> {'info': {...}, 'dests': OrderedDict}}.
    """
    result = {'version': None, 'size': None, 'format': None,
              'services': OrderedDict()}
    current = None
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip():
            continue
        if line.startswith('IP Virtual Server version '):
            parts = line.split()
            result['version'] = parts[4]
            if len(parts) > 5 and parts[5].startswith('(size='):
                result['size'] = int(parts[5][len('(size='):].rstrip(')'))
            continue
        if line.startswith('Prot LocalAddress:Port'):
            cols = ' '.join(line.split()[2:])
            if cols in _TITLE_COLUMNS:
                result['format'] = _TITLE_COLUMNS[cols]
            continue
        if line.startswith('  -> RemoteAddress:Port'):
            cols = ' '.join(line.split()[2:])
            if cols in _TITLE_COLUMNS:
                result['format'] = _TITLE_COLUMNS[cols]
            continue
        fmt = result['format']
        if fmt is None:
            raise ModelError('listing without a title line: %r' % line)
        tokens = line.split()
        if tokens[0] == '->':
            if current is None:
                raise ModelError('real server before service: %r' % line)
            address, port = split_hostport(tokens[1])
            row = _parse_dest_row(fmt, tokens[2:], line)
            row['address'], row['port'] = address, port
            current['dests'][format_hostport(address, port)] = row
            continue
        key, used = listing_key(tokens)
        rest = tokens[used:]
        if fmt in _COUNTER_NAMES:
            info = dict(zip(_COUNTER_NAMES[fmt], [_number(t) for t in rest]))
        else:
            info = _parse_service_tail(rest)
        current = {'info': info, 'dests': OrderedDict()}
        result['services'][key] = current
    return result


def _parse_dest_row(fmt, cols, line):
    try:
        if fmt == 'default':
            return {'forwarding': LIST_FORWARDING[cols[0]], 'weight': int(cols[1]),
                    'active_conns': int(cols[2]), 'inactive_conns': int(cols[3])}
        if fmt == 'tun_info':
            return {'forwarding': LIST_FORWARDING[cols[0]],
                    'tunnel_info': None if cols[1] == 'n/a' else cols[1],
                    'weight': int(cols[2]), 'active_conns': int(cols[3]),
                    'inactive_conns': int(cols[4])}
        if fmt == 'thresholds':
            return {'u_threshold': int(cols[0]), 'l_threshold': int(cols[1]),
                    'active_conns': int(cols[2]), 'inactive_conns': int(cols[3])}
        if fmt == 'persistent_conn':
            return {'weight': int(cols[0]), 'persistent_conns': int(cols[1]),
                    'active_conns': int(cols[2]), 'inactive_conns': int(cols[3])}
        return dict(zip(_COUNTER_NAMES[fmt], [_number(t) for t in cols]))
    except (IndexError, KeyError, ValueError):
        raise ModelError('cannot parse real server line %r' % line)


def merge_thresholds(table, listing):
    """Copy Uthreshold/Lthreshold from a --thresholds listing into table."""
    for key, entry in listing['services'].items():
        if key not in table:
            continue
        for dkey, row in entry['dests'].items():
            dest = table.dest(key, dkey)
            if dest is not None:
                table.add_dest(key, dest.replace(u_threshold=row['u_threshold'],
                                                 l_threshold=row['l_threshold']))
    return table


def parse_timeout(text):
    """list_timeout(): "Timeout (tcp tcpfin udp): 900 120 300"."""
    for line in text.splitlines():
        if line.startswith('Timeout (tcp tcpfin udp):'):
            values = line.split(':', 1)[1].split()
            return {'tcp': int(values[0]), 'tcpfin': int(values[1]), 'udp': int(values[2])}
    raise ModelError('no timeout line in %r' % text)


def parse_daemon(text):
    """list_daemon(): one line per running sync daemon (master/backup)."""
    daemons = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        head, sep, rest = line.partition(' sync daemon (')
        if not sep or not rest.endswith(')'):
            raise ModelError('cannot parse daemon line %r' % line)
        item = {'state': head}
        for part in rest[:-1].split(', '):
            name, _eq, value = part.partition('=')
            if name == 'mcast':
                item['mcast_interface'] = value
            elif name == 'syncid':
                item['syncid'] = int(value)
            elif name == 'maxlen':
                item['sync_maxlen'] = int(value)
            elif name == 'group':
                item['mcast_group'] = value
            elif name == 'port':
                item['mcast_port'] = int(value)
            elif name == 'ttl':
                item['mcast_ttl'] = int(value)
        daemons.append(item)
    return daemons


def parse_connections(text):
    """list_conn()/print_conn(): `ipvsadm -L -n -c [--persistent-conn]`."""
    conns = []
    for line in text.splitlines():
        tokens = line.split()
        if not tokens or line.startswith('IPVS connection entries') or tokens[0] == 'pro':
            continue
        if len(tokens) < 6:
            raise ModelError('cannot parse connection line %r' % line)
        minutes, _sep, seconds = tokens[1].partition(':')
        item = {'protocol': tokens[0].lower(),
                'expires': int(minutes) * 60 + int(seconds),
                'state': tokens[2], 'source': tokens[3],
                'virtual': tokens[4], 'destination': tokens[5]}
        if len(tokens) >= 8:
            item['pe_name'], item['pe_data'] = tokens[6], tokens[7]
        conns.append(item)
    return conns
