# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""From one table to another: the ordered ipvsadm operations, the drain split,
the prediction, and the canonical rendering."""

from __future__ import annotations

from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_model import (
    _Record)
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_syntax import (
    PROTOCOLS, ip_parts)


# ---------------------------------------------------------------- diff

class Op(_Record):
    """One kernel operation. kind: add/edit/delete service, add/edit/delete dest."""

    __slots__ = ('kind', 'service', 'dest')

    COMMAND = {'add_service': '-A', 'edit_service': '-E', 'delete_service': '-D',
               'add_dest': '-a', 'edit_dest': '-e', 'delete_dest': '-d'}

    def args(self):
        command = self.COMMAND[self.kind]
        if self.kind == 'delete_service':
            return [command] + self.service.key_args
        if self.dest is None:
            return self.service.rule_args(command)
        return self.dest.rule_args(self.service, command)

    def line(self):
        return ' '.join(self.args())


class Scope(_Record):
    """What a diff may touch beyond the desired entries.

    purge_dests: remove dests of desired services that are not listed.
    absent_services: service keys to delete.
    absent_dests: (service key, dest key) pairs to delete.
    unmanaged: keys of desired services whose dests are left alone.
    """

    __slots__ = ('purge_dests', 'absent_services', 'absent_dests', 'unmanaged')


def diff(current, desired, scope=None):
    """Minimal ordered Op list turning `current` into `desired`.

    desired is a Table of resolved services and dests. Existing keys are
    edited (-E/-e), never deleted and re-added; a changed key is a different
    service, so the old one goes only if listed in scope.absent_services.
    Order: service deletes, then per service add/edit, dest deletes, edits,
    adds, then explicit dest deletes.
    """
    scope = scope or Scope()
    unmanaged = set(scope.unmanaged or ())
    ops = []
    for key in scope.absent_services or ():
        svc = current.service(key)
        if svc is not None:
            ops.append(Op(kind='delete_service', service=svc))
    for key in desired.keys():
        want = desired.service(key)
        have = current.service(key)
        if have is None:
            ops.append(Op(kind='add_service', service=want))
        elif have.config() != want.config():
            ops.append(Op(kind='edit_service', service=want))
        if key in unmanaged:
            continue
        have_dests = current.dests(key)
        want_dests = desired.dests(key)
        if scope.purge_dests:
            for dkey, dest in have_dests.items():
                if dkey not in want_dests:
                    ops.append(Op(kind='delete_dest', service=want, dest=dest))
        adds = []
        for dkey, dest in want_dests.items():
            old = have_dests.get(dkey)
            if old is None:
                adds.append(Op(kind='add_dest', service=want, dest=dest))
            elif old.config() != dest.config():
                ops.append(Op(kind='edit_dest', service=want, dest=dest))
        ops.extend(adds)
    deleted = set(scope.absent_services or ())
    for skey, dkey in scope.absent_dests or ():
        if skey in deleted or skey not in current:
            continue
        dest = current.dest(skey, dkey)
        if dest is not None:
            ops.append(Op(kind='delete_dest', service=current.service(skey), dest=dest))
    return ops


def drain_split(ops):
    """Split ops for graceful removals: (before, deletes).

    before: every other op, then weight 0 for each real server about to be
    deleted (no new connections go to it while its own finish); deletes: the
    deletions, applied once the connections ended.
    """
    deletes = [op for op in ops if op.kind == 'delete_dest']
    before = [op for op in ops if op.kind != 'delete_dest']
    before += [Op(kind='edit_dest', service=op.service, dest=op.dest.replace(weight=0))
               for op in deletes if op.dest.weight != 0]
    return before, deletes


def apply_ops(table, ops):
    """Predict the table after ops (what the kernel should hold)."""
    result = table.copy()
    for op in ops:
        key = op.service.key
        if op.kind == 'add_service':
            result.add_service(op.service)
        elif op.kind == 'edit_service':
            result.set_service(op.service)
        elif op.kind == 'delete_service':
            result.remove_service(key)
        elif op.kind in ('add_dest', 'edit_dest'):
            result.add_dest(key, op.dest)
        elif op.kind == 'delete_dest':
            result.remove_dest(key, op.dest.key)
    return result


def dest_sort_key(dest):
    """Canonical real-server order: IPv4 before IPv6, then address, then port.

    The kernel keeps real servers in insertion order and ipvsadm sorts them
    when listing, so a predicted table (new servers appended) and the table
    read back after applying it list them differently; everything shown to
    the user is sorted with this key so that check mode and the real run agree.
    """
    _text, version, number = ip_parts(dest.address)
    return (version, number, dest.port)


def sorted_dests(table, key):
    return sorted(table.dests(key).values(), key=dest_sort_key)


def service_sort_key(service):
    """Canonical service order (fwmark services last), for the same reason as dest_sort_key:
    ipvsadm lists services in the kernel's hash order, a prediction has them in insertion order."""
    if service.fwmark:
        return (1, service.family, service.fwmark, 0, 0)
    _text, version, number = ip_parts(service.address)
    return (0, version, number, service.port, PROTOCOLS.index(service.protocol))


def render_table(table, keys=None):
    """Readable ipvsadm-style lines (save format plus -x/-y thresholds), in canonical order."""
    lines = []
    keys = table.keys() if keys is None else keys
    for key in sorted((k for k in keys if k in table), key=lambda k: service_sort_key(table.service(k))):
        svc = table.service(key)
        if svc is None:
            continue
        lines.append(' '.join(svc.rule_args('-A')))
        for dest in sorted_dests(table, key):
            lines.append(' '.join(dest.rule_args(svc, '-a')))
    return lines


def restore_script(ops):
    """stdin for `ipvsadm -R`: one rule per line, newline-terminated."""
    return ''.join(op.line() + '\n' for op in ops)
