#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: arp_sysctl
short_description: ARP and reverse-path kernel settings for direct-routing and tunnelling real servers
version_added: 0.1.0
description:
  - Sets C(arp_ignore) and C(arp_announce) so a real server does not answer ARP for the VIP it
    carries on C(lo) or C(tunl0), and for V(tun) mode disables reverse-path filtering that would
    drop decapsulated packets, where they arrive (C(all) and the tunnel device) and nowhere else.
  - Values are written live to C(/proc/sys/net/ipv4/conf/<interface>/<key>) for C(all) and every
    listed interface, and (with O(persist=true)) to one managed file under C(/etc/sysctl.d/).
  - The kernel uses the maximum of C(all) and the interface value for C(arp_ignore),
    C(arp_announce) and C(rp_filter), so C(all) is always set.
author: lvs.cluster contributors (!UNKNOWN)
options:
  mode:
    description:
      - V(dr) for direct routing real servers, V(tun) for tunnelling real servers.
      - In V(tun) mode C(rp_filter) defaults to V(0) and is set on C(all) and the tunnel devices only,
        where the decapsulated packets arrive (the kernel checks a packet against the higher of C(all) and
        the device it arrives on), that is C(tunl0) (the C(ipip) module is loaded when C(tunl0) is missing), unless
        O(interfaces) lists C(tunl0) or C(ip6tnl0) (IPv4 in IPv6; the C(ip6_tunnel) module is loaded when
        it is missing). The other interfaces listed, the NIC among them, get the ARP settings and keep
        their own C(rp_filter).
    type: str
    choices: [dr, tun]
    required: true
  interfaces:
    description:
      - Interfaces to set besides C(all), for example the one carrying the VIP (C(lo)).
      - Each must exist in C(/sys/class/net); C(tunl0) and C(ip6tnl0) are also accepted in V(tun) mode.
        A name is at most 15 characters, ASCII letters, digits, V(_) and V(-), with single dots between them.
    type: list
    elements: str
    default: []
  arp_ignore:
    description: C(arp_ignore) value, 0 to 3 or 8 (4 to 7 are reserved and refused). V(1) answers ARP only for addresses of the receiving interface.
    type: int
    default: 1
  arp_announce:
    description: C(arp_announce) value, 0 to 2. V(2) always uses the best local source address.
    type: int
    default: 2
  rp_filter:
    description:
      - C(rp_filter) value, 0 to 2. In V(tun) mode the default is V(0), set on C(all) and the tunnel
        devices; in V(dr) mode it is only set when given, on C(all) and every interface listed.
    type: int
  proxy_arp:
    description: C(proxy_arp) value, 0 or 1. Only set when given.
    type: int
  state:
    description:
      - V(present) applies the values. Its first run records in the header of O(persist_file) the
        value each key had before.
      - V(absent) puts every recorded key back to that value and removes O(persist_file). Keys without a
        record (a file of 0.1) go to the kernel default V(0) for C(arp_ignore) and C(arp_announce), and
        C(rp_filter) and C(proxy_arp) are left as they are. Without O(persist_file) there is nothing of
        this module's to undo, and nothing changes.
    type: str
    choices: [present, absent]
    default: present
  persist:
    description: Keep the values across reboots in O(persist_file).
    type: bool
    default: true
  persist_file:
    description:
      - Managed sysctl file, named C(*.conf). An existing file must be a regular file of C(key = value)
        lines and comments; anything else is refused, its content neither shown nor rewritten.
    type: path
    default: /etc/sysctl.d/90-lvs-cluster.conf
seealso:
  - module: lvs.cluster.vip_address
attributes:
  diff_mode:
    details: Shows the settings and the persisted file before and after.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - lvs.cluster.attributes
'''

EXAMPLES = r'''
- name: Direct-routing real server with the VIP on lo
  lvs.cluster.arp_sysctl:
    mode: dr
    interfaces: [lo, eth0]

- name: Tunnelling real server
  lvs.cluster.arp_sysctl:
    mode: tun
    interfaces: [eth0]

- name: Undo
  lvs.cluster.arp_sysctl:
    mode: dr
    interfaces: [lo, eth0]
    state: absent
'''

RETURN = r'''
sysctls:
  description:
    - The managed settings and their values after the run (predicted in check mode).
    - Each key is a sysctl name, each value its value as a string.
  returned: always
  type: dict
  sample:
    net.ipv4.conf.all.arp_ignore: "1"
    net.ipv4.conf.all.arp_announce: "2"
    net.ipv4.conf.lo.arp_ignore: "1"
    net.ipv4.conf.lo.arp_announce: "2"
changed_keys:
  description: Settings whose live value was (or would be) changed.
  returned: always
  type: list
  elements: str
  sample: [net.ipv4.conf.all.arp_ignore]
persist_file:
  description: Path of the managed sysctl file.
  returned: always
  type: str
  sample: /etc/sysctl.d/90-lvs-cluster.conf
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.cluster.plugins.module_utils import ip_helpers as iph
from ansible_collections.lvs.cluster.plugins.module_utils import sysctl_helpers as sh

RESERVED_ARP_IGNORE = (4, 5, 6, 7)
LIMITS = {'arp_ignore': 8, 'arp_announce': 2, 'rp_filter': 2, 'proxy_arp': 1}
# The tunnel devices a TUN real server decapsulates on, and the module that creates each.
TUNNEL_MODULE = dict(iph.TUNNELS.values())


def desired_values(params):
    """Ordered [(key, value)] the run must enforce; validates ranges first."""
    for name, high in LIMITS.items():
        value = params[name]
        if value is not None and not 0 <= value <= high:
            raise ValueError('%s: must be between 0 and %d, got %d' % (name, high, value))
    if params['arp_ignore'] in RESERVED_ARP_IGNORE:
        # net/ipv4/arp.c: "case 4..7: Reserved", the same as 0
        raise ValueError('arp_ignore: %d is reserved: the kernel treats 4 to 7 as 0 and answers ARP for '
                         'every local address, the VIP included; use 1, 2, 3 or 8' % params['arp_ignore'])
    for name in params['interfaces']:
        if not iph.valid_ifname(name) or name in ('all', 'default'):
            raise ValueError('interfaces: %r is not a valid interface name' % name)
    ifaces = ['all'] + [i for i in params['interfaces'] if i != 'all']
    tun = params['mode'] == 'tun'
    present = params['state'] == 'present'
    values = []
    for name in ('arp_ignore', 'arp_announce'):
        value = params[name] if present else 0
        values += [(sh.conf_key(i, name), str(value)) for i in ifaces]
    if present:
        rp_filter = params['rp_filter']
        if rp_filter is None and tun:
            rp_filter = 0
        if rp_filter is not None:
            # tun: only where the decapsulated packets arrive; the kernel takes max(all, device)
            tunnels = [i for i in ifaces if i in TUNNEL_MODULE]
            targets = ['all'] + (tunnels or ['tunl0']) if tun else ifaces
            values += [(sh.conf_key(i, 'rp_filter'), str(rp_filter)) for i in targets]
        if params['proxy_arp'] is not None:
            values += [(sh.conf_key(i, 'proxy_arp'), str(params['proxy_arp'])) for i in ifaces]
    return values


def main():
    module = AnsibleModule(
        argument_spec=dict(
            mode=dict(type='str', required=True, choices=['dr', 'tun']),
            interfaces=dict(type='list', elements='str', default=[]),
            arp_ignore=dict(type='int', default=1),
            arp_announce=dict(type='int', default=2),
            rp_filter=dict(type='int'),
            proxy_arp=dict(type='int'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            persist=dict(type='bool', default=True),
            persist_file=dict(type='path', default='/etc/sysctl.d/90-lvs-cluster.conf'),
        ),
        supports_check_mode=True)
    params = module.params
    try:
        values = desired_values(params)
    except ValueError as exc:
        module.fail_json(msg=str(exc), field=str(exc).split(':', maxsplit=1)[0])
    tun = params['mode'] == 'tun'
    present = params['state'] == 'present'
    for name in params['interfaces']:
        if sh.interface_exists(name) or (tun and name in TUNNEL_MODULE):
            continue
        module.fail_json(msg='interfaces: %s does not exist in %s' % (name, sh.SYS_CLASS_NET),
                         field='interfaces')
    try:
        old_file = sh.read_owned(params['persist_file'], 'persist_file')
    except sh.SysctlError as exc:
        module.fail_json(msg=str(exc), field=exc.field)

    commands = []
    for device, kmod in sorted(TUNNEL_MODULE.items()):
        needed = present and tun and any('.%s.' % device in key for key, _v in values)
        if not needed or sh.interface_exists(device):
            continue
        modprobe = module.get_bin_path('modprobe', required=True)
        commands.append([modprobe, kmod])
        if not module.check_mode:
            rc, _out, err = module.run_command([modprobe, kmod])
            if rc != 0 or not sh.interface_exists(device):
                module.fail_json(msg='cannot create %s with "modprobe %s": %s' % (device, kmod, err.strip()))

    header = ['Managed by lvs.cluster.arp_sysctl (mode %s); local changes will be overwritten.' % params['mode']]
    try:
        # absent: arp_* without a record go to the kernel default (desired_values gives 0)
        applied, before, changed_keys, new_file = sh.plan_owned(
            values if present else [], old_file, present, params['persist'], header, defaults=values)
    except sh.SysctlError as exc:
        module.fail_json(msg=str(exc), field=exc.field)
    if present:
        # in check mode a tunnel device may not exist yet: its module would create it
        missing = [key for key in changed_keys if before[key] is None
                   and not any('.%s.' % device in key for device in TUNNEL_MODULE)]
        if missing:
            module.fail_json(msg='kernel setting %s does not exist' % missing[0])
    file_changed = new_file != old_file
    sh.apply_owned(module, params['persist_file'], applied, changed_keys, old_file, new_file)

    result = dict(changed=bool(changed_keys or file_changed or commands),
                  sysctls=dict(applied), changed_keys=changed_keys,
                  persist_file=params['persist_file'])
    if module._diff:
        result['diff'] = sh.owned_diff(params['persist_file'], applied, before, old_file, new_file)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
