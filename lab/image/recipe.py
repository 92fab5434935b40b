"""What the lab images are made of, beside the package lists and overlays.

Everything in lab/image/ (this file included) feeds the image key: change
anything here and the next run rebuilds. lab/build.py only orchestrates
(caching, progress, locking) and is not part of the key.
"""
from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
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


def node_tar(suite: str) -> str:
    return f"node-{suite}.tar"


# Imports the node root filesystems into the VM's podman storage during the build.
IMPORT_SCRIPT = "set -e\n" + "".join(
    "podman import --quiet --change CMD=/sbin/init --change STOPSIGNAL=SIGRTMIN+3 "
    f"/lab/{node_tar(suite)} {node_image(suite)}\n" for suite in NODE_SUITES) + "podman image ls\n"


def packages(name: str) -> str:
    lines = (HERE / name).read_text().splitlines()
    return ",".join(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def node_args(suite: str, mirror_out: str) -> list[str]:
    """mmdebstrap options of the scenario hosts' root filesystem. The packages
    of the mirror are downloaded (not installed) into mirror_out."""
    return [
        "--variant=minbase", f"--include={packages('container-packages.txt')}",
        f"--customize-hook=sync-in {HERE / 'container-overlay'} /",
        # The HTTP server starts with systemd in every host; tests stop it where needed.
        '--customize-hook=chroot "$1" systemctl enable lvs-lab-httpd.service',
        # sshd, for who logs in as a user does (the key comes with the host, at
        # create time): no host key baked in, each host makes its own at boot
        # (container-overlay: ssh.service.d).
        '--customize-hook=rm -f "$1"/etc/ssh/ssh_host_*',
        '--customize-hook=chroot "$1" systemctl enable ssh.service',
        # the mirror: what these packages need beyond this root, as apt would install it
        '--customize-hook=chroot "$1" apt-get install --download-only -y -q '
        + " ".join(packages("mirror-packages.txt").split(",")),
        f'--customize-hook=mkdir -p {mirror_out} && mv "$1"/var/cache/apt/archives/*.deb {mirror_out}/',
        # the host's only apt source is the lab's mirror (no lists: a fresh host runs apt-get update)
        '--customize-hook=rm -f "$1"/etc/apt/sources.list.d/* "$1"/etc/apt/sources.list',
        f'--customize-hook=echo "deb [trusted=yes] file:{mirror_dir(suite)} ./" > "$1"/etc/apt/sources.list',
    ]


def vm_args(ca_bundle: str | None) -> list[str]:
    """mmdebstrap options of the VM's root filesystem."""
    # A clean environment: the host's REQUESTS_CA_BUNDLE and the like would
    # point pip at files that do not exist, or differ, inside the root.
    pip_env = "env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8"
    hooks = [
        f"--customize-hook=sync-in {HERE / 'vm-overlay'} /",
        '--customize-hook=mkdir -p "$1/opt/lab"',
        f"--customize-hook=copy-in {HERE / 'requirements-vm.txt'} /opt/lab",
        '--customize-hook=chroot "$1" python3 -m venv /opt/lab/venv',
    ]
    if ca_bundle:  # trust the host's CA bundle (e.g. an intercepting proxy) while building
        hooks.append(f'--customize-hook=cp {ca_bundle} "$1/tmp/build-ca.crt"')
        pip_env += " PIP_CERT=/tmp/build-ca.crt"
    hooks += [
        f'--customize-hook=chroot "$1" {pip_env} /opt/lab/venv/bin/pip install -q '
        "--no-cache-dir --disable-pip-version-check -r /opt/lab/requirements-vm.txt",
        '--customize-hook=rm -f "$1/tmp/build-ca.crt"',
        '--customize-hook=chroot "$1" update-initramfs -u -k all',
    ]
    return ["--variant=apt", f"--include={packages('vm-packages.txt')}", *hooks]
