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

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET = re.compile(r'[^\[\]{}]+')
_INNERMOST = re.compile(r'\[\]|\{\}')


def json_depth(text, limit=MAX_DEPTH):
    """The deepest nesting of a JSON text's brackets (those inside strings aside), counted up to limit + 1.

    Each pass drops the innermost pairs, so the passes are the depth; in
    C's regular expressions, at a few milliseconds for a 5,000 x 8 table.
    """
    brackets = _NOT_BRACKET.sub('', _JSON_STRING.sub('', text))
    depth = 0
    while brackets and depth <= limit:
        fewer = _INNERMOST.sub('', brackets)
        if fewer == brackets:
            break  # unbalanced: the JSON decoder says where
        brackets, depth = fewer, depth + 1
    return depth


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
        if depth > MAX_DEPTH:
            raise ValidationError(where, 'nesting deeper than %d levels' % MAX_DEPTH)
        if isinstance(value, dict):
            pairs = value.items()
        else:
            pairs = enumerate(value)
            if where.endswith('.real_servers'):
                if len(value) > MAX_REAL_SERVERS:
                    raise ValidationError(where, 'more than %d real servers' % MAX_REAL_SERVERS)
                entries += len(value)
                if entries > MAX_ENTRIES:
                    raise ValidationError(field, 'more than %d real servers in all' % MAX_ENTRIES)
        for key, item in pairs:
            if isinstance(key, str) and len(key) > MAX_STRING:
                raise ValidationError('%s (a key)' % where, 'longer than %d characters' % MAX_STRING)
            if isinstance(item, str):
                if len(item) > MAX_STRING:
                    raise ValidationError(_child(where, key), 'longer than %d characters' % MAX_STRING)
            elif isinstance(item, (dict, list, tuple)):
                stack.append((item, _child(where, key), depth + 1))


def _child(where, key):
    """The name of a member: where[2], or where.key with the key short and on one line."""
    if isinstance(key, int):
        return '%s[%d]' % (where, key)
    text = key if isinstance(key, str) else repr(key)
    return '%s.%s' % (where, text if len(text) <= 40 and text.isprintable() else repr(text[:40]) + '...')
