# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Kernel parameters via /proc/sys and managed files (sysctl.d, unit files)."""

from __future__ import annotations

import os
import tempfile

PROC_SYS = '/proc/sys'
SYS_CLASS_NET = '/sys/class/net'


def conf_key(interface, name, family='ipv4'):
    """sysctl key for a per-interface setting.

    Dots inside an interface name (VLAN eth0.100) become "/" in the dotted
    key, the form both procps sysctl and systemd-sysctl read back.
    """
    return 'net.%s.conf.%s.%s' % (family, interface.replace('.', '/'), name)


def key_to_path(key):
    """net.ipv4.conf.eth0/100.rp_filter -> /proc/sys/net/ipv4/conf/eth0.100/rp_filter."""
    parts = [p.replace('/', '.') for p in key.split('.')]
    return os.path.join(PROC_SYS, *parts)


def read_value(key):
    """Current value as a string, or None when the key does not exist."""
    try:
        with open(key_to_path(key)) as handle:
            return ' '.join(handle.read().split())
    except (IOError, OSError):
        return None


def write_value(key, value):
    with open(key_to_path(key), 'w') as handle:
        handle.write('%s\n' % value)


def interface_exists(name):
    return os.path.isdir(os.path.join(SYS_CLASS_NET, name))


def render_conf(header, values):
    """sysctl.d file text: header comment lines then "key = value" lines."""
    lines = ['# %s' % line for line in header]
    lines += ['%s = %s' % (key, value) for key, value in values]
    return '\n'.join(lines) + '\n'


def parse_conf(text):
    """{key: value} of a sysctl.d file's "key = value" lines."""
    values = {}
    for line in (text or '').splitlines():
        key, sep, value = line.partition('=')
        if sep and not line.lstrip().startswith(('#', ';')):
            values[key.strip()] = value.strip()
    return values


def read_file(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def write_file_atomic(module, path, content, mode=0o644):
    """Write via a temp file in the target directory and module.atomic_move."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    fd, tmp = tempfile.mkstemp(prefix='.lvs-cluster-', dir=directory)
    try:
        with os.fdopen(fd, 'w') as handle:
            handle.write(content)
        os.chmod(tmp, mode)
        module.atomic_move(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
