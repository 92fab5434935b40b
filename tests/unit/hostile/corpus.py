# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hostile strings, generated: what a model from a catalogue or a ticket may hold."""

from __future__ import annotations

# what ends a line or a word in the formats we write (keepalived.conf, units, nft, sysctl.d, ipvsadm rules)
BREAKERS = ['\n', '\r', '\r\n', '\x00', '\x0b', '\x0c', '\x1b', '\x7f', '\x85', '\u2028', '\t', ' ', ';', '#', '!',
            '{', '}', '"', "'", '\\', '%', '$', '`', '/', '..', '|', '&', '*']
PAYLOADS = ['include /tmp/evil.conf', 'notify_master "/bin/sh -c id"', '}\nvirtual_server 10.9.9.9 80 {',
            'ExecStartPre=/bin/sh -c id', '[Service]\nExecStart=/bin/true', 'accept', 'meta mark set 1',
            'ip saddr set 10.0.0.1', 'dnat to 10.0.0.1', '-A -t 10.9.9.9:80', '../../etc/shadow', '%n%h', '${HOME}']


def hostile(base, count=None):
    """Variants of a valid value that a grammar must refuse: breakers before, inside, after; payloads after."""
    out = []
    for breaker in BREAKERS:
        out += [base + breaker, breaker + base, base[:1] + breaker + base[1:]]
    for payload in PAYLOADS:
        out += [base + '\n' + payload, base + ' ' + payload]
    out += [base * 300, '', ' ', base.upper() + '\u0130', base + '\U0001f600']
    return out[:count] if count else out
