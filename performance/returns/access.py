"""Who may do what with returns and periods. One place, used by the views, the API, the CSV
import and the services themselves.

- An officer enters and reads the returns of their own organisation only.
- An approver reads submitted and decided returns of every organisation (not drafts) and
  approves them or sends them back.
- A Forum team admin reads every return, opens, locks and reopens periods and reopens approved
  returns.
- A board member reads dashboards (published, approved figures), not individual returns.
Anyone else: nothing here.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from kentforum.actors import KeyActor
from kentforum.roles import Role, user_organisation, user_roles
from performance.catalogue.access import can_manage_periods, check_can_manage_periods  # noqa: F401  (the Forum team reopens approved returns)


def can_enter(user, organisation) -> bool:
    if isinstance(user, KeyActor):
        return organisation is not None and organisation.pk in user.organisation_ids
    if not getattr(user, "is_authenticated", False):
        return False
    own = user_organisation(user)
    return Role.OFFICER in user_roles(user) and own is not None and organisation is not None and own.pk == organisation.pk


def can_approve(user) -> bool:
    return not isinstance(user, KeyActor) and Role.APPROVER in user_roles(user)


DECIDABLE_STATES = ("submitted", "approved", "returned")


def can_view_return(user, ret) -> bool:
    if isinstance(user, KeyActor):
        return ret.state == "approved" or ret.organisation_id in user.organisation_ids
    roles = user_roles(user)
    if Role.FORUM_ADMIN in roles:
        return True
    if can_enter(user, ret.organisation):
        return True
    # Approvers see what has been put to them, not officers' drafts.
    return Role.APPROVER in roles and ret.pk is not None and ret.state in DECIDABLE_STATES


def check_can_enter(user, organisation) -> None:
    if user is not None and not can_enter(user, organisation):
        raise PermissionDenied("Only an officer of the organisation that makes this return may change it.")


def check_can_approve(user) -> None:
    if user is not None and not can_approve(user):
        raise PermissionDenied("Only an approver may approve returns or send them back.")


def readable_returns(user, queryset):
    """What the API lists: every approved (published) return, and besides those what the user
    or key may read of unpublished ones."""
    if isinstance(user, KeyActor):
        return queryset.filter(Q(state="approved") | Q(organisation_id__in=user.organisation_ids))
    roles = user_roles(user)
    if Role.FORUM_ADMIN in roles:
        return queryset
    condition = Q(state="approved")
    if Role.APPROVER in roles:
        condition |= Q(state__in=DECIDABLE_STATES)
    organisation = user_organisation(user) if Role.OFFICER in roles else None
    if organisation is not None:
        condition |= Q(organisation=organisation)
    return queryset.filter(condition)


def visible_returns(user, queryset):
    """Scope a queryset of indicator or milestone returns to what ``user`` may read."""
    if isinstance(user, KeyActor):
        return readable_returns(user, queryset)
    roles = user_roles(user)
    if Role.FORUM_ADMIN in roles:
        return queryset
    condition = Q(pk__in=[])
    if Role.APPROVER in roles:
        condition |= Q(state__in=DECIDABLE_STATES)
    if Role.OFFICER in roles and (organisation := user_organisation(user)) is not None:
        condition |= Q(organisation=organisation)
    return queryset.filter(condition)
