#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: ipvs_service
short_description: Manage an IPVS virtual service and, optionally, its real servers
version_added: 0.1.0
description:
  - Creates, edits or deletes one Linux Virtual Server (IPVS) virtual service with C(ipvsadm).
  - Optionally manages the real servers of the service in the same run (O(real_servers)).
  - The table is read once with C(ipvsadm -S -n) (plus C(ipvsadm -L -n --thresholds) when real
    servers exist, because the save format has no thresholds). All changes are fed to one
    C(ipvsadm -R) as ipvsadm rules; an existing service or real server is always edited in place
    (C(-E)/C(-e)), never deleted and re-added, so established connections survive.
  - The table is never flushed. The C(ipvsadm-restore) script is not used because it runs
    C(ipvsadm -C) first.
  - After applying, the table is read again and the module fails if it differs from the prediction.
  - Options left unset keep the value the service already has, or the ipvsadm default when the
    service is created.
author: lvs.cluster contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - lvs.cluster.service_key
  - lvs.cluster.service_key.address
attributes:
  check_mode:
    support: full
    details: Reports the exact ipvsadm rules a real run would apply.
  diff_mode:
    support: full
    details: Before and after are the service's rules in C(ipvsadm -S) style.
  platform:
    platforms: posix
options:
  state:
    description:
      - V(present) creates or edits the service, V(absent) deletes it with all its real servers.
    type: str
    choices: [present, absent]
    default: present
  scheduler:
    description:
      - Scheduling algorithm. ipvsadm's default is V(wlc).
    type: str
    choices: [rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh]
  scheduler_flags:
    description:
      - Scheduler flags (C(ipvsadm -b)). V(sh-fallback) and V(sh-port) only fit the V(sh)
        scheduler, V(mh-fallback) and V(mh-port) only fit V(mh); V(flag-1) to V(flag-3) are
        generic (V(flag-1) is the same kernel bit as V(sh-fallback)/V(mh-fallback), V(flag-2)
        as V(sh-port)/V(mh-port)). An empty list clears all flags.
    type: list
    elements: str
    choices: [flag-1, flag-2, flag-3, sh-fallback, sh-port, mh-fallback, mh-port]
  persistent:
    description:
      - Make the service persistent (C(ipvsadm -p)). Setting O(persistence_timeout) or
        O(persistence_netmask) implies V(true).
    type: bool
  persistence_timeout:
    description:
      - Persistence timeout in seconds, 1 to 2678400. When persistence is enabled without a
        timeout, the current timeout is kept, or V(300) is used for a new persistence.
    type: int
  persistence_netmask:
    description:
      - Persistence granularity. For IPv4 a dotted netmask (V(255.255.255.0)) or prefix length
        (V(24)); for IPv6 a prefix length from 1 to 128. Default is a single client address.
    type: str
  persistence_engine:
    description:
      - Persistence engine (C(--pe)), for example V(sip). An empty string removes it.
    type: str
  one_packet:
    description:
      - One-packet scheduling (C(ipvsadm -o)); only for UDP or fwmark services.
    type: bool
  real_servers:
    description:
      - Real servers of the service. When omitted, existing real servers are left alone.
      - Listed servers are added or edited; others are removed only with O(purge_real_servers).
    type: list
    elements: dict
    suboptions:
      address:
        description: Real server IP address. It must have the service's family unless O(real_servers[].forwarding=tun).
        type: str
        required: true
      port:
        description:
          - Real server port. Defaults to the service port (V(0) for fwmark services).
          - With V(dr) or V(tun) forwarding it must equal the service port.
        type: int
      forwarding:
        description:
          - Packet forwarding method. V(nat) (aliases V(masq), V(masquerading)),
            V(dr) (aliases V(gate), V(gatewaying), V(route), V(droute), V(direct)),
            V(tun) (aliases V(ipip), V(tunnel)). ipvsadm's default is V(dr).
        type: str
        choices: [direct, dr, droute, gate, gatewaying, ipip, masq, masquerading, nat, route, tun, tunnel]
      weight:
        description: Weight 0 to 65535 (0 stops new connections). Default V(1).
        type: int
      u_threshold:
        description: Upper connection threshold, V(0) means unlimited. Default V(0).
        type: int
      l_threshold:
        description:
          - Lower connection threshold, at most the upper threshold.
          - The kernel refuses a non-zero one when the upper threshold is V(0) (unlimited).
          - Default V(0).
        type: int
      tun_type:
        description: Tunnel type for V(tun) forwarding. Default V(ipip).
        type: str
        choices: [ipip, gue, gre]
      tun_port:
        description: Destination UDP port of the GUE tunnel; required for V(gue), refused otherwise.
        type: int
      tun_nocsum:
        description: GUE/GRE without checksums (the default for those types).
        type: bool
      tun_csum:
        description: GUE/GRE with checksums.
        type: bool
      tun_remcsum:
        description: GUE with remote checksum offload.
        type: bool
  purge_real_servers:
    description:
      - Remove real servers of the service that are not listed in O(real_servers).
      - Ignored when O(real_servers) is omitted.
    type: bool
    default: false
notes:
  - Requires C(ipvsadm) on the managed host and an IPVS capable kernel; C(ip_vs) is loaded with
    C(modprobe) when C(/proc/net/ip_vs) is missing.
  - Changing the protocol, address, port, fwmark or family names a different service; remove the
    old one with O(state=absent).
seealso:
  - module: lvs.cluster.ipvs_dest
  - module: lvs.cluster.ipvs_info
'''

EXAMPLES = r'''
- name: Weighted round robin web service with two NAT real servers
  lvs.cluster.ipvs_service:
    protocol: tcp
    address: 10.0.0.1
    port: 80
    scheduler: wrr
    real_servers:
      - address: 192.168.1.10
        port: 8080
        forwarding: nat
        weight: 3
      - address: 192.168.1.11
        port: 8080
        forwarding: nat
    purge_real_servers: true

- name: Persistent HTTPS with a /24 client granularity and direct routing
  lvs.cluster.ipvs_service:
    address: 10.0.0.1
    port: 443
    scheduler: sh
    scheduler_flags: [sh-fallback, sh-port]
    persistence_timeout: 600
    persistence_netmask: 255.255.255.0
    real_servers:
      - address: 10.0.0.21
        forwarding: dr

- name: IPv6 fwmark service
  lvs.cluster.ipvs_service:
    fwmark: 10
    family: ipv6
    scheduler: rr

- name: Remove a service and all its real servers
  lvs.cluster.ipvs_service:
    protocol: udp
    address: "2001:db8::1"
    port: 53
    state: absent
'''

RETURN = r'''
service:
  description: The service after the run (as predicted in check mode); null when absent.
  returned: always
  type: dict
  sample:
    key: "-t 10.0.0.1:80"
    protocol: tcp
    address: 10.0.0.1
    port: 80
    fwmark: null
    family: ipv4
    scheduler: wrr
    scheduler_flags: []
    persistent: false
    persistence_timeout: null
    persistence_netmask: null
    persistence_engine: null
    one_packet: false
real_servers:
  description: The service's real servers after the run (as predicted in check mode).
  returned: always
  type: list
  elements: dict
  sample:
    - key: "192.168.1.10:8080"
      address: 192.168.1.10
      port: 8080
      forwarding: nat
      weight: 3
      u_threshold: 0
      l_threshold: 0
      tun_type: null
      tun_port: null
      tun_flags: null
commands:
  description: The ipvsadm rules fed to C(ipvsadm -R), or that would be in check mode.
  returned: always
  type: list
  elements: str
  sample:
    - "-A -t 10.0.0.1:80 -s wrr"
    - "-a -t 10.0.0.1:80 -r 192.168.1.10:8080 -m -w 3"
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_args as a
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_model as m
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_validate as v
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_cli import IPVSRunner


def argument_spec():
    spec = a.service_key_spec()
    spec.update(
        state=dict(type='str', default='present', choices=['present', 'absent']),
        scheduler=dict(type='str', choices=list(m.SCHEDULERS)),
        scheduler_flags=dict(type='list', elements='str', choices=sorted(m.SCHED_FLAG_BITS)),
        persistent=dict(type='bool'),
        persistence_timeout=dict(type='int'),
        persistence_netmask=dict(type='str'),
        persistence_engine=dict(type='str'),
        one_packet=dict(type='bool'),
        real_servers=dict(type='list', elements='dict', options=a.dest_option_spec(),
                          mutually_exclusive=a.TUN_FLAG_EXCLUSIVE),
        purge_real_servers=dict(type='bool', default=False),
    )
    return spec


def stated_request(params):
    """Validate everything the user stated; nothing is read yet."""
    service = v.build_service(params)
    dests = []
    for index, item in enumerate(params['real_servers'] or []):
        prefix = 'real_servers[%d].' % index
        dest = v.build_dest(item, prefix)
        v.validate_dest_request(service, dest, prefix)
        dests.append(dest)
    return service, dests


def dest_key_port(service, dest):
    if dest.port is not None:
        return dest.port
    return 0 if service.fwmark else service.port


def plan(params, stated, stated_dests, current):
    """Resolve against the host and diff. Returns (ops, desired service or None)."""
    key = stated.key
    desired = m.Table()
    if params['state'] == 'absent':
        return m.diff(current, desired, m.Scope(absent_services=[key])), None
    service = stated.resolve(current.service(key))
    v.validate_service(service, flag_names=params['scheduler_flags'])
    desired.add_service(service)
    unmanaged = []
    if params['real_servers'] is None:
        unmanaged.append(key)
    resolved = []
    for index, dest in enumerate(stated_dests):
        dkey = m.format_hostport(dest.address, dest_key_port(service, dest))
        final = dest.resolve(service, current.dest(key, dkey))
        v.validate_dest(service, final, 'real_servers[%d].' % index, stated=dest)
        resolved.append(final)
    v.check_unique_dests(resolved)
    for dest in resolved:
        desired.add_dest(key, dest)
    scope = m.Scope(purge_dests=params['purge_real_servers'], unmanaged=unmanaged)
    return m.diff(current, desired, scope), service


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    try:
        stated, stated_dests = stated_request(params)
    except v.ValidationError as exc:
        module.fail_json(msg=str(exc), field=exc.field)

    runner = IPVSRunner(module)
    runner.ensure_kernel(load_schedulers=False)
    current = runner.read_table()
    try:
        ops, service = plan(params, stated, stated_dests, current)
    except v.ValidationError as exc:
        module.fail_json(msg=str(exc), field=exc.field)

    key = stated.key
    predicted = m.apply_ops(current, ops)
    if ops and not module.check_mode:
        runner.ensure_kernel(schedulers=[service.scheduler] if service else [])
        predicted = runner.apply_and_verify(current, ops, [key])

    after = predicted.service(key)
    result = dict(
        changed=bool(ops),
        commands=[op.line() for op in ops],
        service=after.to_dict() if after else None,
        real_servers=[d.to_dict() for d in m.sorted_dests(predicted, key)],
    )
    if module._diff:
        result['diff'] = dict(
            before=''.join(line + '\n' for line in m.render_table(current, [key])),
            after=''.join(line + '\n' for line in m.render_table(predicted, [key])),
        )
    module.exit_json(**result)


if __name__ == '__main__':
    main()
