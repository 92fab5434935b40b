# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs every install command of README.md as a user would: from a clean clone
named lvs-cluster, each block into an empty collections path, then ansible-doc
on a module from there. Also checks that the quick start's edited lines are
lines of the example it copies.

  python tests/readme/install.py     (ansible-galaxy and ansible-doc on PATH)
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import readme_blocks as rb  # noqa: E402  (a sibling file, not a package)

INSTALLS = ("Quick start", "Install")


def version() -> str:
    return re.search(r"^version:\s*(\S+)", (rb.ROOT / "galaxy.yml").read_text(), re.M).group(1)


def run(argv: list[str], **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, capture_output=True, text=True, **kw, check=False)
    if proc.returncode:
        raise SystemExit(f"FAILED ({proc.returncode}): {shlex.join(argv)}\n{proc.stdout}{proc.stderr}")
    return proc


def install_blocks() -> list[rb.Block]:
    chosen = [b for name in INSTALLS for b in rb.section(name, "sh")
              if any(c.startswith("ansible-galaxy collection") for c in b.commands())]
    if not any(b.section == "Install" for b in chosen):
        raise SystemExit("README.md: no install command under '## Install'")
    return chosen


def check_quickstart_edits(work: Path) -> None:
    """Each line the quick start says to edit is a line of the copied example."""
    copy = next(c for b in rb.section("Quick start", "sh") for c in b.commands() if c.startswith("cp "))
    src, dst = shlex.split(copy)[-2:]
    yaml = [b for b in rb.section("Quick start", "yaml") if rb.edits(b)]
    if len(yaml) != 1:
        raise SystemExit("README.md: the quick start needs one yaml block of lines to edit")
    for name, lines in rb.edits(yaml[0]).items():
        path = work / src / Path(name).relative_to(dst)
        text = path.read_text().splitlines()
        for line in lines:
            if text.count(line) != 1:
                raise SystemExit(f"README.md:{yaml[0].line}: not once in {path.relative_to(work)}: {line.strip()}")
    print(f"quick start: the {sum(map(len, rb.edits(yaml[0]).values()))} edited lines are the example's")


def main() -> int:
    want = version()
    with tempfile.TemporaryDirectory(prefix="lvs-readme-") as tmp:
        work = Path(tmp)
        run(["git", "clone", "--quiet", str(rb.ROOT), str(work / "lvs-cluster")])
        check_quickstart_edits(work)
        for b in rb.section("Install", "yaml"):
            if b.file:
                (work / b.file).write_text(b.text + "\n")
        for n, block in enumerate(install_blocks()):
            start = time.monotonic()
            # a user's shell: no collections but what the block installs
            env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
            env.update(HOME=str(work / f"home{n}"), ANSIBLE_COLLECTIONS_PATH=str(work / f"collections{n}"))
            run(["bash", "-euo", "pipefail", "-c", block.text], cwd=work, env=env)
            listed = run(["ansible-galaxy", "collection", "list", "lvs.cluster", "--format", "yaml"],
                         cwd=work, env=env).stdout
            if f"version: {want}" not in listed:
                raise SystemExit(f"README.md:{block.line}: lvs.cluster {want} is not installed:\n{listed}")
            run(["ansible-doc", "lvs.cluster.ipvs_service"], cwd=work, env=env)
            print(f"README.md:{block.line} ({block.section}): {' && '.join(block.commands())}: "
                  f"lvs.cluster {want} installed, ansible-doc works ({time.monotonic() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
