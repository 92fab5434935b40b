# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The IPVS table over generic netlink, with the Python standard library only.

ipvsadm sends one request and waits for its acknowledgement per rule; here a
batch of requests goes in one sendmsg() and the acknowledgements are read
after it, which is what the kernel's own cost is. Reading is the kernel's
dumps (services, then each service's real servers: thresholds and connection
counts included), decoded into the same records as the parsed `ipvsadm -S`.
The constants are the kernel's uapi (include/uapi/linux/ip_vs.h, genetlink.h).
"""

from __future__ import annotations

import errno
import os
import socket
import struct

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_model as m
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_syntax as sx

NETLINK_GENERIC = 16
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 0x1, 0x4, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
GENL_ID_CTRL, CTRL_CMD_GETFAMILY = 0x10, 3
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 1, 2
NLA_F_NESTED = 0x8000
NLA_TYPE_MASK = 0x3fff
SOL_NETLINK, NETLINK_CAP_ACK = 270, 10

IPVS_GENL_NAME, IPVS_GENL_VERSION = b'IPVS\0', 1
CMD = dict(new_service=1, set_service=2, del_service=3, get_service=4,
           new_dest=5, set_dest=6, del_dest=7, get_dest=8)
OP_CMD = dict(add_service='new_service', edit_service='set_service', delete_service='del_service',
              add_dest='new_dest', edit_dest='set_dest', delete_dest='del_dest')
CMD_ATTR_SERVICE, CMD_ATTR_DEST = 1, 2
SVC_AF, SVC_PROTOCOL, SVC_ADDR, SVC_PORT, SVC_FWMARK, SVC_SCHED_NAME, SVC_FLAGS, SVC_TIMEOUT, \
    SVC_NETMASK, SVC_STATS, SVC_PE_NAME = range(1, 12)
DEST_ADDR, DEST_PORT, DEST_FWD_METHOD, DEST_WEIGHT, DEST_U_THRESH, DEST_L_THRESH, DEST_ACTIVE_CONNS, \
    DEST_INACT_CONNS, DEST_PERSIST_CONNS, DEST_STATS, DEST_ADDR_FAMILY, DEST_STATS64, DEST_TUN_TYPE, \
    DEST_TUN_PORT, DEST_TUN_FLAGS = range(1, 16)

F_PERSISTENT, F_ONEPACKET, F_SCHED1 = 0x1, 0x4, 0x8
FAMILY_AF = {'ipv4': socket.AF_INET, 'ipv6': socket.AF_INET6}
AF_FAMILY = dict((af, name) for name, af in FAMILY_AF.items())
PROTOCOL_NUMBER = {'tcp': socket.IPPROTO_TCP, 'udp': socket.IPPROTO_UDP, 'sctp': 132}
NUMBER_PROTOCOL = dict((num, name) for name, num in PROTOCOL_NUMBER.items())
# IP_VS_CONN_F_MASQ, _TUNNEL, _DROUTE; a local real server is reported as
# IP_VS_CONN_F_LOCALNODE (1), which ipvsadm -S prints as -g
FWD_METHOD = {'nat': 0, 'tun': 2, 'dr': 3}
METHOD_FWD = {0: 'nat', 1: 'dr', 2: 'tun', 3: 'dr'}
FWD_MASK = 0x7
TUN_TYPE = dict((name, i) for i, name in enumerate(sx.TUN_TYPES))  # ipip 0, gue 1, gre 2
TUN_FLAGS = dict((name, i) for i, name in enumerate(sx.TUN_FLAGS))  # nocsum 0, csum 1, remcsum 2
TYPE_TUN = dict((i, name) for name, i in TUN_TYPE.items())
FLAGS_TUN = dict((i, name) for name, i in TUN_FLAGS.items())

# bytes of requests per sendmsg(): under the default socket send buffer (212992),
# and the refusals of a whole batch fit the receive buffer
BATCH_BYTES = 96 * 1024
# one datagram per recv(): a dump's part is at most 32 KiB (netlink_dump)
RECV_BYTES = 65536


# What ipvsadm prints for the kernel's errno of each kind of request
# (libipvs ipvs_strerror()): the same refusal reads the same through both ways.
ERRNO_TEXT = {
    ('add_service', errno.EEXIST): 'Service already exists',
    ('add_service', errno.ENOENT): 'Scheduler or persistence engine not found',
    ('edit_service', errno.ESRCH): 'No such service',
    ('edit_service', errno.ENOENT): 'Scheduler or persistence engine not found',
    ('delete_service', errno.ESRCH): 'No such service',
    ('add_dest', errno.ESRCH): 'Service not defined',
    ('add_dest', errno.EEXIST): 'Destination already exists',
    ('edit_dest', errno.ESRCH): 'Service not defined',
    ('edit_dest', errno.ENOENT): 'No such destination',
    ('delete_dest', errno.ESRCH): 'Service not defined',
    ('delete_dest', errno.ENOENT): 'No such destination',
    (None, errno.EPERM): 'Permission denied (you must be root)',
    (None, errno.EINVAL): 'Invalid operation.  Possibly wrong module version, address not unicast, ...',
    (None, errno.ENOPROTOOPT): 'Protocol not available',
    (None, errno.ENOMEM): 'Memory allocation problem',
    (None, errno.EAFNOSUPPORT): 'Operation not supported with specified address family',
}


class NetlinkError(Exception):
    """The kernel refused a request; errno is positive. str(): what, then ipvsadm's text for it."""

    def __init__(self, code, what='', kind=None):
        self.errno = code
        text = ERRNO_TEXT.get((kind, code)) or ERRNO_TEXT.get((None, code)) or os.strerror(code)
        super(NetlinkError, self).__init__('%s%s' % (what + ': ' if what else '', text))


# ---------------------------------------------------------------- attributes

def attr(kind, payload):
    """One netlink attribute, padded to 4 bytes."""
    length = 4 + len(payload)
    return struct.pack('=HH', length, kind) + payload + b'\0' * (-length % 4)


def nested(kind, parts):
    return attr(kind | NLA_F_NESTED, b''.join(parts))


def parse_attrs(data):
    """{type: payload} of a run of attributes."""
    out = {}
    pos, end = 0, len(data)
    while pos + 4 <= end:
        length, kind = struct.unpack_from('=HH', data, pos)
        if length < 4:
            break
        out[kind & NLA_TYPE_MASK] = data[pos + 4:pos + length]
        pos += (length + 3) & ~3
    return out


def _u16(value):
    return struct.pack('=H', value)


def _u32(value):
    return struct.pack('=I', value)


def _addr(address):
    family = sx.family_of(address)
    packed = socket.inet_pton(FAMILY_AF[family], address)
    return packed + b'\0' * (16 - len(packed))


def _text_addr(af, payload):
    size = 4 if af == socket.AF_INET else 16
    return sx.canonical_ip(socket.inet_ntop(af, bytes(payload[:size])))[0]


# ---------------------------------------------------------------- records <-> attributes

def service_key_attrs(service):
    """The attributes that name a service (what the kernel looks it up by)."""
    parts = [attr(SVC_AF, _u16(FAMILY_AF[service.family]))]
    if service.fwmark:
        parts.append(attr(SVC_FWMARK, _u32(service.fwmark)))
    else:
        parts += [attr(SVC_PROTOCOL, _u16(PROTOCOL_NUMBER[service.protocol])),
                  attr(SVC_ADDR, _addr(service.address)),
                  attr(SVC_PORT, struct.pack('!H', service.port))]
    return parts


def service_attrs(service):
    """A service's whole entry, as ipvsadm sends it for -A and -E (full flags mask)."""
    flags = (F_PERSISTENT if service.persistent else 0) | (F_ONEPACKET if service.ops else 0)
    for bit in service.sched_flags or ():
        flags |= F_SCHED1 << (bit - 1)
    family = service.family
    prefix = service.netmask if service.persistent and service.netmask is not None else sx.full_prefix(family)
    if family == 'ipv4':
        netmask = struct.pack('!I', (0xffffffff << (32 - prefix)) & 0xffffffff)  # __be32
    else:
        netmask = _u32(prefix)  # a prefix length, in host order
    parts = service_key_attrs(service) + [
        attr(SVC_SCHED_NAME, service.scheduler.encode('ascii') + b'\0'),
        attr(SVC_FLAGS, struct.pack('=II', flags, 0xffffffff)),
        attr(SVC_TIMEOUT, _u32(service.timeout if service.persistent else 0)),
        attr(SVC_NETMASK, netmask)]
    if service.pe:
        parts.append(attr(SVC_PE_NAME, service.pe.encode('ascii') + b'\0'))
    return parts


def dest_attrs(dest, full=True):
    parts = [attr(DEST_ADDR, _addr(dest.address)), attr(DEST_PORT, struct.pack('!H', dest.port or 0)),
             attr(DEST_ADDR_FAMILY, _u16(FAMILY_AF[dest.family]))]
    if not full:
        return parts
    parts += [attr(DEST_FWD_METHOD, _u32(FWD_METHOD[dest.forwarding])),
              attr(DEST_WEIGHT, _u32(dest.weight)),
              attr(DEST_U_THRESH, _u32(dest.u_threshold)),
              attr(DEST_L_THRESH, _u32(dest.l_threshold))]
    if dest.forwarding == 'tun' and dest.tun_type:
        parts.append(attr(DEST_TUN_TYPE, struct.pack('=B', TUN_TYPE[dest.tun_type])))
        if dest.tun_type == 'gue':
            parts.append(attr(DEST_TUN_PORT, struct.pack('!H', dest.tun_port or 0)))
        if dest.tun_type in ('gue', 'gre'):
            parts.append(attr(DEST_TUN_FLAGS, _u16(TUN_FLAGS[dest.tun_flags or 'nocsum'])))
    return parts


def op_request(op):
    """(command, attributes) of one planned operation (ipvs_diff.Op)."""
    if op.kind in ('add_service', 'edit_service'):
        return CMD[OP_CMD[op.kind]], [nested(CMD_ATTR_SERVICE, service_attrs(op.service))]
    if op.kind == 'delete_service':
        return CMD['del_service'], [nested(CMD_ATTR_SERVICE, service_key_attrs(op.service))]
    return CMD[OP_CMD[op.kind]], [nested(CMD_ATTR_SERVICE, service_key_attrs(op.service)),
                                  nested(CMD_ATTR_DEST, dest_attrs(op.dest, op.kind != 'delete_dest'))]


def service_from(attrs):
    """A Service as parse_save makes it from the same service's -S line."""
    af = struct.unpack('=H', attrs[SVC_AF])[0]
    family = AF_FAMILY[af]
    flags = struct.unpack('=I', attrs[SVC_FLAGS][:4])[0]
    persistent = bool(flags & F_PERSISTENT)
    fields = dict(family=family, scheduler=attrs[SVC_SCHED_NAME].rstrip(b'\0').decode('ascii'),
                  sched_flags=frozenset(bit for bit in (1, 2, 3) if flags & (F_SCHED1 << (bit - 1))),
                  persistent=persistent, ops=bool(flags & F_ONEPACKET))
    fwmark = struct.unpack('=I', attrs[SVC_FWMARK])[0] if SVC_FWMARK in attrs else 0
    if fwmark:
        fields.update(fwmark=fwmark, port=0)
    else:
        fields.update(protocol=NUMBER_PROTOCOL[struct.unpack('=H', attrs[SVC_PROTOCOL])[0]],
                      address=_text_addr(af, attrs[SVC_ADDR]), port=struct.unpack('!H', attrs[SVC_PORT])[0])
    if persistent:
        fields['timeout'] = struct.unpack('=I', attrs[SVC_TIMEOUT])[0]
        if family == 'ipv4':
            mask = struct.unpack('!I', attrs[SVC_NETMASK])[0]
            fields['netmask'] = bin(mask).count('1')
        else:
            fields['netmask'] = struct.unpack('=I', attrs[SVC_NETMASK])[0]
    if SVC_PE_NAME in attrs:
        fields['pe'] = attrs[SVC_PE_NAME].rstrip(b'\0').decode('ascii') or None
    return m.Service(**fields)


def dest_from(attrs, service_af):
    """(Dest as parse_save and merge_thresholds make it, active connections, inactive connections)."""
    af = struct.unpack('=H', attrs[DEST_ADDR_FAMILY])[0] if DEST_ADDR_FAMILY in attrs else service_af
    address, port = _text_addr(af, attrs[DEST_ADDR]), struct.unpack('!H', attrs[DEST_PORT])[0]
    code = struct.unpack('=I', attrs[DEST_FWD_METHOD])[0] & FWD_MASK
    if code not in METHOD_FWD:
        # the kernel keeps any 3-bit method another tool sets; ipvsadm has no switch for 4-7
        raise sx.ModelError('real server %s has forwarding method %d, none of nat (0), dr (1, 3) or tun (2) that '
                            'ipvsadm and this collection know: change it (ipvsadm -e) or delete it'
                            % (sx.format_hostport(address, port), code))
    forwarding = METHOD_FWD[code]
    fields = dict(address=address, port=port, forwarding=forwarding,
                  weight=struct.unpack('=i', attrs[DEST_WEIGHT])[0],
                  u_threshold=struct.unpack('=I', attrs[DEST_U_THRESH])[0],
                  l_threshold=struct.unpack('=I', attrs[DEST_L_THRESH])[0])
    if forwarding == 'tun':
        tun_type = TYPE_TUN.get(struct.unpack('=B', attrs[DEST_TUN_TYPE][:1])[0] if DEST_TUN_TYPE in attrs else 0)
        fields['tun_type'] = tun_type
        if tun_type == 'gue':
            fields['tun_port'] = struct.unpack('!H', attrs[DEST_TUN_PORT])[0]
        if tun_type in ('gue', 'gre'):
            fields['tun_flags'] = FLAGS_TUN.get(struct.unpack('=H', attrs[DEST_TUN_FLAGS])[0], 'nocsum')
    counts = [struct.unpack('=I', attrs[kind])[0] if kind in attrs else 0
              for kind in (DEST_ACTIVE_CONNS, DEST_INACT_CONNS)]
    return m.Dest(**fields), counts[0], counts[1]


# ---------------------------------------------------------------- the socket

class IPVSNetlink(object):
    """One generic netlink socket to the kernel's IPVS family."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        try:
            # acknowledgements of refused requests without the request echoed back
            self.sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        except OSError:
            pass
        self.sock.bind((0, 0))
        self.seq = 0
        self.family = self._family_id()

    def close(self):
        self.sock.close()

    def _message(self, kind, flags, cmd, version, parts):
        self.seq += 1
        payload = struct.pack('=BBH', cmd, version, 0) + b''.join(parts)
        return self.seq, struct.pack('=IHHII', 16 + len(payload), kind, flags, self.seq, 0) + payload

    def _replies(self):
        """Yield (type, flags, seq, payload) of the messages of one recv."""
        data = self.sock.recv(RECV_BYTES)
        pos = 0
        while pos + 16 <= len(data):
            length, kind, flags, seq, _pid = struct.unpack_from('=IHHII', data, pos)
            yield kind, flags, seq, data[pos + 16:pos + length]
            pos += (length + 3) & ~3

    def _family_id(self):
        _seq, msg = self._message(GENL_ID_CTRL, NLM_F_REQUEST, CTRL_CMD_GETFAMILY, 1,
                                  [attr(CTRL_ATTR_FAMILY_NAME, IPVS_GENL_NAME)])
        self.sock.send(msg)
        for kind, _flags, _seq, payload in self._replies():
            if kind == NLMSG_ERROR:
                raise NetlinkError(-struct.unpack_from('=i', payload)[0], 'generic netlink family IPVS')
            attrs = parse_attrs(payload[4:])
            return struct.unpack('=H', attrs[CTRL_ATTR_FAMILY_ID][:2])[0]
        raise NetlinkError(94, 'generic netlink family IPVS')  # ESOCKTNOSUPPORT

    def dump(self, cmd, parts=()):
        """The attributes of every reply of one dump request."""
        seq, msg = self._message(self.family, NLM_F_REQUEST | NLM_F_DUMP, cmd, IPVS_GENL_VERSION, list(parts))
        self.sock.send(msg)
        out = []
        while True:
            for kind, _flags, rseq, payload in self._replies():
                if rseq != seq:
                    continue
                if kind == NLMSG_DONE:
                    return out
                if kind == NLMSG_ERROR:
                    error = -struct.unpack_from('=i', payload)[0]
                    if error:
                        raise NetlinkError(error, 'dump')
                    return out
                out.append(parse_attrs(payload[4:]))

    def read(self):
        """(Table, {service key: {dest key: (active, inactive)}}) of the whole table."""
        table = m.Table()
        conns = {}
        for reply in self.dump(CMD['get_service']):
            sattrs = parse_attrs(reply[CMD_ATTR_SERVICE])
            service = service_from(sattrs)
            table.add_service(service)
            af = FAMILY_AF[service.family]
            rows = conns[service.key] = {}
            for dreply in self.dump(CMD['get_dest'], [nested(CMD_ATTR_SERVICE, service_key_attrs(service))]):
                try:
                    dest, active, inactive = dest_from(parse_attrs(dreply[CMD_ATTR_DEST]), af)
                except sx.ModelError as exc:
                    raise sx.ModelError('service %s: %s' % (service.key, exc))
                table.add_dest(service.key, dest)
                rows[dest.key] = (active, inactive)
        return table, conns

    def apply(self, ops):
        """Send the ops, a batch to a sendmsg(), until a batch has a refusal.

        Returns (sent, refused): how many ops (from the first) were sent, and
        [(index in ops, NetlinkError)] of those the kernel refused. The kernel
        handles a batch's requests in order within the sendmsg() and answers
        only a refused one, and the last one (NLM_F_ACK), whose answer
        therefore comes after all others: a request of a sent batch without an
        error answer was applied. A refused request does not stop the others
        of its batch (as `ipvsadm -R` goes on after a refused line), but no
        batch is sent after it.
        """
        refused = []
        start = 0
        while start < len(ops) and not refused:
            sent, data, size = {}, [], 0
            while start < len(ops) and size < BATCH_BYTES:
                op = ops[start]
                start += 1
                cmd, parts = op_request(op)
                last = start == len(ops) or size >= BATCH_BYTES - 512
                seq, msg = self._message(self.family, NLM_F_REQUEST | (NLM_F_ACK if last else 0), cmd,
                                         IPVS_GENL_VERSION, parts)
                sent[seq] = start - 1
                data.append(msg)
                size += len(msg)
                if last:
                    break
            self.sock.sendall(b''.join(data))
            done = False
            while not done:
                for kind, _flags, seq, payload in self._replies():
                    if kind == NLMSG_ERROR and seq in sent:
                        error = -struct.unpack_from('=i', payload)[0]
                        if error:
                            op = ops[sent[seq]]
                            refused.append((sent[seq], NetlinkError(error, op.line(), op.kind)))
                        done = done or seq == self.seq
        return start, refused
