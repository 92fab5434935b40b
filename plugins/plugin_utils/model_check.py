# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The gate: the whole model checked on the controller before any host changes.

Every key any role reads is checked here, the keepalived engine's too, from the
same declarations the modules use; the model is handed on typed (numbers as
numbers) and canonical (addresses as the kernel prints them), so that no later
step sees the user's spelling.
"""

from __future__ import annotations

import ipaddress

from ansible.errors import AnsibleFilterError

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_syntax as sx
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_validate as v
from ansible_collections.lvs.cluster.plugins.module_utils import model_schema as ms
from ansible_collections.lvs.cluster.plugins.plugin_utils import data_model as dm
from ansible_collections.lvs.cluster.plugins.plugin_utils import fwmark as fw
from ansible_collections.lvs.cluster.plugins.plugin_utils import keepalived as ka


def _placeholder(family, index):
    """A stand-in address for a real server known by host name only.

    Its address may need facts, which exist only once the host is reached;
    everything else of it is checked now, the address by the director's run.
    """
    base = '192.0.2.0' if family == 'ipv4' else '2001:db8::'
    return str(ipaddress.ip_address(base) + index + 1)


def _address_of(rs, hostvars, field, family):
    if 'address' in rs:
        return rs['address']
    try:
        return dm.host_address(hostvars, rs['host'], field + '.host', family) if hostvars is not None else None
    except AnsibleFilterError:
        # Before facts are gathered the address may still come from them; after,
        # a host without an address of the service's family is an error now.
        if hostvars is not None and (rs['host'] not in hostvars
                                     or dm._default_fact(hostvars[rs['host']], family) is not None):
            raise
        return None


def _typed(item, options, field):
    """The keys the user stated, typed and matched against their grammar (defaults are not filled in)."""
    try:
        typed = v.typed_item(item, options, field)
    except v.ValidationError as exc:
        raise AnsibleFilterError(str(exc))
    return dict((key, typed[key]) for key in item)


def _canonical(item, field):
    if item.get('address') is not None:
        try:
            item['address'] = sx.usable_ip(item['address'])[0]
        except sx.ModelError as exc:
            raise AnsibleFilterError('%s.address: %s' % (field, exc))
    return item


def check_model(model, hostvars=None, field='lvs_virtual_services'):
    """Every field of the model, checked as the modules would, before any host is touched.

    Returns the model typed and canonical. Errors name
    lvs_virtual_services[N].field as the user wrote it, type errors included.
    """
    model = dm.plain(model, field)
    if model is None:
        return []
    keys, out = {}, []
    for index, svc, rss in dm.services(model, field):
        sfield = '%s[%d]' % (field, index)
        checked = _canonical(_typed(svc, ms.SERVICE, sfield), sfield)
        if 'vips' in checked:
            checked['vips'] = dm.canonical_vips(checked['vips'], sfield + '.vips')
        real_servers = [_canonical(_typed(rs, ms.REAL_SERVER, rfield), rfield) for _rindex, rs, rfield in rss]
        if 'real_servers' in svc:
            checked['real_servers'] = real_servers
        out.append(checked)
        if checked.get('state') == 'absent':
            continue
        _check_service(checked, sfield, [(rs, '%s.real_servers[%d]' % (sfield, rindex))
                                         for rindex, rs in enumerate(real_servers)], hostvars, keys)
    return out


def _check_service(svc, sfield, rss, hostvars, keys):
    typed = v.typed_item(svc, ms.SERVICE, sfield)
    fw.rules(typed, sfield)
    try:
        service = v.build_service(dict(typed, scheduler=typed.get('scheduler')))
        service = v.validate_service(service.resolve(), flag_names=typed.get('scheduler_flags'))
    except v.ValidationError as exc:
        raise AnsibleFilterError('%s.%s' % (sfield, exc))
    if service.key in keys:
        raise AnsibleFilterError('%s: duplicates %s (%s)' % (sfield, keys[service.key], service.key))
    keys[service.key] = sfield
    ka.check_keys(svc, rss, sfield)
    dests = []
    for rindex, (rs, rfield) in enumerate(rss):
        rtyped = v.typed_item(rs, ms.REAL_SERVER, rfield)
        address = _address_of(rs, hostvars, rfield, service.family)
        rtyped['address'] = address or _placeholder(service.family, rindex)
        rtyped['forwarding'] = dm.forwarding_of(svc, rs, rfield)
        try:
            stated = v.build_dest(rtyped, rfield + '.')
            v.validate_dest_request(service, stated, rfield + '.')
            final = stated.resolve(service)
            v.validate_dest(service, final, rfield + '.', stated=stated)
        except v.ValidationError as exc:
            raise AnsibleFilterError(str(exc))
        dests.append(final)
    try:
        v.check_unique_dests(dests, field=sfield + '.real_servers')
    except v.ValidationError as exc:
        raise AnsibleFilterError(str(exc))
