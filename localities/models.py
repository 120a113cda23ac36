"""Kent's localities: the twelve districts and the Kent County Council area."""
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from kentforum.models import TimeStampedModel

gss_code_validator = RegexValidator(r"^[EWSN]\d{8}$", "A GSS code is a letter and eight digits, e.g. E07000105.")


class Locality(TimeStampedModel):
    """A place performance is reported for, identified by its ONS GSS code.

    Kind ``district`` is one of Kent's twelve district or borough council areas, each
    with its own Locality Board; kind ``county`` is the Kent County Council area as a whole
    (Medway, a separate unitary authority, is outside it).
    """

    class Kind(models.TextChoices):
        DISTRICT = "district", "District"
        COUNTY = "county", "County"

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    gss_code = models.CharField("GSS code", max_length=9, unique=True, validators=[gss_code_validator])
    kind = models.CharField(max_length=10, choices=Kind.choices)
    current_name = models.CharField(
        max_length=100, blank=True, help_text="Today's name where the area has been renamed since 2011."
    )

    class Meta:
        ordering = ["kind", "name"]
        verbose_name_plural = "localities"
        constraints = [
            models.UniqueConstraint(fields=["kind"], condition=models.Q(kind="county"), name="one_county_area"),
        ]

    def __str__(self) -> str:
        return self.name


class LocalPriority(TimeStampedModel):
    """A Locality Board's own weighted priority, chosen "a la carte" within the Countywide Ambitions.

    A priority with no ambition is a purely local one. Weights (1-10, 10 highest) say how much
    the district cares about each of its 8-10 cross-cutting outcomes; the dashboard shows the
    heaviest first.
    """

    locality = models.ForeignKey(
        Locality, on_delete=models.CASCADE, related_name="priorities", limit_choices_to={"kind": "district"}
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    ambition = models.ForeignKey(
        "ambitions.Ambition", on_delete=models.PROTECT, null=True, blank=True, related_name="local_priorities",
        help_text="Leave empty for a local priority outside the three ambitions.",
    )
    weight = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(10)])
    indicators = models.ManyToManyField("performance.Indicator", blank=True, related_name="local_priorities")

    class Meta:
        ordering = ["locality", "-weight", "title"]
        verbose_name_plural = "local priorities"
        constraints = [
            models.UniqueConstraint(fields=["locality", "title"], name="unique_priority_per_locality"),
            models.CheckConstraint(condition=models.Q(weight__gte=1, weight__lte=10), name="priority_weight_1_to_10"),
        ]

    def __str__(self) -> str:
        return f"{self.locality}: {self.title} (weight {self.weight})"
