"""Where a person lands after signing in: the one rule, read by the sign-in's redirect
(``kentforum.views.landing_page``)."""
from __future__ import annotations

from django.urls import reverse

from kentforum.roles import Role, user_roles
from partnerships.models import Board
from partnerships.selectors import current_memberships


def board_dashboard_url(board) -> str:
    """The dashboard of a board: an Ambition Board's, a Locality Board's, else the Forum's."""
    if board.kind == Board.Kind.AMBITION and board.ambition_id:
        return reverse("dashboards:ambition", args=[board.ambition.number])
    if board.kind == Board.Kind.LOCALITY and board.locality_id:
        return reverse("dashboards:locality", args=[board.locality.gss_code])
    return reverse("dashboards:forum")


def landing_url(user) -> str:
    """Where a person lands after signing in, by what they came to do: the Forum team on the
    Forum dashboard, an approver on Approvals, an officer on My returns, a board member on the
    dashboard of the first board they sit on (Ambition Boards first); anyone else on the start
    page. A ``next`` address asked for at sign-in comes before all of these."""
    roles = user_roles(user)
    if Role.FORUM_ADMIN in roles:
        return reverse("dashboards:forum")
    if Role.APPROVER in roles:
        return reverse("performance:approvals")
    if Role.OFFICER in roles:
        return reverse("performance:my-returns")
    if Role.BOARD_MEMBER in roles:
        person = getattr(user, "person", None)
        seat = current_memberships(person).first() if person is not None else None
        return board_dashboard_url(seat.board) if seat else reverse("dashboards:forum")
    return reverse("home")
