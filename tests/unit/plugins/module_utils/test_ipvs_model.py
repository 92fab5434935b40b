# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_diff as df
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_model as m
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_parse as ps
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_syntax as sx
from ansible_collections.lvs.cluster.tests.unit.ipvs_fake import fixture_text


@pytest.fixture
def table():
    t = ps.parse_save(fixture_text('ipvsadm_save_full.txt'))
    return ps.merge_thresholds(t, ps.parse_listing(fixture_text('ipvsadm_list_thresholds.txt')))


# ------------------------------------------------------------ -S parsing

def test_save_round_trips_byte_for_byte():
    text = fixture_text('ipvsadm_save_full.txt')
    rendered = ''.join(line + '\n' for line in df.render_table(ps.parse_save(text)))
    assert rendered == text


def test_save_real_edge_cases():
    # Captured from ipvsadm 1.31 on kernel 6.1 (the lab): sh/mh with flag-3
    # only print "-b " and nothing else; bare -p reads back as 360; an IPv6
    # /128 persistence and an IPv4 255.255.255.255 one print no -M; tunnels
    # mix families; fwmark real servers read back with port 0.
    text = fixture_text('ipvsadm_save_edge.txt')
    table = ps.parse_save(text)
    assert table.service('-t 10.0.0.7:80').sched_flags == frozenset([3])
    assert table.service('-t 10.0.0.8:80').sched_flags == frozenset([1])
    assert table.service('-t 10.0.0.9:80').timeout == 360
    assert table.service('-t 10.0.0.10:80').netmask == 0
    assert table.service('-t [2001:db8::3]:80').netmask == 128
    assert list(table.dests('-f 3 -6')) == ['10.3.0.1:0', '[2001:db8::7]:0', '[2001:db8::8]:8080']
    assert table.dest('-t 10.0.0.11:80', '[2001:db8::5]:80').tun_type == 'ipip'
    ps.merge_thresholds(table, ps.parse_listing(fixture_text('ipvsadm_list_thresholds_edge.txt')))
    assert table.dest('-f 3 -6', '[2001:db8::8]:8080').u_threshold == 10
    rendered = df.render_table(table)
    assert rendered[0] == '-A -t 10.0.0.7:80 -s mh'
    assert rendered[1:] == text.splitlines()[1:-1] + ['-a -f 3 -6 -r [2001:db8::8]:8080 -m -w 1 -x 10 -y 10']


def test_render_sorts_dests_like_ipvsadm():
    table = m.Table()
    svc = m.Service(protocol='tcp', address='10.0.0.1', port=80, family='ipv4', scheduler='rr',
                    sched_flags=frozenset(), persistent=False, ops=False)
    table.add_service(svc)
    for address in ('2001:db8::1', '10.0.0.12', '10.0.0.9'):
        table.add_dest(svc.key, m.Dest(address=address, port=80, forwarding='tun', weight=1,
                                       u_threshold=0, l_threshold=0, tun_type='ipip'))
    assert [d.address for d in df.sorted_dests(table, svc.key)] == ['10.0.0.9', '10.0.0.12', '2001:db8::1']
    assert [line.split()[4] for line in df.render_table(table)[1:]] == [
        '10.0.0.9:80', '10.0.0.12:80', '[2001:db8::1]:80']


def test_render_lists_ipv4_before_ipv6_whatever_the_numbers():
    # ::2 is a smaller number than any IPv4 address but comes after them, as ipvsadm lists it
    table = m.Table()
    service = svc(scheduler='rr').resolve()
    table.add_service(service)
    for address in ('::2', '10.0.0.12'):
        table.add_dest(service.key, m.Dest(address=address, forwarding='tun').resolve(service))
    assert [d.address for d in df.sorted_dests(table, service.key)] == ['10.0.0.12', '::2']


def test_save_empty():
    assert len(ps.parse_save(fixture_text('ipvsadm_save_empty.txt'))) == 0


def test_save_service_keys(table):
    assert table.keys() == [
        '-t 10.0.0.1:80', '-t 10.0.0.1:443', '-u 10.0.0.2:53',
        '--sctp-service 10.0.0.3:3868', '-t [2001:db8::1]:80', '-f 1', '-f 2 -6']


def test_save_plain_service(table):
    svc = table.service('-t 10.0.0.1:80')
    assert svc == m.Service(protocol='tcp', address='10.0.0.1', port=80, family='ipv4',
                            scheduler='wrr', sched_flags=frozenset(), persistent=False,
                            ops=False)


def test_save_persistent_service_with_mask_and_flags(table):
    svc = table.service('-t 10.0.0.1:443')
    assert svc.persistent and svc.timeout == 600
    assert svc.netmask == 24
    assert svc.sched_flags == frozenset([1, 2])
    assert svc.to_dict()['scheduler_flags'] == ['sh-fallback', 'sh-port']
    assert svc.to_dict()['persistence_netmask'] == '255.255.255.0'


def test_save_ipv6_service_pe_and_prefix(table):
    svc = table.service('-t [2001:db8::1]:80')
    assert svc.family == 'ipv6' and svc.netmask == 64 and svc.pe == 'sip'
    assert svc.to_dict()['scheduler_flags'] == ['mh-port']


def test_save_ops_and_sctp(table):
    assert table.service('-u 10.0.0.2:53').ops is True
    assert table.service('--sctp-service 10.0.0.3:3868').protocol == 'sctp'


def test_save_fwmark_services(table):
    v4 = table.service('-f 1')
    v6 = table.service('-f 2 -6')
    assert (v4.fwmark, v4.family, v4.timeout, v4.netmask) == (1, 'ipv4', 360, 32)
    assert (v6.fwmark, v6.family, v6.protocol) == (2, 'ipv6', None)
    assert list(table.dests('-f 2 -6')) == ['[2001:db8::20]:0']


def test_save_dests(table):
    dests = table.dests('-t 10.0.0.1:80')
    assert dests['192.168.1.10:8080'] == m.Dest(
        address='192.168.1.10', port=8080, forwarding='nat', weight=3,
        u_threshold=100, l_threshold=50)
    assert table.dest('-t 10.0.0.1:443', '10.0.0.22:443').weight == 0
    assert table.dest('-t 10.0.0.1:443', '10.0.0.22:443').forwarding == 'dr'


def test_save_tunnels(table):
    gue = table.dest('-t [2001:db8::1]:80', '192.168.2.10:80')
    assert (gue.forwarding, gue.tun_type, gue.tun_port, gue.tun_flags) == ('tun', 'gue', 6080, 'csum')
    ipip = table.dest('-f 1', '192.168.1.30:0')
    assert (ipip.tun_type, ipip.tun_port, ipip.tun_flags) == ('ipip', None, None)
    gre = table.dest('-f 1', '192.168.1.31:0')
    assert (gre.tun_type, gre.tun_flags, gre.u_threshold, gre.l_threshold) == ('gre', 'csum', 20, 10)


@pytest.mark.parametrize('line', [
    '-X -t 10.0.0.1:80', '-A -s wlc', '-A -t 10.0.0.1 -s wlc', '-A -t 10.0.0.1:http -s rr',
    '-a -t 10.0.0.1:80 -m', '-A -t 10.0.0.1:80 -s', '-A -t 10.0.0.1:80 --bogus',
    '-A -t [2001:db8::1:80 -s rr', '-A -t host.example:80 -s rr',
])
def test_parse_rule_rejects(line):
    with pytest.raises(sx.ModelError):
        ps.parse_rule(line)


def test_parse_save_rejects_orphan_dest():
    with pytest.raises(sx.ModelError):
        ps.parse_save('-a -t 10.0.0.1:80 -r 10.1.1.1:80 -g -w 1\n')


def test_parse_save_rejects_edit_lines():
    with pytest.raises(sx.ModelError):
        ps.parse_save('-E -t 10.0.0.1:80 -s rr\n')


def test_parse_rule_long_options_and_defaults():
    cmd, svc, dest = ps.parse_rule('-a --tcp-service 10.0.0.1:80 --real-server 10.1.1.1:80')
    assert cmd == '-a' and svc.key == '-t 10.0.0.1:80'
    assert (dest.forwarding, dest.weight) == ('dr', 1)  # ipvsadm defaults


def test_parse_rule_gue_default_flags():
    _c, _s, dest = ps.parse_rule('-a -f 1 -r 10.1.1.1:0 -i -w 1 --tun-type gue --tun-port 6080')
    assert dest.tun_flags == 'nocsum'


# ------------------------------------------------------------ -L parsing

def test_list_default():
    listing = ps.parse_listing(fixture_text('ipvsadm_list_full.txt'))
    assert listing['version'] == '1.2.1' and listing['size'] == 4096
    assert listing['format'] == 'default'
    svc = listing['services']['-t 10.0.0.1:443']
    assert svc['info']['scheduler'] == 'sh'
    assert svc['info']['scheduler_flags'] == ['sh-fallback', 'sh-port']
    assert svc['info']['persistence_timeout'] == 600
    assert svc['info']['persistence_netmask'] == '255.255.255.0'
    row = svc['dests']['10.0.0.21:443']
    assert row['forwarding'] == 'dr' and row['active_conns'] == 7 and row['inactive_conns'] == 3
    v6 = listing['services']['-t [2001:db8::1]:80']['info']
    assert v6['persistence_engine'] == 'sip' and v6['persistence_netmask'] == '64'
    assert listing['services']['-u 10.0.0.2:53']['info']['one_packet'] is True
    assert '-f 2 -6' in listing['services']


def test_list_empty():
    listing = ps.parse_listing(fixture_text('ipvsadm_list_empty.txt'))
    assert listing['services'] == {} and listing['version'] == '1.2.1'


def test_list_single_service_has_no_version():
    listing = ps.parse_listing(fixture_text('ipvsadm_list_exact_service.txt'))
    assert listing['version'] is None
    assert list(listing['services']) == ['-t 10.0.0.1:80']
    assert listing['services']['-t 10.0.0.1:80']['dests']['192.168.1.10:8080']['weight'] == 3


def test_list_stats_exact():
    listing = ps.parse_listing(fixture_text('ipvsadm_list_stats_exact.txt'))
    assert listing['format'] == 'stats'
    info = listing['services']['-t 10.0.0.1:443']['info']
    assert info == {'conns': 123456789012, 'inpkts': 4000000000, 'outpkts': 3999999999,
                    'inbytes': 987654321098765, 'outbytes': 12345678901234567}
    row = listing['services']['-t 10.0.0.1:80']['dests']['192.168.1.10:8080']
    assert row['conns'] == 6 and row['outbytes'] == 60000


def test_list_stats_suffixes_without_exact():
    listing = ps.parse_listing(fixture_text('ipvsadm_list_stats.txt'))
    info = listing['services']['-t 10.0.0.1:443']['info']
    assert info['conns'] == 123 * 10 ** 9
    assert info['inpkts'] == 4000 * 10 ** 6
    assert info['inbytes'] == 987 * 10 ** 12
    assert info['outbytes'] == 12345 * 10 ** 12


def test_list_stats_k_is_a_thousand_as_print_largenum_divides():
    listing = ps.parse_listing('Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n'
                               '  -> RemoteAddress:Port\n'
                               'TCP  10.0.0.1:80                      123K     999K        0        0        0\n')
    info = listing['services']['-t 10.0.0.1:80']['info']
    assert (info['conns'], info['inpkts']) == (123000, 999000)


def test_list_rate():
    listing = ps.parse_listing(fixture_text('ipvsadm_list_rate_exact.txt'))
    assert listing['format'] == 'rate'
    assert listing['services']['-t 10.0.0.1:443']['info']['outbps'] == 150000000
    assert listing['services']['-t 10.0.0.1:443']['dests']['10.0.0.21:443']['cps'] == 5


def test_list_thresholds():
    listing = ps.parse_listing(fixture_text('ipvsadm_list_thresholds.txt'))
    row = listing['services']['-t 10.0.0.1:80']['dests']['192.168.1.10:8080']
    assert row == {'u_threshold': 100, 'l_threshold': 50, 'active_conns': 2,
                   'inactive_conns': 5, 'address': '192.168.1.10', 'port': 8080}


def test_list_persistent_conn():
    listing = ps.parse_listing(fixture_text('ipvsadm_list_persistent_conn.txt'))
    assert listing['format'] == 'persistent_conn'
    assert listing['services']['-t 10.0.0.1:443']['dests']['10.0.0.21:443']['persistent_conns'] == 2


def test_list_tun_info():
    listing = ps.parse_listing(fixture_text('ipvsadm_list_tun_info.txt'))
    dests = listing['services']['-f 1']['dests']
    assert dests['192.168.1.30:0']['tunnel_info'] == 'ipip'
    assert dests['192.168.1.31:0']['tunnel_info'] == 'gre:+c'
    assert listing['services']['-t [2001:db8::1]:80']['dests']['192.168.2.10:80']['tunnel_info'] == 'gue:6080:+c'
    assert listing['services']['-t 10.0.0.1:80']['dests']['192.168.1.10:8080']['tunnel_info'] is None


def test_list_formats_agree_with_save(table):
    """Every listing names the same services and real servers as -S."""
    for name in ('ipvsadm_list_full.txt', 'ipvsadm_list_stats.txt', 'ipvsadm_list_rate_exact.txt',
                 'ipvsadm_list_thresholds.txt', 'ipvsadm_list_persistent_conn.txt',
                 'ipvsadm_list_tun_info.txt'):
        listing = ps.parse_listing(fixture_text(name))
        assert list(listing['services']) == table.keys(), name
        for key in table.keys():
            assert list(listing['services'][key]['dests']) == list(table.dests(key)), name


def test_list_without_title_is_refused():
    with pytest.raises(sx.ModelError):
        ps.parse_listing('TCP  10.0.0.1:80 wlc\n')


def test_list_bad_dest_row():
    text = ('Prot LocalAddress:Port Scheduler Flags\n'
            '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n'
            'TCP  10.0.0.1:80 wlc\n  -> 10.1.1.1:80 Masq x 0 0\n')
    with pytest.raises(sx.ModelError):
        ps.parse_listing(text)


def test_timeout_daemon_connections():
    assert ps.parse_timeout(fixture_text('ipvsadm_timeout.txt')) == {'tcp': 900, 'tcpfin': 120, 'udp': 300}
    daemons = ps.parse_daemon(fixture_text('ipvsadm_daemon.txt'))
    assert daemons[0] == {'state': 'master', 'mcast_interface': 'eth0', 'syncid': 1,
                          'sync_maxlen': 1472, 'mcast_group': '224.0.0.81',
                          'mcast_port': 8848, 'mcast_ttl': 1}
    assert daemons[1]['state'] == 'backup' and daemons[1]['mcast_group'] == 'ff02::1:81'
    assert ps.parse_daemon(fixture_text('ipvsadm_daemon_none.txt')) == []
    assert ps.parse_daemon('backup sync daemon (mcast=eth0, syncid=0)\n') == [
        {'state': 'backup', 'mcast_interface': 'eth0', 'syncid': 0}]
    conns = ps.parse_connections(fixture_text('ipvsadm_connections.txt'))
    assert len(conns) == 4
    assert conns[0] == {'protocol': 'tcp', 'expires': 898, 'state': 'ESTABLISHED',
                        'source': '192.168.5.20:51234', 'virtual': '10.0.0.1:80',
                        'destination': '192.168.1.10:8080'}
    assert conns[3]['expires'] == 7200


def test_timeout_and_daemon_errors():
    with pytest.raises(sx.ModelError):
        ps.parse_timeout('nothing\n')
    with pytest.raises(sx.ModelError):
        ps.parse_daemon('garbage line\n')
    with pytest.raises(sx.ModelError):
        ps.parse_connections('TCP 01:00 ESTABLISHED\n')


def test_connections_with_pe_data():
    text = ('IPVS connection entries\n'
            'pro expire state       source             virtual            destination        pe name          pe_data\n'
            'UDP 03:00  UDP         192.168.5.1:5060   10.0.0.9:5060      192.168.1.40:5060  sip              abc@host\n')
    conn = ps.parse_connections(text)[0]
    assert conn['pe_name'] == 'sip' and conn['pe_data'] == 'abc@host'


# ------------------------------------------------------------ normalisation

@pytest.mark.parametrize('text,expected', [
    ('10.0.0.1', ('10.0.0.1', 'ipv4')),
    ('[2001:DB8:0:0::1]', ('2001:db8::1', 'ipv6')),
    ('2001:db8:0:0:1:0:0:1', ('2001:db8::1:0:0:1', 'ipv6')),
    ('2001:db8:0:1:1:1:1:1', ('2001:db8:0:1:1:1:1:1', 'ipv6')),  # single 0 group stays, like inet_ntop
])
def test_canonical_ip(text, expected):
    assert sx.canonical_ip(text) == expected


def test_canonical_ip_refuses_names():
    with pytest.raises(sx.ModelError):
        sx.canonical_ip('www.example.org')


def test_hostport():
    assert sx.format_hostport('2001:db8::1', 80) == '[2001:db8::1]:80'
    assert sx.split_hostport('[2001:db8::1]:443') == ('2001:db8::1', 443)
    assert sx.split_hostport('10.0.0.1:0') == ('10.0.0.1', 0)
    for bad in ('10.0.0.1', '[2001:db8::1]80', '10.0.0.1:'):
        with pytest.raises(sx.ModelError):
            sx.split_hostport(bad)


@pytest.mark.parametrize('alias,expected', [
    ('masq', 'nat'), ('NAT', 'nat'), ('gate', 'dr'), ('route', 'dr'), ('droute', 'dr'),
    ('gatewaying', 'dr'), ('ipip', 'tun'), ('tunnel', 'tun'), ('tun', 'tun'), (None, None),
    ('m', 'nat'), ('g', 'dr'), ('i', 'tun')])
def test_forwarding_aliases(alias, expected):
    assert sx.normalise_forwarding(alias) == expected


def test_forwarding_unknown():
    with pytest.raises(ValueError):
        sx.normalise_forwarding('bridge')


@pytest.mark.parametrize('value,family,prefix', [
    ('255.255.255.0', 'ipv4', 24), ('24', 'ipv4', 24), ('/16', 'ipv4', 16), (0, 'ipv4', 0),
    ('0.0.0.0', 'ipv4', 0), ('255.255.255.255', 'ipv4', 32), ('64', 'ipv6', 64), (128, 'ipv6', 128)])
def test_prefix_from_netmask(value, family, prefix):
    assert sx.prefix_from_netmask(value, family) == prefix


@pytest.mark.parametrize('value,family', [
    ('255.0.255.0', 'ipv4'), ('33', 'ipv4'), ('0', 'ipv6'), ('129', 'ipv6'), ('abc', 'ipv4'),
    ('ffff::', 'ipv6')])
def test_prefix_from_netmask_rejects(value, family):
    with pytest.raises(ValueError):
        sx.prefix_from_netmask(value, family)


def test_netmask_text():
    assert sx.netmask_text(24, 'ipv4') == '255.255.255.0'
    assert sx.netmask_text(0, 'ipv4') == '0.0.0.0'
    assert sx.netmask_text(64, 'ipv6') == '64'


def test_sched_flags():
    assert sx.sched_flag_bits(['sh-fallback', 'flag-2']) == frozenset([1, 2])
    assert sx.sched_flag_bits('mh-fallback,mh-port') == frozenset([1, 2])
    assert sx.sched_flag_names('sh', frozenset([1, 2])) == ['sh-fallback', 'sh-port']
    assert sx.sched_flag_names('mh', frozenset([1])) == ['mh-fallback']
    assert sx.sched_flag_names('wlc', frozenset([1, 3])) == ['flag-1', 'flag-3']
    with pytest.raises(ValueError):
        sx.sched_flag_bits(['sh-wrong'])


# ------------------------------------------------------------ resolve / render

def svc(**kw):
    base = dict(protocol='tcp', address='10.0.0.1', port=80, family='ipv4')
    base.update(kw)
    return m.Service(**base)


def test_service_resolve_defaults_for_new_service():
    res = svc().resolve(None)
    assert res.config() == ('wlc', frozenset(), False, None, None, None, False)
    assert res.rule_args() == ['-A', '-t', '10.0.0.1:80', '-s', 'wlc']


def test_service_resolve_persistence_default_timeout_is_explicit():
    res = svc(persistent=True).resolve(None)
    assert res.timeout == 300 and res.netmask == 32
    assert ' '.join(res.rule_args()) == '-A -t 10.0.0.1:80 -s wlc -p 300'


def test_service_resolve_keeps_current(table):
    cur = table.service('-t 10.0.0.1:443')
    res = m.Service(protocol='tcp', address='10.0.0.1', port=443, family='ipv4').resolve(cur)
    assert res == cur


def test_service_resolve_disable_persistence(table):
    cur = table.service('-t 10.0.0.1:443')
    res = cur.replace(persistent=False, timeout=None, netmask=None).resolve(cur)
    assert res.persistent is False and res.timeout is None and res.netmask is None
    assert ' '.join(res.rule_args('-E')) == '-E -t 10.0.0.1:443 -s sh -b sh-fallback,sh-port'


def test_service_rule_ipv6_fwmark_order():
    s = m.Service(fwmark=7, family='ipv6', port=0).resolve(None).replace(
        persistent=True, timeout=60, netmask=48)
    # -6 must follow -f and precede -M (ipvsadm parses options in order).
    assert ' '.join(s.rule_args()) == '-A -f 7 -6 -s wlc -p 60 -M 48'


def test_dest_resolve_defaults_and_port_copy():
    service = svc().resolve()
    d = m.Dest(address='192.168.1.10').resolve(service)
    assert (d.port, d.forwarding, d.weight, d.u_threshold, d.l_threshold) == (80, 'nat', 1, 0, 0)
    assert ' '.join(d.rule_args(service)) == '-a -t 10.0.0.1:80 -r 192.168.1.10:80 -m -w 1'
    fw = m.Service(fwmark=1, family='ipv4', port=0).resolve()
    assert m.Dest(address='192.168.1.10').resolve(fw).port == 0


def test_dest_resolve_keeps_current_values(table):
    service = table.service('-t 10.0.0.1:80')
    cur = table.dest('-t 10.0.0.1:80', '192.168.1.10:8080')
    res = m.Dest(address='192.168.1.10', port=8080).resolve(service, cur)
    assert res == cur
    assert ' '.join(res.rule_args(service, '-e')) == \
        '-e -t 10.0.0.1:80 -r 192.168.1.10:8080 -m -w 3 -x 100 -y 50'


def test_dest_tunnel_rules():
    service = svc().resolve()
    gue = m.Dest(address='10.9.9.9', forwarding='tun', tun_type='gue', tun_port=6080).resolve(service)
    assert ' '.join(gue.rule_args(service)) == \
        '-a -t 10.0.0.1:80 -r 10.9.9.9:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum'
    ipip = m.Dest(address='10.9.9.9', forwarding='tun').resolve(service)
    assert ' '.join(ipip.rule_args(service)) == '-a -t 10.0.0.1:80 -r 10.9.9.9:80 -i -w 1 --tun-type ipip'
    gre = m.Dest(address='10.9.9.9', forwarding='tun', tun_type='gre', tun_flags='csum').resolve(service)
    assert gre.rule_args(service)[-3:] == ['--tun-type', 'gre', '--tun-csum']
    assert ' '.join(gre.rule_args(service, '-d')) == '-d -t 10.0.0.1:80 -r 10.9.9.9:80'


def test_dest_switch_to_nat_drops_tunnel(table):
    service = table.service('-f 1')
    cur = table.dest('-f 1', '192.168.1.31:0')
    res = m.Dest(address='192.168.1.31', port=0, forwarding='nat').resolve(service, cur)
    assert (res.tun_type, res.tun_port, res.tun_flags) == (None, None, None)
    assert (res.weight, res.u_threshold) == (5, 20)


def test_dr_forces_service_port():
    service = svc().resolve()
    assert m.Dest(address='10.1.1.1', port=8080, forwarding='dr').resolve(service).port == 80


def test_tun_forces_service_port_as_dr_does():
    service = svc().resolve()
    assert m.Dest(address='10.1.1.1', port=8080, forwarding='tun').resolve(service).port == 80


def test_gre_without_a_checksum_option_is_nocsum_as_ipvsadm_prints_it():
    service = svc().resolve()
    gre = m.Dest(address='10.9.9.9', forwarding='tun', tun_type='gre').resolve(service)
    assert gre.tun_flags == 'nocsum'
    host = ps.parse_rule('-a -t 10.0.0.1:80 -r 10.9.9.9:80 -i -w 1 --tun-type gre --tun-nocsum')[2]
    assert gre == host


# ------------------------------------------------------------ diff

def desired_for(*entries):
    t = m.Table()
    for service, dests in entries:
        t.add_service(service)
        for d in dests:
            t.add_dest(service.key, d)
    return t


def test_diff_identical_is_empty(table):
    assert df.diff(table, table.copy()) == []


def test_diff_add_service_and_dests():
    service = svc(scheduler='wrr').resolve()
    d1 = m.Dest(address='192.168.1.10', forwarding='nat', weight=3).resolve(service)
    ops = df.diff(m.Table(), desired_for((service, [d1])))
    assert [op.line() for op in ops] == [
        '-A -t 10.0.0.1:80 -s wrr',
        '-a -t 10.0.0.1:80 -r 192.168.1.10:80 -m -w 3']


def test_diff_edits_in_place_never_delete_add(table):
    cur = table.service('-t 10.0.0.1:80')
    want = cur.replace(scheduler='rr')
    d = table.dest('-t 10.0.0.1:80', '192.168.1.11:8080').replace(weight=7)
    ops = df.diff(table, desired_for((want, [d])))
    assert [op.kind for op in ops] == ['edit_service', 'edit_dest']
    assert [op.line() for op in ops] == [
        '-E -t 10.0.0.1:80 -s rr',
        '-e -t 10.0.0.1:80 -r 192.168.1.11:8080 -m -w 7']


def test_diff_edits_a_change_of_forwarding_alone():
    service = svc(scheduler='rr').resolve()
    nat = m.Dest(address='192.168.1.10', forwarding='nat').resolve(service)
    current = desired_for((service, [nat]))
    ops = df.diff(current, desired_for((service, [nat.replace(forwarding='dr')])))
    assert [op.line() for op in ops] == ['-e -t 10.0.0.1:80 -r 192.168.1.10:80 -g -w 1']


def test_diff_unmanaged_dests_untouched(table):
    cur = table.service('-t 10.0.0.1:80')
    ops = df.diff(table, desired_for((cur, [])), df.Scope(unmanaged=[cur.key]))
    assert ops == []


def test_diff_purge_order_delete_edit_add(table):
    cur = table.service('-t 10.0.0.1:80')
    keep = table.dest(cur.key, '192.168.1.11:8080').replace(weight=2)
    new = m.Dest(address='192.168.1.12', port=8080, forwarding='nat').resolve(cur)
    ops = df.diff(table, desired_for((cur, [new, keep])), df.Scope(purge_dests=True))
    assert [op.line() for op in ops] == [
        '-d -t 10.0.0.1:80 -r 192.168.1.10:8080',
        '-e -t 10.0.0.1:80 -r 192.168.1.11:8080 -m -w 2',
        '-a -t 10.0.0.1:80 -r 192.168.1.12:8080 -m -w 1']


def test_diff_without_purge_keeps_extra_dests(table):
    cur = table.service('-t 10.0.0.1:80')
    ops = df.diff(table, desired_for((cur, [])))
    assert ops == []


def test_diff_key_change_is_delete_plus_add(table):
    old = table.service('-t 10.0.0.1:80')
    new = old.replace(port=8080)
    ops = df.diff(table, desired_for((new, [])), df.Scope(absent_services=[old.key]))
    assert [op.line() for op in ops] == ['-D -t 10.0.0.1:80', '-A -t 10.0.0.1:8080 -s wrr']


def test_diff_absent_service_and_dest(table):
    ops = df.diff(table, m.Table(), df.Scope(absent_services=['-u 10.0.0.2:53', '-t 9.9.9.9:1'],
                                             absent_dests=[('-f 1', '192.168.1.30:0'),
                                                           ('-u 10.0.0.2:53', '192.168.1.20:53'),
                                                           ('-f 1', '1.1.1.1:0')]))
    assert [op.line() for op in ops] == ['-D -u 10.0.0.2:53', '-d -f 1 -r 192.168.1.30:0']


def test_apply_ops_predicts_table(table):
    cur = table.service('-t 10.0.0.1:80')
    new = m.Dest(address='192.168.1.12', port=8080, forwarding='nat').resolve(cur)
    ops = df.diff(table, desired_for((cur.replace(scheduler='lc'), [new])),
                  df.Scope(purge_dests=True, absent_services=['-f 2 -6']))
    after = df.apply_ops(table, ops)
    assert '-f 2 -6' not in after
    assert list(after.dests(cur.key)) == ['192.168.1.12:8080']
    assert after.service(cur.key).scheduler == 'lc'
    assert df.diff(after, desired_for((cur.replace(scheduler='lc'), [new])),
                   df.Scope(purge_dests=True)) == []
    assert table.service(cur.key).scheduler == 'wrr'  # input untouched


def test_restore_script_and_render(table):
    ops = [df.Op(kind='delete_service', service=table.service('-f 1'))]
    assert df.restore_script(ops) == '-D -f 1\n'
    assert df.restore_script([]) == ''
    assert df.render_table(table, ['-f 2 -6', '-t 1.1.1.1:1']) == [
        '-A -f 2 -6 -s rr', '-a -f 2 -6 -r [2001:db8::20]:0 -g -w 1']


def test_table_equality_and_subset(table):
    other = table.copy()
    assert other == table
    other.add_dest('-f 1', other.dest('-f 1', '192.168.1.30:0').replace(weight=9))
    assert other != table
    # the subset is that service with its real servers as the capture lists them, untouched by the edit elsewhere
    subset = other.subset(['-t 10.0.0.1:80', '-t 9.9.9.9:1'])  # a key the table lacks is left out
    assert subset.keys() == ['-t 10.0.0.1:80'] and subset.service('-t 10.0.0.1:80').scheduler == 'wrr'
    assert [(d.key, d.weight) for d in subset.dests('-t 10.0.0.1:80').values()] == [
        ('192.168.1.10:8080', 3), ('192.168.1.11:8080', 1)]


def test_record_helpers():
    a = m.Dest(address='10.0.0.1', port=1)
    assert a == m.Dest(address='10.0.0.1', port=1) and hash(a) == hash(m.Dest(address='10.0.0.1', port=1))
    assert 'address=' in repr(a)
    with pytest.raises(TypeError):
        m.Dest(bogus=1)
