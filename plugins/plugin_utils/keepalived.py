# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The data model for the director's keepalived engine.

director_services gives identity, scheduler, persistence and real servers (the
same model the static engine applies); this adds what only keepalived does:
health checks (role default, then service, then real server, key by key),
sorry server, quorum, inhibit_on_failure. Every value is checked here, so a bad
one fails with the field named instead of reaching keepalived.conf.
"""

from __future__ import annotations

import ipaddress
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_schema as s
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_syntax as sx
from ansible_collections.lvs.cluster.plugins.module_utils import model_schema as ms
from ansible_collections.lvs.cluster.plugins.plugin_utils import data_model as dm
from ansible_collections.lvs.cluster.plugins.plugin_utils import keepalived_conf as kc

CHECKERS = {'http': 'HTTP_GET', 'https': 'SSL_GET', 'tcp': 'TCP_CHECK', 'misc': 'MISC_CHECK', 'none': None}
TIMERS = ('delay_loop', 'connect_timeout', 'delay_before_retry', 'warmup')
CHECK_KEYS = frozenset(('type', 'port', 'path', 'status_code', 'digest', 'virtualhost', 'script',
                        'timeout', 'retry') + TIMERS)
SORRY_KEYS = frozenset(('host', 'address', 'port', 'forwarding'))
METHODS = {'nat': 'NAT', 'dr': 'DR', 'tun': 'TUN'}
QUORUM_MAX = 65535 * 1000  # weights of a thousand real servers
_DIGEST = re.compile(r'[0-9a-fA-F]{32}')


def _fail(field, message):
    raise AnsibleFilterError('%s: %s' % (field, message))


def _int(value, field, low, high):
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value), 10)
        except ValueError:
            _fail(field, 'must be an integer, got %r' % (value,))
    if not low <= value <= high:
        _fail(field, 'must be %d to %d, got %d' % (low, high, value))
    return value


def _timer(value, field):
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if isinstance(value, bool) or not 0 < number <= 86400:
        _fail(field, 'must be a number of seconds above 0 (fractions allowed), got %r' % (value,))
    return int(number) if number == int(number) else number


def _bool(value, field):
    if not isinstance(value, bool):
        _fail(field, 'must be true or false, got %r' % (value,))
    return value


def _token(value, field, what):
    """One keepalived.conf word (keepalived_conf's grammar), named as the user wrote it."""
    try:
        return kc.word(value, field)
    except AnsibleFilterError:
        _fail(field, 'must be %s without spaces: one word of printable ASCII without quotes, braces, backslashes, '
              '#, ! or $, got %r' % (what, value))


def _status_codes(value, field):
    codes = value if isinstance(value, list) else str(value).split()
    if not codes:
        _fail(field, 'must list at least one status code')
    for code in codes:
        if not kc.STATUS.fullmatch(str(code)):
            _fail(field, '%r is not a status code (200) or range (200-299)' % (code,))
    return ' '.join(str(code) for code in codes)


def health_check(layers, protocol, port, field):
    """One real server's checker: the layers (name, dict) merged key by key, checked.

    None when the type is none (no checker: keepalived keeps the server in).
    """
    merged, where = {}, {}
    for lfield, layer in layers:
        if layer is None:
            continue
        if not isinstance(layer, dict):
            _fail(lfield, 'must be a dictionary, got %r' % (layer,))
        unknown = sorted(set(layer) - CHECK_KEYS)
        if unknown:
            _fail(lfield, 'unknown key(s) %s; known: %s' % (', '.join(unknown), ', '.join(sorted(CHECK_KEYS))))
        for key, value in layer.items():
            merged[key], where[key] = value, '%s.%s' % (lfield, key)
    kind = str(merged.get('type', 'tcp' if protocol == 'tcp' else 'none')).lower()
    if kind not in CHECKERS:
        _fail(where.get('type', field + '.type'), '%r is not one of %s' % (merged['type'], ', '.join(CHECKERS)))
    if CHECKERS[kind] is None:
        return None
    if kind in ('http', 'https', 'tcp') and protocol != 'tcp':
        _fail(where.get('type', field + '.type'),
              'a %s check connects over TCP; a %s service needs type misc or none' % (kind, protocol))
    check = {'checker': CHECKERS[kind]}
    for key in TIMERS:
        if key in merged and not (kind == 'misc' and key == 'connect_timeout'):
            check[key] = _timer(merged[key], where[key])
    if 'retry' in merged:
        check['retry'] = _int(merged['retry'], where['retry'], 0, 100)
    if kind == 'misc':
        check['misc_path'] = _script(merged.get('script'), where.get('script', field + '.script'))
        if 'timeout' in merged:
            check['misc_timeout'] = _int(merged['timeout'], where['timeout'], 1, 3600)
        return check
    check_port = merged.get('port', port)
    if not check_port:
        _fail(where.get('port', field + '.port'),
              'no port to check: a fwmark service states its real servers\' port or the check\'s port')
    check['connect_port'] = _int(check_port, where.get('port', field + '.port'), 1, 65535)
    if kind in ('http', 'https'):
        path = merged.get('path', '/')
        if not isinstance(path, str) or not path.startswith('/'):
            _fail(where.get('path', field + '.path'), 'must be an absolute URL path, got %r' % (path,))
        _token(path, where.get('path', field + '.path'), 'a URL path')
        codes = _status_codes(merged.get('status_code', 200), where.get('status_code', field + '.status_code'))
        url = {'path': path, 'status_code': codes}
        if merged.get('digest'):
            if not _DIGEST.fullmatch(str(merged['digest'])):
                _fail(where['digest'], 'must be the 32 hex digits of an MD5 digest (genhash), got %r'
                      % (merged['digest'],))
            url['digest'] = str(merged['digest']).lower()
        if merged.get('virtualhost'):
            url['virtualhost'] = _token(merged['virtualhost'], where['virtualhost'], 'a host name')
        check['url'] = url
    return check


def _tunnel(dest):
    """lvs_method's TUN arguments: type ipip|gue port N|gre, then a checksum option."""
    words = []
    if dest.get('tun_type'):
        words += ['type', dest['tun_type']]
        if dest['tun_type'] == 'gue' and dest.get('tun_port'):
            words += ['port', str(dest['tun_port'])]
    for option in ('nocsum', 'csum', 'remcsum'):
        if dest.get('tun_' + option):
            words.append(option)
    return ' '.join(words)


def _granularity(netmask, family, field):
    """keepalived wants a dotted netmask for IPv4; ipvsadm also takes a prefix length."""
    text = str(netmask)
    if family == 'ipv4' and text.isdigit():
        try:
            return str(ipaddress.ip_network('0.0.0.0/%s' % text).netmask)
        except ValueError:
            _fail(field, 'IPv4 prefix length must be 0 to 32, got %r' % (netmask,))
    return text


_family = dm.service_family


def _sorry_keys(value, field):
    if not isinstance(value, dict):
        _fail(field, 'must be a dictionary with address (or host) and port, got %r' % (value,))
    unknown = sorted(set(value) - SORRY_KEYS)
    if unknown:
        _fail(field, 'unknown key(s) %s; known: %s' % (', '.join(unknown), ', '.join(sorted(SORRY_KEYS))))
    if ('host' in value) == ('address' in value):
        _fail(field, 'give exactly one of host and address')


def _sorry_server(value, svc, hostvars, field):
    _sorry_keys(value, field)
    address = (dm.host_address(hostvars, value['host'], field + '.host', _family(svc)) if 'host' in value
               else value['address'])
    out = {'address': _address(address, field + '.address'), 'method': METHODS[dm.forwarding_of(svc, value, field)]}
    port = value.get('port', svc.get('port'))
    if port:
        out['port'] = _int(port, field + '.port', 1, 65535)
    return out


def _address(value, field):
    try:
        return sx.usable_ip(value if isinstance(value, str) else repr(value))[0]
    except sx.ModelError as exc:
        _fail(field, '%r is not an IP address of a server (%s)' % (value, exc))


def _check_texts(layer, field):
    """A health check's texts, whatever the type they would serve under (the role's defaults may change it)."""
    if not isinstance(layer, dict):
        return
    for key in ('path', 'virtualhost'):
        if key in layer:
            _token(layer[key], '%s.%s' % (field, key), 'a URL path' if key == 'path' else 'a host name')
    if 'script' in layer:
        _script(layer['script'], field + '.script')


def _script(value, field):
    """A command line keepalived.conf holds quoted (keepalived_conf's grammar), named as the user wrote it."""
    try:
        kc.quoted(value, field)
    except AnsibleFilterError:
        _fail(field, 'a misc check needs the script to run: a command line of printable ASCII without double '
              'quotes, backslashes or $, single quotes in pairs, got %r' % (value,))
    return value


def check_keys(svc, rss, sfield):
    """The keepalived-only keys of one typed service, for the gate before any host changes.

    Checked without the role's director_health_check (the role checks the
    merge again) and without facts: a sorry server given by host is looked up
    by the role. rss: [(typed real server, its field)].
    """
    for key, low in (('quorum', 1), ('hysteresis', 0)):
        if svc.get(key) is not None:
            _int(svc[key], '%s.%s' % (sfield, key), low, QUORUM_MAX)
    sorry = svc.get('sorry_server')
    if sorry is not None:
        field = sfield + '.sorry_server'
        _sorry_keys(sorry, field)
        if 'address' in sorry:
            _address(sorry['address'], field + '.address')
        elif not isinstance(sorry['host'], str) or not ms.HOST.pattern.fits(sorry['host']):
            _fail(field + '.host', 'must be an inventory host name, got %r' % (sorry['host'],))
        dm.forwarding_of(svc, sorry, field)
        if sorry.get('port') is not None:
            _int(sorry['port'], field + '.port', 1, 65535)
    protocol = svc.get('protocol') or 'tcp'
    for layer, lfield in [(svc.get('health_check'), sfield + '.health_check')] + \
            [(rs.get('health_check'), rfield + '.health_check') for rs, rfield in rss]:
        _check_texts(layer, lfield)
    for rs, rfield in rss:
        # a fwmark service's port may come from director_health_check: the role checks that one
        port = rs.get('port', svc.get('port')) or 1
        health_check([(sfield + '.health_check', svc.get('health_check')),
                      (rfield + '.health_check', rs.get('health_check'))], protocol, port, rfield + '.health_check')


def keepalived_services(model, hostvars, defaults=None, field='lvs_virtual_services'):
    """director_services plus the keepalived-only keys, in keepalived's terms."""
    resolved = dm.director_services(model, hostvars, field)
    out = []
    for (index, svc, rss), item in zip(dm.services(model, field), resolved):
        if item.get('state', 'present') == 'absent':
            continue
        sfield = '%s[%d]' % (field, index)
        protocol = str(item.get('protocol') or 'tcp').lower()
        family = _family(item)
        vs = dict(item, protocol=protocol, family=family, method=METHODS[item['forwarding']])
        if item.get('persistent') or item.get('persistence_timeout') or item.get('persistence_netmask'):
            vs['persistence_timeout'] = item.get('persistence_timeout') or 300
        if item.get('persistence_netmask') not in (None, ''):
            vs['persistence_granularity'] = _granularity(item['persistence_netmask'], family,
                                                         sfield + '.persistence_netmask')
        for key, low in (('quorum', 1), ('hysteresis', 0)):
            if svc.get(key) is not None:
                vs[key] = _int(svc[key], '%s.%s' % (sfield, key), low, QUORUM_MAX)
        if svc.get('sorry_server') is not None:
            vs['sorry_server'] = _sorry_server(svc['sorry_server'], svc, hostvars, sfield + '.sorry_server')
        inhibit = _bool(svc.get('inhibit_on_failure', False), sfield + '.inhibit_on_failure')
        real_servers = []
        for (rindex, rs, rfield), dest in zip(rss, item['real_servers']):
            # keepalived's health check needs the port a fwmark real server states (it has no other)
            port = dest.get('port', item.get('port') if item.get('fwmark') is None else None)
            method = METHODS[dest['forwarding']]
            tunnel = _tunnel(dest) if method == 'TUN' else ''
            # keepalived drops (with a warning) the port of a fwmark service's real server
            real_servers.append(dict(
                dest, port=None if item.get('fwmark') is not None else port,
                method=method + (' ' + tunnel if tunnel else ''),
                numbers=[(o.number.keepalived, dest.get(o.name, o.number.initial)) for o in s.DEST_NUMBERS
                         if o.number.keepalived and (o.number.always or dest.get(o.name))],
                inhibit_on_failure=_bool(rs.get('inhibit_on_failure', inhibit), rfield + '.inhibit_on_failure'),
                check=health_check([('director_health_check', defaults),
                                    (sfield + '.health_check', svc.get('health_check')),
                                    (rfield + '.health_check', rs.get('health_check'))],
                                   protocol, port, rfield + '.health_check')))
        vs['real_servers'] = real_servers
        out.append(vs)
    return out
