# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Names, switches, defaults and limits of ipvsadm, and the syntax of addresses, netmasks,
forwarding methods and scheduler flags. No I/O."""

from __future__ import annotations

import functools
import ipaddress

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

@functools.lru_cache(maxsize=None)
def ip_parts(value):
    """(canonical text, version, integer) of an IP literal; ValueError if it is none.

    Cached: a large table names the same few thousand addresses hundreds of
    thousands of times (keys, families, sort order), and ipaddress parses slowly.
    """
    if '%' in value:  # a zone id: no meaning to IPVS, and free text reaching files and units
        raise ValueError('%r has a zone id' % (value,))
    ip = ipaddress.ip_address(value)
    return str(ip), ip.version, int(ip)


def canonical_ip(text):
    """Return (canonical address string, family) for an IP literal.

    Brackets around IPv6 literals are accepted. Hostnames are refused
    because ipvsadm would resolve them and make the table nondeterministic;
    so are zone ids (fe80::1%eth0) and surrounding whitespace.
    """
    value = str(text)
    if value.startswith('[') and value.endswith(']'):
        value = value[1:-1]
    try:
        address, version, _int = ip_parts(value)
    except ValueError:
        raise ModelError('%r is not an IPv4 or IPv6 address' % (text,))
    return address, 'ipv%d' % version


def _special(ip):
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return 'an IPv4-mapped IPv6 address (::ffff:a.b.c.d): write the IPv4 address %s' % ip.ipv4_mapped
        if ip in _V4_COMPATIBLE and not ip.is_unspecified and not ip.is_loopback:
            return 'an IPv4-compatible IPv6 address (deprecated, RFC 4291)'
        if ip.is_link_local:
            return 'a link-local IPv6 address (it needs a zone, and a VIP or real server has none)'
    if ip.is_unspecified:
        return 'the unspecified address'
    if ip.is_multicast:
        return 'a multicast address'
    if ip.version == 4 and int(ip) == 0xffffffff:
        return 'the broadcast address'
    return None


_V4_COMPATIBLE = ipaddress.ip_network('::/96')


def usable_ip(text):
    """canonical_ip() of an address a user gives for a VIP or a real server.

    Refuses the special-purpose addresses that cannot be one: unspecified,
    multicast, broadcast, IPv6 link-local, and IPv4 written as IPv6 (mapped or
    compatible), which would turn an IPv4 service into an IPv6 one.
    """
    address, family = canonical_ip(text)
    reason = _special(ipaddress.ip_address(address))
    if reason:
        raise ModelError('%s is %s' % (address, reason))
    return address, family


def family_of(address):
    return 'ipv%d' % ip_parts(address)[1]


def service_family(address=None, fwmark=None, family=None):
    """A service's family: a fwmark service states it (default ipv4), an address-based one has its address's."""
    if fwmark is not None or address is None:
        return family or 'ipv4'
    return family_of(address)


def dest_port(stated, service_port, fwmark):
    """A real server's port: as stated, else the service's; 0 for a fwmark service (ipvsadm's)."""
    if stated is not None:
        return stated
    return 0 if fwmark else service_port


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
