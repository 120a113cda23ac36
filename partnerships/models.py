"""Who is who in the Kent Forum partnership: partner organisations, people, boards and
their memberships, strategic partnerships and officer groups."""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from kentforum.models import TimeStampedModel


class Organisation(TimeStampedModel):
    """A partner organisation: a council, Kent Police, Kent Fire and Rescue, an NHS body, a
    voluntary-sector umbrella, an agency. Its tier (county, district) matters for the
    chair/vice-chair rule of the Ambition Boards; a district council is tied to its locality."""

    class Sector(models.TextChoices):
        LOCAL_GOVERNMENT = "local_government", "Local government"
        POLICE = "police", "Police"
        FIRE = "fire", "Fire and rescue"
        HEALTH = "health", "Health"
        PROBATION = "probation", "Probation and criminal justice"
        ENVIRONMENT = "environment", "Environment"
        EDUCATION = "education", "Education and skills"
        ECONOMY = "economy", "Economy and business"
        VOLUNTARY = "voluntary", "Voluntary and community sector"
        OTHER_PUBLIC = "other_public", "Other public sector"

    class Tier(models.TextChoices):
        COUNTY = "county", "County"
        DISTRICT = "district", "District"
        UNITARY = "unitary", "Unitary"
        PARISH = "parish", "Parish and town"
        NONE = "none", "Not local government"

    name = models.CharField(max_length=200, unique=True)
    short_name = models.CharField(max_length=60, blank=True)
    slug = models.SlugField(max_length=200, unique=True)
    sector = models.CharField(max_length=20, choices=Sector.choices)
    tier = models.CharField(max_length=10, choices=Tier.choices, default=Tier.NONE)
    locality = models.ForeignKey(
        "localities.Locality", on_delete=models.PROTECT, null=True, blank=True, related_name="organisations",
        help_text="For a council: the area it serves.",
    )
    website = models.URLField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Person(TimeStampedModel):
    """Someone who sits on a board or leads work: a council leader, a cabinet member, a chief
    executive, an officer. Contact details are personal data and are shown only to signed-in staff."""

    name = models.CharField(max_length=200)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="people")
    job_title = models.CharField(max_length=200, blank=True)
    other_spellings = models.CharField(
        max_length=200, blank=True,
        help_text="Other spellings of the name as published, with where, e.g. 'Brian Cope (briefing pack, appendix 4.3)'.",
    )
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="person"
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "people"
        constraints = [models.UniqueConstraint(fields=["name", "organisation"], name="unique_person_per_organisation")]

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation.short_name or self.organisation.name})"


LOCAL_GOVERNMENT_TIERS = ("county", "district")


def chair_tier_errors(*, chair: "Organisation | None", vice_chair: "Organisation | None") -> dict[str, str]:
    """Ambition Board terms of reference, para 12: the Chair and Vice-Chair come from different
    tiers of local government, one county and one district. Returns field errors, empty if fine."""
    errors: dict[str, str] = {}
    for office, organisation in (("Chair", chair), ("Vice-Chair", vice_chair)):
        if organisation is not None and organisation.tier not in LOCAL_GOVERNMENT_TIERS:
            errors["organisation"] = (
                f"An Ambition Board's {office} represents the county or a district council, "
                f"not {organisation.name}."
            )
    if not errors and chair is not None and vice_chair is not None and chair.tier == vice_chair.tier:
        errors["role"] = (
            "The Chair and Vice-Chair of an Ambition Board must come from different tiers "
            f"(one county, one district); both represent the {chair.get_tier_display().lower()} tier."
        )
    return errors


class Board(TimeStampedModel):
    """A body of the Kent Forum structure (Diagram 2 of the Vision for Kent).

    The Kent Forum (the leaders, non-decision making), Joint Kent Chiefs (the chief executives'
    executive group), three Ambition Boards (one per Countywide Ambition, accountable to the Forum)
    and twelve Locality Boards (one per district, advisory to the county and district councils,
    not accountable to the Forum). ``decision_making`` is what the documents say: False for the
    Forum ("Non decision making body"), empty where they are silent."""

    class Kind(models.TextChoices):
        FORUM = "forum", "Kent Forum"
        JOINT_CHIEFS = "joint_chiefs", "Joint Kent Chiefs"
        AMBITION = "ambition", "Ambition Board"
        LOCALITY = "locality", "Locality Board"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    ambition = models.OneToOneField(
        "ambitions.Ambition", on_delete=models.PROTECT, null=True, blank=True, related_name="board"
    )
    locality = models.OneToOneField(
        "localities.Locality", on_delete=models.PROTECT, null=True, blank=True, related_name="board"
    )
    accountable_to = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="accountable_boards"
    )
    advises = models.ManyToManyField(
        Organisation, blank=True, related_name="advisory_boards",
        help_text="The councils the board is advisory to (Locality Boards: the county and its district council).",
    )
    decision_making = models.BooleanField(
        null=True, blank=True, help_text="Whether the documents make it a decision-making body; empty where they are silent.",
    )
    roles = models.TextField(blank=True, help_text="The board's roles, one per line (Diagram 2).")

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(kind="ambition", ambition__isnull=False) | ~models.Q(kind="ambition")),
                name="ambition_board_has_ambition",
            ),
            models.CheckConstraint(
                condition=(models.Q(kind="locality", locality__isnull=False) | ~models.Q(kind="locality")),
                name="locality_board_has_locality",
            ),
            models.CheckConstraint(
                condition=(models.Q(kind="ambition") | models.Q(ambition__isnull=True)),
                name="only_ambition_boards_have_ambition",
            ),
            models.CheckConstraint(
                condition=(models.Q(kind="locality") | models.Q(locality__isnull=True)),
                name="only_locality_boards_have_locality",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def decision_making_display(self) -> str:
        return {True: "Decision-making body", False: "Non-decision-making body"}.get(self.decision_making, "")

    def clean(self) -> None:
        if self.kind == self.Kind.AMBITION and not self.ambition_id:
            raise ValidationError({"ambition": "An Ambition Board serves one of the three ambitions."})
        if self.kind == self.Kind.LOCALITY and not self.locality_id:
            raise ValidationError({"locality": "A Locality Board serves one district."})
        if self.kind != self.Kind.AMBITION and self.ambition_id:
            raise ValidationError({"ambition": "Only an Ambition Board is tied to an ambition."})
        if self.kind != self.Kind.LOCALITY and self.locality_id:
            raise ValidationError({"locality": "Only a Locality Board is tied to a locality."})
        if self.locality_id and self.locality.kind != "district":
            raise ValidationError({"locality": "A Locality Board serves a district, not the county area."})


class BoardMembership(TimeStampedModel):
    """A person's seat on a board: their role (chair, vice-chair, member), the category of seat
    the terms of reference define (e.g. KCC Cabinet Member, District Chief Executive), and the
    organisation they represent, whose tier decides the chair/vice-chair rule."""

    class Role(models.TextChoices):
        CHAIR = "chair", "Chair"
        VICE_CHAIR = "vice_chair", "Vice-Chair"
        MEMBER = "member", "Member"

    class Category(models.TextChoices):
        KCC_LEADER = "kcc_leader", "Leader of Kent County Council"
        KCC_CABINET_MEMBER = "kcc_cabinet_member", "KCC Cabinet Member"
        DISTRICT_LEADER = "district_leader", "District Council Leader"
        FIRE_CHAIRMAN = "fire_chairman", "Chairman of Kent Fire and Rescue"
        KCC_CMT = "kcc_cmt", "KCC Corporate Management Team representative"
        KCC_GROUP_MANAGING_DIRECTOR = "kcc_group_managing_director", "Group Managing Director of Kent County Council"
        DISTRICT_CHIEF_EXECUTIVE = "district_chief_executive", "District Council Chief Executive"
        FIRE_CHIEF_EXECUTIVE = "fire_chief_executive", "Chief Executive of Kent Fire and Rescue"
        CO_OPTED = "co_opted", "Invited member"
        OTHER = "other", "Other"

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="memberships")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="board_seats", help_text="The organisation represented."
    )
    role = models.CharField(max_length=12, choices=Role.choices, default=Role.MEMBER)
    category = models.CharField(max_length=30, choices=Category.choices, default=Category.OTHER)
    is_core = models.BooleanField(default=True, help_text="Core member under the terms of reference.")
    note = models.CharField(max_length=200, blank=True, help_text="e.g. 'primary' or 'support' Cabinet Member.")
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["board", "role", "person__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["board", "person"], condition=models.Q(end_date__isnull=True), name="one_current_seat_per_person"
            ),
            models.UniqueConstraint(
                fields=["board"], condition=models.Q(role="chair", end_date__isnull=True), name="one_current_chair"
            ),
            models.UniqueConstraint(
                fields=["board"], condition=models.Q(role="vice_chair", end_date__isnull=True), name="one_current_vice_chair"
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(start_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="membership_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person.name}: {self.get_role_display()} of {self.board}"

    def clean(self) -> None:
        if self.end_date and self.start_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "A membership cannot end before it starts."})
        if not self.board_id or not self.organisation_id:
            return
        if self.board.kind == Board.Kind.AMBITION and self.role in (self.Role.CHAIR, self.Role.VICE_CHAIR):
            self._check_chair_tiers()

    def _check_chair_tiers(self) -> None:
        other_role = self.Role.VICE_CHAIR if self.role == self.Role.CHAIR else self.Role.CHAIR
        other = (
            BoardMembership.objects.filter(board_id=self.board_id, role=other_role, end_date__isnull=True)
            .exclude(pk=self.pk)
            .select_related("organisation")
            .first()
        )
        other_organisation = other.organisation if other else None
        if self.role == self.Role.CHAIR:
            errors = chair_tier_errors(chair=self.organisation, vice_chair=other_organisation)
        else:
            errors = chair_tier_errors(chair=other_organisation, vice_chair=self.organisation)
        if errors:
            raise ValidationError(errors)


class StrategicPartnership(TimeStampedModel):
    """A strategic partnership aligned to the Ambition Boards (briefing pack, appendix 4.4): one of
    the 15 "required" partnerships has a lead Ambition Board and the boards it supports."""

    name = models.CharField(max_length=250, unique=True)
    slug = models.SlugField(max_length=250, unique=True)
    is_required = models.BooleanField(default=True, help_text="One of the 15 partnerships required by the Ambition Boards.")
    lead_board = models.ForeignKey(
        Board, on_delete=models.PROTECT, related_name="led_partnerships", limit_choices_to={"kind": "ambition"}
    )
    supported_boards = models.ManyToManyField(
        Board, related_name="supporting_partnerships", blank=True, limit_choices_to={"kind": "ambition"}
    )
    description = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.lead_board_id and self.lead_board.kind != Board.Kind.AMBITION:
            raise ValidationError({"lead_board": "A strategic partnership is led by an Ambition Board."})


class ExistingPartnership(TimeStampedModel):
    """An existing strategic partnership in Kent, and where the boards' rationalisation of it
    stands (briefing pack, 2.2 (iv): "Some could be merged, refocused or deleted, while others
    could carry on as they are"). It maps to the required partnership(s) it is merged into or
    retained as; until the Forum team records a decision in the admin it is "to be reviewed".

    The document facts (name, the board the pack aligns it to, the source line) come from
    ``existing_partnerships.yaml``; the decision (status, note, date, mapping) is the Forum
    team's, set by the loader only when it creates the row, so a reload keeps their edits."""

    class Status(models.TextChoices):
        MERGED = "merged", "Merged"
        RETAINED = "retained", "Retained"
        TO_BE_REVIEWED = "to_be_reviewed", "To be reviewed"

    name = models.CharField(max_length=250, unique=True, help_text="As the document prints it.")
    slug = models.SlugField(max_length=250, unique=True)
    required_partnerships = models.ManyToManyField(
        StrategicPartnership, blank=True, related_name="existing_partnerships",
        help_text="The required partnership(s) it is merged into or retained as; empty until decided.",
    )
    aligned_board = models.ForeignKey(
        Board, on_delete=models.PROTECT, null=True, blank=True, related_name="existing_partnerships",
        limit_choices_to={"kind": "ambition"},
        help_text="The Ambition Board the document lists it for (empty where it is silent).",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.TO_BE_REVIEWED)
    status_note = models.TextField(blank=True, help_text="What was decided, by whom, or why it is still open.")
    decided_on = models.DateField(null=True, blank=True, help_text="When the status was decided.")
    source_line = models.PositiveIntegerField(null=True, blank=True, help_text="Line of the briefing pack text it is read from.")
    source_note = models.CharField(max_length=400, blank=True, help_text="What the document says of it.")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="to_be_reviewed") | models.Q(decided_on__isnull=False),
                name="existing_partnership_decision_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.status != self.Status.TO_BE_REVIEWED and not self.decided_on:
            raise ValidationError({"decided_on": "A partnership merged or retained has the date it was decided."})
        if self.aligned_board_id and self.aligned_board.kind != Board.Kind.AMBITION:
            raise ValidationError({"aligned_board": "An existing partnership is aligned to an Ambition Board."})


class CommunityStrategy(TimeStampedModel):
    """A district-level Sustainable Community Strategy (Vision for Kent, Annex 3): a Locality
    Board's own plan for its area. One strategy can serve several districts (Dartford and Gravesham
    share one; the East Kent LSP's covers four), so it is tied to the Locality Boards it serves."""

    name = models.CharField(max_length=300, unique=True, help_text="As Annex 3 names it.")
    slug = models.SlugField(max_length=250, unique=True)
    listed_under = models.CharField(max_length=100, help_text="The heading Annex 3 lists it under (an area).")
    boards = models.ManyToManyField(
        Board, related_name="community_strategies", limit_choices_to={"kind": "locality"},
        help_text="The Locality Boards whose districts it covers.",
    )
    link = models.URLField(max_length=500, blank=True)
    source_note = models.CharField(max_length=300, blank=True, help_text="Where a fact was read or decided.")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name_plural = "community strategies"

    def __str__(self) -> str:
        return self.name


class OfficerGroup(TimeStampedModel):
    """A group of officers across Kent (briefing pack, appendix 4.11): who it draws members from
    (county, district, other), its chair or lead, and how often it meets."""

    class Section(models.TextChoices):
        AMBITION_BOARD_1 = "ambition_board_1", "Ambition Board 1: To Grow The Economy"
        AMBITION_BOARD_2 = "ambition_board_2", "Ambition Board 2: To Tackle Disadvantage"
        AMBITION_BOARD_3 = "ambition_board_3", "Ambition Board 3: To Put Citizens In Control"
        BACK_OFFICE = "back_office", "Back Office / Support Groups"
        LOCALITY = "locality", "Locality Specific Groups"

    name = models.CharField(max_length=250)
    section = models.CharField(max_length=20, choices=Section.choices)
    board = models.ForeignKey(Board, on_delete=models.SET_NULL, null=True, blank=True, related_name="officer_groups")
    locality = models.ForeignKey(
        "localities.Locality", on_delete=models.SET_NULL, null=True, blank=True, related_name="officer_groups"
    )
    county_members = models.BooleanField("county council members", default=False)
    district_members = models.BooleanField("district council members", default=False)
    other_members = models.BooleanField("other members", default=False)
    chair = models.CharField("chair / lead", max_length=250, blank=True)
    meeting_frequency = models.CharField(max_length=120, blank=True)
    comment = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order"]
        constraints = [models.UniqueConstraint(fields=["section", "name"], name="unique_officer_group_per_section")]

    def __str__(self) -> str:
        return self.name

    @property
    def membership_display(self) -> str:
        parts = [
            label
            for flag, label in (
                (self.county_members, "county"),
                (self.district_members, "district"),
                (self.other_members, "other"),
            )
            if flag
        ]
        return ", ".join(parts) or "not stated"


from rest_framework_api_key.models import AbstractAPIKey  # noqa: E402

from kentforum.rates import validate_rate  # noqa: E402


class PartnerAPIKey(AbstractAPIKey):
    """A partner system's key to the REST API, stored hashed (only its prefix is readable).
    Named, revocable, with an optional expiry and a scope: read published data, or also submit
    returns for the named organisations."""

    class Scope(models.TextChoices):
        READ = "read", "Read published data"
        SUBMIT = "submit", "Read, and submit returns for the named organisations"

    partner = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="api_keys")
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ)
    organisations = models.ManyToManyField(
        Organisation, blank=True, related_name="submit_keys", help_text="For a submit key: whose returns it may submit."
    )
    rate = models.CharField(
        max_length=20, blank=True, validators=[validate_rate],
        help_text="Requests allowed, e.g. 120/min or 5000/day (periods: s, sec, second, m, min, minute, h, hour, d, day); "
                  "empty for the default.",
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "partner API key"
