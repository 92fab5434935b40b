#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: ipvs_info
short_description: Read the IPVS table, counters, timeouts, sync daemons and connections
version_added: 0.1.0
description:
  - Reads Linux Virtual Server state with C(ipvsadm) without changing anything. It never loads
    the C(ip_vs) kernel module; without it, RV(ipvs_loaded) is V(false) and nothing else is read.
  - Each part named in O(gather) costs one C(ipvsadm) call, except V(table) which costs two
    (C(-S -n) for the configuration, C(-L -n --thresholds) for thresholds and connection counts).
author: lvs.cluster contributors (!UNKNOWN)
options:
  gather:
    description:
      - Which parts to read.
      - V(table) is the services with their real servers, V(stats) and V(rates) the counters
        (C(--stats --exact), C(--rate --exact)), V(timeouts) the protocol timeouts
        (C(--timeout)), V(daemon) the connection sync daemons (C(--daemon)) and
        V(connections) the connection entries (C(-c)), which can be large.
    type: list
    elements: str
    choices: [table, stats, rates, timeouts, daemon, connections]
    default: [table, stats, rates, timeouts, daemon]
notes:
  - Counters of V(stats) and V(rates) are merged into RV(services) when V(table) is gathered too.
seealso:
  - module: lvs.cluster.ipvs_service
attributes:
  diff_mode:
    support: none
    details: This module does not change anything.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - lvs.cluster.attributes
'''

EXAMPLES = r'''
- name: Read everything but the connection entries
  lvs.cluster.ipvs_info:
  register: ipvs

- name: Only the services and their counters
  lvs.cluster.ipvs_info:
    gather: [table, stats]
  register: ipvs

- name: Show real servers with active connections
  ansible.builtin.debug:
    msg: "{{ item.0.key }} -> {{ item.1.key }}: {{ item.1.active_conns }}"
  loop: "{{ ipvs.services | subelements('real_servers') }}"
'''

RETURN = r'''
ipvs_loaded:
  description: Whether the kernel has IPVS (C(/proc/net/ip_vs) exists). When V(false) nothing else is returned.
  returned: always
  type: bool
  sample: true
  version_added: 0.2.0
version:
  description: IPVS version reported by the kernel.
  returned: when table, stats or rates is gathered
  type: str
  sample: 1.2.1
services:
  description:
    - Virtual services with their real servers. Real servers carry C(active_conns), C(inactive_conns)
      and thresholds; C(stats) and C(rates) sub-dicts are added when gathered.
  returned: when table, stats or rates is gathered
  type: list
  elements: dict
  sample:
    - key: "-t 10.0.0.1:80"
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
      stats: {conns: 12, inpkts: 345, outpkts: 300, inbytes: 23456, outbytes: 123456}
      rates: {cps: 0, inpps: 1, outpps: 1, inbps: 60, outbps: 300}
      real_servers:
        - key: "192.168.1.10:80"
          address: 192.168.1.10
          port: 80
          forwarding: nat
          weight: 3
          u_threshold: 0
          l_threshold: 0
          active_conns: 2
          inactive_conns: 5
          tun_type: null
          tun_port: null
          tun_flags: null
          stats: {conns: 6, inpkts: 100, outpkts: 90, inbytes: 7000, outbytes: 60000}
timeouts:
  description: Protocol timeouts in seconds.
  returned: when timeouts is gathered
  type: dict
  sample: {tcp: 900, tcpfin: 120, udp: 300}
daemons:
  description: Running connection synchronisation daemons.
  returned: when daemon is gathered
  type: list
  elements: dict
  sample:
    - state: master
      mcast_interface: eth0
      syncid: 1
      sync_maxlen: 1472
connections:
  description: Connection entries (C(ipvsadm -L -n -c)); expires is in seconds.
  returned: when connections is gathered
  type: list
  elements: dict
  sample:
    - protocol: tcp
      expires: 898
      state: ESTABLISHED
      source: "192.168.5.20:51234"
      virtual: "10.0.0.1:80"
      destination: "192.168.1.10:80"
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_parse as ps
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_syntax as sx
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_cli import IPVSRunner

DEFAULT_GATHER = ['table', 'stats', 'rates', 'timeouts', 'daemon']


def gather_services(runner, gather):
    """Merge the table (config + thresholds) and the counter listings."""
    services = []
    version = None
    table = None
    by_key = {}
    if 'table' in gather:
        _rc, out, _err = runner.run(['-S', '-n'])
        table = ps.parse_save(out)
        _rc, out, _err = runner.run(['-L', '-n', '--thresholds'])
        listing = ps.parse_listing(out)
        version = listing['version']
        ps.merge_thresholds(table, listing)
        for key in table.keys():
            item = table.service(key).to_dict()
            rows = listing['services'].get(key, {'dests': {}})['dests']
            item['real_servers'] = []
            for dkey, dest in table.dests(key).items():
                entry = dest.to_dict()
                row = rows.get(dkey, {})
                entry['active_conns'] = row.get('active_conns', 0)
                entry['inactive_conns'] = row.get('inactive_conns', 0)
                item['real_servers'].append(entry)
            services.append(item)
            by_key[key] = item
    for part, flag in (('stats', '--stats'), ('rates', '--rate')):
        if part not in gather:
            continue
        _rc, out, _err = runner.run(['-L', '-n', flag, '--exact'])
        listing = ps.parse_listing(out)
        version = version or listing['version']
        for key, entry in listing['services'].items():
            item = by_key.get(key)
            if item is None:
                item = {'key': key, 'real_servers': []}
                by_key[key] = item
                services.append(item)
            item[part] = entry['info']
            dests = dict((d['key'], d) for d in item['real_servers'])
            for dkey, row in entry['dests'].items():
                dest = dests.get(dkey)
                if dest is None:
                    dest = {'key': dkey, 'address': row['address'], 'port': row['port']}
                    item['real_servers'].append(dest)
                    dests[dkey] = dest
                dest[part] = dict((k, val) for k, val in row.items() if k not in ('address', 'port'))
    return version, services


def main():
    module = AnsibleModule(
        argument_spec=dict(gather=dict(type='list', elements='str', default=DEFAULT_GATHER,
                                       choices=['table', 'stats', 'rates', 'timeouts',
                                                'daemon', 'connections'])),
        supports_check_mode=True)
    gather = set(module.params['gather'])
    runner = IPVSRunner(module)
    # reading must not load ip_vs (ipvsadm would modprobe it itself)
    loaded = runner.ensure_kernel(load_schedulers=False, load=False)
    result = dict(changed=False, ipvs_loaded=loaded)
    if not loaded:
        module.exit_json(**result)
    try:
        if gather & set(['table', 'stats', 'rates']):
            result['version'], result['services'] = gather_services(runner, gather)
        if 'timeouts' in gather:
            result['timeouts'] = ps.parse_timeout(runner.run(['-L', '--timeout'])[1])
        if 'daemon' in gather:
            result['daemons'] = ps.parse_daemon(runner.run(['-L', '--daemon'])[1])
        if 'connections' in gather:
            result['connections'] = ps.parse_connections(runner.run(['-L', '-n', '-c'])[1])
    except sx.ModelError as exc:
        module.fail_json(msg='cannot parse ipvsadm output: %s' % exc)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
