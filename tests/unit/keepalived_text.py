# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""keepalived.conf read back the way keepalived.conf(5) defines it, for tests that check a rendered text's meaning.

A line is a keyword and its arguments; a line ending in "{" opens a block of
its own lines, "}" closes it; "#" starts a comment; quotes group words.
"""

from __future__ import annotations

import shlex


def parse(text):
    """[(keyword, (arguments...), block lines or None)] of the text's top level."""
    stack = [[]]
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        if words == ['}']:
            stack.pop()
            assert stack, 'a "}" closes no block'
        elif words and words[-1] == '{':
            block = []
            stack[-1].append((words[0], tuple(words[1:-1]), block))
            stack.append(block)
        elif words:
            stack[-1].append((words[0], tuple(words[1:]), None))
    assert len(stack) == 1, 'a block is left open'
    return stack[0]


def blocks(lines, keyword):
    """{arguments: block} of the blocks a keyword opens (virtual_server, real_server); each once."""
    found = [(args, block) for word, args, block in lines if word == keyword and block is not None]
    assert len(found) == len(set(args for args, _block in found)), 'a %s block twice' % keyword
    return dict(found)


def settings(lines):
    """{keyword: its arguments as one text} of the lines that open no block; each keyword once."""
    found = [(word, ' '.join(args)) for word, args, block in lines if block is None]
    assert len(found) == len(set(word for word, _args in found)), 'a keyword twice: %s' % found
    return dict(found)


def checks(lines):
    """{checker: settings, with url's settings under 'url'} of a real_server block's health checkers."""
    out = {}
    for word, _args, block in lines:
        if block is not None:
            out[word] = dict(settings(block), **dict(('url', settings(url)) for url in blocks(block, 'url').values()))
    return out
