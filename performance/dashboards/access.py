"""Who may do what on the dashboards. Reading them needs nothing: they hold approved figures
alone (Annex 1: publish performance information openly). Adding a judgement to a KPQ needs a
board member (of any board) or the Forum team; publishing an Ambition Board's report needs the
Forum team or a current member of that board."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied

from kentforum.actors import KeyActor
from kentforum.roles import Role, user_roles
from partnerships.selectors import current_memberships


def can_judge(user) -> bool:
    """Board members (of any board) and the Forum team may add a KPQ judgement."""
    return not isinstance(user, KeyActor) and bool({Role.BOARD_MEMBER, Role.FORUM_ADMIN} & user_roles(user))


def check_can_judge(user) -> None:
    if not can_judge(user):
        raise PermissionDenied("Only board members and the Forum team may add a judgement.")


def can_publish_report(user, board) -> bool:
    """Who may preview and publish an Ambition Board's six-monthly report: the Forum team, and
    board members who hold a current seat on that board (a BoardMembership of the board, not
    ended and already started, whose Person is the user's). A board member of another board may
    read the draft but not publish it."""
    if isinstance(user, KeyActor) or not getattr(user, "is_authenticated", False):
        return False
    roles = user_roles(user)
    if Role.FORUM_ADMIN in roles:
        return True
    person = getattr(user, "person", None)
    if Role.BOARD_MEMBER not in roles or board is None or person is None:
        return False
    return current_memberships(person).filter(board=board).exists()


def check_can_publish_report(user, board) -> None:
    if not can_publish_report(user, board):
        raise PermissionDenied("Only the Forum team and members of this Ambition Board may publish its report.")
