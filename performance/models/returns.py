"""What is returned: indicator and milestone returns with their workflow and data-quality
flags, the audit trail of every step, and CSV import jobs. The workflow's states, their groups
and who may see which returns are in ``scope.py`` (the returns' manager, ``restrict``)."""
from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from kentforum.models import TimeStampedModel
from kentforum.roles import Role

from .catalogue import BreakdownCategory, Indicator, Milestone, ReportingPeriod
from .scope import DECIDABLE_STATES, DONE_STATES, EDITABLE_STATES, ReturnQuerySet, WorkflowState

__all__ = [
    "DECIDABLE_STATES", "DONE_STATES", "EDITABLE_STATES", "DataQuality", "IndicatorReturn", "MilestoneReturn",
    "ReturnBase", "ReturnComment", "ReturnEvent", "ReturnImport", "WorkflowState",
]


class ReturnBase(TimeStampedModel):
    """What indicator and milestone returns share: who returns, the workflow state and the
    version number used for optimistic locking (a save names the version it read)."""

    organisation = models.ForeignKey("partnerships.Organisation", on_delete=models.PROTECT, related_name="+")
    period = models.ForeignKey(ReportingPeriod, on_delete=models.PROTECT, related_name="+")
    commentary = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=WorkflowState.choices, default=WorkflowState.DRAFT, db_index=True)
    return_reason = models.TextField(blank=True, help_text="Why the approver returned it.")
    version = models.PositiveIntegerField(default=1)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        abstract = True


class DataQuality(models.TextChoices):
    """How final a returned figure is, as its source says."""

    FINAL = "final", "Final"
    PROVISIONAL = "provisional", "Provisional"
    ESTIMATED = "estimated", "Estimated"
    REVISED = "revised", "Revised"


class IndicatorReturn(ReturnBase):
    """A value returned for an indicator, an area and a period, for the total or one breakdown
    category: a value, or for a rate its numerator and denominator; how final it is (provisional,
    estimated, revised, with the source's release date and a note); and for a survey estimate
    its published confidence interval or unweighted sample base."""

    # indexed by (indicator, id) and (locality, id) below, which serve the foreign keys as well
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="returns", db_index=False)
    locality = models.ForeignKey(
        "localities.Locality", on_delete=models.PROTECT, related_name="indicator_returns", db_index=False,
    )
    breakdown = models.ForeignKey(
        BreakdownCategory, on_delete=models.PROTECT, null=True, blank=True, related_name="returns",
        help_text="Empty for the total.",
    )
    value = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    numerator = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    denominator = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    confirmed_warnings = models.JSONField(
        default=list, blank=True, help_text="Warnings the officer confirmed, with a comment, when submitting."
    )
    # Database defaults too, so that rows written outside the ORM (COPY, set-based SQL) get them.
    quality = models.CharField(
        "data quality", max_length=12, choices=DataQuality.choices, default=DataQuality.FINAL, db_default=DataQuality.FINAL,
    )
    source_released = models.DateField(null=True, blank=True, help_text="When the source published (or revised) this figure.")
    quality_note = models.CharField(
        max_length=500, blank=True, default="", db_default="", help_text="What is provisional, estimated or revised, and why.",
    )
    ci_lower = models.DecimalField(
        "published lower 95% limit", max_digits=20, decimal_places=4, null=True, blank=True,
        help_text="Survey estimates: the lower limit of the published 95% confidence interval.",
    )
    ci_upper = models.DecimalField(
        "published upper 95% limit", max_digits=20, decimal_places=4, null=True, blank=True,
        help_text="Survey estimates: the upper limit of the published 95% confidence interval.",
    )
    sample_base = models.PositiveIntegerField(
        "unweighted sample base", null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="Survey estimates without a published interval: the number of people who answered.",
    )

    objects = ReturnQuerySet.as_manager()

    class Meta:
        ordering = ["period__start", "indicator__code", "locality__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "locality", "period"], condition=models.Q(breakdown__isnull=True),
                name="one_total_return_per_indicator_area_period",
            ),
            models.UniqueConstraint(
                fields=["indicator", "locality", "period", "breakdown"], condition=models.Q(breakdown__isnull=False),
                name="one_breakdown_return_per_indicator_area_period",
            ),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="indicator_return_version_positive"),
            models.CheckConstraint(
                condition=models.Q(denominator__isnull=True) | models.Q(denominator__gt=0),
                name="indicator_return_denominator_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(ci_lower__isnull=True, ci_upper__isnull=True)
                | models.Q(ci_lower__isnull=False, ci_upper__isnull=False, ci_upper__gte=models.F("ci_lower")),
                name="published_interval_whole_and_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(sample_base__isnull=True) | models.Q(sample_base__gte=1), name="sample_base_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["period", "state"]),
            models.Index(fields=["organisation", "period"]),
            # The rollup reads approved returns by indicator and period.
            models.Index(fields=["indicator", "period"], condition=models.Q(state="approved"), name="return_approved_slice"),
            # A list filtered by board, ambition, KPQ or plan is paged one indicator or area at a
            # time in id order (catalogue.filter_scope): each an index scan that stops at the page.
            models.Index(fields=["indicator", "id"], name="return_indicator_id_order"),
            models.Index(fields=["locality", "id"], name="return_locality_id_order"),
        ]

    def __str__(self) -> str:
        part = f" [{self.breakdown.label}]" if self.breakdown_id else ""
        return f"{self.indicator.code} {self.locality} {self.period}{part}"


class MilestoneReturn(ReturnBase):
    """A milestone's progress in a period: status, percent complete, revised date, commentary."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        ON_TRACK = "on_track", "On track"
        AT_RISK = "at_risk", "At risk"
        OFF_TRACK = "off_track", "Off track"
        COMPLETE = "complete", "Complete"

    milestone = models.ForeignKey(Milestone, on_delete=models.PROTECT, related_name="returns")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NOT_STARTED)
    percent_complete = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    revised_date = models.DateField(null=True, blank=True)

    objects = ReturnQuerySet.as_manager()

    class Meta:
        ordering = ["period__start", "milestone__due_date"]
        constraints = [
            models.UniqueConstraint(fields=["milestone", "period"], name="one_milestone_return_per_period"),
            models.CheckConstraint(condition=models.Q(percent_complete__lte=100), name="percent_complete_at_most_100"),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="milestone_return_version_positive"),
            models.CheckConstraint(
                condition=~models.Q(status="complete") | models.Q(percent_complete=100),
                name="complete_milestone_is_100_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.milestone} {self.period}"


def belongs_to_one_return(name: str) -> models.CheckConstraint:
    """A record of a return (an event, a comment) names exactly one: an indicator or a milestone return."""
    return models.CheckConstraint(
        condition=models.Q(indicator_return__isnull=False, milestone_return__isnull=True)
        | models.Q(indicator_return__isnull=True, milestone_return__isnull=False),
        name=name,
    )


class ReturnEvent(models.Model):
    """One step in a return's history: who did what, when, from which state to which, and what
    changed (field: [before, after]). Written by the services in the same transaction as the
    change; never edited."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        SAVED = "saved", "Saved as draft"
        SUBMITTED = "submitted", "Submitted"
        APPROVED = "approved", "Approved"
        RETURNED = "returned", "Returned"
        REOPENED = "reopened", "Reopened"
        IMPORTED = "imported", "Imported from CSV"
        COMMENTED = "commented", "Commented"

    indicator_return = models.ForeignKey(
        IndicatorReturn, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    milestone_return = models.ForeignKey(
        MilestoneReturn, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    api_key = models.ForeignKey(
        "partnerships.PartnerAPIKey", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="The partner's API key that made the change, when no person did (keys are revoked, not deleted).",
    )
    at = models.DateTimeField(db_index=True)
    action = models.CharField(max_length=12, choices=Action.choices)
    from_state = models.CharField(max_length=10, choices=WorkflowState.choices, blank=True)
    to_state = models.CharField(max_length=10, choices=WorkflowState.choices)
    version = models.PositiveIntegerField(help_text="The return's version after this step.")
    changes = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True, help_text="A reason or comment given with the step.")

    class Meta:
        ordering = ["at", "id"]
        constraints = [belongs_to_one_return("event_belongs_to_one_return")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} v{self.version} at {self.at:%Y-%m-%d %H:%M}"


class ReturnComment(models.Model):
    """A comment on a return, between its officers, the approvers and the Forum team: part of
    the return's workings, shown on its page to those who see them. Written by
    ``returns.comments.return_comment_add`` (with a ``ReturnEvent`` "commented"); never edited
    or deleted. ``role`` is the part the author commented in (officer, approver, Forum team)."""

    indicator_return = models.ForeignKey(
        IndicatorReturn, on_delete=models.CASCADE, null=True, blank=True, related_name="comments"
    )
    milestone_return = models.ForeignKey(
        MilestoneReturn, on_delete=models.CASCADE, null=True, blank=True, related_name="comments"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=12, choices=Role.choices)
    text = models.TextField()
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [belongs_to_one_return("comment_belongs_to_one_return")]

    def __str__(self) -> str:
        return f"Comment by {self.author} at {self.created_at:%Y-%m-%d %H:%M}"


class ReturnImport(TimeStampedModel):
    """A CSV of returns uploaded by an officer: parsed and checked into a preview, then applied
    all at once or not at all. Kept as a job row so the officer sees what happened."""

    class State(models.TextChoices):
        PREVIEW = "preview", "Awaiting confirmation"
        APPLIED = "applied", "Saved"
        REJECTED = "rejected", "Has errors"
        CANCELLED = "cancelled", "Cancelled"

    organisation = models.ForeignKey("partnerships.Organisation", on_delete=models.CASCADE, related_name="imports")
    period = models.ForeignKey(ReportingPeriod, on_delete=models.CASCADE, related_name="imports")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(max_length=255)
    content = models.TextField(help_text="The uploaded file, decoded; applied only on confirmation.")
    rows = models.JSONField(default=list, help_text="The parsed rows with their errors and warnings.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PREVIEW)
    applied_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_state_display()})"

    @property
    def error_count(self) -> int:
        return sum(1 for row in self.rows if row.get("errors"))

    @property
    def unchanged_count(self) -> int:
        """Rows of returns already submitted or approved, uploaded as they were: left alone."""
        return sum(1 for row in self.rows if row.get("action") == "unchanged")
