"""What is summed up from approved returns: a summary row per indicator, area, period and
breakdown, and per milestone and period, with the direction of travel."""
from __future__ import annotations

from django.db import models

from .catalogue import Indicator, Milestone, ReportingPeriod
from .returns import MilestoneReturn


class Direction(models.TextChoices):
    """Direction of travel against an earlier period, judged so that small numbers do not flip
    on noise: rates and counts change only when their 95% confidence intervals do not overlap."""

    IMPROVING = "improving", "Improving"
    WORSENING = "worsening", "Worsening"
    NO_CHANGE = "no_change", "No significant change"
    NOT_COMPARABLE = "not_comparable", "Not comparable"


class IndicatorRollup(models.Model):
    """The summary of approved returns for an indicator, an area (a district, or the KCC area
    aggregated by the indicator's own method), a period and a breakdown ('' for the total):
    the figure, coverage, target and status, and direction of travel. Dashboards read only this.
    Kept current by upsert on its natural key, so running a rollup twice changes nothing; a full
    rebuild on PostgreSQL builds a fresh table and swaps it in (performance/rollups/rebuild.py).

    Six indexes: the primary key, the natural key (which also finds an indicator's rows), a
    period's areas and breakdowns (which also finds a period's rows), a slice's rows, and an
    indicator's and an area's rows in id order (a filtered API list is paged one indicator or
    area at a time: catalogue.filter_scope; the area's also serves the locality pages). The
    indicator and period have no index of their own: the natural key and the period index lead
    with them, and every index is paid for on every write of a rebuild (issue 19).

    No foreign-key constraints in the database: the table is derived, written only by the
    rollup statements from returns that have theirs, and Django deletes an indicator's, an
    area's or a period's rows itself (``on_delete=CASCADE`` is the ORM's). Without them a
    rebuild validates nothing row by row, and its swap drops the old table without locking the
    indicator, locality and period tables that every page reads (dropping a table's foreign key
    takes an exclusive lock on the table it references, which deadlocked with approvals)."""

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="rollups", db_index=False, db_constraint=False,
    )
    locality = models.ForeignKey(
        "localities.Locality", on_delete=models.CASCADE, related_name="rollups", db_index=False, db_constraint=False,
    )
    period = models.ForeignKey(
        ReportingPeriod, on_delete=models.CASCADE, related_name="rollups", db_index=False, db_constraint=False,
    )
    breakdown_key = models.CharField(max_length=90, blank=True, default="", help_text="'' for the total, else dimension:category.")
    breakdown_label = models.CharField(max_length=200, blank=True, default="")
    value = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    numerator = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    denominator = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    ci_lower = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    ci_upper = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    reporting = models.PositiveSmallIntegerField(default=0, help_text="Areas whose approved return is included.")
    expected = models.PositiveSmallIntegerField(default=0, help_text="Areas that should report.")
    missing = models.JSONField(default=list, blank=True, help_text="Names of the areas with no approved return.")
    complete = models.BooleanField(
        default=False, db_default=False, help_text="Enough areas reported for the figure to be judged (rules.is_complete); when "
        "false the figure has no status against target and no direction of travel.",
    )
    flags = models.JSONField(
        default=list, db_default=models.Value([], output_field=models.JSONField()), blank=True,
        help_text="Data-quality flags of the returns in the figure (provisional, estimated, revised), sorted.",
    )
    commentary = models.TextField(
        blank=True, default="", db_default="", help_text="The officer's commentary on the approved return (own figures only).",
    )
    target = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    tolerance_percent = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    status = models.CharField(max_length=10, default="no_target")
    previous_value = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    direction_previous = models.CharField(max_length=15, choices=Direction.choices, default=Direction.NOT_COMPARABLE)
    year_ago_value = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    direction_year = models.CharField(max_length=15, choices=Direction.choices, default=Direction.NOT_COMPARABLE)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["indicator", "period__start", "locality"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "locality", "period", "breakdown_key"], name="one_rollup_per_indicator_area_period_breakdown"
            ),
        ]
        indexes = [
            models.Index(fields=["period", "locality", "breakdown_key"]),
            models.Index(fields=["indicator", "period"], name="rollup_slice"),  # a slice's rows, found at once
            models.Index(fields=["indicator", "id"], name="rollup_indicator_id_order"),
            models.Index(fields=["locality", "id"], name="rollup_locality_id_order"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code} {self.locality} {self.period} {self.breakdown_key or 'total'}"

    @property
    def coverage_display(self) -> str:
        noun = "district" if self.expected != 1 or self.locality.kind == "district" else "area"
        return f"{self.reporting}/{self.expected} {noun}{'s' if self.expected != 1 else ''}"


class MilestoneRollup(models.Model):
    """A milestone's position at the end of a period, from its latest approved return up to then:
    status, percent complete, whether it is overdue (past its due date and not complete) or has
    slipped (a revised date after the due date). Plans and boards count these rows."""

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="rollups")
    period = models.ForeignKey(ReportingPeriod, on_delete=models.CASCADE, related_name="milestone_rollups")
    status = models.CharField(max_length=12, choices=MilestoneReturn.Status.choices, default=MilestoneReturn.Status.NOT_STARTED)
    percent_complete = models.PositiveSmallIntegerField(default=0)
    reported_period = models.ForeignKey(
        ReportingPeriod, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="The period of the approved return this row is taken from; empty if none yet.",
    )
    revised_date = models.DateField(null=True, blank=True)
    overdue = models.BooleanField(default=False)
    slipped = models.BooleanField(default=False)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["period__start", "milestone__due_date"]
        constraints = [models.UniqueConstraint(fields=["milestone", "period"], name="one_milestone_rollup_per_period")]

    def __str__(self) -> str:
        return f"{self.milestone} at {self.period}"
