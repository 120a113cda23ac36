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


class SourceTable(TimeStampedModel):
    """A table of figures as a source document published it, e.g. the briefing pack's "Road
    Traffic Injuries - 2009 - KCC Area": its title, document, source and lines, for one area and
    year. Its figures are kept exactly as printed; where a printed total and the sum of its parts
    disagree, both are kept and ``discrepancy_note`` says so (the loader writes it)."""

    code = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=200, help_text="As printed.")
    document = models.CharField(max_length=200)
    source = models.CharField(max_length=300, help_text="The source the document names for the table.")
    area = models.ForeignKey(Locality, on_delete=models.PROTECT, related_name="source_tables")
    year = models.CharField(max_length=9)
    unit = models.CharField(max_length=40)
    row_heading = models.CharField(max_length=60, blank=True)
    first_line = models.PositiveIntegerField(help_text="First line of the table in the source text.")
    last_line = models.PositiveIntegerField()
    discrepancy_note = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.title


class SourceFigure(TimeStampedModel):
    """One figure of a source table as printed: a cell (row x column) or a printed total.

    ``parts_sum`` is set on a printed total only: the sum of the parts it totals, so a total
    that disagrees with its parts is kept as published beside what they add up to. Row and
    column codes are the breakdown categories' codes where the table's rows or columns are one
    (age band, severity). ``baseline_of`` is the indicator the figure is the baseline of, linked
    by the loader when an indicator with the code ``baseline_for`` is loaded."""

    table = models.ForeignKey(SourceTable, on_delete=models.CASCADE, related_name="figures")
    row_label = models.CharField(max_length=200)
    column_label = models.CharField(max_length=60)
    row_code = models.SlugField(max_length=40)
    column_code = models.SlugField(max_length=40)
    value = models.DecimalField(max_digits=14, decimal_places=2)
    is_total = models.BooleanField(default=False)
    parts_sum = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    line = models.PositiveIntegerField(help_text="Line of the figure in the source text.")
    baseline_for = models.CharField(max_length=30, blank=True, help_text="Code of the indicator it is a baseline of.")
    baseline_of = models.ForeignKey(
        "performance.Indicator", on_delete=models.SET_NULL, null=True, blank=True, related_name="source_baselines",
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["table", "order"]
        constraints = [
            models.UniqueConstraint(fields=["table", "row_code", "column_code"], name="one_figure_per_source_cell"),
            models.CheckConstraint(
                condition=models.Q(is_total=True) | models.Q(parts_sum__isnull=True), name="parts_sum_only_on_totals",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.table}: {self.row_label}, {self.column_label} = {self.value}"

    @property
    def discrepancy(self):
        """How much the printed total exceeds the sum of its parts (None where not a total)."""
        return None if self.parts_sum is None else self.value - self.parts_sum
