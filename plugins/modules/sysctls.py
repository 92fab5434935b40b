#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: sysctls
short_description: Kernel parameters owned through one sysctl.d file, put back as found when they go
version_added: 0.2.0
description:
  - Sets kernel parameters live (C(/proc/sys)) and in one file under C(/etc/sysctl.d/) that this
    module owns, so that they hold after a reboot.
  - The first run records in the file's header the value each key had before. A key that leaves
    O(values) goes back to that value at once; O(state=absent) puts every recorded key back and
    removes the file. What the module never set is never touched.
  - Uses no C(sysctl) binary and no Python package beyond the standard library.
author: lvs.cluster contributors (!UNKNOWN)
options:
  values:
    description:
      - Keys in dotted form (V(net.ipv4.ip_forward)) and their values. A per-interface key of an
        interface with a dot in its name takes a slash (V(net.ipv4.conf.eth0/100.rp_filter)).
      - A key is parts of ASCII letters, digits, V(_) and V(-) (a V(/) only between them), at most 255
        characters, and must name a file under C(/proc/sys) (not through a symbolic link). A value is a
        number or words of letters, digits and V(_.:,/+-), separated by spaces or tabs
        (V(32768 60999)), at most 1024 characters. Anything else is refused before anything is read.
      - Every key must exist in C(/proc/sys), or come with a kernel module; a missing key under
        V(net.ipv4.vs.) loads C(ip_vs) with C(modprobe) first (in check mode, the load and the key's
        new value are predicted and nothing is loaded).
    type: dict
    default: {}
  file:
    description:
      - The sysctl.d file this module owns for these keys, named C(*.conf).
      - An existing file must be a regular file of C(key = value) lines and comments; anything else is
        refused, its content neither shown nor rewritten.
    type: path
    required: true
  state:
    description:
      - V(present) applies O(values). V(absent) puts back what the first run found and removes O(file);
        without O(file) there is nothing to undo and nothing changes.
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: lvs.cluster.arp_sysctl
attributes:
  diff_mode:
    details: Shows the values in the kernel and the file before and after.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - lvs.cluster.attributes
'''

EXAMPLES = r'''
- name: Forwarding and the IPVS settings of a director
  lvs.cluster.sysctls:
    file: /etc/sysctl.d/90-lvs-director.conf
    values:
      net.ipv4.ip_forward: 1
      net.ipv4.vs.expire_nodest_conn: 1

- name: Put them back as they were
  lvs.cluster.sysctls:
    file: /etc/sysctl.d/90-lvs-director.conf
    state: absent
'''

RETURN = r'''
sysctls:
  description:
    - The keys written (or that would be) and their values, the ones put back included.
    - Each key is a sysctl name, each value its value as a string.
  returned: always
  type: dict
  sample:
    net.ipv4.ip_forward: "1"
changed_keys:
  description: Keys whose live value was (or would be) changed.
  returned: always
  type: list
  elements: str
  sample: [net.ipv4.ip_forward]
modules_loaded:
  description: Kernel modules loaded (or that would be) because keys of O(values) come with them.
  returned: always
  type: list
  elements: str
  sample: [ip_vs]
  version_added: 0.3.0
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.cluster.plugins.module_utils import sysctl_helpers as sh


def load_modules(module, missing):
    """Load the kernel modules that bring the missing keys (only predicted in
    check mode, where the keys stay missing and their new values are shown)."""
    modules = sorted(set(sh.key_module(key) for key in missing))
    if not modules or module.check_mode:
        return modules
    modprobe = module.get_bin_path('modprobe', required=True)
    for name in modules:
        rc, _out, err = module.run_command([modprobe, name])
        if rc != 0:
            module.fail_json(msg='values: cannot load the kernel module %s for its keys: %s' % (name, err.strip()),
                             field='values')
    for key in missing:
        if sh.read_value(key) is None:
            module.fail_json(msg='values[%s]: no such kernel setting (%s), also with %s loaded'
                                 % (key, sh.key_to_path(key), sh.key_module(key)), field='values')
    return modules


def main():
    module = AnsibleModule(
        argument_spec=dict(
            values=dict(type='dict', default={}),
            file=dict(type='path', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        ),
        supports_check_mode=True)
    params = module.params
    present = params['state'] == 'present'
    try:
        # every key and value checked before anything is read: a key names a file
        values = [(sh.check_key(key), sh.check_value(key, params['values'][key]))
                  for key in (sorted(params['values'], key=str) if present else [])]
        for key, _value in values:
            if sh.read_value(key) is None and not sh.key_module(key):
                module.fail_json(msg='values[%s]: no such kernel setting (%s)' % (key, sh.key_to_path(key)),
                                 field='values')
        old_file = sh.read_owned(params['file'])
        modules = load_modules(module, [key for key, _value in values if sh.read_value(key) is None])
        header = ['Managed by lvs.cluster.sysctls; local changes will be overwritten.']
        applied, before, changed_keys, new_file = sh.plan_owned(values, old_file, present, True, header)
    except sh.SysctlError as exc:
        module.fail_json(msg=str(exc), field=exc.field.partition('[')[0])
    sh.apply_owned(module, params['file'], applied, changed_keys, old_file, new_file)
    result = dict(changed=bool(changed_keys or modules) or new_file != old_file, sysctls=dict(applied),
                  changed_keys=changed_keys, modules_loaded=modules)
    if module._diff:
        result['diff'] = sh.owned_diff(params['file'], applied, before, old_file, new_file)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
