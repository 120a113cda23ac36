"""The e-mail of a notification. A notification is written in the transaction of the event it
reports (the outbox, so none is lost); its e-mail is queued after the commit, sent by a Celery
task at most once per notification as far as ``emailed_at`` can tell (a run that finds it set
sends nothing), retried with back-off while the mail server refuses, and swept up again by
``notifications_email_outbox_task`` if queueing failed."""
from __future__ import annotations

import logging
from datetime import timedelta
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from performance.returns.selectors import usable_email

from .models import Notification
from .selectors import wants_email

logger = logging.getLogger(__name__)

# The sweep re-queues e-mails not sent this long after their notification (longer than the
# task's retries take) and no older than the window (a day: older news is not e-mailed).
SWEEP_AFTER = timedelta(minutes=30)
SWEEP_WINDOW = timedelta(days=1)


def absolute(path: str) -> str:
    return f"{settings.PORTAL_BASE_URL}{path}"


def email_text(notification: Notification) -> str:
    """The plain-text body of a notification's e-mail, with absolute links."""
    parts = [notification.body or notification.title]
    if notification.link:
        parts.append(f"See it in the portal: {absolute(notification.link)}")
    parts.append(f"Choose what you are e-mailed: {absolute(reverse('notifications:preferences'))}")
    parts.append("Kent Forum performance team")
    return "\n\n".join(parts)


def notification_email(notification_id: int) -> str:
    """E-mail one notification to its reader, if they still want its kind by e-mail (read at send
    time) and have a usable address, unless it was e-mailed already. Says what happened: "sent",
    "already sent", "not wanted", "no address" or "gone". A refusal by the mail server raises, for
    the task to retry."""
    notification = Notification.objects.select_related("user__person").filter(pk=notification_id).first()
    if notification is None:
        return "gone"
    if notification.emailed_at is not None:
        return "already sent"
    if not notification.user.is_active or not wants_email(notification.user, notification.kind):
        return "not wanted"
    address = usable_email(notification.user)
    if not address:
        return "no address"
    subject = " ".join(f"Kent Forum: {notification.title}".split())  # one line, whatever a title holds
    send_mail(subject, email_text(notification), settings.DEFAULT_FROM_EMAIL, [address])
    Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(emailed_at=timezone.now())
    return "sent"


@shared_task(
    name="notifications.tasks.notification_email_task", acks_late=True,
    autoretry_for=(SMTPException, OSError), retry_backoff=30, retry_backoff_max=600, retry_jitter=True, max_retries=5,
)
def notification_email_task(notification_id: int) -> str:
    """E-mail one notification (``notification_email``): idempotent, as it sends nothing once
    ``emailed_at`` is set; a mail server that refuses (or cannot be reached) is tried again five
    times, after random waits of up to 30 s, 1, 2, 4 and 8 minutes (Celery's back-off with jitter)."""
    return notification_email(notification_id)


def queue_email(notification_ids: list[int]) -> None:
    """After the commit, queue each notification's e-mail. A queue that cannot be reached is
    logged, not raised: the notification is saved, and the sweep sends its e-mail later."""

    def enqueue():
        for pk in notification_ids:
            try:
                notification_email_task.delay(pk)
            except Exception:  # the broker, or an eager run's mail server: the sweep tries again
                logger.exception("The e-mail of notification %s could not be queued; the sweep will retry it.", pk)

    if notification_ids:
        transaction.on_commit(enqueue)


def unsent_email_ids(now=None) -> list[int]:
    """Notifications whose e-mail was not sent, made between a day and half an hour ago: what the
    sweep queues again (the task itself skips the ones not wanted)."""
    now = now or timezone.now()
    return list(
        Notification.objects.filter(
            emailed_at__isnull=True, created_at__gte=now - SWEEP_WINDOW, created_at__lte=now - SWEEP_AFTER,
        ).values_list("pk", flat=True)
    )
