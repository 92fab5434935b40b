# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fields of what the modules and filters return, declared once.

Several modules return the same structures (a service, a real server, a
drained real server). hacking/generate.py writes these declarations as the
`contains:` of each RETURN entry whose `contains:` names one of them, so that
each field list is written here only; tests/unit/test_generated.py checks
them against what the code returns. Only the generator imports this file.
"""

from __future__ import annotations

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_schema as s
from ansible_collections.lvs.cluster.plugins.module_utils import model_schema as ms


def field(type, description, sample=None, elements=None, contains=None, returned=None, version_added=None):
    """One RETURN entry."""
    entry = {'description': description, 'type': type}
    for name, value in (('elements', elements), ('returned', returned), ('sample', sample),
                        ('version_added', version_added), ('contains', contains)):
        if value is not None:
            entry[name] = value
    return entry


def _from_options(options, path=''):
    """The fields of a dict that holds options as stated (the data model, ipvs_table's services)."""
    out = {}
    for o in options:
        text = [t.replace('O(', 'C(' + path) for t in o.doc]
        out[o.name] = field(o.type, text, elements=o.elements, version_added=o.version_added,
                            returned='when stated')
    return out


# ---------------------------------------------------------------- the IPVS table (ipvs_model)

SERVICE = {  # Service.to_dict()
    'key': field('str', 'The service as ipvsadm names it: protocol switch and address, or C(-f) and the mark.',
                 sample='-t 198.51.100.100:80'),
    'protocol': field('str', 'V(tcp), V(udp) or V(sctp); null for a fwmark service.', sample='tcp'),
    'address': field('str', 'The virtual IP address; null for a fwmark service.', sample='198.51.100.100'),
    'port': field('int', 'The virtual port; null for a fwmark service.', sample=80),
    'fwmark': field('int', 'The firewall mark of a fwmark service, else null.'),
    'family': field('str', 'V(ipv4) or V(ipv6).', sample='ipv4'),
    'scheduler': field('str', 'The scheduling algorithm.', sample='wrr'),
    'scheduler_flags': field('list', 'The scheduler flags, by name.', elements='str', sample=[]),
    'persistent': field('bool', 'Whether the service is persistent.', sample=False),
    'persistence_timeout': field('int', 'Persistence timeout in seconds; null when not persistent.'),
    'persistence_netmask': field('str', 'Persistence granularity (a netmask, or a prefix length for IPv6); '
                                 'null when not persistent.'),
    'persistence_engine': field('str', 'The persistence engine, for example V(sip), or null.'),
    'one_packet': field('bool', 'One-packet scheduling.', sample=False),
}

REAL_SERVER = {  # Dest.to_dict()
    'key': field('str', 'The real server as ipvsadm names it: address and port.', sample='203.0.113.11:80'),
    'address': field('str', 'The real server address.', sample='203.0.113.11'),
    'port': field('int', 'The real server port.', sample=80),
    'forwarding': field('str', 'V(nat), V(dr) or V(tun).', sample='nat'),
    'weight': field('int', 'The weight (0 takes no new connection).', sample=3),
    'u_threshold': field('int', 'Upper connection threshold; V(0) is unlimited.', sample=0),
    'l_threshold': field('int', 'Lower connection threshold.', sample=0),
    'tun_type': field('str', 'V(ipip), V(gue) or V(gre) for V(tun) forwarding, else null.'),
    'tun_port': field('int', 'Destination UDP port of a GUE tunnel, else null.'),
    'tun_flags': field('str', 'V(nocsum), V(csum) or V(remcsum) for a GUE or GRE tunnel, else null.'),
}

TABLE_SERVICE = dict(SERVICE, real_servers=field(
    'list', 'Its real servers, sorted by address.', elements='dict', contains=REAL_SERVER))

DRAINED = {  # ipvs_apply.wait_drained()
    'service': field('str', 'The key of the real server\'s service.', sample='-t 198.51.100.100:80',
                     version_added='0.2.0'),
    'real_server': field('str', 'The key of the real server.', sample='203.0.113.13:80', version_added='0.2.0'),
    'waited': field('float', 'Seconds waited.', sample=2.1),
    'active_conns': field('int', 'Its active connections when the wait ended (cut by the deletion when not 0).',
                          sample=0),
    'inactive_conns': field('int', 'Its inactive connections when the wait ended.', sample=3),
    'vanished': field('bool', 'Whether the real server was gone before its deletion (removed by another tool).',
                      sample=False, version_added='0.2.0'),
    'timed_out': field('bool', 'Whether O(drain_timeout) ran out (it was then deleted anyway, with a warning).',
                       sample=False),
}

_STATS = {
    'conns': field('int', 'Connections scheduled.', sample=12),
    'inpkts': field('int', 'Incoming packets.', sample=345),
    'outpkts': field('int', 'Outgoing packets (none with DR or TUN, where replies bypass the director).',
                     sample=300),
    'inbytes': field('int', 'Incoming bytes.', sample=23456),
    'outbytes': field('int', 'Outgoing bytes.', sample=123456),
}
_RATES = {
    'cps': field('int', 'Connections per second.', sample=0),
    'inpps': field('int', 'Incoming packets per second.', sample=1),
    'outpps': field('int', 'Outgoing packets per second.', sample=1),
    'inbps': field('int', 'Incoming bytes per second.', sample=60),
    'outbps': field('int', 'Outgoing bytes per second.', sample=300),
}


def _counters(what):
    return {
        'stats': field('dict', 'Counters since %s was added (C(ipvsadm -L --stats --exact)).' % what,
                       returned='when stats is gathered', contains=_STATS),
        'rates': field('dict', 'Current rates (C(ipvsadm -L --rate --exact)).', returned='when rates is gathered',
                       contains=_RATES),
    }


INFO_SERVICE = dict(SERVICE, **_counters('the service'))
INFO_SERVICE['real_servers'] = field('list', 'Its real servers.', elements='dict', contains=dict(
    REAL_SERVER,
    active_conns=field('int', 'Active connections.', returned='when table is gathered', sample=2),
    inactive_conns=field('int', 'Inactive connections (for TCP, those not established).',
                         returned='when table is gathered', sample=5),
    **_counters('the real server')))

TIMEOUTS = {
    'tcp': field('int', 'TCP session timeout.', sample=900),
    'tcpfin': field('int', 'TCP timeout after a FIN.', sample=120),
    'udp': field('int', 'UDP timeout.', sample=300),
}

DAEMON = {  # ipvs_parse.parse_daemon()
    'state': field('str', 'V(master) or V(backup).', sample='master'),
    'mcast_interface': field('str', 'The interface the daemon sends or listens on.', sample='eth0'),
    'syncid': field('int', 'The sync ID.', sample=1),
    'sync_maxlen': field('int', 'Maximum length of a sync message.', returned='when the kernel reports it',
                         sample=1472),
    'mcast_group': field('str', 'The multicast group.', returned='when the kernel reports it'),
    'mcast_port': field('int', 'The multicast port.', returned='when the kernel reports it'),
    'mcast_ttl': field('int', 'The multicast TTL.', returned='when the kernel reports it'),
}

CONNECTION = {  # ipvs_parse.parse_connections()
    'protocol': field('str', 'The protocol, lower case.', sample='tcp'),
    'expires': field('int', 'Seconds until the entry expires.', sample=898),
    'state': field('str', 'The connection state.', sample='ESTABLISHED'),
    'source': field('str', 'Client address and port.', sample='192.0.2.20:51234'),
    'virtual': field('str', 'Virtual address and port.', sample='198.51.100.100:80'),
    'destination': field('str', 'Real server address and port.', sample='203.0.113.11:80'),
    'pe_name': field('str', 'Persistence engine name.', returned='for persistence engine entries'),
    'pe_data': field('str', 'Persistence engine data.', returned='for persistence engine entries'),
}

# ---------------------------------------------------------------- the data model (filters)

MODEL_SERVICE = dict(_from_options([o for o in ms.SERVICE if o.name != 'real_servers']), real_servers=field(
    'list', 'Its real servers.', elements='dict', contains=_from_options(ms.REAL_SERVER)))

DIRECTOR_SERVICE = dict(_from_options([o for o in s.TABLE_SERVICE if o.name != 'real_servers']),
                        real_servers=field('list', 'Its real servers, each with its address and forwarding '
                                           'method resolved.', elements='dict',
                                           contains=_from_options(s.DEST_OPTIONS)))

ASSIGNMENT = {  # plugin_utils.data_model.realserver_assignments()
    'service': field('str', 'The service\'s C(name), else its place in the model.', sample='web'),
    'forwarding': field('str', 'V(nat), V(dr) or V(tun).', sample='dr'),
    'family': field('str', 'The service\'s family, V(ipv4) or V(ipv6).', sample='ipv4', version_added='0.2.0'),
    'real_server_family': field('str', 'The real server\'s family (differs from the service\'s only in TUN).',
                                sample='ipv4', version_added='0.2.0'),
    'vips': field('list', 'The VIPs the real server carries (DR, TUN).', elements='str', sample=['198.51.100.101']),
    'protocol': field('str', 'The service\'s protocol.', sample='tcp'),
    'port': field('int', 'The port the real server serves.', sample=80),
}

_WHEN = 'when stated (in the service, the real server or C(director_health_check))'
CHECK = {  # plugin_utils.keepalived.health_check()
    'checker': field('str', 'keepalived\'s checker keyword.', sample='HTTP_GET'),
    'connect_port': field('int', 'The port checked.', returned='for TCP and HTTP checks', sample=80),
    'connect_timeout': field('int', 'Seconds to connect.', returned=_WHEN),
    'retry': field('int', 'Retries before the real server counts as down.', returned=_WHEN),
    'delay_before_retry': field('int', 'Seconds between retries.', returned=_WHEN),
    'delay_loop': field('int', 'Seconds between checks.', returned=_WHEN),
    'warmup': field('int', 'Longest random delay before the first check.', returned=_WHEN),
    'url': field('dict', 'What an HTTP check asks and expects.', returned='for HTTP and HTTPS checks', contains={
        'path': field('str', 'The URL path.', sample='/'),
        'status_code': field('str', 'The status codes that pass, separated by spaces.', sample='200'),
        'digest': field('str', 'MD5 digest of the body.', returned='when stated'),
        'virtualhost': field('str', 'The Host header.', returned='when stated')}),
    'misc_path': field('str', 'The script a misc check runs.', returned='for misc checks'),
    'misc_timeout': field('int', 'Seconds the script may take.', returned='for misc checks, when stated'),
}

KEEPALIVED_SERVICE = {  # plugin_utils.keepalived.keepalived_services(), over director_services()
    'method': field('str', 'keepalived\'s C(lb_kind): V(NAT), V(DR) or V(TUN).', sample='NAT'),
    'protocol': field('str', 'V(tcp), V(udp) or V(sctp) (default V(tcp)).', sample='tcp'),
    'family': field('str', 'V(ipv4) or V(ipv6).', sample='ipv4'),
    'persistence_timeout': field('int', 'Persistence timeout in seconds.', returned='when persistent'),
    'persistence_granularity': field('str', 'keepalived\'s C(persistence_granularity).',
                                     returned='when C(persistence_netmask) is stated'),
    'quorum': field('int', 'Minimum total weight of the live real servers.', returned='when stated'),
    'hysteresis': field('int', 'Weight tolerance around the quorum.', returned='when stated'),
    'sorry_server': field('dict', 'The server that takes the traffic when the quorum is lost.',
                          returned='when stated', contains={
                              'address': field('str', 'Its address.', sample='203.0.113.99'),
                              'method': field('str', 'V(NAT), V(DR) or V(TUN).', sample='NAT'),
                              'port': field('int', 'Its port.', returned='when it has one', sample=80)}),
    'real_servers': field('list', 'Its real servers, as in director_services, with keepalived\'s terms.',
                          elements='dict', contains={
                              'method': field('str', 'V(NAT), V(DR) or V(TUN), the tunnel options appended.',
                                              sample='TUN type gue port 6080'),
                              'port': field('int', 'Its port; null for a fwmark service.'),
                              'numbers': field('list', 'keepalived keyword and value of its weight and thresholds.',
                                               elements='list', sample=[['weight', 3]]),
                              'inhibit_on_failure': field('bool', 'Set its weight to 0 instead of removing it when '
                                                          'its check fails.', sample=False),
                              'check': field('dict', 'Its checker, or null for none.', contains=CHECK)}),
}
