# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""How deep, how many and how long the values a module is given may be.

Python's JSON decoder and every recursive walk give up with RecursionError
near 1,000 levels, and a value of millions of entries takes the host's
memory before any check runs: both are refused here, naming the option,
with loops only (no recursion), before anything else reads the value. The
limits are far above any table: a service list is 4 levels deep (list,
service, real_servers, real server), the benchmarks hold 5,000 services of
8 real servers, and no field of a service is longer than a name.
"""

from __future__ import annotations

import re

from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_validate import ValidationError

MAX_DEPTH = 10
MAX_SERVICES = 100000
MAX_REAL_SERVERS = 10000  # of one service
MAX_ENTRIES = 1000000  # real servers of all services together
MAX_STRING = 1024
MAX_JSON_CHARS = 256 * 1024 * 1024

# a JSON string (skipped whole, so brackets inside it do not count), or a bracket
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)


def json_depth(text, limit=MAX_DEPTH):
    """The deepest nesting of a JSON text's brackets, counted up to limit + 1 (then it stops)."""
    depth = deepest = 0
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in '[{':
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                break
        elif token in ']}':
            depth -= 1
    return deepest


def check_json_text(text, field):
    """Refuse a JSON text too long or nested too deep to decode safely."""
    if len(text) > MAX_JSON_CHARS:
        raise ValidationError(field, 'longer than %d characters' % MAX_JSON_CHARS)
    if json_depth(text) > MAX_DEPTH:
        raise ValidationError(field, 'nesting deeper than %d levels' % MAX_DEPTH)


def check_services(services, field):
    """Refuse a list of services nested too deep, too many, or with a string too long; names where."""
    if len(services) > MAX_SERVICES:
        raise ValidationError(field, 'more than %d services' % MAX_SERVICES)
    entries = 0
    stack = [(services, field, 1)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, str):
            if len(value) > MAX_STRING:
                raise ValidationError(where, 'longer than %d characters' % MAX_STRING)
            continue
        if isinstance(value, dict):
            children = [(item, '%s.%s' % (where, _name(key))) for key, item in value.items()]
            children += [(key, '%s (a key)' % where) for key in value]
        elif isinstance(value, (list, tuple)):
            children = [(item, '%s[%d]' % (where, index)) for index, item in enumerate(value)]
        else:
            continue
        if depth > MAX_DEPTH:
            raise ValidationError(where, 'nesting deeper than %d levels' % MAX_DEPTH)
        if where.endswith('.real_servers') and isinstance(value, list):
            if len(value) > MAX_REAL_SERVERS:
                raise ValidationError(where, 'more than %d real servers' % MAX_REAL_SERVERS)
            entries += len(value)
            if entries > MAX_ENTRIES:
                raise ValidationError(field, 'more than %d real servers in all' % MAX_ENTRIES)
        stack.extend((item, name, depth + 1) for item, name in reversed(children))


def _name(key):
    """A key as it may appear in a message: short, one line."""
    text = key if isinstance(key, str) else repr(key)
    return text if len(text) <= 40 and text.isprintable() else repr(text[:40]) + '...'
