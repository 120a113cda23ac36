"""Celery tasks of the partner webhooks: thin wrappers that call the services. ``webhooks.outbox``
queues them after the commit; beat runs the sweep every minute."""
from celery import shared_task
from django.conf import settings

from webhooks import services


@shared_task(name="webhooks.tasks.webhook_deliver_task", acks_late=True)
def webhook_deliver_task(delivery_id: int) -> str:
    """Attempt one delivery if it is due, and queue its retry after the back-off. Idempotent: the
    attempt claims the delivery first, so a redelivered or duplicate message sends nothing
    (partners still de-duplicate by event id: delivery is at least once)."""
    delivery = services.delivery_attempt(delivery_id=delivery_id)
    if delivery is None:
        return "not due"
    if delivery.status == delivery.Status.PENDING and not settings.CELERY_TASK_ALWAYS_EAGER:
        # Eagerly (no worker) a retry would run at once, in the request: the sweep retries instead.
        webhook_deliver_task.apply_async((delivery_id,), eta=delivery.next_attempt_at)
    return delivery.status


@shared_task(name="webhooks.tasks.webhook_deliveries_sweep_task", acks_late=True)
def webhook_deliveries_sweep_task() -> int:
    """Queue every pending delivery that is due (a retry whose message was lost, a worker that
    was down when the event happened). Idempotent: a queued delivery is claimed once."""
    due = services.deliveries_due()
    for delivery_id in due:
        webhook_deliver_task.delay(delivery_id)
    return len(due)
