# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The data model lvs_virtual_services: the table's options plus what only the roles read.

Declared here, beside the table's options it reuses, so that the roles'
argument specs, the checked_model filter's documentation and the
controller-side check (plugin_utils/data_model.py) come from one list.
"""

from __future__ import annotations

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_syntax as sx
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_schema as s
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_schema import Option

KEEPALIVED = 'Keepalived engine only. '


def _since(version, options):
    """Fields the model gained in a release after 0.1.0."""
    return [o.replace(version_added=version) for o in options]


HA_SERVICE = _since('0.2.0', [
    Option('health_check', 'dict', [
        KEEPALIVED + 'The health check of the service\'s real servers, over the director role\'s '
        'C(director_health_check), key by key.',
        'C(type) V(http), V(https), V(tcp) (default for TCP services), V(misc) or V(none) (default for UDP and '
        'SCTP); C(port), C(path), C(status_code), C(digest), C(virtualhost), C(script), C(timeout), '
        'C(delay_loop), C(connect_timeout), C(retry), C(delay_before_retry), C(warmup). See docs/ha.md.']),
    Option('sorry_server', 'dict', KEEPALIVED + 'C(address) (or C(host)), C(port), C(forwarding) of the server '
           'that takes the traffic when the quorum is lost.'),
    Option('quorum', 'int', KEEPALIVED + 'Minimum total weight of the live real servers.'),
    Option('hysteresis', 'int', KEEPALIVED + 'Weight tolerance around the quorum (a flap dampener).'),
    Option('inhibit_on_failure', 'bool', KEEPALIVED + 'Set a failed real server\'s weight to 0 instead of '
           'removing it (its established connections go on).'),
])
HA_REAL_SERVER = _since('0.2.0', [
    Option('health_check', 'dict', KEEPALIVED + 'This real server\'s health check, over its service\'s.'),
    Option('inhibit_on_failure', 'bool', KEEPALIVED + 'Overrides the service\'s O(inhibit_on_failure).'),
])

# The traffic a fwmark service takes: the director role marks it (nftables).
MARKING = _since('0.2.0', [
    Option('ports', 'list', [
        'Ports of the traffic a fwmark service takes: to its O(vips), over O(protocols). The director role '
        'writes the nftables rules that mark it (docs/fwmark.md).',
        'Without O(ports) and O(match) the collection writes no marking rule: the firewall marks the traffic.'],
        elements='int'),
    Option('protocols', 'list', 'Protocols of the traffic given by O(ports) (default V([tcp])).',
           elements='str', choices=list(sx.PROTOCOLS)),
    Option('match', 'str', 'An nftables match for the traffic of a fwmark service, instead of O(vips), O(ports) '
           'and O(protocols), for example V(ip daddr 198.51.100.0/28 tcp dport 8000-8099).'),
])
MARKING_NAMES = frozenset(['vips'] + [o.name for o in MARKING])

HOST = Option('host', 'str', 'An inventory host: its address is its C(lvs_address), else its C(ansible_host) '
              'when that is an IP address, else its default IPv4 address. Give O(host) or O(address).',
              pattern=s.Pattern(r'[A-Za-z0-9_][A-Za-z0-9_.:@-]{0,254}',
                                'an inventory host name (letters, digits and C(_.:@-), up to 255)'))
REAL_SERVER = [HOST, s.find(s.DEST_OPTIONS, 'address').replace(
    required=False, doc='A literal real server address (instead of O(host)).')] + \
    [o.replace(doc='Forwarding method of this real server (default: its service\'s).') if o.name == 'forwarding'
     else o for o in s.DEST_OPTIONS if o.name != 'address'] + HA_REAL_SERVER

SERVICE = [
    s.NAME.replace(doc='A label for the service, used in messages and by the real servers.'),
    s.STATE.replace(doc='V(absent) removes the service from the director.'),
] + s.SERVICE_KEY + [
    Option('vips', 'list', 'VIPs of a fwmark service, carried by the director and its DR or TUN real servers.',
           elements='str'),
] + MARKING + s.SERVICE_OPTIONS + [
    s.FORWARDING.replace(doc='Forwarding method of the real servers of this service that do not state their '
                         'own.', default=sx.DEFAULT_FORWARDING),
] + HA_SERVICE + [
    s.real_servers('The real servers, each an inventory host or a literal address.', REAL_SERVER)
    .replace(default=[]),
]

MODEL_DOC = [
    'The cluster\'s virtual services, written once (inventory group_vars) and read by the director and the '
    'real servers. See docs/data-model.md.',
    'The whole model is checked on the controller before any host changes; an error names the field, for '
    'example C(lvs_virtual_services[2].real_servers[0].port).',
]

HA_NAMES = frozenset(o.name for o in HA_SERVICE)
HA_REAL_SERVER_NAMES = frozenset(o.name for o in HA_REAL_SERVER)


def filter_input():
    """The model with every field, for the checked_model filter's documentation."""
    return Option('_input', 'list', MODEL_DOC + ['The fields are described in the C(lvs.cluster.director) role '
                                                 '(C(ansible-doc -t role lvs.cluster.director)).'],
                  elements='dict', required=True, items=SERVICE).docs()


def _line(option, path):
    facts = [option.type + (' of ' + option.elements if option.elements else '')]
    if option.choices:
        facts.append('one of ' + ', '.join('V(%s)' % c for c in option.choices))
    if option.default not in (None, []):
        facts.append('default V(%s)' % option.default)
    if option.pattern is not None:
        facts.append(option.pattern.text)
    if option.version_added:
        facts.append('added in %s' % option.version_added)
    return 'C(%s%s) (%s): %s' % (path, option.name, '; '.join(facts), ' '.join(option.doc).replace('O(', 'C('))


def role_option():
    """The roles' lvs_virtual_services: a list of dicts, its fields described.

    No suboptions on purpose: the role's own argument check runs before any
    task and names no list index; the role's first task checks the model
    with the same declarations and names lvs_virtual_services[N].field.
    """
    lines = list(MODEL_DOC)
    lines += [_line(o, '') for o in SERVICE if o.name != 'real_servers']
    lines += [_line(o, 'real_servers[].') for o in REAL_SERVER]
    return {'description': lines, 'type': 'list', 'elements': 'dict', 'default': []}
