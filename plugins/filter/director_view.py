# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: director_view
short_description: Check the lvs_virtual_services data model and work out everything a director needs, in one call
version_added: 0.3.0
author: lvs.cluster contributors (!UNKNOWN)
description:
  - Checks every field of the model as P(lvs.cluster.checked_model#filter) does (an error names the field),
    then returns what the P(lvs.cluster.director#role) role derives from it.
  - Ansible templates a large model once per expression that reads it; one call instead of one per
    derived value keeps a director of thousands of services fast.
extends_documentation_fragment:
  - lvs.cluster.model
  - lvs.cluster.model.hostvars
positional: hostvars, health_check
options:
  health_check:
    description:
      - The keepalived engine's default health check (the role's C(director_health_check)). When given, the
        result also holds C(keepalived_conf).
    type: dict
'''

EXAMPLES = r'''
- name: Work out once what the model implies
  ansible.builtin.set_fact:
    director: "{{ lvs_virtual_services | lvs.cluster.director_view(hostvars) }}"

- name: The whole table in one task, carried through Ansible as one text
  lvs.cluster.ipvs_table:
    services_json: "{{ director.services_json }}"
'''

RETURN = r'''
_value:
  description: What the model implies for a director.
  type: dict
  contains:
    services_json:
      description:
        - The services in the shape of the O(lvs.cluster.ipvs_table#module:services) option, as
          P(lvs.cluster.director_services#filter) returns them, as one JSON text for
          O(lvs.cluster.ipvs_table#module:services_json).
        - One text, not a list, because a table of thousands of entries travels through Ansible far faster
          as one value (stored as a fact, passed to a module, sent back with its result).
      type: str
    empty:
      description: True when no service is left but ones marked V(absent).
      type: bool
    nat_addresses:
      description: The addresses of the NAT real servers of the services not marked V(absent).
      type: list
      elements: str
    vips:
      description: The addresses of the services not marked V(absent), then the C(vips) of their fwmark
        services, each once.
      type: list
      elements: str
    service_keys:
      description:
        - The keys of the services not marked V(absent), in the order listed, as
          RV(lvs.cluster.ipvs_table#module:keys) will return them (C(-t 198.51.100.100:80), C(-f 7 -6)). The
          director role records them before the table changes, so that a run killed midway leaves no service
          it created unrecorded.
      type: list
      elements: str
      version_added: 0.3.0
    keepalived_conf:
      description:
        - The C(virtual_server) blocks of C(keepalived.conf) for the services not marked V(absent), each after
          a blank line and a comment with its name, rendered from what
          P(lvs.cluster.keepalived_services#filter) returns (the role's keepalived engine includes this text).
      returned: when O(health_check) is given
      type: str
    fwmark_rules:
      description: The nftables rules marking the fwmark services' traffic, as
        P(lvs.cluster.fwmark_rules#filter) returns them (empty when none lists its traffic).
      type: str
'''

from ansible_collections.lvs.cluster.plugins.plugin_utils.director import director_view


class FilterModule(object):
    def filters(self):
        return {'director_view': director_view}
