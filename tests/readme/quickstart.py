# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs README.md's quick start, command by command, as a user on the
controller: a clean clone named lvs-cluster, an empty home (its own SSH key,
the hosts' keys known), and the lab hosts of molecule/quickstart reached over
SSH. The step "edit the lines marked edit:" puts the lab's addresses into
exactly the lines the README shows. Between the commands it checks what the
README promises: the hosts start bare (nothing of IPVS loaded, none of the
packages the roles install), --check succeeds there and changes nothing, the
real run changes exactly the tasks --check said it would, the table shows the
VIP with both real servers, a second run changes nothing.

  python tests/readme/quickstart.py --key KEY --scenario molecule/quickstart
"""
from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import readme_blocks as rb  # noqa: E402  (a sibling file, not a package)

# what a fresh host has not: the kernel modules and packages the roles bring
BARE = {"director": ("ip_vs", ["ipvsadm", "keepalived", "nftables"]),
        "rs1": ("ip_vs", ["ipvsadm"]), "rs2": ("ip_vs", ["ipvsadm"])}
HEADER = re.compile(r"^(?:TASK|RUNNING HANDLER) \[(.*)\] \**$")
CHANGED = re.compile(r"^changed: \[([^]]+)\](?: => \(item=(.*)\))?")
RECAP = re.compile(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def lab_addresses(scenario: Path) -> dict[str, str]:
    """Host name -> its address (first network), and 'vip' -> quickstart_vip."""
    conf = yaml.safe_load((scenario / "molecule.yml").read_text())
    found = {p["name"]: p["networks"][0]["ip"] for p in conf["platforms"]}
    found["vip"] = conf["provisioner"]["inventory"]["group_vars"]["all"]["quickstart_vip"]
    return found


def podman(host: str, command: str) -> str:
    return subprocess.run(["podman", "exec", host, "sh", "-c", command],
                          capture_output=True, text=True, check=True).stdout


class User:
    """A shell of a user of the controller, in `work`, with its own home."""

    def __init__(self, work: Path, key: Path, hosts: list[str]):
        self.work, home = work, work / "home"
        ssh = home / ".ssh"
        ssh.mkdir(parents=True, mode=0o700)
        shutil.copy(key, ssh / "id_ed25519")
        (ssh / "id_ed25519").chmod(0o600)
        # the user has logged in to their hosts before: their keys are known
        deadline = time.monotonic() + 60
        while True:
            scan = subprocess.run(["ssh-keyscan", "-T", "5", *hosts], capture_output=True, text=True, check=False)
            if all(f"{h} " in scan.stdout for h in hosts) or time.monotonic() > deadline:
                break
            time.sleep(2)
        (ssh / "known_hosts").write_text(scan.stdout)
        venv = Path(sys.executable).parent  # ansible-playbook beside this Python
        self.env = {"PATH": f"{venv}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "HOME": str(home), "LANG": "C.UTF-8", "USER": os.environ.get("USER", "root"),
                    # OpenSSH takes ~ from the password database, not $HOME: point ssh,
                    # sftp and scp at this home's key and known hosts, as ~/.ssh would
                    "ANSIBLE_SSH_COMMON_ARGS": f"-o IdentityFile={ssh / 'id_ed25519'} "
                                               f"-o UserKnownHostsFile={ssh / 'known_hosts'}"}

    def run(self, command: str) -> str:
        print(f"\n$ {command}", flush=True)
        start = time.monotonic()
        proc = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=self.work, env=self.env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
        print(proc.stdout.rstrip(), flush=True)
        print(f"[{time.monotonic() - start:.0f} s, exit {proc.returncode}]", flush=True)
        if proc.returncode:
            raise SystemExit(f"the quick start's command failed: {command}")
        return proc.stdout


def edit(work: Path, block: rb.Block, lab: dict[str, str]) -> None:
    """Each shown line gets the lab's address: a host line its host's, the VIP line the VIP."""
    for name, lines in rb.edits(block).items():
        path = work / name
        text = path.read_text().splitlines()
        for line in lines:
            host = re.match(r"\s*(\w+): \{ansible_host:", line)
            new_address = lab[host.group(1)] if host else lab["vip"]
            new = re.sub(r"\b\d+\.\d+\.\d+\.\d+\b", new_address, line, count=1)
            if text.count(line) != 1 or new == line:
                raise SystemExit(f"README.md:{block.line}: cannot edit {name}: {line.strip()}")
            text[text.index(line)] = new
            print(f"edited {name}: {new.strip()}")
        path.write_text("\n".join(text) + "\n")


def assert_nothing_changed(lab: dict[str, str]) -> None:
    """No VIP on any host; assert_bare() then: no table (ip_vs not loaded), nothing installed."""
    for host in ("director", "rs1", "rs2"):
        addrs = podman(host, "ip -4 -o addr show")
        assert f" {lab['vip']}/" not in addrs, f"--check added the VIP on {host}:\n{addrs}"
    print("--check changed nothing: no VIP on any host")


def assert_bare() -> None:
    for host, (module, packages) in BARE.items():
        loaded = podman(host, f"grep '^{module} ' /proc/modules || true")
        assert not loaded, f"{host} is not a fresh host: {module} is loaded"
        installed = podman(host, "dpkg-query --show --showformat '${Package} ${db:Status-Abbrev}\\n' "
                                 + " ".join(packages) + " 2>/dev/null || true")
        assert not re.search(r" ii", installed), f"{host} is not a fresh host: {installed}"
    print("the hosts are bare: ip_vs not loaded; ipvsadm, keepalived, nftables not installed")


def changes(out: str) -> set[tuple[str, str, str]]:
    """(host, task, item) of every change a play reports, check mode or not."""
    found, task = set(), None
    for line in out.splitlines():
        header = HEADER.match(line)
        if header:
            task = header.group(1)
        changed = CHANGED.match(line)
        if changed:
            found.add((changed.group(1), task, changed.group(2) or ""))
    return found


def assert_predicted(predicted: set, done: set) -> None:
    missed, wrong = sorted(done - predicted), sorted(predicted - done)
    assert not missed and not wrong, (f"--check did not predict the real run: changed but not predicted {missed}; "
                                      f"predicted but not changed {wrong}")
    print(f"--check predicted the real run exactly: {len(done)} changes over "
          f"{len({host for host, _t, _i in done})} hosts")


def recap(out: str) -> dict[str, tuple[int, int, int]]:
    return {h: (int(c), int(u), int(f)) for h, c, u, f in RECAP.findall(out)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--key", type=Path, required=True, help="the private key the hosts accept")
    parser.add_argument("--scenario", type=Path, required=True)
    args = parser.parse_args()
    lab = lab_addresses(args.scenario)
    blocks = rb.section("Quick start")
    with tempfile.TemporaryDirectory(prefix="lvs-quickstart-") as tmp:
        work = Path(tmp)
        subprocess.run(["git", "clone", "--quiet", str(rb.ROOT), str(work / "lvs-cluster")], check=True)
        user = User(work, args.key, [lab[h] for h in ("director", "rs1", "rs2")])
        assert_bare()
        copied, site_runs, table, predicted = None, [], None, None
        for block in blocks:
            if block.lang == "yaml":
                if copied is None:
                    raise SystemExit(f"README.md:{block.line}: lines to edit before the example is copied")
                edit(work, block, lab)
                continue
            for command in block.commands():
                out = user.run(command)
                argv = shlex.split(command)
                if argv[:2] == ["cp", "-r"]:
                    copied = (argv[2], argv[3])
                elif "lvs.cluster.site" in argv and "--check" in argv:
                    assert_nothing_changed(lab)
                    assert_bare()
                    predicted = changes(out)
                elif "lvs.cluster.site" in argv:
                    site_runs.append(command)
                    assert recap(out) and all(c > 0 for c, _u, _f in recap(out).values()), "the run changed nothing"
                    if predicted is not None and len(site_runs) == 1:
                        assert_predicted(predicted, changes(out))
                elif "lvs.cluster.table" in argv:
                    table = out
        if copied is None or not site_runs or table is None:
            raise SystemExit("README.md: the quick start must copy the example, run the site, read the table")
        for address in (f"{lab['vip']}:80", f"{lab['rs1']}:80", f"{lab['rs2']}:80"):
            assert address in table, f"the table does not show {address}"
        print("the table shows the VIP and both real servers")
        # "A second run changes nothing"
        again = recap(user.run(site_runs[-1]))
        assert again and all(v == (0, 0, 0) for v in again.values()), f"a second run changed something: {again}"
        print(f"a second run changed nothing: {again}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
