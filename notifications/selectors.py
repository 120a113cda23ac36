"""Reads of notifications: who is told of what (officers of an organisation, approvers, the
current members of a board), a person's notifications and unread count, their e-mail
preferences, and the indicators they follow."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import F, Q, QuerySet

from kentforum.roles import GROUP_NAMES, Role
from partnerships.models import BoardMembership
from partnerships.selectors import current_memberships
from performance.models import ReturnEvent

from .models import IndicatorSubscription, Kind, Notification, Preference

LIST_LENGTH = 50  # the notifications page shows this many, unread first, then the newest


def officers_of(organisation_id: int) -> QuerySet:
    """The active officers of an organisation (their Person's organisation): whom a decision on
    one of its returns is told to."""
    return get_user_model().objects.filter(
        is_active=True, groups__name=GROUP_NAMES[Role.OFFICER], person__organisation_id=organisation_id,
    ).distinct().order_by("pk")


def conversation_of(event) -> QuerySet:
    """Whom a comment on a return is told to: the active officers of the return's organisation,
    and every active person who decided the return (sent it back or approved it) or commented on
    it before."""
    return_field = "indicator_return" if event.indicator_return_id else "milestone_return"
    ret_id = event.indicator_return_id or event.milestone_return_id
    ret = getattr(event, return_field)
    took_part = ReturnEvent.objects.filter(
        **{f"{return_field}_id": ret_id},
        action__in=(ReturnEvent.Action.RETURNED, ReturnEvent.Action.APPROVED, ReturnEvent.Action.COMMENTED),
        actor__isnull=False,
    ).values("actor_id")
    return get_user_model().objects.filter(
        Q(pk__in=officers_of(ret.organisation_id).values("pk")) | Q(pk__in=took_part), is_active=True,
    ).distinct().order_by("pk")


def approvers() -> QuerySet:
    """The active approvers: whom the daily digest of returns awaiting approval goes to."""
    return get_user_model().objects.filter(is_active=True, groups__name=GROUP_NAMES[Role.APPROVER]).distinct().order_by("pk")


def current_board_members(board) -> list:
    """The active users whose Person holds a current seat on ``board`` (started, or with no start
    date, and not ended: ``partnerships.selectors.current_memberships``, the rule that also says
    who may publish the board's report)."""
    seats = BoardMembership.objects.filter(board=board, person__user__is_active=True).select_related("person__user")
    people = {seat.person_id: seat.person for seat in seats}
    return [
        person.user for person in people.values()
        if current_memberships(person).filter(board=board).exists()
    ]


def notifications_for(user, *, limit: int = LIST_LENGTH) -> list[Notification]:
    """A person's notifications for the list: unread first, then the newest."""
    return list(
        Notification.objects.filter(user=user).order_by(F("read_at").desc(nulls_first=True), "-created_at", "-id")[:limit]
    )


def unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def email_preferences(user) -> dict[str, bool]:
    """Every kind, and whether the person is e-mailed it (yes unless they turned it off)."""
    stored = dict(Preference.objects.filter(user=user).values_list("kind", "email"))
    return {kind: stored.get(kind, True) for kind in Kind.values}


def wants_email(user, kind: str) -> bool:
    return not Preference.objects.filter(user=user, kind=kind, email=False).exists()


def subscriptions_for(user) -> QuerySet[IndicatorSubscription]:
    return IndicatorSubscription.objects.filter(user=user).select_related("indicator").order_by("indicator__code")


def is_following(user, indicator) -> bool:
    return IndicatorSubscription.objects.filter(user=user, indicator=indicator).exists()
