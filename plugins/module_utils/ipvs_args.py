# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Argument spec fragments shared by ipvs_service, ipvs_dest and ipvs_info.

Docs for these live in plugins/doc_fragments/service_key.py; keep both in step.
"""

from __future__ import annotations

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_model as m

FORWARDING_CHOICES = sorted(m.FORWARDING_ALIASES)
FORWARDING_CHOICES.remove('m')
FORWARDING_CHOICES.remove('g')
FORWARDING_CHOICES.remove('i')


def service_key_spec(virtual=False):
    """Service identity: protocol + address + port, or fwmark + family.

    virtual=True gives ipvs_dest's virtual_address/virtual_port names.
    """
    spec = {
        'protocol': dict(type='str', choices=list(m.PROTOCOLS)),
        'fwmark': dict(type='int'),
        'family': dict(type='str', choices=list(m.FAMILIES)),
    }
    if virtual:
        spec['virtual_address'] = dict(type='str', aliases=['vip'])
        spec['virtual_port'] = dict(type='int', aliases=['vport'])
    else:
        spec['address'] = dict(type='str')
        spec['port'] = dict(type='int')
    return spec


def dest_option_spec():
    """Real-server options (top level of ipvs_dest, items of real_servers)."""
    return {
        'address': dict(type='str', required=True),
        'port': dict(type='int'),
        'forwarding': dict(type='str', choices=FORWARDING_CHOICES),
        'weight': dict(type='int'),
        'u_threshold': dict(type='int'),
        'l_threshold': dict(type='int'),
        'tun_type': dict(type='str', choices=list(m.TUN_TYPES)),
        'tun_port': dict(type='int'),
        'tun_nocsum': dict(type='bool'),
        'tun_csum': dict(type='bool'),
        'tun_remcsum': dict(type='bool'),
    }


TUN_FLAG_EXCLUSIVE = [('tun_nocsum', 'tun_csum', 'tun_remcsum')]
