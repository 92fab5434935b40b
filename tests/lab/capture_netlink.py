# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Capture the kernel's IPVS generic netlink answers for the unit tests' fake.

Runs as root next to a kernel with IPVS (the lab VM), where it owns the IPVS
table: every case starts from IPVS_CMD_FLUSH. Usage, from the repository:

    python3 lab/lab.py run -- python3 tests/lab/capture_netlink.py \
        tests/unit/fixtures/netlink_lab.json

Each case: setup requests (must be accepted), then probes: a request and the
kernel's answer (ok or the errno's name), a dump of one service's real
servers, or the whole table as the dumps read it back. The requests are built
here from the kernel's uapi (include/uapi/linux/ip_vs.h), not with the
collection's code, so that test_netlink_fake.py can replay the same bytes
through tests/unit/netlink_fake.py and compare every answer.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import struct
import subprocess
import sys

NETLINK_GENERIC = 16
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 0x1, 0x4, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 0x10, 3, 1, 2
SOL_NETLINK, NETLINK_CAP_ACK = 270, 10
NLA_F_NESTED = 0x8000

CMD = dict(new_service=1, set_service=2, del_service=3, get_service=4, new_dest=5, set_dest=6,
           del_dest=7, get_dest=8, flush=17)
CMD_ATTR_SERVICE, CMD_ATTR_DEST = 1, 2
AF = dict(ipv4=2, ipv6=10)
# attribute: (type, encoding); the stats attributes are left out (traffic, not state)
SERVICE_ATTRS = dict(af=(1, 'u16'), protocol=(2, 'u16'), addr=(3, 'addr'), port=(4, 'be16'), fwmark=(5, 'u32'),
                     sched_name=(6, 'str'), flags=(7, 'flags'), timeout=(8, 'u32'), netmask=(9, 'netmask'),
                     pe_name=(11, 'str'))
DEST_ATTRS = dict(addr=(1, 'addr'), port=(2, 'be16'), fwd_method=(3, 'u32'), weight=(4, 'i32'),
                  u_thresh=(5, 'u32'), l_thresh=(6, 'u32'), active_conns=(7, 'u32'), inact_conns=(8, 'u32'),
                  persist_conns=(9, 'u32'), addr_family=(11, 'u16'), tun_type=(13, 'u8'), tun_port=(14, 'be16'),
                  tun_flags=(15, 'u16'))
PACK = dict(u8='=B', u16='=H', be16='!H', u32='=I', i32='=i')


# ---------------------------------------------------------------- attributes

def attr(kind, payload):
    size = 4 + len(payload)
    return struct.pack('=HH', size, kind) + payload + b'\0' * (-size % 4)


def parse_attrs(data):
    out, pos = {}, 0
    while pos + 4 <= len(data):
        size, kind = struct.unpack_from('=HH', data, pos)
        if size < 4:
            break
        out[kind & 0x3fff] = data[pos + 4:pos + size]
        pos += (size + 3) & ~3
    return out


def encode(fields, table):
    """{name: value} -> attributes. {'hex': ...} is a payload as given (what
    no well-formed request has); a negative number is its 32-bit pattern."""
    parts = []
    for name in sorted(fields, key=lambda n: table[n][0]):
        kind, how = table[name]
        value = fields[name]
        if isinstance(value, dict):
            payload = bytes.fromhex(value['hex'])
        elif how == 'addr':
            packed = socket.inet_pton(socket.AF_INET6 if ':' in value else socket.AF_INET, value)
            payload = packed + b'\0' * (16 - len(packed))
        elif how == 'str':
            payload = value.encode('ascii') + b'\0'
        elif how == 'flags':
            payload = struct.pack('=II', value[0], value[1])
        elif how == 'netmask':  # IPv4: a mask in network order (text); IPv6: a prefix length in host order
            payload = socket.inet_aton(value) if isinstance(value, str) else struct.pack('=I', value)
        else:
            payload = struct.pack('=I' if how == 'i32' else PACK[how], value & 0xffffffff if how == 'i32' else value)
        parts.append(attr(kind, payload))
    return b''.join(parts)


def request_attrs(req):
    """The generic netlink attributes of one request of a case."""
    parts = []
    if 'service' in req:
        parts.append(attr(CMD_ATTR_SERVICE | NLA_F_NESTED, encode(req['service'], SERVICE_ATTRS)))
    if 'dest' in req:
        parts.append(attr(CMD_ATTR_DEST | NLA_F_NESTED, encode(req['dest'], DEST_ATTRS)))
    return b''.join(parts)


def _text_addr(family, raw):
    if family == AF['ipv6']:
        return socket.inet_ntop(socket.AF_INET6, bytes(raw[:16]))
    return socket.inet_ntop(socket.AF_INET, bytes(raw[:4]))


def decode(data, table, family):
    """Attributes -> {name: value}, the inverse of encode()."""
    attrs = parse_attrs(data)
    if table is DEST_ATTRS and 11 in attrs:
        family = struct.unpack('=H', attrs[11])[0]
    out = {}
    for name, (kind, how) in table.items():
        if kind not in attrs:
            continue
        raw = attrs[kind]
        if how == 'addr':
            out[name] = _text_addr(family, raw)
        elif how == 'str':
            out[name] = raw.split(b'\0')[0].decode('ascii')
        elif how == 'flags':
            out[name] = ['0x%x' % v for v in struct.unpack('=II', raw[:8])]
        elif how == 'netmask':
            out[name] = _text_addr(family, raw) if family == AF['ipv4'] else struct.unpack('=I', raw[:4])[0]
        else:
            out[name] = struct.unpack(PACK[how], raw[:struct.calcsize(PACK[how])])[0]
    return out


# ---------------------------------------------------------------- the socket

class Channel(object):
    """Requests and dumps over one generic netlink socket (the kernel's, or
    the unit tests' fake of it)."""

    def __init__(self, sock):
        self.sock = sock
        self.seq = 0
        self.family = self._family()

    def _send(self, kind, flags, cmd, version, payload):
        self.seq += 1
        body = struct.pack('=BBH', cmd, version, 0) + payload
        self.sock.send(struct.pack('=IHHII', 16 + len(body), kind, flags, self.seq, 0) + body)
        return self.seq

    def _messages(self, seq):
        """(type, payload) of the answers to seq, until the error or done message."""
        while True:
            data = self.sock.recv(65536)
            pos = 0
            while pos + 16 <= len(data):
                size, kind, _flags, rseq, _pid = struct.unpack_from('=IHHII', data, pos)
                payload = data[pos + 16:pos + size]
                pos += (size + 3) & ~3
                if rseq != seq:
                    continue
                yield kind, payload
                if kind in (NLMSG_ERROR, NLMSG_DONE):
                    return

    def _family(self):
        seq = self._send(GENL_ID_CTRL, NLM_F_REQUEST, CTRL_CMD_GETFAMILY, 1,
                         attr(CTRL_ATTR_FAMILY_NAME, b'IPVS\0'))
        for kind, payload in self._messages(seq):
            if kind == NLMSG_ERROR:
                raise SystemExit('no generic netlink family IPVS: %s' % os.strerror(-struct.unpack('=i', payload[:4])[0]))
            return struct.unpack('=H', parse_attrs(payload[4:])[CTRL_ATTR_FAMILY_ID][:2])[0]
        raise SystemExit('no answer from the generic netlink controller')

    def call(self, cmd, payload=b''):
        """The kernel's answer to one request: 'ok' or the errno's name."""
        seq = self._send(self.family, NLM_F_REQUEST | NLM_F_ACK, CMD[cmd], 1, payload)
        for kind, data in self._messages(seq):
            if kind == NLMSG_ERROR:
                code = -struct.unpack('=i', data[:4])[0]
                return errno.errorcode.get(code, str(code)) if code else 'ok'
        return 'no answer'

    def dump(self, cmd, payload=b''):
        """('ok' or the errno's name, [the attributes of each entry])."""
        seq = self._send(self.family, NLM_F_REQUEST | NLM_F_DUMP, CMD[cmd], 1, payload)
        entries = []
        for kind, data in self._messages(seq):
            if kind == NLMSG_ERROR:
                code = -struct.unpack('=i', data[:4])[0]
                return errno.errorcode.get(code, str(code)) if code else 'ok', entries
            if kind == NLMSG_DONE:
                return 'ok', entries
            entries.append(parse_attrs(data[4:]))
        return 'no answer', entries

    def dests(self, key):
        answer, entries = self.dump('get_dest', request_attrs({'service': key}))
        return answer, [decode(e[CMD_ATTR_DEST], DEST_ATTRS, key['af']) for e in entries]

    def table(self):
        """Every service with its real servers. Services sorted: the kernel
        dumps them in its hash table's order, which hashes the netns pointer
        (not reproducible from boot to boot). Real servers in the kernel's
        order, newest first (a list, reproducible)."""
        answer, entries = self.dump('get_service')
        if answer != 'ok':
            raise SystemExit('service dump refused: %s' % answer)
        services = []
        for entry in entries:
            svc = decode(entry[CMD_ATTR_SERVICE], SERVICE_ATTRS, struct.unpack('=H', parse_attrs(
                entry[CMD_ATTR_SERVICE])[1])[0])
            key = dict((k, svc[k]) for k in ('af', 'protocol', 'addr', 'port', 'fwmark') if k in svc)
            svc['dests'] = self.dests(key)[1]
            services.append(svc)
        return sorted(services, key=lambda s: (s.get('fwmark', 0), s['af'], s.get('protocol', 0),
                                               s.get('addr', ''), s.get('port', 0)))


def replay(channel, case):
    """Run one case's setup and probes; the record the fixture holds."""
    for req in case['setup']:
        answer = channel.call(req['cmd'], request_attrs(req))
        if answer != 'ok':
            raise SystemExit('setup of %r refused: %s %r' % (case['name'], answer, req))
    probes = []
    for probe in case['probes']:
        probe = dict(probe)
        if 'table' in probe:
            probe['table'] = channel.table()
        elif 'dests_of' in probe:
            probe['answer'], probe['dests'] = channel.dests(probe['dests_of'])
        else:
            probe['answer'] = channel.call(probe['request']['cmd'], request_attrs(probe['request']))
        probes.append(probe)
    return {'name': case['name'], 'setup': case['setup'], 'probes': probes, 'table': channel.table()}


# ---------------------------------------------------------------- the cases

FULL_MASK = 0xffffffff
PERSISTENT, HASHED, ONEPACKET, SCHED1, SCHED2, SCHED3 = 0x1, 0x2, 0x4, 0x8, 0x10, 0x20
MASQ, LOCALNODE, TUNNEL, DROUTE, BYPASS = 0, 1, 2, 3, 4
IPIP, GUE, GRE = 0, 1, 2
NOCSUM, CSUM, REMCSUM = 0, 1, 2

V4 = dict(af=AF['ipv4'], protocol=6, addr='10.0.0.1', port=80)
V4B = dict(af=AF['ipv4'], protocol=17, addr='10.0.0.2', port=53)
V6 = dict(af=AF['ipv6'], protocol=6, addr='2001:db8::1', port=80)
FWM = dict(af=AF['ipv4'], fwmark=1)
FWM6 = dict(af=AF['ipv6'], fwmark=1)


def entry(key, sched='rr', flags=0, mask=FULL_MASK, timeout=0, netmask=None, **extra):
    """A service's whole entry, as ipvsadm and the collection send it."""
    fields = dict(key, sched_name=sched, flags=flags if isinstance(flags, dict) else [flags, mask], timeout=timeout,
                  netmask=netmask if netmask is not None else ('255.255.255.255' if key['af'] == AF['ipv4'] else 128))
    fields.update(extra)
    return fields


def add(key, **kw):
    return {'cmd': 'new_service', 'service': entry(key, **kw)}


def edit(key, **kw):
    return {'cmd': 'set_service', 'service': entry(key, **kw)}


def delete(key):
    return {'cmd': 'del_service', 'service': dict(key)}


def dest(addr, port=80, fwd=MASQ, weight=1, u=0, l=0, **extra):
    fields = dict(addr=addr, port=port, fwd_method=fwd, weight=weight, u_thresh=u, l_thresh=l,
                  addr_family=AF['ipv6'] if ':' in addr else AF['ipv4'])
    fields.update(extra)
    return fields


def add_dest(key, *args, **kw):
    return {'cmd': 'new_dest', 'service': dict(key), 'dest': dest(*args, **kw)}


def edit_dest(key, *args, **kw):
    return {'cmd': 'set_dest', 'service': dict(key), 'dest': dest(*args, **kw)}


def delete_dest(key, addr, port=80):
    return {'cmd': 'del_dest', 'service': dict(key),
            'dest': dict(addr=addr, port=port, addr_family=AF['ipv6'] if ':' in addr else AF['ipv4'])}


def raw(cmd, service=None, dest_fields=None):
    req = {'cmd': cmd}
    if service is not None:
        req['service'] = service
    if dest_fields is not None:
        req['dest'] = dest_fields
    return req


def case(name, setup, *probes):
    return {'name': name, 'setup': list(setup),
            'probes': [p if ('table' in p or 'dests_of' in p) else {'request': p} for p in probes]}


TABLE = {'table': None}
BASE = [add(V4), add_dest(V4, '192.168.1.10', 8080, weight=3)]

CASES = [
    # --- services: refusals and the order of the kernel's checks ---------
    case('add a service', [], add(V4), add(V6, sched='wlc'), add(FWM, sched='sh'), add(FWM6)),
    case('add an existing service', BASE, add(V4, sched='wlc')),
    case('fwmark services of both families', [add(FWM)], add(FWM), add(FWM6), add(FWM6)),
    case('edit or delete a missing service', BASE, edit(V4B), delete(V4B), delete(FWM)),
    case('unknown scheduler', BASE, add(V4B, sched='fastest'), edit(V4, sched='fastest'),
         edit(V4B, sched='fastest')),
    case('the scheduler none', [], add(V4, sched='none'), TABLE, edit(V4, sched='rr')),
    case('unknown persistence engine', BASE, add(V4B, flags=PERSISTENT, timeout=60, pe_name='nosuch'),
         edit(V4, flags=PERSISTENT, timeout=60, pe_name='nosuch')),
    case('scheduler name too long or unterminated', [],
         add(V4, sched='wlc-but-sixteen!'), add(V4, sched={'hex': '7272'})),
    case('service without its whole entry', [],
         raw('new_service', dict(V4, sched_name='rr', timeout=0, netmask='255.255.255.255')),
         raw('new_service', dict(V4, sched_name='rr', flags=[0, FULL_MASK], netmask='255.255.255.255')),
         raw('new_service', dict(V4, flags=[0, FULL_MASK], timeout=0, netmask='255.255.255.255')),
         raw('new_service', dict(entry(V4), af={'hex': ''})),
         raw('new_service', dict((k, v) for k, v in entry(V4).items() if k != 'af')),
         raw('new_service', dict((k, v) for k, v in entry(V4).items() if k != 'port')),
         raw('new_service'),
         raw('set_service', dict(V4, sched_name='rr'))),
    case('address family unknown', [], add(dict(V4, af=7))),
    case('service rules ipvsadm has and the kernel has not', [],
         add(dict(V4, port=0)), add(dict(V4B, protocol=99)), add(V4B, flags=ONEPACKET),
         add(dict(V4, addr='224.0.0.1')), TABLE),
    case('fwmark 0 names a tcp service 0.0.0.0:0', [], add(dict(af=AF['ipv4'], fwmark=0)), TABLE,
         add(dict(af=AF['ipv4'], protocol=6, addr='0.0.0.0', port=0))),
    # --- the flags and their mask ----------------------------------------
    case('flags: a new service takes the bits of its mask', [],
         add(V4, sched='sh', flags=PERSISTENT | ONEPACKET | SCHED1, mask=SCHED1, timeout=300)),
    case('flags: set and clear a bit with a mask, the others kept',
         [add(V4, sched='sh', flags=PERSISTENT | SCHED1, timeout=300)],
         edit(V4, sched='sh', flags=SCHED2, mask=SCHED2, timeout=300), TABLE,
         edit(V4, sched='sh', flags=0, mask=SCHED1, timeout=300), TABLE,
         edit(V4, sched='sh', flags=0, mask=PERSISTENT, timeout=300)),
    case('flags: bits the kernel does not know are kept', [],
         add(V4, flags=0x100 | 0x40 | PERSISTENT, timeout=60), TABLE,
         edit(V4, flags=0, mask=PERSISTENT, timeout=60), TABLE,
         edit(V4, flags=0, timeout=60)),
    case('flags: the hashed bit is the kernel\'s', [], add(V4, flags=HASHED), TABLE,
         edit(V4, flags=0, mask=HASHED)),
    case('flags: an attribute without its mask', [add(V4B, flags=PERSISTENT, timeout=60)],
         add(V4, flags={'hex': '01000000'}), edit(V4B, flags={'hex': '04000000'}, timeout=60)),
    case('flags: all three scheduler flags', [], add(V4, sched='mh', flags=SCHED1 | SCHED2 | SCHED3)),
    # --- persistence: timeout and netmask --------------------------------
    case('persistence timeout and netmask', [],
         add(V4, flags=PERSISTENT, timeout=300, netmask='255.255.255.0'),
         add(V4B, timeout=300, netmask='255.255.0.0'),
         add(V6, flags=PERSISTENT, timeout=2678400, netmask=64),
         add(FWM, flags=PERSISTENT, timeout=1, netmask='0.0.0.0'),
         add(FWM6, timeout=0, netmask=128)),
    case('ipv6 prefix length out of range', [add(V6)],
         add(dict(V6, port=81), netmask=0), add(dict(V6, port=81), netmask=129),
         add(dict(V6, port=81), flags=PERSISTENT, timeout=60, netmask=0),
         edit(V6, netmask=0), edit(V6, netmask=200)),
    case('ipv6 prefix length: what the kernel checks first', [add(V6)],
         add(V6, netmask=0), edit(dict(V6, port=81), netmask=0),
         add(dict(V6, port=81), sched='fastest', netmask=0), edit(V6, sched='fastest', netmask=0)),
    # --- editing a service -----------------------------------------------
    case('edit a service: scheduler, flags, timeout, netmask, engine',
         [add(V4, sched='sh', flags=PERSISTENT | SCHED1 | SCHED2, timeout=600, netmask='255.255.255.0',
              pe_name='sip'), add_dest(V4, '192.168.1.10', 8080)],
         TABLE, edit(V4, sched='wrr', flags=PERSISTENT, timeout=60, netmask='255.255.0.0'), TABLE,
         edit(V4)),
    case('delete a service takes its real servers', BASE, delete(V4), TABLE, add(V4)),
    # --- real servers ----------------------------------------------------
    case('real server of a missing service', BASE,
         add_dest(V4B, '192.168.1.10'), edit_dest(V4B, '192.168.1.10'), delete_dest(V4B, '192.168.1.10'),
         add_dest(V4B, '192.168.1.10', weight=-1), add_dest(V4B, '2001:db8::10'),
         add_dest(V4B, '192.168.1.10', u=2147483648), edit(V4B, sched='wlc-but-sixteen!'),
         raw('new_dest', dict(V4B)), {'dests_of': V4B}),
    case('real server refusals', BASE,
         add_dest(V4, '192.168.1.10', 8080), add_dest(V4, '192.168.1.10', 8080, fwd=DROUTE),
         edit_dest(V4, '192.168.1.11', 8080), delete_dest(V4, '192.168.1.11', 8080),
         edit_dest(V4, '192.168.1.10', 8081), edit_dest(V4, '192.168.1.11', 8080, u=5, l=10),
         add_dest(V4, '192.168.1.10', 8080, weight=-1)),
    case('weights and thresholds', BASE,
         add_dest(V4, '192.168.1.11', weight=-1), add_dest(V4, '192.168.1.11', weight=-2147483648),
         add_dest(V4, '192.168.1.11', u=5, l=10), add_dest(V4, '192.168.1.11', l=1),
         add_dest(V4, '192.168.1.11', weight=2147483647, u=4294967295, l=4294967295),
         add_dest(V4, '192.168.1.13', weight=2147483647), add_dest(V4, '192.168.1.14', u=4294967295),
         add_dest(V4, '192.168.1.15', u=2147483647, l=2147483647), add_dest(V4, '192.168.1.16', u=2147483648),
         add_dest(V4, '192.168.1.17', u=2147483647, l=2147483648), add_dest(V4, '192.168.1.18', l=2147483648),
         add_dest(V4, '192.168.1.19', weight=-1, u=2147483648), add_dest(V4, '192.168.1.19', u=2147483648, l=2147483649),
         add_dest(V4, '192.168.1.10', 8080, u=2147483648), edit_dest(V4, '192.168.1.99', u=2147483648),
         edit_dest(V4, '192.168.1.10', 8080, u=4294967295),
         add_dest(V4, '192.168.1.12', weight=0, u=10, l=10),
         edit_dest(V4, '192.168.1.10', 8080, weight=-1), edit_dest(V4, '192.168.1.10', 8080, u=1, l=2)),
    case('forwarding methods', BASE,
         add_dest(V4, '192.168.1.20', fwd=LOCALNODE), add_dest(V4, '192.168.1.21', fwd=TUNNEL),
         add_dest(V4, '192.168.1.22', fwd=DROUTE), add_dest(V4, '192.168.1.23', fwd=BYPASS),
         add_dest(V4, '192.168.1.24', fwd=7), add_dest(V4, '192.168.1.25', fwd=0x10 | DROUTE)),
    case('tunnel settings', BASE,
         add_dest(V4, '192.168.1.30', fwd=TUNNEL, tun_type=GUE, tun_port=6080, tun_flags=CSUM),
         add_dest(V4, '192.168.1.31', fwd=TUNNEL, tun_type=GUE),
         add_dest(V4, '192.168.1.31', fwd=TUNNEL, tun_type=GUE, tun_port=0),
         add_dest(V4, '192.168.1.32', fwd=TUNNEL, tun_type=GRE, tun_flags=REMCSUM),
         add_dest(V4, '192.168.1.33', fwd=TUNNEL, tun_type=IPIP, tun_port=6080, tun_flags=CSUM),
         add_dest(V4, '192.168.1.34', fwd=TUNNEL, tun_type=3),
         add_dest(V4, '192.168.1.35', fwd=TUNNEL, tun_type=GRE, tun_flags=7),
         add_dest(V4, '192.168.1.36', fwd=TUNNEL)),
    case('tunnel settings on a real server that is no tunnel', BASE,
         add_dest(V4, '192.168.1.40', fwd=MASQ, tun_type=GUE, tun_port=6080, tun_flags=CSUM),
         add_dest(V4, '192.168.1.41', fwd=DROUTE, tun_type=GRE, tun_flags=REMCSUM),
         add_dest(V4, '192.168.1.42', fwd=MASQ, tun_type=GUE),
         edit_dest(V4, '192.168.1.10', 8080, tun_type=GUE, tun_port=0)),
    case('real server of the other family', [add(V4), add(V6)],
         add_dest(V4, '2001:db8::10', fwd=MASQ), add_dest(V4, '2001:db8::10', fwd=DROUTE),
         add_dest(V4, '2001:db8::10', fwd=LOCALNODE), add_dest(V4, '2001:db8::10', fwd=TUNNEL),
         add_dest(V6, '192.168.1.50', fwd=MASQ), add_dest(V6, '192.168.1.50', fwd=TUNNEL, tun_type=GRE),
         add_dest(V4, '2001:db8::11', fwd=TUNNEL | 0x10),
         add_dest(V4, '192.168.1.51', addr_family=7),
         raw('new_dest', dict(V4), dict((k, v) for k, v in dest('2001:db8::12').items() if k != 'addr_family')),
         edit_dest(V4, '2001:db8::10', fwd=MASQ), delete_dest(V4, '2001:db8::10')),
    case('real server addresses the kernel refuses', [add(V4), add(V6)],
         add_dest(V4, '224.0.0.1'), add_dest(V4, '0.0.0.0'), add_dest(V4, '0.1.2.3'),
         add_dest(V4, '255.255.255.255'), add_dest(V4, '127.0.0.1'), add_dest(V4, '240.0.0.1'),
         add_dest(V6, 'ff02::1'), add_dest(V6, '::'), add_dest(V6, 'fe80::1'), add_dest(V6, '::1'),
         add_dest(V6, '::ffff:10.0.0.9')),
    case('real server ports', [add(V4), add(FWM)],
         add_dest(V4, '192.168.1.60', port=0), add_dest(V4, '192.168.1.61', port=65535, fwd=DROUTE),
         add_dest(FWM, '192.168.1.62', port=8080), add_dest(FWM, '192.168.1.62', port=0, fwd=DROUTE)),
    case('real server without its whole entry', BASE,
         raw('new_dest', dict(V4), dict(addr='192.168.1.70', port=80, fwd_method=0, weight=1, u_thresh=0)),
         raw('new_dest', dict(V4), dict(port=80, fwd_method=0, weight=1, u_thresh=0, l_thresh=0)),
         raw('new_dest', dict(V4), dict(addr='192.168.1.70', fwd_method=0, weight=1, u_thresh=0, l_thresh=0)),
         raw('set_dest', dict(V4), dict(addr='192.168.1.10', port=8080)),
         raw('del_dest', dict(V4), dict(addr='192.168.1.10')),
         raw('del_dest', dict(V4))),
    case('edit a real server', BASE,
         edit_dest(V4, '192.168.1.10', 8080, fwd=TUNNEL, weight=7, u=100, l=50, tun_type=GUE, tun_port=6081,
                   tun_flags=REMCSUM), TABLE,
         edit_dest(V4, '192.168.1.10', 8080, fwd=MASQ, weight=0)),
    case('delete a real server and add it again', BASE + [add_dest(V4, '192.168.1.11', 8080)],
         delete_dest(V4, '192.168.1.10', 8080), TABLE, delete_dest(V4, '192.168.1.10', 8080),
         add_dest(V4, '192.168.1.10', 8080, fwd=DROUTE, weight=9)),
    case('real servers come newest first', [add(V4)],
         add_dest(V4, '192.168.1.3'), add_dest(V4, '192.168.1.1'), add_dest(V4, '192.168.1.2'),
         add_dest(V4, '2001:db8::1', fwd=TUNNEL), {'dests_of': V4}),
]


def main(path):
    if os.geteuid() != 0:
        raise SystemExit('capture_netlink: run as root, next to a kernel with IPVS (the lab VM)')
    # the IPVS family exists once ip_vs is loaded: load it as ipvsadm would
    subprocess.run(['modprobe', 'ip_vs'], check=True)
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)  # refusals without the request echoed
    sock.bind((0, 0))
    channel = Channel(sock)
    cases = []
    for item in CASES:
        if channel.call('flush') != 'ok':
            raise SystemExit('IPVS_CMD_FLUSH refused')
        cases.append(replay(channel, item))
    channel.call('flush')
    result = {'kernel': os.uname().release, 'cases': cases}
    with open(path, 'w') as handle:
        json.dump(result, handle, indent=1, sort_keys=True)
        handle.write('\n')


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else 'netlink_lab.json')
