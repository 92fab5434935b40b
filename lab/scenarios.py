"""Run Molecule scenarios in several lab VMs side by side.

A UML VM uses one host core, so on an N-core machine N VMs finish the
scenarios about N times sooner. Each VM gets a share of the scenarios,
balanced by their usual duration, and runs them one after another
(lab/guest/scenarios.sh); output lines carry the VM's tag.

  lab.py scenarios [--jobs N] [SCENARIO...]    (default: every scenario)
"""
from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import vm

# Seconds a scenario took in the lab (own kernel, seccomp mode, each VM pinned
# to its own CPU, a full `make test` on a 2-core machine): only used to split
# the work evenly; unknown scenarios count as 300.
USUAL_SECONDS = {
    "smoke": 75, "nat": 224, "dr": 313, "tun": 249, "mixed": 206, "modules": 706, "ha": 671, "lifecycle": 1782,
    "quickstart": 514,
}


# Scenarios whose verifiers bound wall-clock times (health-check detection,
# VRRP failover): last in their VM, once `make test`'s static checks have
# left the host's CPUs to the VMs.
TIMED = {"ha"}


def all_scenarios(root: Path) -> list[str]:
    return sorted(p.parent.name for p in (root / "molecule").glob("*/molecule.yml"))


def split(scenarios: list[str], jobs: int) -> list[list[str]]:
    """The shares with the shortest longest VM: every assignment where there
    are few (a handful of scenarios), longest first onto the least loaded VM
    (LPT) beyond that."""
    n = max(1, min(jobs, len(scenarios)))
    order = sorted(scenarios, key=lambda s: -USUAL_SECONDS.get(s, 300))
    cost = [USUAL_SECONDS.get(s, 300) for s in order]
    if n ** len(order) <= 100_000:
        best = min(itertools.product(range(n), repeat=len(order)),
                   key=lambda vms: max(sum(c for c, v in zip(cost, vms) if v == i) for i in range(n)))
    else:
        load, best = [0] * n, []
        for c in cost:
            best.append(load.index(min(load)))
            load[best[-1]] += c
    shares: list[list[str]] = [[] for _vm in range(n)]
    for name, vm_index in zip(order, best):
        shares[vm_index].append(name)
    return [sorted(share, key=lambda s: s in TIMED) for share in shares if share]


def _pump(tag: str, proc: subprocess.Popen, lock: threading.Lock) -> None:
    for line in proc.stdout:
        with lock:
            sys.stdout.write(f"[{tag}] {line}")
            sys.stdout.flush()


def run(root: Path, names: list[str], jobs: int, lab_argv: list[str]) -> int:
    names = names or all_scenarios(root)
    unknown = [n for n in names if not (root / "molecule" / n / "molecule.yml").is_file()]
    if unknown:
        raise SystemExit(f"lab scenarios: no such scenario: {', '.join(unknown)}")
    shares = split(names, jobs)
    vm.log(f"{len(names)} scenarios in {len(shares)} VMs: "
           + "; ".join(f"vm{i + 1}: {' '.join(s)}" for i, s in enumerate(shares)))
    lock = threading.Lock()
    procs, pumps = [], []
    start = time.monotonic()
    for i, share in enumerate(shares):
        argv = lab_argv + ["run", "--", "sh", "lab/guest/scenarios.sh", *share]
        # setsid: an interrupt reaches this process, which stops each VM in turn
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, bufsize=1, cwd=root, start_new_session=True)
        procs.append(proc)
        pump = threading.Thread(target=_pump, args=(f"vm{i + 1}", proc, lock), daemon=True)
        pump.start()
        pumps.append(pump)
    try:
        codes = [p.wait() for p in procs]
    except KeyboardInterrupt:
        vm.log("interrupted: stopping the VMs")
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            p.wait()
        return 130
    for pump in pumps:
        pump.join()
    elapsed = time.monotonic() - start
    for i, (share, code) in enumerate(zip(shares, codes)):
        vm.log(f"vm{i + 1} ({' '.join(share)}): {'passed' if code == 0 else f'FAILED (exit {code})'}")
    vm.log(f"scenarios: {len(names)} in {elapsed:.0f} s, "
           f"{sum(1 for c in codes if c == 0)} of {len(codes)} VMs passed")
    return 0 if all(c == 0 for c in codes) else 1


def default_jobs() -> int:
    return int(os.environ.get("LAB_JOBS") or min(4, os.cpu_count() or 1))
