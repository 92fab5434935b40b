# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Every role validates the one data model with the same spec (the copies must not drift)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.lvs.cluster.plugins.plugin_utils import data_model as dm

ROLES = Path(__file__).resolve().parents[2] / 'roles'


def model_spec(role):
    specs = yaml.safe_load((ROLES / role / 'meta' / 'argument_specs.yml').read_text())
    return specs['argument_specs']['main']['options']['lvs_virtual_services']


@pytest.mark.parametrize('role', ['realserver_dr', 'realserver_nat', 'realserver_tun'])
def test_real_server_roles_share_the_directors_model_spec(role):
    assert model_spec(role) == model_spec('director')


def test_the_spec_knows_exactly_the_keys_the_filters_accept():
    spec = model_spec('director')['options']
    assert set(spec) == dm.SERVICE_KEYS
    assert set(spec['real_servers']['options']) == dm.REAL_SERVER_KEYS
