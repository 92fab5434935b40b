"""The kernel a User-Mode Linux lab VM boots: the lab's own, or bookworm's.

  own       built here from Debian's kernel source with lab/kernel/lab.config
            (IPVS, tunnels and netfilter as modules, as on Debian, the rest
            built in); seccomp mode where the host allows it, ptrace mode
            otherwise. Built once per machine, cached in CACHE/kernel-<key>/
            where key hashes lab/kernel/.
  bookworm  Debian 12's UML 6.1 from the VM image: modules, ptrace mode only.

LAB_KERNEL=auto (default) takes the own kernel and falls back to bookworm's
when its source cannot be had or its build fails; LAB_KERNEL=own or bookworm
forces one. One line says which kernel runs and why.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import fcntl
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import vm
from build import cache_root, content_key
from kernel import recipe

LAB_DIR = Path(__file__).resolve().parent
KERNEL_DIR = LAB_DIR / "kernel"
CHOICES = ("auto", "own", "bookworm")


class Unavailable(Exception):
    """The own kernel cannot be had here; the message says why."""


@dataclasses.dataclass(frozen=True)
class Kernel:
    binary: Path
    name: str                     # what runs, for the one line
    why: str                      # why this one
    boot_args: tuple[str, ...] = ()
    modules: Path | None = None   # lib/modules/<release> for the guest


def key() -> str:
    return content_key(KERNEL_DIR)


def own_dir() -> Path:
    return cache_root() / f"kernel-{key()}"


def _failed_marker() -> Path:
    return cache_root() / f"kernel-{key()}.failed"


def bookworm_refused(cpuinfo: str | None = None) -> str | None:
    """Why Debian 12's UML 6.1 cannot boot on this host, or None.

    6.1's ptrace mode restores a guest process's FPU state with a fixed-size
    buffer, and the host's PTRACE_SETREGSET wants the CPU's whole XSAVE area:
    with AMX tile data (8 KiB more) it refuses, and the guest's init dies of
    SIGSEGV (kernel panic, exitcode=0x0000000b). Newer UML sizes the buffer
    from the host, so the own kernel runs there."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return None
    flags = next((line.split(":", 1)[1].split() for line in cpuinfo.splitlines()
                  if line.startswith("flags")), [])
    if "amx_tile" in flags:
        return ("Debian 12's UML 6.1 cannot run on this host: its CPU has AMX, whose XSAVE area "
                "6.1's ptrace mode cannot restore (init dies of SIGSEGV)")
    return None


def bookworm(image_dir: Path, why: str) -> Kernel:
    refused = bookworm_refused()
    if refused:
        raise SystemExit(f"lab: {refused}" + (f"; and {why}" if why.startswith("fallback") else ""))
    return Kernel(image_dir / "linux.uml", "Debian 12's UML 6.1 (from the VM image)", why)


def _load(out: Path) -> Kernel:
    info = json.loads((out / "build.json").read_text())
    return Kernel(out / "linux", f"UML {info['release']} built here ({info['source']} {info['source_version']})",
                  "", recipe.BOOT_ARGS, out / "modules" / info["release"])


def own(build: bool = True) -> Kernel:
    """The own kernel, built first if needed; Unavailable says why not."""
    out = own_dir()
    if (out / "build.json").exists():
        return _load(out)
    if _failed_marker().exists() and os.environ.get("LAB_KERNEL") != "own":
        raise Unavailable(f"its build failed before ({_failed_marker().read_text().strip()}; "
                          f"LAB_KERNEL=own retries)")
    if not build:
        raise Unavailable("not built yet")
    cache_root().mkdir(parents=True, exist_ok=True)
    with open(cache_root() / ".kernel.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build per cache; a second caller reuses it
        if (out / "build.json").exists():
            return _load(out)
        _build(out)
    return _load(out)


def pick(image_dir: Path, requested: str | None = None) -> Kernel:
    """The kernel to boot, with the reason; never builds for `bookworm`."""
    requested = requested or os.environ.get("LAB_KERNEL", "auto")
    if requested not in CHOICES:
        raise SystemExit(f"lab: LAB_KERNEL={requested!r} is not one of {', '.join(CHOICES)}")
    if requested == "bookworm":
        return bookworm(image_dir, "LAB_KERNEL=bookworm")
    try:
        return dataclasses.replace(own(), why="LAB_KERNEL=own" if requested == "own" else "")
    except Unavailable as exc:
        if requested == "own":
            raise SystemExit(f"lab: the own kernel is not available: {exc}") from None
        return bookworm(image_dir, f"fallback: the own kernel is not available: {exc}")


# -- building ------------------------------------------------------------
def _run(argv: list[str], log: Path, cwd: Path | None = None, what: str = "") -> str:
    with log.open("ab") as out:
        out.write(("$ " + " ".join(argv) + "\n").encode())
        out.flush()
        result = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=out,
                                stdin=subprocess.DEVNULL, check=False)
        out.write(result.stdout)
    if result.returncode:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        raise Unavailable(f"{what or argv[0]} failed ({result.returncode}), log {log}:\n  " + "\n  ".join(tail))
    return result.stdout.decode(errors="replace")


class _Apt:
    """apt with its own lists and cache: the host's sources stay untouched."""

    def __init__(self, root: Path, log: Path):
        self.root, self.log = root, log
        for sub in ("lists/partial", "cache/archives/partial"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        mirror = os.environ.get("LAB_KERNEL_MIRROR", recipe.MIRROR)
        (root / "sources.list").write_text(f"deb [arch=amd64] {mirror} {recipe.SUITE} main\n")
        self.opts = [
            "-o", f"Dir::Etc::SourceList={root / 'sources.list'}", "-o", "Dir::Etc::SourceParts=/dev/null",
            "-o", f"Dir::State::Lists={root / 'lists'}", "-o", f"Dir::Cache={root / 'cache'}",
            "-o", "Dir::State::status=/dev/null", "-o", "APT::Sandbox::User=root",
            # a mirror snapshot's Release file may be past its Valid-Until date; the signature is still checked
            "-o", "Acquire::Check-Valid-Until=false",
        ]

    def update(self) -> None:
        _run(["apt-get", "-q", *self.opts, "update"], self.log, what=f"apt-get update ({recipe.SUITE})")

    def versions(self, package: str) -> list[str]:
        out = subprocess.run(["apt-cache", *self.opts, "madison", package], capture_output=True, text=True,
                             check=False).stdout
        return [line.split("|")[1].strip() for line in out.splitlines() if line.count("|") >= 2]

    def names(self, prefix: str) -> list[str]:
        out = subprocess.run(["apt-cache", *self.opts, "pkgnames", prefix], capture_output=True, text=True,
                             check=False).stdout
        return out.split()

    def download(self, package: str, version: str, dest: Path) -> Path:
        _run(["apt-get", "-q", *self.opts, "download", f"{package}={version}"], self.log, cwd=dest,
             what=f"downloading {package} {version}")
        return next(dest.glob(f"{package}_*.deb"))


def _resolve(apt: _Apt) -> tuple[tuple[str, str], list[str]]:
    """The pinned source, or the newest the mirror has."""
    notes = []
    source = recipe.SOURCE
    if source[1] not in apt.versions(source[0]):
        lines = sorted((tuple(map(int, m.groups())), name) for name in apt.names("linux-source-")
                       if (m := recipe.SOURCE_PATTERN.match(name)))
        lines = [name for line, name in lines if line >= recipe.MIN_SOURCE]
        if not lines:
            raise Unavailable(f"{recipe.SUITE} has no {source[0]} {source[1]} and no linux-source-7.x or newer")
        source = (lines[-1], apt.versions(lines[-1])[0])
        notes.append(f"{recipe.SOURCE[0]} {recipe.SOURCE[1]} is gone from {recipe.SUITE}: using {source[0]} {source[1]}")
    return source, notes


def _unpack_source(deb: Path, work: Path, log: Path) -> Path:
    _run(["dpkg-deb", "-x", str(deb), str(work / "deb")], log, what="dpkg-deb")
    tarball = next((work / "deb/usr/src").glob("linux-source-*.tar.*"))
    _run(["tar", "-xf", str(tarball), "-C", str(work)], log, what="unpacking the kernel source")
    shutil.rmtree(work / "deb")
    deb.unlink()
    return next(p for p in work.iterdir() if p.is_dir() and p.name.startswith("linux-source-"))


def _configure(src: Path, log: Path) -> None:
    config = src / ".config"
    _run(["make", "ARCH=um", "defconfig"], log, cwd=src, what="make defconfig")
    config.write_text(recipe.starting_config(config.read_text()))
    keep = recipe.wanted_modules()
    for _round in range(3):  # olddefconfig may default new options to =m: off again, unless selected
        _run(["make", "ARCH=um", "olddefconfig"], log, cwd=src, what="make olddefconfig")
        text = config.read_text()
        trimmed = recipe.no_modules(text, keep)
        if trimmed == text:
            break
        config.write_text(trimmed)
    else:
        _run(["make", "ARCH=um", "olddefconfig"], log, cwd=src, what="make olddefconfig")
    wrong = recipe.problems(config.read_text())
    if wrong:
        raise Unavailable("lab/kernel/lab.config does not hold after `make olddefconfig`: " + "; ".join(wrong))


def _compiled(log: Path) -> int:
    """C files compiled so far, as make's log shows them."""
    return sum(1 for line in log.open(errors="replace") if line.startswith("  CC "))


def _compile(src: Path, log: Path, start: float) -> None:
    jobs = str(os.cpu_count() or 1)
    with log.open("ab") as out, concurrent.futures.ThreadPoolExecutor(1) as pool:
        make = pool.submit(subprocess.run, ["make", "ARCH=um", f"-j{jobs}", "linux", "modules"], cwd=src, stdout=out,
                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=False)
        while True:
            try:
                result = make.result(timeout=30)
                break
            except concurrent.futures.TimeoutError:
                vm.log(f"  ... kernel: {_compiled(log)} files compiled, {time.monotonic() - start:.0f} s")
    if result.returncode:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        raise Unavailable(f"make failed ({result.returncode}), log {log}:\n  " + "\n  ".join(tail))


def _modules_tree(src: Path, release: str, out: Path, log: Path) -> None:
    """lib/modules/<release>: the modules, stripped, with modules.builtin and
    modules.dep (depmod), where modprobe in the VM and in its containers finds them."""
    root = out / "modroot"
    _run(["make", "ARCH=um", f"INSTALL_MOD_PATH={root}", "INSTALL_MOD_STRIP=1", "modules_install"], log, cwd=src,
         what="make modules_install")
    tree = root / "lib/modules" / release
    for link in ("build", "source"):  # they point into the build folder, which goes
        (tree / link).unlink(missing_ok=True)
    (out / "modules").mkdir()
    tree.rename(out / "modules" / release)
    shutil.rmtree(root)


def _build(out: Path) -> None:
    for tool in ("apt-get", "dpkg-deb", "make", "gcc", "flex", "bison", "bc", "depmod"):
        if not shutil.which(tool):
            raise Unavailable(f"{tool} is missing on the host (bash lab/host-packages.sh installs the build tools)")
    work = cache_root() / f"kernel-build-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    log = cache_root() / f"kernel-{out.name.removeprefix('kernel-')}.log"
    log.write_text("")
    start = time.monotonic()
    timings = {}
    try:
        vm.log(f"building the lab's own kernel {out.name} (log {log}); about 8 minutes on 2 cores")
        apt = _Apt(work / "apt", log)
        apt.update()
        source, notes = _resolve(apt)
        for note in notes:
            vm.log(f"  {note}")
        src = _unpack_source(apt.download(*source, work), work, log)
        timings["fetch_s"] = round(time.monotonic() - start, 1)
        vm.log(f"  {source[0]} {source[1]} unpacked ({timings['fetch_s']:.0f} s)")
        try:  # a failure from here on is not the network's: remember it
            _configure(src, log)
            _compile(src, log, start)
        except Unavailable as exc:
            _failed_marker().write_text(str(exc).splitlines()[0])
            raise
        timings["make_s"] = round(time.monotonic() - start - timings["fetch_s"], 1)
        release = _run(["make", "ARCH=um", "-s", "kernelrelease"], log, cwd=src).strip()
        staging = work / "out"
        staging.mkdir()
        shutil.copy2(src / "linux", staging / "linux")
        shutil.copy2(src / ".config", staging / "config")
        _modules_tree(src, release, staging, log)
        modules = sorted(p.name.removesuffix(".ko") for p in (staging / "modules" / release).rglob("*.ko"))
        helpers = recipe.helper_modules((staging / "config").read_text())
        gcc = subprocess.run(["gcc", "-dumpfullversion"], capture_output=True, text=True, check=False).stdout.strip()
        timings["total_s"] = round(time.monotonic() - start, 1)
        size = sum(p.stat().st_size for p in staging.rglob("*") if p.is_file())
        (staging / "build.json").write_text(json.dumps({
            "key": out.name.removeprefix("kernel-"), "release": release,
            "source": source[0], "source_version": source[1], "files_compiled": _compiled(log),
            "notes": notes, "gcc": gcc, "modules": modules, "helper_options": helpers, **timings,
            "size_mb": round(size / 2**20),
        }, indent=1) + "\n")
        shutil.rmtree(out, ignore_errors=True)
        staging.rename(out)
        _failed_marker().unlink(missing_ok=True)
        vm.log(f"kernel {release} built in {timings['total_s']:.0f} s ({timings['make_s']:.0f} s compiling), "
               f"{size / 2**20:.0f} MB in {out}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
