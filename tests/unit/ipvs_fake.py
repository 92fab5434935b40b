# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test helpers: fixture loading, a simulated ipvsadm host, a module runner."""

from __future__ import annotations

import os
from unittest import mock

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_model as m

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')
IPVSADM = '/usr/sbin/ipvsadm'


def fixture_text(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


class AnsibleExit(Exception):
    pass


class AnsibleFail(Exception):
    pass


def save_text(table):
    """What `ipvsadm -S -n` prints for a table (no thresholds in save format)."""
    lines = []
    for key in table.keys():
        svc = table.service(key)
        lines.append(' '.join(svc.rule_args('-A')))
        for dest in table.dests(key).values():
            plain = dest.replace(u_threshold=0, l_threshold=0)
            lines.append(' '.join(plain.rule_args(svc, '-a')))
    return ''.join(line + '\n' for line in lines)


def list_name(svc):
    if svc.fwmark:
        return 'FWM  %d%s' % (svc.fwmark, ' IPv6' if svc.family == 'ipv6' else '')
    return '%-4s %s' % (svc.protocol.upper(), m.format_hostport(svc.address, svc.port))


def thresholds_text(table, conns):
    out = 'IP Virtual Server version 1.2.1 (size=4096)\n'
    out += '%-33s %-10s %-10s %-10s %-10s\n  -> RemoteAddress:Port\n' % (
        'Prot LocalAddress:Port', 'Uthreshold', 'Lthreshold', 'ActiveConn', 'InActConn')
    for key in table.keys():
        svc = table.service(key)
        out += '%s %s\n' % (list_name(svc), svc.scheduler)
        for dkey, dest in table.dests(key).items():
            active, inactive = conns.get((key, dkey), (0, 0))
            out += '  -> %-28s %-10u %-10u %-10u %-10u\n' % (
                dkey, dest.u_threshold, dest.l_threshold, active, inactive)
    return out


def service_list_text(table, key, conns):
    """`ipvsadm -L -n --exact <service>` (default format, no version line)."""
    out = ('Prot LocalAddress:Port Scheduler Flags\n'
           '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n')
    svc = table.service(key)
    out += '%s %s\n' % (list_name(svc), svc.scheduler)
    names = {'nat': 'Masq', 'dr': 'Route', 'tun': 'Tunnel'}
    for dkey, dest in table.dests(key).items():
        active, inactive = conns.get((key, dkey), (0, 0))
        out += '  -> %-28s %-7s %-6d %-10u %-10u\n' % (
            dkey, names[dest.forwarding], dest.weight, active, inactive)
    return out


class FakeHost(object):
    """Simulates ipvsadm against an in-memory kernel table.

    `-S -n`, `-L -n --thresholds`, `-L -n --exact <svc>` and `-R` behave like
    ipvsadm 1.31; everything else must be given in `canned` (argv tuple ->
    (rc, out, err)).
    """

    def __init__(self, save=None, thresholds=None, canned=None):
        self.table = m.parse_save(save or '')
        if thresholds:
            m.merge_thresholds(self.table, m.parse_listing(thresholds))
        self.calls = []
        self.restores = []
        self.canned = dict(canned or {})
        self.conns = {}          # (svc key, dest key) -> (active, inactive)
        self.conn_script = []    # successive conns dicts for drain polls
        self.break_apply = False

    def run_command(self, argv, data=None, binary_data=False, **kwargs):
        self.calls.append(list(argv))
        key = tuple(argv)
        if key in self.canned:
            return self.canned[key]
        if argv[0] != IPVSADM:
            return 0, '', ''
        args = argv[1:]
        if args == ['-S', '-n']:
            return 0, save_text(self.table), ''
        if args == ['-L', '-n', '--thresholds']:
            return 0, thresholds_text(self.table, self.conns), ''
        if args[:3] == ['-L', '-n', '--exact'] and len(args) > 3:
            if self.conn_script:
                self.conns = self.conn_script.pop(0)
            skey = ' '.join(args[3:])
            if skey not in self.table:
                return 1, '', 'No such service\n'
            return 0, service_list_text(self.table, skey, self.conns), ''
        if args == ['-R']:
            self.restores.append(data)
            if not self.break_apply:
                self._restore(data)
            return 0, '', ''
        raise AssertionError('unexpected command %r' % (argv,))

    def _restore(self, data):
        for line in data.splitlines():
            command, svc, dest = m.parse_rule(line)
            if command == '-A':
                self.table.add_service(svc)
            elif command == '-E':
                self.table.set_service(svc)
            elif command == '-D':
                self.table.remove_service(svc.key)
            elif command in ('-a', '-e'):
                self.table.add_dest(svc.key, dest)
            elif command == '-d':
                self.table.remove_dest(svc.key, dest.key)

    def ipvsadm_calls(self):
        return [c[1:] for c in self.calls if c[0] == IPVSADM]


def _get_bin_path(self, arg, required=False, opt_dirs=None):
    return '/usr/sbin/%s' % arg


def run_module(module, args, host, check_mode=False, diff=False):
    """Run module.main() with args; returns the exit_json dict or raises AnsibleFail."""
    args = dict(args)
    args['_ansible_check_mode'] = check_mode
    args['_ansible_diff'] = diff

    def exit_json(self, **kwargs):
        kwargs.setdefault('changed', False)
        raise AnsibleExit(kwargs)

    def fail_json(self, msg, **kwargs):
        kwargs['msg'] = msg
        raise AnsibleFail(kwargs)

    with patch_module_args(args):
        with mock.patch.multiple(basic.AnsibleModule, exit_json=exit_json, fail_json=fail_json,
                                 run_command=lambda self, *a, **k: host.run_command(*a, **k),
                                 get_bin_path=_get_bin_path):
            try:
                module.main()
            except AnsibleExit as exc:
                return exc.args[0]
    raise AssertionError('module did not exit')
