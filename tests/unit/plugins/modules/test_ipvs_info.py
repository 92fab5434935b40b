# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.lvs.cluster.plugins.modules import ipvs_info
from ansible_collections.lvs.cluster.tests.unit.ipvs_fake import (
    IPVSADM, AnsibleFail, FakeHost, fixture_text, run_module)


def canned(*names):
    files = {
        'save': ((IPVSADM, '-S', '-n'), 'ipvsadm_save_full.txt'),
        'thresholds': ((IPVSADM, '-L', '-n', '--thresholds'), 'ipvsadm_list_thresholds.txt'),
        'stats': ((IPVSADM, '-L', '-n', '--stats', '--exact'), 'ipvsadm_list_stats_exact.txt'),
        'rates': ((IPVSADM, '-L', '-n', '--rate', '--exact'), 'ipvsadm_list_rate_exact.txt'),
        'timeout': ((IPVSADM, '-L', '--timeout'), 'ipvsadm_timeout.txt'),
        'daemon': ((IPVSADM, '-L', '--daemon'), 'ipvsadm_daemon.txt'),
        'conns': ((IPVSADM, '-L', '-n', '-c'), 'ipvsadm_connections.txt'),
    }
    return dict((files[n][0], (0, fixture_text(files[n][1]), '')) for n in names)


def test_default_gather(kernel):
    host = FakeHost(canned=canned('save', 'thresholds', 'stats', 'rates', 'timeout', 'daemon'))
    result = run_module(ipvs_info, {}, host, check_mode=True)
    assert result['changed'] is False
    assert host.ipvsadm_calls() == [['-S', '-n'], ['-L', '-n', '--thresholds'],
                                    ['-L', '-n', '--stats', '--exact'],
                                    ['-L', '-n', '--rate', '--exact'],
                                    ['-L', '--timeout'], ['-L', '--daemon']]
    assert result['version'] == '1.2.1'
    assert len(result['services']) == 7
    web = result['services'][0]
    assert web['key'] == '-t 10.0.0.1:80' and web['scheduler'] == 'wrr'
    assert web['stats']['conns'] == 12 and web['rates']['outbps'] == 300
    rs = web['real_servers'][0]
    assert (rs['active_conns'], rs['inactive_conns'], rs['u_threshold']) == (2, 5, 100)
    assert rs['stats']['outbytes'] == 60000 and rs['rates']['inbps'] == 30
    assert result['timeouts'] == {'tcp': 900, 'tcpfin': 120, 'udp': 300}
    assert result['daemons'][0]['state'] == 'master'
    assert 'connections' not in result


def test_only_stats_without_table(kernel):
    host = FakeHost(canned=canned('stats'))
    result = run_module(ipvs_info, dict(gather=['stats']), host)
    assert host.ipvsadm_calls() == [['-L', '-n', '--stats', '--exact']]
    assert result['services'][1]['key'] == '-t 10.0.0.1:443'
    assert result['services'][1]['stats']['inbytes'] == 987654321098765
    assert result['services'][1]['real_servers'][0]['address'] == '10.0.0.21'


def test_connections_only(kernel):
    host = FakeHost(canned=canned('conns'))
    result = run_module(ipvs_info, dict(gather=['connections']), host)
    assert len(result['connections']) == 4 and 'services' not in result


def test_parse_error_fails_cleanly(kernel):
    host = FakeHost(canned={(IPVSADM, '-L', '--timeout'): (0, 'garbage\n', '')})
    with pytest.raises(AnsibleFail) as err:
        run_module(ipvs_info, dict(gather=['timeouts']), host)
    assert 'cannot parse' in err.value.args[0]['msg']


def test_bad_gather_choice(kernel):
    with pytest.raises(AnsibleFail):
        run_module(ipvs_info, dict(gather=['everything']), FakeHost())


@pytest.mark.parametrize('check_mode', [True, False])
def test_reading_never_loads_ip_vs(kernel, monkeypatch, check_mode):
    from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_cli
    monkeypatch.setattr(ipvs_cli, 'PROC_IPVS', str(kernel / 'missing'))
    host = FakeHost()
    result = run_module(ipvs_info, {}, host, check_mode=check_mode)
    assert host.calls == []
    # no table: no service (what the EXAMPLES and lvs.cluster.table loop over)
    assert result == {'changed': False, 'ipvs_loaded': False, 'services': []}
    assert run_module(ipvs_info, dict(gather=['timeouts']), host) == {'changed': False, 'ipvs_loaded': False}
