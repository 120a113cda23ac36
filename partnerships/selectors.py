"""Reads of the partnership structure: boards and their members, partnerships (required and
existing, with the rationalisation's progress), officer groups."""
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from .models import Board, BoardMembership, ExistingPartnership, OfficerGroup, StrategicPartnership


def board_list() -> QuerySet[Board]:
    """Every board, Forum first, with what it serves."""
    return Board.objects.select_related("ambition", "locality", "accountable_to")


def board_detail(slug: str) -> Board:
    """One board with its current members (and the organisations they represent), the councils
    it advises, its community strategies, and the partnerships it leads or is supported by. Raises ``Board.DoesNotExist``."""
    memberships = BoardMembership.objects.filter(end_date__isnull=True).select_related("person", "organisation")
    return board_list().prefetch_related(
        Prefetch("memberships", queryset=memberships),
        Prefetch("led_partnerships", queryset=StrategicPartnership.objects.prefetch_related("supported_boards")),
        "supporting_partnerships",
        "advises",
        "community_strategies",
        Prefetch("officer_groups", queryset=OfficerGroup.objects.all()),
    ).get(slug=slug)


def partnership_list() -> QuerySet[StrategicPartnership]:
    return StrategicPartnership.objects.select_related("lead_board").prefetch_related("supported_boards")


def existing_partnership_list() -> QuerySet[ExistingPartnership]:
    """The existing strategic partnerships, in the document's order, with their mapping."""
    return ExistingPartnership.objects.select_related("aligned_board").prefetch_related(
        Prefetch("required_partnerships", queryset=StrategicPartnership.objects.select_related("lead_board"))
    )


def rationalisation_progress() -> dict:
    """Where the rationalisation stands: per required partnership the existing ones mapped to it,
    the existing ones mapped to none yet, and how many are merged, retained or to be reviewed
    (each existing partnership counted once, however many required ones it maps to)."""
    existing = list(existing_partnership_list())
    by_required: dict[int, list[ExistingPartnership]] = {}
    unmapped = []
    for item in existing:
        mapped = list(item.required_partnerships.all())
        if not mapped:
            unmapped.append(item)
        for required in mapped:
            by_required.setdefault(required.pk, []).append(item)
    counts = {status: 0 for status in ExistingPartnership.Status.values}
    for item in existing:
        counts[item.status] += 1
    return {
        "rows": [(required, by_required.get(required.pk, [])) for required in partnership_list()],
        "unmapped": unmapped,
        "counts": [(label, counts[value]) for value, label in ExistingPartnership.Status.choices],
        "total": len(existing),
    }


def current_memberships(person) -> QuerySet[BoardMembership]:
    """A person's seats that hold today: started (or with no start date) and not ended. Ambition
    Boards first, then Locality Boards, then the rest."""
    today = timezone.localdate()
    return (
        BoardMembership.objects.filter(person=person)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .filter(Q(start_date__isnull=True) | Q(start_date__lte=today))
        .select_related("board__ambition", "board__locality")
        .order_by("board__kind", "board__name")
    )
