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

    def series(get):
        """(entries, seconds) of the sizes where this way has a figure (a failed role run has none)."""
        pts = []
        for r in rows:
            try:
                value = get(r)
            except KeyError:
                continue
            if value is not None:  # a naive run not timed
                pts.append((r["entries"], value))
        return pts

    ways = [
        ("naive: one ipvsadm task per entry", series(lambda r: r["naive"]["seconds"]), "tab:red"),
        ("director role, first converge (whole play)", series(lambda r: r["role"]["first"]), "tab:blue"),
        ("director role, no-op re-run (whole play)", series(lambda r: r["role"]["noop"]), "tab:cyan"),
        ("director role, 10% of real servers replaced", series(lambda r: r["role"]["replace10"]), "tab:olive"),
        ("Ansible alone: same number of empty tasks", series(lambda r: r["ansible_floor"]), "tab:gray"),
        ("its ipvs_table task", series(lambda r: r["role"]["first_ipvs_task"]), "tab:purple"),
        ("ipvs_table module alone, first converge", series(lambda r: r["module"]["seconds"]), "tab:green"),
        ("ipvs_table module alone, no-op", series(lambda r: r["module"]["noop"]["seconds"]), "tab:brown"),
        ("floor: ipvsadm -R of the same rules", series(lambda r: r["floor"]["seconds"]), "black"),
    ]
    fig, ax = plt.subplots(figsize=(9, 6))
    for label, pts, color in ways:
        if pts:
            ax.plot(*zip(*pts), marker="o", label=label, color=color)
    guessed = [(r["entries"], r["naive"]["seconds"]) for r in rows
               if not r["naive"]["measured"] and r["naive"]["seconds"] is not None]
    if guessed:
        ax.scatter(*zip(*guessed), s=120, facecolors="white", edgecolors="tab:red", zorder=3,
                   label="naive, extrapolated (not run)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("IPVS table entries (N services x (1 + M real servers))")
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
