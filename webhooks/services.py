"""Writes of the partner webhooks: registering and removing an endpoint, writing an event's
deliveries (the outbox), one delivery attempt with its back-off, and a replay. Nothing here
queues a task (``webhooks.outbox`` does, after the commit)."""
from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from webhooks import addresses, sending
from webhooks.models import WebhookDelivery, WebhookEndpoint

# Back-off: an attempt that fails is tried again 30 s, 1, 2, 4, 8, 16 and 32 minutes later (each
# wait twice the last, at most an hour); the eighth failure is final.
BACKOFF_FIRST_SECONDS = 30
BACKOFF_MAX_SECONDS = 60 * 60
MAX_ATTEMPTS = 8
# An attempt holds its delivery this long (a worker that dies mid-send leaves it to the sweep).
LEASE_SECONDS = 60
# A retry message may arrive a little before its time.
EARLY_SECONDS = 2
SWEEP_LIMIT = 500
MAX_ENDPOINTS_PER_PARTNER = 10


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt."""
    return timedelta(seconds=min(BACKOFF_FIRST_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def endpoint_create(*, partner, url: str, events: list[str], description: str = "", created_by_key=None,
                    active: bool = True) -> WebhookEndpoint:
    """Register a partner's endpoint with a new secret (``secrets.token_urlsafe(32)``), returned
    on the instance this once. Refuses (ValidationError) a URL that is not https, or whose host
    is or resolves to a non-public address."""
    endpoint = WebhookEndpoint(
        partner=partner, url=url, events=list(events), description=description, created_by_key=created_by_key,
        active=active, secret=secrets.token_urlsafe(32),
    )
    endpoint.full_clean()
    if WebhookEndpoint.objects.filter(partner=partner).count() >= MAX_ENDPOINTS_PER_PARTNER:
        raise ValidationError(f"A partner may register at most {MAX_ENDPOINTS_PER_PARTNER} endpoints; remove one first.")
    addresses.check_resolves_public(url)
    endpoint.save()
    return endpoint


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Remove an endpoint and its delivery log."""
    endpoint.delete()


def subscribed_endpoint_ids(event: str) -> list[int]:
    """The active endpoints that receive ``event``: one query (the lists are short)."""
    return [pk for pk, events in WebhookEndpoint.objects.filter(active=True).values_list("pk", "events")
            if event in (events or [])]


def outbox_write(*, event: str, data: dict, endpoint_ids: list[int], at: datetime | None = None) -> list[int]:
    """Write one pending delivery of a new event (a fresh event id) to each endpoint, in the
    caller's transaction; returns their ids."""
    at = at or timezone.now()
    event_id = uuid.uuid4()
    payload = {"id": str(event_id), "event": event, "occurred_at": at.isoformat(), "data": data}
    rows = WebhookDelivery.objects.bulk_create([
        WebhookDelivery(endpoint_id=pk, event=event, event_id=event_id, payload=payload, next_attempt_at=at)
        for pk in endpoint_ids
    ])
    if all(row.pk for row in rows):
        return [row.pk for row in rows]
    return list(WebhookDelivery.objects.filter(event_id=event_id).values_list("pk", flat=True))


def delivery_attempt(*, delivery_id: int, now: datetime | None = None) -> WebhookDelivery | None:
    """Send a pending delivery that is due, once, and record the answer: delivered on a 2xx;
    otherwise tried again after the back-off, and failed after ``MAX_ATTEMPTS``. Returns the
    delivery, or None if it was not due (delivered, failed, held by another attempt, or
    waiting): so a task run twice sends once."""
    now = now or timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now + timedelta(seconds=EARLY_SECONDS),
    ).update(next_attempt_at=now + timedelta(seconds=LEASE_SECONDS), last_attempt_at=now)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if endpoint.active:
        body = sending.body_bytes(delivery.payload)
        headers = sending.signed_headers(
            secret=endpoint.secret, event=delivery.event, delivery_id=str(delivery.uuid), body=body,
        )
        answer = sending.post(endpoint.url, headers=headers, body=body)
    else:
        answer = sending.Answer(None, "the endpoint is inactive")
    delivery.attempts += 1
    delivery.last_status_code = answer.status
    delivery.last_error = answer.error[:300]
    if answer.ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = WebhookDelivery.Status.DELIVERED, now, None
    elif delivery.attempts >= MAX_ATTEMPTS or not endpoint.active:
        delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)
    delivery.save(update_fields=[
        "attempts", "last_status_code", "last_error", "status", "delivered_at", "next_attempt_at",
    ])
    return delivery


def deliveries_due(*, now: datetime | None = None, limit: int = SWEEP_LIMIT) -> list[int]:
    """The pending deliveries whose next attempt is due, oldest first."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit]
    )


@transaction.atomic
def delivery_replay(*, delivery: WebhookDelivery, now: datetime | None = None) -> WebhookDelivery:
    """Send a delivery again (delivered, failed or pending): the same payload and event id,
    from its first attempt and with a full set of retries."""
    now = now or timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.PENDING, attempts=0, next_attempt_at=now, last_error="",
        replays=F("replays") + 1,
    )
    delivery.refresh_from_db()
    return delivery
