# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The code blocks of README.md, by section: what the README tells users to run is
what the tests run (tests/readme/install.py, molecule/quickstart), never a copy.

A block is fenced with ``` (indented under a list item or not); `section` is the
`## ` heading above it. A block whose first line is `# NAME` is the content of the
file NAME (a requirements.yml, or the lines to edit in a copied example).
"""
from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^(\s*)```(\w*)\s*$")


@dataclass(frozen=True)
class Block:
    section: str
    lang: str
    text: str
    line: int

    @property
    def file(self) -> str | None:
        """NAME when the first line is `# NAME`, a file's content follows."""
        first = self.text.splitlines()[0] if self.text else ""
        m = re.fullmatch(r"#\s+(\S+\.ya?ml)", first.strip())
        return m.group(1) if m else None

    def commands(self) -> list[str]:
        """A shell block's commands, one per line, without trailing comments."""
        out = []
        for line in self.text.splitlines():
            line = re.sub(r"\s+#\s.*$", "", line).strip()
            if line and not line.startswith("#"):
                out.append(line)
        return out


def blocks(readme: Path = ROOT / "README.md") -> list[Block]:
    found, section, fence, start, body = [], "", None, 0, []
    for n, line in enumerate(readme.read_text().splitlines(), 1):
        m = FENCE.match(line)
        if fence is None:
            if line.startswith("## "):
                section = line[3:].strip()
            elif m:
                fence, start, body = m, n, []
        elif m and m.group(1) == fence.group(1) and not m.group(2):
            found.append(Block(section, fence.group(2), textwrap.dedent("\n".join(body)), start))
            fence = None
        else:
            body.append(line)
    if fence is not None:
        raise ValueError(f"README.md:{start}: code block never closed")
    return found


def section(name: str, lang: str | None = None) -> list[Block]:
    chosen = [b for b in blocks() if b.section == name and (lang is None or b.lang == lang)]
    if not chosen:
        raise ValueError(f"README.md has no {lang or ''} code block under '## {name}'")
    return chosen


def edits(block: Block) -> dict[str, list[str]]:
    """The lines a yaml block tells the user to edit, by file: `# FILE` starts a file."""
    files: dict[str, list[str]] = {}
    current = None
    for line in block.text.splitlines():
        m = re.fullmatch(r"#\s+(\S+)", line.strip())
        if m:
            current = files.setdefault(m.group(1), [])
        elif line.strip():
            if current is None:
                raise ValueError(f"README.md:{block.line}: an edited line before any '# FILE' line")
            current.append(line)
    return files
