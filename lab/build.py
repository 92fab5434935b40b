"""Build the lab images from Debian packages and PyPI, cached by content.

Outputs, in CACHE/<key>/ where key hashes every build input (everything in
lab/image/, the recipe included), so a second run reuses them and a changed
input rebuilds:
  vm.img               ext4 root disk of the VM, with the scenario-host images
                       (one per suite of recipe.NODE_SUITES) already imported
                       into its podman storage
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
import re
import shutil
import subprocess
import time
from pathlib import Path

import mirror
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
    """lab/image/ and the Molecule toolchain the VM's venv is installed from."""
    extra = hashlib.sha256(recipe.REQUIREMENTS.read_bytes()).hexdigest()
    return hashlib.sha256((content_key(IMAGE_DIR) + extra).encode()).hexdigest()[:16]


def image_dir() -> Path:
    return cache_root() / build_key()


def _host_sources() -> str | None:
    """The host's own apt sources, unless LAB_APT_SOURCES names others."""
    override = os.environ.get("LAB_APT_SOURCES")
    if override:
        return override
    for candidate in ("/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"):
        if Path(candidate).is_file() and Path(candidate).stat().st_size:
            return candidate
    return None  # mmdebstrap's default Debian mirror


# A suite word in apt sources: on a deb822 Suites line or in a one-line entry.
_SOURCE_SUITES = re.compile(r"^(?:Suites:\s*|deb(?:-src)?\s+(?:\[[^]]*\]\s+)?\S+\s+)([a-z]+)", re.M)


def _apt_sources(suite: str, work: Path) -> list[str]:
    """The host's sources for `suite`: the same mirrors, their suite names
    (bookworm, bookworm-updates, bookworm-security) turned into suite's."""
    source = _host_sources()
    if not source:
        return []
    text = Path(source).read_text()
    found = {m.group(1) for m in _SOURCE_SUITES.finditer(text)}
    if found in ({suite}, set()) or len(found) > 1:
        return [source]  # already suite's, or not a shape to rewrite
    (host_suite,) = found
    rewritten = re.sub(rf"(?<=[\s:]){host_suite}(?=[-\s]|$)", suite, text, flags=re.M)
    out = work / f"apt-{suite}.sources"
    out.write_text(rewritten)
    return [str(out)]


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


def _base_rootfs(work: Path, suite: str) -> tuple[Path, float]:
    """One suite's minimal Debian root filesystem (the node image's base), as a
    tar for `podman import`, and the seconds it took; the package mirror in
    work/mirror/<suite>."""
    start = time.monotonic()
    tar = work / recipe.base_tar(suite)
    packages = work / "mirror" / suite
    _run(["mmdebstrap", *recipe.base_args(str(packages)), suite, str(tar), *_apt_sources(suite, work)],
         work / f"debian-{suite}.log")
    mirror.index(packages)
    return tar, time.monotonic() - start


def _vm_rootfs(work: Path) -> Path:
    root = work / "vmroot"
    _run(["mmdebstrap", *recipe.vm_args(_host_ca_bundle()), recipe.SUITE, str(root),
          *_apt_sources(recipe.SUITE, work)],
         work / "vm.log")
    return root


def _export_kernels(root: Path, out: Path) -> None:
    shutil.copy2(root / "usr/bin/linux.uml", out / "linux.uml")
    kernels = sorted((root / "boot").glob("vmlinuz-*"))
    if kernels:
        version = kernels[-1].name.removeprefix("vmlinuz-")
        shutil.copy2(kernels[-1], out / "vmlinuz")
        shutil.copy2(root / "boot" / f"initrd.img-{version}", out / "initrd.img")


def _import_node_images(out: Path, tars: list[Path], kernel_for) -> None:
    """Boot the new VM once, writable, to build the node images in podman from
    the minimal Debian root filesystems, with lab/image/Containerfile.
    Under UML it boots the kernel the scenarios boot (kernel_for(out) picks it):
    Debian 12's UML 6.1 in ptrace mode dies at init on some hosts (init
    segfaults), and the scenarios never use it there."""
    backend = "uml" if vm.pick_backend("auto") == "uml" else "qemu-tcg"
    kernel = kernel_for(out) if kernel_for and backend == "uml" else None
    with vm.Job(out, LAB_DIR.parent, backend, mem_mb=2048, writable=True, timeout=900,
                kernel=kernel) as job:
        for tar in tars:
            shutil.move(str(tar), job.run_dir / tar.name)
        rc = job.run(recipe.IMPORT_SCRIPT)
    if rc:
        raise SystemExit(f"lab build: importing the node images failed ({rc})")


def _wait(future: concurrent.futures.Future, start: float, what: str):
    """The future's result, with a line of progress every 20 s."""
    while True:
        try:
            return future.result(timeout=20)
        except concurrent.futures.TimeoutError:
            vm.log(f"  ... {what}: {time.monotonic() - start:.0f} s")


def build(force: bool = False, kernel_for=None) -> Path:
    """The images, built when missing. kernel_for(image_dir) gives the UML
    kernel for the one boot that imports the node images (None: the image's)."""
    out = image_dir()
    if (out / "build.json").exists() and not force:
        return out
    cache_root().mkdir(parents=True, exist_ok=True)
    # One build at a time per cache: a second caller waits, then reuses it.
    with open(cache_root() / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (out / "build.json").exists() and not force:
            return out
        return _build(out, kernel_for)


def _build(out: Path, kernel_for) -> Path:
    for tool in ("mmdebstrap", "mkfs.ext4"):
        if not shutil.which(tool):
            raise SystemExit(f"lab build: {tool} is missing (apt-get install mmdebstrap e2fsprogs)")
    work = cache_root() / f"build-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    timings: dict[str, float] = {}
    start = time.monotonic()
    try:
        vm.log(f"building images {out.name} (logs in {work}); about 5 minutes cold, "
               "then the node images once the kernel is there")
        with concurrent.futures.ThreadPoolExecutor(1 + len(recipe.NODE_SUITES)) as pool:
            nodes = {suite: pool.submit(_base_rootfs, work, suite) for suite in recipe.NODE_SUITES}
            root = pool.submit(_vm_rootfs, work)
            tars = []
            for suite, node in nodes.items():
                tar, seconds = _wait(node, start, f"Debian root filesystem and mirror ({suite})")
                tars.append(tar)
                timings[f"node_{suite}_s"] = round(seconds, 1)
                timings[f"node_{suite}_tar_mb"] = round(tar.stat().st_size / 2**20)
                vm.log(f"  Debian root filesystem and mirror {suite} ready: {seconds:.0f} s, "
                       f"{timings[f'node_{suite}_tar_mb']} MB ({time.monotonic() - start:.0f} s)")
            root_dir = _wait(root, start, "VM root filesystem (packages, then the Python toolchain)")
        timings["rootfs_s"] = round(time.monotonic() - start, 1)
        vm.log(f"  VM root filesystem ready ({timings['rootfs_s']:.0f} s)")
        # the package mirror goes into the VM image, beside podman's storage
        target = root_dir / recipe.MIRROR_DIR.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(work / "mirror"), target)
        timings["mirror_mb"] = round(sum(p.stat().st_size for p in target.rglob("*") if p.is_file()) / 2**20)
        staging = work / "out"
        staging.mkdir()
        _export_kernels(root_dir, staging)
        _run(["mkfs.ext4", "-q", "-F", "-L", "labroot", "-d", str(root_dir),
              str(staging / "vm.img"), recipe.DISK_SIZE], work / "mkfs.log")
        shutil.rmtree(root_dir)
        timings["disk_s"] = round(time.monotonic() - start, 1)
        vm.log(f"  disk image ready ({timings['disk_s']:.0f} s); building the node images (Containerfile)")
        _import_node_images(staging, tars, kernel_for)
        timings["import_s"] = round(time.monotonic() - start - timings["disk_s"], 1)
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
