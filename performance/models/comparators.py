"""Comparator areas and their figures: England, the South East region and Kent's statistical
neighbours (the CIPFA nearest-neighbour counties, a named group the Forum team keeps in the
admin), identified by ONS GSS codes, and the published figures of each loaded centrally by the
Forum team. A separate table from the returns: a comparator figure is never an
``IndicatorReturn`` and never enters the rollups; the pages only set Kent and its districts
beside it."""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from kentforum.models import TimeStampedModel
from localities.models import gss_code_validator

from .catalogue import Indicator, ReportingPeriod
from .returns import DataQuality

__all__ = ["ComparatorArea", "ComparatorFigure", "ComparatorGroup"]


class ComparatorArea(TimeStampedModel):
    """An area outside Kent that Kent and its districts are compared with: England (a country,
    GSS E92), the South East (a region, E12) or another county council area (E10)."""

    class Kind(models.TextChoices):
        COUNTRY = "country", "Country"
        REGION = "region", "Region"
        COUNTY = "county", "County"

    # The GSS entity code each kind of area has (ONS Register of Geographic Codes).
    GSS_PREFIXES = {Kind.COUNTRY: "E92", Kind.REGION: "E12", Kind.COUNTY: "E10"}

    name = models.CharField(max_length=100, unique=True)
    gss_code = models.CharField("GSS code", max_length=9, unique=True, validators=[gss_code_validator])
    kind = models.CharField(max_length=10, choices=Kind.choices)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        prefix = self.GSS_PREFIXES.get(self.kind)
        if prefix and self.gss_code and not self.gss_code.startswith(prefix):
            raise ValidationError({"gss_code": f"A {self.get_kind_display().lower()}'s GSS code starts {prefix}, "
                                               f"e.g. {prefix}000001; {self.gss_code} does not."})


class ComparatorGroup(TimeStampedModel):
    """A named group of comparator areas set side by side with Kent, such as Kent's CIPFA
    nearest neighbours: the counties most like Kent. Which areas are in it is kept by the Forum
    team in the admin."""

    name = models.CharField(max_length=150, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    areas = models.ManyToManyField(ComparatorArea, related_name="groups", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ComparatorFigure(TimeStampedModel):
    """A comparator area's published figure for an indicator and a period: the value, its 95%
    interval and numerator and denominator where published, the source and the date it was
    released, and how final it is (the returns' own ``DataQuality``); who loaded it and when.
    One figure per indicator, area and period (a later load replaces it)."""

    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="comparator_figures")
    area = models.ForeignKey(ComparatorArea, on_delete=models.PROTECT, related_name="figures")
    period = models.ForeignKey(ReportingPeriod, on_delete=models.PROTECT, related_name="+")
    value = models.DecimalField(max_digits=20, decimal_places=4)
    ci_lower = models.DecimalField("lower 95% limit", max_digits=20, decimal_places=4, null=True, blank=True)
    ci_upper = models.DecimalField("upper 95% limit", max_digits=20, decimal_places=4, null=True, blank=True)
    numerator = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    denominator = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    source = models.CharField(max_length=300)
    source_released = models.DateField(help_text="When the source published (or revised) this figure.")
    quality = models.CharField("data quality", max_length=12, choices=DataQuality.choices, default=DataQuality.FINAL)
    loaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    loaded_at = models.DateTimeField()

    class Meta:
        ordering = ["indicator__code", "area__name", "period__start"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "area", "period"], name="one_comparator_figure_per_indicator_area_period"),
            models.CheckConstraint(
                condition=models.Q(ci_lower__isnull=True, ci_upper__isnull=True)
                | models.Q(ci_lower__isnull=False, ci_upper__isnull=False, ci_upper__gte=models.F("ci_lower")),
                name="comparator_interval_whole_and_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(denominator__isnull=True) | models.Q(denominator__gt=0),
                name="comparator_denominator_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code} {self.area} {self.period}"

    @property
    def flags(self) -> list[str]:
        """The figure's data-quality flag as the rollups carry theirs (none when final)."""
        return [] if self.quality == DataQuality.FINAL else [self.quality]
