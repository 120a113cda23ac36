"""What board members add: their own answers to KPQs, and board reports frozen when published."""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from .catalogue import ReportingPeriod


class KPQJudgement(models.Model):
    """A board member's own answer to a KPQ, with a rationale, beside the derived one. Each
    judgement is a new row, so the history is kept."""

    class Answer(models.TextChoices):
        IMPROVING = "improving", "Improving"
        MIXED = "mixed", "Mixed"
        WORSENING = "worsening", "Worsening"
        NOT_ENOUGH_DATA = "not_enough_data", "Not enough data"

    kpq = models.ForeignKey("ambitions.KPQ", on_delete=models.CASCADE, related_name="judgements")
    period = models.ForeignKey(ReportingPeriod, on_delete=models.PROTECT, related_name="+")
    answer = models.CharField(max_length=16, choices=Answer.choices)
    rationale = models.TextField()
    derived_answer = models.CharField(max_length=16, choices=Answer.choices, help_text="The derived answer at the time.")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.kpq.code}: {self.get_answer_display()} ({self.at:%Y-%m-%d})"


class BoardReport(models.Model):
    """A board's six-monthly progress report to Joint Kent Chiefs and the Forum, fixed 'as at'
    the moment it was published: the figures are copied into ``content`` so that later edits
    do not change a report already sent."""

    board = models.ForeignKey("partnerships.Board", on_delete=models.PROTECT, related_name="reports")
    title = models.CharField(max_length=250)
    period = models.ForeignKey(ReportingPeriod, on_delete=models.PROTECT, related_name="+")
    as_at = models.DateTimeField()
    content = models.JSONField()
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Its route (terms of reference para 10, briefing pack line 1522: "each Ambition Board Chair
    # will present a progress report ... to the Kent Forum, having first reported to Joint Kent
    # Chiefs"): the dates it went to each, recorded by the Forum team in the admin.
    to_joint_kent_chiefs_on = models.DateField(
        "presented to Joint Kent Chiefs on", null=True, blank=True, help_text="First: Joint Kent Chiefs.",
    )
    to_forum_on = models.DateField(
        "presented to the Kent Forum on", null=True, blank=True,
        help_text="Then the Forum: not before Joint Kent Chiefs.",
    )

    class Meta:
        ordering = ["-as_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(to_forum_on__isnull=True)
                | models.Q(to_joint_kent_chiefs_on__isnull=False, to_forum_on__gte=models.F("to_joint_kent_chiefs_on")),
                name="report_to_forum_after_joint_kent_chiefs",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self):
        if self.to_forum_on and not self.to_joint_kent_chiefs_on:
            raise ValidationError({"to_joint_kent_chiefs_on": "A report goes to Joint Kent Chiefs first: give that date too."})
        if self.to_forum_on and self.to_joint_kent_chiefs_on and self.to_forum_on < self.to_joint_kent_chiefs_on:
            raise ValidationError({"to_forum_on": "The Forum sees a report after Joint Kent Chiefs, not before."})

    @property
    def route(self) -> list[tuple[str, object]]:
        """Where the report has been presented, in order, with the dates (empty: not yet)."""
        return [("Joint Kent Chiefs", self.to_joint_kent_chiefs_on), ("the Kent Forum", self.to_forum_on)]
