"""The lab's package mirror: a flat apt repository of downloaded .deb files.

Scenario hosts start bare and install what the roles install (ipvsadm,
keepalived, nftables) with apt, as a user's host does, from this repository
(`deb [trusted=yes] file:DIR ./`): built with the node images from the same
Debian suite, offline afterwards.
"""
from __future__ import annotations

import hashlib
import subprocess
import time
from pathlib import Path


def _stanza(deb: Path) -> str:
    control = subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True, check=True).stdout
    data = deb.read_bytes()
    return (control.rstrip("\n") + f"\nFilename: ./{deb.name}\nSize: {len(data)}\n"
            f"MD5sum: {hashlib.md5(data).hexdigest()}\nSHA256: {hashlib.sha256(data).hexdigest()}\n")


def index(folder: Path) -> int:
    """Write Packages and Release for the .deb files in folder; their number."""
    debs = sorted(folder.glob("*.deb"))
    packages = "\n".join(_stanza(deb) for deb in debs).encode()
    (folder / "Packages").write_bytes(packages)
    digest = hashlib.sha256(packages).hexdigest()
    (folder / "Release").write_text(
        f"Origin: lvs-lab\nLabel: lvs-lab\nDate: {time.strftime('%a, %d %b %Y %H:%M:%S UTC', time.gmtime())}\n"
        f"SHA256:\n {digest} {len(packages)} Packages\n")
    return len(debs)
