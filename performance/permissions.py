"""Who may do what with returns and periods. One place, used by the views, the API, the CSV
import and the services themselves.

- An officer enters and reads the returns of their own organisation only.
- An approver reads submitted and decided returns of every organisation and approves them or
  sends them back.
- A Forum team admin reads every return, opens, locks and reopens periods and reopens approved
  returns.
- A board member reads dashboards (published, approved figures), not individual returns.
Anyone else: nothing here.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied

from kentforum.roles import Role, user_organisation, user_roles


def can_enter(user, organisation) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    own = user_organisation(user)
    return Role.OFFICER in user_roles(user) and own is not None and organisation is not None and own.pk == organisation.pk


def can_approve(user) -> bool:
    return Role.APPROVER in user_roles(user)


def can_manage_periods(user) -> bool:
    return Role.FORUM_ADMIN in user_roles(user)


def can_view_return(user, ret) -> bool:
    roles = user_roles(user)
    if Role.FORUM_ADMIN in roles or Role.APPROVER in roles:
        return True
    return can_enter(user, ret.organisation)


def check_can_enter(user, organisation) -> None:
    if user is not None and not can_enter(user, organisation):
        raise PermissionDenied("Only an officer of the organisation that makes this return may change it.")


def check_can_approve(user) -> None:
    if user is not None and not can_approve(user):
        raise PermissionDenied("Only an approver may approve returns or send them back.")


def check_can_manage_periods(user) -> None:
    if user is not None and not can_manage_periods(user):
        raise PermissionDenied("Only the Forum team may open, lock or reopen periods.")


def visible_returns(user, queryset):
    """Scope a queryset of indicator or milestone returns to what ``user`` may read."""
    roles = user_roles(user)
    if Role.FORUM_ADMIN in roles or Role.APPROVER in roles:
        return queryset
    if Role.OFFICER in roles and (organisation := user_organisation(user)) is not None:
        return queryset.filter(organisation=organisation)
    return queryset.none()
