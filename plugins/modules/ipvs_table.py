#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: ipvs_table
short_description: Manage the whole IPVS table (many virtual services and their real servers) in one call
version_added: 0.1.0
description:
  - Makes the Linux Virtual Server (IPVS) table hold the listed virtual services and real servers,
    in one run. The table is read once (C(ipvsadm -S -n), plus C(ipvsadm -L -n --thresholds) when
    real servers exist), every item is validated before anything changes, and all changes are fed
    to one C(ipvsadm -R) batch.
  - Existing services and real servers are edited in place (C(-E)/C(-e)), never deleted and
    re-added, so established connections survive. The table is never flushed.
  - After applying, the table is read again and the module fails if the managed part differs from
    the prediction.
  - What is not listed is kept, unless O(purge) says otherwise.
  - This is the module the C(lvs.cluster.director) role uses; a thousand services converge in one
    C(ipvsadm -R) instead of a thousand module runs.
author: lvs.cluster contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports the exact ipvsadm rules a real run would apply.
  diff_mode:
    support: full
    details: Before and after are the managed services' rules in C(ipvsadm -S) style (the whole
      table with O(purge=all)).
  platform:
    platforms: posix
options:
  services:
    description:
      - The desired virtual services. Each item takes the options of M(lvs.cluster.ipvs_service)
        (identity, scheduler, persistence, real servers) plus O(services[].name),
        O(services[].forwarding) and O(services[].state).
      - Options left unset keep the value the service already has, or the ipvsadm default when the
        service is created.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: A label for the service, used in messages only (the kernel has no names).
        type: str
      state:
        description: V(absent) deletes the service with all its real servers.
        type: str
        choices: [present, absent]
        default: present
      protocol:
        description:
          - Transport protocol of an address-based service. Defaults to V(tcp).
          - Mutually exclusive with O(services[].fwmark).
        type: str
        choices: [tcp, udp, sctp]
      address:
        description:
          - Virtual IP address (IPv4 or IPv6). Required unless O(services[].fwmark) is set.
            Hostnames are refused.
        type: str
      port:
        description:
          - Virtual port, 0 to 65535 (0 only for persistent services). Required unless
            O(services[].fwmark) is set.
        type: int
      fwmark:
        description: Firewall mark (1 to 4294967295) of a fwmark-based service.
        type: int
      family:
        description: Address family; needed to tell an IPv6 fwmark service (default V(ipv4)).
        type: str
        choices: [ipv4, ipv6]
      scheduler:
        description: Scheduling algorithm. ipvsadm's default is V(wlc).
        type: str
        choices: [rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh]
      scheduler_flags:
        description: Scheduler flags (C(ipvsadm -b)), as in M(lvs.cluster.ipvs_service). An empty list clears them.
        type: list
        elements: str
        choices: [flag-1, flag-2, flag-3, sh-fallback, sh-port, mh-fallback, mh-port]
      persistent:
        description: Make the service persistent; implied by the two options below.
        type: bool
      persistence_timeout:
        description: Persistence timeout in seconds, 1 to 2678400 (V(300) for a new persistence).
        type: int
      persistence_netmask:
        description: Persistence granularity, a dotted IPv4 netmask or a prefix length.
        type: str
      persistence_engine:
        description: Persistence engine (C(--pe)), for example V(sip); an empty string removes it.
        type: str
      one_packet:
        description: One-packet scheduling (C(ipvsadm -o)); only for UDP or fwmark services.
        type: bool
      forwarding:
        description:
          - Forwarding method of the real servers of this service that do not state their own.
            When neither states it, an existing real server keeps its method and a new one gets
            ipvsadm's default V(dr).
        type: str
        choices: [direct, dr, droute, gate, gatewaying, ipip, masq, masquerading, nat, route, tun, tunnel]
      real_servers:
        description:
          - Real servers of the service. When omitted, the service's real servers are left alone
            (also with O(purge=real_servers)).
        type: list
        elements: dict
        suboptions:
          address:
            description: Real server IP address.
            type: str
            required: true
          port:
            description:
              - Real server port; defaults to the service port (V(0) for fwmark services).
              - With V(dr) or V(tun) forwarding it must equal the service port.
            type: int
          forwarding:
            description: Forwarding method; defaults to O(services[].forwarding).
            type: str
            choices: [direct, dr, droute, gate, gatewaying, ipip, masq, masquerading, nat, route, tun, tunnel]
          weight:
            description: Weight 0 to 65535 (0 stops new connections). Default V(1).
            type: int
          u_threshold:
            description: Upper connection threshold, V(0) means unlimited.
            type: int
          l_threshold:
            description: Lower connection threshold.
            type: int
          tun_type:
            description: Tunnel type for V(tun) forwarding. Default V(ipip).
            type: str
            choices: [ipip, gue, gre]
          tun_port:
            description: Destination UDP port of a GUE tunnel.
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
  purge:
    description:
      - V(none) only adds and changes what is listed.
      - V(real_servers) also removes real servers of listed services that are not listed.
      - V(all) also removes services that are not listed (the table becomes exactly O(services)).
    type: str
    choices: [none, real_servers, all]
    default: none
  owned:
    description:
      - Keys of the services an earlier run of the caller created, as in the C(key) of its RV(services) (for
        example V(-t 198.51.100.100:80) or V(-f 7 -6)). Those O(services) no longer lists are deleted;
        services of other tools, which were never owned, stay. The C(lvs.cluster.director) role keeps
        this list on the director between runs.
      - Works with any O(purge); with V(real_servers) it removes exactly what the caller stopped listing.
    type: list
    elements: str
    default: []
  drain_timeout:
    description:
      - Seconds to drain the real servers this run deletes (purged, or no longer listed). With a
        value above 0 the module first applies every other change and sets those real servers'
        weight to 0, so no new connection goes to them, waits until none of them has an active
        connection (one C(ipvsadm -L) per service each O(drain_poll)), then deletes them - also
        when the time runs out. Requests in flight on them complete instead of being cut.
      - V(0) deletes them at once (C(net.ipv4.vs.expire_nodest_conn=1) then drops their connections).
      - Deleted services are not drained (no real server is left to take their clients).
    type: int
    default: 0
  drain_poll:
    description: Seconds between two looks at the drained real servers' connections.
    type: float
    default: 1
notes:
  - Requires C(ipvsadm) on the managed host and an IPVS capable kernel; C(ip_vs) is loaded with
    C(modprobe) when C(/proc/net/ip_vs) is missing.
  - Errors name the item, for example C(services[2].real_servers[0].port).
seealso:
  - module: lvs.cluster.ipvs_service
  - module: lvs.cluster.ipvs_dest
  - module: lvs.cluster.ipvs_info
'''

EXAMPLES = r'''
- name: Remove a real server gracefully (weight 0, its requests finish, then it is deleted)
  lvs.cluster.ipvs_table:
    purge: real_servers
    drain_timeout: 120
    services:
      - address: 198.51.100.100
        port: 80
        forwarding: dr
        real_servers:
          - address: 198.51.100.11      # 198.51.100.13 is no longer listed: drained, then deleted

- name: The whole table of a director, nothing else kept
  lvs.cluster.ipvs_table:
    purge: all
    services:
      - name: web
        address: 198.51.100.100
        port: 80
        scheduler: wrr
        forwarding: nat
        real_servers:
          - address: 203.0.113.11
            weight: 3
          - address: 203.0.113.12
            port: 8080
      - name: dns
        protocol: udp
        address: 198.51.100.100
        port: 53
        scheduler: rr
        one_packet: true
        forwarding: dr
        real_servers:
          - address: 198.51.100.21
          - address: 198.51.100.22

- name: Add a real server to one service, keep everything else
  lvs.cluster.ipvs_table:
    services:
      - address: 198.51.100.100
        port: 80
        real_servers:
          - address: 203.0.113.13
            forwarding: nat

- name: Remove one service
  lvs.cluster.ipvs_table:
    services:
      - protocol: udp
        address: 198.51.100.100
        port: 53
        state: absent
'''

RETURN = r'''
commands:
  description: The ipvsadm rules fed to C(ipvsadm -R), or that would be in check mode.
  returned: always
  type: list
  elements: str
  sample:
    - "-A -t 198.51.100.100:80 -s wrr"
    - "-a -t 198.51.100.100:80 -r 203.0.113.11:80 -m -w 3"
services:
  description:
    - The listed services (not those with O(services[].state=absent)) after the run, as predicted in
      check mode, each with its real servers. Fields as returned by M(lvs.cluster.ipvs_service).
  returned: always
  type: list
  elements: dict
  sample:
    - key: "-t 198.51.100.100:80"
      protocol: tcp
      address: 198.51.100.100
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
        - key: "203.0.113.11:80"
          address: 203.0.113.11
          port: 80
          forwarding: nat
          weight: 3
          u_threshold: 0
          l_threshold: 0
          tun_type: null
          tun_port: null
          tun_flags: null
drained:
  description:
    - With O(drain_timeout) above 0, the real servers drained before their deletion, with their
      active connections seen last, the seconds waited and whether the time ran out.
  returned: when real servers were drained (not in check mode)
  type: list
  elements: dict
  sample:
    - service: "-t 198.51.100.100:80"
      real_server: "203.0.113.13:80"
      active_conns: 0
      waited: 2.1
      timed_out: false
removed_services:
  description: Keys of the services that were (or would be) deleted.
  returned: always
  type: list
  elements: str
  sample: ["-u 198.51.100.100:53"]
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_args as a
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_model as m
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_validate as v

from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_cli import IPVSRunner


def argument_spec():
    service = a.service_key_spec()
    service.update(
        name=dict(type='str'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        scheduler=dict(type='str', choices=list(m.SCHEDULERS)),
        scheduler_flags=dict(type='list', elements='str', choices=sorted(m.SCHED_FLAG_BITS)),
        persistent=dict(type='bool'),
        persistence_timeout=dict(type='int'),
        persistence_netmask=dict(type='str'),
        persistence_engine=dict(type='str'),
        one_packet=dict(type='bool'),
        forwarding=dict(type='str', choices=a.FORWARDING_CHOICES),
        real_servers=dict(type='list', elements='dict', options=a.dest_option_spec(),
                          mutually_exclusive=a.TUN_FLAG_EXCLUSIVE),
    )
    return dict(
        services=dict(type='list', elements='dict', required=True, options=service),
        purge=dict(type='str', default='none', choices=['none', 'real_servers', 'all']),
        owned=dict(type='list', elements='str', default=[]),
        drain_timeout=dict(type='int', default=0),
        drain_poll=dict(type='float', default=1),
    )


def _prefixed(prefix, exc):
    return v.ValidationError(prefix + exc.field, exc.message)


class Item(object):
    """One listed service: the stated Service, its stated Dests, its params."""

    def __init__(self, index, params, service, dests):
        self.index = index
        self.params = params
        self.service = service
        self.dests = dests

    @property
    def prefix(self):
        return 'services[%d].' % self.index

    @property
    def label(self):
        name = self.params.get('name')
        return '%s (%s)' % (name, self.service.key) if name else self.service.key


def stated_request(params):
    """Validate every item before anything is read; returns [Item]."""
    items = []
    seen = {}
    for index, svc_params in enumerate(params['services']):
        prefix = 'services[%d].' % index
        try:
            service = v.build_service(svc_params)
        except v.ValidationError as exc:
            raise _prefixed(prefix, exc)
        if service.key in seen:
            raise v.ValidationError('services[%d]' % index, 'duplicates services[%d] (%s)'
                                    % (seen[service.key], service.key))
        seen[service.key] = index
        try:
            default_fwd = m.normalise_forwarding(svc_params.get('forwarding'))
        except ValueError as exc:
            raise v.ValidationError(prefix + 'forwarding', str(exc))
        dests = []
        for dindex, dest_params in enumerate(svc_params.get('real_servers') or []):
            dprefix = '%sreal_servers[%d].' % (prefix, dindex)
            dest = v.build_dest(dest_params, dprefix)
            if dest.forwarding is None and default_fwd is not None:
                dest = dest.replace(forwarding=default_fwd)
            v.validate_dest_request(service, dest, dprefix)
            dests.append(dest)
        items.append(Item(index, svc_params, service, dests))
    return items


def _dest_key_port(service, dest):
    if dest.port is not None:
        return dest.port
    return 0 if service.fwmark else service.port


def owned_keys(values):
    """Normalised keys of the owned services (the same key ipvsadm -S -n prints)."""
    keys = []
    for index, value in enumerate(values):
        try:
            keys.append(m.parse_rule('-A ' + value)[1].key)
        except (m.ModelError, ValueError, KeyError, TypeError) as exc:
            raise v.ValidationError('owned[%d]' % index, '%r is not a service key like -t 198.51.100.100:80 '
                                    'or -f 7 (%s)' % (value, exc))
    return keys


def plan(items, purge, current, owned=()):
    """Resolve every item against the host and diff. Returns (ops, desired, absent keys)."""
    desired = m.Table()
    absent = []
    unmanaged = []
    for item in items:
        key = item.service.key
        if item.params.get('state') == 'absent':
            absent.append(key)
            continue
        try:
            service = item.service.resolve(current.service(key))
            v.validate_service(service, flag_names=item.params.get('scheduler_flags'))
        except v.ValidationError as exc:
            raise _prefixed(item.prefix, exc)
        desired.add_service(service)
        if item.params.get('real_servers') is None:
            unmanaged.append(key)
        resolved = []
        for dindex, dest in enumerate(item.dests):
            dkey = m.format_hostport(dest.address, _dest_key_port(service, dest))
            final = dest.resolve(service, current.dest(key, dkey))
            v.validate_dest(service, final, '%sreal_servers[%d].' % (item.prefix, dindex),
                            stated=dest)
            resolved.append(final)
        v.check_unique_dests(resolved, field=item.prefix + 'real_servers')
        for dest in resolved:
            desired.add_dest(key, dest)
    if purge == 'all':
        absent.extend(k for k in current.keys() if k not in desired and k not in absent)
    absent.extend(k for k in owned if k in current and k not in desired and k not in absent)
    scope = m.Scope(purge_dests=purge in ('real_servers', 'all'), unmanaged=unmanaged,
                    absent_services=absent)
    return m.diff(current, desired, scope), desired, absent


def wait_drained(runner, deletes, timeout, poll):
    """Poll the active connections of the real servers to delete until none or timeout."""
    start = time.monotonic()
    services = dict((op.service.key, op.service) for op in deletes)
    while True:
        listings = dict((key, runner.list_service(svc)['services'].get(key, {'dests': {}}))
                        for key, svc in services.items())
        waited = round(time.monotonic() - start, 1)
        status = []
        for op in deletes:
            row = listings[op.service.key]['dests'].get(op.dest.key)
            status.append(dict(service=op.service.key, real_server=op.dest.key, waited=waited,
                               active_conns=row['active_conns'] if row else 0, timed_out=False))
        busy = any(item['active_conns'] for item in status)
        if not busy or waited >= timeout:
            for item in status:
                item['timed_out'] = busy
            return status
        time.sleep(poll)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    purge = module.params['purge']
    drain_timeout = module.params['drain_timeout']
    if drain_timeout < 0 or module.params['drain_poll'] <= 0:
        module.fail_json(msg='drain_timeout: must be 0 or more seconds, and drain_poll above 0',
                         field='drain_timeout' if drain_timeout < 0 else 'drain_poll')
    try:
        items = stated_request(module.params)
        owned = owned_keys(module.params['owned'])
    except v.ValidationError as exc:
        module.fail_json(msg=str(exc), field=exc.field)

    runner = IPVSRunner(module)
    runner.ensure_kernel(load_schedulers=False)
    current = runner.read_table()
    try:
        ops, desired, absent = plan(items, purge, current, owned)
    except v.ValidationError as exc:
        module.fail_json(msg=str(exc), field=exc.field)

    keys = desired.keys() + [k for k in absent if k not in desired]
    shown = None if purge == 'all' else keys
    before, deletes = m.drain_split(ops) if drain_timeout > 0 else (ops, [])
    if deletes:
        ops = before + deletes  # the weight 0 edits are commands of their own
    predicted = m.apply_ops(current, ops)
    drained = None
    if ops and not module.check_mode:
        schedulers = [desired.service(k).scheduler for k in desired.keys()]
        runner.ensure_kernel(schedulers=schedulers)
        verify_keys = keys if purge != 'all' else sorted(set(current.keys()) | set(keys))
        predicted = runner.apply_and_verify(current, before, verify_keys) if before else current
        if deletes:
            drained = wait_drained(runner, deletes, drain_timeout, module.params['drain_poll'])
            predicted = runner.apply_and_verify(predicted, deletes, verify_keys)

    services = []
    for key in desired.keys():
        item = predicted.service(key).to_dict()
        item['real_servers'] = [d.to_dict() for d in m.sorted_dests(predicted, key)]
        services.append(item)
    result = dict(
        changed=bool(ops),
        commands=[op.line() for op in ops],
        services=services,
        removed_services=[op.service.key for op in ops if op.kind == 'delete_service'],
    )
    if drained is not None:
        result['drained'] = drained
    if module._diff:
        result['diff'] = dict(
            before=''.join(line + '\n' for line in m.render_table(current, shown)),
            after=''.join(line + '\n' for line in m.render_table(predicted, shown)),
        )
    module.exit_json(**result)


if __name__ == '__main__':
    main()
