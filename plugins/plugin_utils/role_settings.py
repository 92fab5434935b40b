# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The roles' own variables, checked strictly before any host changes.

Ansible's role argument validation converts silently ("a,b" becomes a list,
"30 " the number 30). This check reads the same argument specs
(roles/*/meta/argument_specs.yml: names, types, choices), refuses text where
a number or a list is meant, and matches every string in full against the
grammar its name is given in GRAMMAR, so that no role variable reaches a file,
a unit or a command unchecked.
"""

from __future__ import annotations

import os
import re

import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.lvs.cluster.plugins.module_utils import ip_helpers as iph
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_schema as s
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_syntax as sx
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_validate as v
from ansible_collections.lvs.cluster.plugins.module_utils import sysctl_helpers as sh
from ansible_collections.lvs.cluster.plugins.plugin_utils import data_model as dm
from ansible_collections.lvs.cluster.plugins.plugin_utils import keepalived as ka

ROLES = ('director', 'realserver_dr', 'realserver_tun', 'realserver_nat')
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

IFNAME = s.Pattern(r'(?=.{1,%d}$)%s' % (iph.IFNAMSIZ - 1, iph._IFNAME_RE.pattern),
                   'an interface name (up to 15 letters, digits, C(_) and C(-), dots between them)')
PATH = s.Pattern(r'(/(?!\.\.?(/|$))[A-Za-z0-9_.@+-]{1,255}){1,32}',
                 'an absolute path of letters, digits and C(_.@+-), without C(.) or C(..) parts')
PACKAGE = s.Pattern(r'[a-z0-9][a-z0-9+.-]{1,99}', 'a package name (Debian policy)')
GROUP = s.Pattern(r'[A-Za-z_][A-Za-z0-9_]{0,254}', 'an inventory group name')
WORD = s.Pattern(r'[A-Za-z0-9_.-]{1,64}', 'a word of up to 64 letters, digits and C(_.-)')
UNIT = s.Pattern(r'[A-Za-z0-9_.@-]{1,240}\.service', 'a systemd service unit name')
ROUTE = s.Pattern(r'default|[0-9A-Fa-f.:]{2,45}/[0-9]{1,3}', 'V(default) or an address/prefix')
# VRRPv2's simple password: keepalived keeps 8 characters; one keepalived.conf word
SECRET = s.Pattern(r'[\x25-\x5b\x5d-\x7a\x7c\x7e]{0,8}',
                   'up to 8 printable ASCII characters without space, quote, brace, backslash, C(#), C(!) or C($)')
EXTRA_ADDRESS = s.Pattern(r'[0-9A-Fa-f.:]{2,45}(/[0-9]{1,3})?( dev [A-Za-z0-9_.:-]{1,15})?'
                          r'( scope (global|host|link|site|nowhere))?( label [A-Za-z0-9_.:-]{1,15})?',
                          'C(ADDRESS[/LEN] [dev IFACE] [scope SCOPE] [label LABEL]), as keepalived reads it')
FREE = None  # verbatim by design (docs/security.md): the playbook's author writes it, as they write the playbook

# (variable name, full match) -> what its strings are: a Pattern, 'vip' (a usable address,
# /prefix allowed), 'address' (any address of the host), 'sysctls', 'health_check' or FREE.
GRAMMAR = [
    (r'.+_interface|realserver_tun_nic|realserver_dr_arp_interfaces', IFNAME),
    (r'.+_(sysctl_file|rules_file|keepalived_conf)', PATH),
    (r'.+_packages', PACKAGE),
    (r'director_vrrp_group', GROUP),
    (r'director_vrrp_instance', WORD),
    (r'director_vrrp_auth_pass', SECRET),
    (r'director_vrrp_extra_addresses', EXTRA_ADDRESS),
    (r'director_vips|realserver_(dr|tun)_vips|director_vrrp_unicast_peers|realserver_nat_gateway', 'vip'),
    (r'lvs_address|realserver_(dr|tun)_addresses', 'address'),
    (r'realserver_nat_routes', ROUTE),
    (r'realserver_nat_unit', UNIT),
    (r'director_sysctls', 'sysctls'),
    (r'director_health_check', 'health_check'),
    (r'director_keepalived_extra_config', FREE),
    (r'.+_interface_type|director_purge|director_ipvs_backend|director_engine', 'choices'),
]
SECRETS = frozenset(['director_vrrp_auth_pass'])
# (variable name, full match) -> (lowest, highest) of an int
RANGES = [
    (r'.+_lock_timeout', (0, 86400)),
    (r'.+_lock_lease', (1, 604800)),
    (r'director_drain_timeout', (0, 86400)),
]

_SPECS = {}


def specs():
    """{variable: its argument spec} of every role, read once."""
    if not _SPECS:
        for role in ROLES:
            with open(os.path.join(_ROOT, 'roles', role, 'meta', 'argument_specs.yml')) as handle:
                options = yaml.safe_load(handle)['argument_specs']['main']['options']
            for name, spec in options.items():
                if name != 'lvs_virtual_services':
                    _SPECS[name] = spec
    return _SPECS


def grammar(name):
    for pattern, what in GRAMMAR:
        if re.fullmatch(pattern, name):
            return what
    return FREE if specs()[name].get('type', 'str') not in ('str', 'path', 'list') else 'typed'


def _shown(name, value):
    return '(hidden)' if name in SECRETS else v._shown(value)


def _fail(name, message):
    raise AnsibleFilterError('%s: %s' % (name, message))


def _string(name, field, what, value):
    if what is FREE or what in ('choices', 'typed'):
        return value
    if what == 'address':
        try:
            return sx.canonical_ip(value)[0]
        except sx.ModelError as exc:
            _fail(field, str(exc))
    if not what.fits(value):
        _fail(field, '%s is not %s' % (_shown(name, value), what.text.replace('C(', '(').replace('V(', '(')))
    return value


def _option(name, spec):
    kind = 'str' if spec.get('type', 'str') == 'path' else spec.get('type', 'str')
    return s.Option(name, kind, '', choices=spec.get('choices'), elements=spec.get('elements'))


def check(name, value):
    """One role variable: typed strictly, its strings matched; the value canonical."""
    spec = specs()[name]
    if name == 'lvs_address' and isinstance(value, str):
        value = [value]  # one address, as data_model.addresses_of reads it
    try:
        value = v.typed(_option(name, spec), value, name)
    except v.ValidationError as exc:
        _fail(name, exc.message if name not in SECRETS else 'must be text')
    for pattern, (low, high) in RANGES:
        if re.fullmatch(pattern, name) and value is not None and not low <= value <= high:
            _fail(name, 'must be %d to %d, got %d' % (low, high, value))
    what = grammar(name)
    if what == 'sysctls':
        out = {}
        for key, item in value.items():
            try:
                sh.check_key(key, '%s[%s]' % (name, dm.cut(key)))
                out[key] = sh.check_value(key, item, name)
            except sh.SysctlError as exc:
                _fail(exc.field, str(exc)[len(exc.field) + 2:])
        return out
    if what == 'health_check':
        ka.health_check([(name, value)], 'tcp', 1, name)
        ka._check_texts(value, name)
        return value
    if value is None:
        return None
    if what == 'vip':
        return dm.canonical_vips(value, name)
    if spec.get('type') == 'list':
        return [_string(name, '%s[%d]' % (name, index), what, item) for index, item in enumerate(value)]
    if isinstance(value, str):
        return _string(name, name, what, value)
    return value


def check_settings(values):
    """The role variables among values (a dict, or a host's hostvars), each checked; a dict of the checked ones.

    Values that cannot be worked out yet (they need facts) are left to the role,
    which checks them again with its facts before it changes anything.
    """
    out = {}
    for name in sorted(specs()):
        if name not in values:
            continue
        try:
            value = values[name]
        except Exception:  # pylint: disable=broad-except
            continue  # undefined until facts are gathered: the role checks it
        if type(value).__name__ in ('Undefined', 'StrictUndefined', 'AnsibleUndefined', 'Marker'):
            continue
        out[name] = check(name, dm.plain(value, name))
    return out
