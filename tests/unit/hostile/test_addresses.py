# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 29's address findings: zone ids, special-purpose ranges, whitespace."""

from __future__ import annotations

import pytest

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_syntax as sx
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_validate as v


@pytest.mark.parametrize('text', ['fe80::1%eth0', '2001:db8::1%lo\nExecStartPre=/bin/sh', '2001:db8::1%25',
                                  '10.0.0.1\n', ' 10.0.0.1', '[2001:db8::1]\n'])
def test_zone_ids_and_whitespace_are_no_address(text):
    with pytest.raises(sx.ModelError):
        sx.canonical_ip(text)


@pytest.mark.parametrize('text, reason', [
    ('::ffff:198.51.100.1', 'IPv4-mapped'), ('::ffff:c633:6401', 'IPv4-mapped'),
    ('::198.51.100.1', 'IPv4-compatible'), ('fe80::1', 'link-local'), ('::', 'unspecified'),
    ('0.0.0.0', 'unspecified'), ('224.0.0.18', 'multicast'), ('ff02::1', 'multicast'),
    ('255.255.255.255', 'broadcast')])
def test_special_purpose_addresses_are_no_vip_and_no_real_server(text, reason):
    with pytest.raises(v.ValidationError, match=reason):
        v.build_service(dict(address=text, port=80))
    with pytest.raises(v.ValidationError, match='real_servers\\[0\\].address: .*' + reason):
        v.build_dest(dict(address=text), 'real_servers[0].')


@pytest.mark.parametrize('text, canonical', [('2001:DB8:0:0::0001', '2001:db8::1'), ('[2001:db8::1]', '2001:db8::1'),
                                             ('127.0.0.1', '127.0.0.1'), ('::1', '::1'), ('240.0.0.1', '240.0.0.1')])
def test_usable_addresses_come_back_canonical(text, canonical):
    assert sx.usable_ip(text)[0] == canonical
