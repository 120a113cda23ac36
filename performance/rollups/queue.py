"""What a change touches, queued for after the commit.

Approving, sending back or reopening a return queues the slices it touches (its own, and the
next period's and next year's, whose direction of travel compares with it) as a Celery task
that runs after the transaction commits; ``deferred`` collects them for a block of many
changes and queues them once."""
from __future__ import annotations

import contextlib
import contextvars

from django.db import transaction

from performance.catalogue.periods import period_kinds_for
from performance.models import MilestoneReturn
from performance.rollups.reference import dependent_periods
from performance.rollups.tasks import rollup_milestones_task, rollup_slices_task

_batch: contextvars.ContextVar[set | None] = contextvars.ContextVar("rollup_batch", default=None)
# --- What a change touches, queuing, rebuilding ----------------------------------------------

def slices_touched(ret) -> list[list[int]]:
    """The slices whose rows depend on a return: its own and the periods comparing with it (of
    the same kind). Nothing if the return's period is not of a kind its indicator is returned in
    (``periods.period_kinds_for``): the rollup keeps no rows there, as ``rebuild_all`` does not."""
    if isinstance(ret, MilestoneReturn):
        return []
    if ret.period.kind not in period_kinds_for(ret.indicator):
        return []
    periods = [ret.period, *dependent_periods(ret.period)]
    return [[ret.indicator_id, p.pk] for p in periods]


def queue_for_return(ret) -> None:
    """After the surrounding transaction commits, roll up what this return touches."""
    if isinstance(ret, MilestoneReturn):
        periods = [ret.period.pk, *[p.pk for p in dependent_periods(ret.period)]]
        _queue(slices=[], milestone_periods=periods)
    else:
        _queue(slices=slices_touched(ret), milestone_periods=[])


def queue_slices(slices: list[list[int]]) -> None:
    """After the surrounding transaction commits (or at the end of a ``deferred`` block), roll
    up these [indicator_id, period_id] slices (``changes.target_changed`` queues a target's)."""
    _queue(slices=slices, milestone_periods=[])


def _queue(*, slices: list[list[int]], milestone_periods: list[int]) -> None:
    pending = _batch.get()
    if pending is not None:
        pending.update(("slice", *s) for s in slices)
        pending.update(("milestones", p) for p in milestone_periods)
        return
    if slices:
        transaction.on_commit(lambda: rollup_slices_task.delay(slices))
    for period_id in milestone_periods:
        transaction.on_commit(lambda period_id=period_id: rollup_milestones_task.delay(period_id))


@contextlib.contextmanager
def deferred():
    """Collect the rollups queued inside the block and run them once at its end (used by the
    demo loader and imports, which change many returns at once)."""
    pending: set = set()
    token = _batch.set(pending)
    try:
        yield pending
    finally:
        _batch.reset(token)
    _queue(
        slices=sorted([s[1], s[2]] for s in pending if s[0] == "slice"),
        milestone_periods=sorted(s[1] for s in pending if s[0] == "milestones"),
    )
