# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""run_lock with real processes on a real folder: flock, rename and the lease as on a host."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time

import pytest

from ansible_collections.lvs.cluster.plugins.modules import run_lock
from ansible_collections.lvs.cluster.tests.unit.ipvs_fake import AnsibleFail, FakeHost, run_module

FORK = multiprocessing.get_context('fork')


@pytest.fixture
def lockdir(tmp_path, monkeypatch):
    boot = tmp_path / 'boot_id'
    boot.write_text(u'0b5e6f2a-boot-one\n')
    monkeypatch.setattr(run_lock, 'BOOT_ID', str(boot))
    monkeypatch.setattr(run_lock, 'POLL', 0.05)
    (tmp_path / 'run').mkdir()
    return tmp_path / 'run' / 'lvs-cluster'


def args(lockdir, holder, **kw):
    return dict(dict(holder=holder, lock_dir=str(lockdir)), **kw)


def held(lockdir):
    return json.loads((lockdir / 'roles.lock').read_text())


def test_take_writes_holder_boot_and_lease_and_changes_nothing_reported(lockdir):
    result = run_module(run_lock, args(lockdir, 'run-a', lease=60), FakeHost())
    assert result['changed'] is False and result['renewed'] is False and result['taken_over'] == {}
    lock = held(lockdir)
    assert lock['holder'] == 'run-a' and lock['boot_id'] == '0b5e6f2a-boot-one'
    assert 59 < lock['lease_end'] - run_lock.since_boot() <= 60
    assert result['expires'] == lock['expires'] and result['lock_file'] == str(lockdir / 'roles.lock')
    assert sorted(os.listdir(str(lockdir))) == ['roles.lock']  # nothing half written left beside it


def test_same_holder_takes_it_again_at_once_and_renews_the_lease(lockdir):
    run_module(run_lock, args(lockdir, 'run-a', lease=5), FakeHost())
    first = held(lockdir)
    result = run_module(run_lock, args(lockdir, 'run-a', lease=60, timeout=0), FakeHost())
    assert result['renewed'] is True and result['waited'] == 0.0
    assert held(lockdir)['lease_end'] > first['lease_end'] + 50
    assert held(lockdir)['acquired'] == first['acquired']


def test_another_holder_times_out_naming_the_holder(lockdir):
    run_module(run_lock, args(lockdir, 'run-a'), FakeHost())
    with pytest.raises(AnsibleFail) as failed:
        run_module(run_lock, args(lockdir, 'run-b', timeout=0), FakeHost())
    msg = failed.value.args[0]['msg']
    assert failed.value.args[0]['field'] == 'timeout' and failed.value.args[0]['holder'] == 'run-a'
    assert 'run run-a' in msg and 'lease until' in msg and 'force=true' in msg
    started = time.monotonic()
    with pytest.raises(run_lock.LockError):
        run_lock.take(str(lockdir), 'roles', 'run-b', 60, 0.3)
    assert 0.3 <= time.monotonic() - started < 2  # bounded
    assert held(lockdir)['holder'] == 'run-a'


def _hold_then_release(lockdir, holder, seconds, ready):
    run_lock.take(str(lockdir), 'roles', holder, 60, 0)
    ready.set()
    time.sleep(seconds)
    run_lock.release(str(lockdir), 'roles', holder, False, False)


def test_a_second_run_waits_for_the_first_and_then_takes_it(lockdir):
    ready = FORK.Event()
    first = FORK.Process(target=_hold_then_release, args=(lockdir, 'run-a', 0.4, ready))
    first.start()
    assert ready.wait(10)
    result = run_module(run_lock, args(lockdir, 'run-b', timeout=10), FakeHost())
    first.join(10)
    assert result['holder'] == 'run-b' and result['taken_over'] == {}  # released, not taken over
    assert 0.2 <= result['waited'] < 5
    assert held(lockdir)['holder'] == 'run-b'


def _take_and_die(lockdir, lease):
    run_lock.take(str(lockdir), 'roles', 'run-killed', lease, 0)
    os.kill(os.getpid(), signal.SIGKILL)  # killed midway: no release


def test_a_killed_run_holds_it_no_longer_than_its_lease(lockdir):
    killed = FORK.Process(target=_take_and_die, args=(lockdir, 0.4))
    killed.start()
    killed.join(10)
    assert killed.exitcode == -signal.SIGKILL and held(lockdir)['holder'] == 'run-killed'
    with pytest.raises(AnsibleFail):  # still within its lease
        run_module(run_lock, args(lockdir, 'run-b', timeout=0), FakeHost())
    result = run_module(run_lock, args(lockdir, 'run-b', timeout=5), FakeHost())
    assert result['taken_over']['holder'] == 'run-killed' and 0.05 < result['waited'] < 3
    assert held(lockdir)['holder'] == 'run-b'


def test_a_lock_of_an_earlier_boot_is_taken_over_at_once(lockdir, tmp_path):
    run_module(run_lock, args(lockdir, 'run-a', lease=3600), FakeHost())
    (tmp_path / 'boot_id').write_text(u'0b5e6f2a-boot-two\n')
    result = run_module(run_lock, args(lockdir, 'run-b', timeout=0), FakeHost())
    assert result['taken_over']['holder'] == 'run-a' and held(lockdir)['boot_id'] == '0b5e6f2a-boot-two'


def test_a_file_that_is_no_lock_is_taken_over(lockdir):
    lockdir.mkdir(parents=True)
    (lockdir / 'roles.lock').write_text(u'{"holder": ')
    result = run_module(run_lock, args(lockdir, 'run-b', timeout=0), FakeHost())
    assert result['taken_over'] == {'holder': '', 'corrupt': '{"holder": '}


def test_a_half_written_lock_of_a_killed_process_is_swept(lockdir):
    lockdir.mkdir(parents=True)
    (lockdir / '.roles.lock.4242.tmp').write_text(u'{"hol')
    run_module(run_lock, args(lockdir, 'run-a'), FakeHost())
    run_module(run_lock, args(lockdir, 'run-a', state='absent'), FakeHost())
    assert not lockdir.exists()


def test_release_by_another_holder_is_refused_and_force_releases(lockdir):
    run_module(run_lock, args(lockdir, 'run-a'), FakeHost())
    with pytest.raises(AnsibleFail) as failed:
        run_module(run_lock, args(lockdir, 'run-b', state='absent'), FakeHost())
    assert failed.value.args[0]['field'] == 'holder' and 'run run-a' in failed.value.args[0]['msg']
    assert held(lockdir)['holder'] == 'run-a'
    result = run_module(run_lock, args(lockdir, 'run-b', state='absent', force=True), FakeHost())
    assert result['released'] is True and result['taken_over']['holder'] == 'run-a'
    assert not lockdir.exists()


def test_release_removes_the_lock_and_the_folder_only_when_empty(lockdir):
    run_module(run_lock, args(lockdir, 'run-a'), FakeHost())
    run_module(run_lock, args(lockdir, 'run-a', name='other'), FakeHost())
    result = run_module(run_lock, args(lockdir, 'run-a', state='absent'), FakeHost())
    assert result['released'] is True and result['taken_over'] == {}
    assert os.listdir(str(lockdir)) == ['other.lock']
    run_module(run_lock, args(lockdir, 'run-a', state='absent', name='other'), FakeHost())
    assert not lockdir.exists()
    again = run_module(run_lock, args(lockdir, 'run-a', state='absent'), FakeHost())
    assert again['released'] is False and not lockdir.exists()


def test_check_mode_writes_nothing_and_waits_for_a_free_lock(lockdir):
    result = run_module(run_lock, args(lockdir, 'run-a'), FakeHost(), check_mode=True)
    assert result['holder'] == 'run-a' and not lockdir.exists()
    assert run_module(run_lock, args(lockdir, 'run-a', state='absent'), FakeHost(), check_mode=True)['released'] is False

    ready = FORK.Event()
    first = FORK.Process(target=_hold_then_release, args=(lockdir, 'run-a', 0.4, ready))
    first.start()
    assert ready.wait(10)
    before = (lockdir / 'roles.lock').read_text()
    with pytest.raises(AnsibleFail) as failed:  # what the real run would meet
        run_module(run_lock, args(lockdir, 'run-b', timeout=0), FakeHost(), check_mode=True)
    assert failed.value.args[0]['field'] == 'timeout'
    assert (lockdir / 'roles.lock').read_text() == before
    result = run_module(run_lock, args(lockdir, 'run-b', timeout=10), FakeHost(), check_mode=True)
    first.join(10)
    assert result['waited'] >= 0.2 and not lockdir.exists()  # waited, took nothing


def _worker(lockdir, holder, log, rounds):
    for _round in range(rounds):
        run_lock.take(str(lockdir), 'roles', holder, 30, 30)
        with open(log, 'a') as handle:
            handle.write('in %s\n' % holder)
        time.sleep(0.002)
        with open(log, 'a') as handle:
            handle.write('out %s\n' % holder)
        run_lock.release(str(lockdir), 'roles', holder, False, False)


def test_concurrent_runs_never_overlap(lockdir, tmp_path):
    """Six processes take and release in a loop: the folder comes and goes under them."""
    log = str(tmp_path / 'log')
    workers = [FORK.Process(target=_worker, args=(lockdir, 'run-%d' % n, log, 15)) for n in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [worker.exitcode for worker in workers] == [0] * 6
    lines = open(log).read().splitlines()
    assert len(lines) == 6 * 15 * 2
    for enter, leave in zip(lines[::2], lines[1::2]):
        assert enter.startswith('in ') and leave == 'out ' + enter[3:]
    assert not lockdir.exists()


@pytest.mark.parametrize('bad, field', [
    (dict(holder='run\nid'), 'holder'),
    (dict(holder='run-a\n'), 'holder'),
    (dict(holder=''), 'holder'),
    (dict(holder='x' * 129), 'holder'),
    (dict(name='../etc'), 'name'),
    (dict(name='roles\n'), 'name'),
    (dict(timeout=-1), 'timeout'),
    (dict(lease=0), 'lease'),
    (dict(lock_dir='/'), 'lock_dir'),
    (dict(lock_dir='/run/'), 'lock_dir'),
    (dict(lock_dir='run/x'), 'lock_dir'),
])
def test_bad_options_are_refused_naming_them_before_anything_is_written(lockdir, bad, field):
    with pytest.raises(AnsibleFail) as failed:
        run_module(run_lock, dict(args(lockdir, 'run-a'), **bad), FakeHost())
    assert failed.value.args[0]['field'] == field
    assert not lockdir.exists()
