"""Celery tasks of the performance domain: thin wrappers that call services."""
from celery import shared_task

from . import services


@shared_task(acks_late=True)
def period_lock_overdue_task() -> int:
    """Lock open periods past their deadline and grace time. Idempotent (a status guard)."""
    return services.period_lock_overdue()


@shared_task(acks_late=True)
def reminders_send_task() -> int:
    """E-mail officers with outstanding returns before the deadline and when overdue. Idempotent:
    each period's reminders of one kind are sent once."""
    return services.reminders_send()
