# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Kernel parameters via /proc/sys and managed files (sysctl.d, unit files)."""

from __future__ import annotations

import os
import re
import stat
import tempfile

PROC_SYS = '/proc/sys'
SYS_CLASS_NET = '/sys/class/net'

# Trees of keys that appear only once a kernel module is loaded: the module
# that brings them (what systemd-modules-load does before systemd-sysctl).
KEY_MODULES = (
    ('net.ipv4.vs.', 'ip_vs'),
)


# A key in dotted form, the first separator a dot (sysctl.d(5): "/" in a part
# then stands for a "." of the name, as in a VLAN's eth0/100). Every part is a
# path component under /proc/sys: ASCII words, "/" only between them, so no
# part is empty, "." or ".."; the first part has no "/" and no leading "-"
# (sysctl.d reads "-key" as "ignore failure"); no glob character.
_PART = r'[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*'
KEY_RE = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_-]*(?:\.%s)+' % _PART)
MAX_KEY = 255
# A value: words and numbers, separated by blanks (ip_local_port_range's
# "32768 60999"), that the kernel reads as written and sysctl.d as one value.
VALUE_RE = re.compile(r'[A-Za-z0-9_.:,/+-]+(?:[ \t]+[A-Za-z0-9_.:,/+-]+)*')
MAX_VALUE = 1024
MAX_FILE = 65536


class SysctlError(ValueError):
    """A key, value or file refused; field names it as the user wrote it."""

    def __init__(self, field, message):
        super(SysctlError, self).__init__('%s: %s' % (field, message))
        self.field = field


def check_key(key, field='values'):
    """key if it is a sysctl key (KEY_RE, at most MAX_KEY characters); else SysctlError."""
    if not isinstance(key, str) or len(key) > MAX_KEY or not KEY_RE.fullmatch(key):
        raise SysctlError(field, '%r is not a sysctl key (dotted parts of letters, digits, "_" and "-"; '
                                 '"/" for a dot inside a part)' % (key,))
    return key


def check_value(key, value, field='values'):
    """The value of key as written to the kernel and the file (blanks as one space); else SysctlError."""
    where = '%s[%s]' % (field, key)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise SysctlError(where, 'give a number or a string, got %r' % (value,))
    try:
        text = str(value)
    except ValueError:  # an integer of more digits than Python converts
        text = '%d digits' % MAX_VALUE
    if len(text) > MAX_VALUE or not VALUE_RE.fullmatch(text):
        raise SysctlError(where, '%r is not a sysctl value (letters, digits and "_.:,/+-", words separated by '
                                 'spaces or tabs, at most %d characters)' % (text[:80], MAX_VALUE))
    return ' '.join(text.split())


def conf_key(interface, name, family='ipv4'):
    """sysctl key for a per-interface setting.

    Dots inside an interface name (VLAN eth0.100) become "/" in the dotted
    key, the form both procps sysctl and systemd-sysctl read back.
    """
    return 'net.%s.conf.%s.%s' % (family, interface.replace('.', '/'), name)


def key_to_path(key, field='values'):
    """net.ipv4.conf.eth0/100.rp_filter -> /proc/sys/net/ipv4/conf/eth0.100/rp_filter.

    Refuses (SysctlError) a key outside the grammar and a path that resolves
    out of /proc/sys (a symbolic link), before anything is read or written.
    """
    parts = [p.replace('/', '.') for p in check_key(key, field).split('.')]
    path = os.path.join(PROC_SYS, *parts)
    root = os.path.realpath(PROC_SYS)
    if not os.path.realpath(path).startswith(root + os.sep):
        raise SysctlError(field, '%s resolves out of %s' % (key, PROC_SYS))
    return path


def read_value(key):
    """Current value as a string, or None when the key does not exist."""
    try:
        with open(key_to_path(key)) as handle:
            return ' '.join(handle.read().split())
    except (IOError, OSError):
        return None


def key_module(key):
    """The kernel module that brings key, or None."""
    return next((name for prefix, name in KEY_MODULES if key.startswith(prefix)), None)


def write_value(key, value):
    with open(key_to_path(key), 'w') as handle:
        handle.write('%s\n' % value)


def interface_exists(name):
    return os.path.isdir(os.path.join(SYS_CLASS_NET, name))


_CONTROL_RE = re.compile(r'[\x00-\x1f\x7f]')


def render_conf(header, values):
    """sysctl.d file text: header comment lines then "key = value" lines.

    The one writer of these files: refuses (SysctlError) a key or value out of
    the grammar, and a comment line with a control character (a line break).
    """
    for line in header:
        if _CONTROL_RE.search(line):
            raise SysctlError('file', 'a comment line cannot hold %r' % (line,))
    lines = ['# %s' % line for line in header]
    for key, value in values:
        if check_value(check_key(key), value) != value:
            raise SysctlError('values[%s]' % key, '%r is not written as it is' % (value,))
        lines.append('%s = %s' % (key, value))
    return '\n'.join(lines) + '\n'


def parse_conf(text):
    """{key: value} of a sysctl.d file's "key = value" lines."""
    values = {}
    for line in (text or '').splitlines():
        key, sep, value = line.partition('=')
        if sep and not line.lstrip().startswith(('#', ';')):
            values[key.strip()] = value.strip()
    return values


def read_owned(path, field='file'):
    """The text of the sysctl.d file a module owns, or None when there is none.

    Refuses (SysctlError, without showing its content) what is no sysctl.d
    file of keys and values: its text would go into the diff and be rewritten.
    """
    if not path.endswith('.conf'):
        raise SysctlError(field, '%s: systemd-sysctl and sysctl --system only read files named *.conf' % path)
    if os.path.islink(path) or (os.path.lexists(path) and not os.path.isfile(path)):
        raise SysctlError(field, '%s is not a regular file' % path)
    if os.path.lexists(path) and os.path.getsize(path) > MAX_FILE:
        raise SysctlError(field, '%s is larger than a sysctl.d file of this collection (%d bytes)' % (path, MAX_FILE))
    text = read_file(path)
    for number, line in enumerate((text or '').splitlines(), 1):
        stripped = line.strip()
        try:
            if _CONTROL_RE.search(line.replace('\t', ' ')):
                raise SysctlError(field, 'control character')
            if stripped.startswith('# ' + FOUND):
                check_key(stripped[len('# ' + FOUND):].partition(' = ')[0].strip(), field)
            elif stripped and not stripped.startswith(('#', ';')):
                key, sep, value = stripped.partition('=')
                if not sep:
                    raise SysctlError(field, 'no "="')
                check_value(check_key(key.strip(), field), value.strip(), field)
        except SysctlError:
            raise SysctlError(field, '%s, line %d, is not a "key = value" line of sysctl.d (its content is not '
                                     'shown): move the file away or name another' % (path, number))
    return text


def read_file(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def write_file_atomic(module, path, content, mode=0o644):
    """Write via a temp file in the target directory and module.atomic_move, then set mode.

    atomic_move gives the file the mode it had, or the umask's when new: the
    mode is set after it (a rules file is 0600 even where a package left 0644).
    """
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    fd, tmp = tempfile.mkstemp(prefix='.lvs-cluster-', dir=directory)
    try:
        with os.fdopen(fd, 'w') as handle:
            handle.write(content)
        module.atomic_move(tmp, path)
        os.chmod(path, mode)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def mode_of(path):
    """The permission bits of path, or None when it does not exist."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except (IOError, OSError):
        return None


# The value of each key before the first run changed it, in the owned file's
# header: state=absent (or a key no longer asked for) puts it back.
FOUND = 'Found before: '


def found_before(text):
    """{key: value} recorded in an owned file's header."""
    found = {}
    for line in (text or '').splitlines():
        if line.startswith('# ' + FOUND):
            key, _sep, value = line[len('# ' + FOUND):].partition(' = ')
            found[key.strip()] = value.strip()
    return found


def plan_owned(values, old_file, present, persist, header, defaults=()):
    """Plan the sysctls a module owns through one sysctl.d file.

    values: [(key, value)] asked for (present). defaults: [(key, value)] for
    keys without a record when absent (a file of 0.1). Returns (applied,
    before, changed_keys, new_file): applied is what to write live, in order;
    new_file the file's new text, None to remove it.
    """
    found = found_before(old_file)
    live = {}

    def current(key):  # each key read from /proc/sys once
        if key not in live:
            live[key] = read_value(key)
        return live[key]

    if present:
        # a key set before and no longer asked for goes back to what the first run found
        restore = [(key, value) for key, value in sorted(found.items())
                   if key not in dict(values) and current(key) is not None]
        applied = list(values) + restore
    elif old_file is None:
        applied, restore = [], []  # nothing of this file's to undo
    else:
        applied = [(key, found.get(key, value)) for key, value in defaults]
        applied += [(key, value) for key, value in sorted(found.items()) if key not in dict(applied)]
        applied = [(key, value) for key, value in applied if current(key) is not None]
        restore = []
    before = dict((key, current(key)) for key, _v in applied)
    changed_keys = [key for key, value in applied if before[key] != value]
    new_file = None
    if present and persist:
        # the first value seen of each key is kept, unless this file set it (a file of 0.1)
        ours = set(parse_conf(old_file))
        kept = dict((key, value) for key, value in found.items() if key not in dict(restore))
        for key, _value in values:
            if key not in kept and key not in ours and before[key] is not None:
                kept[key] = before[key]
        new_file = render_conf(list(header) + ['%s%s = %s' % (FOUND, key, value) for key, value in sorted(kept.items())],
                               values)
    return applied, before, changed_keys, new_file


def apply_owned(module, path, applied, changed_keys, old_file, new_file):
    """Write the changed keys live, then the file (or remove it). Nothing in check mode."""
    if module.check_mode:
        return
    for key, value in applied:
        if key in changed_keys:
            try:
                write_value(key, value)
            except (IOError, OSError) as exc:
                module.fail_json(msg='cannot set %s: %s' % (key, exc), changed_keys=changed_keys)
    if new_file != old_file:
        if new_file is None:
            os.unlink(path)
        else:
            write_file_atomic(module, path, new_file)


def owned_diff(path, applied, before, old_file, new_file):
    """Diff mode: the kernel's values and the file, before and after."""
    return [
        dict(before_header='kernel', after_header='kernel',
             before=''.join('%s = %s\n' % (k, before[k]) for k, _v in applied if before[k] is not None),
             after=''.join('%s = %s\n' % (k, v) for k, v in applied)),
        dict(before_header=path, after_header=path, before=old_file or '', after=new_file or ''),
    ]
