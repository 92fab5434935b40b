# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one planner: stated services and real servers -> validated ops against the host.

ipvs_table states many services, ipvs_service one, ipvs_dest one real server
of an existing service; all three take this path. Stated records (what the
user wrote, unstated fields None) are validated before the table is read;
plan() resolves them against the host and diffs.
"""

from __future__ import annotations

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_diff as df
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_model as m
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_parse as ps
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_syntax as sx
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_validate as v


class Item(object):
    """One stated service: its key and options, its stated real servers, where it came from."""

    def __init__(self, prefix, service, dests, state='present', flag_names=None, manage_dests=True,
                 absent_dests=(), dest_prefix=None, must_exist=None):
        self.prefix = prefix  # prepended to field names in errors ('services[2].' or '')
        # ipvs_dest's one real server has its fields at the top level
        self.dest_prefix = dest_prefix
        self.service = service
        self.dests = dests
        self.state = state
        self.flag_names = flag_names
        self.manage_dests = manage_dests  # False: its real servers are left alone
        self.absent_dests = list(absent_dests)  # stated Dests to delete
        self.must_exist = must_exist  # the field to name when the service is not in the table (ipvs_dest)

    def dest_field(self, index):
        if self.dest_prefix is not None:
            return self.dest_prefix
        return '%sreal_servers[%d].' % (self.prefix, index)


def _prefixed(prefix, exc):
    return v.ValidationError(prefix + exc.field, exc.message)


def stated_item(params, prefix='', fields=None, default_forwarding=None):
    """Validate one service's params and its real_servers before anything is read."""
    try:
        service = v.build_service(params, fields)
    except v.ValidationError as exc:
        raise _prefixed(prefix, exc)
    dests = []
    for index, dest_params in enumerate(params.get('real_servers') or []):
        dprefix = '%sreal_servers[%d].' % (prefix, index)
        dest = v.build_dest(dest_params, dprefix)
        if dest.forwarding is None and default_forwarding is not None:
            dest = dest.replace(forwarding=default_forwarding)
        v.validate_dest_request(service, dest, dprefix)
        dests.append(dest)
    return Item(prefix, service, dests, state=params.get('state') or 'present',
                flag_names=params.get('scheduler_flags'), manage_dests=params.get('real_servers') is not None)


def stated_items(services, field='services'):
    """ipvs_table's services list (named field in errors): every item validated, duplicates refused."""
    items = []
    seen = {}
    for index, params in enumerate(services):
        prefix = '%s[%d].' % (field, index)
        try:
            default_fwd = sx.normalise_forwarding(params.get('forwarding'))
        except ValueError as exc:
            raise v.ValidationError(prefix + 'forwarding', str(exc))
        item = stated_item(params, prefix, default_forwarding=default_fwd)
        if item.service.key in seen:
            raise v.ValidationError('%s[%d]' % (field, index), 'duplicates %s[%d] (%s)'
                                    % (field, seen[item.service.key], item.service.key))
        seen[item.service.key] = index
        items.append(item)
    return items


def owned_keys(values):
    """Normalised keys of the owned services (the same key ipvsadm -S -n prints)."""
    keys = []
    for index, value in enumerate(values):
        try:
            keys.append(ps.parse_rule('-A ' + value)[1].key)
        except (sx.ModelError, ValueError, KeyError, TypeError) as exc:
            raise v.ValidationError('owned[%d]' % index, '%r is not a service key like -t 198.51.100.100:80 '
                                    'or -f 7 (%s)' % (value, exc))
    return keys


def dest_key(service, dest):
    """The key a stated real server has in the table: its port defaults to the service's."""
    port = sx.dest_port(dest.port, service.port, service.fwmark)
    return sx.format_hostport(dest.address, port)


def plan(items, purge, current, owned=()):
    """Resolve every item against the host and diff. Returns (ops, desired Table, absent service keys)."""
    desired = m.Table()
    absent = []
    unmanaged = []
    absent_dests = []
    for item in items:
        key = item.service.key
        if item.must_exist and key not in current:
            raise v.ValidationError(item.must_exist, 'virtual service %s does not exist; create it first with '
                                    'lvs.cluster.ipvs_service' % key)
        if item.state == 'absent':
            absent.append(key)
            continue
        try:
            service = item.service.resolve(current.service(key))
            v.validate_service(service, flag_names=item.flag_names)
        except v.ValidationError as exc:
            raise _prefixed(item.prefix, exc)
        desired.add_service(service)
        if not item.manage_dests:
            unmanaged.append(key)
        resolved = []
        for index, dest in enumerate(item.dests):
            final = dest.resolve(service, current.dest(key, dest_key(service, dest)))
            v.validate_dest(service, final, item.dest_field(index), stated=dest)
            resolved.append(final)
        v.check_unique_dests(resolved, field=item.prefix + 'real_servers')
        for dest in resolved:
            desired.add_dest(key, dest)
        absent_dests.extend((key, dest_key(service, dest)) for dest in item.absent_dests)
    if purge == 'all':
        absent.extend(k for k in current.keys() if k not in desired and k not in absent)
    absent.extend(k for k in owned if k in current and k not in desired and k not in absent)
    scope = df.Scope(purge_dests=purge in ('real_servers', 'all'), unmanaged=unmanaged,
                     absent_services=absent, absent_dests=absent_dests)
    return df.diff(current, desired, scope), desired, absent
