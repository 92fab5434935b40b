# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: realserver_assignments
short_description: What one real server must do, read from the lvs_virtual_services data model
version_added: 0.1.0
author: lvs.cluster contributors (!UNKNOWN)
description:
  - Returns one entry per service in which the host is a real server, matched by its inventory
    name (C(host)) or by one of its addresses (C(address)).
  - Each entry has C(service) (the name), C(forwarding) (V(nat), V(dr) or V(tun)), C(vips) (the
    service address, or the C(vips) listed for a fwmark service), C(family) (the service's, V(ipv4) or
    V(ipv6)), C(real_server_family) (the family of the real server's address, which differs from
    C(family) only in a TUN service that tunnels one family in the other), C(protocol) and C(port).
positional: hostname, addresses
options:
  _input:
    description: The data model, C(lvs_virtual_services).
    type: list
    elements: dict
    required: true
  hostname:
    description: The real server's inventory name.
    type: str
    required: true
  addresses:
    description: The real server's addresses.
    type: list
    elements: str
'''

EXAMPLES = r'''
- name: VIPs this host carries as a direct-routing real server
  ansible.builtin.debug:
    msg: >-
      {{ lvs_virtual_services
         | lvs.cluster.realserver_assignments(inventory_hostname, ansible_all_ipv4_addresses)
         | selectattr('forwarding', 'eq', 'dr') | map(attribute='vips') | flatten | unique }}
'''

RETURN = r'''
_value:
  description: The assignments, in model order.
  type: list
  elements: dict
'''

from ansible_collections.lvs.cluster.plugins.plugin_utils.data_model import realserver_assignments


class FilterModule(object):
    def filters(self):
        return {'realserver_assignments': realserver_assignments}
