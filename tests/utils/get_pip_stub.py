# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Offline stand-in for ansible-test's get-pip bootstrap script.

ansible-test (2.19) downloads get-pip-<version>.py from a host that is not
reachable here and caches it as ~/.ansible/test/cache/get_pip_<version>.py
(see ansible_test/_util/target/setup/requirements.py and
https://github.com/ansible/ansible/issues/77304). tests/utils/ansible-test-env.sh
copies this file there. Like get-pip.py it is run with pip install arguments
(e.g. "--disable-pip-version-check pip==24.2 setuptools==..."); it runs pip
from the wheel bundled with CPython's ensurepip, which then installs the
requested packages from the configured package index.
"""

from __future__ import annotations

import glob
import os
import sys


def bundled_pip_wheel():
    import ensurepip
    pattern = os.path.join(os.path.dirname(ensurepip.__file__), '_bundled', 'pip-*.whl')
    wheels = sorted(glob.glob(pattern))
    if not wheels:
        sys.exit('get_pip_stub: no pip wheel bundled with ensurepip (%s)' % pattern)
    return wheels[-1]


def main():
    sys.path.insert(0, bundled_pip_wheel())
    from pip._internal.cli.main import main as pip_main  # pylint: disable=import-error
    # get-pip.py's own flags (packages it would add otherwise); pip has no such options.
    own = ('--no-setuptools', '--no-wheel')
    args = [arg for arg in sys.argv[1:] if arg not in own]
    return pip_main(['install', '--upgrade'] + args)


if __name__ == '__main__':
    sys.exit(main())
