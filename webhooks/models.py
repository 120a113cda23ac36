"""Partner webhooks: the endpoints a partner registers, and each delivery of an event to one of
them (an outbox row, written in the transaction of the change it announces)."""
from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db import models

from webhooks import addresses


class Event(models.TextChoices):
    """What a partner may subscribe to: only what it could read through the API anyway."""

    RETURN_APPROVED = "return.approved", "A return was approved (its figures are published)"
    PERIOD_LOCKED = "period.locked", "A reporting period was locked"
    REPORT_PUBLISHED = "report.published", "A board report was published"


def validate_events(value) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError("Choose at least one event.")
    unknown = [v for v in value if v not in Event.values]
    if unknown:
        raise ValidationError(f"Unknown events: {', '.join(map(str, unknown))}. Choose from {', '.join(Event.values)}.")
    if len(set(value)) != len(value):
        raise ValidationError("Name each event once.")


def validate_endpoint_url(value: str) -> None:
    addresses.check_url(value)


class WebhookEndpoint(models.Model):
    """An HTTPS address of a partner's system that is told, by a signed POST, when a return is
    approved, a period locked or a board report published. Its secret signs every delivery; it
    is shown once, when the endpoint is created."""

    partner = models.ForeignKey(
        "partnerships.Organisation", on_delete=models.CASCADE, related_name="webhook_endpoints",
        help_text="The partner that owns the endpoint (its API keys see and manage it).",
    )
    created_by_key = models.ForeignKey(
        "partnerships.PartnerAPIKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="The partner's API key that registered it, if registered through the API.",
    )
    url = models.CharField(
        "URL", max_length=addresses.MAX_URL_LENGTH, validators=[validate_endpoint_url],
        help_text="https:// only; the host must resolve to public addresses.",
    )
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, validators=[validate_events], help_text="The events it receives.")
    secret = models.CharField(max_length=100, editable=False, help_text="Signs each delivery (HMAC-SHA256).")
    active = models.BooleanField(default=True, help_text="Inactive endpoints receive nothing new.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "webhook endpoint"

    def __str__(self) -> str:
        return f"{self.partner}: {self.url}"

    @property
    def masked_secret(self) -> str:
        return f"{self.secret[:4]}…" if self.secret else ""


class WebhookDelivery(models.Model):
    """One event for one endpoint: its payload, kept as sent, and how its delivery went (status,
    attempts, the next attempt, the last answer). The same event is never queued twice for an
    endpoint; a replay sends the same payload and event id again."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    uuid = models.UUIDField("delivery id", default=uuid.uuid4, unique=True, editable=False)
    event = models.CharField(max_length=30, choices=Event.choices)
    event_id = models.UUIDField(help_text="The event's id: the same in every endpoint's delivery, and in a replay.")
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Attempts since it was queued or last replayed.")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    replays = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="one_delivery_per_endpoint_event"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due")]

    def __str__(self) -> str:
        return f"{self.event} {self.event_id} to {self.endpoint.url}"
