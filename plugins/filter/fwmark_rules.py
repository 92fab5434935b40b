# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: fwmark_rules
short_description: The nftables rules that mark the traffic of the model's fwmark services
version_added: 0.2.0
author: lvs.cluster contributors (!UNKNOWN)
description:
  - Returns an C(nft -f) file that defines the table C(inet lvs_cluster) with one C(prerouting) chain
    (priority C(mangle), before IPVS sees the packets) setting the mark of each fwmark service on
    its traffic, or an empty string when no service lists any traffic.
  - A fwmark service lists its traffic with C(ports) (to its C(vips), over C(protocols), default
    V([tcp])) or with C(match), nftables matches of the user's from an allow list (addresses, ports,
    protocols, input interfaces, anonymous sets of them; no statement, verdict or map), written back
    canonically (docs/fwmark.md). Services marked V(absent) mark nothing.
  - The file declares, deletes and defines the table again, so that C(nft -f) replaces it in one
    transaction and never touches another table.
extends_documentation_fragment:
  - lvs.cluster.model
'''

EXAMPLES = r'''
- name: The marking rules of the fwmark services
  ansible.builtin.copy:
    dest: /etc/lvs-cluster/fwmark.nft
    content: "{{ lvs_virtual_services | lvs.cluster.fwmark_rules }}"
    mode: "0644"
    validate: nft -c -f %s
'''

RETURN = r'''
_value:
  description: The C(nft -f) text, or an empty string.
  type: str
  sample: |
    table inet lvs_cluster
    delete table inet lvs_cluster
    table inet lvs_cluster {
        chain prerouting {
            type filter hook prerouting priority mangle; policy accept;
            ip daddr 198.51.100.100 tcp dport { 80, 443 } meta mark set 7
        }
    }
'''

from ansible_collections.lvs.cluster.plugins.plugin_utils.data_model import fwmark_rules


class FilterModule(object):
    def filters(self):
        return {'fwmark_rules': fwmark_rules}
