# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test helpers: fixture loading, a simulated ipvsadm host, a module runner.

The simulated host keeps its own kernel table and parses and prints ipvsadm
syntax itself: it must not share code with the collection, or a mistake in
the collection's command syntax would be mirrored here and pass unnoticed.
Its answers (messages, exit status, listing order) are checked against real
ipvsadm 1.31 transcripts in fixtures/ipvsadm_lab.json.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
from unittest import mock

from ansible.module_utils import basic

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19 reads the arguments from basic._ANSIBLE_ARGS
    @contextlib.contextmanager
    def patch_module_args(args):
        with mock.patch.object(basic, '_ANSIBLE_ARGS', json.dumps({'ANSIBLE_MODULE_ARGS': args}).encode()):
            yield

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')
IPVSADM = '/usr/sbin/ipvsadm'


def fixture_text(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


class AnsibleExit(Exception):
    pass


class AnsibleFail(Exception):
    pass


# ---------------------------------------------------------------- ipvsadm's words

INT_MAX = 2 ** 31 - 1
AF_INET, AF_INET6 = 2, 10            # the kernel's values: they take part in the sort
PROTO = {'-t': ('tcp', 6), '--tcp-service': ('tcp', 6), '-u': ('udp', 17),
         '--udp-service': ('udp', 17), '--sctp-service': ('sctp', 132)}
PROTO_SWITCH = {'tcp': '-t', 'udp': '-u', 'sctp': '--sctp-service'}
PROTO_NAME = {'tcp': 'TCP ', 'udp': 'UDP ', 'sctp': 'SCTP'}
COMMANDS = {'-A': 'add-service', '--add-service': 'add-service', '-E': 'edit-service',
            '--edit-service': 'edit-service', '-D': 'delete-service', '--delete-service': 'delete-service',
            '-a': 'add-server', '--add-server': 'add-server', '-e': 'edit-server',
            '--edit-server': 'edit-server', '-d': 'delete-server', '--delete-server': 'delete-server',
            '-C': 'clear', '--clear': 'clear'}
# option -> (name in ipvsadm's messages, takes a value)
OPTIONS = {'-t': ('service-address', True), '--tcp-service': ('service-address', True),
           '-u': ('service-address', True), '--udp-service': ('service-address', True),
           '--sctp-service': ('service-address', True), '-f': ('service-address', True),
           '--fwmark-service': ('service-address', True), '-6': ('ipv6', False), '--ipv6': ('ipv6', False),
           '-s': ('scheduler', True), '--scheduler': ('scheduler', True),
           '-p': ('persistent', None), '--persistent': ('persistent', None),
           '-M': ('netmask', True), '--netmask': ('netmask', True), '--pe': ('pe', True),
           '-o': ('ops', False), '--ops': ('ops', False), '-b': ('sched-flags', True),
           '--sched-flags': ('sched-flags', True), '-r': ('real-server', True),
           '--real-server': ('real-server', True), '-m': ('forward-method', False),
           '--masquerading': ('forward-method', False), '-g': ('forward-method', False),
           '--gatewaying': ('forward-method', False), '-i': ('forward-method', False),
           '--ipip': ('forward-method', False), '-w': ('weight', True), '--weight': ('weight', True),
           '-x': ('u-threshold', True), '--u-threshold': ('u-threshold', True),
           '-y': ('l-threshold', True), '--l-threshold': ('l-threshold', True),
           '--tun-type': ('tun-type', True), '--tun-port': ('tun-port', True),
           '--tun-nocsum': ('tun-nocsum', False), '--tun-csum': ('tun-csum', False),
           '--tun-remcsum': ('tun-remcsum', False)}
SERVICE_OPTS = {'service-address', 'ipv6'}
ALLOWED = {
    'add-service': SERVICE_OPTS | {'scheduler', 'persistent', 'netmask', 'pe', 'ops', 'sched-flags'},
    'delete-service': SERVICE_OPTS,
    'add-server': SERVICE_OPTS | {'real-server', 'forward-method', 'weight', 'u-threshold', 'l-threshold',
                                  'tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum'},
    'delete-server': SERVICE_OPTS | {'real-server'},
    'clear': set(),
}
ALLOWED['edit-service'] = ALLOWED['add-service']
ALLOWED['edit-server'] = ALLOWED['add-server']
FORWARD = {'-m': 'masq', '--masquerading': 'masq', '-g': 'route', '--gatewaying': 'route',
           '-i': 'tunnel', '--ipip': 'tunnel'}
FORWARD_SWITCH = {'masq': '-m', 'route': '-g', 'tunnel': '-i'}
FORWARD_NAME = {'masq': 'Masq', 'route': 'Route', 'tunnel': 'Tunnel'}
SCHED_FLAGS = {'flag-1': (1, None), 'flag-2': (2, None), 'flag-3': (3, None),
               'sh-fallback': (1, 'sh'), 'sh-port': (2, 'sh'), 'mh-fallback': (1, 'mh'), 'mh-port': (2, 'mh')}
# what print_sched_flags() names per scheduler; sh and mh do not print bit 3
FLAG_NAMES = {'sh': {1: 'sh-fallback', 2: 'sh-port'}, 'mh': {1: 'mh-fallback', 2: 'mh-port'}}
OTHER_FLAG_NAMES = {1: 'flag-1', 2: 'flag-2', 3: 'flag-3'}
SCHEDULERS = {'rr', 'wrr', 'lc', 'wlc', 'fo', 'ovf', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'mh', 'twos'}
PERSISTENCE_ENGINES = {'sip'}
DEFAULT_SCHEDULER = 'wlc'
BARE_PERSISTENCE = 360
MAX_TIMEOUT = 31 * 24 * 3600
TUN_TYPES = ('ipip', 'gue', 'gre')
CSUM = {'--tun-nocsum': 'nocsum', '--tun-csum': 'csum', '--tun-remcsum': 'remcsum'}

# errno texts as ipvsadm prints them (rc 255)
EEXIST_SERVICE = 'Service already exists'
ESRCH_SERVICE = 'No such service'
ESRCH_DEST = 'Service not defined'
EEXIST_DEST = 'Destination already exists'
ENOENT_DEST = 'No such destination'
ENOENT_SCHED = 'Scheduler or persistence engine not found'
ERANGE = 'Numerical result out of range'
EINVAL = 'Invalid operation.  Possibly wrong module version, address not unicast, ...'
ENOMEM = 'Memory allocation problem'
TRY_HELP = "Try `ipvsadm -h' or 'ipvsadm --help' for more information."


class IpvsadmError(Exception):
    """ipvsadm refused the command line itself (fail(): exit status 2)."""

    def __init__(self, message, rc=2):
        Exception.__init__(self, message)
        self.message = message
        self.rc = rc


class KernelError(Exception):
    """The kernel refused the request; ipvsadm prints its errno text, exit 255."""


def _number(text, low, high, message):
    try:
        value = int(text, 10)
    except (TypeError, ValueError):
        raise IpvsadmError(message)
    if not low <= value <= high:
        raise IpvsadmError(message)
    return value


def _address(text, what):
    """ADDR[:PORT] or [ADDR6][:PORT] -> (ip_address, port or None)."""
    message = 'illegal %s address[:port] specified' % what
    host, port = text, None
    if text.startswith('['):
        host, sep, rest = text[1:].partition(']')
        if not sep or not rest.startswith(':'):   # brackets only with a port
            raise IpvsadmError(message)
        port = rest[1:]
    elif text.count(':') == 1:
        host, port = text.split(':')
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        raise IpvsadmError(message)
    if port is not None:
        port = _number(port, 0, 65535, message)
    return addr, port


def hostport(addr, port):
    if addr.version == 6:
        return '[%s]:%d' % (addr, port)
    return '%s:%d' % (addr, port)


# ---------------------------------------------------------------- command line

def parse_args(args):
    """ipvsadm's option parsing and checks for one write command (a dict)."""
    if not args or args[0] not in COMMANDS:
        raise IpvsadmError(TRY_HELP, rc=255)   # what a line of -R without a command gets
    cmd = {'command': None, 'seen': []}
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg in COMMANDS:
            if cmd['command']:
                raise IpvsadmError("invalid option `%s'" % arg)
            cmd['command'] = COMMANDS[arg]
            continue
        if arg not in OPTIONS:
            if arg.startswith('-'):
                raise IpvsadmError('%s: unknown option' % arg, rc=255)
            raise IpvsadmError('unexpected argument %s' % arg)
        name, takes = OPTIONS[arg]
        value = None
        if takes or (takes is None and i < len(args) and not args[i].startswith('-')):
            if i >= len(args):
                raise IpvsadmError('%s: missing argument' % arg, rc=255)
            value = args[i]
            i += 1
        cmd['seen'].append(name)
        _option(cmd, arg, value)
    command = cmd['command']
    for name in cmd['seen']:
        if name not in ALLOWED[command]:
            raise IpvsadmError("Illegal '%s' option with the '%s' command" % (name, command))
    if command == 'clear':
        return cmd
    if 'service-address' not in cmd['seen']:
        raise IpvsadmError("You need to supply the 'service-address' option for the '%s' command" % command)
    if command.endswith('server') and 'real-server' not in cmd['seen']:
        raise IpvsadmError("You need to supply the 'real-server' option for the '%s' command" % command)
    if cmd.get('fwmark'):
        cmd['af'] = AF_INET6 if 'ipv6' in cmd['seen'] else AF_INET
    if command in ('add-service', 'edit-service'):
        _check_service(cmd)
    elif command in ('add-server', 'edit-server'):
        _check_dest(cmd)
    elif command == 'delete-server' and cmd['dport'] is None:
        cmd['dport'] = 0 if cmd['fwmark'] else cmd['port']
    return cmd


def _option(cmd, arg, value):
    if arg in PROTO:
        addr, port = _address(value, 'virtual server')
        cmd.update(proto=PROTO[arg][0], addr=addr, port=port or 0, fwmark=0,
                   af=AF_INET6 if addr.version == 6 else AF_INET)
    elif arg in ('-f', '--fwmark-service'):
        cmd.update(fwmark=_number(value, 1, 2 ** 32 - 1, "invalid fwmark value `%s' specified" % value),
                   proto=None, addr=None, port=0)
    elif arg in ('-s', '--scheduler'):
        cmd['sched'] = value
    elif arg in ('-p', '--persistent'):
        cmd['timeout'] = BARE_PERSISTENCE if value is None else _number(
            value, 1, MAX_TIMEOUT, "invalid timeout value `%s' specified" % value)
    elif arg in ('-M', '--netmask'):
        cmd['netmask_text'] = value
    elif arg == '--pe':
        cmd['pe'] = value
    elif arg in ('-o', '--ops'):
        cmd['ops'] = True
    elif arg in ('-b', '--sched-flags'):
        cmd['flag_names'] = value.split(',')
    elif arg in ('-r', '--real-server'):
        cmd['daddr'], cmd['dport'] = _address(value, 'real server')
    elif arg in FORWARD:
        cmd['fwd'] = FORWARD[arg]
    elif arg in ('-w', '--weight'):
        cmd['weight'] = _number(value, 0, INT_MAX, 'illegal weight specified')
    elif arg in ('-x', '--u-threshold'):
        cmd['u'] = _number(value, 0, INT_MAX, 'illegal u_threshold specified')
    elif arg in ('-y', '--l-threshold'):
        cmd['l'] = _number(value, 0, INT_MAX, 'illegal l_threshold specified')
    elif arg == '--tun-type':
        if value not in TUN_TYPES:
            raise IpvsadmError('illegal tunnel type specified')
        cmd['tun_type'] = value
    elif arg == '--tun-port':
        cmd['tun_port'] = _number(value, 1, 65535, 'illegal tunnel port specified')
    elif arg in CSUM:
        cmd['tun_csum'] = (arg[2:], CSUM[arg])


def _check_service(cmd):
    sched = cmd.setdefault('sched', DEFAULT_SCHEDULER)
    bits = set()
    for name in cmd.get('flag_names', ()):
        if name not in SCHED_FLAGS:
            raise IpvsadmError("invalid scheduler flag `%s'" % name)
        bit, owner = SCHED_FLAGS[name]
        if owner and owner != sched:
            raise IpvsadmError("incompatible scheduler flag `%s'" % name)
        bits.add(bit)
    cmd['flags'] = frozenset(bits)
    if cmd.get('ops') and not cmd['fwmark'] and cmd['proto'] != 'udp':
        raise IpvsadmError('One-Packet Scheduling is only for UDP virtual services')
    persistent = 'timeout' in cmd
    if not cmd['fwmark'] and not cmd['port'] and not persistent:
        raise IpvsadmError('Zero port specified for non-persistent service')
    cmd['netmask'] = _netmask(cmd) if persistent else None


def _netmask(cmd):
    text = cmd.get('netmask_text')
    if cmd['af'] == AF_INET6:
        if text is None:
            return 128
        return _number(text, 1, 128, 'illegal ipv6 netmask specified')
    if text is None:
        return 0xffffffff
    try:
        return int(ipaddress.IPv4Address(text))
    except ValueError:
        # inet_aton() also reads a bare number as an address: -M 33 is 0.0.0.33
        return _number(text, 0, 2 ** 32 - 1, 'illegal virtual server netmask specified')


def _check_dest(cmd):
    fwd = cmd.setdefault('fwd', 'route')
    if cmd['dport'] is None:
        cmd['dport'] = 0 if cmd['fwmark'] else cmd['port']
    if not cmd['fwmark'] and fwd in ('route', 'tunnel'):
        cmd['dport'] = cmd['port']     # -a/-e only: DR and TUN use the virtual port
    tun_given = any(k in cmd for k in ('tun_type', 'tun_port', 'tun_csum'))
    if tun_given and fwd != 'tunnel':
        raise IpvsadmError('Tunnel options conflict with forward method')
    daf = AF_INET6 if cmd['daddr'].version == 6 else AF_INET
    if daf != cmd['af'] and fwd != 'tunnel':
        raise IpvsadmError('Different address family is allowed only for tunneling servers')
    cmd.setdefault('weight', 1)
    cmd.setdefault('u', 0)
    cmd.setdefault('l', 0)
    if fwd != 'tunnel':
        cmd.update(tun_type=None, tun_port=None, tun_flags=None)
        return
    kind = cmd.setdefault('tun_type', 'ipip')
    if kind == 'gue' and 'tun_port' not in cmd:
        raise IpvsadmError("You need to supply the 'tun-port' option for the 'gue' tunnel type")
    if kind != 'gue' and 'tun_port' in cmd:
        raise IpvsadmError("Illegal 'tun-port' option with the '%s' tunnel type" % kind)
    if kind == 'ipip' and 'tun_csum' in cmd:
        raise IpvsadmError("Illegal '%s' option with the 'ipip' tunnel type" % cmd['tun_csum'][0])
    cmd.setdefault('tun_port', None)
    cmd['tun_flags'] = cmd.pop('tun_csum', (None, 'nocsum'))[1] if kind != 'ipip' else None


# ---------------------------------------------------------------- the kernel

def _skey(rec):
    return (rec['fwmark'], rec['af'], rec['proto'], rec['addr'], rec['port'])


def _unicast(addr):
    """ip_vs_new_dest(): refuse what is not a unicast (or local) address. As
    the lab's kernel types them (fixtures/netlink_lab.json): 0.0.0.0 is no
    unicast address but the rest of 0.0.0.0/8 and 240.0.0.0/4 are; an
    IPv4-mapped IPv6 address is none."""
    if addr.version == 4:
        return not (addr.is_multicast or addr == ipaddress.IPv4Address('255.255.255.255') or int(addr) == 0)
    return not (addr.is_multicast or addr.is_unspecified or addr.is_link_local or addr.ipv4_mapped)


def _i32(value):
    """A difference of unsigned 32-bit words as C's int sees it."""
    value &= 0xffffffff
    return value - 2 ** 32 if value & 0x80000000 else value


def _words(addr):
    if addr is None:
        return (0, 0, 0, 0)
    if addr.version == 4:
        return (int(addr), 0, 0, 0)   # the rest of the nf_inet_addr union is zero
    n = int(addr)
    return tuple((n >> shift) & 0xffffffff for shift in (96, 64, 32, 0))


def _cmp_services(s1, s2):
    """libipvs ipvs_cmp_services(), wrap-around of the subtractions included."""
    r = _i32(s1['fwmark'] - s2['fwmark']) or s1['af'] - s2['af']
    r = r or PROTO_NUMBER.get(s1['proto'], 0) - PROTO_NUMBER.get(s2['proto'], 0)
    if r:
        return r
    w1, w2 = _words(s1['addr']), _words(s2['addr'])
    for i in range(4 if s1['af'] == AF_INET6 else 1):
        r = _i32(w1[i] - w2[i])
        if r:
            return r
    return s1['port'] - s2['port']


def _cmp_dests(d1, d2):
    """libipvs ipvs_cmp_dests(): the first one's family decides how many words count."""
    w1, w2 = _words(d1['addr']), _words(d2['addr'])
    for i in range(4 if d1['addr'].version == 6 else 1):
        r = _i32(w1[i] - w2[i])
        if r:
            return r
    return d1['port'] - d2['port']


PROTO_NUMBER = {'tcp': 6, 'udp': 17, 'sctp': 132}


def _msort(items, cmp):
    """glibc 2.36 qsort() (msort_with_tmp): the comparator above is not a total
    order, so the merge order decides the listing and must be the same."""
    if len(items) <= 1:
        return list(items)
    half = len(items) // 2
    left, right = _msort(items[:half], cmp), _msort(items[half:], cmp)
    out = []
    i = j = 0
    while i < len(left) and j < len(right):
        if cmp(left[i], right[j]) <= 0:
            out.append(left[i])
            i += 1
        else:
            out.append(right[j])
            j += 1
    return out + left[i:] + right[j:]


class KernelTable(object):
    """The kernel's IPVS table: services in insertion order, each with its
    real servers newest first (the kernel's list_add), as plain dicts."""

    def __init__(self):
        self.services = []
        self.written = []  # (command, service, real server) of each write it took
        self.refuse = {}  # a test's fault: write number (from 1, since refuse_writes()) -> error text
        self._writes = 0

    def refuse_writes(self, *numbers, **kwargs):
        """Refuse the given writes from now on (counted from 1, `written` emptied), with ENOMEM unless
        error= says: any request can meet a kernel out of memory, and then nothing of it is applied."""
        self._writes, self.written = 0, []
        self.refuse = dict((n, kwargs.get('error', ENOMEM)) for n in numbers)

    def find(self, cmd):
        key = _skey(cmd)
        for svc in self.services:
            if _skey(svc) == key:
                return svc
        return None

    @staticmethod
    def find_dest(svc, addr, port):
        for dest in svc['dests']:
            if dest['addr'] == addr and dest['port'] == port:
                return dest
        return None

    def execute(self, cmd):
        """Apply one parsed command, or raise KernelError as the kernel would."""
        command = cmd['command']
        self._writes += 1
        if self._writes in self.refuse:
            raise KernelError(self.refuse[self._writes])
        self._execute(cmd)
        self.written.append(write_key(cmd))

    def _execute(self, cmd):
        command = cmd['command']
        if command == 'clear':
            self.services = []
            return
        svc = self.find(cmd)
        if command == 'add-service':
            if svc is not None:
                raise KernelError(EEXIST_SERVICE)
            self._check_names(cmd)
            svc = dict((k, cmd[k]) for k in ('fwmark', 'af', 'proto', 'addr', 'port'))
            svc['dests'] = []
            self._set_service(svc, cmd)
            self.services.append(svc)
            return
        if command in ('edit-service', 'delete-service'):
            if svc is None:
                raise KernelError(ESRCH_SERVICE)
            if command == 'delete-service':
                self.services.remove(svc)
            else:
                self._check_names(cmd)
                self._set_service(svc, cmd)
            return
        if svc is None:
            raise KernelError(ESRCH_DEST)
        if command != 'delete-server' and cmd['l'] > cmd['u']:
            raise KernelError(ERANGE)
        dest = self.find_dest(svc, cmd['daddr'], cmd['dport'])
        if command == 'add-server':
            if dest is not None:
                raise KernelError(EEXIST_DEST)
            if not _unicast(cmd['daddr']):
                raise KernelError(EINVAL)
            dest = {'addr': cmd['daddr'], 'port': cmd['dport']}
            svc['dests'].insert(0, dest)
        elif dest is None:
            raise KernelError(ENOENT_DEST)
        if command == 'delete-server':
            svc['dests'].remove(dest)
            return
        dest.update(fwd=cmd['fwd'], weight=cmd['weight'], u=cmd['u'], l=cmd['l'],
                    tun_type=cmd['tun_type'], tun_port=cmd['tun_port'], tun_flags=cmd['tun_flags'])

    @staticmethod
    def _check_names(cmd):
        if cmd['sched'] not in SCHEDULERS or (cmd.get('pe') and cmd['pe'] not in PERSISTENCE_ENGINES):
            raise KernelError(ENOENT_SCHED)

    @staticmethod
    def _set_service(svc, cmd):
        svc.update(sched=cmd['sched'], flags=cmd['flags'], timeout=cmd.get('timeout'),
                   netmask=cmd['netmask'], pe=cmd.get('pe'), ops=bool(cmd.get('ops')))

    def listed(self):
        """Services and their real servers in the order ipvsadm prints them."""
        return [(svc, _msort(svc['dests'], _cmp_dests)) for svc in _msort(self.services, _cmp_services)]


# ---------------------------------------------------------------- ipvsadm's output

def write_key(cmd):
    """A write as the kernel took it: command, service, real server (address, port) or None."""
    dest = (cmd['daddr'], cmd['dport']) if 'daddr' in cmd else None
    return cmd['command'], cmd.get('fwmark'), cmd.get('af'), cmd.get('proto'), cmd.get('addr'), cmd.get('port'), dest


def _fwmark(svc):
    return _i32(svc['fwmark'])     # printed with %d


def service_key(svc):
    if svc['fwmark']:
        return '-f %d%s' % (_fwmark(svc), ' -6' if svc['af'] == AF_INET6 else '')
    return '%s %s' % (PROTO_SWITCH[svc['proto']], hostport(svc['addr'], svc['port']))


def _flag_names(svc):
    names = FLAG_NAMES.get(svc['sched'], OTHER_FLAG_NAMES)
    return ','.join(names[bit] for bit in sorted(svc['flags']) if bit in names)


def _mask_text(svc):
    if svc['af'] == AF_INET6:
        return None if svc['netmask'] == 128 else '%d' % svc['netmask']
    return None if svc['netmask'] == 0xffffffff else str(ipaddress.IPv4Address(svc['netmask']))


def save_line(svc):
    line = '-A %s -s %s' % (service_key(svc), svc['sched'])
    if svc['timeout']:
        line += ' -p %d' % svc['timeout']
        if _mask_text(svc):
            line += ' -M %s' % _mask_text(svc)
    if svc['pe']:
        line += ' --pe %s' % svc['pe']
    if svc['ops']:
        line += ' -o'
    if svc['flags']:
        line += ' -b %s' % _flag_names(svc)
    return line


def save_dest_line(svc, dest):
    line = '-a %s -r %s %s -w %d' % (service_key(svc), hostport(dest['addr'], dest['port']),
                                     FORWARD_SWITCH[dest['fwd']], dest['weight'])
    if dest['fwd'] == 'tunnel':
        line += ' --tun-type %s' % dest['tun_type']
        if dest['tun_type'] == 'gue':
            line += ' --tun-port %d' % dest['tun_port']
        if dest['tun_type'] != 'ipip':
            line += ' --tun-%s' % dest['tun_flags']
    return line


def list_line(svc):
    if svc['fwmark']:
        line = 'FWM  %d%s' % (_fwmark(svc), ' IPv6' if svc['af'] == AF_INET6 else '')
    else:
        line = '%s %s' % (PROTO_NAME[svc['proto']], hostport(svc['addr'], svc['port']))
    line += ' ' + svc['sched']
    if svc['flags']:
        line += ' (%s)' % _flag_names(svc)
    if svc['timeout']:
        line += ' persistent %d' % svc['timeout']
        if _mask_text(svc):
            line += ' mask %s' % _mask_text(svc)
        if svc['pe']:
            line += ' pe %s' % svc['pe']
    if svc['ops']:
        line += ' ops'
    return line


VERSION_LINE = 'IP Virtual Server version 1.2.1 (size=%d)\n'
HEAD = 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n'
HEAD_THRESHOLDS = '%-33s %-10s %-10s %-10s %-10s\n  -> RemoteAddress:Port\n' % (
    'Prot LocalAddress:Port', 'Uthreshold', 'Lthreshold', 'ActiveConn', 'InActConn')


# ---------------------------------------------------------------- the host

class FakeHost(object):
    """Simulates ipvsadm 1.31 over an in-memory kernel table.

    Writes (-A -E -D -a -e -d -C, and -R line by line) are parsed here and
    refused like ipvsadm and the kernel refuse them; `-S -n` and `-L -n`
    (plain, --thresholds, --exact <service>) print like ipvsadm. Anything
    else must be given in `canned` (argv tuple -> (rc, out, err)).
    """

    def __init__(self, save=None, thresholds=None, canned=None, conn_tab_size=4096, netlink=False):
        self.kernel = KernelTable()
        self.netlink = netlink   # whether the kernel answers generic netlink for IPVS (netlink_fake)
        self.netlink_sends = []
        self.calls = []
        self.restores = []
        self.canned = dict(canned or {})
        self.conns = {}          # (svc key, dest key) -> (active, inactive)
        self.conn_script = []    # successive conns dicts for drain polls
        self.break_apply = False
        self.conn_tab_size = conn_tab_size
        if save:
            rc, _out, err = self.ipvsadm(['-R'], save)
            if rc or err:
                raise ValueError('save text refused: %s' % err)
        if thresholds:
            self._load_thresholds(thresholds)
        self.calls = []

    @property
    def table(self):
        return TableView(self.kernel)

    def run_command(self, argv, data=None, binary_data=False, **kwargs):
        self.calls.append(list(argv))
        key = tuple(argv)
        if key in self.canned:
            return self.canned[key]
        if argv[0] != IPVSADM:
            return 0, '', ''
        if list(argv[1:]) == ['-R']:
            self.restores.append(data)
            if self.break_apply:
                return 0, '', ''
        return self.ipvsadm(list(argv[1:]), data)

    def ipvsadm(self, args, stdin=None):
        """What `ipvsadm ARGS < stdin` answers: (rc, stdout, stderr)."""
        if args == ['-R']:
            return self._restore(stdin or '')
        if args[:1] in (['-S'], ['-L'], ['-l'], ['--save'], ['--list']):
            return self._list(args)
        try:
            self.kernel.execute(parse_args(args))
        except IpvsadmError as exc:
            return exc.rc, '', exc.message + '\n'
        except KernelError as exc:
            return 255, '', '%s\n' % exc
        return 0, '', ''

    def _restore(self, text):
        """ipvsadm -R: each line as its own command. A refused line prints its
        message and the next one runs; the exit status is the last line's. An
        error of ipvsadm's own parsing (fail()) ends the batch there."""
        rc, err = 0, ''
        for line in text.splitlines():
            args = line.split()
            if not args:
                continue
            try:
                self.kernel.execute(parse_args(args))
                rc = 0
            except IpvsadmError as exc:
                if exc.rc == 2 or exc.message == TRY_HELP:
                    return exc.rc, '', err + exc.message + '\n'
                rc, err = 255, err + exc.message + '\n'
            except KernelError as exc:
                rc, err = 255, err + '%s\n' % exc
        return rc, '', err

    def _list(self, args):
        opts = set(a for a in args if a.startswith('-') and a not in PROTO and a not in ('-f', '-6'))
        known = {'-S', '--save', '-L', '-l', '--list', '-n', '--numeric', '--exact', '--thresholds'}
        if not ('-n' in opts or '--numeric' in opts) or opts - known:
            raise AssertionError('unexpected command ipvsadm %s' % ' '.join(args))
        # a drain poll: a connection listing (one service or the whole table)
        if self.conn_script and not opts & {'-S', '--save', '--thresholds'}:
            self.conns = self.conn_script.pop(0)
        rest = [a for a in args if a not in known]
        listed = self.kernel.listed()
        if rest:
            try:
                cmd = parse_args(['-D'] + rest)
            except IpvsadmError as exc:
                return exc.rc, '', exc.message + '\n'
            listed = [(svc, dests) for svc, dests in listed if _skey(svc) == _skey(cmd)]
            if not listed:
                return 1, '', ESRCH_SERVICE + '\n'
        if '-S' in opts or '--save' in opts:
            lines = []
            for svc, dests in listed:
                lines.append(save_line(svc))
                lines.extend(save_dest_line(svc, dest) for dest in dests)
            return 0, ''.join(line + '\n' for line in lines), ''
        thresholds = '--thresholds' in opts
        out = '' if rest else VERSION_LINE % self.conn_tab_size
        out += HEAD_THRESHOLDS if thresholds else HEAD
        for svc, dests in listed:
            out += list_line(svc) + '\n'
            for dest in dests:
                name = hostport(dest['addr'], dest['port'])
                active, inactive = self.conns.get((service_key(svc), name), (0, 0))
                if thresholds:
                    out += '  -> %-28s %-10u %-10u %-10u %-10u\n' % (name, dest['u'], dest['l'], active, inactive)
                else:
                    out += '  -> %-28s %-7s %-6d %-10u %-10u\n' % (
                        name, FORWARD_NAME[dest['fwd']], dest['weight'], active, inactive)
        return 0, out, ''

    def _load_thresholds(self, text):
        """Set u/l thresholds from an `ipvsadm -L -n --thresholds` listing."""
        svc = None
        for line in text.splitlines():
            fields = line.split()
            if not fields or line.startswith(('IP Virtual', 'Prot ', '  -> RemoteAddress')):
                continue
            if fields[0] == '->':
                addr, port = _address(fields[1], 'real server')
                dest = KernelTable.find_dest(svc, addr, port)
                dest['u'], dest['l'] = int(fields[2]), int(fields[3])
            elif fields[0] == 'FWM':
                svc = self.kernel.find({'fwmark': int(fields[1]) & 0xffffffff, 'proto': None, 'addr': None,
                                        'port': 0, 'af': AF_INET6 if fields[2] == 'IPv6' else AF_INET})
            else:
                addr, port = _address(fields[1], 'virtual server')
                svc = self.kernel.find({'fwmark': 0, 'proto': fields[0].lower(), 'addr': addr, 'port': port,
                                        'af': AF_INET6 if addr.version == 6 else AF_INET})

    def ipvsadm_calls(self):
        return [c[1:] for c in self.calls if c[0] == IPVSADM]


class TableView(object):
    """Read-only view for assertions: keys in ipvsadm's syntax and listing order."""

    def __init__(self, kernel):
        self._listed = [(service_key(svc), svc, dests) for svc, dests in kernel.listed()]

    def keys(self):
        return [key for key, _svc, _dests in self._listed]

    def service(self, key):
        for skey, svc, _dests in self._listed:
            if skey == key:
                return svc
        return None

    def dests(self, key):
        for skey, _svc, dests in self._listed:
            if skey == key:
                return dict((hostport(d['addr'], d['port']), d) for d in dests)
        return {}

    def dest(self, service_key, dest_key):
        return self.dests(service_key).get(dest_key)

    def __contains__(self, key):
        return key in self.keys()

    def __len__(self):
        return len(self._listed)


# ---------------------------------------------------------------- the module runner

def _get_bin_path(self, arg, required=False, opt_dirs=None):
    return '/usr/sbin/%s' % arg


def run_module(module, args, host, check_mode=False, diff=False):
    """Run module.main() with args; returns the exit_json dict or raises AnsibleFail."""
    args = dict(args)
    args['_ansible_check_mode'] = check_mode
    args['_ansible_diff'] = diff

    def exit_json(self, **kwargs):
        kwargs.setdefault('changed', False)
        raise AnsibleExit(kwargs)

    def fail_json(self, msg, **kwargs):
        kwargs['msg'] = msg
        raise AnsibleFail(kwargs)

    from ansible_collections.lvs.cluster.tests.unit.netlink_fake import socket_factory

    with patch_module_args(args), mock.patch('socket.socket', socket_factory(host)):
        with mock.patch.multiple(basic.AnsibleModule, exit_json=exit_json, fail_json=fail_json,
                                 run_command=lambda self, *a, **k: host.run_command(*a, **k),
                                 get_bin_path=_get_bin_path):
            try:
                module.main()
            except AnsibleExit as exc:
                return exc.args[0]
    raise AssertionError('module did not exit')
