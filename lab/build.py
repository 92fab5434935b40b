"""Build the lab images from Debian packages and PyPI, cached by content.

Outputs, in CACHE/<key>/ where key hashes every build input (everything in
lab/image/, the recipe included), so a second run reuses them and a changed
input rebuilds:
  vm.img               ext4 root disk of the VM, with the scenario-host image
                       already imported into its podman storage
  linux.uml            the User-Mode Linux kernel (a host program; it needs a
                       glibc as new as Debian bookworm's on the host)
  vmlinuz, initrd.img  the stock kernel for the QEMU backends
  build.json           timings and sizes of the build
"""
from __future__ import annotations

import concurrent.futures
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import vm
from image import recipe

LAB_DIR = Path(__file__).resolve().parent
IMAGE_DIR = LAB_DIR / "image"


def cache_root() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lvs-cluster-lab"
    return Path(os.environ.get("LAB_CACHE", default))


def content_key(folder: Path) -> str:
    """A hash of every file below folder: names, executable bits, contents."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(LAB_DIR)).encode() + b"\0")
            digest.update(oct(path.stat().st_mode & 0o111).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def build_key() -> str:
    return content_key(IMAGE_DIR)


def image_dir() -> Path:
    return cache_root() / build_key()


def _apt_sources() -> list[str]:
    """The host's own apt sources, unless LAB_APT_SOURCES names others."""
    override = os.environ.get("LAB_APT_SOURCES")
    if override:
        return [override]
    for candidate in ("/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"):
        if Path(candidate).is_file() and Path(candidate).stat().st_size:
            return [candidate]
    return []  # mmdebstrap's default Debian mirror


def _host_ca_bundle() -> str | None:
    for candidate in (os.environ.get("LAB_CA_BUNDLE"), "/etc/ssl/certs/ca-certificates.crt",
                      "/etc/pki/tls/certs/ca-bundle.crt"):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def _run(argv: list[str], logfile: Path) -> None:
    with logfile.open("ab") as out:
        result = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=False)
    if result.returncode:
        tail = logfile.read_text(errors="replace").splitlines()[-25:]
        raise SystemExit("lab build: command failed ({}):\n  {}\n{}".format(
            result.returncode, " ".join(argv[:4]) + " ...", "\n".join(tail)))


def _node_rootfs(work: Path) -> Path:
    """The scenario hosts' root filesystem, as a tar for `podman import`."""
    tar = work / "node.tar"
    _run(["mmdebstrap", *recipe.node_args(), recipe.SUITE, str(tar), *_apt_sources()], work / "node.log")
    return tar


def _vm_rootfs(work: Path) -> Path:
    root = work / "vmroot"
    _run(["mmdebstrap", *recipe.vm_args(_host_ca_bundle()), recipe.SUITE, str(root), *_apt_sources()],
         work / "vm.log")
    return root


def _export_kernels(root: Path, out: Path) -> None:
    shutil.copy2(root / "usr/bin/linux.uml", out / "linux.uml")
    kernels = sorted((root / "boot").glob("vmlinuz-*"))
    if kernels:
        version = kernels[-1].name.removeprefix("vmlinuz-")
        shutil.copy2(kernels[-1], out / "vmlinuz")
        shutil.copy2(root / "boot" / f"initrd.img-{version}", out / "initrd.img")


def _import_node_image(out: Path, tar: Path) -> None:
    """Boot the new VM once, writable, to import the node image into podman."""
    backend = "uml" if vm.pick_backend("auto") == "uml" else "qemu-tcg"
    with vm.Job(out, LAB_DIR.parent, backend, mem_mb=2048, writable=True, timeout=900) as job:
        shutil.move(str(tar), job.run_dir / "node.tar")
        rc = job.run(recipe.IMPORT_SCRIPT)
    if rc:
        raise SystemExit(f"lab build: importing the node image failed ({rc})")


def _wait(future: concurrent.futures.Future, start: float, what: str):
    """The future's result, with a line of progress every 20 s."""
    while True:
        try:
            return future.result(timeout=20)
        except concurrent.futures.TimeoutError:
            vm.log(f"  ... {what}: {time.monotonic() - start:.0f} s")


def build(force: bool = False) -> Path:
    out = image_dir()
    if (out / "build.json").exists() and not force:
        return out
    cache_root().mkdir(parents=True, exist_ok=True)
    # One build at a time per cache: a second caller waits, then reuses it.
    with open(cache_root() / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (out / "build.json").exists() and not force:
            return out
        return _build(out)


def _build(out: Path) -> Path:
    for tool in ("mmdebstrap", "mkfs.ext4"):
        if not shutil.which(tool):
            raise SystemExit(f"lab build: {tool} is missing (apt-get install mmdebstrap e2fsprogs)")
    work = cache_root() / f"build-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    timings: dict[str, float] = {}
    start = time.monotonic()
    try:
        vm.log(f"building images {out.name} (logs in {work}); about 4 minutes cold")
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            node = pool.submit(_node_rootfs, work)
            root = pool.submit(_vm_rootfs, work)
            tar = _wait(node, start, "node root filesystem")
            vm.log(f"  node root filesystem ready ({time.monotonic() - start:.0f} s)")
            root_dir = _wait(root, start, "VM root filesystem (packages, then the Python toolchain)")
        timings["rootfs_s"] = round(time.monotonic() - start, 1)
        vm.log(f"  VM root filesystem ready ({timings['rootfs_s']:.0f} s)")
        staging = work / "out"
        staging.mkdir()
        _export_kernels(root_dir, staging)
        _run(["mkfs.ext4", "-q", "-F", "-L", "labroot", "-d", str(root_dir),
              str(staging / "vm.img"), recipe.DISK_SIZE], work / "mkfs.log")
        shutil.rmtree(root_dir)
        timings["disk_s"] = round(time.monotonic() - start, 1)
        vm.log(f"  disk image ready ({timings['disk_s']:.0f} s); importing the node image")
        _import_node_image(staging, tar)
        timings["total_s"] = round(time.monotonic() - start, 1)
        used = sum(p.stat().st_blocks * 512 for p in staging.rglob("*") if p.is_file())
        (staging / "build.json").write_text(json.dumps(
            {"key": out.name, **timings, "disk_used_mb": round(used / 2**20)}, indent=1) + "\n")
        shutil.rmtree(out, ignore_errors=True)
        staging.rename(out)
        vm.log(f"images built in {timings['total_s']:.0f} s, {used / 2**20:.0f} MB in {out}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out
