#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: vip_address
short_description: Put a virtual IP address on an interface, optionally persistent across reboots
version_added: 0.1.0
description:
  - Adds or removes one IPv4 or IPv6 address on C(lo), a dummy interface (created when missing),
    C(tunl0) (the C(ipip) module is loaded and the link set up), C(ip6tnl0) (the C(ip6_tunnel)
    module is loaded, the link set to mode C(any) and up) or an existing interface, with C(ip) from
    iproute2.
  - An IPv6 address is added with C(nodad preferred_lft 0), as keepalived adds its IPv6 VIPs. Without
    duplicate address detection it answers at once. As a deprecated address it is never the source
    address of the host's own packets, for example a director's tunnelled packets, which a real
    server carrying the same VIP would drop. An IPv6 VIP found without these flags is replaced.
  - With O(persist=true) a oneshot systemd unit C(lvs-vip-<address>.service) is written to
    O(unit_dir) and enabled by a symlink in C(multi-user.target.wants), as C(systemctl enable) does, so
    no running systemd is needed (works in containers); C(systemctl daemon-reload) follows where systemd
    manages O(unit_dir). Its C(ExecStart) lines are plain C(ip)/C(modprobe) argv lists; no shell or
    Python runs at boot. Every value in it is checked against an allow list first (no specifier, variable,
    quote, escape or line break reaches it), and every option before anything is read or written. Its
    C(ExecStop) records where the address is, so a VIP moved to another interface or prefix rewrites its
    one unit and leaves the old place.
author: lvs.cluster contributors (!UNKNOWN)
options:
  address:
    description:
      - IPv4 or IPv6 address, optionally with a prefix length (V(10.0.0.1/32)), used in its canonical
        form (unit name and text, comparisons).
      - Refused, before anything is read or written, with a zone id (V(fe80::1%eth0)), whitespace, or as
        a special-purpose address (IPv4-mapped or -compatible IPv6, IPv6 link-local, unspecified,
        multicast, broadcast).
    type: str
    required: true
  prefix:
    description:
      - Prefix length. Defaults to the one in O(address), else V(32) for IPv4 and V(128) for IPv6
        (a host route, the usual choice for a VIP on C(lo) or a dummy).
    type: int
  interface:
    description:
      - Interface that carries the address. At most 15 characters, ASCII letters, digits, V(_) and V(-),
        with single dots between them (V(eth0.100)); it must exist unless O(interface_type) creates it.
    type: str
    default: lo
  interface_type:
    description:
      - V(auto) treats C(tunl0) as V(ipip), C(ip6tnl0) as V(ip6tnl) and anything else as V(existing).
      - V(existing) requires the interface to exist.
      - V(dummy) creates a dummy interface named O(interface) when missing and sets it up.
      - V(ipip) loads the C(ipip) kernel module (which creates C(tunl0)) and sets the link up.
      - V(ip6tnl) loads the C(ip6_tunnel) kernel module (which creates C(ip6tnl0)), sets its mode to
        C(any) (IPv6 and IPv4 in IPv6; the kernel creates it as C(ip6ip6)) and the link up.
    type: str
    choices: [auto, existing, dummy, ipip, ip6tnl]
    default: auto
  label:
    description:
      - IPv4 address label, which must be O(interface) or start with O(interface) followed by a
        colon and letters, digits or V(_.:-) (V(lo:vip1)), at most 15 characters.
    type: str
  state:
    description: Whether the address is present.
    type: str
    choices: [present, absent]
    default: present
  persist:
    description:
      - Write and enable (V(true)) or remove (V(false) or O(state=absent)) the boot unit for this
        address. When omitted the boot unit is left as it is, except that O(state=absent) removes it.
    type: bool
  unit_dir:
    description: Directory of the systemd unit files.
    type: path
    default: /etc/systemd/system
notes:
  - When the last address leaves a dummy interface that this module created for it, or C(tunl0) or
    C(ip6tnl0) that it brought up, the dummy is deleted, C(tunl0) set down and C(ip6tnl0) set down
    and back to mode C(ip6ip6) (the boot unit records what it made).
  - The address is only managed on O(interface); the module warns when it is found elsewhere.
seealso:
  - module: lvs.cluster.arp_sysctl
attributes:
  diff_mode:
    details: Shows the interface's addresses and the unit file before and after.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - lvs.cluster.attributes
'''

EXAMPLES = r'''
- name: VIP on loopback of a direct-routing real server, restored at boot
  lvs.cluster.vip_address:
    address: 10.0.0.1
    interface: lo
    persist: true

- name: VIP on a dummy interface
  lvs.cluster.vip_address:
    address: "2001:db8::1"
    interface: lvs0
    interface_type: dummy

- name: VIP on tunl0 of a tunnelling real server
  lvs.cluster.vip_address:
    address: 10.0.0.1/32
    interface: tunl0
    persist: true

- name: Remove the VIP and its boot unit
  lvs.cluster.vip_address:
    address: 10.0.0.1
    state: absent
'''

RETURN = r'''
address:
  description: The address with its prefix length.
  returned: always
  type: str
  sample: 10.0.0.1/32
interface:
  description: The interface managed.
  returned: always
  type: str
  sample: lo
commands:
  description: The commands run, or that would be run in check mode (argv joined by spaces).
  returned: always
  type: list
  elements: str
  sample: ["/usr/sbin/ip addr add 10.0.0.1/32 dev lo"]
unit_file:
  description: Path of the boot unit for this address.
  returned: always
  type: str
  sample: /etc/systemd/system/lvs-vip-10.0.0.1.service
'''

import ipaddress
import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.cluster.plugins.module_utils import ip_helpers as iph
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_syntax as sx
from ansible_collections.lvs.cluster.plugins.module_utils import sysctl_helpers as sh


# What a wider prefix would do on these interfaces (it is never what a VIP needs).
HOST_PREFIX_ONLY = {'lo': 'treats every address of', 'tunl0': 'routes into the tunnel',
                    'ip6tnl0': 'routes into the tunnel'}


class VipError(ValueError):
    def __init__(self, field, message):
        super(VipError, self).__init__('%s: %s' % (field, message))
        self.field = field


def parse_request(params):
    """Check every option against what ip and the kernel take, before anything is read or
    written; returns (canonical address, prefix)."""
    iface = params['interface']
    if not iph.valid_ifname(iface):
        raise VipError('interface', '%r is not an interface name (at most 15 characters: letters, digits, '
                       '"_" and "-", dots between them)' % (iface,))
    text, sep, given = params['address'].partition('/')
    prefix = params['prefix']
    if sep:
        if not re.fullmatch(r'[1-9][0-9]{0,2}', given):  # no leading 0: ip reads "/032" as octal
            raise VipError('address', 'bad prefix length %r' % (given,))
        if prefix is not None and prefix != int(given):
            raise VipError('prefix', 'conflicts with the prefix in address (/%s)' % given)
        prefix = int(given)
    try:
        # canonical everywhere (unit name and text, comparisons); no zone id, no whitespace
        address, family = sx.usable_ip(text)
    except sx.ModelError as exc:
        raise VipError('address', str(exc))
    limit = sx.full_prefix(family)
    if prefix is None:
        prefix = limit
    if not 0 < prefix <= limit:
        raise VipError('prefix', 'must be between 1 and %d' % limit)
    if iface in HOST_PREFIX_ONLY and prefix != limit:
        net = ipaddress.ip_network('%s/%d' % (address, prefix), strict=False)
        raise VipError('prefix', 'a VIP on %s takes a host prefix (/%d): with /%d the kernel %s %s, and '
                       'this host could no longer reach its neighbours in it'
                       % (iface, limit, prefix, HOST_PREFIX_ONLY[iface], net))
    label = params['label']
    if label is not None:
        if family != 'ipv4':
            raise VipError('label', 'labels only exist for IPv4 addresses')
        if not iph.valid_label(label, iface):
            raise VipError('label', '%r: must be %s or start with "%s:" (then letters, digits, "_.:-") and '
                           'have at most 15 characters' % (label, iface, iface))
    return address, prefix


def interface_type(params):
    kind = params['interface_type']
    if kind == 'auto':
        return ([k for k, (dev, _mod) in iph.TUNNELS.items() if dev == params['interface']] or ['existing'])[0]
    if kind in iph.TUNNELS and params['interface'] != iph.TUNNELS[kind][0]:
        raise VipError('interface', 'interface_type %s only brings up %s' % (kind, iph.TUNNELS[kind][0]))
    return kind


def ip6tnl_mode(module, ip, link):
    """The mode of ip6tnl0 (any, ip6ip6, ipip6), or None when it does not exist yet."""
    if link is None:
        return None
    rc, out, err = module.run_command([ip, '-j', '-d', 'link', 'show', 'dev', 'ip6tnl0'])
    if rc != 0:
        module.fail_json(msg='ip -j -d link show dev ip6tnl0 failed: %s' % err.strip(), rc=rc)
    info = iph.parse_links(out).get('ip6tnl0', {}).get('linkinfo') or {}
    return (info.get('info_data') or {}).get('proto')


def _shown(entries):
    """Addresses as the diff shows them: sorted, without IPv6 link-local ones.

    The kernel lists IPv4 before IPv6 and adds an fe80:: address by itself to
    a link brought up (a new dummy), so a prediction could never match the
    read-back order and content otherwise.
    """
    keep = [(a, p, lbl) for a, p, lbl in entries if not ipaddress.ip_address(a).is_link_local
            or ipaddress.ip_address(a).version == 4]
    return sorted(keep, key=lambda e: (ipaddress.ip_address(e[0]).version,
                                       int(ipaddress.ip_address(e[0])), e[1]))


def describe(links, interface, entries=None):
    link = links.get(interface)
    if link is None and entries is None:
        return '(interface %s does not exist)\n' % interface
    if entries is None:
        entries = iph.addresses(link)
    lines = ['%s/%d%s' % (a, p, ' label %s' % lbl if lbl and lbl != interface else '')
             for a, p, lbl in _shown(entries)]
    return ''.join('%s %s\n' % (interface, line) for line in lines)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            address=dict(type='str', required=True),
            prefix=dict(type='int'),
            interface=dict(type='str', default='lo'),
            interface_type=dict(type='str', default='auto', choices=['auto', 'existing', 'dummy', 'ipip', 'ip6tnl']),
            label=dict(type='str'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            persist=dict(type='bool'),
            unit_dir=dict(type='path', default='/etc/systemd/system'),
        ),
        supports_check_mode=True)
    params = module.params
    try:
        address, prefix = parse_request(params)
        kind = interface_type(params)
    except VipError as exc:
        module.fail_json(msg=str(exc), field=exc.field)

    iface = params['interface']
    present = params['state'] == 'present'
    ip = module.get_bin_path('ip', required=True)
    modprobe = module.get_bin_path('modprobe', required=kind in iph.TUNNELS) or '/sbin/modprobe'

    rc, out, err = module.run_command([ip, '-j', 'addr', 'show'])
    if rc != 0:
        module.fail_json(msg='ip -j addr show failed: %s' % err.strip(), rc=rc)
    try:
        links = iph.parse_links(out)
    except iph.IpError as exc:
        module.fail_json(msg=str(exc))
    link = links.get(iface)
    if present and link is None and kind == 'existing':
        module.fail_json(msg='interface: %s does not exist (use interface_type dummy to create it)'
                         % iface, field='interface')

    # Boot persistence: one unit per VIP, which records where the address was put.
    unit = iph.unit_name(address)
    unit_path = os.path.join(params['unit_dir'], unit)
    old_unit = sh.read_file(unit_path)
    legacy = sorted(n for n in (os.listdir(params['unit_dir']) if os.path.isdir(params['unit_dir']) else [])
                    if iph.legacy_unit_re(address).fullmatch(n))
    unit_texts = [old_unit] + [sh.read_file(os.path.join(params['unit_dir'], n)) for n in legacy]
    places = [place for place in map(iph.unit_place, unit_texts) if place and place[0] == address]

    commands = []
    for _a, old_prefix, old_iface in places:
        if old_iface != iface and (old_prefix, old_iface) in [(p, n) for n, p, _l in iph.find_address(links, address)]:
            commands.append(iph.addr_argv(ip, 'del', address, old_prefix, old_iface))
    if present:
        if link is None and kind == 'dummy':
            commands.append([ip, 'link', 'add', iface, 'type', 'dummy'])
        if link is None and kind in iph.TUNNELS:
            commands.append([modprobe, iph.TUNNELS[kind][1]])
        if kind == 'ip6tnl' and ip6tnl_mode(module, ip, link) != 'any':
            commands.append([ip] + iph.IP6TNL_MODE + ['any'])
        if link is None or not iph.link_is_up(link):
            commands.append([ip, 'link', 'set', 'dev', iface, 'up'])
    have = [(p, lbl) for a, p, lbl in iph.addresses(link or {}) if a == address]
    for old_prefix, old_label in have:
        wrong_label = params['label'] is not None and (old_label or iface) != params['label']
        if not present or old_prefix != prefix or wrong_label:
            commands.append(iph.addr_argv(ip, 'del', address, old_prefix, iface))
    keep = [p for p, lbl in have if p == prefix and (params['label'] is None or (lbl or iface) == params['label'])]
    if present and not keep:
        commands.append(iph.addr_argv(ip, 'add', address, prefix, iface, params['label']))
    elif present and not iph.vip_ready(link, address):
        commands.append(iph.addr_argv(ip, 'replace', address, prefix, iface, params['label']))
    # An interface this VIP's unit created (a dummy) or brought up (tunl0) goes
    # with the VIP when it carries nothing else.
    leaving = set(c[-1] for c in commands if c[1:3] == ['addr', 'del'])
    for kind_made, made in filter(None, map(iph.unit_made, unit_texts)):
        others = [a for a, _p, _l in iph.addresses(links.get(made, {})) if a != address
                  and not ipaddress.ip_address(a).is_link_local]
        if made in leaving and made in links and not others and not (present and made == iface):
            if kind_made == 'ip6tnl':
                commands.append([ip] + iph.IP6TNL_MODE + ['ip6ip6'])
            commands.append([ip, 'link', 'del', made] if kind_made == 'dummy'
                            else [ip, 'link', 'set', 'dev', made, 'down'])
    elsewhere = [n for n, _p, _l in iph.find_address(links, address) if n != iface]
    if present and elsewhere:
        module.warn('%s is also configured on %s' % (address, ', '.join(sorted(elsewhere))))

    # The unit and its wants symlink (what `systemctl enable` makes of WantedBy=multi-user.target).
    wants_dir = os.path.join(params['unit_dir'], 'multi-user.target.wants')
    wants = os.path.join(wants_dir, unit)
    persist = params['persist'] if present else False
    new_unit = old_unit
    if persist:
        bind = kind == 'existing' and iface != 'lo' and not iph.in_container()
        try:
            new_unit = iph.unit_text(ip, modprobe, iface, kind, address, prefix, params['label'], bind_device=bind)
        except iph.UnitError as exc:  # only the paths of ip and modprobe are left to refuse here
            module.fail_json(msg=str(exc), field=exc.field)
    elif persist is False:
        new_unit = None
    # units of 0.1 (named for interface and prefix too) are replaced or removed with this one
    stale = legacy if persist is not None else []
    unit_changed = new_unit != old_unit or (new_unit is not None and not os.path.islink(wants)) \
        or (new_unit is None and os.path.lexists(wants)) or bool(stale)
    systemctl = module.get_bin_path('systemctl') if iph.systemd_manages(params['unit_dir']) else None
    if unit_changed and systemctl:
        commands.append([systemctl, 'daemon-reload'])

    after_links = links
    if unit_changed and not module.check_mode:
        for name in stale:
            for path in (os.path.join(wants_dir, name), os.path.join(params['unit_dir'], name)):
                if os.path.lexists(path):
                    os.unlink(path)
        if new_unit is None:
            for path in (wants, unit_path):
                if os.path.lexists(path):
                    os.unlink(path)
        else:
            if new_unit != old_unit:
                sh.write_file_atomic(module, unit_path, new_unit)
            if not os.path.islink(wants):
                if not os.path.isdir(wants_dir):
                    os.makedirs(wants_dir, 0o755)
                if os.path.lexists(wants):
                    os.unlink(wants)
                os.symlink(unit_path, wants)
    if commands and not module.check_mode:
        for argv in commands:
            rc, _out, err = module.run_command(argv)
            if rc != 0:
                module.fail_json(msg='%s failed: %s' % (' '.join(argv), err.strip()), rc=rc,
                                 commands=[' '.join(c) for c in commands])
        rc, out, err = module.run_command([ip, '-j', 'addr', 'show'])
        after_links = iph.parse_links(out) if rc == 0 else links

    result = dict(changed=bool(commands) or unit_changed, address='%s/%d' % (address, prefix),
                  interface=iface, commands=[' '.join(c) for c in commands], unit_file=unit_path)
    if module._diff:
        after_text = describe(after_links, iface)
        if module.check_mode and commands:
            entries = [e for e in iph.addresses(link or {}) if e[0] != address]
            if present:
                entries.append((address, prefix, params['label'] or iface))
            after_text = describe(links, iface, entries)
        result['diff'] = [
            dict(before_header='addresses on %s' % iface, after_header='addresses on %s' % iface,
                 before=describe(links, iface), after=after_text),
            dict(before_header=unit_path, after_header=unit_path,
                 before=old_unit or '', after=new_unit or ''),
        ]
    module.exit_json(**result)


if __name__ == '__main__':
    main()
