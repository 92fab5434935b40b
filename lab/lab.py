"""The lvs.cluster lab: a VM with a real kernel IPVS, for tests and demos.

  lab.py build [--force]          build the images (cached; rebuilt when inputs change)
  lab.py run [opts] -- CMD ARGS   boot the VM, run CMD in the shared working tree,
                                  exit with its status
  lab.py scenarios [--jobs N] [SCENARIO...]
                                  Molecule scenarios split over N VMs run side
                                  by side (default: one per core, at most 4)
  lab.py info                     the cache, the image key, the backend and the kernel
                                  (one boot: its version, seccomp or ptrace mode, why)
  lab.py clean                    remove cached images other than the current one

Environment: LAB_BACKEND (auto, uml, qemu-kvm, qemu-tcg), LAB_KERNEL (auto, own,
bookworm: the UML kernel, see kernels.py), LAB_MEM (MB),
LAB_JOBS (VMs for `scenarios`), LAB_PIN=0 (do not pin a UML VM to one host CPU),
LAB_TIMESTAMPS=1 (prefix every output line with the seconds since boot),
LAB_CACHE (cache folder), LAB_APT_SOURCES (an apt sources file for the build),
LAB_CA_BUNDLE (CA bundle pip trusts while building).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import build  # noqa: E402
import kernels  # noqa: E402
import scenarios  # noqa: E402
import vm  # noqa: E402

# What every job sees: the VM's toolchain and Molecule reading the top-level
# molecule/ folder of the collection (Molecule 26 defaults to extensions/molecule).
JOB_PRELUDE = """\
export PATH=/opt/lab/venv/bin:$PATH
export MOLECULE_GLOB='molecule/*/molecule.yml'
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 ANSIBLE_NOCOLOR=1
"""


def _on_signal(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def prepare(backend: str) -> tuple[Path, kernels.Kernel | None]:
    """The images and, under UML, the kernel: built side by side when missing
    (the image build mostly waits on the network and the disk, the kernel's on
    the CPU)."""
    if backend != "uml" or os.environ.get("LAB_KERNEL") == "bookworm":
        image = build.build()
        return image, kernels.pick(image) if backend == "uml" else None
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        own = pool.submit(kernels.own)
        image = build.build(kernel_for=kernels.pick)  # waits for the kernel only to import
        try:
            own.result()
        except kernels.Unavailable:
            pass  # pick() says why and falls back (or stops, for LAB_KERNEL=own)
    return image, kernels.pick(image)


def cmd_run(args: argparse.Namespace) -> int:
    if not args.command:
        raise SystemExit("lab run: give the command after --")
    backend = vm.pick_backend(args.backend)
    image, kernel = prepare(backend)
    src = Path(args.src or _repo_root())
    env_lines = "".join(f"export {shlex.quote(kv)}\n" for kv in args.env)
    script = JOB_PRELUDE + env_lines + shlex.join(args.command)
    with vm.Job(image, src, backend, args.mem, timeout=args.timeout, kernel=kernel) as job:
        try:
            return job.run(script)
        except KeyboardInterrupt:
            vm.log("interrupted: stopping the VM")
            return 130


def cmd_scenarios(args: argparse.Namespace) -> int:
    prepare(vm.pick_backend(os.environ.get("LAB_BACKEND", "auto")))  # once, before the VMs start
    lab = [sys.executable, str(Path(__file__).resolve())]
    return scenarios.run(Path(_repo_root()), args.names, args.jobs, lab)


def cmd_info(_args: argparse.Namespace) -> int:
    out = build.image_dir()
    built = out / "build.json"
    own = kernels.own_dir() / "build.json"
    backend = vm.pick_backend(os.environ.get("LAB_BACKEND", "auto"))
    info = {
        "cache": str(build.cache_root()),
        "key": out.name,
        "built": json.loads(built.read_text()) if built.exists() else None,
        "backend": backend,
        "kvm_usable": vm.kvm_usable(),
        "own_kernel": json.loads(own.read_text()) if own.exists() else "not built (the next lab run builds it)",
    }
    if built.exists():  # one boot tells what really runs: version and mode
        kernel = None
        if backend == "uml":
            try:
                kernel = kernels.own(build=False)
            except kernels.Unavailable as exc:
                kernel = kernels.bookworm(out, f"fallback: the own kernel is not available: {exc}")
        with vm.Job(out, Path(_repo_root()), backend, 512, timeout=120, kernel=kernel) as job:
            job.run("uname -r > /lab/release", quiet_boot=True)
            release = job.run_dir / "release"
            info["kernel"] = {"release": release.read_text().strip() if release.exists() else None,
                              "line": job.kernel_line}
    print(json.dumps(info, indent=1))
    return 0


def cmd_clean(_args: argparse.Namespace) -> int:
    import shutil
    keep = build.image_dir().name
    root = build.cache_root()
    for entry in sorted(root.iterdir()) if root.is_dir() else []:
        if entry.is_dir() and entry.name != keep:
            vm.log(f"removing {entry}")
            shutil.rmtree(entry, ignore_errors=True)
    return 0


def _repo_root() -> str:
    here = Path(__file__).resolve().parent
    try:
        return subprocess.run(["git", "-C", str(here), "rev-parse", "--show-toplevel"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return str(here.parent)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lab.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_build = sub.add_parser("build", help="build (or reuse) the images")
    p_build.add_argument("--force", action="store_true", help="rebuild even when cached")
    p_run = sub.add_parser("run", help="run a command inside the VM")
    p_run.add_argument("--backend", default=os.environ.get("LAB_BACKEND", "auto"))
    p_run.add_argument("--mem", type=int, default=int(os.environ.get("LAB_MEM", "4096")),
                       help="VM memory in MB")
    p_run.add_argument("--src", help="host folder shared as /src (default: this repository)")
    p_run.add_argument("--env", action="append", default=[], metavar="K=V",
                       help="environment for the command (repeatable)")
    p_run.add_argument("--timeout", type=float, default=None, help="seconds before the VM is stopped")
    p_run.add_argument("command", nargs=argparse.REMAINDER)
    p_sc = sub.add_parser("scenarios", help="run Molecule scenarios in VMs side by side")
    p_sc.add_argument("--jobs", type=int, default=scenarios.default_jobs(), help="VMs at once")
    p_sc.add_argument("names", nargs="*", help="scenarios (default: all)")
    sub.add_parser("info", help="show the cache and the backend")
    sub.add_parser("clean", help="remove cached images other than the current one")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    if args.cmd == "build":
        image, kernel = prepare(vm.pick_backend(os.environ.get("LAB_BACKEND", "auto"))) if not args.force \
            else (build.build(force=True, kernel_for=kernels.pick), None)
        print(image)
        if kernel:
            print(kernel.binary)
        return 0
    if args.cmd == "run":
        if args.command and args.command[0] == "--":
            args.command = args.command[1:]
        return cmd_run(args)
    if args.cmd == "scenarios":
        return cmd_scenarios(args)
    if args.cmd == "clean":
        return cmd_clean(args)
    return cmd_info(args)


if __name__ == "__main__":
    sys.exit(main())
