"""Celery tasks of notifications: thin wrappers that call their services. Each is idempotent:
the e-mail of a notification goes once (``emailed_at``), the digest once a day per approver,
and a followed indicator's news once per period (each notification's event key)."""
from celery import shared_task

from . import outbox, services
from .outbox import notification_email_task

__all__ = [
    "approvals_digest_task", "notification_email_task", "notifications_email_outbox_task", "subscriptions_check_task",
]


@shared_task(name="notifications.tasks.approvals_digest_task", acks_late=True)
def approvals_digest_task() -> int:
    """Tell each approver how many returns await them (beat: every morning). Returns how many were told."""
    return services.approvals_digest_send()


@shared_task(name="notifications.tasks.subscriptions_check_task", acks_late=True)
def subscriptions_check_task() -> int:
    """Tell followers of indicators whose latest complete figure turned red or worsened (beat:
    every 15 minutes). Returns how many were told."""
    return services.subscriptions_check()


@shared_task(name="notifications.tasks.notifications_email_outbox_task", acks_late=True)
def notifications_email_outbox_task() -> int:
    """Queue again the e-mails of the last day's notifications not sent half an hour after they
    were made (a queue that was down, retries used up). Returns how many were queued."""
    ids = outbox.unsent_email_ids()
    for pk in ids:
        notification_email_task.delay(pk)
    return len(ids)
