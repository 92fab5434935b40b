"""The lab runner's contract, with real VM boots (a few seconds each).

The exit status of the command comes back; output streams; nothing is left
behind (no VM process, no run folder) when the command fails or when the
runner itself is interrupted.
"""
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

LAB = [sys.executable, str(Path(__file__).resolve().parents[2] / "lab" / "lab.py")]
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "lab"))
import kernels  # noqa: E402
from image import recipe  # noqa: E402
SHM = Path("/dev/shm")
RUN_DIR = re.compile(r"/dev/shm/lvs-lab-\w+")


def run_dirs():
    return {str(d) for d in SHM.glob("lvs-lab-*")}


def live_vm_runs():
    """Run folders named on a live process's command line: every process of a
    lab VM names its own (UML's uml_dir=, QEMU's -virtfs path), which tells
    this test's VMs apart from other lab runs on the machine."""
    alive = set()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            alive.update(RUN_DIR.findall(cmdline.read_bytes().decode(errors="replace")))
        except OSError:
            continue
    return alive


@pytest.fixture(autouse=True)
def nothing_left_behind():
    before = run_dirs() | live_vm_runs()
    yield
    assert live_vm_runs() - before == set(), "a VM process survived its run"
    assert run_dirs() - before == set(), "a run folder was left behind"


# The tests read the job's own lines: without the timestamps LAB_TIMESTAMPS=1
# would put before each.
JOB_ENV = {name: value for name, value in os.environ.items() if name != "LAB_TIMESTAMPS"}


def lab_run(*command, **kwargs):
    return subprocess.run([*LAB, "run", "--", *command], capture_output=True, text=True,
                          timeout=300, check=False, env=JOB_ENV, **kwargs)


def test_status_and_output_come_back():
    result = lab_run("sh", "-c", "echo hello from $(uname -r); cat /proc/net/ip_vs >/dev/null; exit 7")
    assert result.returncode == 7
    assert re.search(r"^hello from \d+\.\d+", result.stdout, re.M), result.stdout


def test_the_default_kernel_is_the_own_build_in_seccomp_mode():
    """What every scenario runs on: the lab's own kernel, IPVS as modules that
    a freshly booted VM has not loaded (as a fresh Debian host), which modprobe
    loads from the installed tree. Set LAB_KERNEL=bookworm on a machine where
    it cannot be built."""
    if os.environ.get("LAB_KERNEL") == "bookworm":
        pytest.fail("LAB_KERNEL=bookworm: the scenarios would run on the slow kernel")
    result = lab_run("sh", "-c", "echo before: $(grep -c '^ip_vs' /proc/modules); test ! -e /sys/module/ip_vs_mh; "
                     "modprobe ip_vs_mh && test -d /sys/module/ip_vs_mh && test -e /proc/net/ip_vs && "
                     "echo after: $(grep -c '^ip_vs' /proc/modules) && zcat /proc/config.gz")
    assert result.returncode == 0, result.stdout + result.stderr
    kernel_line = re.search(r"^\[lab\] kernel: (.*)$", result.stderr, re.M)
    assert kernel_line, result.stderr
    assert "built here" in kernel_line.group(1) and "seccomp mode" in kernel_line.group(1), kernel_line.group(0)
    assert "before: 0\n" in result.stdout and "after: 2\n" in result.stdout, result.stdout[:300]
    assert "CONFIG_IP_VS=m" in result.stdout and "\nCONFIG_IP_VS_MH=m" in result.stdout


@pytest.mark.parametrize("kernel", ["own", "bookworm"])
def test_real_ipvs_traffic(kernel):
    """Both kernels carry real IPVS traffic; bookworm's 6.1 stays the fallback
    where it can run, and where it cannot (an AMX host) it is refused up front,
    with the reason, instead of a kernel panic."""
    result = subprocess.run([*LAB, "run", "--", "sh", "lab/guest/ipvs-traffic.sh", "6"], capture_output=True,
                            text=True, timeout=300, check=False, env=dict(JOB_ENV, LAB_KERNEL=kernel))
    if kernel == "bookworm" and kernels.bookworm_refused():
        assert result.returncode != 0
        assert "cannot run on this host: its CPU has AMX" in result.stderr, result.stdout + result.stderr
        assert "booting the VM" not in result.stderr, result.stderr
        return
    assert result.returncode == 0, result.stdout + result.stderr
    assert "both real servers answered" in result.stdout
    expected = "built here" if kernel == "own" else "Debian 12's UML 6.1"
    assert re.search(r"^\[lab\] kernel: .*" + re.escape(expected), result.stderr, re.M), result.stderr


def test_the_vm_has_ipvs_and_the_working_tree():
    result = lab_run("sh", "-c", "ipvsadm -A -t 192.0.2.1:80 -s wlc && ipvsadm -S -n && test -f galaxy.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "-A -t 192.0.2.1:80 -s wlc" in result.stdout


def test_each_node_image_is_the_suite_it_is_named():
    """One image per suite, each its own Debian release; sshd enabled, no host
    key baked in; bare as a fresh server (none of the packages the roles
    install, no package lists); the lab's mirror its only apt source, and the
    roles' packages installable from it offline (one installed, the rest
    resolved: dpkg under User-Mode Linux costs minutes)."""
    script = "; ".join(
        f"echo {suite} $(podman run --rm --systemd=false -v {recipe.MIRROR_DIR}:{recipe.MIRROR_DIR}:ro "
        f"{recipe.node_image(suite)} sh -c "
        "'cut -d. -f1 /etc/debian_version; ls /etc/ssh/ssh_host_* 2>/dev/null | wc -l; "
        "test -L /etc/systemd/system/multi-user.target.wants/ssh.service && echo ssh-enabled; "
        "for t in ipvsadm keepalived nft curl; do command -v $t >/dev/null && echo has-$t; done; "
        "ls /var/lib/apt/lists | grep -c _Packages; cat /etc/apt/sources.list; ls /etc/apt/sources.list.d | wc -l; "
        "apt-get update -qq && apt-get install -y -qq ipvsadm >/dev/null 2>&1 && command -v ipvsadm >/dev/null "
        "&& apt-get install -s -qq keepalived nftables python3-apt curl iputils-arping >/dev/null 2>&1 "
        "&& echo installs-offline')"
        for suite in recipe.NODE_SUITES)
    result = lab_run("sh", "-c", script)
    assert result.returncode == 0, result.stdout + result.stderr
    releases = {"bookworm": "12", "trixie": "13"}
    for suite in recipe.NODE_SUITES:
        expected = (f"{suite} {releases[suite]} 0 ssh-enabled 0 deb [trusted=yes] file:{recipe.mirror_dir(suite)} ./ "
                    "0 installs-offline")
        assert expected in result.stdout, result.stdout


@pytest.mark.parametrize("signals", [[signal.SIGTERM], [signal.SIGTERM, signal.SIGTERM, signal.SIGINT]],
                         ids=["one signal", "signals during the cleanup"])
def test_interrupted_run_leaves_nothing_behind(signals):
    proc = subprocess.Popen([*LAB, "run", "--", "sleep", "600"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    before = run_dirs() | live_vm_runs()
    deadline = time.monotonic() + 120
    while not live_vm_runs() - before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert live_vm_runs() - before, "the VM never started"
    time.sleep(5)  # well into the job
    for signum in signals:
        os.kill(proc.pid, signum)
        time.sleep(0.05)
    out = proc.communicate(timeout=60)[0]
    assert proc.returncode != 0
    assert "stopping the VM" in out
