"""The catalogue: what is measured and when. Performance indicators with their targets and
breakdowns, milestones, studies, reporting periods on the UK financial year with their
events, and who returns which indicator for which area."""
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


class PeriodEvent(models.Model):
    """A step in a reporting period's history: opened, locked (by hand or after the grace time),
    reopened (with the reason an admin gave), and the reminder and overdue e-mails sent for it
    (with the organisation they reached)."""

    class Action(models.TextChoices):
        OPENED = "opened", "Opened"
        LOCKED = "locked", "Locked"
        AUTO_LOCKED = "auto_locked", "Locked after the deadline and grace time"
        REOPENED = "reopened", "Reopened"
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
