# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: checked_model
short_description: Check every field of the lvs_virtual_services data model, on the controller
version_added: 0.2.0
author: lvs.cluster contributors (!UNKNOWN)
description:
  - Returns the model unchanged, or fails with the first bad field named as the user wrote it, for example
    C(lvs_virtual_services[2].real_servers[0].port), type errors included.
  - Checks what the modules check (types, choices, ranges, combinations, duplicates), from the same
    declarations, so that C(playbooks/site.yml) and every role refuse a bad model before any host changes.
  - A real server given by C(host) whose address needs facts is checked in everything but its address.
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
- name: Check the data model before any change
  ansible.builtin.set_fact:
    lvs_model_checked: "{{ lvs_virtual_services | lvs.cluster.checked_model(hostvars) }}"
'''

RETURN = r'''
_value:
  description: The model, unchanged.
  type: list
  elements: dict
'''

from ansible_collections.lvs.cluster.plugins.plugin_utils.data_model import check_model


class FilterModule(object):
    def filters(self):
        return {'checked_model': check_model}
