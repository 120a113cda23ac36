"""Celery tasks of the catalogue: thin wrappers that call its services."""
from celery import shared_task

from performance.catalogue import services


@shared_task(name="performance.tasks.period_lock_overdue_task", acks_late=True)
def period_lock_overdue_task() -> int:
    """Lock open periods past their deadline and grace time. Idempotent (a status guard)."""
    return services.period_lock_overdue()
