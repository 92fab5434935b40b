# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The director role's VRRP settings, checked, and keepalived.conf's global_defs and vrrp_instance from them.

Every value is checked against a full-string allow list and an error names the
role variable. The password never leaves here in clear: the result says only
whether there is one, and keepalived.conf includes it from a file of its own
(see the role's keepalived tasks), so that neither a diff nor a fact shows it.
"""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

from ansible_collections.lvs.cluster.plugins.module_utils import ip_helpers
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_syntax as sx
from ansible_collections.lvs.cluster.plugins.plugin_utils import keepalived_conf as kc

# keepalived's limits (vrrp_parser.c): a PASS password of at most 8 characters,
# VRRPv3 adverts in centiseconds up to 40.95 s, VRRPv2 in whole seconds up to 255
AUTH_PASS = re.compile(r'[!-~]{1,8}')
INSTANCE = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}')
_UINT = re.compile(r'[0-9]{1,6}')
_DECIMAL = re.compile(r'[0-9]{1,6}(\.[0-9]{1,6})?')
# the role variables read, in the order their errors are checked
ROLE_VARIABLES = (
    'director_vrrp_instance', 'director_vrrp_interface', 'director_vip_interface', 'director_vrrp_router_id',
    'director_vrrp_priority', 'director_vrrp_version', 'director_vrrp_advert_int', 'director_vrrp_preempt',
    'director_vrrp_preempt_delay', 'director_vrrp_auth_pass', 'director_vrrp_unicast', 'director_vrrp_unicast_peers',
    'director_vrrp_extra_addresses', 'director_lvs_sync', 'director_lvs_sync_id', 'director_vips')
# what the role works out and hands on with them (optional)
DERIVED = ('inventory_hostname', '__director_vrrp_index', '__director_vrrp_src_ip', '__director_vrrp_auth_file')


def _fail(name, message):
    raise AnsibleFilterError('%s: %s' % (name, message))


def _int(values, name, low, high):
    value = values[name]
    if isinstance(value, str) and _UINT.fullmatch(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        _fail(name, 'must be a whole number %d to %d, got %r' % (low, high, values[name]))
    return value


def _bool(values, name):
    value = values[name]
    if isinstance(value, str) and value.lower() in ('true', 'false'):
        return value.lower() == 'true'
    if not isinstance(value, bool):
        _fail(name, 'must be true or false, got %r' % (value,))
    return value


def _list(values, name):
    value = values[name]
    if not isinstance(value, (list, tuple)):
        _fail(name, 'must be a list, got %r' % (value,))
    return list(value)


def _ifname(values, name):
    value = values[name]
    if not isinstance(value, str) or not ip_helpers.valid_ifname(value):
        _fail(name, 'must be an interface name (1 to 15 of A-Z a-z 0-9 _ . : -), got %r' % (value,))
    return value


def _address(value, name, usable=True):
    if not isinstance(value, str):
        _fail(name, 'must be an IP address, got %r' % (value,))
    try:
        return (sx.usable_ip if usable else sx.canonical_ip)(value)
    except sx.ModelError as exc:
        _fail(name, str(exc))


def _advert_int(values, version):
    name, value = 'director_vrrp_advert_int', values['director_vrrp_advert_int']
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(name, 'must be a number of seconds, got %r' % (value,))
    centis = round(value * 100)
    if version == 2 and (value != int(value) or not 1 <= value <= 255):
        _fail(name, 'VRRP version 2 takes whole seconds, 1 to 255, got %r (version 3 allows fractions)' % (value,))
    if abs(centis - value * 100) > 1e-6 or not 1 <= centis <= 4095:
        _fail(name, 'must be 0.01 to 40.95 seconds, in hundredths, got %r' % (value,))
    return '%d' % (centis // 100) if centis % 100 == 0 else ('%.2f' % (centis / 100.0)).rstrip('0')


def _vip(value, interface):
    """(family, 'ADDR/LEN dev IFACE') of a director_vips entry: an address, or address/prefix."""
    text = value if isinstance(value, str) else ''
    addr, slash, prefix = text.partition('/')
    address, family = _address(addr if text else value, 'director_vips')
    full = 32 if family == 'ipv4' else 128
    if slash and not (_UINT.fullmatch(prefix) and int(prefix) <= full):
        _fail('director_vips', '%r: the prefix must be 0 to %d' % (value, full))
    return family, '%s/%d dev %s' % (address, int(prefix) if slash else full, interface)


def _extra_address(value, interface):
    """'ADDR/LEN dev IFACE' of a director_vrrp_extra_addresses entry: ADDR[/LEN] [dev IFACE]."""
    name = 'director_vrrp_extra_addresses'
    parts = value.split(' ') if isinstance(value, str) else []
    if not (len(parts) == 1 or (len(parts) == 3 and parts[1] == 'dev')):
        _fail(name, '%r: must be "ADDR/LEN dev IFACE" (the prefix and "dev IFACE" may be left out)' % (value,))
    if len(parts) == 3 and not ip_helpers.valid_ifname(parts[2]):
        _fail(name, '%r: %r is not an interface name (1 to 15 of A-Z a-z 0-9 _ . : -)' % (value, parts[2]))
    addr, slash, prefix = parts[0].partition('/')
    address, family = _address(addr, name)
    full = 32 if family == 'ipv4' else 128
    if slash and not (_UINT.fullmatch(prefix) and int(prefix) <= full):
        _fail(name, '%r: the prefix must be 0 to %d' % (value, full))
    return '%s/%d dev %s' % (address, int(prefix) if slash else full, parts[2] if len(parts) == 3 else interface)


def vrrp_settings(values):
    """The checked, canonical VRRP settings of ROLE_VARIABLES (and DERIVED), with conf, their keepalived.conf text.

    The password is checked, and not returned: auth says whether there is one.
    """
    if not isinstance(values, dict):
        raise AnsibleFilterError('vrrp_settings: expects a dictionary of the role variables, got %r' % (values,))
    missing = [name for name in ROLE_VARIABLES if name not in values]
    if missing:
        raise AnsibleFilterError('vrrp_settings: missing %s' % ', '.join(missing))
    out = {}
    instance = values['director_vrrp_instance']
    if not isinstance(instance, str) or not INSTANCE.fullmatch(instance):
        _fail('director_vrrp_instance', 'must be 1 to 64 of A-Z a-z 0-9 _ . - (not starting with . or -), got %r'
              % (instance,))
    out['instance'] = instance
    out['interface'] = _ifname(values, 'director_vrrp_interface')
    out['vip_interface'] = _ifname(values, 'director_vip_interface')
    out['router_id'] = _int(values, 'director_vrrp_router_id', 1, 255)
    out['priority'] = _int(values, 'director_vrrp_priority', 1, 254)
    out['version'] = _int(values, 'director_vrrp_version', 2, 3)
    out['advert_int'] = _advert_int(values, out['version'])
    out['preempt'] = _bool(values, 'director_vrrp_preempt')
    out['preempt_delay'] = _int(values, 'director_vrrp_preempt_delay', 0, 1000)
    password = values['director_vrrp_auth_pass']
    if password is None:
        password = ''
    # the message never shows the password, only what is wrong with it
    if not isinstance(password, str) or (password and not (
            AUTH_PASS.fullmatch(password) and not any(c in kc.SPECIAL for c in password))):
        _fail('director_vrrp_auth_pass', 'must be 1 to 8 printable ASCII characters without space or %s '
              '(keepalived uses 8), or empty for none; got %s (not shown)'
              % (' '.join(kc.SPECIAL), '%d characters' % len(password) if isinstance(password, str)
                 else 'no string'))
    if password and out['version'] != 2:
        _fail('director_vrrp_auth_pass', 'needs director_vrrp_version 2 (VRRPv3 has no authentication)')
    out['auth'] = bool(password)
    out['unicast'] = _bool(values, 'director_vrrp_unicast')
    vips = [_vip(vip, out['vip_interface']) for vip in _list(values, 'director_vips')]
    vips4 = [text for family, text in vips if family == 'ipv4']
    vips6 = [text for family, text in vips if family == 'ipv6']
    if out['version'] == 2 and vips6 and not vips4:
        _fail('director_vrrp_version', '2 carries IPv4 adverts and the VIPs are all IPv6: use version 3')
    out['family'] = 'ipv6' if vips6 and not vips4 else 'ipv4'
    # VRRP adverts carry one address family; the other moves with the instance, excluded from them
    out['addresses'] = vips4 or vips6
    out['excluded'] = vips6 if vips4 else []
    peers = []
    for peer in _list(values, 'director_vrrp_unicast_peers'):
        address, family = _address(peer, 'director_vrrp_unicast_peers')
        # the default peers are the other directors' IPv4 addresses: their family counts only when used
        if out['unicast'] and family != out['family']:
            _fail('director_vrrp_unicast_peers', '%s is not an %s address, as the VRRP instance is (the family '
                  'of its VIPs)' % (address, 'IPv4' if out['family'] == 'ipv4' else 'IPv6'))
        if address not in peers:
            peers.append(address)
    if out['unicast'] and not peers:
        _fail('director_vrrp_unicast_peers', 'director_vrrp_unicast needs at least one peer')
    out['unicast_peers'] = peers
    out['extra_addresses'] = [_extra_address(extra, out['interface'])
                              for extra in _list(values, 'director_vrrp_extra_addresses')]
    out['addresses'] = out['addresses'] + out['extra_addresses']
    out['lvs_sync'] = _bool(values, 'director_lvs_sync')
    out['lvs_sync_id'] = _int(values, 'director_lvs_sync_id', 0, 255)
    src = values.get('__director_vrrp_src_ip') or ''
    out['unicast_src_ip'] = _address(src, 'unicast_src_ip (the address of director_vrrp_interface)', False)[0] \
        if src else ''
    if out['unicast_src_ip'] and sx.family_of(out['unicast_src_ip']) != out['family']:
        out['unicast_src_ip'] = ''  # the facts' IPv4 address; keepalived picks its own for IPv6
    out['name'] = kc.word(str(values.get('inventory_hostname', 'localhost')), 'inventory_hostname (router_id)')
    out['index'] = int(values.get('__director_vrrp_index') or 0)
    auth_file = values.get('__director_vrrp_auth_file') or ''
    if out['auth'] and not auth_file.startswith('/'):
        _fail('__director_vrrp_auth_file', 'the password needs the absolute path of its file, got %r' % (auth_file,))
    out['auth_file'] = kc.word(auth_file, 'director_keepalived_conf (the folder of the password file)') \
        if out['auth'] else ''
    out['conf'] = conf(out)
    return out


def conf(s):
    """keepalived.conf's global_defs and vrrp_instance, from vrrp_settings()."""
    lines = [
        'global_defs {',
        '    router_id %s' % s['name'],
        '    enable_script_security',
        '    script_user root',
    ]
    if s['lvs_sync']:
        lines.append('    lvs_sync_daemon %s inst %s id %d' % (s['interface'], s['instance'], s['lvs_sync_id']))
    # keepalived ignores nopreempt and preempt_delay on an instance starting as MASTER
    master = s['index'] == 0 and s['preempt'] and s['preempt_delay'] == 0
    lines += [
        '}',
        '',
        'vrrp_instance %s {' % s['instance'],
        '    state %s' % ('MASTER' if master else 'BACKUP'),
        '    interface %s' % s['interface'],
        '    virtual_router_id %d' % s['router_id'],
        '    priority %d' % s['priority'],
        '    version %d' % s['version'],
        '    advert_int %s' % s['advert_int'],
    ]
    if not s['preempt']:
        lines.append('    nopreempt')
    elif s['preempt_delay'] > 0:
        lines.append('    preempt_delay %d' % s['preempt_delay'])
    if s['auth']:
        lines.append('    # the authentication block, in a file only root reads (no diff shows it)')
        lines.append('    include %s' % s['auth_file'])
    if s['unicast']:
        if s['unicast_src_ip']:
            lines.append('    unicast_src_ip %s' % s['unicast_src_ip'])
        lines += ['    unicast_peer {'] + ['        %s' % peer for peer in s['unicast_peers']] + ['    }']
    lines += ['    virtual_ipaddress {'] + ['        %s' % line for line in s['addresses']] + ['    }']
    if s['excluded']:
        lines += ['    # VRRP adverts carry one address family; the other moves with the instance.',
                  '    virtual_ipaddress_excluded {'] + ['        %s' % line for line in s['excluded']] + ['    }']
    lines.append('}')
    return ''.join(line + '\n' for line in lines)
