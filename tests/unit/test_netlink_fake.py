# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The netlink fake against the kernel's own answers (fixtures/netlink_lab.json).

Every captured case is replayed through netlink_fake with the capture's own
code (tests/lab/capture_netlink.py: the requests' bytes, the reading of the
table), so each answer and each table read back must be the kernel's.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.lvs.cluster.tests.lab import capture_netlink as capture
from ansible_collections.lvs.cluster.tests.unit.ipvs_fake import FakeHost, fixture_text
from ansible_collections.lvs.cluster.tests.unit.netlink_fake import FakeNetlinkSocket

LAB = json.loads(fixture_text('netlink_lab.json'))


def replayed(case):
    return capture.replay(capture.Channel(FakeNetlinkSocket(FakeHost(netlink=True))), case)


def probe_id(probe):
    if 'request' in probe:
        return '%s %s' % (probe['request']['cmd'], json.dumps(probe['request'].get('dest') or probe['request'].get(
            'service', {}), sort_keys=True))
    return 'table' if 'table' in probe else 'dests'


PROBES = [(case, i) for case in LAB['cases'] for i in range(len(case['probes']))]


@pytest.mark.parametrize('case, index', PROBES,
                         ids=['%s: %d %s' % (c['name'], i, probe_id(c['probes'][i])) for c, i in PROBES])
def test_fake_answers_like_the_kernel(case, index):
    assert replayed(case)['probes'][index] == case['probes'][index]


@pytest.mark.parametrize('case', LAB['cases'], ids=[c['name'] for c in LAB['cases']])
def test_fake_table_after_the_probes_is_the_kernels(case):
    assert replayed(case)['table'] == case['table']


def test_every_case_of_the_capture_script_is_captured():
    """A case added to the script without a capture fails here, not only in the lab."""
    assert [c['name'] for c in capture.CASES] == [c['name'] for c in LAB['cases']]
    for script, lab in zip(capture.CASES, LAB['cases']):
        assert script['setup'] == lab['setup']
        assert [dict((k, v) for k, v in p.items() if k not in ('answer', 'dests', 'table')) for p in script['probes']] \
            == [dict((k, v) for k, v in p.items() if k not in ('answer', 'dests', 'table')) for p in lab['probes']]
