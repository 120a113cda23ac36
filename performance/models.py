"""What is measured and what is returned: performance indicators with their targets,
milestones, reporting periods on the UK financial year, indicator and milestone returns
with their workflow, and research and evaluation studies."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from kentforum.models import TimeStampedModel


class BreakdownDimension(models.Model):
    """A way an indicator's value can be split: age band, sex, severity…"""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BreakdownCategory(models.Model):
    """One category of a breakdown dimension, e.g. severity 'Killed'."""

    dimension = models.ForeignKey(BreakdownDimension, on_delete=models.CASCADE, related_name="categories")
    code = models.SlugField(max_length=40)
    label = models.CharField(max_length=100)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["dimension", "order", "label"]
        verbose_name_plural = "breakdown categories"
        constraints = [models.UniqueConstraint(fields=["dimension", "code"], name="unique_category_per_dimension")]

    def __str__(self) -> str:
        return f"{self.dimension.name}: {self.label}"


class ReportingPeriod(TimeStampedModel):
    """A period returns are made for. Quarters follow the UK financial year (April to March):
    ``2011/12 Q1`` is April-June 2011, Q4 January-March 2012. Annual periods are financial
    (``2011/12``) or calendar (``2011``) years, as an indicator's definition says."""

    class Kind(models.TextChoices):
        MONTH = "month", "Month"
        QUARTER = "quarter", "Quarter"
        FINANCIAL_YEAR = "financial_year", "Financial year"
        CALENDAR_YEAR = "calendar_year", "Calendar year"

    class Status(models.TextChoices):
        PLANNED = "planned", "Not yet open"
        OPEN = "open", "Open for returns"
        LOCKED = "locked", "Locked"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    label = models.CharField(max_length=20, unique=True)
    start = models.DateField()
    end = models.DateField()
    deadline = models.DateField(null=True, blank=True, help_text="Returns are due by the end of this day.")
    grace_days = models.PositiveSmallIntegerField(default=5, help_text="Days after the deadline before the period locks.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    reopen_reason = models.TextField(blank=True, help_text="Why an admin last reopened the period.")

    class Meta:
        ordering = ["start", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "start"], name="unique_period_kind_start"),
            models.CheckConstraint(condition=models.Q(end__gte=models.F("start")), name="period_ends_after_start"),
            models.CheckConstraint(
                condition=models.Q(deadline__isnull=True) | models.Q(deadline__gte=models.F("end")),
                name="deadline_after_period_end",
            ),
        ]
        indexes = [models.Index(fields=["kind", "status"])]

    def __str__(self) -> str:
        return self.label

    def past_grace(self, today) -> bool:
        """Whether the deadline and grace days have passed on ``today``: the period then locks,
        and its returns not yet submitted are overdue."""
        return self.deadline is not None and today > self.deadline + timedelta(days=self.grace_days)

    def clean(self) -> None:
        if self.start and self.end and self.end < self.start:
            raise ValidationError({"end": "A period cannot end before it starts."})
        if self.deadline and self.end and self.deadline < self.end:
            raise ValidationError({"deadline": "The deadline falls after the end of the period."})


class Indicator(TimeStampedModel):
    """A performance indicator: the longer-term source of performance information (Annex 1).

    It says what is counted (definition, unit), which way is better (polarity), how district
    values combine into the county figure (aggregation: a sum for counts, the ratio of summed
    numerators and denominators for rates and percentages, never an average of percentages),
    how often and how late it arrives, who owns the data, its baseline, and which KPQs and
    ambitions it answers."""

    class Unit(models.TextChoices):
        COUNT = "count", "Count"
        PERCENTAGE = "percentage", "Percentage"
        RATE_PER_1000 = "rate_per_1000", "Rate per 1,000"
        RATE_PER_100000 = "rate_per_100000", "Rate per 100,000"
        CURRENCY_GBP = "currency_gbp", "Pounds (£)"
        RATIO = "ratio", "Ratio"
        SCORE = "score", "Score"
        INDEX = "index", "Index"
        DAYS = "days", "Days"
        YEARS = "years", "Years"
        PERCENTAGE_POINTS = "percentage_points", "Percentage points (a gap; may be negative)"

    class Polarity(models.TextChoices):
        HIGHER = "higher_is_better", "Higher is better"
        LOWER = "lower_is_better", "Lower is better"
        NEUTRAL = "neutral", "Neither (context)"

    class Aggregation(models.TextChoices):
        SUM = "sum", "Sum of district values (counts and money totals only)"
        RATIO = "ratio", "Ratio of summed numerators and denominators"
        NONE = "none", "Not aggregable (medians, indices, scores, survey estimates)"

    # Only counts and money totals add up across districts; a rate, percentage, index, score,
    # median or per-head figure summed over districts means nothing.
    SUMMABLE_UNITS = ("count", "currency_gbp")

    class Frequency(models.TextChoices):
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"
        ANNUAL = "annual", "Annual"

    class YearBasis(models.TextChoices):
        FINANCIAL = "financial", "Financial year (April-March)"
        CALENDAR = "calendar", "Calendar year"

    class ReportingLevel(models.TextChoices):
        DISTRICT = "district", "Each district returns a value"
        COUNTY = "county", "County figure only"
        BOTH = "both", "Districts and county (the county figure is returned in its own right)"

    code = models.CharField(max_length=30, unique=True)
    name = models.CharField(max_length=250)
    definition = models.TextField()
    unit = models.CharField(max_length=20, choices=Unit.choices)
    polarity = models.CharField(max_length=20, choices=Polarity.choices)
    aggregation = models.CharField(max_length=10, choices=Aggregation.choices)
    numerator_label = models.CharField(max_length=250, blank=True)
    denominator_label = models.CharField(max_length=250, blank=True)
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.QUARTERLY)
    year_basis = models.CharField(max_length=10, choices=YearBasis.choices, default=YearBasis.FINANCIAL)
    time_lag_months = models.PositiveSmallIntegerField(default=0, help_text="How long after a period ends its data arrive.")
    reporting_level = models.CharField(max_length=10, choices=ReportingLevel.choices, default=ReportingLevel.DISTRICT)
    min_coverage = models.PositiveSmallIntegerField(
        "minimum coverage", null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="Rates and percentages only: how many districts must have reported before the county figure "
        "is judged against target and over time. Empty: all of them.",
    )
    source = models.CharField(max_length=300, blank=True)
    data_owner = models.ForeignKey(
        "partnerships.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="owned_indicators"
    )
    ni_reference = models.CharField("National Indicator reference", max_length=20, blank=True, help_text="e.g. NI 117.")
    decimal_places = models.PositiveSmallIntegerField(default=1, validators=[MaxValueValidator(4)])
    min_value = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    max_value = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    baseline_value = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    baseline_period = models.ForeignKey(
        ReportingPeriod, on_delete=models.PROTECT, null=True, blank=True, related_name="baseline_of"
    )
    kpqs = models.ManyToManyField("ambitions.KPQ", blank=True, related_name="indicators")
    ambitions = models.ManyToManyField("ambitions.Ambition", blank=True, related_name="indicators")
    breakdown_dimensions = models.ManyToManyField(BreakdownDimension, blank=True, related_name="indicators")
    is_survey = models.BooleanField(
        "survey estimate", default=False, db_default=False,
        help_text="A sample survey's estimate (Annual Population Survey, Place Survey, Active People): its returns carry "
        "the published confidence interval or the unweighted sample base, and its confidence limits and direction of "
        "travel come from those alone.",
    )
    is_active = models.BooleanField(default=True)
    is_demo = models.BooleanField(default=False, help_text="Part of the illustrative demo set, not official data.")

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(aggregation="ratio") | (~models.Q(numerator_label="") & ~models.Q(denominator_label="")),
                name="ratio_indicator_names_numerator_and_denominator",
            ),
            models.CheckConstraint(
                condition=models.Q(min_value__isnull=True) | models.Q(max_value__isnull=True) | models.Q(max_value__gte=models.F("min_value")),
                name="indicator_range_ordered",
            ),
            models.CheckConstraint(
                condition=~models.Q(aggregation="sum") | models.Q(unit__in=["count", "currency_gbp"]),
                name="only_counts_and_money_are_summed",
            ),
            models.CheckConstraint(
                condition=models.Q(min_coverage__isnull=True) | models.Q(aggregation="ratio"),
                name="min_coverage_only_for_ratios",
            ),
            models.CheckConstraint(
                condition=~models.Q(reporting_level="both") | models.Q(aggregation="none"),
                name="county_returned_in_own_right_is_not_aggregated",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    MULTIPLIERS = {
        Unit.PERCENTAGE: Decimal(100),
        Unit.RATE_PER_1000: Decimal(1000),
        Unit.RATE_PER_100000: Decimal(100000),
    }

    @property
    def multiplier(self) -> Decimal:
        """What numerator/denominator is multiplied by to give the value (100 for a percentage)."""
        return self.MULTIPLIERS.get(self.unit, Decimal(1))

    @property
    def is_rate(self) -> bool:
        return self.aggregation == self.Aggregation.RATIO

    def clean(self) -> None:
        if self.aggregation == self.Aggregation.RATIO and not (self.numerator_label and self.denominator_label):
            raise ValidationError("A rate or percentage names its numerator and denominator.")
        if self.aggregation == self.Aggregation.SUM and self.unit not in self.SUMMABLE_UNITS:
            raise ValidationError({"aggregation": (
                f"Only counts and money totals are added up across districts; a {self.get_unit_display().lower()} "
                "is combined as the ratio of summed numerators and denominators, or not at all."
            )})
        if self.min_coverage is not None and self.aggregation != self.Aggregation.RATIO:
            raise ValidationError({"min_coverage": (
                "Only a rate or percentage may be judged from part of the county; a sum needs every district."
            )})
        if self.reporting_level == self.ReportingLevel.BOTH and self.aggregation != self.Aggregation.NONE:
            raise ValidationError({"aggregation": (
                "A county figure returned in its own right is not also computed from the districts: "
                "choose \"Not aggregable\"."
            )})
        if self.min_value is not None and self.max_value is not None and self.max_value < self.min_value:
            raise ValidationError({"max_value": "The maximum is below the minimum."})


class IndicatorTarget(TimeStampedModel):
    """An indicator's target for a period, with a tolerance: within the tolerance of the target
    is amber, beyond it red. With no locality it is the general target, which applies to the
    county and to every district without one of its own, except for counts (summed
    indicators), where it is the county total's target and districts need their own."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="targets")
    period = models.ForeignKey(ReportingPeriod, on_delete=models.PROTECT, related_name="targets")
    locality = models.ForeignKey(
        "localities.Locality", on_delete=models.CASCADE, null=True, blank=True, related_name="targets",
        help_text="Empty: the target for the county and every district.",
    )
    target = models.DecimalField(max_digits=20, decimal_places=4)
    tolerance_percent = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("5.00"),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )

    class Meta:
        ordering = ["indicator", "period__start"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "period"], condition=models.Q(locality__isnull=True), name="one_general_target"
            ),
            models.UniqueConstraint(
                fields=["indicator", "period", "locality"], condition=models.Q(locality__isnull=False),
                name="one_local_target",
            ),
            models.CheckConstraint(
                condition=models.Q(tolerance_percent__gte=0, tolerance_percent__lte=100), name="tolerance_0_to_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code} {self.period}: {self.target}"


class WorkflowState(models.TextChoices):
    """Where a return is in its journey from officer to approver."""

    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    RETURNED = "returned", "Returned"


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

    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="returns")
    locality = models.ForeignKey("localities.Locality", on_delete=models.PROTECT, related_name="indicator_returns")
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
        ]

    def __str__(self) -> str:
        part = f" [{self.breakdown.label}]" if self.breakdown_id else ""
        return f"{self.indicator.code} {self.locality} {self.period}{part}"


class Milestone(TimeStampedModel):
    """A dated step of a delivery plan or of an Ambition Board's priority area: the short-term
    source of performance information (Annex 1)."""

    title = models.CharField(max_length=250)
    description = models.TextField(blank=True)
    delivery_plan = models.ForeignKey(
        "ambitions.DeliveryPlan", on_delete=models.CASCADE, null=True, blank=True, related_name="milestones"
    )
    priority_area = models.ForeignKey(
        "ambitions.PriorityArea", on_delete=models.CASCADE, null=True, blank=True, related_name="milestones"
    )
    owner = models.ForeignKey("partnerships.Organisation", on_delete=models.PROTECT, related_name="milestones")
    lead_officer = models.CharField(max_length=200, blank=True)
    due_date = models.DateField()
    kpqs = models.ManyToManyField("ambitions.KPQ", blank=True, related_name="milestones")
    is_demo = models.BooleanField(default=False)

    class Meta:
        ordering = ["due_date", "title"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(delivery_plan__isnull=False) | models.Q(priority_area__isnull=False),
                name="milestone_belongs_to_plan_or_priority_area",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if not self.delivery_plan_id and not self.priority_area_id:
            raise ValidationError("A milestone belongs to a delivery plan or an action plan's priority area.")


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

    def clean(self) -> None:
        if self.status == self.Status.COMPLETE and self.percent_complete != 100:
            raise ValidationError({"percent_complete": "A complete milestone is 100% complete."})


class Study(TimeStampedModel):
    """A research, intelligence or evaluation study: the long-term source of performance
    information (Annex 1), evidence for the KPQs it speaks to."""

    class Kind(models.TextChoices):
        RESEARCH = "research", "Research"
        EVALUATION = "evaluation", "Evaluation"
        SURVEY = "survey", "Survey"
        INTELLIGENCE = "intelligence", "Intelligence"

    title = models.CharField(max_length=300, unique=True)
    kind = models.CharField(max_length=15, choices=Kind.choices)
    commissioned_by = models.ForeignKey(
        "partnerships.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="studies"
    )
    published_on = models.DateField(null=True, blank=True)
    url = models.URLField(max_length=500, blank=True)
    summary = models.TextField(blank=True)
    findings = models.TextField(blank=True)
    ambitions = models.ManyToManyField("ambitions.Ambition", blank=True, related_name="studies")
    kpqs = models.ManyToManyField("ambitions.KPQ", blank=True, related_name="studies")
    is_demo = models.BooleanField(default=False)

    class Meta:
        ordering = ["-published_on", "title"]
        verbose_name_plural = "studies"

    def __str__(self) -> str:
        return self.title


class IndicatorAssignment(TimeStampedModel):
    """That an organisation returns an indicator for an area: a district council for its own
    district, Kent Police for every district's crime figures, KCC for the county figure.
    An officer's list of returns is their organisation's assignments."""

    organisation = models.ForeignKey("partnerships.Organisation", on_delete=models.CASCADE, related_name="assignments")
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="assignments")
    locality = models.ForeignKey("localities.Locality", on_delete=models.CASCADE, related_name="assignments")

    class Meta:
        ordering = ["organisation", "indicator__code", "locality__name"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "locality"], name="one_organisation_returns_each_indicator_area"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} returns {self.indicator.code} for {self.locality}"


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
        constraints = [
            models.CheckConstraint(
                condition=models.Q(indicator_return__isnull=False, milestone_return__isnull=True)
                | models.Q(indicator_return__isnull=True, milestone_return__isnull=False),
                name="event_belongs_to_one_return",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} v{self.version} at {self.at:%Y-%m-%d %H:%M}"


class PeriodEvent(models.Model):
    """A change of a reporting period's status: opened, locked (by hand or after the grace time)
    or reopened, with the reason an admin gave for reopening."""

    class Action(models.TextChoices):
        OPENED = "opened", "Opened"
        LOCKED = "locked", "Locked"
        AUTO_LOCKED = "auto_locked", "Locked after the deadline and grace time"
        REOPENED = "reopened", "Reopened"
        DEADLINE = "deadline", "Deadline changed"
        REMINDED = "reminded", "Reminder e-mails sent"
        OVERDUE = "overdue", "Overdue e-mails sent"

    period = models.ForeignKey(ReportingPeriod, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    organisation = models.ForeignKey(
        "partnerships.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="For reminders: the organisation whose officers were e-mailed.",
    )
    at = models.DateTimeField()
    action = models.CharField(max_length=12, choices=Action.choices)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            # each kind of reminder reaches an organisation once per period
            models.UniqueConstraint(
                fields=["period", "organisation", "action"],
                condition=models.Q(organisation__isnull=False, action__in=["reminded", "overdue"]),
                name="one_reminder_per_organisation_period_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.get_action_display()}"


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
    Rebuilt by upsert on its natural key, so running a rollup twice changes nothing."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="rollups")
    locality = models.ForeignKey("localities.Locality", on_delete=models.CASCADE, related_name="rollups")
    period = models.ForeignKey(ReportingPeriod, on_delete=models.CASCADE, related_name="rollups")
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
