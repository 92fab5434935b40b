# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The documented return fields (return_schema.py) are the ones the code returns."""

from __future__ import annotations

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_apply as d
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_model as m
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_parse as ps
from ansible_collections.lvs.cluster.plugins.module_utils import return_schema as rs
from ansible_collections.lvs.cluster.plugins.plugin_utils import data_model as dm
from ansible_collections.lvs.cluster.tests.unit.ipvs_fake import fixture_text


def test_service_and_real_server():
    table = ps.parse_save(fixture_text('ipvsadm_save_full.txt'))
    key = table.keys()[0]
    assert list(table.service(key).to_dict()) == list(rs.SERVICE)
    dest = list(table.dests(key).values())[0]
    assert list(dest.to_dict()) == list(rs.REAL_SERVER)


def test_drained():
    class Runner(object):
        def list_service(self, service):
            return {'services': {}}

    service = m.Service(protocol='tcp', address='198.51.100.100', port=80, family='ipv4')
    op = type('Op', (), {'service': service, 'dest': m.Dest(address='203.0.113.13', port=80)})
    status = d.wait_drained(Runner(), [op], 0, 0)
    assert list(status[0]) == list(rs.DRAINED)


def test_ipvs_info_parts():
    assert set(ps.parse_timeout(fixture_text('ipvsadm_timeout.txt'))) == set(rs.TIMEOUTS)
    for daemon in ps.parse_daemon(fixture_text('ipvsadm_daemon.txt')):
        assert set(daemon) <= set(rs.DAEMON)
    for conn in ps.parse_connections(fixture_text('ipvsadm_connections.txt')):
        assert set(conn) <= set(rs.CONNECTION)
    counters = rs.INFO_SERVICE['stats']['contains'], rs.INFO_SERVICE['rates']['contains']
    for (name, text), fields in zip((('stats', 'ipvsadm_list_stats_exact.txt'),
                                     ('rates', 'ipvsadm_list_rate_exact.txt')), counters):
        for entry in ps.parse_listing(fixture_text(text))['services'].values():
            assert set(entry['info']) == set(fields), name
            for row in entry['dests'].values():
                assert set(row) - {'address', 'port'} == set(fields), name


def test_assignment():
    model = [{'address': '198.51.100.101', 'port': 80, 'forwarding': 'dr',
              'real_servers': [{'address': '203.0.113.11'}]}]
    out = dm.realserver_assignments(model, 'rs1', ['203.0.113.11'])
    assert list(out[0]) == list(rs.ASSIGNMENT)
