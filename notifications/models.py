"""What the portal tells people: each notification (in the portal always, by e-mail as the
person prefers), each person's e-mail preferences per kind, and the indicators they follow."""
from __future__ import annotations

from django.conf import settings
from django.db import models


class Kind(models.TextChoices):
    """What a notification is about; each kind is e-mailed unless its reader turned it off."""

    RETURN_SENT_BACK = "return_sent_back", "A return of my organisation is sent back"
    RETURN_APPROVED = "return_approved", "A return of my organisation is approved"
    APPROVALS_DIGEST = "approvals_digest", "Returns await my approval (one message a day)"
    REPORT_PUBLISHED = "report_published", "A report of a board I sit on is published"
    INDICATOR_ALERT = "indicator_alert", "An indicator I follow turns red or worsens"
    RETURN_COMMENT = "return_comment", "Someone comments on a return I make, decided or discussed"


class Notification(models.Model):
    """One thing the portal told one person: a title, a few lines, and the page it is about.
    ``dedupe_key`` names the event it reports, so one event notifies a person once however often
    it is seen; ``emailed_at`` is when its e-mail went (empty: not sent, or not wanted)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=250)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True, help_text="The portal page it is about (a path).")
    dedupe_key = models.CharField(max_length=120, help_text="The event it reports: one notification per person and event.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "dedupe_key"], name="one_notification_per_user_and_event"),
        ]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return f"{self.title} (to {self.user})"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


class Preference(models.Model):
    """Whether a person is e-mailed notifications of one kind. No row: e-mailed (the default);
    the in-portal list always has every notification."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    email = models.BooleanField(default=True)

    class Meta:
        ordering = ["user", "kind"]
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="one_preference_per_user_and_kind")]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_kind_display()} {'by e-mail' if self.email else 'in the portal only'}"


class IndicatorSubscription(models.Model):
    """A person following an indicator: told when its latest complete Kent figure turns red or
    worsens. ``last_*`` is the figure last looked at (when subscribing, then at each check), so
    only news is told."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="indicator_subscriptions")
    indicator = models.ForeignKey("performance.Indicator", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_period = models.ForeignKey(
        "performance.ReportingPeriod", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
    )
    last_status = models.CharField(max_length=15, blank=True)
    last_direction = models.CharField(max_length=15, blank=True)

    class Meta:
        ordering = ["indicator__code"]
        constraints = [models.UniqueConstraint(fields=["user", "indicator"], name="one_subscription_per_user_and_indicator")]

    def __str__(self) -> str:
        return f"{self.user} follows {self.indicator.code}"
