# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""iproute2 helpers: parse `ip -j` JSON, build ip argv lists, systemd units; the grammar of
interface names and address labels."""

from __future__ import annotations

import ipaddress
import json
import os
import re

UNIT_HEADER = '# Managed by lvs.cluster.vip_address; local changes will be overwritten.'
# Narrower than the kernel (dev_valid_name: 1..15 bytes, not "." or "..", no "/",
# ":" or whitespace): ASCII words joined by dots (a VLAN's eth0.100), so that a
# name is one argv word, one path component, one sysctl key part, and safe in a unit.
_IFNAME_RE = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*')
IFNAMSIZ = 16
# An IPv4 address label: the interface's name, or it and ":" and a suffix (iproute2's rule).
_LABEL_SUFFIX_RE = re.compile(r'[A-Za-z0-9_.:-]+')


class IpError(ValueError):
    """Unparsable ip output."""


def valid_ifname(name):
    """An interface name as this collection accepts one (see _IFNAME_RE)."""
    return isinstance(name, str) and len(name) < IFNAMSIZ and bool(_IFNAME_RE.fullmatch(name))


def valid_label(label, interface):
    """An address label of `interface`: itself, or "<interface>:<suffix>", at most 15 characters."""
    if not isinstance(label, str) or len(label) >= IFNAMSIZ or not valid_ifname(interface):
        return False
    head, sep, suffix = label.partition(':')
    return head == interface and (not sep or bool(_LABEL_SUFFIX_RE.fullmatch(suffix)))


def parse_links(text):
    """`ip -j addr show` / `ip -j link show` -> {ifname: link dict}."""
    try:
        data = json.loads(text or '[]')
    except ValueError as exc:
        raise IpError('cannot parse ip -j output: %s' % exc)
    links = {}
    for item in data:
        if isinstance(item, dict) and 'ifname' in item:
            links[item['ifname']] = item
    return links


def link_is_up(link):
    return 'UP' in (link.get('flags') or [])


def addresses(link):
    """[(address, prefixlen, label)] of a link from `ip -j addr show`."""
    out = []
    for info in link.get('addr_info') or []:
        if info.get('family') not in ('inet', 'inet6') or 'local' not in info:
            continue
        out.append((str(ipaddress.ip_address(info['local'])), int(info['prefixlen']),
                    info.get('label')))
    return out


def find_address(links, address):
    """[(ifname, prefixlen, label)] wherever `address` is configured."""
    found = []
    for name, link in links.items():
        for addr, prefix, label in addresses(link):
            if addr == address:
                found.append((name, prefix, label))
    return found


# An IPv6 VIP skips duplicate address detection (a VIP that moves must answer
# at once, not a second later) and is deprecated from the start: the host never
# picks it as the source of its own packets. Without that, a director sends its
# tunnelled packets from the VIP, and a real server that carries the VIP drops
# them as coming from one of its own addresses.
VIP6_FLAGS = ['nodad', 'preferred_lft', '0']


def addr_argv(ip, action, address, prefix, interface, label=None):
    argv = [ip, 'addr', action, '%s/%d' % (address, prefix), 'dev', interface]
    if label:
        argv += ['label', label]
    if action in ('add', 'replace') and ipaddress.ip_address(address).version == 6:
        argv += VIP6_FLAGS
    return argv


def vip_ready(link, address):
    """False for an IPv6 VIP still preferred as a source address (added without VIP6_FLAGS)."""
    for info in link.get('addr_info') or []:
        if info.get('family') == 'inet6' and 'local' in info \
                and str(ipaddress.ip_address(info['local'])) == address:
            return info.get('preferred_life_time') == 0
    return True


# The fallback tunnel devices that a kernel module creates, and that a VIP's
# unit brings up: tunl0 (IPv4 in IPv4) and ip6tnl0 (IPv6 or IPv4 in IPv6, once
# its mode is any; the kernel creates it in ip6ip6 mode).
# interface_type: (device, kernel module)
TUNNELS = {'ipip': ('tunl0', 'ipip'), 'ip6tnl': ('ip6tnl0', 'ip6_tunnel')}
IP6TNL_MODE = ['-6', 'tunnel', 'change', 'ip6tnl0', 'mode']


def _escaped(address):
    """The address as it appears in a unit name (':' and anything odd as '_')."""
    return re.sub(r'[^A-Za-z0-9_.-]', '_', address.replace(':', '_'))


def unit_name(address):
    """Systemd unit name for one VIP, e.g. lvs-vip-10.0.0.1.service.

    Named for the address alone: a VIP moved to another interface or prefix
    rewrites its one unit, which records where the address was (unit_place).
    """
    return 'lvs-vip-%s.service' % _escaped(address)


def legacy_unit_re(address):
    """Names of 0.1 units, lvs-vip-<interface>-<address>-<prefix>.service, for one address."""
    return re.compile(r'lvs-vip-[A-Za-z0-9_.-]+-%s-\d{1,3}\.service' % re.escape(_escaped(address)))


_PLACE_RE = re.compile(r'^ExecStop=-\S+ addr del (\S+)/(\d+) dev (\S+)', re.M)


def unit_place(text):
    """(address, prefix, interface) of a unit written by unit_text (its ExecStop), or None."""
    match = _PLACE_RE.search(text or '')
    return (match.group(1), int(match.group(2)), match.group(3)) if match else None


_MADE_RE = re.compile(r'^ExecStart=-\S+ (?:link add (\S+) type (dummy)|(ipip|ip6_tunnel))$', re.M)


def unit_made(text):
    """('dummy', name), ('ipip', 'tunl0') or ('ip6tnl', 'ip6tnl0') when a unit of unit_text
    creates or brings up its interface."""
    match = _MADE_RE.search(text or '')
    if not match:
        return None
    if match.group(2):
        return ('dummy', match.group(1))
    kind = [k for k, (_dev, mod) in TUNNELS.items() if mod == match.group(3)][0]
    return (kind, TUNNELS[kind][0])


def device_unit(interface):
    """systemd's device unit of a network interface (systemd-escape --path, enough for ifnames)."""
    escaped = ''.join(c if c.isalnum() or c in ':_.' else '\\x%02x' % ord(c) for c in interface)
    return 'sys-subsystem-net-devices-%s.device' % escaped


class UnitError(ValueError):
    """A value that a systemd unit line cannot carry as it is."""

    def __init__(self, field, message):
        super(UnitError, self).__init__('%s: %s' % (field, message))
        self.field = field


# What a value in a unit line may hold: nothing that systemd reads as syntax
# there (specifiers %, variables $, C escapes \, quotes, comments, line breaks,
# whitespace that splits argv). WORD: one argv word or part of Description; PATH:
# an executable; DEVICE: a device unit name, its only escapes systemd's \xNN.
UNIT_WORD = re.compile(r'[A-Za-z0-9_.:/+-]{1,255}')
UNIT_PATH = re.compile(r'/[A-Za-z0-9_.+/-]{1,254}')
UNIT_DEVICE = re.compile(r'sys-subsystem-net-devices-(?:[A-Za-z0-9_.:]|\\x[0-9a-f]{2}){1,60}\.device')


def unit_value(text, field, grammar=UNIT_WORD):
    """text, if a unit line can carry it verbatim (a full match of grammar); else UnitError naming field."""
    if not isinstance(text, str) or not grammar.fullmatch(text):
        raise UnitError(field, '%r cannot be written into a systemd unit' % (text,))
    return text


def in_container():
    """True in a container: systemd says so (/run/systemd/container), or podman or docker does."""
    return any(os.path.exists(p) for p in ('/run/systemd/container', '/run/.containerenv', '/.dockerenv'))


def systemd_manages(unit_dir):
    """True when a running systemd reads unit_dir (then units need a daemon-reload)."""
    return os.path.isdir('/run/systemd/system') and os.path.realpath(unit_dir) == '/etc/systemd/system'


def unit_text(ip, modprobe, interface, interface_type, address, prefix, label=None, bind_device=False):
    """Oneshot unit restoring one VIP at boot.

    ExecStart is not run by a shell, so each line is a plain argv; a leading
    "-" makes systemd ignore failures (module already loaded, link exists).
    bind_device: wait for the interface's device and go with it (a bond or a
    VLAN that appears late); only where udev runs, as containers have no
    device units.
    """
    # every value a line carries passes unit_value: the text below adds only fixed words
    ip, modprobe = unit_value(ip, 'ip', UNIT_PATH), unit_value(modprobe, 'modprobe', UNIT_PATH)
    interface, address = unit_value(interface, 'interface'), unit_value(address, 'address')
    prefix = int(unit_value(str(prefix), 'prefix', re.compile('[0-9]{1,3}')))
    label = unit_value(label, 'label') if label else None
    lines = [UNIT_HEADER, '[Unit]',
             'Description=LVS VIP %s/%d on %s' % (address, prefix, interface),
             'Wants=network-pre.target', 'After=network-pre.target', 'Before=network.target']
    if bind_device:
        device = unit_value(device_unit(interface), 'interface', UNIT_DEVICE)
        lines += ['BindsTo=%s' % device, 'After=%s' % device]
    lines += ['', '[Service]', 'Type=oneshot', 'RemainAfterExit=yes']
    if interface_type in TUNNELS:
        lines.append('ExecStart=-%s %s' % (modprobe, TUNNELS[interface_type][1]))
    if interface_type == 'ip6tnl':
        lines.append('ExecStart=%s %s any' % (ip, ' '.join(IP6TNL_MODE)))
    elif interface_type == 'dummy':
        lines.append('ExecStart=-%s link add %s type dummy' % (ip, interface))
    lines.append('ExecStart=%s link set dev %s up' % (ip, interface))
    lines.append('ExecStart=%s' % ' '.join(addr_argv(ip, 'replace', address, prefix, interface, label)))
    lines.append('ExecStop=-%s' % ' '.join(addr_argv(ip, 'del', address, prefix, interface)))
    lines += ['', '[Install]', 'WantedBy=multi-user.target']
    return '\n'.join(lines) + '\n'
