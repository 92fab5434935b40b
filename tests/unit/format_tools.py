# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The formats' own tools as judges of what the collection renders: nft and keepalived.

lab/host-packages.sh installs them; a missing tool fails the test that asks
for it (a skip would count as a pass).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile


def _tool(name):
    path = shutil.which(name) or next((p for p in ('/usr/sbin/' + name, '/sbin/' + name) if os.path.exists(p)), None)
    assert path, '%s is not installed: bash lab/host-packages.sh installs it' % name
    return path


def _in_netns(argv):
    """argv in a network namespace of its own (a user namespace too when not root): no host state is read or changed."""
    return (['unshare', '-n'] if os.geteuid() == 0 else ['unshare', '-r', '-n']) + argv


def nft_list(text, table='inet lvs_cluster', as_json=False):
    """Load an nft -f text in a throwaway network namespace and list the table back as nft prints it (or its JSON).

    AssertionError with nft's message when nft refuses the text.
    """
    nft = _tool('nft')
    with tempfile.NamedTemporaryFile('w', suffix='.nft') as handle:
        handle.write(text)
        handle.flush()
        done = subprocess.run(_in_netns(['sh', '-c', '"$0" -f "$1" && "$0" %slist table %s' % ('-j ' if as_json else '', table), nft, handle.name]),
                              capture_output=True, text=True, check=False)
    assert done.returncode == 0, 'nft refused the text: %s\n%s' % (done.stderr, text)
    return done.stdout


def keepalived_test(text, files=(), interfaces=('eth0',)):
    """keepalived --config-test -f of a text; (exit code, its messages).

    Run in a network namespace of its own holding the interfaces named (as
    bridges: keepalived refuses VRRP on lo), so that the host's own interfaces
    do not matter; files [(name, text)] are written next to the text first, and
    /TESTDIR in the texts stands for their folder.
    """
    keepalived, ip = _tool('keepalived'), _tool('ip')
    with tempfile.TemporaryDirectory() as folder:
        for name, content in list(files) + [('keepalived.conf', text)]:
            with open(os.path.join(folder, name), 'w') as handle:
                handle.write(content.replace('/TESTDIR', folder))
        script = ''.join('"$1" link add %s type bridge && ' % name for name in interfaces)
        done = subprocess.run(_in_netns(['sh', '-c', script + '"$0" --config-test -f "$2"', keepalived, ip,
                                         os.path.join(folder, 'keepalived.conf')]),
                              capture_output=True, text=True, check=False)
    return done.returncode, done.stderr + done.stdout
