"""What the lab images are made of, beside the package lists and overlays.

Everything in lab/image/ (this file included) feeds the image key: change
anything here and the next run rebuilds. lab/build.py only orchestrates
(caching, progress, locking) and is not part of the key.
"""
from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
# The Molecule toolchain the VM's venv is made of: the file users install from
# (part of the image key, lab/build.py).
REQUIREMENTS = HERE.parent.parent / "molecule" / "requirements.txt"
# The VM's own suite (podman, UML, the Molecule toolchain).
SUITE = "bookworm"
DISK_SIZE = "8G"
# The scenario hosts' suites: one node image each, from the same package list
# and overlay; a platform of a molecule.yml picks one with `suite:`
# (molecule/shared/create.yml), bookworm by default.
NODE_SUITES = ("bookworm", "trixie")


# The lab's package mirror in the VM, one flat repository per node suite,
# mounted read-only at the same path into every scenario host
# (molecule/shared/create.yml), whose only apt source it is.
MIRROR_DIR = "/srv/lab-apt"


def mirror_dir(suite: str) -> str:
    return f"{MIRROR_DIR}/{suite}"


def node_image(suite: str) -> str:
    return f"localhost/lvs-lab/node:{suite}"


def base_image(suite: str) -> str:
    """The minimal Debian image the node image is built from (what
    docker.io/library/debian:<suite> is elsewhere)."""
    return f"localhost/lvs-lab/debian:{suite}"


def base_tar(suite: str) -> str:
    return f"debian-{suite}.tar"


# The build's one boot: the minimal Debian root filesystems imported, then the
# node images built from them with the Containerfile, offline, from the mirror.
# The build context is only what the Containerfile copies, laid out as in the
# repository (whose root is its context elsewhere).
IMPORT_SCRIPT = "set -e\nctx=$(mktemp -d)\nmkdir -p $ctx/lab/image\n" \
    "cp -r /src/lab/image/container-packages.txt /src/lab/image/container-overlay $ctx/lab/image/\n" + "".join(
        f"podman import --quiet /lab/{base_tar(suite)} {base_image(suite)}\n"
        f"podman build --quiet --network=none --volume={mirror_dir(suite)}:{mirror_dir(suite)}:ro "
        f"--build-arg=BASE={base_image(suite)} "
        f"--build-arg='APT_SOURCES=deb [trusted=yes] file:{mirror_dir(suite)} ./' "
        f"-f /src/lab/image/Containerfile -t {node_image(suite)} $ctx\n" for suite in NODE_SUITES) \
    + "podman image ls\n"


def packages(name: str) -> str:
    lines = (HERE / name).read_text().splitlines()
    return ",".join(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def base_args(mirror_out: str) -> list[str]:
    """mmdebstrap options of the minimal Debian root filesystem the node image
    is built from; the packages of the node image and of the mirror, with all
    they need beyond it, are downloaded (not installed) into mirror_out."""
    wanted = packages("container-packages.txt").split(",") + packages("mirror-packages.txt").split(",")
    return [
        "--variant=minbase",
        # with Recommends, as apt installs them on a host (a superset of what the
        # Containerfile installs without them)
        '--customize-hook=chroot "$1" apt-get install --download-only -y -q ' + " ".join(wanted),
        f'--customize-hook=mkdir -p {mirror_out} && mv "$1"/var/cache/apt/archives/*.deb {mirror_out}/',
    ]


def vm_args(ca_bundle: str | None) -> list[str]:
    """mmdebstrap options of the VM's root filesystem."""
    # A clean environment: the host's REQUESTS_CA_BUNDLE and the like would
    # point pip at files that do not exist, or differ, inside the root.
    pip_env = "env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8"
    hooks = [
        f"--customize-hook=sync-in {HERE / 'vm-overlay'} /",
        '--customize-hook=mkdir -p "$1/opt/lab"',
        f"--customize-hook=copy-in {REQUIREMENTS} /opt/lab",
        '--customize-hook=chroot "$1" python3 -m venv /opt/lab/venv',
    ]
    if ca_bundle:  # trust the host's CA bundle (e.g. an intercepting proxy) while building
        hooks.append(f'--customize-hook=cp {ca_bundle} "$1/tmp/build-ca.crt"')
        pip_env += " PIP_CERT=/tmp/build-ca.crt"
    hooks += [
        f'--customize-hook=chroot "$1" {pip_env} /opt/lab/venv/bin/pip install -q '
        "--no-cache-dir --disable-pip-version-check -r /opt/lab/requirements.txt",
        '--customize-hook=rm -f "$1/tmp/build-ca.crt"',
        '--customize-hook=chroot "$1" update-initramfs -u -k all',
    ]
    return ["--variant=apt", f"--include={packages('vm-packages.txt')}", *hooks]
