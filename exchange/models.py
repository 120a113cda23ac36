"""The mapping tables of the exchange with DHIS2, kept by the Forum team in the admin: which
DHIS2 data element (and category option combo) carries each figure of an indicator, and which
DHIS2 organisation unit is each area (by its GSS code). SDMX-CSV needs no table: it names
indicators and areas by our own codes."""
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from kentforum.models import TimeStampedModel

# A DHIS2 identifier: 11 characters, a letter then letters and digits.
UID = RegexValidator(r"^[A-Za-z][A-Za-z0-9]{10}$", "A DHIS2 identifier is 11 letters and digits, starting with a letter.")


class Measure(models.TextChoices):
    VALUE = "value", "Value"
    NUMERATOR = "numerator", "Numerator"
    DENOMINATOR = "denominator", "Denominator"


class DataElementMapping(TimeStampedModel):
    """One figure of an indicator as a DHIS2 data element: its value (or, for a rate, its
    numerator or denominator), of the total or of one breakdown category, and the data element
    and category option combo that carry it in DHIS2. A blank combo is DHIS2's default."""

    indicator = models.ForeignKey("performance.Indicator", on_delete=models.CASCADE, related_name="dhis2_mappings")
    measure = models.CharField(max_length=12, choices=Measure.choices, default=Measure.VALUE)
    breakdown = models.ForeignKey(
        "performance.BreakdownCategory", on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        help_text="Empty for the indicator's total; a category for one of its breakdown values.",
    )
    data_element = models.CharField("DHIS2 data element", max_length=11, validators=[UID])
    category_option_combo = models.CharField(
        "DHIS2 category option combo", max_length=11, blank=True, validators=[UID],
        help_text="Empty: DHIS2's default combo (values sent with any combo of this data element are read as this figure "
                  "when no mapping names their combo).",
    )

    class Meta:
        ordering = ["indicator__code", "measure", "breakdown_id"]
        verbose_name = "DHIS2 data element mapping"
        constraints = [
            models.UniqueConstraint(fields=["indicator", "measure"], condition=Q(breakdown__isnull=True),
                                    name="exchange_one_element_per_total_measure"),
            models.UniqueConstraint(fields=["indicator", "measure", "breakdown"], condition=Q(breakdown__isnull=False),
                                    name="exchange_one_element_per_breakdown_measure"),
            models.UniqueConstraint(fields=["data_element", "category_option_combo"], name="exchange_unique_element_combo"),
            models.CheckConstraint(condition=Q(breakdown__isnull=True) | Q(measure="value"),
                                   name="exchange_breakdowns_carry_values"),
        ]

    def __str__(self) -> str:
        part = f" {self.breakdown}" if self.breakdown_id else ""
        return f"{self.indicator.code}{part} {self.measure} → {self.data_element}"


class OrgUnitMapping(TimeStampedModel):
    """An area (by its GSS code) as a DHIS2 organisation unit."""

    locality = models.OneToOneField("localities.Locality", on_delete=models.CASCADE, related_name="dhis2_mapping")
    org_unit = models.CharField("DHIS2 organisation unit", max_length=11, unique=True, validators=[UID])

    class Meta:
        ordering = ["locality__gss_code"]
        verbose_name = "DHIS2 organisation unit mapping"

    def __str__(self) -> str:
        return f"{self.locality.gss_code} → {self.org_unit}"
