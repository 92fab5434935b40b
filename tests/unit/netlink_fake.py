# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A generic netlink socket to the fake host's kernel table (ipvs_fake.KernelTable).

It decodes the requests with its own code (from the kernel's uapi, not the
collection's), so a mistake in the collection's encoding is refused here as
the kernel refuses it: a NEW_SERVICE or NEW_DEST without its whole entry is
EINVAL, as ip_vs_genl_parse_service()/_dest() make it. Writes follow
ip_vs_genl_set_cmd()'s checks in its order, flags are taken through the
request's mask, and what the kernel keeps without a meaning to ipvsadm
(unknown flag bits, a timeout without persistence, tunnel settings of a
real server that is no tunnel) reads back as written. Answers are the
kernel's: errors and the last request's acknowledgement, dumps in table
order. test_netlink_fake.py holds it to the lab kernel's answers
(fixtures/netlink_lab.json).
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import struct

from ansible_collections.lvs.cluster.tests.unit import ipvs_fake as fk

FAMILY_ID = 0x22
KERNEL_ERRNO = {fk.EEXIST_SERVICE: errno.EEXIST, fk.ESRCH_SERVICE: errno.ESRCH, fk.ESRCH_DEST: errno.ESRCH,
                fk.EEXIST_DEST: errno.EEXIST, fk.ENOENT_DEST: errno.ENOENT, fk.ENOENT_SCHED: errno.ENOENT,
                fk.ERANGE: errno.ERANGE, fk.EINVAL: errno.EINVAL, fk.ENOMEM: errno.ENOMEM}
# IP_VS_CONN_F_* forwarding methods by the model's names. The kernel keeps any
# of the 3 bits; LOCALNODE and the unnamed ones are `-g` to ipvsadm's listings.
FWD = {0: 'masq', 2: 'tunnel', 3: 'route'}
FWD_CODE = {'masq': 0, 'tunnel': 2, 'route': 3}
TUN = ('ipip', 'gue', 'gre')
CSUM = {0: 'nocsum', 1: 'csum', 2: 'remcsum'}
CSUM_CODE = dict((name, num) for num, name in CSUM.items())
PROTO = {6: 'tcp', 17: 'udp', 132: 'sctp'}
PROTO_CODE = dict((name, num) for num, name in PROTO.items())
PERSISTENT, HASHED, ONEPACKET, SCHED1 = 0x1, 0x2, 0x4, 0x8
INT_MAX = 2 ** 31 - 1
# the shortest payload nla_parse() takes per attribute (NLA_U16, NLA_U32, NLA_U8)
SVC_MINLEN = {1: 2, 2: 2, 4: 2, 5: 4, 8: 4, 9: 4}
DEST_MINLEN = {2: 2, 3: 4, 4: 4, 5: 4, 6: 4, 11: 2, 13: 1, 14: 2, 15: 2}
SCHED_NAME_MAX = 15  # IP_VS_SCHEDNAME_MAXLEN - 1, the NUL not counted


def _attrs(data, minlen=None):
    out, pos = {}, 0
    while pos + 4 <= len(data):
        size, kind = struct.unpack_from('=HH', data, pos)
        out[kind & 0x3fff] = data[pos + 4:pos + size]
        pos += (size + 3) & ~3
    for kind, least in (minlen or {}).items():
        if kind in out and len(out[kind]) < least:
            raise Invalid()
    return out


def _attr(kind, payload):
    return struct.pack('=HH', 4 + len(payload), kind) + payload + b'\0' * (-(4 + len(payload)) % 4)


def _ip(af, raw):
    raw = bytes(raw) + b'\0' * 16  # nla_memcpy() zero-fills a short address
    return ipaddress.ip_address(raw[:4] if af == fk.AF_INET else raw[:16])


def _raw(addr):
    return addr.packed + b'\0' * (16 - len(addr.packed))


def _u32(a, kind):
    return struct.unpack('=I', a[kind][:4])[0]


class Invalid(Exception):
    pass


class Refused(Exception):
    """An errno of the kernel's own, where the ipvsadm model has no text for it."""


def _service_key(nested):
    """ip_vs_genl_parse_service(), its identifying part: the key as
    KernelTable.find() takes it, and the attributes. A fwmark attribute names
    a fwmark service, or with 0 the TCP service 0.0.0.0:0 (or [::]:0)."""
    a = _attrs(nested or b'', SVC_MINLEN)
    if 6 in a and b'\0' not in a[6][:SCHED_NAME_MAX + 1]:
        raise Invalid()  # NLA_NUL_STRING: too long, or not terminated
    if 1 not in a or not (5 in a or (2 in a and 3 in a and 4 in a)):
        raise Invalid()
    af = struct.unpack('=H', a[1][:2])[0]
    if af not in (fk.AF_INET, fk.AF_INET6):
        raise Refused(errno.EAFNOSUPPORT)
    fwmark = _u32(a, 5) if 5 in a else None
    if fwmark:
        return {'fwmark': fwmark, 'af': af, 'proto': None, 'addr': None, 'port': 0}, a
    if fwmark == 0:
        proto, addr, port = 6, b'', 0
    else:
        proto, addr, port = struct.unpack('=H', a[2][:2])[0], a[3], struct.unpack('!H', a[4][:2])[0]
    return {'fwmark': 0, 'af': af, 'proto': PROTO.get(proto, proto), 'addr': _ip(af, addr), 'port': port}, a


def _raw_flags(svc):
    """A service's IP_VS_SVC_F_* bits, as the kernel keeps them: those a
    netlink write left, else those of the model (an ipvsadm write)."""
    if _raw_of(svc):
        return svc['nl']['flags']
    flags = HASHED | (PERSISTENT if svc['timeout'] else 0) | (ONEPACKET if svc['ops'] else 0)
    for bit in svc['flags']:
        flags |= SCHED1 << (bit - 1)
    return flags


def _service_model(svc):
    return tuple(svc.get(k) for k in ('sched', 'flags', 'timeout', 'netmask', 'pe', 'ops'))


def _dest_model(dest):
    return tuple(dest.get(k) for k in ('fwd', 'weight', 'u', 'l', 'tun_type', 'tun_port', 'tun_flags'))


def _raw_of(entry):
    """The raw values a netlink write stored beside the model, unless a
    write through ipvsadm changed the entry since."""
    raw = entry.get('nl')
    model = _service_model(entry) if 'dests' in entry else _dest_model(entry)
    return raw if raw and raw['model'] == model else None


def _service_entry(cmd, a, found):
    """ip_vs_genl_parse_service(), the whole entry: only the flags in the
    request's mask are taken from it, the others stay as the service had them
    (none for a new one); the timeout and netmask are kept as given, whether
    persistent or not."""
    if not all(k in a for k in (6, 7, 8, 9)):  # sched name, flags, timeout, netmask: a whole entry
        raise Invalid()
    given, mask = struct.unpack('=II', (bytes(a[7]) + b'\0' * 8)[:8])  # nla_memcpy() zero-fills
    flags = ((_raw_flags(found) if found else 0) & ~mask) | (given & mask)
    flags = (flags & ~HASHED) if found is None else flags
    persistent = bool(flags & PERSISTENT)
    timeout, netmask = _u32(a, 8), bytes(a[9][:4])
    prefix = struct.unpack('!I' if cmd['af'] == fk.AF_INET else '=I', netmask)[0]
    cmd.update(sched=a[6].split(b'\0')[0].decode(), flags=frozenset(b for b in (1, 2, 3) if flags & (SCHED1 << (b - 1))),
               ops=bool(flags & ONEPACKET), pe=a[11].split(b'\0')[0].decode() if 11 in a else None,
               timeout=timeout if persistent else None, netmask=prefix if persistent else None)
    return {'flags': flags | HASHED, 'timeout': timeout, 'netmask': netmask, 'v6_prefix': prefix}


def _dest_entry(cmd, svc, nested, full):
    """ip_vs_genl_parse_dest() and ip_vs_genl_set_cmd()'s family checks; the
    raw values the kernel keeps (any forwarding method and tunnel settings)."""
    a = _attrs(nested or b'', DEST_MINLEN)
    if 1 not in a or 2 not in a:
        raise Invalid()
    if full and not all(k in a for k in (3, 4, 5, 6)):
        raise Invalid()
    af = struct.unpack('=H', a[11][:2])[0] if 11 in a else svc['af']
    if af not in (fk.AF_INET, fk.AF_INET6):
        raise Refused(errno.EAFNOSUPPORT)
    cmd.update(daddr=_ip(af, a[1]), dport=struct.unpack('!H', a[2][:2])[0])
    if not full:
        return None
    fwd = _u32(a, 3) & 7
    if af != svc['af'] and fwd != FWD_CODE['tunnel']:
        raise Invalid()  # another family only for tunnels
    raw = {'fwd': fwd, 'tun_type': a[13][0] if 13 in a else 0,
           'tun_port': struct.unpack('!H', a[14][:2])[0] if 14 in a else 0,
           'tun_flags': struct.unpack('=H', a[15][:2])[0] if 15 in a else 0}
    cmd.update(fwd=FWD.get(fwd, 'route'), weight=struct.unpack('=i', a[4][:4])[0], u=_u32(a, 5), l=_u32(a, 6),
               tun_type=None, tun_port=None, tun_flags=None)
    if cmd['fwd'] == 'tunnel':
        kind = TUN[raw['tun_type']] if raw['tun_type'] < len(TUN) else None
        cmd.update(tun_type=kind, tun_port=raw['tun_port'] if kind == 'gue' else None,
                   tun_flags=CSUM.get(raw['tun_flags']) if kind in ('gue', 'gre') else None)
    # ip_vs_add_dest(), ip_vs_edit_dest(): before the real server is looked up
    if cmd['weight'] < 0 or cmd['l'] > cmd['u']:
        raise fk.KernelError(fk.ERANGE)
    if cmd['u'] > INT_MAX or (raw['tun_type'] == 1 and not raw['tun_port']):
        raise Invalid()
    return raw


COMMANDS = {1: 'add-service', 2: 'edit-service', 3: 'delete-service',
            5: 'add-server', 6: 'edit-server', 7: 'delete-server'}
FLUSH = 17


class FakeNetlinkSocket(object):
    """socket.socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC) on a FakeHost."""

    def __init__(self, host):
        self.host = host
        self.queue = []

    def setsockopt(self, *args):
        pass

    def bind(self, address):
        pass

    def close(self):
        pass

    def recv(self, size):
        return self.queue.pop(0)

    def _answer(self, kind, flags, seq, payload):
        self.queue.append(struct.pack('=IHHII', 16 + len(payload), kind, flags, seq, 0) + payload)

    def _error(self, seq, code, header):
        self._answer(2, 0, seq, struct.pack('=i', -code) + header)

    def sendall(self, data):
        self.host.netlink_sends.append(data)
        pos = 0
        while pos < len(data):
            size, kind, flags, seq, _pid = struct.unpack_from('=IHHII', data, pos)
            header, body = data[pos:pos + 16], data[pos + 16:pos + size]
            pos += (size + 3) & ~3
            self._request(kind, flags, seq, header, body)

    send = sendall

    def _request(self, kind, flags, seq, header, body):
        cmd, attrs = body[0], _attrs(body[4:])
        if kind == 0x10:  # the controller: GETFAMILY "IPVS"
            if not self.host.netlink or attrs.get(2) != b'IPVS\0':
                return self._error(seq, errno.ENOENT, header)
            return self._answer(0x10, 0, seq, struct.pack('=BBH', 1, 2, 0) + _attr(1, struct.pack('=H', FAMILY_ID)))
        if kind != FAMILY_ID:
            return self._error(seq, errno.EINVAL, header)
        try:
            if cmd == 4:
                return self._dump_services(seq)
            if cmd == 8:
                return self._dump_dests(seq, attrs)
            self._write(cmd, attrs)
        except Invalid:
            return self._error(seq, errno.EINVAL, header)
        except Refused as exc:
            return self._error(seq, exc.args[0], header)
        except fk.KernelError as exc:
            return self._error(seq, KERNEL_ERRNO[str(exc)], header)
        if flags & 0x4:
            self._error(seq, 0, header)

    def _write(self, cmd, attrs):
        """ip_vs_genl_set_cmd(), in its order of checks."""
        kernel = self.host.kernel
        if cmd == FLUSH:
            return kernel.execute({'command': 'clear'})
        if cmd not in COMMANDS:
            raise Invalid()
        request, sattrs = _service_key(attrs.get(1))
        request['command'] = COMMANDS[cmd]
        svc = kernel.find(request)
        raw = _service_entry(request, sattrs, svc) if cmd in (1, 2) else None
        if cmd != 1 and svc is None:
            raise fk.KernelError(fk.ESRCH_SERVICE)
        if cmd == 1 and svc is not None:
            raise fk.KernelError(fk.EEXIST_SERVICE)
        if cmd in (1, 2):
            # ip_vs_add_service(), ip_vs_edit_service(): the scheduler ("none"
            # binds none), the engine, then an IPv6 prefix length, persistent or not
            if (request['sched'] not in fk.SCHEDULERS | {'none'}
                    or (request['pe'] and request['pe'] not in fk.PERSISTENCE_ENGINES)):
                raise fk.KernelError(fk.ENOENT_SCHED)
            if request['af'] == fk.AF_INET6 and not 1 <= raw.pop('v6_prefix') <= 128:
                raise Invalid()
            raw.pop('v6_prefix', None)
            kernel.execute(dict(request, sched=fk.DEFAULT_SCHEDULER) if request['sched'] == 'none' else request)
            svc = kernel.find(request)
            svc['sched'] = request['sched']
            svc['nl'] = dict(raw, model=_service_model(svc))
            return
        if cmd == 3:
            kernel.execute(request)
            return
        raw = _dest_entry(request, svc, attrs.get(2), cmd != 7)
        kernel.execute(request)
        if raw is not None:
            dest = kernel.find_dest(svc, request['daddr'], request['dport'])
            dest['nl'] = dict(raw, model=_dest_model(dest))

    def _dump_services(self, seq):
        for svc in self.host.kernel.services:
            parts = [_attr(1, struct.pack('=H', svc['af']))]
            if svc['fwmark']:
                parts.append(_attr(5, struct.pack('=I', svc['fwmark'])))
            else:
                parts += [_attr(2, struct.pack('=H', PROTO_CODE.get(svc['proto'], svc['proto']))),
                          _attr(3, _raw(svc['addr'])), _attr(4, struct.pack('!H', svc['port']))]
            raw = _raw_of(svc)
            if raw:
                timeout, netmask = raw['timeout'], raw['netmask']
            else:
                mask = svc['netmask'] if svc['netmask'] is not None else (
                    0xffffffff if svc['af'] == fk.AF_INET else 128)
                timeout, netmask = svc['timeout'] or 0, struct.pack('!I' if svc['af'] == fk.AF_INET else '=I', mask)
            parts += [_attr(6, svc['sched'].encode() + b'\0'), _attr(7, struct.pack('=II', _raw_flags(svc), 0xffffffff)),
                      _attr(8, struct.pack('=I', timeout)), _attr(9, netmask)]
            if svc['pe']:
                parts.append(_attr(11, svc['pe'].encode() + b'\0'))
            self._answer(FAMILY_ID, 2, seq, struct.pack('=BBH', 4, 1, 0) + _attr(0x8001, b''.join(parts)))
        self._answer(3, 2, seq, struct.pack('=i', 0))

    def _dump_dests(self, seq, attrs):
        """A service's real servers, newest first; none (and no error) for a
        service that does not exist, as ip_vs_genl_dump_dests() answers."""
        try:
            svc = self.host.kernel.find(_service_key(attrs.get(1))[0])
        except (Invalid, Refused):
            svc = None
        for dest in svc['dests'] if svc else ():
            af = fk.AF_INET6 if dest['addr'].version == 6 else fk.AF_INET
            active, inactive = self.host.conns.get(
                (fk.service_key(svc), fk.hostport(dest['addr'], dest['port'])), (0, 0)) if self.host.conns else (0, 0)
            raw = _raw_of(dest) or {'fwd': FWD_CODE[dest['fwd']], 'tun_type': TUN.index(dest['tun_type'] or 'ipip'),
                                    'tun_port': dest['tun_port'] or 0,
                                    'tun_flags': CSUM_CODE[dest['tun_flags'] or 'nocsum']}
            parts = [_attr(1, _raw(dest['addr'])), _attr(2, struct.pack('!H', dest['port'])),
                     _attr(3, struct.pack('=I', raw['fwd'])), _attr(4, struct.pack('=i', dest['weight'])),
                     _attr(13, struct.pack('=B', raw['tun_type'])), _attr(14, struct.pack('!H', raw['tun_port'])),
                     _attr(15, struct.pack('=H', raw['tun_flags'])),
                     _attr(5, struct.pack('=I', dest['u'])), _attr(6, struct.pack('=I', dest['l'])),
                     _attr(7, struct.pack('=I', active)), _attr(8, struct.pack('=I', inactive)),
                     _attr(9, struct.pack('=I', 0)), _attr(11, struct.pack('=H', af))]
            self._answer(FAMILY_ID, 2, seq, struct.pack('=BBH', 8, 1, 0) + _attr(0x8002, b''.join(parts)))
        self._answer(3, 2, seq, struct.pack('=i', 0))


def socket_factory(host):
    """A stand-in for socket.socket: netlink goes to the host's kernel table."""
    real = socket.socket

    def make(family=-1, kind=-1, proto=-1, *args, **kwargs):
        if family == socket.AF_NETLINK:
            return FakeNetlinkSocket(host)
        return real(family, kind, proto, *args, **kwargs)
    return make
