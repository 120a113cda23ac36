"""What board members add: their own answers to KPQs, and board reports frozen when published."""
from __future__ import annotations

from django.conf import settings
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

    class Meta:
        ordering = ["-as_at"]

    def __str__(self) -> str:
        return self.title
