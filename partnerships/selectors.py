"""Reads of the partnership structure: boards and their members, partnerships, officer groups."""
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from .models import Board, BoardMembership, OfficerGroup, StrategicPartnership


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
