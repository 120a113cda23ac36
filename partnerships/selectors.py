"""Reads of the partnership structure: boards and their members, partnerships (required and
existing, with the rationalisation's progress), officer groups, and the Ambition Boards' terms
of reference read as checks (core membership per category, as warnings) and fixed points."""
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


# The Ambition Board terms of reference (briefing pack, appendix 4.7, draft; source 004 lines
# 1528-1533), para 13:
#   "13. Kent Forum have agreed that core membership of each Ambition Board is:
#    - a. two KCC Cabinet Members;
#    - b. four District Council Leaders or the Chairman of Kent Fire and Rescue;
#    and
#    - c. one representative of KCC Corporate Management Team;
#    - d. three District Council Chief Executives or CEO of Kent Fire and Rescue."
# Each core category: the seat categories that fill it, its limit, and how a warning names it.
# This is the one home of the rule; the board page and the admin show what it returns.
CORE_MEMBERSHIP = (
    ((BoardMembership.Category.KCC_CABINET_MEMBER,), 2, "KCC Cabinet Members", "13 a"),
    (
        (BoardMembership.Category.DISTRICT_LEADER, BoardMembership.Category.FIRE_CHAIRMAN), 4,
        "District Council Leaders or the Chairman of Kent Fire and Rescue", "13 b",
    ),
    ((BoardMembership.Category.KCC_CMT,), 1, "representatives of KCC Corporate Management Team", "13 c"),
    (
        (BoardMembership.Category.DISTRICT_CHIEF_EXECUTIVE, BoardMembership.Category.FIRE_CHIEF_EXECUTIVE), 3,
        "District Council Chief Executives or the Chief Executive of Kent Fire and Rescue", "13 d",
    ),
)
CORE_MEMBERSHIP_TOTAL = sum(limit for _, limit, _, _ in CORE_MEMBERSHIP)
TERMS_OF_REFERENCE = "Ambition Board terms of reference (draft), para 13 (briefing pack, appendix 4.7)"

# The terms of reference's other fixed points, stated on an Ambition Board's page as facts.
#   Para 10 (004 line 1522): "Every six months on a rolling cycle, each Ambition Board Chair will
#   present a progress report from their Ambition Board to the Kent Forum, having first reported to
#   Joint Kent Chiefs."
#   Briefing pack 2.2 (iii) (004 line 262): "The first action plans should be presented at the
#   Joint Kent Chiefs and Kent Forum meetings in September 2011."
#   Para 12 (004 line 1527): the Chair and Vice Chair "will come from different tiers of Local
#   Government" (enforced by ``chair_tier_errors`` in the models, not repeated here).
AMBITION_BOARD_FIXED_POINTS = (
    "Every six months, on a rolling cycle, the board's Chair presents a progress report to Joint Kent "
    "Chiefs first and then to the Kent Forum (terms of reference, para 10).",
    "The board's action plan, of around five or six priority areas, is presented to Joint Kent Chiefs and "
    "the Kent Forum once a year; the first action plans were due at their meetings in September 2011 "
    "(briefing pack, 2.2 (iii); terms of reference, para 8).",
    "The Chair and Vice-Chair come from different tiers of local government, one county and one district, "
    "and are reviewed annually (terms of reference, para 12).",
)


def terms_of_reference_fixed_points(board: Board) -> tuple[str, ...]:
    """The fixed points of the terms of reference, in words, for an Ambition Board; none for others."""
    return AMBITION_BOARD_FIXED_POINTS if board.kind == Board.Kind.AMBITION else ()


def _is_current(membership: BoardMembership) -> bool:
    return membership.end_date is None


def core_membership_counts(board: Board) -> list[tuple[str, int, int, str]]:
    """An Ambition Board's current core members per category of the terms of reference, para 13:
    (category in words, members, limit, paragraph). Reads ``board.memberships.all()``, so a board
    from ``board_detail`` (current members prefetched) costs no query."""
    seats = [m for m in board.memberships.all() if _is_current(m) and m.is_core]
    return [
        (words, sum(1 for m in seats if m.category in categories), limit, paragraph)
        for categories, limit, words, paragraph in CORE_MEMBERSHIP
    ]


def terms_of_reference_warnings(board: Board) -> list[str]:
    """Where an Ambition Board's current core members exceed what the terms of reference provide
    for (para 13): a warning in words for each category over its limit, and one for the total.
    Warnings, not errors: the nominations of June 2011 exceed it, and saving is never blocked.
    Empty for any other kind of board (the terms of reference are the Ambition Boards')."""
    if board.kind != Board.Kind.AMBITION:
        return []
    counts = core_membership_counts(board)
    warnings = [
        f"{count} {words} {'is' if count == 1 else 'are'} nominated; the terms of reference provide for {limit} "
        f"(para {paragraph})."
        for words, count, limit, paragraph in counts
        if count > limit
    ]
    total = sum(count for _, count, _, _ in counts)
    if total > CORE_MEMBERSHIP_TOTAL:
        warnings.append(
            f"{total} core members are nominated in all; the terms of reference provide for "
            f"{CORE_MEMBERSHIP_TOTAL} (para 13)."
        )
    return warnings
