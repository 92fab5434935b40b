# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Mutation test: every declared mutant of plugins/ must make a unit test fail.

  .venv/bin/python hacking/mutate.py            every mutant of hacking/mutants.py
  .venv/bin/python hacking/mutate.py --ci       only the entries marked ci
  .venv/bin/python hacking/mutate.py -k netlink only the entries whose file or why holds the word
  .venv/bin/python hacking/mutate.py -n 3 -v    only entry 3, naming the test that kills it

Each mutant replaces one exact text (found exactly once, else the run stops
before testing anything: a list that no longer matches the code must not pass
quietly) in its own copy of the collection, laid out as
ansible_collections/lvs/cluster like `make units` does, and runs the unit tests
there with -x under the Python that runs this script. Killed: pytest failed;
SURVIVED: it passed. An entry with `equivalent` (the reason) is expected to
survive; one that dies is reported too, since its reason no longer holds.
Exit 1 when a mutant survives or an equivalent one dies, 2 when the list does
not match the code, 3 when the unmutated tests fail.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import os
import runpy
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIST = Path(__file__).resolve().parent / 'mutants.py'
COLLECTION = Path('ansible_collections', 'lvs', 'cluster')
# where mutants may go: the code the modules and the filters share, and the
# modules' own checks of their input
ALLOWED = ('plugins/module_utils/', 'plugins/plugin_utils/', 'plugins/modules/')
# a mutant whose tests take this many times as long as the unmutated ones hangs
# (a drain that never ends, a read that waits for a reply never sent): killed
SLOW = 5


def load(ci=False, word=None, numbers=()):
    entries = runpy.run_path(str(LIST))['MUTANTS']
    picked = []
    for number, entry in enumerate(entries, 1):
        entry = dict(entry, number=number)
        if ci and not entry.get('ci'):
            continue
        if word and word not in entry['file'] and word not in entry['why']:
            continue
        if numbers and number not in numbers:
            continue
        picked.append(entry)
    return picked


def check(entries):
    """Problems of the list: each original text must occur exactly once in its file."""
    problems = []
    for entry in entries:
        where = '#%d %s' % (entry['number'], entry['file'])
        unknown = set(entry) - {'number', 'file', 'original', 'mutant', 'why', 'ci', 'equivalent', 'tests'}
        if unknown:
            problems.append('%s: unknown key(s) %s' % (where, ', '.join(sorted(unknown))))
        if not entry['file'].startswith(ALLOWED) or not (ROOT / entry['file']).is_file():
            problems.append('%s: not a file under %s' % (where, ' or '.join(ALLOWED)))
            continue
        if entry['original'] == entry['mutant']:
            problems.append('%s: the mutant is the original text' % where)
        count = (ROOT / entry['file']).read_text().count(entry['original'])
        if count != 1:
            problems.append('%s: the original text %r occurs %d times, not once' % (where, entry['original'], count))
    return problems


def git_files():
    """What `make units` copies: the files git knows (tracked, or new and not ignored)."""
    out = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
                         cwd=ROOT, check=True, capture_output=True).stdout
    return [name for name in out.decode().split('\0') if name and (ROOT / name).is_file()]


def make_base(top):
    base = Path(top, 'base')
    for name in git_files():
        target = base / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    return base


def test_groups(base, entry):
    """The unit test files in the runs to make: those that name the mutated
    module, then the others, each run only while the mutant lives (a first
    run over a few files collects and starts far faster than all of them)."""
    files = sorted(str(path.relative_to(base)) for path in (base / 'tests' / 'unit').rglob('test_*.py'))
    if entry is None:
        return [files]
    if entry.get('tests'):
        return [list(entry['tests'])]
    stem = Path(entry['file']).stem
    naming = [name for name in files if stem in (base / name).read_text()]
    return [group for group in (naming, [name for name in files if name not in naming]) if group]


def run_tests(base, scratch, timeout, entry=None):
    """(passed, the first failure's line) of the unit tests in a fresh copy, mutated by entry."""
    copy = Path(scratch, COLLECTION)
    # hard links: a copy costs nothing, and the one mutated file is written anew (never through a link)
    shutil.copytree(base, copy, copy_function=os.link)
    if entry is not None:
        target = copy / entry['file']
        text = target.read_text()
        target.unlink()
        target.write_text(text.replace(entry['original'], entry['mutant']))
    env = dict(os.environ, PYTHONPATH=str(scratch), PYTHONDONTWRITEBYTECODE='1')
    try:
        for group in test_groups(base, entry):
            argv = [sys.executable, '-m', 'pytest', '-x', '-q', '-p', 'no:cacheprovider'] + group
            try:
                done = subprocess.run(argv, cwd=copy, env=env, capture_output=True, text=True, timeout=timeout,
                                      check=False)
            except subprocess.TimeoutExpired:
                return False, 'timed out after %d s' % timeout
            failed = [line for line in done.stdout.splitlines() if line.startswith(('FAILED ', 'ERROR '))]
            if done.returncode != 0:
                return False, failed[0] if failed else (done.stdout.strip().splitlines() or [''])[-1]
        return True, (done.stdout.strip().splitlines() or [''])[-1]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def verdict(entry, passed):
    if entry.get('equivalent'):
        return 'equivalent' if passed else 'KILLED-EQUIVALENT'
    return 'SURVIVED' if passed else 'killed'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--ci', action='store_true', help='only the entries marked ci')
    parser.add_argument('-k', dest='word', help='only the entries whose file or why contains this')
    parser.add_argument('-n', dest='numbers', type=int, action='append', default=[],
                        help='only the entry of this number (as the report counts them; repeatable)')
    parser.add_argument('-j', '--jobs', type=int, default=2, help='mutants tested side by side (default 2)')
    parser.add_argument('-v', '--verbose', action='store_true', help='name the failing test of each killed mutant')
    args = parser.parse_args()
    start = time.monotonic()
    # the whole list, whatever runs: a stale entry fails the CI sample too
    problems = check(load())
    entries = load(args.ci, args.word, args.numbers)
    if problems:
        print('\n'.join(['mutants: the list does not match the code:'] + problems))
        return 2
    counts = {'killed': 0, 'SURVIVED': 0, 'equivalent': 0, 'KILLED-EQUIVALENT': 0}
    with tempfile.TemporaryDirectory(prefix='lvs-mutants-') as top:
        base = make_base(top)
        began = time.monotonic()
        passed, last = run_tests(base, Path(top, 'unmutated'), 600)
        timeout = max(60, SLOW * (time.monotonic() - began))
        if not passed:
            print('mutants: the unit tests fail without any mutant: %s' % last)
            return 3
        with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
            runs = [(entry, pool.submit(run_tests, base, Path(top, 'm%d' % entry['number']), timeout, entry))
                    for entry in entries]
            for entry, run in runs:
                passed, last = run.result()
                result = verdict(entry, passed)
                counts[result] += 1
                note = entry.get('equivalent') if result == 'equivalent' else entry['why']
                print('%-17s #%-3d %-32s %s' % (result, entry['number'], entry['file'].split('plugins/')[-1], note))
                if args.verbose and not passed:
                    print('%22s%s' % ('', last))
                sys.stdout.flush()
    print('mutants: %d, killed: %d, survived: %d, equivalent: %d%s, seconds: %.0f' % (
        len(entries), counts['killed'], counts['SURVIVED'], counts['equivalent'],
        ' (and %d declared equivalent but killed)' % counts['KILLED-EQUIVALENT'] if counts['KILLED-EQUIVALENT'] else '',
        time.monotonic() - start))
    return 1 if counts['SURVIVED'] or counts['KILLED-EQUIVALENT'] else 0


if __name__ == '__main__':
    sys.exit(main())
