# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A pytest plugin for the negative checks that lab/guest/scenarios.sh runs.

A scenario's negative.yml breaks its cluster on purpose and declares, in a
play's vars, which verifier tests must then fail and why:

    negative_check:
      - test: test_dr.py::test_only_the_director_answers_arp_for_the_vip
        reason: "regular expression the assertion's message must match"

With LVS_NEGATIVE_CHECK (that file) and LVS_NEGATIVE_VERDICT (a path) set, the
verifier runs only the declared tests, and the verdict file says `passed` only
when each failed in its body with an AssertionError matching its reason, and
nothing else failed: a crash, a setup error, another exception, a test that
passed or a declared test that no longer exists is `REFUSED`.
"""

from __future__ import annotations

import os
import re

import pytest
import yaml


def _declared(path):
    with open(path, encoding="utf-8") as f:
        plays = yaml.safe_load(f)
    checks = next((p["vars"]["negative_check"] for p in plays or []
                   if "negative_check" in (p.get("vars") or {})), None)
    if not checks or not all(isinstance(c, dict) and c.get("test") and c.get("reason") for c in checks):
        raise pytest.UsageError(f"{path}: no play declares a negative_check (test and reason each)")
    return checks


def _line(message, reason):
    """The line of the message where the reason matched."""
    at = re.search(reason, message).start()
    return message[message.rfind("\n", 0, at) + 1:].split("\n", 1)[0].strip()[:300]


def _matches(nodeid, test):
    return nodeid == test or nodeid.endswith("/" + test)


class NegativeCheck:
    def __init__(self, checks, verdict):
        self.checks = checks
        self.verdict = verdict
        self.selected = []
        self.wrong = []  # what refuses the check, besides the declared outcomes
        self.failed = {}  # nodeid -> the assertion's message

    def pytest_collection_modifyitems(self, config, items):
        keep = [i for i in items if any(_matches(i.nodeid, c["test"]) for c in self.checks)]
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep
        self.selected = [i.nodeid for i in keep]

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if not report.failed:
            return
        excinfo = call.excinfo
        if report.when == "call" and excinfo is not None and excinfo.errisinstance(AssertionError):
            self.failed[item.nodeid] = str(excinfo.value)
        else:
            kind = excinfo.typename if excinfo is not None else "failure"
            self.wrong.append(f"{item.nodeid}: {kind} in {report.when}: {str(excinfo.value if excinfo else '')[:300]}")

    def pytest_sessionfinish(self, session):
        lines = list(self.wrong)
        for check in self.checks:
            ids = [n for n in self.selected if _matches(n, check["test"])]
            if len(ids) != 1:
                lines.append(f"{check['test']}: {len(ids)} tests have this name, expected 1")
                continue
            message = self.failed.get(ids[0])
            if message is None:
                lines.append(f"{check['test']}: did not fail with an AssertionError")
            elif not re.search(check["reason"], message):
                lines.append(f"{check['test']}: failed, but not for {check['reason']!r}: {message[:300]}")
        with open(self.verdict, "w", encoding="utf-8") as f:
            if lines:
                f.write("REFUSED\n" + "\n".join(lines) + "\n")
            else:
                f.write("passed\n" + "".join(f"{c['test']} failed as declared: {_line(self.failed[n], c['reason'])}\n"
                                             for c in self.checks for n in self.selected
                                             if _matches(n, c["test"])))


def pytest_configure(config):
    path, verdict = os.environ.get("LVS_NEGATIVE_CHECK"), os.environ.get("LVS_NEGATIVE_VERDICT")
    if path and verdict:
        config.pluginmanager.register(NegativeCheck(_declared(path), verdict), "lvs_negative_check")
