# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-lab connection: run tasks in a rootful podman container via nsenter.

`podman exec` costs about 1.1 s inside the lab VM, `nsenter` 0.03 s: this
connection makes a Molecule task about ten times cheaper. It enters every
namespace of the container's PID 1 and reads and writes files through
/proc/PID/root. Containers are found by name (inventory_hostname).
Not part of the collection: it lives with the scenarios it serves.
"""
from __future__ import annotations

DOCUMENTATION = """
    name: nsenter
    short_description: run tasks inside a rootful podman container through nsenter
    description:
        - Enters the namespaces of the container's PID 1; needs root on the container host.
    author: lvs.cluster contributors
    options:
        remote_addr:
            description: The container's name.
            default: inventory_hostname
            vars:
                - name: inventory_hostname
                - name: ansible_host
    extends_documentation_fragment:
        - connection_pipelining
"""

import os
import shutil
import subprocess

from ansible.errors import AnsibleConnectionFailure, AnsibleFileNotFound
from ansible.plugins.connection import ConnectionBase

# A clean, container-side environment: the controller's PATH (a venv) means
# nothing inside the container.
CONTAINER_ENV = ["/usr/bin/env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                 "HOME=/root", "LANG=C.UTF-8"]
PID_CACHE = "/run/lab-nsenter"


def _start_time(pid: str) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


class Connection(ConnectionBase):
    transport = "nsenter"
    has_pipelining = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pid = None

    def _container_pid(self, name: str) -> str:
        # Cached as "pid start-time": a restarted container gets a new PID 1,
        # which the start time tells apart from a reused number.
        cache = os.path.join(PID_CACHE, name)
        try:
            with open(cache) as f:
                pid, started = f.read().split()
            if _start_time(pid) == started:
                return pid
        except (OSError, ValueError):
            pass
        proc = subprocess.run(["podman", "container", "inspect", "--format", "{{.State.Pid}}", name],
                              capture_output=True, text=True, check=False)
        pid = proc.stdout.strip()
        if proc.returncode or pid in ("", "0"):
            raise AnsibleConnectionFailure(f"container {name} is not running: {proc.stderr.strip()}")
        os.makedirs(PID_CACHE, exist_ok=True)
        with open(cache, "w") as f:
            f.write(f"{pid} {_start_time(pid)}\n")
        return pid

    def _connect(self):
        if not self._connected:
            self._pid = self._container_pid(self.get_option("remote_addr"))
            self._connected = True
        return self

    def exec_command(self, cmd, in_data=None, sudoable=True):
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        self._connect()
        argv = ["nsenter", "--target", self._pid, "--all", "--", *CONTAINER_ENV, "/bin/sh", "-c", cmd]
        proc = subprocess.run(argv, input=in_data, capture_output=True, check=False,
                              stdin=None if in_data else subprocess.DEVNULL)
        return proc.returncode, proc.stdout, proc.stderr

    def _in_container(self, path: str) -> str:
        return f"/proc/{self._pid}/root/{path.lstrip('/')}"

    def put_file(self, in_path, out_path):
        super().put_file(in_path, out_path)
        self._connect()
        if not os.path.exists(in_path):
            raise AnsibleFileNotFound(f"file or module does not exist: {in_path}")
        shutil.copyfile(in_path, self._in_container(out_path))

    def fetch_file(self, in_path, out_path):
        super().fetch_file(in_path, out_path)
        self._connect()
        shutil.copyfile(self._in_container(in_path), out_path)

    def close(self):
        self._connected = False
