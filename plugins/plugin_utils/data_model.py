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

from ansible.errors import AnsibleFilterError

# Read by the keepalived engine only (plugin_utils/keepalived.py); the static
# engine has no health checker, so director_services drops them.
HA_SERVICE_KEYS = frozenset(('health_check', 'sorry_server', 'quorum', 'hysteresis', 'inhibit_on_failure'))
HA_REAL_SERVER_KEYS = frozenset(('health_check', 'inhibit_on_failure'))

SERVICE_KEYS = frozenset((
    'name', 'state', 'protocol', 'address', 'port', 'fwmark', 'family', 'scheduler',
    'scheduler_flags', 'persistent', 'persistence_timeout', 'persistence_netmask',
    'persistence_engine', 'one_packet', 'forwarding', 'real_servers', 'vips')) | HA_SERVICE_KEYS
REAL_SERVER_KEYS = frozenset((
    'host', 'address', 'port', 'forwarding', 'weight', 'u_threshold', 'l_threshold',
    'tun_type', 'tun_port', 'tun_nocsum', 'tun_csum', 'tun_remcsum')) | HA_REAL_SERVER_KEYS
FORWARDING = {'nat': 'nat', 'masq': 'nat', 'masquerading': 'nat',
              'dr': 'dr', 'gate': 'dr', 'gatewaying': 'dr', 'route': 'dr', 'droute': 'dr',
              'direct': 'dr', 'tun': 'tun', 'ipip': 'tun', 'tunnel': 'tun'}
DEFAULT_FORWARDING = 'nat'


def _is_ip(value):
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True


def host_address(hostvars, host, field):
    """lvs_address, else ansible_host when it is an IP, else the default IPv4 fact."""
    if host not in hostvars:
        raise AnsibleFilterError('%s: %r is not an inventory host' % (field, host))
    hv = hostvars[host]
    address = hv.get('lvs_address')
    if address:
        return str(address)
    address = hv.get('ansible_host')
    if address and _is_ip(address):
        return str(address)
    facts = hv.get('ansible_default_ipv4') or {}
    if facts.get('address'):
        return str(facts['address'])
    raise AnsibleFilterError('%s: cannot tell the address of host %s: set lvs_address (or an '
                             'IP ansible_host) for it, or gather its facts first' % (field, host))


def forwarding_of(service, real_server, field):
    value = real_server.get('forwarding') or service.get('forwarding') or DEFAULT_FORWARDING
    key = str(value).lower()
    if key not in FORWARDING:
        raise AnsibleFilterError('%s.forwarding: %r is not one of nat, dr, tun' % (field, value))
    return FORWARDING[key]


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
    for _index, svc, rss in services(model, field):
        item = dict((k, v) for k, v in svc.items()
                    if k not in ('vips', 'real_servers') and k not in HA_SERVICE_KEYS)
        item['forwarding'] = FORWARDING.get(str(svc.get('forwarding') or DEFAULT_FORWARDING).lower(),
                                            svc.get('forwarding'))
        real_servers = []
        for _rindex, rs, rfield in rss:
            dest = dict((k, v) for k, v in rs.items() if k != 'host' and k not in HA_REAL_SERVER_KEYS)
            if 'host' in rs:
                dest['address'] = host_address(hostvars, rs['host'], rfield + '.host')
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
            out.append({'service': svc.get('name') or '%s[%d]' % (field, index),
                        'forwarding': forwarding,
                        'vips': [str(v) for v in vips],
                        'protocol': svc.get('protocol', 'tcp'),
                        'port': rs.get('port', svc.get('port'))})
    return out
