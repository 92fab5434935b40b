"""What the lab's own User-Mode Linux kernel is made of, beside lab.config.

Everything in lab/kernel/ (this file included) feeds the kernel's cache key:
change the fragment, a pinned version or a step here and the next run
rebuilds. lab/kernels.py only orchestrates (fetch, cache, lock, progress,
fallback) and is not part of the key.

The source is Debian's own kernel source package, from unstable, the only
suite with a kernel new enough for UML's seccomp mode (7.x). The
configuration is the kernel's smallest for UML (`make ARCH=um defconfig`)
with lab.config on top: what the VM needs to run podman and systemd, and the
networking the scenarios use. What the scenarios' hosts load (IPVS,
tunnels, netfilter) is built as modules and installed with the kernel, as on
Debian.
"""
from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUITE = "unstable"
MIRROR = "http://deb.debian.org/debian"
# (package, version) pinned; when the mirror no longer has the version, the
# newest of the same kind is taken instead and said so (lab/kernels.py).
SOURCE = ("linux-source-7.2", "7.2.13-1")
SOURCE_PATTERN = re.compile(r"^linux-source-(\d+)\.(\d+)$")
MIN_SOURCE = (7, 0)  # seccomp mode came with 7.0
FRAGMENT = HERE / "lab.config"
# UML runs as one host process per guest process; the seccomp check and the
# fallback to ptrace are the kernel's own (arch/um/os-Linux/start_up.c).
BOOT_ARGS = ("seccomp=auto",)

_OPTION = re.compile(r"^(CONFIG_[A-Za-z0-9_]+)=(.*)$")
_UNSET = re.compile(r"^# (CONFIG_[A-Za-z0-9_]+) is not set$")


def fragment() -> dict[str, str]:
    """The options lab.config requires, name -> value."""
    wanted = {}
    for line in FRAGMENT.read_text().splitlines():
        match = _OPTION.match(line.strip())
        if match:
            wanted[match.group(1)] = match.group(2)
    return wanted


def options(config_text: str) -> dict[str, str]:
    """A .config as name -> value ('n' for '# ... is not set')."""
    found = {}
    for line in config_text.splitlines():
        match = _OPTION.match(line) or _UNSET.match(line)
        if match:
            found[match.group(1)] = match.group(2) if match.re is _OPTION else "n"
    return found


def no_modules(config_text: str, keep: frozenset[str] = frozenset()) -> str:
    """Every module (=m) turned off but those in `keep`."""
    return re.sub(r"^(CONFIG_[A-Za-z0-9_]+)=m$",
                  lambda m: m.group(0) if m.group(1) in keep else f"# {m.group(1)} is not set",
                  config_text, flags=re.M)


def wanted_modules() -> frozenset[str]:
    """The options lab.config asks for as modules."""
    return frozenset(name for name, value in fragment().items() if value == "m")


def starting_config(defconfig: str) -> str:
    """UML's default configuration, modules off, lab.config on top."""
    lines = [f"{name}={value}" for name, value in fragment().items()]
    return no_modules(defconfig) + "\n# lab.config\n" + "\n".join(lines) + "\n"


def problems(final_config: str) -> list[str]:
    """What the configuration tool dropped or changed of lab.config."""
    final = options(final_config)
    return [f"{name}={value} (got {final.get(name, 'n')})" for name, value in fragment().items()
            if final.get(name, "n") != value]


def helper_modules(final_config: str) -> list[str]:
    """Modules lab.config did not ask for that the ones it asked for select
    (nf_defrag_ipv4, ip_tunnel, ...): they stay."""
    return sorted(name for name, value in options(final_config).items()
                  if value == "m" and name not in wanted_modules())
