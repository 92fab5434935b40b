"""Converge N virtual services x M real servers, four ways, on a real kernel IPVS.

Runs as root on a director host (the lab VM: `make bench`). For each size,
four operations: a first converge into an empty table, a no-op re-run, one
weight changed (exactly one `-e`, the rest of the table untouched, no flush)
and every tenth real server replaced by a new address (a rolling redeploy):

  role     the lvs.cluster.director role in a play (connection local, static
           engine), with the controller's peak RSS;
  module   lvs.cluster.ipvs_table run directly, outside Ansible: the
           collection's own cost, with its peak RSS;
  empty    a play of as many empty tasks as the role ran: Ansible's own cost;
  naive    one ansible.builtin.command task item per `ipvsadm -A` / `-a`
           (only where it is predicted to end within --naive-limit seconds;
           larger sizes are extrapolated from the largest measured one and
           labelled so);
  floor    `ipvsadm -R` of the same rules into an empty table, timed alone.

Each of them runs in a network namespace of its own (see own_netns), the
keepalived engine in its node container.

Writes results JSON (for benchmarks/plot.py) and prints a table with the
ratios the role and the module are held to, all from the same run.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
IFACE = "lvsbench0"
MODULE = "ansible_collections.lvs.cluster.plugins.modules.ipvs_table"
NSENTER = HERE.parent / "molecule" / "shared" / "plugins" / "connection"
KA_NODE = "lvsbench-director"   # the keepalived engine's director: a node container booting systemd
KA_IMAGE = "localhost/lvs-lab/node:bookworm"
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


NETNS = []  # ["ip", "netns", "exec", NAME] while the runs have a network namespace of their own


def sh(argv, data=None, check=True):
    return subprocess.run(NETNS + argv, input=data, capture_output=True, text=True, check=check)


@contextlib.contextmanager
def own_netns(name):
    """Run what follows in a fresh network namespace: its own empty IPVS table.

    The kernel keeps deleted real servers in a trash list for a while, and
    walks the whole list on every real server added (ip_vs_trash_get_dest).
    After a flush of 45,000 entries, adding 45,000 took 13 s in the lab
    instead of 3 s: whatever ran second after a flush paid for the first.
    A namespace of its own gives each way the same empty start.
    """
    sh(["ip", "netns", "add", name])
    NETNS[:] = ["ip", "netns", "exec", name]
    try:
        sh(["ip", "link", "set", "lo", "up"])
        sh(["ip", "link", "add", IFACE, "type", "dummy"])
        sh(["ip", "link", "set", IFACE, "up"])
        yield
    finally:
        NETNS[:] = []
        sh(["ip", "netns", "del", name], check=False)


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


def playbook(play, extra_vars, workdir, host="localhost", connection="local"):
    """Run a playbook; wall seconds and the per-task results (json callback)."""
    vars_file = Path(workdir) / "vars.json"
    vars_file.write_text(json.dumps(extra_vars))
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_CALLBACK_RESULT_FORMAT="json", ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
               ANSIBLE_CONNECTION_PLUGINS=str(NSENTER))
    if connection != "local":  # the node container's own Python
        env["ANSIBLE_PYTHON_INTERPRETER"] = "/usr/bin/python3"
    wall, rc, out, err, rss = timed(["ansible-playbook", "-i", f"{host},", "-c", connection,
                                     str(HERE / play), "-e", f"@{vars_file}"], env, PLAY_LIMIT)
    if rc != 0:
        sys.stderr.write(out[-4000:] + err[-4000:])
        raise SystemExit(f"{play} failed (exit {rc})")
    PEAKS.append(rss)
    tasks = []
    for play_out in json.loads(out)["plays"]:
        for task in play_out["tasks"]:
            t = task["task"]
            times = t["duration"]
            tasks.append({"name": t["name"], "seconds": _span(times),
                          "result": task["hosts"].get(host, {})})
    return wall, tasks


PEAKS = []  # the controller's peak RSS (MB) of each play run, for the row being measured

# Python's allocator hands its 1 MiB arenas back to the kernel as they empty
# and maps new ones, and under User-Mode Linux every mapping and fresh page
# is dear: at 5,000 x 8 the role's argument validation took more than 300 s in
# the lab VM (8 s on the host, linear in N there), 20 s with glibc's malloc
# keeping what it took. A cost of the lab, not of a director: every Python the
# benchmark starts (Ansible, its workers, the modules) runs this way above
# LAB_MALLOC_ENTRIES; below, Python's own allocator is the faster one here
# (2,500 x 8: 6 s against 10 s).
LAB_MALLOC = {"PYTHONMALLOC": "malloc", "MALLOC_TRIM_THRESHOLD_": str(4 << 30),
              "MALLOC_MMAP_THRESHOLD_": str(4 << 30), "MALLOC_TOP_PAD_": str(512 << 20)}
LAB_MALLOC_ENTRIES = 20000


def lab_allocator(entries):
    """Set the allocator of every Python started from here on for a table of this many entries."""
    for name, value in LAB_MALLOC.items():
        if entries > LAB_MALLOC_ENTRIES:
            os.environ[name] = value
        else:
            os.environ.pop(name, None)
    return entries > LAB_MALLOC_ENTRIES


# A play that has not ended by then is stopped and counted as failed (the
# slowest at 5,000 x 8 takes about 80 s): a stuck run shows in the results
# instead of holding the whole benchmark.
PLAY_LIMIT = 900


def timed(argv, env=None, limit=None):
    """Run argv: (wall seconds, rc, stdout, stderr, peak RSS in MB of it and its children, from wait4)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.monotonic()
        proc = subprocess.Popen(NETNS + argv, stdout=out, stderr=err, env=env, start_new_session=True)
        timer = threading.Timer(limit, os.killpg, (proc.pid, signal.SIGKILL)) if limit else None
        if timer:
            timer.start()
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        if timer:
            timer.cancel()
            if wall >= limit:
                raise SystemExit(f"{' '.join(argv[:2])} did not finish in {limit} s (stopped)")
        out.seek(0)
        err.seek(0)
        return wall, os.waitstatus_to_exitcode(status), out.read(), err.read(), usage.ru_maxrss / 1024.0


def _span(duration):
    from datetime import datetime
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    return (datetime.strptime(duration["end"], fmt)
            - datetime.strptime(duration["start"], fmt)).total_seconds()


def ipvs_task(tasks):
    return next(t for t in tasks if "Converge the IPVS table" in t["name"])


def one_weight(services):
    """The model with the first real server's weight changed: exactly one -e."""
    changed = json.loads(json.dumps(services))
    changed[0]["real_servers"][0]["weight"] += 10
    return changed


def replaced(services):
    """The model with every tenth real server replaced by a new address (a rolling redeploy)."""
    changed = json.loads(json.dumps(services))
    k = 0
    for svc in changed:
        for rs in svc["real_servers"]:
            if k % 10 == 0:  # 172.24/13 and up: never one of model()'s 172.16/16
                rs["address"] = f"172.{24 + k // 62500}.{k // 250 % 250}.{1 + k % 250}"
            k += 1
    return changed


OPERATIONS = ("first", "noop", "one_weight", "replace10")


def run_role(services, workdir):
    # ipvsadm is part of the lab image (and its venv Python has no apt bindings)
    base = {"lvs_virtual_services": services, "director_vip_interface": IFACE,
            "director_install_package": False}
    flush()
    del PEAKS[:]
    first, first_tasks = playbook("director.yml", base, workdir)
    after_first = table()
    noop, noop_tasks = playbook("director.yml", base, workdir)
    one, one_tasks = playbook("director.yml", dict(base, lvs_virtual_services=one_weight(services)), workdir)
    after_one = table()
    moved = replaced(services)
    repl, repl_tasks = playbook("director.yml", dict(base, lvs_virtual_services=moved), workdir)
    after_repl = table()
    commands = ipvs_task(one_tasks)["result"].get("commands")
    removed = sorted(set(after_first.splitlines()) - set(after_one.splitlines()))
    added = sorted(set(after_one.splitlines()) - set(after_first.splitlines()))
    # What the issue holds the role to: a no-op changes nothing, one weight is
    # exactly one in-place edit (the batch fed to ipvsadm -R), no flush; the
    # replaced real servers leave and the new ones arrive, nothing else moves.
    problems = []
    if any(t["result"].get("changed") for t in noop_tasks):
        problems.append("the no-op re-run reported changes: "
                        + ", ".join(t["name"] for t in noop_tasks if t["result"].get("changed")))
    if commands is None or len(commands) != 1 or not commands[0].startswith("-e "):
        problems.append(f"one weight changed gave the batch {commands}")
    if len(removed) != 1 or len(added) != 1:
        problems.append(f"one weight changed the table by -{removed} +{added}")
    if sorted(after_repl.splitlines()) != sorted(saved(moved).splitlines()):
        problems.append("10% of real servers replaced: the table is not the model's")
    if problems:
        raise SystemExit("director role: " + "; ".join(problems))
    return {
        "first": first, "noop": noop, "one_weight": one, "replace10": repl,
        "first_ipvs_task": ipvs_task(first_tasks)["seconds"],
        "noop_ipvs_task": ipvs_task(noop_tasks)["seconds"],
        "one_weight_ipvs_task": ipvs_task(one_tasks)["seconds"],
        "replace10_ipvs_task": ipvs_task(repl_tasks)["seconds"],
        "tasks": len(first_tasks),
        # where a no-op's time goes (Ansible's own tasks included, argument validation first)
        "noop_slowest_tasks": [(t["name"], round(t["seconds"], 2))
                               for t in sorted(noop_tasks, key=lambda t: -t["seconds"])[:6]],
        "controller_peak_rss_mb": max(PEAKS),
        "one_weight_commands": commands,
        "one_weight_table_lines": {"removed": removed, "added": added},
        "entries_after_first": len(after_first.splitlines()),
    }


class KeepalivedNode:
    """The lab's node image (systemd, keepalived) as a director of its own network namespace."""

    def __enter__(self):
        sh(["podman", "run", "--detach", "--replace", "--name", KA_NODE, "--hostname", KA_NODE, "--privileged",
            "--systemd=always", "--stop-signal=SIGRTMIN+3", "--network=none", KA_IMAGE, "/sbin/init"])
        sh(["podman", "exec", KA_NODE, "systemctl", "is-system-running", "--wait"], check=False)
        self.pid = sh(["podman", "inspect", "--format", "{{.State.Pid}}", KA_NODE]).stdout.strip()
        for argv in (["ip", "link", "add", IFACE, "type", "dummy"], ["ip", "address", "add", "192.0.2.1/24", "dev", IFACE],
                     ["ip", "link", "set", IFACE, "multicast", "on", "up"]):  # VRRP adverts
            self.netns(argv)
        return self

    def __exit__(self, *exc):
        sh(["podman", "rm", "--force", "--time", "0", KA_NODE], check=False)

    def netns(self, argv, check=True):
        """argv (the VM's tools) in the container's network namespace: its own IPVS table."""
        return sh(["nsenter", "-t", self.pid, "-n"] + argv, check=check)

    def table(self):
        return sorted(self.netns(["ipvsadm", "-S", "-n"]).stdout.splitlines())


def until_table(node, want, start, stop, limit=900):
    """Seconds from `start` until the node's table is `want` (sorted -S -n lines); None after `limit` s.

    Polls while the play runs and after it ends (keepalived applies a reload
    on its own time), unless `stop` says the play failed. A poll reads and
    sorts the whole table, in the VM the play runs in: the pause after each
    is four times its cost, so that polling takes at most a fifth of the CPU
    (at 45,000 entries a poll costs about a second).
    """
    while time.monotonic() - start < limit and not stop.is_set():
        polled = time.monotonic()
        if node.table() == want:
            return time.monotonic() - start
        time.sleep(max(0.2, 4 * (time.monotonic() - polled)))
    return None


def keepalived_play(node, services, workdir, want):
    """The role with the keepalived engine: play seconds, and seconds until the kernel table is the model."""
    found, stop = {}, threading.Event()
    start = time.monotonic()
    watcher = threading.Thread(target=lambda: found.update(seconds=until_table(node, want, start, stop)))
    watcher.start()
    try:
        wall, tasks = playbook("director.yml", {
            "lvs_virtual_services": services, "director_vip_interface": IFACE, "director_install_package": False,
            "director_engine": "keepalived", "director_health_check": {"type": "none"}},
            workdir, host=KA_NODE, connection="nsenter")
    except SystemExit:
        stop.set()
        raise
    finally:
        watcher.join()
    if found.get("seconds") is None:
        raise SystemExit("keepalived engine: the kernel table never became the model's")
    changed = [t["name"] for t in tasks if t["result"].get("changed")]
    return {"play": wall, "table": found["seconds"], "changed": changed}


def run_keepalived(services, workdir):
    """The role with the keepalived engine, the same four operations, and keepalived alone loading the table."""
    with KeepalivedNode() as node:
        want = {name: sorted(saved(m).splitlines())
                for name, m in (("model", services), ("one_weight", one_weight(services)),
                                ("replace10", replaced(services)))}
        out = {"first": keepalived_play(node, services, workdir, want["model"]),
               "noop": keepalived_play(node, services, workdir, want["model"]),
               "one_weight": keepalived_play(node, one_weight(services), workdir, want["one_weight"])}
        keepalived_play(node, services, workdir, want["model"])  # back to the model, as the static way
        out["replace10"] = keepalived_play(node, replaced(services), workdir, want["replace10"])
        if out["noop"]["changed"]:
            raise SystemExit(f"keepalived engine: the no-op re-run changed {out['noop']['changed']}")
        # keepalived alone: stopped, the table flushed, started on the config the role wrote
        sh(["podman", "exec", KA_NODE, "systemctl", "stop", "keepalived"])
        node.netns(["ipvsadm", "-C"])
        start = time.monotonic()
        sh(["podman", "exec", KA_NODE, "systemctl", "start", "keepalived"])
        seconds = until_table(node, want["replace10"], start, threading.Event())
        if seconds is None:
            raise SystemExit("keepalived alone: the kernel table never became the model's")
        out["alone_first"] = seconds
    return out


def saved(services):
    """What ipvsadm -S -n prints for this model (the floor restores it into an empty table)."""
    flush()
    sh(["ipvsadm", "-R"], data=rules(services))
    text = table()
    flush()
    return text


def module_items(services):
    items = []
    for s in services:
        s = dict(s, real_servers=[dict(r, forwarding="dr") for r in s["real_servers"]])
        s.pop("forwarding")
        items.append(s)
    return items


def module_once(services, tmp):
    """ipvs_table executed directly, outside Ansible: wall, kernel operations, its peak RSS (wait4)."""
    args_file = Path(tmp) / "args.json"
    # as the role calls it: the table as one JSON text, none carried back in the result
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {
        "services_json": json.dumps(module_items(services)), "purge": "all", "return_table": False}}))
    wall, _rc, out, _err, rss = timed([sys.executable, "-m", MODULE, str(args_file)])
    try:
        result = json.loads(out)
    except ValueError:
        raise SystemExit(f"ipvs_table did not answer JSON: {out[-2000:]}")
    if result.get("failed"):
        raise SystemExit(f"ipvs_table failed: {result.get('msg')}")
    return {"seconds": wall, "commands": len(result["commands"]), "peak_rss_mb": rss, "backend": result.get("backend")}


def run_module(services):
    """ipvs_table alone, the role's four operations in the same order: first into an empty table."""
    flush()
    with tempfile.TemporaryDirectory() as tmp:
        out = {"first": module_once(services, tmp), "noop": module_once(services, tmp),
               "one_weight": module_once(one_weight(services), tmp)}
        module_once(services, tmp)  # back to the model, so that replace10 starts where the role's does
        out["replace10"] = module_once(replaced(services), tmp)
    flush()
    if out["noop"]["commands"] or out["one_weight"]["commands"] != 1:
        raise SystemExit(f"ipvs_table alone: no-op {out['noop']['commands']} and one weight "
                         f"{out['one_weight']['commands']} kernel operations (0 and 1 expected)")
    # the first converge's figures where one figure is asked for (older results, the plot)
    out.update(seconds=out["first"]["seconds"], peak_rss_mb=max(out[k]["peak_rss_mb"] for k in OPERATIONS))
    return out


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
    parser.add_argument("--sizes", default="10,100,1000,5000,2284x16",
                        help="N (services, with --real-servers each) or NxM, comma-separated; 2284x16 is the "
                             "largest configuration keepalived's users report (keepalived issue #2318)")
    parser.add_argument("--real-servers", type=int, default=8, help="M where a size does not give it")
    parser.add_argument("--engines", default="static,keepalived",
                        help="the role's engines to time (keepalived runs in a node container of the lab)")
    parser.add_argument("--naive-limit", type=float, default=600,
                        help="seconds a naive run may take (0: no naive run)")
    parser.add_argument("--out", default=str(HERE / "results" / "latest.json"))
    args = parser.parse_args()
    sizes = [tuple(int(v) for v in (size.split("x") + [args.real_servers])[:2]) for size in args.sizes.split(",")]
    sh(["modprobe", "ip_vs"])
    # The lab VM boots without systemd; a real director has this folder.
    Path("/etc/modules-load.d").mkdir(exist_ok=True)
    if sh(["ip", "link", "show", IFACE], check=False).returncode != 0:
        sh(["ip", "link", "add", IFACE, "type", "dummy"])
        sh(["ip", "link", "set", IFACE, "up"])
    results = {"host": {"kernel": platform.release(), "python": platform.python_version(),
                        "ipvsadm": sh(["ipvsadm", "--version"]).stdout.strip(),
                        "ansible": sh(["ansible", "--version"]).stdout.splitlines()[0]},
               "sizes": []}
    naive_rate = None  # seconds per entry, from the largest measured naive run
    with tempfile.TemporaryDirectory() as workdir:
        collection_root(workdir)
        for n, m in sizes:
            services = model(n, m)
            entries = n * (1 + m)
            row = {"n": n, "m": m, "entries": entries, "glibc_malloc": lab_allocator(entries)}
            print(f"== N={n} x M={m} ({entries} entries)", flush=True)
            with own_netns(f"lvsbench-floor-{n}x{m}"):
                row["floor"] = run_floor(services)
            print(f"   floor ipvsadm -R: {row['floor']['seconds']:.3f} s", flush=True)
            with own_netns(f"lvsbench-module-{n}x{m}"):
                row["module"] = run_module(services)
            mod = row["module"]
            print("   ipvs_table alone: " + ", ".join(f"{op} {mod[op]['seconds']:.2f} s" for op in OPERATIONS)
                  + f", peak RSS {mod['peak_rss_mb']:.0f} MB", flush=True)
            try:
                with own_netns(f"lvsbench-role-{n}x{m}"):
                    row["role"] = run_role(services, workdir)
            except SystemExit as exc:  # recorded, so that the other sizes still count
                row["role_error"] = str(exc)
                print(f"   director role FAILED: {exc}", flush=True)
            if "role" in row:
                r = row["role"]
                print("   director role: "
                      + ", ".join(f"{op} {r[op]:.2f} s (ipvs_table task {r[op + '_ipvs_task']:.2f} s)" for op in OPERATIONS)
                      + f"; one weight: {r['one_weight_commands']}; controller peak RSS "
                        f"{r['controller_peak_rss_mb']:.0f} MB", flush=True)
                row["ansible_floor"] = run_ansible_floor(r["tasks"], workdir)
                print(f"   Ansible alone, {r['tasks']} empty tasks: {row['ansible_floor']:.2f} s", flush=True)
            if "keepalived" in args.engines.split(","):
                try:
                    row["keepalived"] = run_keepalived(services, workdir)
                except SystemExit as exc:
                    row["keepalived_error"] = str(exc)
                    print(f"   keepalived engine FAILED: {exc}", flush=True)
            if "keepalived" in row:
                k = row["keepalived"]
                print("   keepalived engine: " + ", ".join(f"{op} play {k[op]['play']:.2f} s, table {k[op]['table']:.2f} s"
                                                           for op in OPERATIONS)
                      + f"; keepalived alone into an empty table {k['alone_first']:.2f} s", flush=True)
            predicted = naive_rate * entries if naive_rate else 0
            if args.naive_limit <= 0:  # not timed at all (and nothing to extrapolate from)
                row["naive"] = {"seconds": None, "measured": False}
            elif predicted <= args.naive_limit:
                with own_netns(f"lvsbench-naive-{n}x{m}"):
                    row["naive"] = run_naive(services, workdir)
                row["naive"]["measured"] = True
                naive_rate = row["naive"]["seconds"] / entries
            else:
                row["naive"] = {"seconds": naive_rate * entries, "measured": False}
            if row["naive"]["seconds"] is not None:
                print(f"   naive: {row['naive']['seconds']:.1f} s"
                      f"{'' if row['naive']['measured'] else ' (extrapolated)'}", flush=True)
            flush()
            row["ratios"] = ratios(row)
            results["sizes"].append(row)
            save(results, args.out)  # after each size: a later failure keeps these
    print(report(results))
    return 0


def save(results, path):
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))


def ratios(row):
    """The issue's ratios, from one run: the role against Ansible's own cost plus the module's, the module
    against the floor."""
    mod = row["module"]
    out = {"module / floor": mod["first"]["seconds"] / row["floor"]["seconds"]}
    if "role" in row:
        r, empty = row["role"], row["ansible_floor"]
        for op in OPERATIONS:
            out[f"role {op} / (empty + module {op})"] = r[op] / (empty + mod[op]["seconds"])
    return out


def report(results):
    cols = ["N x M", "entries", "floor s", "module first / no-op / 1 weight / 10% s", "role first / no-op / "
            "1 weight / 10% s", "empty play s", "naive s", "role no-op / (empty + module no-op)",
            "role first / (empty + module first)", "module / floor", "RSS module / controller MB"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in results["sizes"]:
        mod, nv = row["module"], row["naive"]
        naive = "-" if nv["seconds"] is None else f"{nv['seconds']:.1f}" + ("" if nv["measured"] else " (extrapolated)")
        rt = ratios(row)
        r = row.get("role")
        cells = [f"{row['n']} x {row['m']}", row["entries"], f"{row['floor']['seconds']:.2f}",
                 " / ".join(f"{mod[op]['seconds']:.1f}" for op in OPERATIONS),
                 " / ".join(f"{r[op]:.1f}" for op in OPERATIONS) if r else "failed: " + row.get("role_error", "?")[:60],
                 f"{row['ansible_floor']:.1f}" if r else "-", naive,
                 f"{rt['role noop / (empty + module noop)']:.2f}" if r else "-",
                 f"{rt['role first / (empty + module first)']:.2f}" if r else "-",
                 f"{rt['module / floor']:.2f}",
                 f"{mod['peak_rss_mb']:.0f} / " + (f"{r['controller_peak_rss_mb']:.0f}" if r else "-")]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    lines += ["", "Engine against engine: seconds from the start of the play until the kernel table is the "
              "model (static: the play; keepalived: the play, and its own table time)", "",
              "| N x M | operation | static role | keepalived role: play | keepalived role: table | "
              "module alone | keepalived alone |", "|---|---|---|---|---|---|---|"]
    for row in results["sizes"]:
        if "keepalived" not in row:
            continue
        k, r, mod = row["keepalived"], row.get("role"), row["module"]
        for op in OPERATIONS:
            lines.append(f"| {row['n']} x {row['m']} | {op} | " + (f"{r[op]:.1f}" if r else "-")
                         + f" | {k[op]['play']:.1f} | {k[op]['table']:.1f} | {mod[op]['seconds']:.1f} | "
                         + (f"{k['alone_first']:.1f}" if op == "first" else "-") + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
