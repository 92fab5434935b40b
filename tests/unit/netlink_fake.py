# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A generic netlink socket to the fake host's kernel table (ipvs_fake.KernelTable).

It decodes the requests with its own code (from the kernel's uapi, not the
collection's), so a mistake in the collection's encoding is refused here as
the kernel refuses it: a NEW_SERVICE or NEW_DEST without its whole entry is
EINVAL, as ip_vs_genl_parse_service()/_dest() make it. Answers are the
kernel's: errors and the last request's acknowledgement, dumps in table order.
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
                fk.ERANGE: errno.ERANGE, fk.EINVAL: errno.EINVAL}
FWD = {0: 'masq', 2: 'tunnel', 3: 'route'}
FWD_CODE = {'masq': 0, 'tunnel': 2, 'route': 3}
TUN = ('ipip', 'gue', 'gre')
CSUM = {0: 'nocsum', 1: 'csum', 2: 'remcsum'}
PROTO = {6: 'tcp', 17: 'udp', 132: 'sctp'}
PROTO_CODE = dict((name, num) for num, name in PROTO.items())


def _attrs(data):
    out, pos = {}, 0
    while pos + 4 <= len(data):
        size, kind = struct.unpack_from('=HH', data, pos)
        out[kind & 0x3fff] = data[pos + 4:pos + size]
        pos += (size + 3) & ~3
    return out


def _attr(kind, payload):
    return struct.pack('=HH', 4 + len(payload), kind) + payload + b'\0' * (-(4 + len(payload)) % 4)


def _ip(af, raw):
    return ipaddress.ip_address(bytes(raw[:4] if af == fk.AF_INET else raw[:16]))


def _raw(addr):
    return addr.packed + b'\0' * (16 - len(addr.packed))


class Invalid(Exception):
    pass


def _service_key(nested):
    a = _attrs(nested)
    if 1 not in a:
        raise Invalid()
    af = struct.unpack('=H', a[1])[0]
    if 5 in a:
        return {'fwmark': struct.unpack('=I', a[5])[0], 'af': af, 'proto': None, 'addr': None, 'port': 0}, a
    if not (2 in a and 3 in a and 4 in a):
        raise Invalid()
    return {'fwmark': 0, 'af': af, 'proto': PROTO[struct.unpack('=H', a[2])[0]], 'addr': _ip(af, a[3]),
            'port': struct.unpack('!H', a[4])[0]}, a


def _raw_flags(svc):
    """A service's IP_VS_SVC_F_* bits, as the kernel keeps them."""
    flags = (1 if svc['timeout'] else 0) | (4 if svc['ops'] else 0)
    for bit in svc['flags']:
        flags |= 0x8 << (bit - 1)
    return flags


def _service_entry(cmd, a, found=0):
    """found: the flags of the service the request names, where it exists. As
    ip_vs_genl_parse_service(): only the bits in the request's mask are taken
    from it, the others stay as the service had them (none for a new one)."""
    if not all(k in a for k in (6, 7, 8, 9)):  # sched name, flags, timeout, netmask: a whole entry
        raise Invalid()
    given, mask = struct.unpack('=II', a[7])
    flags = (found & ~mask) | (given & mask)
    persistent = bool(flags & 1)
    cmd.update(sched=a[6].rstrip(b'\0').decode(), flags=frozenset(b for b in (1, 2, 3) if flags & (0x8 << (b - 1))),
               ops=bool(flags & 4), pe=a[11].rstrip(b'\0').decode() if 11 in a else None,
               timeout=struct.unpack('=I', a[8])[0] if persistent else None, netmask=None)
    if persistent:
        cmd['netmask'] = (struct.unpack('!I', a[9])[0] if cmd['af'] == fk.AF_INET
                          else struct.unpack('=I', a[9])[0])
        if cmd['af'] == fk.AF_INET6 and not 1 <= cmd['netmask'] <= 128:
            raise Invalid()


def _dest_entry(cmd, nested, full):
    a = _attrs(nested)
    if 1 not in a or 2 not in a:
        raise Invalid()
    af = struct.unpack('=H', a[11])[0] if 11 in a else cmd['af']
    cmd.update(daddr=_ip(af, a[1]), dport=struct.unpack('!H', a[2])[0])
    if not full:
        return
    if not all(k in a for k in (3, 4, 5, 6)):
        raise Invalid()
    fwd = FWD[struct.unpack('=I', a[3])[0] & 7]
    cmd.update(fwd=fwd, weight=struct.unpack('=i', a[4])[0], u=struct.unpack('=I', a[5])[0],
               l=struct.unpack('=I', a[6])[0], tun_type=None, tun_port=None, tun_flags=None)
    if cmd['weight'] < 0:
        raise Invalid()
    if fwd == 'tunnel':
        kind = TUN[a[13][0]] if 13 in a else 'ipip'
        cmd['tun_type'] = kind
        if kind == 'gue':
            cmd['tun_port'] = struct.unpack('!H', a[14])[0] if 14 in a else 0
            if not cmd['tun_port']:
                raise Invalid()  # ip_vs_add_dest(): a GUE tunnel needs its port
        if kind != 'ipip':
            cmd['tun_flags'] = CSUM[struct.unpack('=H', a[15])[0] if 15 in a else 0]
    elif af != cmd['af']:
        raise Invalid()  # another family only for tunnels


COMMANDS = {1: 'add-service', 2: 'edit-service', 3: 'delete-service',
            5: 'add-server', 6: 'edit-server', 7: 'delete-server'}


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
        except fk.KernelError as exc:
            return self._error(seq, KERNEL_ERRNO[str(exc)], header)
        if flags & 0x4:
            self._error(seq, 0, header)

    def _write(self, cmd, attrs):
        if cmd not in COMMANDS or 1 not in attrs:
            raise Invalid()
        request, sattrs = _service_key(attrs[1])
        request['command'] = COMMANDS[cmd]
        if cmd in (1, 2):
            found = self.host.kernel.find(request)
            _service_entry(request, sattrs, _raw_flags(found) if found else 0)
        elif cmd in (5, 6, 7):
            if 2 not in attrs:
                raise Invalid()
            _dest_entry(request, attrs[2], cmd != 7)
        self.host.kernel.execute(request)

    def _dump_services(self, seq):
        for svc in self.host.kernel.services:
            parts = [_attr(1, struct.pack('=H', svc['af']))]
            if svc['fwmark']:
                parts.append(_attr(5, struct.pack('=I', svc['fwmark'])))
            else:
                parts += [_attr(2, struct.pack('=H', PROTO_CODE[svc['proto']])), _attr(3, _raw(svc['addr'])),
                          _attr(4, struct.pack('!H', svc['port']))]
            flags = _raw_flags(svc)
            netmask = svc['netmask'] if svc['netmask'] is not None else (
                0xffffffff if svc['af'] == fk.AF_INET else 128)
            parts += [_attr(6, svc['sched'].encode() + b'\0'), _attr(7, struct.pack('=II', flags, 0xffffffff)),
                      _attr(8, struct.pack('=I', svc['timeout'] or 0)),
                      _attr(9, struct.pack('!I' if svc['af'] == fk.AF_INET else '=I', netmask))]
            if svc['pe']:
                parts.append(_attr(11, svc['pe'].encode() + b'\0'))
            self._answer(FAMILY_ID, 2, seq, struct.pack('=BBH', 4, 1, 0) + _attr(0x8001, b''.join(parts)))
        self._answer(3, 2, seq, struct.pack('=i', 0))

    def _dump_dests(self, seq, attrs):
        key, _a = _service_key(attrs.get(1, b''))
        svc = self.host.kernel.find(key)
        if svc is None:
            raise fk.KernelError(fk.ESRCH_SERVICE)
        for dest in svc['dests']:
            af = fk.AF_INET6 if dest['addr'].version == 6 else fk.AF_INET
            name = fk.hostport(dest['addr'], dest['port'])
            active, inactive = self.host.conns.get((fk.service_key(svc), name), (0, 0))
            parts = [_attr(1, _raw(dest['addr'])), _attr(2, struct.pack('!H', dest['port'])),
                     _attr(3, struct.pack('=I', FWD_CODE[dest['fwd']])), _attr(4, struct.pack('=i', dest['weight'])),
                     _attr(13, struct.pack('=B', TUN.index(dest['tun_type'] or 'ipip'))),
                     _attr(14, struct.pack('!H', dest['tun_port'] or 0)),
                     _attr(15, struct.pack('=H', dict((v, k) for k, v in CSUM.items())[dest['tun_flags'] or 'nocsum'])),
                     _attr(5, struct.pack('=I', dest['u'])), _attr(6, struct.pack('=I', dest['l'])),
                     _attr(7, struct.pack('=I', active)), _attr(8, struct.pack('=I', inactive)),
                     _attr(11, struct.pack('=H', af))]
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
