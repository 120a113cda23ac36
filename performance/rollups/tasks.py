"""Celery tasks of the rollups: thin wrappers that call the engine. ``rollups.queue`` queues them."""
from celery import shared_task

from performance.rollups import engine


@shared_task(name="performance.tasks.rollup_slices_task", acks_late=True)
def rollup_slices_task(slices: list[list[int]]) -> int:
    """Recompute the given [indicator_id, period_id] slices. Idempotent (upserts on natural keys,
    a lock per slice), so a task redelivered after its worker died gives the same tables."""
    return engine.rollup_slices(slices)


@shared_task(name="performance.tasks.rollup_milestones_task", acks_late=True)
def rollup_milestones_task(period_id: int) -> int:
    """Recompute every milestone's position at the end of a period. Idempotent."""
    return engine.rollup_milestones(period_id)


@shared_task(name="performance.tasks.rollup_rebuild_task", acks_late=True)
def rollup_rebuild_task() -> dict:
    """Nightly safety net: recompute every summary row. Idempotent."""
    return engine.rebuild_all()
