# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: director_services
short_description: Turn the lvs_virtual_services data model into lvs.cluster.ipvs_table services
version_added: 0.1.0
author: lvs.cluster contributors (!UNKNOWN)
description:
  - Checks the keys of every service and real server of the model and returns the list in the
    shape of the O(lvs.cluster.ipvs_table#module:services) option.
  - A real server given by C(host) gets that inventory host's address - its C(lvs_address), else
    its C(ansible_host) when that is an IP address, else its C(ansible_default_ipv4) fact.
  - A real server without C(forwarding) gets its service's C(forwarding), else V(nat).
  - The model-only keys of fwmark services (C(vips), C(ports), C(protocols), C(match)) are dropped.
extends_documentation_fragment:
  - lvs.cluster.model
positional: hostvars
options:
  hostvars:
    description: The C(hostvars) of the play, to resolve C(host) entries.
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: The whole table in one task
  lvs.cluster.ipvs_table:
    services: "{{ lvs_virtual_services | lvs.cluster.director_services(hostvars) }}"
'''

RETURN = r'''
_value:
  description: The services, each with C(real_servers) holding addresses and forwarding methods.
  type: list
  elements: dict
'''

from ansible_collections.lvs.cluster.plugins.plugin_utils.data_model import director_services


class FilterModule(object):
    def filters(self):
        return {'director_services': director_services}
