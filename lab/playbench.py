"""`make lab-bench`: what an Ansible play costs in the lab VM against the host.

The same play, ten empty `command: true` tasks on localhost over the local
connection, timed on the host and in the lab VM, rounds interleaved so that
the machine's drift hits both alike; prints each round, the medians and
their ratio, and the kernel the VM ran.

  python3 lab/playbench.py --ansible-playbook .venv/bin/ansible-playbook [--rounds N]
  python3 lab/playbench.py --inside      (in the VM: one timing, as a JSON line)
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LAB = Path(__file__).resolve().parent / "lab.py"
MARK = "@@playbench"
TASKS = 10


def time_play(ansible_playbook: str) -> float:
    play = [{"name": "Empty tasks", "hosts": "localhost", "connection": "local", "gather_facts": False,
             "tasks": [{"name": f"Empty task {i + 1}", "ansible.builtin.command": "true", "changed_when": False}
                       for i in range(TASKS)]}]
    python = str(Path(ansible_playbook).resolve().parent / "python3")
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as playbook:
        json.dump(play, playbook)
        playbook.flush()
        start = time.monotonic()
        subprocess.run([ansible_playbook, "-i", "localhost,", "-e", f"ansible_python_interpreter={python}",
                        playbook.name], check=True, stdout=subprocess.DEVNULL,
                       env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
        return time.monotonic() - start


def in_lab() -> tuple[float, str]:
    result = subprocess.run([sys.executable, str(LAB), "run", "--", "python3", "lab/playbench.py", "--inside"],
                            capture_output=True, text=True, check=False)
    found = re.search(rf"^{MARK} (.*)$", result.stdout, re.M)
    if result.returncode or not found:
        raise SystemExit(f"lab bench: the play failed in the VM:\n{result.stdout}{result.stderr}")
    kernel = re.search(r"^\[lab\] (kernel: .*)$", result.stderr, re.M)
    return json.loads(found.group(1))["seconds"], kernel.group(1) if kernel else "kernel: ?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ansible-playbook", default="ansible-playbook")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        print(f"{MARK} " + json.dumps({"seconds": round(time_play("/opt/lab/venv/bin/ansible-playbook"), 2)}))
        return 0
    host, lab, kernel = [], [], ""
    print(f"an empty play ({TASKS} tasks, connection local), host and lab VM interleaved, {args.rounds} rounds")
    for i in range(args.rounds):
        host.append(time_play(args.ansible_playbook))
        seconds, kernel = in_lab()
        lab.append(seconds)
        print(f"  round {i + 1}: host {host[-1]:5.1f} s   lab {lab[-1]:5.1f} s   ratio {lab[-1] / host[-1]:4.1f}x",
              flush=True)
    h, v = statistics.median(host), statistics.median(lab)
    print(f"median: host {h:.1f} s, lab {v:.1f} s, ratio {v / h:.1f}x ({kernel})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
