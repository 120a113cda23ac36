"""Reads of the partnership structure: boards and their members, partnerships, officer groups."""
from django.db.models import Prefetch, QuerySet

from .models import Board, BoardMembership, OfficerGroup, StrategicPartnership


def board_list() -> QuerySet[Board]:
    """Every board, Forum first, with what it serves."""
    return Board.objects.select_related("ambition", "locality", "accountable_to")


def board_detail(slug: str) -> Board:
    """One board with its current members (and the organisations they represent) and the
    partnerships it leads or is supported by. Raises ``Board.DoesNotExist``."""
    memberships = BoardMembership.objects.filter(end_date__isnull=True).select_related("person", "organisation")
    return board_list().prefetch_related(
        Prefetch("memberships", queryset=memberships),
        Prefetch("led_partnerships", queryset=StrategicPartnership.objects.prefetch_related("supported_boards")),
        "supporting_partnerships",
        Prefetch("officer_groups", queryset=OfficerGroup.objects.all()),
    ).get(slug=slug)


def partnership_list() -> QuerySet[StrategicPartnership]:
    return StrategicPartnership.objects.select_related("lead_board").prefetch_related("supported_boards")
