# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Build and validate desired services and real servers from module params.

Every error names the offending field so a playbook author can fix it
before anything on the host is read or changed. Limits mirror ipvsadm 1.31
(parse_options/process_options) and the kernel.
"""

from __future__ import annotations

import re

from ansible.module_utils.common import validation

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_model as m
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_schema as s
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_syntax as sx

MAX_FWMARK = 2 ** 32 - 1


class FieldNames(dict):
    """Option name -> the name the caller uses for it; unlisted names are the same."""

    def __missing__(self, key):
        return key


SERVICE_FIELDS = FieldNames()
# ipvs_dest names the service address/port differently from the real server.
DEST_MODULE_SERVICE_FIELDS = FieldNames(address='virtual_address', port='virtual_port')


class ValidationError(ValueError):
    """A refused input value; str() reads "<field>: <message>"."""

    def __init__(self, field, message):
        self.field = field
        self.message = message
        super(ValidationError, self).__init__('%s: %s' % (field, message))


def _int_range(value, field, low, high):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, 'must be an integer, got %r' % (value,))
    if not low <= value <= high:
        raise ValidationError(field, 'must be between %d and %d, got %d' % (low, high, value))
    return value


def _ip(value, field):
    try:
        return sx.usable_ip(value)
    except sx.ModelError as exc:
        raise ValidationError(field, str(exc))


# ---------------------------------------------------------------- services

def build_service(params, fields=None):
    """Desired Service from params; unstated options stay None."""
    f = fields or SERVICE_FIELDS

    def get(name):
        return params.get(f[name])
    fwmark = _int_range(get('fwmark'), f['fwmark'], 1, MAX_FWMARK)
    family = get('family')
    if family is not None and family not in sx.FAMILIES:
        raise ValidationError(f['family'], 'must be one of %s' % ', '.join(sx.FAMILIES))
    if fwmark is not None:
        for name in ('protocol', 'address', 'port'):
            if get(name) is not None:
                raise ValidationError(f[name], 'cannot be combined with %s' % f['fwmark'])
        svc = m.StatedService(fwmark=fwmark, family=family or 'ipv4', port=0)
    else:
        if get('address') is None:
            raise ValidationError(f['address'], 'is required unless %s is set' % f['fwmark'])
        address, addr_family = _ip(get('address'), f['address'])
        if family is not None and family != addr_family:
            raise ValidationError(f['family'], '%s does not match the %s address %s'
                                  % (family, addr_family, address))
        if get('port') is None:
            raise ValidationError(f['port'], 'is required unless %s is set' % f['fwmark'])
        port = _int_range(get('port'), f['port'], 0, 65535)
        protocol = get('protocol') or 'tcp'
        if protocol not in sx.PROTOCOLS:
            raise ValidationError(f['protocol'], 'must be one of %s' % ', '.join(sx.PROTOCOLS))
        svc = m.StatedService(protocol=protocol, address=address, port=port,
                              family=addr_family)
    if f['scheduler'] not in params:
        return svc  # key-only callers (ipvs_dest)
    return _service_options(svc, params, f)


def _service_options(svc, params, f):
    def get(name):
        return params.get(f[name])
    scheduler = get('scheduler')
    if scheduler is not None and scheduler not in sx.SCHEDULERS:
        raise ValidationError(f['scheduler'], 'unknown scheduler %r; known: %s'
                              % (scheduler, ', '.join(sx.SCHEDULERS)))
    flags = get('scheduler_flags')
    bits = None
    if flags is not None:
        try:
            bits = sx.sched_flag_bits(flags)
        except ValueError as exc:
            raise ValidationError(f['scheduler_flags'], str(exc))
    persistent = get('persistent')
    timeout = _int_range(get('persistence_timeout'), f['persistence_timeout'],
                         1, sx.MAX_PERSISTENCE_TIMEOUT)
    mask = get('persistence_netmask')
    netmask = None
    if mask is not None:
        try:
            netmask = sx.prefix_from_netmask(mask, svc.family)
        except ValueError as exc:
            raise ValidationError(f['persistence_netmask'], str(exc))
    for name, value in (('persistence_timeout', timeout), ('persistence_netmask', netmask)):
        if value is not None:
            if persistent is False:
                raise ValidationError(f[name], 'requires %s to be true' % f['persistent'])
            persistent = True
    pe = get('persistence_engine')
    if pe is not None and not s.PE_PATTERN.fits(pe):
        raise ValidationError(f['persistence_engine'],
                              'must be a persistence engine name such as "sip"')
    svc = svc.replace(scheduler=scheduler, sched_flags=bits, persistent=persistent,
                      timeout=timeout, netmask=netmask, pe=pe, ops=get('one_packet'))
    if flags is not None:
        _check_flag_names(flags, scheduler, f)
    return svc


def _check_flag_names(names, scheduler, f):
    if isinstance(names, str):
        names = names.split(',')
    for name in names:
        owner = sx.SCHED_FLAG_OWNER.get(name.strip())
        if owner and scheduler is not None and owner != scheduler:
            raise ValidationError(f['scheduler_flags'], '%s only fits scheduler %s, not %s'
                                  % (name, owner, scheduler))


def validate_service(svc, fields=None, flag_names=None):
    """Checks needing the resolved service (scheduler/persistence known)."""
    f = fields or SERVICE_FIELDS
    if flag_names is not None:
        _check_flag_names(flag_names, svc.scheduler, f)
    if svc.scheduler in ('sh', 'mh') and 3 in (svc.sched_flags or ()):
        # print_sched_flags() cannot show it for sh/mh, so it is unverifiable.
        raise ValidationError(f['scheduler_flags'], 'flag-3 has no meaning for scheduler %s'
                              % svc.scheduler)
    if not svc.fwmark and svc.port == 0 and not svc.persistent:
        raise ValidationError(f['port'], 'port 0 is only allowed for persistent services '
                              '(set %s: true)' % f['persistent'])
    if svc.ops and not svc.fwmark and svc.protocol != 'udp':
        raise ValidationError(f['one_packet'], 'one-packet scheduling is only for UDP '
                              'or fwmark services')
    return svc


# ---------------------------------------------------------------- real servers

_L_THRESHOLD_MSG = ('must not exceed u_threshold (%d > %d); the kernel refuses a lower '
                    'threshold above the upper one, also when u_threshold is 0 (unlimited)')


def _field(prefix, name):
    return '%s%s' % (prefix, name)


def build_dest(item, prefix=''):
    """Desired Dest from a real-server dict; unstated options stay None."""
    if item.get('address') is None:
        raise ValidationError(_field(prefix, 'address'), 'is required')
    address = _ip(item['address'], _field(prefix, 'address'))[0]
    port = _int_range(item.get('port'), _field(prefix, 'port'), 0, 65535)
    try:
        forwarding = sx.normalise_forwarding(item.get('forwarding'))
    except ValueError as exc:
        raise ValidationError(_field(prefix, 'forwarding'), str(exc))
    numbers = dict((o.name, _int_range(item.get(o.name), _field(prefix, o.name), o.number.minimum, o.number.maximum))
                   for o in s.DEST_NUMBERS)
    tun_type = item.get('tun_type')
    if tun_type is not None and tun_type not in sx.TUN_TYPES:
        raise ValidationError(_field(prefix, 'tun_type'), 'must be one of %s' % ', '.join(sx.TUN_TYPES))
    tun_port = _int_range(item.get('tun_port'), _field(prefix, 'tun_port'), 1, 65535)
    chosen = [name for name in sx.TUN_FLAGS if item.get('tun_' + name)]
    if len(chosen) > 1:
        raise ValidationError(_field(prefix, 'tun_' + chosen[1]),
                              'is mutually exclusive with tun_%s' % chosen[0])
    return m.StatedDest(address=address, port=port, forwarding=forwarding, tun_type=tun_type,
                        tun_port=tun_port, tun_flags=chosen[0] if chosen else None, **numbers)


def validate_dest_request(svc, dest, prefix=''):
    """Checks on what the user stated, before merging with the host state."""
    def fld(name):
        return _field(prefix, name)
    if dest.forwarding in ('dr', 'tun') and not svc.fwmark and dest.port is not None \
            and dest.port != svc.port:
        raise ValidationError(fld('port'), 'forwarding %s cannot map ports: real server port %d '
                              'must equal the service port %d (port mapping needs nat)'
                              % (dest.forwarding, dest.port, svc.port))
    tun_opts = [n for n in ('tun_type', 'tun_port', 'tun_flags') if getattr(dest, n) is not None]
    if tun_opts and dest.forwarding is not None and dest.forwarding != 'tun':
        name = tun_opts[0] if tun_opts[0] != 'tun_flags' else 'tun_' + dest.tun_flags
        raise ValidationError(fld(name), 'tunnel options need forwarding tun, not %s'
                              % dest.forwarding)
    if dest.l_threshold and dest.u_threshold is not None and dest.l_threshold > dest.u_threshold:
        raise ValidationError(fld('l_threshold'), _L_THRESHOLD_MSG
                              % (dest.l_threshold, dest.u_threshold))
    if dest.tun_type in ('ipip', 'gre') and dest.tun_port is not None:
        raise ValidationError(fld('tun_port'), 'only fits tun_type gue')
    if dest.tun_type == 'ipip' and dest.tun_flags is not None:
        raise ValidationError(fld('tun_' + dest.tun_flags), 'does not fit tun_type ipip')
    if dest.tun_type == 'gre' and dest.tun_flags == 'remcsum':
        raise ValidationError(fld('tun_remcsum'), 'does not fit tun_type gre')
    if not svc.fwmark and dest.port == 0 and svc.port != 0:
        raise ValidationError(fld('port'), 'must be between 1 and 65535')
    return dest


def validate_dest(svc, dest, prefix='', stated=None):
    """Checks on the resolved dest (all fields known).

    stated is the user's Dest before resolution: its tunnel options are
    checked against the resolved forwarding method (which may come from
    the host when the user did not state it).
    """
    def fld(name):
        return _field(prefix, name)
    if stated is not None:
        validate_dest_request(svc, stated.replace(forwarding=dest.forwarding), prefix)
    validate_dest_request(svc, dest, prefix)
    if dest.family != svc.family and dest.forwarding != 'tun':
        raise ValidationError(fld('address'), '%s real server %s cannot serve an %s service '
                              'unless forwarding is tun' % (dest.family, dest.address, svc.family))
    if dest.l_threshold > dest.u_threshold:
        # The kernel (ip_vs_add_dest/ip_vs_edit_dest) refuses l_threshold >
        # u_threshold with ERANGE even when u_threshold is 0 ("unlimited").
        raise ValidationError(fld('l_threshold'), _L_THRESHOLD_MSG
                              % (dest.l_threshold, dest.u_threshold))
    if dest.forwarding == 'tun':
        if dest.tun_type == 'gue' and dest.tun_port is None:
            raise ValidationError(fld('tun_port'), 'is required when tun_type is gue')
        if dest.tun_type != 'gue' and dest.tun_port is not None:
            raise ValidationError(fld('tun_port'), 'only fits tun_type gue')
        if dest.tun_type == 'ipip' and dest.tun_flags is not None:
            raise ValidationError(fld('tun_' + dest.tun_flags), 'does not fit tun_type ipip')
        if dest.tun_type == 'gre' and dest.tun_flags == 'remcsum':
            raise ValidationError(fld('tun_remcsum'), 'does not fit tun_type gre')
    return dest


def check_unique_dests(dests, field='real_servers'):
    """dests: resolved Dest list in user order; refuse duplicates."""
    seen = {}
    for index, dest in enumerate(dests):
        if dest.key in seen:
            raise ValidationError('%s[%d]' % (field, index), 'duplicates %s[%d] (%s)'
                                  % (field, seen[dest.key], dest.key))
        seen[dest.key] = index


def check_drain(params):
    """drain_timeout and drain_poll, where a module takes them."""
    if params['drain_timeout'] < 0:
        raise ValidationError('drain_timeout', 'must be 0 or more seconds, got %s' % params['drain_timeout'])
    if params['drain_poll'] <= 0:
        raise ValidationError('drain_poll', 'must be above 0 seconds, got %s' % params['drain_poll'])


# ---------------------------------------------------------------- items of lists

_CHECK_TYPE = {'str': validation.check_type_str, 'bool': validation.check_type_bool,
               'dict': validation.check_type_dict}
# A number written as text (a template's result on older ansible-core) is taken
# only in its one plain spelling: "80 ", "0x50", "8_0", "+80" and "80.0" are refused.
_DECIMAL = re.compile(r'-?(0|[1-9][0-9]{0,18})')
# YAML 1.1's words for a boolean, as a template on older ansible-core renders them
_BOOLEANS = {'true': True, 'false': False, 'yes': True, 'no': False, 'on': True, 'off': False}
_FLOAT = re.compile(r'-?[0-9]{1,18}(\.[0-9]{1,9})?')


def _strict(kind, value):
    """The value in the option's type; no silent coercion of text into numbers or lists."""
    if kind == 'int':
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _DECIMAL.fullmatch(value):
            return int(value)
        raise TypeError('an integer')
    if kind == 'float':
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _FLOAT.fullmatch(value):
            return float(value)
        raise TypeError('a number')
    if kind == 'bool':
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _BOOLEANS:
            return _BOOLEANS[value.lower()]
        raise TypeError('true or false')
    if kind == 'list':
        if isinstance(value, (list, tuple)):
            return list(value)
        raise TypeError('a list')
    if kind == 'str' and (isinstance(value, bool) or not isinstance(value, (str, int))):
        raise TypeError('text')
    if kind == 'dict' and not isinstance(value, dict):
        raise TypeError('a dictionary')
    return _CHECK_TYPE[kind](value)


def typed(option, value, field):
    """The value in the option's type, or an error naming the field.

    Stricter than AnsibleModule's converters: text becomes a number only in its
    plain spelling and never a list; strings are matched in full against the
    option's declared grammar.
    """
    if value is None:
        return None
    try:
        value = _strict(option.type, value)
        if option.elements and option.items is None:  # items: typed_item checks each, naming its index
            value = [_strict(option.elements, item) for item in value]
    except (TypeError, ValueError) as exc:
        raise ValidationError(field, 'must be %s%s, got %s%s' % (
            exc, ' of ' + option.elements if option.elements else '', _shown(value),
            ' (text is not split into a list)' if option.type == 'list' and isinstance(value, str) else ''))
    for item in value if option.elements else [value]:
        if option.choices is not None and item not in option.choices:
            raise ValidationError(field, '%s is not one of %s' % (_shown(item), ', '.join(map(str, option.choices))))
        if option.pattern is not None and not option.pattern.fits(item):
            raise ValidationError(field, '%s is not %s' % (_shown(item), option.pattern.text.replace('C(', '(')))
    return value


def _shown(value):
    """A refused value as an error shows it: its repr, cut short (it may be huge or hostile)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + '...'


def typed_item(item, options, field, known=None):
    """One dict of a list: unknown keys refused, values typed, defaults filled.

    The modules leave the items of their lists to this, and so does the
    controller's check of the data model: one check, and errors that name
    the index (services[2].real_servers[0].weight), which AnsibleModule's
    own check of suboptions does not. known: keys allowed beyond options.
    """
    if not isinstance(item, dict):
        raise ValidationError(field, 'must be a dictionary, got %r' % (item,))
    declared = dict((o.name, o) for o in options)
    unknown = sorted(set(item) - set(declared) - set(known or ()))
    if unknown:
        raise ValidationError(field, 'unknown key(s) %s; known: %s'
                              % (', '.join(unknown), ', '.join(sorted(set(declared) | set(known or ())))))
    out = dict((name, None if option.default is None else option.default) for name, option in declared.items())
    for name, value in item.items():
        if name in declared:
            out[name] = typed(declared[name], value, '%s.%s' % (field, name))
            if value is None and declared[name].default is not None:
                out[name] = declared[name].default
        else:
            out[name] = value
    return out


def typed_list(items, options, field, nested=None):
    """Every item of a list option; nested maps a list key of the items to its own options."""
    out = []
    for index, item in enumerate(items or []):
        ifield = '%s[%d]' % (field, index)
        value = typed_item(item, options, ifield)
        for key, inner in (nested or {}).items():
            if value.get(key) is not None:
                value[key] = typed_list(value[key], inner, '%s.%s' % (ifield, key))
        out.append(value)
    return out
