"""Helpers shared by the verifiers of the cluster scenarios.

Real traffic only: `requests` is one curl per request from the client (a new
TCP connection each, so IPVS schedules each one); `start_load`/`stop_load` run
a bounded stream in the background (lvs_load.py) while something changes.
"""
import collections
import contextlib
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import testinfra
import yaml


LOAD = Path(__file__).resolve().parent / "lvs_load.py"


# The Debian suites of the lab's node images (lab/image/recipe.py NODE_SUITES):
# the major release and keepalived line each ships, what a host of that suite
# must show. A platform without `suite:` runs bookworm (molecule/shared/create.yml).
SUITES = {"bookworm": {"debian": "12", "keepalived": "2.2."}, "trixie": {"debian": "13", "keepalived": "2.3."}}
VERSIONS = ("cut -d. -f1 /etc/debian_version; . /etc/os-release; echo $VERSION_CODENAME; "
            "python3 -c 'import sys; print(sys.version.split()[0])'; systemctl --version | head -n1; "
            # the hosts start bare: a real server or a client has neither
            "if command -v ipvsadm >/dev/null; then ipvsadm --version; else echo no ipvsadm; fi; "
            "if command -v keepalived >/dev/null; then keepalived --version 2>&1 | head -n1; else echo no keepalived; fi")


def assert_suites(scenario_dir, keepalived=()):
    """Every host runs the Debian release its platform names in molecule.yml
    (the mixed fleet is proven, not assumed: an image that silently is another
    suite fails here), and the hosts in `keepalived` run their suite's keepalived."""
    platforms = yaml.safe_load((Path(scenario_dir) / "molecule.yml").read_text())["platforms"]
    wanted = {p["name"]: p.get("suite", "bookworm") for p in platforms}
    found = {name: check_output(pid, VERSIONS).splitlines() for name, pid in pids(list(wanted)).items()}
    for name, suite in wanted.items():
        major, codename, python, systemd, ipvsadm, keepalived_v = found[name]
        print(f"{name}: {suite} (Debian {major}, {codename}), Python {python}, {systemd}, {ipvsadm}, {keepalived_v}")
    for name, suite in wanted.items():
        assert found[name][:2] == [SUITES[suite]["debian"], suite], f"{name}: expected {suite}, runs {found[name][:2]}"
    for name in keepalived:
        expected = "Keepalived v" + SUITES[wanted[name]]["keepalived"]
        assert found[name][5].startswith(expected), f"{name}: expected {expected}x, runs {found[name][5]}"
    return wanted


def host(name):
    return testinfra.get_host(f"podman://{name}")


# What the nsenter connection plugin gives a task: `podman exec` costs over a
# second in the lab VM, nsenter a few milliseconds.
CONTAINER_ENV = ["/usr/bin/env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                 "HOME=/root", "LANG=C.UTF-8"]


def pids(names):
    """Each container's PID 1 (a restart gives a new one): name -> pid."""
    out = subprocess.run(["podman", "container", "inspect", "--format", "{{.Name}} {{.State.Pid}}", *names],
                         capture_output=True, text=True, check=True).stdout
    return dict(line.split() for line in out.splitlines())


def check_output(pid, command):
    """A shell command's output in the container of PID 1 `pid` (see pids); fails on a non-zero exit."""
    return subprocess.run(["nsenter", "--target", pid, "--all", "--", *CONTAINER_ENV, "/bin/sh", "-c", command],
                          capture_output=True, text=True, check=True).stdout


def requests(vip, count, port=80, client="client", source=None):
    """Answers (the real servers' host names) of `count` requests, in order (an IPv6 vip in brackets),
    from the client's own address or from `source`, one of its addresses."""
    url = f"http://{vip}:{port}/"
    bind = f"--interface {source} " if source else ""
    # -g: the brackets of an IPv6 address are not a curl URL range. The loop
    # stops at the STOP_AFTER-th failure: the verdict is made, and the rest
    # would only wait out their timeouts (a dropped request costs 3 s).
    out = host(client).check_output(
        f"failed=0; for i in $(seq {count}); do curl -gsS -m 3 {bind}'{url}' && continue; echo FAILED; "
        f"failed=$((failed + 1)); [ $failed -lt {STOP_AFTER} ] || break; done")
    answers = out.split()
    counts = collections.Counter(answers)
    print(f"{count} requests to {url}: {dict(sorted(counts.items()))}")
    assert "FAILED" not in counts, (f"{counts['FAILED']} of {count} requests failed"
                                    + (f" (stopped after {len(answers)})" if len(answers) < count else ""))
    assert len(answers) == count, f"{len(answers)} answers to {count} requests"
    return counts


STOP_AFTER = 3  # failed requests


def assert_both_families(vip4, vip6, count=8):
    """A dual-stack service answers on both families, from every real server, in one run."""
    both = {vip: requests(vip, count) for vip in (vip4, f"[{vip6}]")}
    servers = [set(counts) for counts in both.values()]
    assert servers[0] == servers[1] and len(servers[0]) > 1, both


def assert_ratio(counts, weights, tolerance):
    """counts match weights (name -> weight) within +-tolerance requests each."""
    total = sum(counts.values())
    assert set(counts) == set(weights), f"answers {dict(counts)}, expected servers {set(weights)}"
    wsum = sum(weights.values())
    for name, weight in weights.items():
        expected = total * weight / wsum
        assert abs(counts[name] - expected) <= tolerance, (
            f"{name} answered {counts[name]} of {total}, expected {expected:g} +-{tolerance}")


def service_stats(director, key):
    """Counters of one service line of `ipvsadm -L -n --stats --exact`: key like 'TCP  1.2.3.4:80'."""
    stats = host(director).check_output("ipvsadm -L -n --stats --exact")
    for line in stats.splitlines():
        if line.startswith(key + " ") or line.split()[:2] == key.split():
            conns, inpkts, outpkts, inbytes, outbytes = (int(v) for v in line.split()[2:7])
            return dict(conns=conns, inpkts=inpkts, outpkts=outpkts,
                        inbytes=inbytes, outbytes=outbytes), stats
    return None, stats


def wait_stats(director, key, min_conns, timeout=10):
    """Poll: the kernel updates the counters about every 2 s."""
    deadline = time.monotonic() + timeout
    while True:
        counters, stats = service_stats(director, key)
        if (counters and counters["conns"] >= min_conns) or time.monotonic() > deadline:
            print(stats)
            return counters


def mac(name, dev="eth0"):
    out = host(name).check_output(f"ip -o link show dev {dev}")
    return re.search(r"link/ether ([0-9a-f:]{17})", out).group(1)


def arp_repliers(client, vip, dev="eth0"):
    """MACs answering ARP for vip (arping exits 1 on no reply: not an error here)."""
    out = host(client).run(f"arping -c 3 -w 4 -I {dev} {vip}").stdout
    print(out)
    return set(m.lower() for m in re.findall(r"\[([0-9A-Fa-f:]{17})\]", out))


def ndp_repliers(client, vip, dev="eth0"):
    """MACs answering IPv6 neighbour discovery for vip, from the client (ndp_probe.py)."""
    probe = Path(__file__).resolve().parent / "ndp_probe.py"
    pid = pids([client])[client]
    out = subprocess.run(["nsenter", "--target", pid, "--net", "--", "python3", str(probe), dev, vip],
                         capture_output=True, text=True, check=True).stdout
    print(f"neighbour advertisements for {vip}: {out.split()}")
    return set(out.split())


def sysctl(name, key):
    return host(name).check_output(f"sysctl -n {key}").strip()


def start_load(mode, out, *args, url):
    """Starts lvs_load.py on the client, in the background (see that file)."""
    pid = pids(["client"])["client"]
    root = f"/proc/{pid}/root"  # the container's files, without a podman exec (over a second)
    shutil.copy(LOAD, f"{root}/usr/local/bin/lvs_load.py")
    for suffix in ("", ".stop", ".part"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{root}{out}{suffix}")
    LOADS.append(subprocess.Popen(["nsenter", "--target", pid, "--all", "--", *CONTAINER_ENV, "python3",
                                   "/usr/local/bin/lvs_load.py", mode, url, out, *args],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True))


LOADS = []  # the load generators started


def stop_load(out, timeout=30):
    """Stops it and returns its records, sorted by start time."""
    root = Path(f"/proc/{pids(['client'])['client']}/root")
    (root / out.lstrip("/")).with_name(Path(out).name + ".stop").touch()
    deadline = time.monotonic() + timeout
    done = root / out.lstrip("/")  # written at the end (renamed from .part)
    while not done.exists():
        assert time.monotonic() < deadline, f"{out}: the load generator did not finish"
        time.sleep(0.5)
    records = [json.loads(line) for line in done.read_text().splitlines()]
    done = records.pop()
    assert done.get("done") and done["sent"] == len(records), f"{out}: {done}, {len(records)} records"
    return sorted(records, key=lambda r: r["start"])


def load_so_far(out):
    """The records a running load generator has written so far (see start_load)."""
    part = Path(f"/proc/{pids(['client'])['client']}/root") / (out.lstrip("/") + ".part")
    lines = part.read_text().splitlines() if part.exists() else []
    # the line being written may be incomplete: only whole lines count
    return [json.loads(line) for line in lines if line.endswith("}")]


def wait_until(condition, timeout, what):
    """Polls condition() every 0.2 s until it holds; fails naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout:g} s"
        time.sleep(0.2)


def summary(records):
    """Sent, failed and who answered, for the verifiers' figures."""
    failed = [r for r in records if not r["ok"]]
    answers = {}
    for r in records:
        if r["ok"]:
            answers[r["answer"]] = answers.get(r["answer"], 0) + 1
    return f"{len(records)} sent, {len(failed)} failed, answers {answers}"


def longest_outage(records):
    """Longest time without an answer, between consecutive successful replies."""
    ends = sorted(r["end"] for r in records if r["ok"])
    return max((b - a, a) for a, b in zip(ends, ends[1:]))


def ansible_playbook(playbook, *args, as_json=False):
    """Runs a playbook with Molecule's environment (inventory, connection plugin).

    as_json: ansible.posix.json output, parsed into run.json.
    """
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json") if as_json else None
    run = subprocess.run(["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], str(playbook), *args],
                         capture_output=True, text=True, check=False, env=env)
    if as_json:
        run.json = json.loads(run.stdout)
        print(run.stderr[-2000:])
        # a failed run says where: each failed task's host and message
        for play in run.json.get("plays", []):
            for item in play["tasks"]:
                for name, result in item["hosts"].items():
                    if result.get("failed") and not result.get("ignore_errors"):
                        print(f"FAILED {name}: {item['task']['name']}: {str(result.get('msg'))[:500]}")
    else:
        print(run.stdout[-3000:], run.stderr[-2000:])
    return run


def task_result(run, task, hostname):
    """One host's result of the task whose name contains `task`, from a JSON run."""
    for play in run.json["plays"]:
        for item in play["tasks"]:
            if task in item["task"]["name"] and hostname in item["hosts"]:
                return item["hosts"][hostname]
    raise AssertionError(f"no task {task!r} ran on {hostname}")


SNAPSHOT = ("echo '# ipvsadm'; ipvsadm -S -n 2>/dev/null;"
            " echo '# addresses'; ip -o addr show | grep -v 'scope link' | sed -E 's/^[0-9]+: //; s/ *valid_lft.*//' | sort;"
            " echo '# routes'; ip route show table main; ip -6 route show table main | grep -v '^fe80';"
            " echo '# links'; ip -o -d link show | grep -E 'tunl0|dummy' | sed -E 's/link\\/[a-z]+ .*//; s/^[0-9]+: //' | sort;"
            " echo '# sysctls'; sysctl -a 2>/dev/null | grep -E '^net\\.ipv4\\.(ip_forward|vs\\.|conf\\.[^.]+\\.(arp_ignore|arp_announce|rp_filter) )'")


def snapshot(name):
    """What a reboot must restore: table, addresses (not link-local: the MAC may
    change; no interface index and sorted: the order of interfaces may too), routes, tunnel and dummy links, the
    ARP/rp_filter/forwarding/vs sysctls."""
    return host(name).check_output(SNAPSHOT)


def reboot(names):
    """Restart every container (systemd shuts down and boots again, nothing else
    runs) and wait until each has booted. Returns the seconds it took."""
    began = time.monotonic()
    subprocess.run(["podman", "restart", *names], check=True, capture_output=True)
    deadline = time.monotonic() + 120
    for name, pid in pids(names).items():
        # until systemd's bus is up, systemctl cannot even ask
        while True:
            asked = subprocess.run(["nsenter", "--target", pid, "--all", "--", *CONTAINER_ENV, "systemctl",
                                    "is-system-running", "--wait"], capture_output=True, text=True, check=False)
            state = asked.stdout.strip()
            if state in ("running", "degraded"):
                break
            assert time.monotonic() < deadline, f"{name}: {state} {asked.stderr.strip()}"
            time.sleep(0.5)
    return time.monotonic() - began
