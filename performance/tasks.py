"""Celery tasks of the performance domain: thin wrappers that take ids and call services."""
from celery import shared_task

from . import services


@shared_task(acks_late=True)
def period_lock_overdue_task() -> int:
    """Lock open periods past their deadline and grace time. Idempotent (a status guard)."""
    return services.period_lock_overdue()
