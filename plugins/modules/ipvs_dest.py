#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: ipvs_dest
short_description: Manage one real server of an IPVS virtual service, including graceful draining
version_added: 0.1.0
description:
  - Adds, edits, drains or removes one real server (destination) of an existing IPVS virtual service.
  - An existing real server is edited in place (C(ipvsadm -e)), never removed and re-added.
  - O(state=drained) sets the weight to 0 so no new connections are scheduled, waits until the
    server's active connections (and optionally inactive ones) reach zero, then removes it.
  - Options left unset keep the real server's current value, or the ipvsadm default when it is added.
author: lvs.cluster contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - lvs.cluster.service_key
  - lvs.cluster.service_key.virtual
attributes:
  check_mode:
    support: full
    details: Reports the exact rules a real run would apply; O(state=drained) does not wait.
  diff_mode:
    support: full
    details: Before and after are the real server's rule in C(ipvsadm -S) style.
  platform:
    platforms: posix
options:
  address:
    description: Real server IP address. It must have the service's family unless O(forwarding=tun).
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
  state:
    description:
      - V(present) adds or edits the real server, V(absent) removes it at once,
        V(drained) drains it (weight 0, wait for connections to end) and then removes it.
    type: str
    choices: [present, absent, drained]
    default: present
  drain_timeout:
    description:
      - Seconds to wait for the connections to end with O(state=drained).
      - On timeout the module fails and leaves the server in place with weight 0, unless
        O(force_after_timeout=true).
    type: int
    default: 300
  drain_poll:
    description: Seconds between two connection counts (one C(ipvsadm -L) call each).
    type: int
    default: 5
  drain_inactive:
    description: Also wait for the inactive connections (InActConn) to reach zero.
    type: bool
    default: false
  force_after_timeout:
    description: Remove the real server anyway when O(drain_timeout) expires.
    type: bool
    default: false
notes:
  - The virtual service must already exist (see M(lvs.cluster.ipvs_service)).
seealso:
  - module: lvs.cluster.ipvs_service
'''

EXAMPLES = r'''
- name: Add a NAT real server with port mapping
  lvs.cluster.ipvs_dest:
    protocol: tcp
    virtual_address: 10.0.0.1
    virtual_port: 80
    address: 192.168.1.10
    port: 8080
    forwarding: nat
    weight: 3

- name: GUE tunnelled real server of a fwmark service
  lvs.cluster.ipvs_dest:
    fwmark: 1
    address: 192.168.2.10
    forwarding: tun
    tun_type: gue
    tun_port: 6080
    tun_csum: true

- name: Drain a real server, waiting up to ten minutes
  lvs.cluster.ipvs_dest:
    virtual_address: 10.0.0.1
    virtual_port: 80
    address: 192.168.1.10
    port: 8080
    state: drained
    drain_timeout: 600
    drain_poll: 10
'''

RETURN = r'''
real_server:
  description: The real server after the run (as predicted in check mode); null when removed.
  returned: always
  type: dict
  sample:
    key: "192.168.1.10:8080"
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
  description: The ipvsadm rules applied, or that would be applied in check mode.
  returned: always
  type: list
  elements: str
  sample:
    - "-e -t 10.0.0.1:80 -r 192.168.1.10:8080 -m -w 0"
    - "-d -t 10.0.0.1:80 -r 192.168.1.10:8080"
drained:
  description: With O(state=drained), the connection counts seen last and the seconds waited.
  returned: when state is drained and the real server existed (not in check mode)
  type: dict
  sample:
    active_conns: 0
    inactive_conns: 3
    waited: 12.5
    timed_out: false
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_args as a
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_model as m
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_validate as v
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_cli import IPVSRunner


def argument_spec():
    spec = a.service_key_spec(virtual=True)
    spec.update(a.dest_option_spec())
    spec.update(
        state=dict(type='str', default='present', choices=['present', 'absent', 'drained']),
        drain_timeout=dict(type='int', default=300),
        drain_poll=dict(type='int', default=5),
        drain_inactive=dict(type='bool', default=False),
        force_after_timeout=dict(type='bool', default=False),
    )
    return spec


def stated_request(params):
    service = v.build_service(params, v.DEST_MODULE_SERVICE_FIELDS)
    dest = v.build_dest(params)
    v.validate_dest_request(service, dest)
    if params['drain_timeout'] < 0:
        raise v.ValidationError('drain_timeout', 'must be 0 or more seconds')
    if params['drain_poll'] < 1:
        raise v.ValidationError('drain_poll', 'must be at least 1 second')
    return service, dest


def plan(params, key_service, stated, current):
    """Returns (service, dest key, ops before draining, ops after draining)."""
    service = current.service(key_service.key)
    if service is None:
        raise v.ValidationError('virtual_address' if not key_service.fwmark else 'fwmark',
                                'virtual service %s does not exist; create it first with '
                                'lvs.cluster.ipvs_service' % key_service.key)
    port = stated.port if stated.port is not None else (0 if service.fwmark else service.port)
    dkey = m.format_hostport(stated.address, port)
    have = current.dest(service.key, dkey)
    state = params['state']
    if state == 'absent' or (state == 'drained' and have is None):
        scope = m.Scope(absent_dests=[(service.key, dkey)])
        return service, dkey, m.diff(current, m.Table(), scope), []
    if state == 'drained':
        first = []
        if have.weight != 0:
            first.append(m.Op(kind='edit_dest', service=service, dest=have.replace(weight=0)))
        return service, dkey, first, [m.Op(kind='delete_dest', service=service, dest=have)]
    final = stated.resolve(service, have)
    v.validate_dest(service, final, stated=stated)
    desired = m.Table()
    desired.add_service(service)
    desired.add_dest(service.key, final)
    return service, dkey, m.diff(current, desired), []


def wait_drained(module, runner, service, dkey):
    """Poll connection counts until zero or timeout; one ipvsadm call per poll."""
    params = module.params
    start = time.monotonic()
    while True:
        listing = runner.list_service(service)
        entry = listing['services'].get(service.key, {'dests': {}})
        row = entry['dests'].get(dkey)
        waited = round(time.monotonic() - start, 1)
        if row is None:
            return {'active_conns': 0, 'inactive_conns': 0, 'waited': waited,
                    'timed_out': False, 'vanished': True}
        status = {'active_conns': row['active_conns'], 'inactive_conns': row['inactive_conns'],
                  'waited': waited, 'timed_out': False}
        busy = row['active_conns'] or (params['drain_inactive'] and row['inactive_conns'])
        if not busy:
            return status
        if time.monotonic() - start >= params['drain_timeout']:
            status['timed_out'] = True
            return status
        time.sleep(params['drain_poll'])


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           mutually_exclusive=a.TUN_FLAG_EXCLUSIVE)
    params = module.params
    try:
        key_service, stated = stated_request(params)
    except v.ValidationError as exc:
        module.fail_json(msg=str(exc), field=exc.field)

    runner = IPVSRunner(module)
    runner.ensure_kernel(load_schedulers=False)
    current = runner.read_table()
    try:
        service, dkey, first, last = plan(params, key_service, stated, current)
    except v.ValidationError as exc:
        module.fail_json(msg=str(exc), field=exc.field)

    ops = first + last
    skey = service.key
    predicted = m.apply_ops(current, ops)
    result = dict(changed=bool(ops), commands=[op.line() for op in ops])
    if module._diff:
        before = current.dest(skey, dkey)
        after = predicted.dest(skey, dkey)
        result['diff'] = dict(
            before=' '.join(before.rule_args(service)) + '\n' if before else '',
            after=' '.join(after.rule_args(service)) + '\n' if after else '')

    if ops and not module.check_mode:
        table = runner.apply_and_verify(current, first, [skey]) if first else current
        if last:
            status = wait_drained(module, runner, service, dkey)
            result['drained'] = status
            if status.get('vanished'):
                last = []
                result['commands'] = [op.line() for op in first]
            elif status['timed_out'] and not params['force_after_timeout']:
                # Only the weight 0 edit was applied: report just that.
                result['commands'] = [op.line() for op in first]
                result['changed'] = bool(first)
                module.fail_json(
                    msg='real server %s of %s still has %d active and %d inactive connections '
                        'after %d seconds; it stays with weight 0 (set force_after_timeout to '
                        'remove it anyway)' % (dkey, skey, status['active_conns'],
                                               status['inactive_conns'], params['drain_timeout']),
                    **result)
            if last:
                table = runner.read_table()
                runner.apply_and_verify(table, last, [skey])
        predicted = m.apply_ops(table, last)

    dest = predicted.dest(skey, dkey)
    result['real_server'] = dest.to_dict() if dest else None
    module.exit_json(**result)


if __name__ == '__main__':
    main()
