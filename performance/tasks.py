"""Celery tasks of the performance domain: thin wrappers that call services."""
from celery import shared_task

from . import services


@shared_task(acks_late=True)
def period_lock_overdue_task() -> int:
    """Lock open periods past their deadline and grace time. Idempotent (a status guard)."""
    return services.period_lock_overdue()


@shared_task(acks_late=True)
def reminders_send_task() -> int:
    """E-mail officers with outstanding indicator and milestone returns before the deadline and
    when overdue. Idempotent: each kind goes once per period to each organisation it reached
    (recorded under a lock on the period); an organisation no one could be e-mailed at is tried
    again on the next run. Returns how many e-mails were sent."""
    return services.reminders_send()


@shared_task(acks_late=True)
def rollup_slices_task(slices: list[list[int]]) -> int:
    """Recompute the given [indicator_id, period_id] slices. Idempotent (upserts on natural keys,
    a lock per slice), so a task redelivered after its worker died gives the same tables."""
    from . import rollups

    return rollups.rollup_slices(slices)


@shared_task(acks_late=True)
def rollup_milestones_task(period_id: int) -> int:
    """Recompute every milestone's position at the end of a period. Idempotent."""
    from . import rollups

    return rollups.rollup_milestones(period_id)


@shared_task(acks_late=True)
def rollup_rebuild_task() -> dict:
    """Nightly safety net: recompute every summary row. Idempotent."""
    from . import rollups

    return rollups.rebuild_all()
