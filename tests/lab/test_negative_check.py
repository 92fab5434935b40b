# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The negative checks' judge (lab/guest/negative_check.py): only the named
test failing with an AssertionError for the named reason passes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

GUEST = Path(__file__).resolve().parents[2] / "lab" / "guest"

VERIFIER = '''
def test_breaks():
    assert 1 == 2, "boom: the cluster is broken"

def test_crashes():
    raise KeyError("no such host")

def test_holds():
    pass

def test_other():
    assert False, "boom too"
'''


def judge(tmp_path, test, reason):
    (tmp_path / "test_verifier.py").write_text(VERIFIER)
    (tmp_path / "negative.yml").write_text(
        f"- name: break\n  hosts: all\n  vars:\n    negative_check:\n"
        f"      - test: {test}\n        reason: '{reason}'\n")
    env = dict(os.environ, LVS_NEGATIVE_CHECK=str(tmp_path / "negative.yml"),
               LVS_NEGATIVE_VERDICT=str(tmp_path / "verdict"), PYTHONPATH=str(GUEST))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "negative_check", "-p", "no:cacheprovider",
                          str(tmp_path)], env=env, cwd=tmp_path, capture_output=True, text=True, check=False)
    verdict = (tmp_path / "verdict").read_text().splitlines()
    return run, verdict


def test_the_named_test_failing_for_the_named_reason_passes(tmp_path):
    run, verdict = judge(tmp_path, "test_verifier.py::test_breaks", "^boom: the cluster")
    assert verdict == ["passed", "test_verifier.py::test_breaks failed as declared: boom: the cluster is broken"]
    assert "1 failed, 3 deselected" in run.stdout  # the other tests did not run


@pytest.mark.parametrize("test, reason, why", [
    ("test_verifier.py::test_breaks", "^bang", "failed, but not for '^bang'"),
    ("test_verifier.py::test_crashes", "no such host", "KeyError in call"),
    ("test_verifier.py::test_holds", ".", "did not fail with an AssertionError"),
    ("test_verifier.py::test_renamed", ".", "0 tests have this name"),
])
def test_anything_else_is_refused(tmp_path, test, reason, why):
    _run, verdict = judge(tmp_path, test, reason)
    assert verdict[0] == "REFUSED" and any(why in line for line in verdict[1:]), verdict
