"""The outbox of the partner webhooks: an event's deliveries are written in the transaction that
made the change, and queued only once it commits (so a delivery is never lost when the worker
or broker is down, and never sent for a change that was rolled back). The doors (the model
receivers in ``webhooks.events``, the API and the admin's replay) come through here."""
from __future__ import annotations

from functools import partial

from django.db import transaction

from webhooks import services
from webhooks.models import WebhookDelivery
from webhooks.tasks import webhook_deliver_task


def queue_on_commit(delivery_ids: list[int]) -> None:
    """Queue the deliveries' first attempt after the commit; a broker that is down does not undo
    the change (``robust``): beat's sweep sends them later."""
    if delivery_ids:
        transaction.on_commit(partial(_queue, list(delivery_ids)), robust=True)


def _queue(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        webhook_deliver_task.delay(delivery_id)


def event_publish(*, event: str, data_for, at=None) -> list[int]:
    """Write a delivery of ``event`` for every active endpoint subscribed to it, and queue them
    for after the commit. ``data_for()`` builds the payload's data, only when someone listens."""
    endpoint_ids = services.subscribed_endpoint_ids(event)
    if not endpoint_ids:
        return []
    ids = services.outbox_write(event=event, data=data_for(), endpoint_ids=endpoint_ids, at=at)
    queue_on_commit(ids)
    return ids


@transaction.atomic
def delivery_replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again (same payload and event id), queued after the commit."""
    delivery = services.delivery_replay(delivery=delivery)
    queue_on_commit([delivery.pk])
    return delivery
