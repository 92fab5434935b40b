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
    table = runner.apply_and_verify(current, before, keys) if before else current
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
    table = runner.apply_and_verify(table, deletes, keys) if deletes else table
    return table, shown, status
