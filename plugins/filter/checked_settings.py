# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: checked_settings
short_description: Check the roles' own variables strictly, on the controller
version_added: 0.3.0
author: lvs.cluster contributors (!UNKNOWN)
description:
  - Checks every variable of the collection's roles (C(director_*), C(realserver_dr_*), C(realserver_tun_*),
    C(realserver_nat_*), C(lvs_address)) found in the input, against the roles' argument specs, and fails
    naming the variable.
  - Stricter than Ansible's role argument validation, which converts silently; text becomes a number only
    in its plain spelling (V("30"), not V("30 ")) and never a list; every string is matched in full against
    its grammar (interface names, absolute paths, package names, addresses, sysctl keys and values, health
    check fields, the VRRP password); addresses come back canonical. C(director_keepalived_extra_config) is
    taken verbatim (see docs/security.md).
  - The value of C(director_vrrp_auth_pass) never appears in an error.
  - Variables that need facts not gathered yet are left out; the roles check again with their facts.
  - C(playbooks/site.yml) runs it on every host before any host changes; each role runs it first.
options:
  _input:
    description: The variables, for example C(hostvars[inventory_hostname]).
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Check this host's role variables before any change
  ansible.builtin.set_fact:
    lvs_settings_checked: "{{ hostvars[inventory_hostname] | lvs.cluster.checked_settings | length }}"
'''

RETURN = r'''
_value:
  description: The role variables found, checked and canonical.
  type: dict
'''

from ansible_collections.lvs.cluster.plugins.plugin_utils.role_settings import check_settings


class FilterModule(object):
    def filters(self):
        return {'checked_settings': check_settings}
