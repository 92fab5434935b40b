#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: run_lock
short_description: One lock per host that serialises the runs of the collection's roles
version_added: 0.3.0
description:
  - Takes, renews or releases a lock on the managed host, so that two playbook runs that converge
    the same host do not interleave. The second waits until the first releases the lock, then reads
    the host as the first left it. The roles of this collection take it before they read any state
    of the host and release it at their end, also when they fail.
  - The lock is a lease, a file in O(lock_dir) naming its holder, the host's boot id and when it
    expires. A lock whose lease has expired, or that was taken in an earlier boot, is stale and taken
    over (a run killed midway holds it no longer than its lease). Changes happen under an exclusive
    C(flock) of O(lock_dir), and the file is replaced whole (written beside it, then renamed), so that a
    reader never sees a partial one.
  - The same O(holder) takes the lock again without waiting and renews its lease (re-entrant). The
    roles use one holder per playbook run, so a role run twice in a play never waits for itself.
  - The lock is bookkeeping of a run, gone at its end, so C(changed) is always V(false).
author: lvs.cluster contributors (!UNKNOWN)
options:
  holder:
    description:
      - Who takes or releases the lock, for example an id made once per playbook run. Letters, digits,
        C(.), C(_), C(:), C(@), C(+) and C(-), 1 to 128 characters, starting with a letter or digit.
    type: str
    required: true
  state:
    description:
      - V(present) waits until the lock is free (or stale, or already this holder's), then takes it or
        renews its lease.
      - V(absent) releases it. Releasing a lock of another holder is refused unless O(force=true); releasing
        a lock nobody holds changes nothing.
    type: str
    choices: [present, absent]
    default: present
  timeout:
    description:
      - Seconds to wait for another holder's lock to be released or to expire, 0 to 86400. V(0) tries once.
      - When the wait ends with the lock still held, the module fails naming the holder and when its lease ends.
    type: int
    default: 900
  lease:
    description:
      - Seconds the lock lasts unless renewed or released, 1 to 604800. It must outlast the longest run that
        holds it; a killed run blocks others at most this long.
    type: int
    default: 600
  force:
    description:
      - With O(state=absent), release the lock whoever holds it (the lock of a run known to be gone).
    type: bool
    default: false
  name:
    description:
      - The lock's name, its file name in O(lock_dir) without C(.lock). Lower-case letters, digits, C(_) and
        C(-), 1 to 64 characters. The collection's roles share one lock, V(roles).
    type: str
    default: roles
  lock_dir:
    description:
      - The folder of the locks. It belongs to this module, which creates it (mode C(0755)) and removes it
        when its last lock is released. The default is on a tmpfs, emptied at boot.
    type: path
    default: /run/lvs-cluster
notes:
  - Only the Python standard library is used on the managed host; the lease is measured on the host's
    C(CLOCK_BOOTTIME), which clock changes do not move.
  - In check mode nothing is written; the module still waits, reading only, until the lock is free (a check
    run predicts the host as the run before it leaves it), and fails on the timeout as a real run would.
seealso:
  - module: lvs.cluster.ipvs_table
attributes:
  check_mode:
    details: Writes nothing; waits, reading only, as a real run would (see the notes).
  diff_mode:
    support: none
    details: The lock is no state of the host.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - lvs.cluster.attributes
'''

EXAMPLES = r'''
- name: Take this host's lock (wait at most 15 minutes for another run)
  lvs.cluster.run_lock:
    holder: "{{ my_run_id }}"
    timeout: 900

- name: Converge, and release the lock also on failure
  block:
    - name: Change the host
      ansible.builtin.debug:
        msg: the host is ours
  always:
    - name: Release this host's lock
      lvs.cluster.run_lock:
        holder: "{{ my_run_id }}"
        state: absent

- name: Release the lock of a run known to be gone, before its lease ends
  lvs.cluster.run_lock:
    holder: "{{ my_run_id }}"
    state: absent
    force: true
'''

RETURN = r'''
lock_file:
  description: The lock file.
  returned: always
  type: str
  sample: /run/lvs-cluster/roles.lock
holder:
  description: Who holds the lock after the run (predicted in check mode); empty when nobody does.
  returned: always
  type: str
  sample: 20250101T120000Z-80211613
renewed:
  description: With O(state=present), whether this holder held the lock already (its lease renewed).
  returned: always
  type: bool
  sample: false
waited:
  description: Seconds spent waiting for another holder's lock, rounded to tenths.
  returned: always
  type: float
  sample: 0.0
expires:
  description: When the lease ends (UTC), with O(state=present).
  returned: always
  type: str
  sample: "2025-01-01T12:10:00Z"
taken_over:
  description:
    - The stale lock (its lease over, or taken in an earlier boot) that this run took over, or the one a forced
      release removed; empty when none.
  returned: always
  type: dict
  sample: {holder: 20250101T110000Z-1234, acquired: "2025-01-01T11:00:00Z", expires: "2025-01-01T11:10:00Z"}
released:
  description: With O(state=absent), whether a lock was removed (or would be, in check mode).
  returned: always
  type: bool
  sample: true
'''

import errno
import fcntl
import json
import os
import random
import re
import time
from contextlib import contextmanager

from ansible.module_utils.basic import AnsibleModule

BOOT_ID = '/proc/sys/kernel/random/boot_id'
HOLDER = re.compile(r'[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}')
NAME = re.compile(r'[a-z0-9][a-z0-9_-]{0,63}')
MAX_TIMEOUT = 86400
MAX_LEASE = 7 * 86400
POLL = 1.0
# The lease is measured on the clock that counts since boot, suspend included:
# wall-clock changes (NTP steps) do not move it, and the boot id says which boot.
CLOCK = getattr(time, 'CLOCK_BOOTTIME', time.CLOCK_MONOTONIC)


class LockError(Exception):
    """A refusal; field names the option at fault, lock the lock in the way."""

    def __init__(self, field, message, lock=None):
        super(LockError, self).__init__(message)
        self.field = field
        self.lock = lock


def boot_id():
    try:
        with open(BOOT_ID) as handle:
            return handle.read().strip()
    except (IOError, OSError):
        return ''


def since_boot():
    return time.clock_gettime(CLOCK)


def utc(stamp):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(stamp))


def check_params(params):
    if not HOLDER.fullmatch(params['holder'] or ''):
        raise LockError('holder', 'must be 1 to 128 letters, digits or . _ : @ + -, starting with a letter or '
                        'digit, got %r' % params['holder'])
    if not NAME.fullmatch(params['name'] or ''):
        raise LockError('name', 'must be 1 to 64 lower-case letters, digits, _ or -, got %r' % params['name'])
    if not 0 <= params['timeout'] <= MAX_TIMEOUT:
        raise LockError('timeout', 'must be 0 to %d seconds, got %d' % (MAX_TIMEOUT, params['timeout']))
    if not 1 <= params['lease'] <= MAX_LEASE:
        raise LockError('lease', 'must be 1 to %d seconds, got %d' % (MAX_LEASE, params['lease']))
    if not os.path.isabs(params['lock_dir']) or os.path.normpath(params['lock_dir']) in ('/', '/run', '/tmp'):
        raise LockError('lock_dir', 'must be an absolute path to a folder of its own, got %r' % params['lock_dir'])


def read_lock(path):
    """The lock as written, None when there is none; a file that is no lock of ours reads as stale."""
    try:
        with open(path) as handle:
            text = handle.read()
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise
    try:
        lock = json.loads(text)
    except ValueError:
        lock = None
    if not isinstance(lock, dict) or not isinstance(lock.get('holder'), str):
        return {'holder': '', 'corrupt': text[:200]}
    return lock


def is_stale(lock, boot, now):
    """Taken in another boot, its lease over, or not a lock this module wrote."""
    if 'corrupt' in lock:
        return True
    if not boot or lock.get('boot_id') != boot:
        return True
    try:
        return now >= float(lock['lease_end'])
    except (KeyError, TypeError, ValueError):
        return True


def describe(lock):
    if 'corrupt' in lock:
        return 'a file that is no lock of this module (%r)' % lock['corrupt']
    user = ' (user %s)' % lock['user'] if lock.get('user') else ''
    return 'run %s%s since %s, lease until %s' % (
        lock.get('holder'), user, lock.get('acquired', '?'), lock.get('expires', '?'))


def shown(lock):
    """A lock as the result shows it."""
    if not lock:
        return {}
    if 'corrupt' in lock:
        return {'holder': '', 'corrupt': lock['corrupt']}
    return dict((key, lock.get(key)) for key in ('holder', 'user', 'acquired', 'expires'))


@contextmanager
def guarded(folder, create):
    """An exclusive flock of the folder itself; yields False when it is not there and create is False.

    The folder goes with its last lock: a process that waited for the flock of
    a folder removed meanwhile finds another (or none) at the path, and starts over.
    """
    while True:
        if create:
            try:
                os.mkdir(folder, 0o755)
            except OSError as exc:
                if exc.errno != errno.EEXIST:
                    raise
        try:
            fd = os.open(folder, os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0))
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise
            if create:
                continue
            yield False
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            mine = os.fstat(fd)
            try:
                there = os.stat(folder)
            except OSError:
                there = None
            if there is not None and (there.st_dev, there.st_ino) == (mine.st_dev, mine.st_ino):
                yield True
                return
        finally:
            os.close(fd)  # closing drops the flock


def sweep(folder, name):
    """Files half written by a process killed between writing and renaming (only ever made under the flock)."""
    prefix = '.%s.lock.' % name
    for entry in os.listdir(folder):
        if entry.startswith(prefix) and entry.endswith('.tmp'):
            os.unlink(os.path.join(folder, entry))


def write_lock(folder, name, lock):
    """Replace the lock whole: written beside it, then renamed over it."""
    tmp = os.path.join(folder, '.%s.lock.%d.tmp' % (name, os.getpid()))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, (json.dumps(lock, sort_keys=True) + '\n').encode('utf-8'))
    finally:
        os.close(fd)
    os.rename(tmp, os.path.join(folder, name + '.lock'))


def new_lock(holder, lease, boot, old=None):
    now, wall = since_boot(), time.time()
    lock = {'holder': holder, 'boot_id': boot, 'acquired': utc(wall), 'expires': utc(wall + lease),
            'lease_end': now + lease, 'user': os.environ.get('SUDO_USER') or os.environ.get('USER') or ''}
    if old and old.get('holder') == holder and 'acquired' in old:
        lock['acquired'] = old['acquired']
    return lock


def try_take(folder, name, holder, lease, check_mode):
    """(taken, renewed, stale lock taken over or None, lock in the way or None, lock after)."""
    path = os.path.join(folder, name + '.lock')
    boot = boot_id()
    if check_mode:  # read only: renames make a read whole
        lock = read_lock(path)
        return decide(lock, holder, boot) + (new_lock(holder, lease, boot, lock),)
    with guarded(folder, create=True):
        sweep(folder, name)
        lock = read_lock(path)
        taken, renewed, stale, blocking = decide(lock, holder, boot)
        after = lock
        if taken:
            after = new_lock(holder, lease, boot, lock)
            write_lock(folder, name, after)
        return taken, renewed, stale, blocking, after


def decide(lock, holder, boot):
    if lock is None:
        return True, False, None, None
    if lock.get('holder') == holder:
        return True, True, None, None
    if is_stale(lock, boot, since_boot()):
        return True, False, lock, None
    return False, False, None, lock


def take(folder, name, holder, lease, timeout, check_mode=False, sleep=time.sleep):
    start = time.monotonic()
    while True:
        taken, renewed, stale, blocking, after = try_take(folder, name, holder, lease, check_mode)
        waited = time.monotonic() - start
        if taken:
            return dict(lock_file=os.path.join(folder, name + '.lock'), holder=holder, renewed=renewed,
                        waited=round(waited, 1), expires=after['expires'], taken_over=shown(stale),
                        released=False)
        if waited >= timeout:
            raise LockError('timeout', 'this host is held by another run of the roles: %s (%s); waited %d s. '
                            'A run killed midway holds it until its lease ends; to free the lock of a run known '
                            'to be gone now: lvs.cluster.run_lock state=absent force=true'
                            % (describe(blocking), os.path.join(folder, name + '.lock'), int(waited)), blocking)
        # jitter: waiters that poll in step would race for the lock in step too
        sleep(min(POLL * random.uniform(0.5, 1.0), max(timeout - waited, 0.01)))


def release(folder, name, holder, force, check_mode):
    path = os.path.join(folder, name + '.lock')
    result = dict(lock_file=path, holder='', renewed=False, waited=0.0, expires='', taken_over={}, released=False)
    if check_mode:
        lock = read_lock(path) if os.path.isdir(folder) else None
        refuse(lock, holder, force, path)
        result.update(released=lock is not None, taken_over=shown(lock) if lock and force else {})
        return result
    with guarded(folder, create=False) as there:
        if not there:
            return result
        sweep(folder, name)
        lock = read_lock(path)
        refuse(lock, holder, force, path)
        if lock is not None:
            os.unlink(path)
            result.update(released=True, taken_over=shown(lock) if lock.get('holder') != holder else {})
        try:
            os.rmdir(folder)  # with its last lock; waiters on its flock start over
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.EBUSY):
                raise
    return result


def refuse(lock, holder, force, path):
    if lock is not None and lock.get('holder') != holder and not force:
        raise LockError('holder', '%s is held by %s, not by %s: not released (force=true releases it)'
                        % (path, describe(lock), holder), lock)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            holder=dict(type='str', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            timeout=dict(type='int', default=900),
            lease=dict(type='int', default=600),
            force=dict(type='bool', default=False),
            name=dict(type='str', default='roles'),
            lock_dir=dict(type='path', default='/run/lvs-cluster'),
        ),
        supports_check_mode=True)
    params = module.params
    folder = os.path.normpath(params['lock_dir'])
    try:
        check_params(params)
        if params['state'] == 'present':
            result = take(folder, params['name'], params['holder'], params['lease'], params['timeout'],
                          module.check_mode)
        else:
            result = release(folder, params['name'], params['holder'], params['force'], module.check_mode)
    except LockError as exc:
        module.fail_json(msg='%s: %s' % (exc.field, exc), field=exc.field, holder=(exc.lock or {}).get('holder', ''))
    except (IOError, OSError) as exc:
        module.fail_json(msg='lock_dir: %s: %s' % (folder, exc), field='lock_dir')
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
