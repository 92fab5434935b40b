"""Plot a converge.py result: seconds against table entries, one line per way.

  python benchmarks/plot.py RESULTS.json OUT.png

Runs on the host (matplotlib, benchmarks/requirements.txt); the measurement
itself runs in the lab.
"""
from __future__ import annotations

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(src: str, dest: str) -> int:
    results = json.load(open(src))
    rows = results["sizes"]
    x = [r["entries"] for r in rows]
    ways = [
        ("naive: one ipvsadm task per entry", [r["naive"]["seconds"] for r in rows], "tab:red"),
        ("director role, first converge (whole play)", [r["role"]["first"] for r in rows], "tab:blue"),
        ("director role, no-op re-run (whole play)", [r["role"]["noop"] for r in rows], "tab:cyan"),
        ("Ansible alone: same number of empty tasks", [r["ansible_floor"] for r in rows], "tab:gray"),
        ("its ipvs_table task", [r["role"]["first_ipvs_task"] for r in rows], "tab:purple"),
        ("ipvs_table module alone", [r["module"]["seconds"] for r in rows], "tab:green"),
        ("floor: ipvsadm -R of the same rules", [r["floor"]["seconds"] for r in rows], "black"),
    ]
    fig, ax = plt.subplots(figsize=(9, 6))
    for label, ys, color in ways:
        ax.plot(x, ys, marker="o", label=label, color=color)
    measured = [(xx, r["naive"]["seconds"]) for xx, r in zip(x, rows) if not r["naive"]["measured"]]
    if measured:
        ax.scatter(*zip(*measured), s=120, facecolors="white", edgecolors="tab:red", zorder=3,
                   label="naive, extrapolated (not run)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"IPVS table entries (N services x (1 + {results['m']} real servers))")
    ax.set_ylabel("wall seconds")
    ax.set_title(f"Converging an IPVS table in the lab VM ({results['host']['kernel']})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(dest, dpi=100)
    print(f"wrote {dest}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
