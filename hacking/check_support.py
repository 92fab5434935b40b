# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fail when what the collection claims to support differs from what is tested.

  python3 hacking/check_support.py

The ansible-core lines tested are declared once, in the Makefile's CORE_LINES
(make compat tests all but the newest, .venv the newest). From them:
- meta/runtime.yml's requires_ansible is ">=" the oldest;
- requirements-dev.txt pins .venv's ansible-core to the newest;
- README.md's support matrix row "| ansible-core |" is the line below, and its
  "| Python |" row names every tested line (each has its own Python range);
- no tests/sanity/ignore-<version>.txt has an entry (ansible-test sanity runs
  with none, on every line).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def core_lines() -> list[str]:
    found = re.search(r"^CORE_LINES\s*:=\s*(.+)$", (ROOT / "Makefile").read_text(), re.M)
    lines = found.group(1).split() if found else []
    if not lines or any(not re.fullmatch(r"2\.\d+", line) for line in lines):
        sys.exit("check_support: the Makefile declares no CORE_LINES (e.g. CORE_LINES := 2.17 2.18 2.19)")
    return sorted(lines, key=lambda line: tuple(map(int, line.split("."))))


def readme_row(name: str) -> str:
    rows = [row for row in (ROOT / "README.md").read_text().splitlines() if row.startswith(f"| {name} |")]
    return rows[0] if len(rows) == 1 else f"({len(rows)} rows '| {name} |' in README.md)"


def problems(lines: list[str]) -> list[str]:
    oldest, newest = lines[0], lines[-1]
    found = []
    runtime = re.search(r"^requires_ansible:\s*[\"']?([^\"'\n]+)", (ROOT / "meta/runtime.yml").read_text(), re.M)
    want = f">={oldest}.0"
    if not runtime or runtime.group(1).strip() != want:
        found.append(f"meta/runtime.yml: requires_ansible must be \"{want}\" (the oldest tested line)")
    major, minor = newest.split(".")
    pin = f"ansible-core>={newest},<{major}.{int(minor) + 1}"
    if pin not in (ROOT / "requirements-dev.txt").read_text().split():
        found.append(f"requirements-dev.txt: .venv must pin {pin} (the newest tested line)")
    row = f"| ansible-core | {oldest} or later on the controller (tested: {', '.join(lines)}) |"
    if readme_row("ansible-core") != row:
        found.append(f"README.md: the support matrix row must read\n  {row}\nnot\n  {readme_row('ansible-core')}")
    python = readme_row("Python")
    missing = [line for line in lines if not re.search(rf"\b{re.escape(line)}\b", python)]
    if missing:
        found.append(f"README.md: the Python row names no controller Python range for ansible-core {', '.join(missing)}")
    for ignore in sorted((ROOT / "tests/sanity").glob("ignore-*.txt")):
        if ignore.read_text().strip():
            found.append(f"{ignore.relative_to(ROOT)}: ignore entries are not allowed")
    return found


def main() -> int:
    lines = core_lines()
    found = problems(lines)
    for problem in found:
        print(f"check_support: {problem}", file=sys.stderr)
    if not found:
        print(f"check_support: ansible-core {', '.join(lines)}: claim, pin and README agree")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
