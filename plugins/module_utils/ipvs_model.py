# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The records of the IPVS table: Service, Dest (stated fields None, resolved
against the host) and Table. No I/O."""

from __future__ import annotations

from collections import OrderedDict

from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_schema import DEST_NUMBERS
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_syntax import (
    DEFAULT_FORWARDING, DEFAULT_PERSISTENCE_TIMEOUT, DEFAULT_SCHEDULER, FORWARDING_SWITCH,
    PROTOCOL_SWITCH, dest_port, family_of, format_hostport, full_prefix, netmask_text, sched_flag_names)


class _Record(object):
    """Small slotted record with value equality (py3.8 friendly)."""

    __slots__ = ()
    FIELDS = ()  # a subclass that adds no field (StatedService) keeps its parent's

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.FIELDS = cls.__dict__.get('__slots__') or cls.FIELDS

    def __init__(self, **kwargs):
        for name in self.FIELDS:
            setattr(self, name, kwargs.pop(name, None))
        if kwargs:
            raise TypeError('unknown fields: %s' % ', '.join(sorted(kwargs)))

    def _values(self):
        return tuple(getattr(self, n) for n in self.FIELDS)

    def __eq__(self, other):
        return type(self) is type(other) and self._values() == other._values()

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(self._values())

    def __repr__(self):
        return '%s(%s)' % (type(self).__name__, ', '.join(
            '%s=%r' % (n, getattr(self, n)) for n in self.FIELDS))

    def _items(self):
        return dict((n, getattr(self, n)) for n in self.FIELDS)

    def replace(self, **changes):
        return type(self)(**dict(self._items(), **changes))


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
        return Service(**dict(self._items(), scheduler=scheduler, sched_flags=frozenset(flags), persistent=persistent,
                              timeout=timeout, netmask=netmask, pe=pe or None, ops=ops))

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


# The real server's numbers (weight, thresholds), declared in ipvs_schema.
NUMBERS = [(o.name, o.number) for o in DEST_NUMBERS]


class Dest(_Record):
    """A real server. tun_* fields are only meaningful for forwarding tun."""

    __slots__ = ('address', 'port', 'forwarding') + tuple(name for name, _n in NUMBERS) + \
        ('tun_type', 'tun_port', 'tun_flags')

    @property
    def family(self):
        return family_of(self.address)

    @property
    def key(self):
        return format_hostport(self.address, self.port)

    def resolve(self, service, current=None):
        """Fill unstated fields from the current dest or ipvsadm defaults."""
        cur = current
        port = dest_port(self.port, service.port, service.fwmark)
        fwd = self.forwarding or (cur.forwarding if cur else DEFAULT_FORWARDING)
        if fwd in ('dr', 'tun') and not service.fwmark:
            port = service.port  # ipvsadm forces vport for DR/TUN
        numbers = {}
        for name, number in NUMBERS:
            value = getattr(self, name)
            if value is None:
                value = getattr(cur, name) if cur else number.initial
            numbers[name] = value
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
        return Dest(**dict(self._items(), port=port, forwarding=fwd, tun_type=tun_type, tun_port=tun_port,
                           tun_flags=tun_flags, **numbers))

    def config(self):
        """Fields an edit (-e) can change: all but the key."""
        return self._values()[2:]

    def rule_args(self, service, command='-a'):
        """Mirror print_tunnel_rule(); the numbers that are 0 by default only when not 0."""
        args = [command] + service.key_args + ['-r', self.key]
        if command == '-d':
            return args
        args.append(FORWARDING_SWITCH[self.forwarding])
        for name, number in NUMBERS:
            value = getattr(self, name)
            if number.always or value:
                args += [number.switch, str(value)]
        if self.forwarding == 'tun' and self.tun_type:
            args += ['--tun-type', self.tun_type]
            if self.tun_type == 'gue':
                args += ['--tun-port', str(self.tun_port)]
            if self.tun_type in ('gue', 'gre'):
                args.append('--tun-' + (self.tun_flags or 'nocsum'))
        return args

    def to_dict(self):
        out = {'key': self.key}
        out.update((name, getattr(self, name)) for name in self.FIELDS)
        return out


class StatedService(Service):
    """A service as the user stated it: None is "not stated". resolve() gives a Service."""

    __slots__ = ()


class StatedDest(Dest):
    """A real server as the user stated it: None is "not stated". resolve() gives a Dest."""

    __slots__ = ()


def _resolved(record):
    # a table holds what the kernel holds or will hold, never a half-stated record
    if isinstance(record, (StatedService, StatedDest)):
        raise TypeError('%r must be resolved before it goes into a table' % (record,))


class Table(object):
    """Ordered mapping service key -> (Service, OrderedDict dest key -> Dest)."""

    def __init__(self):
        self._entries = OrderedDict()

    def add_service(self, service):
        _resolved(service)
        self._entries[service.key] = (service, OrderedDict())

    def set_service(self, service):
        _resolved(service)
        dests = self._entries[service.key][1] if service.key in self._entries else OrderedDict()
        self._entries[service.key] = (service, dests)

    def remove_service(self, key):
        self._entries.pop(key, None)

    def add_dest(self, service_key, dest):
        _resolved(dest)
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
