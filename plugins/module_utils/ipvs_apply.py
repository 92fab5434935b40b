# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Reading the host, planning against it, and applying the plan with the one drain behaviour of every module.

With drain_timeout above 0, each real server the plan deletes first gets
weight 0 together with the plan's other changes, so no new connection goes
to it; it is deleted once it has no active connection (and, with
drain_inactive, no inactive one), and when the time runs out also then, with
a warning naming the connections cut. 0 deletes at once.

When the kernel refuses an operation, the operations that reached it are
undone: the table is read, planned back towards the table as found (only
what this run touched) and that plan applied and verified. The failure
then lists what was applied, refused, never sent and rolled back, and says
whether the table is as found (recovered: found) or not (partial).
"""

from __future__ import annotations

import time

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_diff as df
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_model as m
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_plan as p
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_validate as v
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_cli import IPVSRunner


def checked(module, check, *args):
    """check(*args), or fail naming the refused field (before anything is read or changed)."""
    try:
        return check(*args)
    except v.ValidationError as exc:
        module.fail_json(msg=str(exc), field=exc.field)


def plan_on_host(module, items, purge, owned=(), backend='ipvsadm'):
    """Read the table once and plan the items against it. Returns (runner, current, ops, desired, absent)."""
    runner = IPVSRunner(module, backend)
    # check mode loads nothing: without ip_vs the table is empty, and the run loads it
    loaded = runner.ensure_kernel(load_schedulers=False, load=not module.check_mode)
    current = runner.read_table() if loaded else m.Table()
    ops, desired, absent = checked(module, p.plan, items, purge, current, owned)
    return runner, current, ops, desired, absent


def wait_drained(runner, deletes, timeout, poll, inactive=False):
    """Poll the real servers to delete until none is busy or the time is up."""
    start = time.monotonic()
    services = dict((op.service.key, op.service) for op in deletes)
    while True:
        # one listing of the whole table when several services drain: one
        # ipvsadm run per poll, not one per service (thousands at scale)
        if len(services) == 1:
            found = dict((key, runner.list_service(svc)['services'].get(key)) for key, svc in services.items())
        else:
            found = runner.list_table()['services']
        listings = dict((key, found.get(key) or {'dests': {}}) for key in services)
        waited = round(time.monotonic() - start, 1)
        status = []
        for op in deletes:
            row = listings[op.service.key]['dests'].get(op.dest.key)
            status.append(dict(service=op.service.key, real_server=op.dest.key, waited=waited,
                               active_conns=row['active_conns'] if row else 0,
                               inactive_conns=row['inactive_conns'] if row else 0,
                               vanished=row is None, timed_out=False))
        busy = any(s['active_conns'] or (inactive and s['inactive_conns']) for s in status)
        if not busy or waited >= timeout:
            for item in status:
                item['timed_out'] = busy
            return status
        time.sleep(poll)


def converge(module, runner, current, ops, keys, timeout, poll, inactive=False):
    """Apply ops (predict them in check mode). Returns (table after, ops shown, drain status or None)."""
    before, deletes = df.drain_split(ops) if timeout > 0 else (ops, [])
    shown = before + deletes  # the weight 0 edits are commands of their own
    if module.check_mode or not shown:
        return df.apply_ops(current, shown), shown, None
    run = Run(module, runner, current, shown)
    table = run.step(current, before, keys, later=deletes) if before else current
    if not deletes:
        return table, shown, None
    status = wait_drained(runner, deletes, timeout, poll, inactive)
    cut = ['%s %s (%d active, %d inactive)' % (s['service'], s['real_server'], s['active_conns'], s['inactive_conns'])
           for s in status if s['timed_out']]
    if cut:
        module.warn('drain_timeout (%s s) ran out: deleted with their connections: %s' % (timeout, ', '.join(cut)))
    gone = set((s['service'], s['real_server']) for s in status if s['vanished'])
    deletes = [op for op in deletes if (op.service.key, op.dest.key) not in gone]
    if gone:
        shown = before + deletes
        run.shown = shown
    table = run.step(table, deletes, keys) if deletes else table
    return table, shown, status


def lines(ops):
    return [op.line() for op in ops]


class Run(object):
    """The batches of one converge, and what reached the kernel, to account for and undo on a failure."""

    def __init__(self, module, runner, found, shown):
        self.module = module
        self.runner = runner
        self.found = found  # the table as read at the start
        self.shown = shown
        self.applied = []

    def step(self, table, ops, keys, later=()):
        """Apply ops to `table` (as last read) and verify `keys`; on a refusal, roll back and fail."""
        outcome = self.runner.apply(ops)
        self.applied += outcome.applied
        if outcome.failed:
            self.fail(outcome, list(later))
        predicted = df.apply_ops(table, ops)
        after = self.runner.read_table()
        if predicted.subset(keys) != after.subset(keys):
            self.module.fail_json(
                msg='IPVS table differs from the expected result after applying changes',
                expected=df.render_table(predicted, keys), actual=df.render_table(after, keys),
                commands=lines(self.shown), applied=lines(self.applied))
        return after

    def fail(self, outcome, later):
        """Undo what reached the kernel, then fail saying what was applied, refused, never sent and undone."""
        unsent = outcome.unsent + later
        result = dict(commands=lines(self.shown), applied=lines(self.applied), refused=outcome.refused,
                      not_sent=lines(unsent), changed=bool(self.applied))
        msg = '%s; %d applied, %d never sent' % (
            refusal(outcome, len(self.shown)), len(self.applied), len(unsent))
        back = rollback_ops(self.runner.read_table(), self.found, self.applied) if self.applied else []
        undo = self.runner.apply(back)
        result.update(rollback_applied=lines(undo.applied), changed=bool(self.applied or undo.applied))
        touched = touched_keys(self.applied)
        if undo.failed:
            result.update(recovered='partial', rollback_refused=undo.refused, rollback_not_sent=lines(undo.unsent))
            msg += '; the rollback failed too (%s; %d applied): the table is neither as found nor as planned' % (
                refusal(undo, len(back)), len(undo.applied))
        elif back and self.runner.read_table().subset(touched) != self.found.subset(touched):
            result['recovered'] = 'partial'
            msg += '; rolled back %d operations, but the table still differs from the table as found' % len(back)
        else:
            result['recovered'] = 'found'
            msg += ('; rolled back %d operations' % len(back) if back else '') + ': the table is as found'
        self.module.fail_json(msg=msg, **result)


def refusal(outcome, total):
    """The first refusal of a failed batch, with the count, or its other error."""
    if outcome.refused:
        return 'the kernel refused %d of %d operations: %s' % (len(outcome.refused), total, outcome.refused[0])
    return '; '.join(outcome.errors[:1]) or 'the batch was not sent whole'


def touched_keys(ops):
    return list(dict.fromkeys(op.service.key for op in ops))


def rollback_ops(now, found, applied):
    """The plan from the table as read now back to the table as found, for what the applied ops touched.

    A service this run deleted comes back with the real servers it had; one
    it added goes, with its real servers; an edit is edited back. Anything
    else in the table (another tool's change meanwhile) stays as it is now.
    """
    target = now.copy()
    whole = set()
    for op in applied:
        key = op.service.key
        if op.kind == 'edit_service' and key in target and key in found:
            target.set_service(found.service(key))
        elif op.kind in ('add_service', 'delete_service'):
            whole.add(key)
    for key in whole:
        target.remove_service(key)
        if key in found:
            target.add_service(found.service(key))
            for dest in found.dests(key).values():
                target.add_dest(key, dest)
    for op in applied:
        key = op.service.key
        if op.dest is None or key in whole or key not in target:
            continue
        dest = found.dest(key, op.dest.key)
        if dest is None:
            target.remove_dest(key, op.dest.key)
        else:
            target.add_dest(key, dest)
    scope = df.Scope(purge_dests=True, absent_services=[key for key in now.keys() if key not in target])
    return df.diff(now, target, scope)
