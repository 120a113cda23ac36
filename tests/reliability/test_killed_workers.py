"""A Celery worker killed with SIGKILL during a full rollup loses no work: the rollup is delivered
again, and the summary tables end equal to a fresh full recompute, within a stated time.

One full rollup (``rollup_rebuild_task``) on a real prefork worker (2 pool processes) on Redis,
over summary tables that were first corrupted (rows deleted, figures changed, a row of a slice
that does not exist added), is killed four times:

1. the pool process running it, early (just after it started, before or just after it takes the
   lock a rebuild holds while it runs, ``rebuild.RUNNING``);
2. the pool process running it again, mid-run (holding that lock, building the new summary table
   beside the old one);
3. the pool process running it a third time, late (after it swapped the new table in and released
   that lock, while it commits the milestone positions period by period);
4. the whole worker, main process and pool (as a crashed machine or an OOM kill of the group
   would), mid-run again: its new table built, its swap waiting behind a long incremental rollup
   (the test's own connection holding the rebuild lock shared), while an approval's incremental
   ``rollup_slices_task`` is in flight on the other pool process, waiting behind the swap; a
   second approval is made while no worker runs, then a new worker is started (as a supervisor
   would).

Every queued task must then succeed within the bound, and the tables the workers wrote must equal,
in every column but id and computed_at, those of a fresh ``rebuild_all()`` in this process.

Why it holds (kentforum/settings/base.py): tasks are idempotent and acknowledged late
(CELERY_TASK_ACKS_LATE); when a pool process dies its worker rejects the message with requeue
(CELERY_TASK_REJECT_ON_WORKER_LOST) after CELERY_WORKER_LOST_WAIT, so it runs again at once; a
message of a worker killed whole stays in Redis's unacknowledged set and is given back to its
queue by the next worker's sweep (every CELERY_UNACKED_RESTORE_INTERVAL × _THROTTLE seconds)
once CELERY_VISIBILITY_TIMEOUT has passed since it was delivered. The workers here run those at
seconds (conftest.py); production keeps an hour, which only makes the wait longer.
"""
from __future__ import annotations

import time

import psycopg2
import pytest
from celery.signals import after_task_publish
from django.db import connection

from performance.catalogue import services
from performance.returns import workflow
from performance.rollups import engine
from performance.rollups.rebuild import LOG_TABLE, REBUILD_LOCK, RUNNING
from performance.rollups.tasks import rollup_rebuild_task
from tests.conftest import requires_postgres, requires_redis

from . import data
from .conftest import FIGURES, RESTORE_INTERVAL, WORKER_LOST_WAIT

pytestmark = [pytest.mark.slow, requires_postgres, requires_redis]

WORKER_START = 20.0  # seconds a new worker may take to start on a loaded machine


def _advisory(mode: str, granted: bool, key: int = RUNNING) -> set[int]:
    """Backends holding (or waiting for) an advisory lock in ``mode``: by default the one a full
    rebuild holds while it runs; ``REBUILD_LOCK`` is the one its start and its swap take
    exclusive and incremental rollups shared."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = %s AND objsubid = 1 "
            "AND mode = %s AND granted = %s",
            [key, mode, granted],
        )
        return {pid for (pid,) in cursor.fetchall()}


def _hold_rebuild_lock_shared():
    """A connection of its own holding the rebuild lock shared, as a long incremental rollup
    would: a rebuild's swap waits for it, so the rebuild stays mid-run until it is released."""
    held = psycopg2.connect(**connection.get_connection_params())
    with held.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [REBUILD_LOCK])
    return held


def _poll(what: str, check, timeout: float, interval: float = 0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def _execution(result, not_pids: set[int], timeout: float) -> int:
    """The pool process that runs ``result``'s task now (a new execution, by one not in ``not_pids``)."""
    def running():
        if result.state == "FAILURE":
            raise AssertionError(f"{result.name} failed: {result.traceback}")
        info = result.info if result.state == "STARTED" else None
        return info["pid"] if info and info["pid"] not in not_pids else None

    return _poll(f"a new execution of {result.id}", running, timeout)


def _approve_one_submitted_return(used: set[int]) -> int:
    """Approve a submitted total return through the service (its period opened first), as an
    approver would: it queues a rollup_slices_task after the commit. Returns its id."""

    from performance.models import IndicatorReturn

    ret = (IndicatorReturn.objects.filter(state="submitted", breakdown__isnull=True, indicator__code__startswith="REL-")
           .exclude(pk__in=used).select_related("period").order_by("period__start", "pk").first())
    if ret.period.status != "open":
        services.period_open(period=ret.period)
    workflow.return_approve(ret=ret, expected_version=ret.version)
    used.add(ret.pk)
    return ret.pk


def _published() -> tuple[list, callable]:
    """The ids of the rollup_slices_task messages this process publishes (Celery's own signal)."""
    ids: list[str] = []

    def record(sender=None, headers=None, **kwargs):
        if sender == "performance.tasks.rollup_slices_task":
            ids.append(headers["id"])

    after_task_publish.connect(record, weak=False)
    return ids, lambda: after_task_publish.disconnect(record)


def _states(results) -> list[str]:
    return [r.state for r in results]


def test_a_full_rollup_killed_four_times_ends_equal_to_a_fresh_recompute(rollup_data, workers, transactional_db):
    from celery.result import AsyncResult




    duration = rollup_data["seconds"]
    step = max(30.0, 4 * duration)  # bound on each wait before the last kill
    bound = workers.visibility + RESTORE_INTERVAL + 3 * duration + WORKER_START
    kills: list[str] = []
    orphans: set[int] = set()  # database backends of killed processes (they end with their statement)
    approved: set[int] = set()

    # Given a worker and corrupted summary tables (so a rollup that did not run would show)
    worker = workers.running()
    data.corrupt_summaries()
    data.snapshot("corrupted")
    published, stop_recording = _published()
    try:
        # When a full rollup is queued
        rebuild = rollup_rebuild_task.delay()
        sent = time.monotonic()

        # and the pool process running it is killed early, as soon as it has started,
        pid = _execution(rebuild, set(), step)
        assert rebuild.state == "STARTED"
        worker.kill_child(pid)
        holding = _advisory("ExclusiveLock", True)
        orphans |= holding
        kills.append(f"pool process early ({time.monotonic() - sent:.2f} s after queuing; "
                     f"{'holding' if holding else 'before'} the rebuild's lock)")

        # then the pool process running it again is killed mid-run, building the new table,
        pid = _execution(rebuild, {pid}, step)
        backend = _poll("the rebuild's lock taken again", lambda: _advisory("ExclusiveLock", True) - orphans, step)
        # A moment into its chunk: not a fraction of the measured rollup, which a loaded machine
        # can make longer than the worker's own run (the rollup had then finished before the kill).
        time.sleep(min(0.15 * duration, 0.2))
        assert rebuild.state == "STARTED" and _advisory("ExclusiveLock", True) & backend, "not mid-run"
        worker.kill_child(pid)
        orphans |= backend
        kills.append(f"pool process mid-run ({time.monotonic() - sent:.2f} s)")

        # then the pool process running it a third time is killed late, after it wrote the
        # indicator rows and released the rebuild's lock (while it writes the milestone positions,
        # one committed period at a time),
        pid = _execution(rebuild, {pid}, step)
        backend = _poll("the rebuild's lock taken a third time", lambda: _advisory("ExclusiveLock", True) - orphans, step)
        _poll("the rebuild's lock released", lambda: not _advisory("ExclusiveLock", True) & backend, step, interval=0.005)
        assert rebuild.state == "STARTED", "not late: the rollup had finished"
        worker.kill_child(pid)
        kills.append(f"pool process late, after the swap ({time.monotonic() - sent:.2f} s)")

        # then, while it runs a fourth time and, its table built, waits to swap it in behind a
        # long incremental rollup (this test's own connection, holding the rebuild lock shared),
        # an approval queues an incremental rollup, which the other pool process starts and
        # which waits behind the swap,
        pid = _execution(rebuild, {pid}, step)
        backend = _poll("the rebuild's lock taken a fourth time", lambda: _advisory("ExclusiveLock", True) - orphans, step)

        def started_building():
            with connection.cursor() as cursor:
                cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [LOG_TABLE])
                return cursor.fetchone()[0]

        _poll("the rebuild building beside the summary", started_building, step, interval=0.005)
        held = _hold_rebuild_lock_shared()
        try:
            _poll("the swap waiting", lambda: _advisory("ExclusiveLock", False, REBUILD_LOCK) & backend, step)
            _approve_one_submitted_return(approved)
            in_flight = AsyncResult(published[0])
            _poll("the approval's rollup started", lambda: in_flight.state == "STARTED", step)
            waiting = _poll("the approval's rollup waiting behind the swap",
                            lambda: _advisory("ShareLock", False, REBUILD_LOCK) - orphans, step)

            # and the whole worker is killed, main process and pool at once,
            assert rebuild.state == "STARTED" and in_flight.state == "STARTED"
            assert _advisory("ExclusiveLock", True) & backend, "the rebuild must be killed mid-run"
            worker.kill_all()
        finally:
            held.rollback()
            held.close()
        killed = time.monotonic()
        orphans |= backend | waiting
        kills.append(f"whole worker mid-run, waiting to swap, with an approval's rollup in flight ({killed - sent:.2f} s)")

        # and, while no worker runs, another approval queues an incremental rollup,
        _approve_one_submitted_return(approved)
        queued = AsyncResult(published[1])
        assert queued.state == "PENDING"

        # and a new worker is started
        workers.start()
        results = [rebuild, in_flight, queued]

        # Then every queued task succeeds within the bound
        def done():
            states = _states(results)
            if "FAILURE" in states:
                failed = next(r for r in results if r.state == "FAILURE")
                raise AssertionError(f"{failed.name} failed: {failed.traceback}")
            return all(s == "SUCCESS" for s in states)

        try:
            _poll("every queued task succeeded", done, bound, interval=0.05)
        except AssertionError as error:
            raise AssertionError(f"{error}: {_states(results)}\n{workers.current.log_tail()}") from None
        recovered = time.monotonic() - killed
    finally:
        stop_recording()

    data.snapshot("worker")
    FIGURES["kills"] = kills
    FIGURES["recovery"] = (
        f"{len(kills)} kills; every queued task done and the summary tables written {recovered:.1f} s after the last "
        f"kill (bound {bound:.0f} s = visibility timeout {workers.visibility} s + sweep {RESTORE_INTERVAL} s "
        f"+ 3 x full rollup {duration:.1f} s + worker start {WORKER_START:.0f} s; lost-worker wait {WORKER_LOST_WAIT} s)"
    )
    assert recovered <= bound
    assert in_flight.result > 0 and queued.result > 0, "each approval's rollup wrote its slices"

    # and the tables equal a fresh full recompute made afterwards (which the corruption did not)
    engine.rebuild_all()
    data.snapshot("fresh")
    assert data.differences("corrupted", "fresh"), "the corruption must show, or the test proves nothing"
    assert data.differences("worker", "fresh") == []
