# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The nftables rules that mark the traffic of the model's fwmark services.

One table of the collection's own, inet lvs_cluster, replaced in one
transaction (declare, delete, define: nft -f applies a file atomically), so
that other rulesets are never touched and a removed service leaves no rule.

A service's `match` is parsed against an allow list of nftables match
expressions (SELECTORS below) and written back canonically from what was
parsed: no statement, verdict, map or named set can reach the ruleset, whatever
the text held.
"""

from __future__ import annotations

import ipaddress
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_syntax as sx

TABLE = 'inet lvs_cluster'
DEFAULT_PROTOCOLS = ('tcp',)

# Protocol names a match may use, with their numbers (as nft lists them back:
# by name when it has one here, else by number).
PROTOCOLS = {'icmp': 1, 'igmp': 2, 'tcp': 6, 'udp': 17, 'gre': 47, 'esp': 50, 'ah': 51, 'icmpv6': 58,
             'sctp': 132, 'udplite': 136}
_PROTOCOL_NAMES = {number: name for name, number in PROTOCOLS.items()}

# selector words -> (value kind, family, transport): a rule matches one address
# family (the service's) and names its transport once (nft refuses or never
# matches the rest)
SELECTORS = {
    ('ip', 'saddr'): ('ipv4', 'ipv4', None), ('ip', 'daddr'): ('ipv4', 'ipv4', None),
    ('ip6', 'saddr'): ('ipv6', 'ipv6', None), ('ip6', 'daddr'): ('ipv6', 'ipv6', None),
    ('tcp', 'sport'): ('port', None, 'tcp'), ('tcp', 'dport'): ('port', None, 'tcp'),
    ('udp', 'sport'): ('port', None, 'udp'), ('udp', 'dport'): ('port', None, 'udp'),
    ('sctp', 'sport'): ('port', None, 'sctp'), ('sctp', 'dport'): ('port', None, 'sctp'),
    ('meta', 'l4proto'): ('protocol', None, 'protocol'), ('ip', 'protocol'): ('protocol', 'ipv4', 'protocol'),
    ('ip6', 'nexthdr'): ('protocol', 'ipv6', 'protocol'),
    ('iifname',): ('ifname', None, None), ('meta', 'iifname'): ('ifname', None, None),
}
# relational operators, by their canonical spelling ('' is equality, nft's implicit one)
OPERATORS = {'==': '', 'eq': '', '!=': '!=', 'ne': '!=', '<': '<', 'lt': '<', '>': '>', 'gt': '>',
             '<=': '<=', 'le': '<=', '>=': '>=', 'ge': '>='}
MAX_LENGTH = 4096
MAX_SET = 1024

ALLOWED = ('one or more matches SELECTOR [OPERATOR] VALUE, with SELECTOR one of %s; OPERATOR one of '
           '== != < > <= >= (eq ne lt gt le ge; < > <= >= for ports only); VALUE an address, prefix or '
           'range a-b of the selector\'s family, a port or port range, a protocol (%s or 0-255), a quoted '
           'interface name ("eth0", "eth*"), or an anonymous set { a, b } of those; no statement, verdict, '
           'map, named set or variable' % (', '.join(' '.join(s) for s in SELECTORS), ', '.join(PROTOCOLS)))

_TOKEN = re.compile(r'(?:(?P<punct>[{},])|(?P<op>==|!=|<=|>=|<|>)|"(?P<quoted>[^"]*)"|(?P<word>[A-Za-z0-9_.:/*-]+))')
_IFNAME = re.compile(r'[A-Za-z0-9_.:-]{1,15}|[A-Za-z0-9_.:-]{0,14}\*')
_PORT = re.compile(r'[0-9]{1,5}')


class _Bad(Exception):
    """A match outside the allow list; the text says why."""


def _tokens(text):
    """[(kind, text)] of a match; spaces and tabs separate, anything else outside the grammar is refused."""
    if len(text) > MAX_LENGTH:
        raise _Bad('longer than %d characters' % MAX_LENGTH)
    out, pos = [], 0
    while pos < len(text):
        if text[pos] in ' \t':
            pos += 1
            continue
        found = _TOKEN.match(text, pos)
        if not found or found.end() == pos:
            raise _Bad('%r at character %d is outside the grammar' % (text[pos], pos + 1))
        kind = found.lastgroup
        out.append((kind, found.group(kind)))
        pos = found.end()
    return out


def _number(text, low, high, what):
    if not _PORT.fullmatch(text) or not low <= int(text) <= high:
        raise _Bad('%r is not a %s (%d to %d)' % (text, what, low, high))
    return int(text)


def _address_value(text, version):
    """(low, high, canonical text) of an address, prefix or range of one family."""
    family = 'ip' if version == 4 else 'ip6'
    try:
        if '/' in text:
            network = ipaddress.ip_network(text, strict=False)
            if network.version != version or '%' in text:
                raise ValueError
            if network.network_address != ipaddress.ip_address(text.split('/')[0]):
                raise _Bad('%s has host bits set: the prefix is %s' % (text, network))
            return int(network.network_address), int(network.broadcast_address), str(network)
        parts = text.split('-')
        if len(parts) > 2:
            raise ValueError
        ends = [ipaddress.ip_address(sx.canonical_ip(part)[0]) for part in parts]
        if any(end.version != version for end in ends):
            raise ValueError
    except (ValueError, sx.ModelError):
        raise _Bad('%r is not an IPv%d address, prefix or range (%s takes IPv%d)' % (text, version, family, version))
    if len(ends) == 2 and ends[0] >= ends[1]:
        raise _Bad('range %s is empty: its first address must be below its last' % text)
    return int(ends[0]), int(ends[-1]), '-'.join(str(end) for end in ends)


def _port_value(text):
    parts = text.split('-')
    if len(parts) > 2:
        raise _Bad('%r is not a port or port range' % text)
    ends = [_number(part, 1, 65535, 'port') for part in parts]
    if len(ends) == 2 and ends[0] >= ends[1]:
        raise _Bad('port range %s is empty: its first port must be below its last' % text)
    return ends[0], ends[-1], '-'.join(str(end) for end in ends)


def _protocol_value(text):
    number = PROTOCOLS.get(text.lower())
    if number is None:
        if not _PORT.fullmatch(text):
            raise _Bad('%r is not a protocol: one of %s, or a number 0 to 255' % (text, ', '.join(PROTOCOLS)))
        number = _number(text, 0, 255, 'protocol number')
    return number, number, _PROTOCOL_NAMES.get(number, str(number))


def _value(kind, token):
    """(low, high, canonical text) of one value; low and high order a set and find overlaps."""
    tkind, text = token
    if kind == 'ifname':
        if not _IFNAME.fullmatch(text) or text in ('.', '..'):
            raise _Bad('%r is not an interface name (up to 15 of A-Z a-z 0-9 _ . : -, or a prefix and *)' % text)
        return text, text, '"%s"' % text
    if tkind != 'word':
        raise _Bad('%r: a %s is written without quotes' % (text, 'port' if kind == 'port' else kind))
    if kind in ('ipv4', 'ipv6'):
        return _address_value(text, 4 if kind == 'ipv4' else 6)
    if kind == 'port':
        return _port_value(text)
    return _protocol_value(text)


def _values(kind, tokens, pos):
    """(canonical text, position after) of one value or an anonymous set."""
    if pos >= len(tokens):
        raise _Bad('a value is missing at the end')
    if tokens[pos] != ('punct', '{'):
        if tokens[pos][0] not in ('word', 'quoted'):
            raise _Bad('%r where a value belongs' % tokens[pos][1])
        return _value(kind, tokens[pos])[2], pos + 1
    items, pos = [], pos + 1
    while True:
        if pos >= len(tokens):
            raise _Bad('a set is not closed with "}"')
        if tokens[pos] == ('punct', '}') and items:
            break
        if tokens[pos][0] not in ('word', 'quoted'):
            raise _Bad('%r where a set element belongs (sets are flat and not empty)' % tokens[pos][1])
        items.append(_value(kind, tokens[pos]))
        pos += 1
        if pos < len(tokens) and tokens[pos] == ('punct', ','):
            pos += 1
        elif pos < len(tokens) and tokens[pos] != ('punct', '}'):
            raise _Bad('set elements are separated by ","')
    if len(items) > MAX_SET:
        raise _Bad('a set of more than %d elements' % MAX_SET)
    items = sorted(set(items))
    for before, after in zip(items, items[1:]):
        if kind != 'ifname' and after[0] <= before[1]:
            raise _Bad('set elements %s and %s overlap' % (before[2], after[2]))
    if len(items) == 1:
        return items[0][2], pos + 1
    return '{ %s }' % ', '.join(item[2] for item in items), pos + 1


def parse_match(text, family='ipv4'):
    """The canonical nft text of a match, from the allow list; _Bad says what is outside it."""
    tokens = _tokens(text)
    if not tokens:
        raise _Bad('it is empty')
    clauses, transports, seen, pos = [], {}, set(), 0
    while pos < len(tokens):
        words = []
        while pos < len(tokens) and tokens[pos][0] == 'word' and len(words) < 2 and \
                tuple(words + [tokens[pos][1]]) in {key[:len(words) + 1] for key in SELECTORS}:
            words.append(tokens[pos][1])
            pos += 1
        if tuple(words) not in SELECTORS:
            where = ' '.join(words + [tokens[pos][1]] if pos < len(tokens) else words)
            raise _Bad('%r is not a selector of the allow list' % where)
        kind, selector_family, transport = SELECTORS[tuple(words)]
        spelt = 'iifname' if kind == 'ifname' else ' '.join(words)  # as nft lists it back
        if spelt in seen:
            # nft would merge or reorder the two (>= a <= b lists back as a-b)
            raise _Bad('%s twice: a rule names each selector once (a set or range says "either")' % spelt)
        seen.add(spelt)
        operator = ''
        if pos < len(tokens) and (tokens[pos][0] == 'op' or tokens[pos] in (('word', w) for w in OPERATORS)):
            operator = OPERATORS[tokens[pos][1]]
            pos += 1
        if operator not in ('', '!=') and kind != 'port':
            raise _Bad('%s compares ports only, not %s' % (operator, ' '.join(words)))
        value, after = _values(kind, tokens, pos)
        if operator not in ('', '!=') and (value.startswith('{') or '-' in value):
            raise _Bad('%s takes one port, not a set or range' % operator)
        pos = after
        if selector_family not in (None, family):
            raise _Bad('%s matches %s traffic, and the service is %s' % (' '.join(words), selector_family, family))
        if transport:
            transports.setdefault(transport, ' '.join(words))
        if len(transports) > 1:
            raise _Bad('%s: a rule names its transport once (the ports of one of tcp, udp, sctp, or a protocol)'
                       % ' and '.join(sorted(transports.values())))
        clauses.append(' '.join([spelt] + ([operator] if operator else []) + [value]))
    return ' '.join(clauses)


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
        if not isinstance(service['match'], str):
            raise AnsibleFilterError('%s.match: must be a string, got %r' % (sfield, service['match']))
        try:
            return [parse_match(service['match'], service.get('family') or 'ipv4')]
        except _Bad as exc:
            raise AnsibleFilterError('%s.match: %s. Allowed: %s' % (sfield, exc, ALLOWED))
    if 'ports' not in given:
        raise AnsibleFilterError('%s.protocols: needs ports' % sfield)
    for port in service['ports']:
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise AnsibleFilterError('%s.ports: %r is not a port (1 to 65535)' % (sfield, port))
    for proto in service.get('protocols') or ():
        if proto not in ('tcp', 'udp', 'sctp'):
            raise AnsibleFilterError('%s.protocols: %r is not one of tcp, udp, sctp' % (sfield, proto))
    vips = service.get('vips') or []
    if not vips:
        raise AnsibleFilterError('%s.ports: needs vips, the addresses the traffic goes to' % sfield)
    version = 6 if service.get('family') == 'ipv6' else 4
    addresses = []
    for vip in vips:
        try:
            address, family = sx.canonical_ip(vip)
        except sx.ModelError:
            raise AnsibleFilterError('%s.vips: %r is not an IP address' % (sfield, vip))
        if family != 'ipv%d' % version:
            raise AnsibleFilterError('%s.vips: %s is not an IPv%d address, as the service\'s family is'
                                     % (sfield, address, version))
        addresses.append(address)
    daddr = '%s daddr %s' % ('ip' if version == 4 else 'ip6', _set(sorted(set(addresses))))
    ports = _set([str(p) for p in sorted(set(service['ports']))])
    return ['%s %s dport %s' % (daddr, proto, ports)
            for proto in sorted(set(service.get('protocols') or DEFAULT_PROTOCOLS))]


def _set(items):
    """One value, or an anonymous set: as `nft list` prints them back."""
    return items[0] if len(items) == 1 else '{ %s }' % ', '.join(items)


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
