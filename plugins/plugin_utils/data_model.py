# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The collection's one data model, lvs_virtual_services, read on the controller.

Directors turn it into the shape of lvs.cluster.ipvs_table; real servers find
in it the services they serve and how. See docs/data-model.md.
"""

from __future__ import annotations

import ipaddress
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_syntax as sx
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_validate as v
from ansible_collections.lvs.cluster.plugins.module_utils import model_schema as ms
from ansible_collections.lvs.cluster.plugins.plugin_utils import fwmark as fw

# Read by the keepalived engine only (plugin_utils/keepalived.py); the static
# engine has no health checker, so director_services drops them.
HA_SERVICE_KEYS = ms.HA_NAMES
HA_REAL_SERVER_KEYS = ms.HA_REAL_SERVER_NAMES
SERVICE_KEYS = frozenset(o.name for o in ms.SERVICE)
REAL_SERVER_KEYS = frozenset(o.name for o in ms.REAL_SERVER)


def _is_ip(value):
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True


# Bounds of the model, far above any real cluster (the benchmarks: 5,000 services
# of 8 real servers), so that a runaway model fails with its field named and not
# with Python's RecursionError or MemoryError.
MAX_DEPTH = 8
MAX_ITEMS = 100000
MAX_TEXT = 4096


def plain(value, field='lvs_virtual_services', depth=0):
    """The model as plain lists and dicts, read once, within the bounds above.

    Ansible hands a filter lazy containers that render a value on every access;
    the checks read each field several times, which costs more than the checks.
    """
    if depth > MAX_DEPTH:
        raise AnsibleFilterError('%s: nested deeper than %d levels' % (field, MAX_DEPTH))
    if isinstance(value, dict):
        if len(value) > MAX_ITEMS:
            raise AnsibleFilterError('%s: more than %d keys' % (field, MAX_ITEMS))
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise AnsibleFilterError('%s: a key must be text, got %r' % (field, cut(key)))
            out[key] = plain(item, '%s.%s' % (field, cut(key, 40)), depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_ITEMS:
            raise AnsibleFilterError('%s: more than %d items' % (field, MAX_ITEMS))
        return [plain(item, '%s[%d]' % (field, index), depth + 1) for index, item in enumerate(value)]
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise AnsibleFilterError('%s: longer than %d characters' % (field, MAX_TEXT))
    return value


def cut(value, size=60):
    """A value as an error names it: text as it is, anything else as its repr, cut short."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= size else text[:size - 3] + '...'


def canonical_vips(values, field):
    """VIPs as the user gave them (an address, or address/prefix): canonical, or an error naming the field."""
    out = []
    for index, value in enumerate(values or []):
        text = value if isinstance(value, str) else None
        address, slash, prefix = (text or '').partition('/')
        try:
            address, family = sx.usable_ip(address)
        except (sx.ModelError, ValueError) as exc:
            why = exc if text is not None else 'must be an address, got %r' % (value,)
            raise AnsibleFilterError('%s[%d]: %s' % (field, index, why))
        if slash:
            if not re.fullmatch(r'[0-9]{1,3}', prefix) or int(prefix) > (32 if family == 'ipv4' else 128):
                raise AnsibleFilterError('%s[%d]: %r is not a prefix length of an %s address'
                                         % (field, index, cut(prefix), family))
            address = '%s/%d' % (address, int(prefix))
        out.append(address)
    return out


def canonical_records(lines):
    """Addresses read back from a role's record, canonical where they are addresses.

    Records of earlier runs hold the VIPs as the user spelt them then; compared
    as text, a VIP respelt in the model would look like one that left.
    """
    out = []
    for line in lines or []:
        address, slash, prefix = str(line).partition('/')
        try:
            address = sx.canonical_ip(address)[0]
        except (sx.ModelError, ValueError):
            out.append(line)
            continue
        out.append(address + slash + prefix)
    return out


def addresses_of(value):
    """An address or a list of them (lvs_address, lvs_internal_address): a list of strings."""
    if value is None or value == '':
        return []
    return [str(v) for v in (value if isinstance(value, (list, tuple)) else [value]) if v]


def family_of(address):
    try:
        return sx.family_of(str(address))
    except ValueError:
        return None


def service_family(svc):
    try:
        return sx.service_family(svc.get('address'), svc.get('fwmark'), svc.get('family'))
    except ValueError:
        return 'ipv4'  # refused with its field by the model check


def _default_fact(hv, family):
    """The host's default_ipv4/default_ipv6 fact; None before its facts are gathered."""
    key = 'default_%s' % family
    if 'ansible_' + key in hv:
        return hv['ansible_' + key]
    return (hv.get('ansible_facts') or {}).get(key)


def host_address(hostvars, host, field, family='ipv4'):
    """The host's address of one family: from lvs_address (one address, or one per family),
    else ansible_host when it is an IP of that family, else the default address fact of it."""
    if host not in hostvars:
        raise AnsibleFilterError('%s: %r is not an inventory host' % (field, host))
    hv = hostvars[host]
    facts = _default_fact(hv, family) or {}
    for address in addresses_of(hv.get('lvs_address')) + addresses_of(hv.get('ansible_host')) \
            + addresses_of(facts.get('address')):
        if family_of(address) == family:
            return address
    raise AnsibleFilterError('%s: cannot tell the %s address of host %s: set lvs_address (one address '
                             'per family) or an IP ansible_host for it, or gather its facts first'
                             % (field, 'IPv6' if family == 'ipv6' else 'IPv4', host))


def forwarding_of(service, real_server, field):
    value = real_server.get('forwarding') or service.get('forwarding') or sx.DEFAULT_FORWARDING
    try:
        return sx.normalise_forwarding(value)
    except ValueError:
        raise AnsibleFilterError('%s.forwarding: %r is not one of %s' % (field, value, ', '.join(sx.FORWARDING)))


def _check_keys(item, allowed, field):
    if not isinstance(item, dict):
        raise AnsibleFilterError('%s: must be a dictionary, got %r' % (field, item))
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise AnsibleFilterError('%s: unknown key(s) %s; known: %s'
                                 % (field, ', '.join(unknown), ', '.join(sorted(allowed))))


def services(model, field='lvs_virtual_services'):
    """Yield (index, service, [(index, real server, field)]) with keys checked."""
    if not isinstance(model, list):
        raise AnsibleFilterError('%s: must be a list' % field)
    for index, svc in enumerate(model):
        sfield = '%s[%d]' % (field, index)
        _check_keys(svc, SERVICE_KEYS, sfield)
        rss = svc.get('real_servers') or []
        if not isinstance(rss, list):
            raise AnsibleFilterError('%s.real_servers: must be a list' % sfield)
        checked = []
        for rindex, rs in enumerate(rss):
            rfield = '%s.real_servers[%d]' % (sfield, rindex)
            _check_keys(rs, REAL_SERVER_KEYS, rfield)
            if ('host' in rs) == ('address' in rs):
                raise AnsibleFilterError('%s: give exactly one of host and address' % rfield)
            checked.append((rindex, rs, rfield))
        yield index, svc, checked


def director_services(model, hostvars, field='lvs_virtual_services'):
    """The model in lvs.cluster.ipvs_table's shape (host names resolved to addresses)."""
    out = []
    for index, svc, rss in services(model, field):
        item = dict((k, v) for k, v in svc.items()
                    if k != 'real_servers' and k not in ms.MARKING_NAMES and k not in HA_SERVICE_KEYS)
        item['forwarding'] = forwarding_of(svc, {}, '%s[%d]' % (field, index))
        real_servers = []
        for _rindex, rs, rfield in rss:
            dest = dict((k, v) for k, v in rs.items() if k != 'host' and k not in HA_REAL_SERVER_KEYS)
            if 'host' in rs:
                dest['address'] = host_address(hostvars, rs['host'], rfield + '.host', service_family(svc))
            dest['forwarding'] = forwarding_of(svc, rs, rfield)
            real_servers.append(dest)
        item['real_servers'] = real_servers
        out.append(item)
    return out


def realserver_assignments(model, hostname, addresses=None, field='lvs_virtual_services'):
    """What one real server must do: one entry per (service, real server) it is.

    A real server is matched by its inventory name (host) or one of its addresses.
    """
    mine = set()
    for address in addresses or ():
        try:
            mine.add(str(ipaddress.ip_address(str(address))))
        except ValueError:
            continue
    out = []
    for index, svc, rss in services(model, field):
        if svc.get('state', 'present') == 'absent':
            continue
        for _rindex, rs, rfield in rss:
            matched = rs.get('host') == hostname
            if not matched and 'address' in rs:
                try:
                    matched = str(ipaddress.ip_address(str(rs['address']))) in mine
                except ValueError:
                    matched = False
            if not matched:
                continue
            vips = [svc['address']] if svc.get('address') else list(svc.get('vips') or [])
            forwarding = forwarding_of(svc, rs, rfield)
            if forwarding in ('dr', 'tun') and not vips:
                raise AnsibleFilterError('%s: a %s real server must carry the VIP; a fwmark service '
                                         'lists its VIPs in vips' % ('%s[%d]' % (field, index), forwarding))
            # A real server named by host has the service's family (see host_address);
            # one named by address may differ from it only in a TUN service.
            out.append({'service': svc.get('name') or '%s[%d]' % (field, index),
                        'forwarding': forwarding,
                        'family': service_family(svc),
                        'real_server_family': family_of(rs['address']) if 'address' in rs else service_family(svc),
                        'vips': canonical_records(vips),
                        'protocol': svc.get('protocol', 'tcp'),
                        'port': rs.get('port', svc.get('port'))})
    return out


def _present(model, field):
    """Yield (field name, typed service, service, real servers) of the services not marked absent."""
    for index, svc, rss in services(model, field):
        sfield = '%s[%d]' % (field, index)
        try:
            typed = v.typed_item(svc, ms.SERVICE, sfield)
        except v.ValidationError as exc:
            raise AnsibleFilterError(str(exc))
        if typed.get('state') != 'absent':
            yield sfield, typed, svc, rss


def fwmark_rules(model, field='lvs_virtual_services'):
    """The nft -f text marking the traffic of the model's fwmark services ('' when none)."""
    marked = []
    for sfield, typed, _svc, _rss in _present(model, field):
        found = fw.rules(typed, sfield)
        if found:
            marked.append((typed['fwmark'], found))
    return fw.ruleset(marked)
