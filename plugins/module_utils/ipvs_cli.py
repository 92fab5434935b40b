# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""All IPVS I/O of the collection: kernel module, read, batch apply, verify.

Through ipvsadm, batches go to `ipvsadm -R` on stdin. The `ipvsadm-restore`
wrapper script shipped with ipvsadm runs `ipvsadm -C` first (flushing every
service), so it is never used here. Through netlink (ipvs_netlink), the same
reads and batches go to the kernel directly.
"""

from __future__ import annotations

import os

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_diff as df
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_netlink as nl
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_parse as ps
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_syntax as sx

PROC_IPVS = '/proc/net/ip_vs'
SYS_MODULE = '/sys/module'
MODULES_DIR = '/lib/modules'


# check_ipvs_version() prints this warning block on every call when the
# kernel IPVS is older than ipvsadm expects; it is not an apply error.
_VERSION_WARNING = ('Warning: IPVS version mismatch', 'Kernel compiled with IPVS version',
                    'ipvsadm v', 'requires minimum IPVS version')


def builtin_modules(release=None):
    """Names of the modules built into the running kernel (modules.builtin).

    A built-in module without parameters has no /sys/module entry; kernels
    that build IPVS in list it here. Empty when the file is not readable
    (a container without the host's /lib/modules, say).
    """
    release = release or os.uname()[2]
    try:
        with open(os.path.join(MODULES_DIR, release, 'modules.builtin')) as listing:
            return set(os.path.basename(line.strip())[:-3] for line in listing if line.strip().endswith('.ko'))
    except (IOError, OSError):
        return set()


def _real_errors(stderr):
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return [line for line in lines if not any(w in line for w in _VERSION_WARNING)]


class IPVSRunner(object):
    """Reads and changes the table through ipvsadm (run_command, argv lists only) or netlink.

    backend: ipvsadm, netlink, or auto (netlink when the kernel's IPVS family
    answers, else ipvsadm). The choice is made at the first read or apply,
    after ensure_kernel() has loaded ip_vs.
    """

    def __init__(self, module, backend='ipvsadm'):
        self.module = module
        self.backend = backend
        self._ipvsadm = None
        self._netlink = None
        self.used = None  # the backend the first read or apply chose
        self.commands_run = []

    @property
    def ipvsadm(self):
        if self._ipvsadm is None:
            self._ipvsadm = self.module.get_bin_path('ipvsadm', required=True)
        return self._ipvsadm

    @property
    def netlink(self):
        """The netlink socket, or None when ipvsadm is the way (chosen once)."""
        if self.used is None and self.backend in ('netlink', 'auto'):
            try:
                self._netlink = nl.IPVSNetlink()
            except (OSError, nl.NetlinkError) as exc:
                if self.backend == 'netlink':
                    self.module.fail_json(msg='backend=netlink: the kernel\'s IPVS does not answer over generic '
                                              'netlink: %s' % exc)
        self.used = 'netlink' if self._netlink else 'ipvsadm'
        return self._netlink

    # ------------------------------------------------------------ helpers
    def run(self, args, data=None, fail=True):
        argv = [self.ipvsadm] + list(args)
        self.commands_run.append(argv)
        if data is None:
            rc, out, err = self.module.run_command(argv)
        else:
            rc, out, err = self.module.run_command(argv, data=data, binary_data=True)
        if rc != 0 and fail:
            self.module.fail_json(msg='%s failed (rc=%d): %s' % (' '.join(argv), rc, err.strip()),
                                  cmd=argv, rc=rc, stdout=out, stderr=err)
        return rc, out, err

    def ensure_kernel(self, schedulers=(), load_schedulers=True, load=True):
        """Load ip_vs (and scheduler modules) so reads and applies can work.

        ipvsadm itself modprobes ip_vs, but only via /sbin/modprobe; doing it
        here gives one clear error. Schedulers are auto-loaded by the kernel
        on first use; loading them first surfaces a missing module early.
        A scheduler already loaded or built into the kernel needs nothing.
        With load=False nothing is loaded: False when ip_vs is not there, and
        then ipvsadm must not run either (it would modprobe ip_vs itself).
        """
        if not os.path.exists(PROC_IPVS):
            if not load:
                return False
            modprobe = self.module.get_bin_path('modprobe')
            if modprobe:
                self.module.run_command([modprobe, 'ip_vs'])
            if not os.path.exists(PROC_IPVS):
                self.module.fail_json(
                    msg='IPVS is not available: %s is missing after "modprobe ip_vs". '
                        'Is the kernel built with CONFIG_IP_VS and is the ip_vs module '
                        'installed?' % PROC_IPVS)
        if not load_schedulers:
            return True
        modprobe = None
        builtin = None
        for sched in sorted(set(s for s in schedulers if s)):
            name = 'ip_vs_%s' % sched
            if os.path.isdir(os.path.join(SYS_MODULE, name)):
                continue
            builtin = builtin_modules() if builtin is None else builtin
            if name in builtin:
                continue
            modprobe = modprobe or self.module.get_bin_path('modprobe')
            if not modprobe:
                return True
            rc, _out, err = self.module.run_command([modprobe, name])
            if rc != 0:
                self.module.warn('could not load scheduler module %s: %s (it may be '
                                 'built into the kernel)' % (name, err.strip()))
        return True

    # ------------------------------------------------------------ reads
    def read_table(self):
        """Current configuration: `-S -n`, plus `--thresholds` when needed.

        Save output lacks -x/-y, so thresholds come from one listing call,
        skipped when the table has no real servers.
        """
        if self.netlink:
            return self._netlink_read()[0]
        _rc, out, _err = self.run(['-S', '-n'])
        try:
            table = ps.parse_save(out)
            if any(table.dests(key) for key in table.keys()):
                _rc, listing, _err = self.run(['-L', '-n', '--thresholds'])
                ps.merge_thresholds(table, ps.parse_listing(listing))
        except sx.ModelError as exc:
            self.module.fail_json(msg='cannot parse ipvsadm output: %s' % exc)
        return table

    def _netlink_read(self):
        try:
            return self._netlink.read()
        except (OSError, nl.NetlinkError, sx.ModelError) as exc:
            self.module.fail_json(msg='cannot read the IPVS table over netlink: %s' % exc)

    def list_table(self):
        """The whole table's listing (`-L -n`), parsed: connection counts included."""
        if self.netlink:
            _table, conns = self._netlink_read()
            return {'services': dict((key, {'dests': dict(
                (dkey, {'active_conns': active, 'inactive_conns': inactive})
                for dkey, (active, inactive) in rows.items())}) for key, rows in conns.items())}
        return self._listing(['-L', '-n'])

    def list_service(self, service, extra=()):
        """One service's listing (`-L -n --exact <key>`), parsed."""
        if self.netlink and not extra:
            listing = self.list_table()
            return {'services': dict((key, entry) for key, entry in listing['services'].items()
                                     if key == service.key)}
        return self._listing(['-L', '-n', '--exact'] + list(extra) + service.key_args)

    def _listing(self, args):
        _rc, out, _err = self.run(args)
        try:
            return ps.parse_listing(out)
        except sx.ModelError as exc:
            self.module.fail_json(msg='cannot parse ipvsadm output: %s' % exc)

    # ------------------------------------------------------------ writes
    def apply(self, ops):
        """Feed all ops to one `ipvsadm -R`, or to netlink in batches. Returns an Outcome, never fails.

        Over netlink the kernel answers each refused request: what was applied
        is exact, and no batch goes after a refusal. `ipvsadm -R` goes on
        after a line the kernel refuses, printing one message per refused
        line, and reports only the last line's status in its exit code (so
        stderr counts too); only its own parse error ends the batch. What it
        applied is then read back from the table.
        """
        if not ops:
            return Outcome([])
        if self.netlink:
            try:
                sent, refused = self._netlink.apply(ops)
            except (OSError, nl.NetlinkError) as exc:
                return self._read_back(ops, ['netlink: %s' % exc])
            bad = dict(refused)
            return Outcome([op for index, op in enumerate(ops[:sent]) if index not in bad],
                           refused=['%s' % exc for _index, exc in refused], unsent=ops[sent:])
        rc, _out, err = self.run(['-R'], data=df.restore_script(ops), fail=False)
        errors = _real_errors(err)
        if rc == 0 and not errors:
            return Outcome(list(ops))
        return self._read_back(ops, errors or ['ipvsadm -R failed (rc=%d)' % rc])

    def _read_back(self, ops, errors):
        """The Outcome of a batch whose refusals are known only as messages in order: the table tells
        which ops took effect; the others were refused, one message each, or not run after the batch
        ended."""
        after = self.read_table()
        missing = [op for op in ops if not took_effect(op, after)]
        refused = ['%s: %s' % (op.line(), error) for op, error in zip(missing, errors)]
        return Outcome([op for op in ops if took_effect(op, after)], refused=refused,
                       unsent=missing[len(errors):], errors=errors[len(missing):])


def took_effect(op, table):
    """Whether the table shows op applied. A plan touches each service and real server once."""
    key = op.service.key
    if op.kind == 'delete_service':
        return key not in table
    if op.kind == 'add_service':
        return key in table
    if op.kind == 'edit_service':
        return table.service(key) == op.service
    found = table.dest(key, op.dest.key)
    if op.kind == 'delete_dest':
        return found is None
    return found is not None if op.kind == 'add_dest' else found == op.dest


class Outcome(object):
    """What a batch did: ops applied, refusals ('rule: message'), ops never sent, other errors."""

    def __init__(self, applied, refused=(), unsent=(), errors=()):
        self.applied = list(applied)
        self.refused = list(refused)
        self.unsent = list(unsent)
        self.errors = list(errors)

    @property
    def failed(self):
        return bool(self.refused or self.unsent or self.errors)
