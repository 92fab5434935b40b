"""Boot the lab VM, run one job inside it, and clean up after it.

A job is a shell script that the guest's init (lab-init) runs from a run
folder shared with the guest; the guest writes the script's exit status back
there and powers off. Output streams through the VM console to our stdout.

Backends:
  uml       User-Mode Linux: the guest kernel is an ordinary host process.
  qemu-kvm  QEMU with hardware virtualisation (where KVM really works).
  qemu-tcg  QEMU with software emulation (slow, works everywhere).
"""
from __future__ import annotations

import fcntl
import functools
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

READY_MARK = "@@lab-ready"
# UML 7.x prints this before it boots (without `quiet`); OK means seccomp mode.
SECCOMP_CHECK = re.compile(r"Checking that seccomp filters can be installed\.\.\.\s*(\w+)")
# What else a UML kernel prints before it boots when not `quiet`: not job output.
UML_STARTUP = re.compile(r"^(Checking |Core dump limits|\s+(soft|hard) - |Locating the |Adding \d+ bytes|"
                         r"\.\.\.|OK$|found$|missing$|error$|\s*$)")
DONE_MARK = "@@lab-done"  # after it, only the VM's power-off messages follow
BACKENDS = ("uml", "qemu-kvm", "qemu-tcg")


def log(msg: str) -> None:
    print(f"[lab] {msg}", file=sys.stderr, flush=True)


def kvm_usable() -> bool:
    """True where /dev/kvm can boot a stock kernel.

    /dev/kvm alone is not enough: a PVM nested hypervisor (as on the project's
    build machines) only boots PVM guest kernels and exposes no vmx/svm flag.
    """
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    if Path("/sys/module/kvm_pvm").exists():
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return re.search(r"\b(vmx|svm)\b", flags) is not None


def pick_backend(requested: str) -> str:
    if requested != "auto":
        if requested not in BACKENDS:
            raise SystemExit(f"lab: unknown backend {requested!r} (one of auto, {', '.join(BACKENDS)})")
        return requested
    if kvm_usable() and shutil.which("qemu-system-x86_64"):
        return "qemu-kvm"
    import platform
    if platform.system() == "Linux" and platform.machine() == "x86_64":
        return "uml"
    return "qemu-tcg"


def pick_cpu(base: Path, run_dir: Path) -> int | None:
    """The host CPU with the fewest lab VMs pinned to it; None when there is no choice.

    UML runs one guest CPU as host processes that hand the CPU to each other
    on every guest system call and page fault. On different host CPUs each
    hand-over is a cross-CPU wake-up (an IPI and an idle exit, dear inside a
    VM); on one CPU it is a plain context switch: the empty play ran 2.5x
    faster pinned. Concurrent VMs spread over the CPUs we may use.
    """
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2 or os.environ.get("LAB_PIN", "1") == "0":
        return None
    with open(base / "lvs-lab-cpus.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two VMs starting at once must not pick the same CPU
        load = dict.fromkeys(cpus, 0)
        for taken in base.glob("lvs-lab-*/cpu"):
            try:
                cpu, pid = map(int, taken.read_text().split())
                os.kill(pid, 0)
            except (OSError, ValueError):
                continue  # gone, or being written
            if cpu in load:
                load[cpu] += 1
        cpu = min(cpus, key=load.__getitem__)
        (run_dir / "cpu").write_text(f"{cpu} {os.getpid()}\n")
    return cpu


MAP_COUNT = Path("/proc/sys/vm/max_map_count")


def ensure_map_count(mem_mb: int) -> None:
    """Room on the host for as many mappings as the VM has pages.

    UML maps a guest process's memory into its host process page by page
    (merged only where guest pages happen to be adjacent): a guest process of
    400 MB can need 100,000 host mappings. Past the host's vm.max_map_count
    (65,530 by default) the host refuses the mapping, and the guest process
    faults on the same address forever (seen at 5,000 x 8: an Ansible worker
    spinning for an hour) or dies ("A worker was found in a dead state").
    """
    want = mem_mb * 256  # 4 KiB pages
    try:
        have = int(MAP_COUNT.read_text())
    except (OSError, ValueError):
        return
    if have >= want:
        return
    try:
        MAP_COUNT.write_text(f"{want}\n")
        log(f"host vm.max_map_count raised from {have} to {want} (UML maps guest memory page by page)")
    except OSError:
        log(f"warning: host vm.max_map_count is {have}: a guest process larger than about {have // 256} MB "
            f"will hang; run `sysctl -w vm.max_map_count={want}` as root")


class Job:
    """One boot of the VM running one script; always cleaned up."""

    def __init__(self, image_dir: Path, src: Path, backend: str, mem_mb: int,
                 writable: bool = False, timeout: float | None = None, kernel=None):
        self.image_dir = image_dir
        # UML only: a kernels.Kernel (binary, boot_args, modules); None is the image's own
        self.kernel = kernel
        self.src = src.resolve()
        self.backend = backend
        self.mem_mb = mem_mb
        self.writable = writable  # provisioning boots write to the image itself
        self.timeout = timeout
        # /dev/shm: UML's memory file and the copy-on-write layer live in RAM.
        base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
        self.run_dir = Path(tempfile.mkdtemp(prefix="lvs-lab-", dir=base))
        self.proc: subprocess.Popen | None = None
        self.kernel_line = ""
        self.cpu: int | None = None

    # -- command lines -------------------------------------------------
    def _cmdline(self) -> str:
        return f"init=/usr/local/sbin/lab-init quiet loglevel=3 lab.backend={self.backend.split('-')[0]}"

    def _uml_argv(self) -> list[str]:
        image = self.image_dir / "vm.img"
        disk = str(image) if self.writable else f"{self.run_dir / 'disk.cow'},{image}"
        binary = self.kernel.binary if self.kernel else self.image_dir / "linux.uml"
        # no `quiet`: it would also hide UML's seccomp check, which says the mode
        cmdline = [arg for arg in shlex.split(self._cmdline()) if arg != "quiet"]
        return [
            str(binary), f"mem={self.mem_mb}M", f"ubd0={disk}",
            "root=/dev/ubda", "rw", "con0=null,fd:1", "con=null", "ssl=null",
            f"uml_dir={self.run_dir}", "umid=vm", *(self.kernel.boot_args if self.kernel else ()),
            *cmdline, f"lab.src={self.src}", f"lab.run={self.run_dir}",
        ]

    def _kernel_line(self, seccomp_check: str | None) -> str:
        """One line: which kernel runs, in which mode, and why."""
        if self.backend != "uml":
            return f"kernel: the image's stock kernel under {self.backend}"
        name = self.kernel.name if self.kernel else "the VM image's UML"
        if seccomp_check == "OK":
            mode = "seccomp mode"
        elif seccomp_check:
            mode = f"ptrace mode (the host refused UML's seccomp check: {seccomp_check})"
        else:
            mode = "ptrace mode (this kernel has no seccomp mode)"
        why = self.kernel.why if self.kernel else ""
        pinned = f", on host CPU {self.cpu}" if self.cpu is not None else ", not pinned"
        return f"kernel: {name}, {mode}{pinned}" + (f"; {why}" if why else "")

    def _qemu_argv(self) -> list[str]:
        kvm = self.backend == "qemu-kvm"
        image = self.image_dir / "vm.img"
        snapshot = "" if self.writable else ",snapshot=on"
        return [
            "qemu-system-x86_64",
            *(["-accel", "kvm", "-cpu", "host"] if kvm else ["-accel", "tcg,thread=multi", "-cpu", "max"]),
            "-machine", "q35", "-m", str(self.mem_mb), "-smp", str(os.cpu_count() or 2),
            "-nodefaults", "-display", "none", "-no-reboot", "-serial", "stdio",
            "-kernel", str(self.image_dir / "vmlinuz"), "-initrd", str(self.image_dir / "initrd.img"),
            "-append", f"root=/dev/vda rw console=ttyS0 {self._cmdline()}",
            # locking off: concurrent UML runs hold the (never written) base image open
            "-drive", f"file={image},if=virtio,format=raw,file.locking=off{snapshot}",
            "-virtfs", f"local,path={self.src},mount_tag=src,security_model=none",
            "-virtfs", f"local,path={self.run_dir},mount_tag=lab,security_model=none",
            "-device", "virtio-rng-pci",
        ]

    # -- running -------------------------------------------------------
    def run(self, script: str, quiet_boot: bool = False) -> int:
        (self.run_dir / "user.sh").write_text(script + "\n")
        (self.run_dir / "job.sh").write_text(
            f'echo "{READY_MARK} $(cut -d" " -f1 /proc/uptime)"\n'
            f'sh /lab/user.sh\nrc=$?\necho "{DONE_MARK} $rc"\nexit $rc\n')
        if self.kernel and self.kernel.modules:  # lab/guest/setup.sh installs it as /lib/modules/<release>
            shutil.copytree(self.kernel.modules, self.run_dir / "modules" / self.kernel.modules.name)
        argv = self._uml_argv() if self.backend == "uml" else self._qemu_argv()
        env = dict(os.environ, TMPDIR=str(self.run_dir))
        started = time.monotonic()
        pin = None  # runs in the child, before UML forks its first process
        if self.backend == "uml":
            ensure_map_count(self.mem_mb)
            self.cpu = pick_cpu(self.run_dir.parent, self.run_dir)
            if self.cpu is not None:
                pin = functools.partial(os.sched_setaffinity, 0, {self.cpu})
        log(f"booting the VM ({self.backend}, {self.mem_mb} MB)...")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                     preexec_fn=pin)  # noqa: PLW1509 - only sched_setaffinity
        ready = False
        seccomp_check = None
        stamps = os.environ.get("LAB_TIMESTAMPS") == "1"
        deadline = started + self.timeout if self.timeout else None
        assert self.proc.stdout is not None
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").replace("\r", "")
            if line.startswith(READY_MARK):
                ready = True
                self.kernel_line = self._kernel_line(seccomp_check)
                log(self.kernel_line)
                log(f"VM ready after {time.monotonic() - started:.1f} s; running the job")
                continue
            if not ready and self.backend == "uml":
                check = SECCOMP_CHECK.search(line)
                seccomp_check = check.group(1) if check else seccomp_check
                if check or UML_STARTUP.match(line):
                    continue
            if line.startswith(DONE_MARK):
                ready = False
                quiet_boot = True
                continue
            if ready or not quiet_boot:
                if stamps:  # where the time goes: seconds since boot started
                    line = f"[{time.monotonic() - started:7.1f}] {line}"
                sys.stdout.write(line)
                sys.stdout.flush()
            if deadline and time.monotonic() > deadline:
                log(f"timeout after {self.timeout:.0f} s: stopping the VM")
                break
        else:
            self.stop(grace=20)  # the console closed: the VM is powering off
        self.stop()
        rc_file = self.run_dir / "rc"
        if not rc_file.exists():
            log("the VM stopped without a job status (crashed, timed out or interrupted)")
            return 125
        rc = int(rc_file.read_text().strip() or 125)
        log(f"job exited {rc} after {time.monotonic() - started:.1f} s in all")
        return rc

    def stop(self, grace: float = 0) -> None:
        """Kill the VM's whole process group; wait until none of it is left.

        grace: seconds to let a VM that is powering off finish by itself.
        The disk layer is thrown away, so there is nothing to shut down
        cleanly: an interrupted or timed-out VM is killed at once.
        """
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        # UML forks a host process per guest process: wait for all of them.
        for _attempt in range(100):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                break
            if self.proc.poll() is None:
                try:
                    self.proc.wait(timeout=0.1)
                except subprocess.TimeoutExpired:
                    pass
            if not _group_alive(self.proc.pid):
                break
            time.sleep(0.1)

    def close(self) -> None:
        # A second Ctrl-C or SIGTERM while cleaning up must not leave the VM
        # or its run folder behind: hold the signals until both are gone.
        held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
        old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
        try:
            self.stop()
            shutil.rmtree(self.run_dir, ignore_errors=True)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def __enter__(self) -> "Job":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _group_alive(pgid: int) -> bool:
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False
