"""The lab runner's contract, with real VM boots (a few seconds each).

The exit status of the command comes back; output streams; nothing is left
behind (no VM process, no run folder) when the command fails or when the
runner itself is interrupted.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

LAB = [sys.executable, str(Path(__file__).resolve().parents[2] / "lab" / "lab.py")]
SHM = Path("/dev/shm")


def run_dirs():
    return set(SHM.glob("lvs-lab-*"))


def vm_processes():
    """Host processes of a lab VM (UML kernel or QEMU) still alive."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv0 = cmdline.read_bytes().split(b"\0", 1)[0]
        except OSError:
            continue
        if argv0.endswith((b"/linux.uml", b"qemu-system-x86_64")):
            found.append(cmdline.parent.name)
    return found


@pytest.fixture(autouse=True)
def quiet_machine():
    if vm_processes():
        pytest.fail("another lab VM is running on this machine: run these tests alone")
    before = run_dirs()
    yield
    assert vm_processes() == [], "a VM process survived its run"
    assert run_dirs() == before, "a run folder was left behind"


def lab_run(*command, **kwargs):
    return subprocess.run([*LAB, "run", "--", *command], capture_output=True, text=True,
                          timeout=300, check=False, **kwargs)


def test_status_and_output_come_back():
    result = lab_run("sh", "-c", "echo hello from $(uname -r); cat /proc/net/ip_vs >/dev/null; exit 7")
    assert result.returncode == 7
    assert "hello from 6." in result.stdout


def test_the_vm_has_ipvs_and_the_working_tree():
    result = lab_run("sh", "-c", "ipvsadm -A -t 192.0.2.1:80 -s wlc && ipvsadm -S -n && test -f galaxy.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "-A -t 192.0.2.1:80 -s wlc" in result.stdout


def test_interrupted_run_leaves_nothing_behind():
    proc = subprocess.Popen([*LAB, "run", "--", "sleep", "600"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while not vm_processes() and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(5)  # well into the job
    os.kill(proc.pid, signal.SIGTERM)
    out = proc.communicate(timeout=60)[0]
    assert proc.returncode != 0
    assert "stopping the VM" in out
