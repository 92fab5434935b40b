# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 29: a fwmark match is an allow list of match expressions; no statement reaches the director.

Hostile cases, generated: each is refused naming the field, or its rule, loaded
by nft into a network namespace of its own, lists back as the canonical text
we wrote and holds nothing but matches and our mark.
"""

from __future__ import annotations

import itertools
import json
import random
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.lvs.cluster.plugins.plugin_utils import data_model as dm
from ansible_collections.lvs.cluster.plugins.plugin_utils import fwmark as fw
from ansible_collections.lvs.cluster.tests.unit.format_tools import nft_list

FIELD = 'lvs_virtual_services[0].match'

# what a deny list let through: statements that rewrite, mark, skip conntrack,
# jump through a map, count, log, queue, duplicate or forward; verdicts; and
# what ends a rule or a line
STATEMENTS = [
    'snat to 192.0.2.9', 'dnat to 192.0.2.9:80', 'dnat ip to 192.0.2.9', 'masquerade', 'redirect to :8080',
    'ip saddr set 192.0.2.9', 'ip daddr set 192.0.2.9', 'ip dscp set cs1', 'ip6 dscp set cs1', 'ip ttl set 1',
    'tcp dport set 81', 'tcp option maxseg size set 500', 'notrack', 'ct mark set 1', 'ct zone set 2',
    'meta mark set 99', 'mark set 99', 'meta priority set 1:1', 'meta nftrace set 1', 'ct helper set "ftp"',
    'tcp dport vmap { 80 : accept }', 'ip daddr vmap @verdicts', 'ip daddr map { 192.0.2.1 : 192.0.2.2 }',
    'counter', 'counter packets 0 bytes 0', 'log', 'log prefix "x"', 'limit rate 1/second', 'quota 1 mbytes',
    'queue', 'queue num 1 bypass', 'dup to 192.0.2.9', 'fwd to eth1', 'accept', 'drop', 'reject', 'continue',
    'return', 'jump other', 'goto other', 'symhash mod 2', 'numgen inc mod 2', 'ip daddr @blocked',
    'ip daddr $VIPS', 'flush ruleset',
]
BASES = ['ip daddr 198.51.100.104', 'tcp dport 8000-8099', 'ip saddr 10.0.0.0/8 ip daddr { 198.51.100.104, 198.51.100.105 }']
JOINS = [' ', '; ', '\n', '\r\n', ' }\n', ' # ', '\x00']


def _outcome(match, mark):
    """The canonical rule, or None when refused naming the field (any other error fails the test)."""
    svc = dict(fwmark=mark, family='ipv4', match=match)
    try:
        return dm.fwmark_rules([svc]) and fw.rules(svc, 'lvs_virtual_services[0]')[0]
    except AnsibleFilterError as exc:
        assert str(exc).startswith(FIELD + ': '), str(exc)
        return None


def test_statements_verdicts_and_maps_are_refused_wherever_they_stand():
    cases = [base + join + statement for base, join, statement in itertools.product(BASES, JOINS, STATEMENTS)]
    cases += [statement + ' ' + base for statement, base in itertools.product(STATEMENTS, BASES)]
    assert len(cases) >= 200
    accepted = [case for case in cases if _outcome(case, 7) is not None]
    assert accepted == []


# the words and characters a generated match is made of: the grammar's own and hostile ones
_PIECES = (['ip', 'ip6', 'saddr', 'daddr', 'tcp', 'udp', 'sctp', 'dport', 'sport', 'meta', 'l4proto', 'iifname',
            'protocol', 'nexthdr', '==', '!=', 'ne', '>=', '<', '{', '}', ',', '198.51.100.104', '10.0.0.0/8',
            '198.51.100.1-198.51.100.9', '2001:db8::1', '80', '8000-8099', '65536', 'tcp', 'gre', '47', '"eth0"',
            '"eth*"', 'set', 'accept', 'counter', ';', '#', '\n', '"', '\\', '@x', '$x', 'snat', 'to', ':', 'vmap',
            '\u2028', 'fe80::1%eth0'])
_VALID = ['ip daddr 198.51.100.104', 'ip saddr { 10.0.0.0/8, 192.0.2.1 }', 'tcp dport { 80, 443 }',
          'udp dport 5000-5100', 'ip daddr != 198.51.100.1-198.51.100.9', 'iifname "eth0"', 'meta l4proto { tcp, 47 }',
          'sctp sport > 1023', 'ip protocol gre', 'meta iifname != "ens*"']


def test_generated_matches_are_refused_or_load_as_written_with_nothing_but_matches():
    rng = random.Random(29)
    cases = []
    for _count in range(300):  # random sequences of pieces: mostly refused
        cases.append(' '.join(rng.choice(_PIECES) for _piece in range(rng.randint(1, 8))))
    for _count in range(300):  # valid clauses, some with a hostile piece spliced in
        clauses = rng.sample(_VALID, rng.randint(1, 3))
        if rng.random() < 0.5:
            clauses.insert(rng.randint(0, len(clauses)), rng.choice(_PIECES + STATEMENTS))
        cases.append(' '.join(clauses))
    rules = {}
    for mark, case in enumerate(cases, start=1):
        rule = _outcome(case, mark)
        if rule is not None:
            assert fw.parse_match(rule) == rule  # canonical: written back, the same
            rules[mark] = rule
    refused = len(cases) - len(rules)
    assert refused >= 200 and len(rules) >= 100, (refused, len(rules))
    ruleset = fw.ruleset([(mark, [rule]) for mark, rule in sorted(rules.items())])
    # nft loads the whole batch, and lists every rule back as we wrote it, in order
    listed = re.findall(r'^\t\t(.*) meta mark set (0x[0-9a-f]+)$', nft_list(ruleset), re.M)
    assert [(text, int(mark, 16)) for text, mark in listed] == [(rule, mark) for mark, rule in sorted(rules.items())]
    # and in nft's own terms: matches only, then our mark, nothing else
    found = [item['rule'] for item in json.loads(nft_list(ruleset, as_json=True))['nftables'] if 'rule' in item]
    assert len(found) == len(rules)
    for rule, mark in zip(found, sorted(rules)):
        assert all(set(expr) == {'match'} for expr in rule['expr'][:-1]), rule
        assert rule['expr'][-1] == {'mangle': {'key': {'meta': {'key': 'mark'}}, 'value': mark}}, rule
