# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Pure data model of the IPVS table: parsing, normalisation, diff, rendering.

No I/O happens here. Formats follow ipvsadm 1.31 (ipvsadm.c print_service_entry,
print_tunnel_rule, print_title, list_timeout, list_daemon, print_conn).
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict

FAMILIES = ('ipv4', 'ipv6')
PROTOCOLS = ('tcp', 'udp', 'sctp')
PROTOCOL_SWITCH = {'tcp': '-t', 'udp': '-u', 'sctp': '--sctp-service'}
SWITCH_PROTOCOL = {'-t': 'tcp', '--tcp-service': 'tcp', '-u': 'udp',
                   '--udp-service': 'udp', '--sctp-service': 'sctp'}
LIST_PROTOCOL = {'TCP': 'tcp', 'UDP': 'udp', 'SCTP': 'sctp'}

SCHEDULERS = ('rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed',
              'nq', 'fo', 'ovf', 'mh')
DEFAULT_SCHEDULER = 'wlc'  # ipvsadm.c DEF_SCHED
# The manual documents 300 s; ipvsadm 1.31 code uses 360 for a bare "-p".
# Modules therefore always pass the timeout explicitly.
DEFAULT_PERSISTENCE_TIMEOUT = 300
MAX_PERSISTENCE_TIMEOUT = 86400 * 31  # ipvsadm.c MAX_TIMEOUT

# Scheduler flag names -> kernel bit (IP_VS_SVC_F_SCHED1..3).
SCHED_FLAG_BITS = {
    'flag-1': 1, 'flag-2': 2, 'flag-3': 3,
    'sh-fallback': 1, 'sh-port': 2,
    'mh-fallback': 1, 'mh-port': 2,
}
SCHED_FLAG_OWNER = {'sh-fallback': 'sh', 'sh-port': 'sh',
                    'mh-fallback': 'mh', 'mh-port': 'mh'}

FORWARDING = ('nat', 'dr', 'tun')
FORWARDING_ALIASES = {
    'nat': 'nat', 'masq': 'nat', 'masquerading': 'nat', 'm': 'nat',
    'dr': 'dr', 'gate': 'dr', 'gatewaying': 'dr', 'route': 'dr',
    'droute': 'dr', 'direct': 'dr', 'g': 'dr',
    'tun': 'tun', 'ipip': 'tun', 'tunnel': 'tun', 'i': 'tun',
}
FORWARDING_SWITCH = {'nat': '-m', 'dr': '-g', 'tun': '-i'}
SWITCH_FORWARDING = {'-m': 'nat', '--masquerading': 'nat', '-g': 'dr',
                     '--gatewaying': 'dr', '-i': 'tun', '--ipip': 'tun'}
LIST_FORWARDING = {'Masq': 'nat', 'Route': 'dr', 'Local': 'dr', 'Tunnel': 'tun'}

TUN_TYPES = ('ipip', 'gue', 'gre')
TUN_FLAGS = ('nocsum', 'csum', 'remcsum')
DEFAULT_WEIGHT = 1
# What a new real server that states no method gets: NAT, the method the docs and
# the demo start from, and the roles' default since 0.1.0 (the modules followed in 0.2.0).
DEFAULT_FORWARDING = 'nat'
IPVSADM_FORWARDING = 'dr'  # what a rule without -m/-g/-i means (ipvsadm.c: IP_VS_CONN_F_DROUTE)


class ModelError(ValueError):
    """Raised when text cannot be parsed as ipvsadm output."""


# ---------------------------------------------------------------- addresses

def canonical_ip(text):
    """Return (canonical address string, family) for an IP literal.

    Brackets around IPv6 literals are accepted. Hostnames are refused
    because ipvsadm would resolve them and make the table nondeterministic.
    """
    value = str(text).strip()
    if value.startswith('[') and value.endswith(']'):
        value = value[1:-1]
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        raise ModelError('%r is not an IPv4 or IPv6 address' % (text,))
    return str(ip), 'ipv%d' % ip.version


def family_of(address):
    return 'ipv%d' % ipaddress.ip_address(address).version


def format_hostport(address, port):
    """ipvsadm's numeric addrport_to_anyname(): IPv6 in brackets."""
    if family_of(address) == 'ipv6':
        return '[%s]:%d' % (address, port)
    return '%s:%d' % (address, port)


def split_hostport(text):
    """Split "a.b.c.d:p" or "[v6]:p" into (canonical address, port int)."""
    if text.startswith('['):
        end = text.find(']')
        if end < 0 or text[end + 1:end + 2] != ':':
            raise ModelError('bad address:port %r' % text)
        host, port = text[1:end], text[end + 2:]
    else:
        host, sep, port = text.rpartition(':')
        if not sep:
            raise ModelError('bad address:port %r' % text)
    if not port.isdigit():
        raise ModelError('bad port in %r' % text)
    return canonical_ip(host)[0], int(port)


def prefix_from_netmask(value, family):
    """Accept a dotted IPv4 mask, a prefix length ("24", "/24", 24).

    Returns the prefix length as int. Raises ValueError on bad input,
    including non-contiguous IPv4 masks (they cannot round-trip cleanly).
    """
    text = str(value).strip().lstrip('/')
    if family == 'ipv4' and '.' in text:
        try:
            return ipaddress.IPv4Network('0.0.0.0/%s' % text).prefixlen
        except ValueError:
            raise ValueError('%r is not a contiguous IPv4 netmask' % (value,))
    if not text.isdigit():
        raise ValueError('%r is neither a netmask nor a prefix length' % (value,))
    prefix = int(text)
    # ipvsadm refuses IPv6 prefix 0 ("illegal ipv6 netmask specified").
    low, high = (0, 32) if family == 'ipv4' else (1, 128)
    if not low <= prefix <= high:
        raise ValueError('prefix length %d is outside %d..%d' % (prefix, low, high))
    return prefix


def netmask_text(prefix, family):
    """How ipvsadm -S prints a persistence netmask (-M)."""
    if family == 'ipv4':
        return str(ipaddress.IPv4Network('0.0.0.0/%d' % prefix).netmask)
    return str(prefix)


def full_prefix(family):
    return 32 if family == 'ipv4' else 128


def normalise_forwarding(value):
    if value is None:
        return None
    key = str(value).strip().lower()
    if key not in FORWARDING_ALIASES:
        raise ValueError('unknown forwarding method %r' % (value,))
    return FORWARDING_ALIASES[key]


def sched_flag_bits(names):
    """Flag names (list or comma string) -> frozenset of SCHED bits."""
    if isinstance(names, str):
        names = [n for n in names.split(',') if n]
    bits = set()
    for name in names:
        name = name.strip()
        if name not in SCHED_FLAG_BITS:
            raise ValueError('unknown scheduler flag %r' % (name,))
        bits.add(SCHED_FLAG_BITS[name])
    return frozenset(bits)


def sched_flag_names(scheduler, bits):
    """Mirror ipvsadm.c print_sched_flags(): names depend on the scheduler."""
    if scheduler in ('sh', 'mh'):
        table = {1: scheduler + '-fallback', 2: scheduler + '-port'}
    else:
        table = {1: 'flag-1', 2: 'flag-2', 3: 'flag-3'}
    return [table[b] for b in sorted(bits) if b in table]


# ---------------------------------------------------------------- entities

class _Record(object):
    """Small slotted record with value equality (py3.8 friendly)."""

    __slots__ = ()

    def __init__(self, **kwargs):
        for name in self.__slots__:
            setattr(self, name, kwargs.pop(name, None))
        if kwargs:
            raise TypeError('unknown fields: %s' % ', '.join(sorted(kwargs)))

    def _values(self):
        return tuple(getattr(self, n) for n in self.__slots__)

    def __eq__(self, other):
        return type(self) is type(other) and self._values() == other._values()

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(self._values())

    def __repr__(self):
        return '%s(%s)' % (type(self).__name__, ', '.join(
            '%s=%r' % (n, getattr(self, n)) for n in self.__slots__))

    def replace(self, **changes):
        values = dict((n, getattr(self, n)) for n in self.__slots__)
        values.update(changes)
        return type(self)(**values)


class Service(_Record):
    """A virtual service. Fields set to None mean "not stated" (desired side).

    sched_flags is a frozenset of bits 1..3; netmask a prefix length.
    """

    __slots__ = ('protocol', 'address', 'port', 'fwmark', 'family',
                 'scheduler', 'sched_flags', 'persistent', 'timeout',
                 'netmask', 'pe', 'ops')

    @property
    def key_args(self):
        """The service part of an ipvsadm rule, e.g. ['-t', '10.0.0.1:80']."""
        if self.fwmark:
            args = ['-f', str(self.fwmark)]
            if self.family == 'ipv6':
                args.append('-6')
            return args
        return [PROTOCOL_SWITCH[self.protocol],
                format_hostport(self.address, self.port)]

    @property
    def key(self):
        return ' '.join(self.key_args)

    def resolve(self, current=None):
        """Fill unstated fields from the current service or ipvsadm defaults."""
        cur = current
        scheduler = self.scheduler or (cur.scheduler if cur else DEFAULT_SCHEDULER)
        flags = self.sched_flags
        if flags is None:
            flags = cur.sched_flags if cur else frozenset()
        persistent = self.persistent
        if persistent is None:
            persistent = bool(cur and cur.persistent)
        timeout = netmask = None
        if persistent:
            timeout = self.timeout
            if timeout is None:
                timeout = cur.timeout if cur and cur.persistent else DEFAULT_PERSISTENCE_TIMEOUT
            netmask = self.netmask
            if netmask is None:
                netmask = cur.netmask if cur and cur.persistent else full_prefix(self.family)
        pe = self.pe
        if pe is None:
            pe = cur.pe if cur else None
        ops = self.ops
        if ops is None:
            ops = bool(cur and cur.ops)
        return self.replace(scheduler=scheduler, sched_flags=frozenset(flags),
                            persistent=persistent, timeout=timeout,
                            netmask=netmask, pe=pe or None, ops=ops)

    def config(self):
        """Fields an edit (-E) can change; used to compare services."""
        return (self.scheduler, self.sched_flags, self.persistent,
                self.timeout, self.netmask, self.pe, self.ops)

    def rule_args(self, command='-A'):
        args = [command] + self.key_args + ['-s', self.scheduler]
        if self.persistent:
            args += ['-p', str(self.timeout)]
            if self.netmask is not None and self.netmask != full_prefix(self.family):
                args += ['-M', netmask_text(self.netmask, self.family)]
        if self.pe:
            args += ['--pe', self.pe]
        if self.ops:
            args.append('-o')
        if self.sched_flags:
            names = sched_flag_names(self.scheduler, self.sched_flags)
            if names:
                args += ['-b', ','.join(names)]
        return args

    def to_dict(self):
        return {
            'key': self.key,
            'protocol': None if self.fwmark else self.protocol,
            'address': None if self.fwmark else self.address,
            'port': None if self.fwmark else self.port,
            'fwmark': self.fwmark or None,
            'family': self.family,
            'scheduler': self.scheduler,
            'scheduler_flags': sched_flag_names(self.scheduler, self.sched_flags or ()),
            'persistent': bool(self.persistent),
            'persistence_timeout': self.timeout if self.persistent else None,
            'persistence_netmask': (netmask_text(self.netmask, self.family)
                                    if self.persistent and self.netmask is not None else None),
            'persistence_engine': self.pe,
            'one_packet': bool(self.ops),
        }


class Dest(_Record):
    """A real server. tun_* fields are only meaningful for forwarding tun."""

    __slots__ = ('address', 'port', 'forwarding', 'weight', 'u_threshold',
                 'l_threshold', 'tun_type', 'tun_port', 'tun_flags')

    @property
    def family(self):
        return family_of(self.address)

    @property
    def key(self):
        return format_hostport(self.address, self.port)

    def resolve(self, service, current=None):
        """Fill unstated fields from the current dest or ipvsadm defaults."""
        cur = current
        port = self.port
        if port is None:
            port = 0 if service.fwmark else service.port
        fwd = self.forwarding or (cur.forwarding if cur else DEFAULT_FORWARDING)
        if fwd in ('dr', 'tun') and not service.fwmark:
            port = service.port  # ipvsadm forces vport for DR/TUN
        weight = self.weight
        if weight is None:
            weight = cur.weight if cur else DEFAULT_WEIGHT
        upper = self.u_threshold
        if upper is None:
            upper = cur.u_threshold if cur else 0
        lower = self.l_threshold
        if lower is None:
            lower = cur.l_threshold if cur else 0
        tun_type = tun_port = tun_flags = None
        if fwd == 'tun':
            cur_tun = cur if cur and cur.forwarding == 'tun' else None
            tun_type = self.tun_type or (cur_tun.tun_type if cur_tun else None) or 'ipip'
            same = cur_tun is not None and cur_tun.tun_type == tun_type
            # Stated values are kept even when they do not fit, so that
            # validation can refuse them instead of dropping them silently.
            tun_port = self.tun_port
            if tun_port is None and same:
                tun_port = cur_tun.tun_port
            tun_flags = self.tun_flags
            if tun_flags is None and same:
                tun_flags = cur_tun.tun_flags
            if tun_flags is None and tun_type in ('gue', 'gre'):
                tun_flags = 'nocsum'
        return self.replace(port=port, forwarding=fwd, weight=weight,
                            u_threshold=upper or 0, l_threshold=lower or 0,
                            tun_type=tun_type, tun_port=tun_port,
                            tun_flags=tun_flags)

    def config(self):
        return (self.forwarding, self.weight, self.u_threshold,
                self.l_threshold, self.tun_type, self.tun_port, self.tun_flags)

    def rule_args(self, service, command='-a'):
        """Mirror print_tunnel_rule(); thresholds appended when non-zero."""
        args = [command] + service.key_args + ['-r', self.key]
        if command == '-d':
            return args
        args += [FORWARDING_SWITCH[self.forwarding], '-w', str(self.weight)]
        if self.u_threshold:
            args += ['-x', str(self.u_threshold)]
        if self.l_threshold:
            args += ['-y', str(self.l_threshold)]
        if self.forwarding == 'tun' and self.tun_type:
            args += ['--tun-type', self.tun_type]
            if self.tun_type == 'gue':
                args += ['--tun-port', str(self.tun_port)]
            if self.tun_type in ('gue', 'gre'):
                args.append('--tun-' + (self.tun_flags or 'nocsum'))
        return args

    def to_dict(self):
        return {
            'key': self.key,
            'address': self.address,
            'port': self.port,
            'forwarding': self.forwarding,
            'weight': self.weight,
            'u_threshold': self.u_threshold,
            'l_threshold': self.l_threshold,
            'tun_type': self.tun_type,
            'tun_port': self.tun_port,
            'tun_flags': self.tun_flags,
        }


class Table(object):
    """Ordered mapping service key -> (Service, OrderedDict dest key -> Dest)."""

    def __init__(self):
        self._entries = OrderedDict()

    def add_service(self, service):
        self._entries[service.key] = (service, OrderedDict())

    def set_service(self, service):
        dests = self._entries[service.key][1] if service.key in self._entries else OrderedDict()
        self._entries[service.key] = (service, dests)

    def remove_service(self, key):
        self._entries.pop(key, None)

    def add_dest(self, service_key, dest):
        self._entries[service_key][1][dest.key] = dest

    def remove_dest(self, service_key, dest_key):
        self._entries[service_key][1].pop(dest_key, None)

    def service(self, key):
        entry = self._entries.get(key)
        return entry[0] if entry else None

    def dests(self, key):
        entry = self._entries.get(key)
        return entry[1] if entry else OrderedDict()

    def dest(self, service_key, dest_key):
        return self.dests(service_key).get(dest_key)

    def keys(self):
        return list(self._entries)

    def __contains__(self, key):
        return key in self._entries

    def __len__(self):
        return len(self._entries)

    def copy(self):
        new = Table()
        for key, (svc, dests) in self._entries.items():
            new._entries[key] = (svc, OrderedDict(dests))
        return new

    def subset(self, keys):
        new = Table()
        for key in keys:
            if key in self._entries:
                svc, dests = self._entries[key]
                new._entries[key] = (svc, OrderedDict(dests))
        return new

    def __eq__(self, other):
        if not isinstance(other, Table) or set(self.keys()) != set(other.keys()):
            return False
        for key in self.keys():
            if self.service(key) != other.service(key):
                return False
            if dict(self.dests(key)) != dict(other.dests(key)):
                return False
        return True

    def __ne__(self, other):
        return not self == other


# ---------------------------------------------------------------- parsing -S

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
            svc['fwmark'] = int(_take(tokens, i, tok))
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
        elif tok in ('-w', '--weight'):
            dst['weight'] = int(_take(tokens, i, tok))
        elif tok in ('-x', '--u-threshold'):
            dst['u_threshold'] = int(_take(tokens, i, tok))
        elif tok in ('-y', '--l-threshold'):
            dst['l_threshold'] = int(_take(tokens, i, tok))
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
        dst.setdefault('weight', DEFAULT_WEIGHT)
        dst.setdefault('u_threshold', 0)
        dst.setdefault('l_threshold', 0)
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
        key = '-f %d' % int(tokens[1])
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


# ---------------------------------------------------------------- diff

class Op(_Record):
    """One kernel operation. kind: add/edit/delete service, add/edit/delete dest."""

    __slots__ = ('kind', 'service', 'dest')

    COMMAND = {'add_service': '-A', 'edit_service': '-E', 'delete_service': '-D',
               'add_dest': '-a', 'edit_dest': '-e', 'delete_dest': '-d'}

    def args(self):
        command = self.COMMAND[self.kind]
        if self.kind == 'delete_service':
            return [command] + self.service.key_args
        if self.dest is None:
            return self.service.rule_args(command)
        return self.dest.rule_args(self.service, command)

    def line(self):
        return ' '.join(self.args())


class Scope(_Record):
    """What a diff may touch beyond the desired entries.

    purge_dests: remove dests of desired services that are not listed.
    absent_services: service keys to delete.
    absent_dests: (service key, dest key) pairs to delete.
    unmanaged: keys of desired services whose dests are left alone.
    """

    __slots__ = ('purge_dests', 'absent_services', 'absent_dests', 'unmanaged')


def diff(current, desired, scope=None):
    """Minimal ordered Op list turning `current` into `desired`.

    desired is a Table of resolved services and dests. Existing keys are
    edited (-E/-e), never deleted and re-added; a changed key is a different
    service, so the old one goes only if listed in scope.absent_services.
    Order: service deletes, then per service add/edit, dest deletes, edits,
    adds, then explicit dest deletes.
    """
    scope = scope or Scope()
    unmanaged = set(scope.unmanaged or ())
    ops = []
    for key in scope.absent_services or ():
        svc = current.service(key)
        if svc is not None:
            ops.append(Op(kind='delete_service', service=svc))
    for key in desired.keys():
        want = desired.service(key)
        have = current.service(key)
        if have is None:
            ops.append(Op(kind='add_service', service=want))
        elif have.config() != want.config():
            ops.append(Op(kind='edit_service', service=want))
        if key in unmanaged:
            continue
        have_dests = current.dests(key)
        want_dests = desired.dests(key)
        if scope.purge_dests:
            for dkey, dest in have_dests.items():
                if dkey not in want_dests:
                    ops.append(Op(kind='delete_dest', service=want, dest=dest))
        adds = []
        for dkey, dest in want_dests.items():
            old = have_dests.get(dkey)
            if old is None:
                adds.append(Op(kind='add_dest', service=want, dest=dest))
            elif old.config() != dest.config():
                ops.append(Op(kind='edit_dest', service=want, dest=dest))
        ops.extend(adds)
    deleted = set(scope.absent_services or ())
    for skey, dkey in scope.absent_dests or ():
        if skey in deleted or skey not in current:
            continue
        dest = current.dest(skey, dkey)
        if dest is not None:
            ops.append(Op(kind='delete_dest', service=current.service(skey), dest=dest))
    return ops


def drain_split(ops):
    """Split ops for graceful removals: (before, deletes).

    before: every other op, then weight 0 for each real server about to be
    deleted (no new connections go to it while its own finish); deletes: the
    deletions, applied once the connections ended.
    """
    deletes = [op for op in ops if op.kind == 'delete_dest']
    before = [op for op in ops if op.kind != 'delete_dest']
    before += [Op(kind='edit_dest', service=op.service, dest=op.dest.replace(weight=0))
               for op in deletes if op.dest.weight != 0]
    return before, deletes


def apply_ops(table, ops):
    """Predict the table after ops (what the kernel should hold)."""
    result = table.copy()
    for op in ops:
        key = op.service.key
        if op.kind == 'add_service':
            result.add_service(op.service)
        elif op.kind == 'edit_service':
            result.set_service(op.service)
        elif op.kind == 'delete_service':
            result.remove_service(key)
        elif op.kind in ('add_dest', 'edit_dest'):
            result.add_dest(key, op.dest)
        elif op.kind == 'delete_dest':
            result.remove_dest(key, op.dest.key)
    return result


def dest_sort_key(dest):
    """Canonical real-server order: IPv4 before IPv6, then address, then port.

    The kernel keeps real servers in insertion order and ipvsadm sorts them
    when listing, so a predicted table (new servers appended) and the table
    read back after applying it list them differently; everything shown to
    the user is sorted with this key so that check mode and the real run agree.
    """
    ip = ipaddress.ip_address(dest.address)
    return (ip.version, int(ip), dest.port)


def sorted_dests(table, key):
    return sorted(table.dests(key).values(), key=dest_sort_key)


def service_sort_key(service):
    """Canonical service order (fwmark services last), for the same reason as dest_sort_key:
    ipvsadm lists services in the kernel's hash order, a prediction has them in insertion order."""
    if service.fwmark:
        return (1, service.family, service.fwmark, 0, 0)
    ip = ipaddress.ip_address(service.address)
    return (0, ip.version, int(ip), service.port, PROTOCOLS.index(service.protocol))


def render_table(table, keys=None):
    """Readable ipvsadm-style lines (save format plus -x/-y thresholds), in canonical order."""
    lines = []
    keys = table.keys() if keys is None else keys
    for key in sorted((k for k in keys if k in table), key=lambda k: service_sort_key(table.service(k))):
        svc = table.service(key)
        if svc is None:
            continue
        lines.append(' '.join(svc.rule_args('-A')))
        for dest in sorted_dests(table, key):
            lines.append(' '.join(dest.rule_args(svc, '-a')))
    return lines


def restore_script(ops):
    """stdin for `ipvsadm -R`: one rule per line, newline-terminated."""
    return ''.join(op.line() + '\n' for op in ops)
