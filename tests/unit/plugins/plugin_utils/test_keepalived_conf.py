# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.lvs.cluster.plugins.plugin_utils.keepalived import keepalived_services
from ansible_collections.lvs.cluster.plugins.plugin_utils.keepalived_conf import virtual_servers

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

# What the role's Jinja template rendered before this moved to Python (byte for byte).
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


def test_no_service_renders_nothing():
    assert virtual_servers([]) == ''
