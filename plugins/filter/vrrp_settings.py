# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: vrrp_settings
short_description: Check the VRRP settings of the director role's keepalived engine and render them
version_added: 0.3.0
author: lvs.cluster contributors (!UNKNOWN)
description:
  - Checks the C(director_vrrp_*) role variables of the P(lvs.cluster.director#role) role (and C(director_vips),
    C(director_vip_interface), C(director_lvs_sync), C(director_lvs_sync_id)), each against a full-string
    allow list; an error names the role variable. Numbers may be given as numbers or as strings of digits;
    a list must be a list.
  - Returns them canonical (addresses as C(ADDR/LEN dev IFACE), peers without duplicates) with C(conf), the
    C(global_defs) and C(vrrp_instance) blocks of C(keepalived.conf) rendered from them.
  - The password (C(director_vrrp_auth_pass)) is checked - at most 8 printable ASCII characters without space,
    quotes, braces, C(#), C(!), C(\) or C($), VRRP version 2 only - and never returned or shown in an error;
    C(auth) says whether there is one, and C(conf) includes the file C(__director_vrrp_auth_file) that
    holds it.
options:
  _input:
    description:
      - The role variables by name, plus C(inventory_hostname) (keepalived's C(router_id)),
        C(__director_vrrp_index) (the director's place in C(director_vrrp_group); the first starts as MASTER),
        C(__director_vrrp_src_ip) (the unicast source address, may be empty) and C(__director_vrrp_auth_file).
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Check the VRRP settings before any change
  ansible.builtin.set_fact:
    vrrp: "{{ {'director_vrrp_instance': director_vrrp_instance, 'director_vrrp_version': 3, ...}
              | lvs.cluster.vrrp_settings }}"
'''

RETURN = r'''
_value:
  description: The checked settings, and C(conf).
  type: dict
  contains:
    conf:
      description: The C(global_defs) and C(vrrp_instance) blocks of C(keepalived.conf).
      type: str
    auth:
      description: Whether VRRP PASS authentication is on (the password itself is not returned).
      type: bool
    addresses:
      description: The C(virtual_ipaddress) lines, C(ADDR/LEN dev IFACE).
      type: list
      elements: str
    excluded:
      description: The C(virtual_ipaddress_excluded) lines (the IPv6 VIPs of an instance with IPv4 ones).
      type: list
      elements: str
    unicast_peers:
      description: The unicast peers, canonical.
      type: list
      elements: str
    advert_int:
      description: The advert interval in seconds, as keepalived.conf states it.
      type: str
'''

from ansible_collections.lvs.cluster.plugins.plugin_utils.keepalived_vrrp import vrrp_settings


class FilterModule(object):
    def filters(self):
        return {'vrrp_settings': vrrp_settings}
