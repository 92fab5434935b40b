"""Converge N virtual services x M real servers, four ways, on a real kernel IPVS.

Runs as root on a director host (the lab VM: `make bench`). For each N:

  role     the lvs.cluster.director role in a play (connection local):
           first converge from an empty table, a no-op re-run, a re-run with
           one weight changed (its diff must be exactly one `-e` and the rest
           of the table untouched, no flush);
  module   lvs.cluster.ipvs_table run directly, outside Ansible, from an
           empty table: the collection's own cost, with its peak RSS;
  naive    one ansible.builtin.command task item per `ipvsadm -A` / `-a`
           (only where it is predicted to end within --naive-limit seconds;
           larger sizes are extrapolated from the largest measured one and
           labelled so);
  floor    `ipvsadm -R` of the same rules into an empty table, timed alone.

Writes results JSON (for benchmarks/plot.py) and prints a table with ratios
to the role and to the floor.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
IFACE = "lvsbench0"
MODULE = "ansible_collections.lvs.cluster.plugins.modules.ipvs_table"
SERVICES_PER_VIP = 1000   # the role puts each VIP on the NIC: keep VIPs few, ports many


def collection_root(workdir):
    """A collections folder holding this checkout as lvs.cluster (for -m and for plays)."""
    root = Path(workdir) / "collections"
    (root / "ansible_collections" / "lvs").mkdir(parents=True, exist_ok=True)
    link = root / "ansible_collections" / "lvs" / "cluster"
    if not link.exists():
        link.symlink_to(HERE.parent)
    os.environ["PYTHONPATH"] = str(root)
    # ours first, then the default paths (ansible.posix from the ansible package)
    os.environ["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join(
        [str(root), str(Path.home() / ".ansible/collections"), "/usr/share/ansible/collections"])


def sh(argv, data=None, check=True):
    return subprocess.run(argv, input=data, capture_output=True, text=True, check=check)


def model(n, m):
    """The inventory's lvs_virtual_services for n services x m DR real servers."""
    services = []
    for i in range(n):
        services.append({
            "name": f"svc{i}",
            "address": f"10.200.{i // SERVICES_PER_VIP}.1",
            "port": 10000 + i % SERVICES_PER_VIP,
            "scheduler": "wrr",
            "forwarding": "dr",
            "real_servers": [{"address": f"172.16.{1 + j}.{1 + i % 250}", "weight": 1 + j}
                             for j in range(m)],
        })
    return services


def rules(services):
    """The same table as ipvsadm -R input (what the floor restores)."""
    lines = []
    for s in services:
        key = f"-t {s['address']}:{s['port']}"
        lines.append(f"-A {key} -s {s['scheduler']}")
        lines += [f"-a {key} -r {r['address']}:{s['port']} -g -w {r['weight']}"
                  for r in s["real_servers"]]
    return "\n".join(lines) + "\n"


def table():
    return sh(["ipvsadm", "-S", "-n"]).stdout


def flush():
    sh(["ipvsadm", "-C"])


def playbook(play, extra_vars, workdir):
    """Run a playbook; wall seconds and the per-task results (json callback)."""
    vars_file = Path(workdir) / "vars.json"
    vars_file.write_text(json.dumps(extra_vars))
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_CALLBACK_RESULT_FORMAT="json", ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    start = time.monotonic()
    proc = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local",
                           str(HERE / play), "-e", f"@{vars_file}"],
                          capture_output=True, text=True, env=env, check=False)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"{play} failed (exit {proc.returncode})")
    tasks = []
    for play_out in json.loads(proc.stdout)["plays"]:
        for task in play_out["tasks"]:
            t = task["task"]
            times = t["duration"]
            tasks.append({"name": t["name"], "seconds": _span(times),
                          "result": task["hosts"].get("localhost", {})})
    return wall, tasks


def _span(duration):
    from datetime import datetime
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    return (datetime.strptime(duration["end"], fmt)
            - datetime.strptime(duration["start"], fmt)).total_seconds()


def ipvs_task(tasks):
    return next(t for t in tasks if "Converge the IPVS table" in t["name"])


def run_role(services, workdir):
    # ipvsadm is part of the lab image (and its venv Python has no apt bindings)
    base = {"lvs_virtual_services": services, "director_vip_interface": IFACE,
            "director_install_package": False}
    flush()
    first, first_tasks = playbook("director.yml", base, workdir)
    after_first = table()
    noop, noop_tasks = playbook("director.yml", base, workdir)
    changed = json.loads(json.dumps(services))
    changed[0]["real_servers"][0]["weight"] += 10
    one, one_tasks = playbook("director.yml", dict(base, lvs_virtual_services=changed), workdir)
    after_one = table()
    commands = ipvs_task(one_tasks)["result"].get("commands")
    removed = sorted(set(after_first.splitlines()) - set(after_one.splitlines()))
    added = sorted(set(after_one.splitlines()) - set(after_first.splitlines()))
    # What the issue holds the role to: a no-op changes nothing, one weight is
    # exactly one in-place edit (the batch fed to ipvsadm -R), no flush.
    problems = []
    if any(t["result"].get("changed") for t in noop_tasks):
        problems.append("the no-op re-run reported changes: "
                        + ", ".join(t["name"] for t in noop_tasks if t["result"].get("changed")))
    if commands is None or len(commands) != 1 or not commands[0].startswith("-e "):
        problems.append(f"one weight changed gave the batch {commands}")
    if len(removed) != 1 or len(added) != 1:
        problems.append(f"one weight changed the table by -{removed} +{added}")
    if problems:
        raise SystemExit("director role: " + "; ".join(problems))
    return {
        "first": first, "noop": noop, "one_weight": one,
        "first_ipvs_task": ipvs_task(first_tasks)["seconds"],
        "noop_ipvs_task": ipvs_task(noop_tasks)["seconds"],
        "one_weight_ipvs_task": ipvs_task(one_tasks)["seconds"],
        "tasks": len(first_tasks),
        "one_weight_commands": commands,
        "one_weight_table_lines": {"removed": removed, "added": added},
        "entries_after_first": len(after_first.splitlines()),
    }


def run_module(services):
    """ipvs_table executed directly, outside Ansible, into an empty table.

    Wall time and the peak RSS of that one process (os.wait4's rusage).
    """
    flush()
    items = []
    for s in services:
        s = dict(s, real_servers=[dict(r, forwarding="dr") for r in s["real_servers"]])
        s.pop("forwarding")
        items.append(s)
    with tempfile.TemporaryDirectory() as tmp:
        args_file, out_file = Path(tmp) / "args.json", Path(tmp) / "out.json"
        args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {"services": items, "purge": "all"}}))
        with out_file.open("w") as out:
            start = time.monotonic()
            proc = subprocess.Popen([sys.executable, "-m", MODULE, str(args_file)],
                                    stdout=out, stderr=subprocess.STDOUT)
            _pid, status, usage = os.wait4(proc.pid, 0)
            wall = time.monotonic() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
        text = out_file.read_text()
    try:
        result = json.loads(text)
    except ValueError:
        raise SystemExit(f"ipvs_table did not answer JSON: {text[-2000:]}")
    if result.get("failed"):
        raise SystemExit(f"ipvs_table failed: {result.get('msg')}")
    return {"seconds": wall, "commands": len(result["commands"]), "peak_rss_mb": usage.ru_maxrss / 1024.0}


def run_ansible_floor(task_count, workdir):
    """A play of as many empty tasks as the role ran: Ansible's own cost here."""
    play = [{"name": "Empty tasks", "hosts": "localhost", "gather_facts": False,
             "tasks": [{"name": f"Empty task {i}", "ansible.builtin.command": "true", "changed_when": False}
                       for i in range(task_count)]}]
    path = Path(workdir) / "empty.yml"
    path.write_text(json.dumps(play))
    wall, _tasks = playbook(str(path), {}, workdir)
    return wall


def run_floor(services):
    flush()
    data = rules(services)
    start = time.monotonic()
    sh(["ipvsadm", "-R"], data=data)
    wall = time.monotonic() - start
    entries = len(table().splitlines())
    flush()
    return {"seconds": wall, "entries": entries}


def run_naive(services, workdir):
    flush()
    cmds = []
    for s in services:
        key = ["-t", f"{s['address']}:{s['port']}"]
        cmds.append(["-A", *key, "-s", s["scheduler"]])
        cmds += [["-a", *key, "-r", f"{r['address']}:{s['port']}", "-g", "-w", str(r["weight"])]
                 for r in s["real_servers"]]
    wall, _tasks = playbook("naive.yml", {"naive_commands": cmds}, workdir)
    entries = len(table().splitlines())
    flush()
    return {"seconds": wall, "entries": entries}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,100,1000,5000", help="values of N")
    parser.add_argument("--real-servers", type=int, default=8, help="M")
    parser.add_argument("--naive-limit", type=float, default=600, help="seconds a naive run may take")
    parser.add_argument("--out", default=str(HERE / "results" / "latest.json"))
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    m = args.real_servers
    sh(["modprobe", "ip_vs"])
    # The lab VM boots without systemd; a real director has this folder.
    Path("/etc/modules-load.d").mkdir(exist_ok=True)
    if sh(["ip", "link", "show", IFACE], check=False).returncode != 0:
        sh(["ip", "link", "add", IFACE, "type", "dummy"])
        sh(["ip", "link", "set", IFACE, "up"])
    results = {"m": m, "host": {"kernel": platform.release(), "python": platform.python_version(),
                                "ipvsadm": sh(["ipvsadm", "--version"]).stdout.strip(),
                                "ansible": sh(["ansible", "--version"]).stdout.splitlines()[0]},
               "sizes": []}
    naive_rate = None  # seconds per entry, from the largest measured naive run
    with tempfile.TemporaryDirectory() as workdir:
        collection_root(workdir)
        for n in sizes:
            services = model(n, m)
            entries = n * (1 + m)
            row = {"n": n, "entries": entries}
            print(f"== N={n} x M={m} ({entries} entries)", flush=True)
            row["floor"] = run_floor(services)
            print(f"   floor ipvsadm -R: {row['floor']['seconds']:.3f} s", flush=True)
            row["module"] = run_module(services)
            print(f"   ipvs_table alone: {row['module']['seconds']:.3f} s, "
                  f"peak RSS {row['module']['peak_rss_mb']:.0f} MB", flush=True)
            try:
                row["role"] = run_role(services, workdir)
            except SystemExit as exc:  # recorded, so that the other sizes still count
                row["role_error"] = str(exc)
                print(f"   director role FAILED: {exc}", flush=True)
            if "role" in row:
                r = row["role"]
                print(f"   director role: first {r['first']:.2f} s (ipvs_table task {r['first_ipvs_task']:.2f} s), "
                      f"no-op {r['noop']:.2f} s ({r['noop_ipvs_task']:.2f} s), one weight {r['one_weight']:.2f} s "
                      f"({r['one_weight_ipvs_task']:.2f} s): {r['one_weight_commands']}", flush=True)
                row["ansible_floor"] = run_ansible_floor(r["tasks"], workdir)
                print(f"   Ansible alone, {r['tasks']} empty tasks: {row['ansible_floor']:.2f} s", flush=True)
            predicted = naive_rate * entries if naive_rate else 0
            if predicted <= args.naive_limit:
                row["naive"] = run_naive(services, workdir)
                row["naive"]["measured"] = True
                naive_rate = row["naive"]["seconds"] / entries
            else:
                row["naive"] = {"seconds": naive_rate * entries, "measured": False}
            print(f"   naive: {row['naive']['seconds']:.1f} s"
                  f"{'' if row['naive']['measured'] else ' (extrapolated)'}", flush=True)
            flush()
            results["sizes"].append(row)
            save(results, args.out)  # after each size: a later failure keeps these
    print(report(results))
    return 0


def save(results, path):
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))


def report(results):
    cols = ["N x M", "entries", "floor s", "ipvs_table alone s", "role first s", "its ipvs task s",
            "role no-op s", "role 1 weight s", "empty play s", "naive s", "naive / role", "role / floor",
            "ipvs task / floor", "module RSS MB"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in results["sizes"]:
        fl, nv = row["floor"]["seconds"], row["naive"]
        naive = f"{nv['seconds']:.1f}" + ("" if nv["measured"] else " (extrapolated)")
        head = [f"{row['n']} x {results['m']}", row["entries"], f"{fl:.3f}", f"{row['module']['seconds']:.2f}"]
        tail = [f"{row['module']['peak_rss_mb']:.0f}"]
        if "role" not in row:
            cells = head + ["failed: " + row.get("role_error", "?")[:60]] + ["-"] * 4 + [naive] + ["-"] * 3 + tail
        else:
            r = row["role"]
            cells = head + [f"{r['first']:.2f}", f"{r['first_ipvs_task']:.2f}", f"{r['noop']:.2f}",
                            f"{r['one_weight']:.2f}", f"{row['ansible_floor']:.2f}", naive,
                            f"{nv['seconds'] / r['first']:.1f}x", f"{r['first'] / fl:.1f}x",
                            f"{r['first_ipvs_task'] / fl:.1f}x"] + tail
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
