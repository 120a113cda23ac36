"""The Vision for Kent 2011-2021: the three Countywide Ambitions, their top priorities and Key
Performance Questions, the delivery plans that serve them, and each Ambition Board's annual action plan
and forward plan."""
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from kentforum.models import TimeStampedModel


class Ambition(TimeStampedModel):
    """One of the three Countywide Ambitions: to grow the economy, to tackle disadvantage,
    to put citizens in control."""

    number = models.PositiveSmallIntegerField(unique=True, validators=[MinValueValidator(1), MaxValueValidator(3)])
    title = models.CharField(max_length=100, unique=True, help_text="e.g. 'To grow the economy'.")
    short_name = models.CharField(max_length=40, help_text="e.g. 'Economy'.")
    slug = models.SlugField(max_length=100, unique=True)
    statement = models.TextField(help_text="The one-sentence ambition, e.g. 'For Kent to be ‘open for business’…'.")
    vision = models.TextField(help_text="The ambition's vision text.")

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"Ambition {self.number}: {self.title}"


class KPQ(TimeStampedModel):
    """A Key Performance Question (Annex 1 of the Vision for Kent), five per ambition, answered
    by the evidence of its linked indicators, milestones and studies."""

    ambition = models.ForeignKey(Ambition, on_delete=models.PROTECT, related_name="kpqs")
    number = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    text = models.CharField(max_length=300)

    class Meta:
        ordering = ["ambition__number", "number"]
        verbose_name = "key performance question"
        constraints = [
            models.UniqueConstraint(fields=["ambition", "number"], name="unique_kpq_number_per_ambition"),
            models.CheckConstraint(condition=models.Q(number__gte=1, number__lte=5), name="kpq_number_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.text}"

    @property
    def code(self) -> str:
        return f"A{self.ambition.number}-KPQ{self.number}"


class TopPriority(TimeStampedModel):
    """One of "our top priorities" under an ambition (chapter 4 of the Vision for Kent), in
    published order: the starting point for the priority areas of each Ambition Board's annual
    action plan (briefing pack 2.2 (iii))."""

    ambition = models.ForeignKey(Ambition, on_delete=models.PROTECT, related_name="top_priorities")
    number = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1)], help_text="Its place in the ambition's published list."
    )
    text = models.TextField(help_text="As published, e.g. 'Support independent living at home wherever possible'.")
    detail = models.TextField(blank=True, help_text="Published sub-points, one a line.")
    kpqs = models.ManyToManyField(
        KPQ, blank=True, related_name="top_priorities",
        help_text="Only where a source document links the priority to the question.",
    )

    class Meta:
        ordering = ["ambition__number", "number"]
        verbose_name_plural = "top priorities"
        constraints = [
            models.UniqueConstraint(fields=["ambition", "number"], name="unique_top_priority_number_per_ambition"),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="top_priority_number_from_1"),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.text}"

    @property
    def code(self) -> str:
        return f"A{self.ambition.number}-TP{self.number}"

    @property
    def detail_lines(self) -> list[str]:
        return [line for line in self.detail.splitlines() if line.strip()]

    def clean(self) -> None:
        if self.ambition_id and self.pk and self.kpqs.exclude(ambition_id=self.ambition_id).exists():
            raise ValidationError({"kpqs": "A top priority's KPQs belong to its own ambition."})


class DeliveryPlan(TimeStampedModel):
    """A county-level delivery plan (Diagram 1 and Annex 3 of the Vision for Kent): who owns it,
    which group it is in, where to read it, and which ambitions it serves (at most one primary)."""

    class Group(models.TextChoices):
        SPANNING_SECTORS = "spanning_sectors", "Delivery plans spanning sectors"
        LOCAL_GOVERNMENT = "local_government", "Local Government partners' delivery plans"
        NON_LOCAL_GOVERNMENT = "non_local_government", "Non-Local Government partners' delivery plans"

    name = models.CharField(max_length=250, unique=True, help_text="As named in Diagram 1.")
    slug = models.SlugField(max_length=250, unique=True)
    title = models.CharField(max_length=300, blank=True, help_text="As listed in Annex 3.")
    group = models.CharField(max_length=25, choices=Group.choices)
    owner_name = models.CharField(max_length=250, blank=True, help_text="The owner as Annex 3 names it.")
    owner = models.ForeignKey(
        "partnerships.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="delivery_plans",
        help_text="The partner organisation that owns the plan, where it is one.",
    )
    link = models.URLField(max_length=500, blank=True)
    link_note = models.CharField(
        max_length=200, blank=True, help_text="Where there is no link: e.g. 'Link to be included in final version'."
    )
    in_development = models.BooleanField(default=False)
    source_note = models.CharField(max_length=300, blank=True, help_text="Where a fact was read, if not Diagram 1.")
    order = models.PositiveSmallIntegerField(default=0)
    ambitions = models.ManyToManyField(Ambition, through="DeliveryPlanAmbition", related_name="delivery_plans")

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def primary_ambition(self) -> Ambition | None:
        link = next((a for a in self.ambition_links.all() if a.is_primary), None)
        return link.ambition if link else None

    @property
    def status_display(self) -> str:
        if self.link:
            return "In development (draft published)" if self.in_development else "Published"
        return self.link_note or ("In development" if self.in_development else "No link")


class DeliveryPlanAmbition(models.Model):
    """That a delivery plan contributes to an ambition, and whether it is the plan's primary one."""

    plan = models.ForeignKey(DeliveryPlan, on_delete=models.CASCADE, related_name="ambition_links")
    ambition = models.ForeignKey(Ambition, on_delete=models.PROTECT, related_name="plan_links")
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["plan", "ambition__number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "ambition"], name="unique_plan_ambition"),
            models.UniqueConstraint(fields=["plan"], condition=models.Q(is_primary=True), name="at_most_one_primary_ambition"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} → {self.ambition}{' (primary)' if self.is_primary else ''}"


class ActionPlan(TimeStampedModel):
    """An Ambition Board's annual action plan (terms of reference, para 8): the 5-6 priority
    areas where the board can make a difference, submitted to the Kent Forum each year."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        AGREED = "agreed", "Agreed by the Kent Forum"

    board = models.ForeignKey(
        "partnerships.Board", on_delete=models.CASCADE, related_name="action_plans", limit_choices_to={"kind": "ambition"}
    )
    year = models.CharField(max_length=7, help_text="Financial year, e.g. 2011/12.")
    title = models.CharField(max_length=250)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    agreed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["board", "-year"]
        constraints = [models.UniqueConstraint(fields=["board", "year"], name="one_action_plan_per_board_year")]

    MIN_PRIORITY_AREAS = 5
    MAX_PRIORITY_AREAS = 6

    def __str__(self) -> str:
        return f"{self.board} action plan {self.year}"

    def clean(self) -> None:
        if self.board_id and self.board.kind != "ambition":
            raise ValidationError({"board": "Action plans belong to Ambition Boards."})
        if self.status == self.Status.AGREED and self.pk:
            count = self.priority_areas.count()
            if not self.MIN_PRIORITY_AREAS <= count <= self.MAX_PRIORITY_AREAS:
                raise ValidationError(f"An agreed action plan has 5 or 6 priority areas, not {count}.")


class PriorityArea(TimeStampedModel):
    """One of the 5-6 priority areas of an Ambition Board's action plan; its milestones are
    tracked like those of a delivery plan."""

    action_plan = models.ForeignKey(ActionPlan, on_delete=models.CASCADE, related_name="priority_areas")
    number = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(6)])
    title = models.CharField(max_length=250)
    description = models.TextField(blank=True)
    lead = models.CharField(max_length=200, blank=True)
    kpqs = models.ManyToManyField(KPQ, blank=True, related_name="priority_areas")
    top_priorities = models.ManyToManyField(
        TopPriority, blank=True, related_name="priority_areas",
        help_text="The Vision's top priorities this area starts from (briefing pack 2.2 (iii)).",
    )

    class Meta:
        ordering = ["action_plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["action_plan", "number"], name="unique_priority_area_number"),
            models.CheckConstraint(condition=models.Q(number__gte=1, number__lte=6), name="at_most_six_priority_areas"),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"


class ForwardPlanItem(TimeStampedModel):
    """An agenda item on an Ambition Board's forward plan, about a year ahead (briefing pack 2.2 (ii))."""

    class Kind(models.TextChoices):
        PERFORMANCE = "performance", "Performance report"
        PROGRESS_REPORT = "progress_report", "Six-monthly progress report to Joint Kent Chiefs and the Forum"
        ACTION_PLAN = "action_plan", "Action plan"
        DECISION = "decision", "For decision"
        DISCUSSION = "discussion", "For discussion"
        INFORMATION = "information", "For information"

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        TAKEN = "taken", "Taken"
        DEFERRED = "deferred", "Deferred"

    board = models.ForeignKey("partnerships.Board", on_delete=models.CASCADE, related_name="forward_plan")
    meeting_date = models.DateField()
    title = models.CharField(max_length=250)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.DISCUSSION)
    lead = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)

    class Meta:
        ordering = ["board", "meeting_date", "title"]
        constraints = [
            models.UniqueConstraint(fields=["board", "meeting_date", "title"], name="unique_agenda_item_per_meeting")
        ]

    def __str__(self) -> str:
        return f"{self.meeting_date:%d %b %Y}: {self.title}"
