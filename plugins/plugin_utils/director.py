# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Everything the director role derives from the model, from one filter call."""

from __future__ import annotations

import json

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_validate as v
from ansible_collections.lvs.cluster.plugins.plugin_utils import data_model as dm
from ansible_collections.lvs.cluster.plugins.plugin_utils import keepalived as ka
from ansible_collections.lvs.cluster.plugins.plugin_utils import keepalived_conf
from ansible_collections.lvs.cluster.plugins.plugin_utils import model_check as mc


KEY_FIELDS = ('protocol', 'address', 'port', 'fwmark', 'family')


def director_view(model, hostvars, health_check=None, field='lvs_virtual_services'):
    """What the director role derives from the model, checked and worked out in one call.

    Ansible templates a large model slowly, once per expression that reads it,
    so the role asks once for everything: services_json (director_services as
    one JSON text, for ipvs_table's services_json), empty (no service left but
    ones marked absent), nat_addresses (the NAT real servers of the services
    that stay), vips (their addresses, then the vips of their fwmark services,
    each once), service_keys (their keys, as ipvs_table returns them in keys)
    and fwmark_rules (fwmark_rules); with the keepalived engine's
    health_check defaults, keepalived_conf (keepalived.conf's virtual_server
    blocks). The table travels as text: the role stores this as a fact, and a
    worker pickles a fact back to the controller value by value (at 5,000 x 8,
    45,000 dicts against two strings).
    """
    model = mc.check_model(model, hostvars, field)
    table = dm.director_services(model, hostvars, field)
    staying = [(svc, item) for svc, item in zip(model, table) if svc.get('state') != 'absent']
    vips, seen = [], set()
    for svc, _item in staying:
        for vip in dm.addresses_of(svc.get('address')) + dm.addresses_of(svc.get('vips')):
            if vip not in seen:
                seen.add(vip)
                vips.append(vip)
    view = {
        'services_json': json.dumps(table, separators=(',', ':')),
        'empty': not staying,
        'nat_addresses': [rs['address'] for _svc, item in staying for rs in item['real_servers']
                          if rs['forwarding'] == 'nat'],
        'vips': vips,
        # the Service key ipvs_table builds from the same fields (ipvs_model declares its spelling)
        'service_keys': [v.build_service(dict((k, item.get(k)) for k in KEY_FIELDS if k in item)).key
                         for _svc, item in staying],
        'fwmark_rules': dm.fwmark_rules(model, field),
    }
    if health_check is not None:
        view['keepalived_conf'] = keepalived_conf.virtual_servers(
            ka.keepalived_services(model, hostvars, health_check, field))
    return view
