"""Celery tasks of the returns: thin wrappers that call their services."""
from celery import shared_task

from performance.returns import reminders


@shared_task(name="performance.tasks.reminders_send_task", acks_late=True)
def reminders_send_task() -> int:
    """E-mail officers with outstanding indicator and milestone returns before the deadline and
    when overdue. Idempotent: each kind goes once per period to each organisation it reached
    (recorded under a lock on the period); an organisation no one could be e-mailed at is tried
    again on the next run. Returns how many e-mails were sent."""
    return reminders.reminders_send()
