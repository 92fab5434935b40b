# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.lvs.cluster.plugins.plugin_utils.keepalived import keepalived_services
from ansible_collections.lvs.cluster.plugins.plugin_utils.keepalived_conf import virtual_servers
from ansible_collections.lvs.cluster.tests.unit.format_tools import keepalived_test
from ansible_collections.lvs.cluster.tests.unit.keepalived_text import blocks, checks, parse, settings

HOSTVARS = {'rs1': {'lvs_address': '198.51.100.11'}}
DEFAULTS = {'delay_loop': 3, 'retry': 1}

MODEL = [
    dict(name='web', address='198.51.100.100', port=80, scheduler='wrr', forwarding='dr',
         persistence_timeout=600, persistence_netmask='24', quorum=2, hysteresis=1, inhibit_on_failure=True,
         sorry_server=dict(address='198.51.100.50', port=80),
         health_check=dict(type='http', path='/health', status_code=[200, '300-399'], virtualhost='www.example.org'),
         real_servers=[dict(host='rs1', weight=3, u_threshold=100, l_threshold=10),
                       dict(address='198.51.100.12', inhibit_on_failure=False, health_check=dict(type='none'))]),
    dict(address='198.51.100.100', port=443, state='absent', real_servers=[dict(address='203.0.113.99')]),
    dict(fwmark=7, vips=['198.51.100.101'], scheduler='mh', scheduler_flags=['mh-port'], persistent=True,
         persistence_engine='sip', forwarding='tun',
         real_servers=[dict(address='192.0.2.11', port=80, tun_type='gue', tun_port=6080, tun_csum=True)]),
    dict(address='2001:db8::100', port=53, protocol='udp', one_packet=True, forwarding='nat',
         real_servers=[dict(address='2001:db8::11', health_check=dict(type='misc', script='/bin/true', timeout=3))]),
]

# What the role's Jinja template rendered before this moved to Python (byte for byte); its
# meaning is checked on its own below, from the model and keepalived.conf(5).
EXPECTED = '''
# web
virtual_server 198.51.100.100 80 {
    lvs_sched wrr
    lvs_method DR
    protocol TCP
    persistence_timeout 600
    persistence_granularity 255.255.255.0
    quorum 2
    hysteresis 1
    sorry_server 198.51.100.50 80
    sorry_server_lvs_method DR
    real_server 198.51.100.11 80 {
        lvs_method DR
        weight 3
        uthreshold 100
        lthreshold 10
        inhibit_on_failure
        HTTP_GET {
            connect_port 80
            retry 1
            delay_loop 3
            url {
                path /health
                status_code 200 300-399
                virtualhost www.example.org
            }
        }
    }
    real_server 198.51.100.12 80 {
        lvs_method DR
        weight 1
    }
}

# service 1
virtual_server fwmark 7 {
    lvs_sched mh
    mh-port
    lvs_method TUN
    ip_family inet
    persistence_timeout 300
    persistence_engine sip
    real_server 192.0.2.11 {
        lvs_method TUN type gue port 6080 csum
        weight 1
        TCP_CHECK {
            connect_port 80
            retry 1
            delay_loop 3
        }
    }
}

# service 2
virtual_server 2001:db8::100 53 {
    lvs_sched wlc
    lvs_method NAT
    protocol UDP
    ops
    real_server 2001:db8::11 53 {
        lvs_method NAT
        weight 1
        MISC_CHECK {
            retry 1
            delay_loop 3
            misc_path "/bin/true"
            misc_timeout 3
        }
    }
}
'''


def test_virtual_servers_render_every_keyword_as_the_template_did():
    assert virtual_servers(keepalived_services(MODEL, HOSTVARS, DEFAULTS)) == EXPECTED


# MODEL in keepalived.conf(5)'s words, worked out by hand: per virtual_server its keywords,
# per real_server its keywords and health checkers.
MEANING = {
    ('198.51.100.100', '80'): (
        # lvs_method DR: forwarding dr; protocol TCP: the model's default; persistence_granularity
        # takes a netmask (the model's prefix length 24); the sorry server has the service's method
        dict(lvs_sched='wrr', lvs_method='DR', protocol='TCP', persistence_timeout='600',
             persistence_granularity='255.255.255.0', quorum='2', hysteresis='1', sorry_server='198.51.100.50 80',
             sorry_server_lvs_method='DR'),
        {('198.51.100.11', '80'): (  # host rs1's lvs_address, on the service's port
            # the real server's thresholds are keepalived's uthreshold and lthreshold; the service's
            # inhibit_on_failure holds for it (a bare keyword: true)
            dict(lvs_method='DR', weight='3', uthreshold='100', lthreshold='10', inhibit_on_failure=''),
            # the service's http check over director_health_check (retry 1, delay_loop 3), on the real server's port
            {'HTTP_GET': dict(connect_port='80', retry='1', delay_loop='3',
                              url=dict(path='/health', status_code='200 300-399', virtualhost='www.example.org'))}),
         ('198.51.100.12', '80'): (  # weight 1 when none is stated; its own inhibit_on_failure false; type none
            dict(lvs_method='DR', weight='1'), {})}),
    # the absent service (port 443) has no block
    ('fwmark', '7'): (
        # mh-port is a bare keyword; a fwmark service names its family (ipv4 by default) and no protocol;
        # persistent without a timeout: the model's 300, not keepalived's own 360
        {'lvs_sched': 'mh', 'mh-port': '', 'lvs_method': 'TUN', 'ip_family': 'inet', 'persistence_timeout': '300',
         'persistence_engine': 'sip'},
        {('192.0.2.11',): (  # keepalived takes no port on a fwmark real server
            dict(lvs_method='TUN type gue port 6080 csum', weight='1'),
            # tcp: the default check of a TCP service; its port is the one the real server states
            {'TCP_CHECK': dict(connect_port='80', retry='1', delay_loop='3')})}),
    ('2001:db8::100', '53'): (
        # wlc: the model's default scheduler (ipvsadm's), written out; ops: one_packet
        dict(lvs_sched='wlc', lvs_method='NAT', protocol='UDP', ops=''),
        {('2001:db8::11', '53'): (
            dict(lvs_method='NAT', weight='1'),
            {'MISC_CHECK': dict(retry='1', delay_loop='3', misc_path='/bin/true', misc_timeout='3')})}),
}


def test_the_rendered_text_means_the_model():
    """The golden text's meaning, independently of the text: each block and keyword against MEANING."""
    rendered = parse(virtual_servers(keepalived_services(MODEL, HOSTVARS, DEFAULTS)))
    assert [word for word, _args, _block in rendered] == ['virtual_server'] * 3  # nothing else at the top
    found = blocks(rendered, 'virtual_server')
    assert list(found) == list(MEANING)  # the model's order
    for key, (service, real_servers) in MEANING.items():
        assert settings(found[key]) == service, key
        got = blocks(found[key], 'real_server')
        assert list(got) == list(real_servers), key
        for rs_key, (keywords, checkers) in real_servers.items():
            assert settings(got[rs_key]) == keywords, rs_key
            assert checks(got[rs_key]) == checkers, rs_key


def test_no_service_renders_nothing():
    assert virtual_servers([]) == ''


HEADER = 'global_defs {\n    router_id test\n    enable_script_security\n    script_user root\n}\n'


def test_keepalived_s_own_config_test_accepts_the_rendered_text():
    assert keepalived_test(HEADER + virtual_servers(keepalived_services(MODEL, HOSTVARS, DEFAULTS))) == (0, '')


@pytest.mark.parametrize('name', [
    'web\ninclude /tmp/evil.conf', 'web\n}\nvirtual_server 192.0.2.99 80 {\n}',
    'web\nvrrp_instance X {\n    notify_master "/bin/sh -c id"\n}', 'web\\', 'web\r\ninclude /tmp/evil.conf',
    'x' * 1100 + ' include /tmp/evil.conf'])
def test_a_service_name_never_breaks_out_of_its_comment(name):
    """Issue 29: a newline in a name started a new virtual_server, an include or a notify_master script."""
    model = [dict(MODEL[0], name=name)]
    try:
        text = virtual_servers(keepalived_services(model, HOSTVARS, DEFAULTS))
    except AnsibleFilterError as exc:  # or the model's gate refuses it
        assert str(exc).startswith('lvs_virtual_services[0].name: '), str(exc)
        return
    rendered = parse(text)
    assert [word for word, _args, _block in rendered] == ['virtual_server']
    assert list(blocks(rendered, 'virtual_server')) == [('198.51.100.100', '80')]
    assert keepalived_test(HEADER + text) == (0, '')
