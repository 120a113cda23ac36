"""Who may change the catalogue's calendar: only the Forum team opens, locks and reopens
reporting periods (``user=None``, the system itself, may too: the nightly lock). The rest of the
catalogue (indicators, targets, milestones) is kept in the admin, under Django's permissions."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied

from kentforum.actors import KeyActor
from kentforum.roles import Role, user_roles


def can_manage_periods(user) -> bool:
    return not isinstance(user, KeyActor) and Role.FORUM_ADMIN in user_roles(user)


def check_can_manage_periods(user) -> None:
    if user is not None and not can_manage_periods(user):
        raise PermissionDenied("Only the Forum team may open, lock or reopen periods.")
