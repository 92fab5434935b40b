# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pytest fixtures shared by the unit tests."""

from __future__ import annotations

import pytest

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_cli


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    """Pretend ip_vs is loaded and the common scheduler modules too."""
    return fake_kernel(tmp_path, monkeypatch)


def fake_kernel(tmp_path, monkeypatch):
    """The kernel fixture's work, for a fixture of a wider scope."""
    proc = tmp_path / 'ip_vs'
    proc.write_text(u'')
    sysmod = tmp_path / 'module'
    for name in ('ip_vs_wlc', 'ip_vs_wrr', 'ip_vs_rr', 'ip_vs_sh', 'ip_vs_mh', 'ip_vs_lc'):
        (sysmod / name).mkdir(parents=True)
    monkeypatch.setattr(ipvs_cli, 'PROC_IPVS', str(proc))
    monkeypatch.setattr(ipvs_cli, 'SYS_MODULE', str(sysmod))
    monkeypatch.setattr(ipvs_cli, 'MODULES_DIR', str(tmp_path / 'lib-modules'))  # nothing built in
    return tmp_path
