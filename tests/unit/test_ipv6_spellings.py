# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An IPv6 real server spelt any way is one real server: the address as the kernel prints it (RFC 5952).

2001:DB8::0:1 and 2001:db8:0:0::1 are both 2001:db8::1: lower case, the longest
run of zero groups as "::", no leading zeros. The expected text is written out
here, not computed by the code under test.
"""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.lvs.cluster.plugins.modules import ipvs_dest, ipvs_service, ipvs_table
from ansible_collections.lvs.cluster.plugins.plugin_utils import model_check as mc
from ansible_collections.lvs.cluster.tests.unit.ipvs_fake import FakeHost, run_module

SPELLINGS = ['2001:DB8::0:1', '2001:db8:0:0::1', '2001:0db8:0000:0000:0000:0000:0000:0001']
VIP = '2001:db8::100'
RULE = '-a -t [2001:db8::100]:80 -r [2001:db8::1]:80 -m -w 1'


def test_the_model_check_sees_two_spellings_as_one_real_server():
    model = [dict(address=VIP, port=80, real_servers=[dict(address=SPELLINGS[0]), dict(address=SPELLINGS[1])])]
    with pytest.raises(AnsibleFilterError, match=r'^lvs_virtual_services\[0\]\.real_servers\[1\]: duplicates '
                                                 r'lvs_virtual_services\[0\]\.real_servers\[0\] \(\[2001:db8::1\]:80\)'):
        mc.check_model(model)


@pytest.mark.parametrize('given', SPELLINGS)
def test_ipvs_table_returns_and_diffs_the_canonical_address(kernel, given):
    host = FakeHost()
    service = dict(address=VIP, port=80, forwarding='nat', real_servers=[dict(address=given)])
    result = run_module(ipvs_table, dict(services=[service]), host, diff=True)
    assert result['commands'] == ['-A -t [2001:db8::100]:80 -s wlc', RULE]
    assert result['diff']['after'] == '-A -t [2001:db8::100]:80 -s wlc\n' + RULE + '\n'
    assert [(rs['address'], rs['key']) for rs in result['services'][0]['real_servers']] == \
        [('2001:db8::1', '[2001:db8::1]:80')]
    # the other spellings name the same real server: nothing to do
    for other in SPELLINGS:
        service['real_servers'] = [dict(address=other)]
        assert run_module(ipvs_table, dict(services=[service]), host)['changed'] is False


@pytest.mark.parametrize('given', SPELLINGS)
def test_ipvs_service_and_ipvs_dest_return_and_diff_the_canonical_address(kernel, given):
    host = FakeHost()
    created = run_module(ipvs_service, dict(address=VIP, port=80, real_servers=[dict(address=given)]), host, diff=True)
    assert created['commands'][1] == RULE and RULE + '\n' in created['diff']['after']
    assert created['real_servers'][0]['address'] == '2001:db8::1'
    edited = run_module(ipvs_dest, dict(virtual_address=VIP, virtual_port=80, address=SPELLINGS[-1], weight=2),
                        host, diff=True)
    assert edited['commands'] == ['-e -t [2001:db8::100]:80 -r [2001:db8::1]:80 -m -w 2']
    assert edited['diff'] == {'before': RULE + '\n', 'after': RULE.replace('-w 1', '-w 2') + '\n'}
    assert edited['real_server']['address'] == '2001:db8::1'
