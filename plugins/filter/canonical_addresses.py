# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: canonical_addresses
short_description: Addresses (or address/prefix) in their one canonical spelling
version_added: 0.3.0
author: lvs.cluster contributors (!UNKNOWN)
description:
  - Returns each entry with its address written as the kernel prints it (IPv6 in lower case, zeros
    compressed, no brackets) and its prefix length, if any, kept.
  - With O(field), every entry must be a usable VIP or real server address (no zone id, no special-purpose
    address such as an IPv4-mapped IPv6 one), else the filter fails naming C(field[N]).
  - Without O(field) (records the roles read back from a host), an entry that is no address is kept as it
    is. A VIP spelt one way in a record and another in the model is then the same VIP, not one that left.
positional: field
options:
  _input:
    description: The addresses.
    type: list
    elements: str
    required: true
  field:
    description: The name of the variable the addresses come from, for errors; unset for records.
    type: str
'''

EXAMPLES = r'''
- name: The VIPs a record holds, comparable with the model's
  ansible.builtin.debug:
    msg: "{{ ['2001:DB8::0064', '198.51.100.7/24'] | lvs.cluster.canonical_addresses }}"
'''

RETURN = r'''
_value:
  description: The addresses, canonical.
  type: list
  elements: str
  sample: ["2001:db8::64", "198.51.100.7/24"]
'''

from ansible_collections.lvs.cluster.plugins.plugin_utils.data_model import canonical_records, canonical_vips, plain


def canonical_addresses(values, field=None):
    if field is None:
        return canonical_records(plain(values, 'addresses'))
    return canonical_vips(plain(values, field), field)


class FilterModule(object):
    def filters(self):
        return {'canonical_addresses': canonical_addresses}
