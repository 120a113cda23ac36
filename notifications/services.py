"""Writes of notifications: telling people of an event (a notification each, in the event's own
transaction, its e-mail queued after the commit), the daily digest for approvers, the checks of
followed indicators, reading, and each person's preferences and followed indicators.

Who is told of what:
- a return sent back or approved: the officers of the return's organisation;
- a comment on a return: the officers of the return's organisation, whoever decided it (sent it
  back or approved it) and whoever commented on it before;
- returns awaiting approval: every approver, once a day, when any await them;
- a board report published: the current members of that board;
- an indicator followed turning red or worsening: its followers, on a complete figure only.
Nobody is told of their own action, and an event recorded with a time more than an hour from
now (history loaded with its own dates, such as the demo set's returns) is not news: it
notifies nobody."""
from __future__ import annotations

from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from performance.catalogue import rules
from performance.dashboards.figures import DIRECTION_WORDS, Evidence, fmt
from performance.models import Direction, IndicatorReturn, ReturnEvent
from performance.returns.selectors import approval_queue

from . import outbox, selectors
from .models import IndicatorSubscription, Kind, Notification, Preference

NEWS_WINDOW = timedelta(hours=1)  # an event recorded further than this from now notifies nobody


# --- Telling people ------------------------------------------------------------------------------

def notifications_create(*, users, kind: str, title: str, body: str, link: str, dedupe_key: str, exclude=None) -> list[Notification]:
    """One notification of the event ``dedupe_key`` to each of ``users`` (but ``exclude``, who
    did it) who has none yet, and each one's e-mail queued for after the commit. Returns those
    made now: an event already told to someone is not told again."""
    made = []
    seen = set()
    for user in users:
        if user.pk in seen or (exclude is not None and user.pk == exclude.pk):
            continue
        seen.add(user.pk)
        try:
            with transaction.atomic():
                notification, created = Notification.objects.get_or_create(
                    user=user, dedupe_key=dedupe_key,
                    defaults={"kind": kind, "title": title[:250], "body": body, "link": link},
                )
        except IntegrityError:  # another process told them at the same moment
            continue
        if created:
            made.append(notification)
    outbox.queue_email([n.pk for n in made])
    return made


def is_news(at, now=None) -> bool:
    """Whether an event recorded at ``at`` happened now (the services record the present time;
    a loader of history records the times it replays)."""
    return abs(at - (now or timezone.now())) <= NEWS_WINDOW


def return_described(ret) -> tuple[str, str]:
    """What a return is, in words, and the path of its page."""
    if isinstance(ret, IndicatorReturn):
        what = f"{ret.indicator.name}, {ret.locality.name}, {ret.period.label}"
        link = reverse("performance:indicator-return", args=[ret.period_id, ret.indicator.code, ret.locality.gss_code])
    else:
        what = f"milestone “{ret.milestone.title}”, {ret.period.label}"
        link = reverse("performance:milestone-return", args=[ret.period_id, ret.milestone_id])
    return what, link


def notify_return_decision(event: ReturnEvent) -> list[Notification]:
    """Tell the officers of a return's organisation that an approver sent it back (with the
    reason) or approved it. Other steps of a return tell nobody."""
    if event.action not in (ReturnEvent.Action.APPROVED, ReturnEvent.Action.RETURNED) or not is_news(event.at):
        return []
    ret = event.indicator_return if event.indicator_return_id else event.milestone_return
    if isinstance(ret, IndicatorReturn) and ret.breakdown_id is not None:
        return []
    what, link = return_described(ret)
    who = (event.actor.get_full_name() or event.actor.username) if event.actor else "The approver"
    if event.action == ReturnEvent.Action.RETURNED:
        kind, title = Kind.RETURN_SENT_BACK, f"Returned to you: {what}"
        body = f"{who} sent back {what}. The reason: {event.note}\n\nCorrect it and submit it again."
    else:
        kind, title = Kind.RETURN_APPROVED, f"Approved: {what}"
        body = f"{who} approved {what}. Its figures are now published."
    return notifications_create(
        users=selectors.officers_of(ret.organisation_id), kind=kind, title=title, body=body, link=link,
        dedupe_key=f"return-event:{event.pk}", exclude=event.actor,
    )


COMMENT_EXCERPT = 500  # characters of a comment quoted in its notification


def notify_return_comment(event: ReturnEvent) -> list[Notification]:
    """Tell the people in a return's conversation of a new comment on it: its organisation's
    officers, whoever decided it and whoever commented before (``selectors.conversation_of``),
    but not its author."""
    if event.action != ReturnEvent.Action.COMMENTED or not is_news(event.at):
        return []
    ret = event.indicator_return if event.indicator_return_id else event.milestone_return
    what, link = return_described(ret)
    who = (event.actor.get_full_name() or event.actor.username) if event.actor else "Someone"
    text = event.note if len(event.note) <= COMMENT_EXCERPT else event.note[: COMMENT_EXCERPT - 1] + "…"
    return notifications_create(
        users=selectors.conversation_of(event), kind=Kind.RETURN_COMMENT, title=f"Comment on {what}",
        body=f"{who} commented on {what}:\n\n{text}", link=f"{link}#comments", dedupe_key=f"return-event:{event.pk}",
        exclude=event.actor,
    )


def notify_report_published(report) -> list[Notification]:
    """Tell the current members of a board that its report was published."""
    if not is_news(report.as_at):
        return []
    return notifications_create(
        users=selectors.current_board_members(report.board), kind=Kind.REPORT_PUBLISHED,
        title=f"Published: {report.title}",
        body=f"{report.board.name}'s report “{report.title}” ({report.period.label}) was published.",
        link=reverse("dashboards:report", args=[report.pk]), dedupe_key=f"board-report:{report.pk}",
        exclude=report.published_by,
    )


def approvals_digest_send(*, today: date | None = None) -> int:
    """Tell each approver, once a day, how many returns await their approval and from whom (none
    awaiting: nothing). Running it again on the same day tells nobody twice. Returns how many
    approvers were told."""
    today = today or timezone.localdate()
    told = 0
    for approver in selectors.approvers():
        queue = approval_queue(approver)
        total = sum(len(returns) for _organisation, returns in queue)
        if not total:
            continue
        lines = "\n".join(f"- {organisation.name}: {len(returns)}" for organisation, returns in queue)
        plural = "s await" if total != 1 else " awaits"
        with transaction.atomic():
            told += len(notifications_create(
                users=[approver], kind=Kind.APPROVALS_DIGEST, title=f"{total} return{plural} your approval",
                body=f"{total} return{plural} your approval on {today:%A %d %B %Y}:\n{lines}",
                link=reverse("performance:approvals"), dedupe_key=f"approvals-digest:{today.isoformat()}",
            ))
    return told


# --- Followed indicators -------------------------------------------------------------------------

def alert_reasons(*, last_period_start, last_status: str, last_direction: str, period_start, status: str,
                  direction: str) -> list[str]:
    """What is news in a complete figure against the one last looked at: "red" if it is red and
    the last was not; "worsening" if it is worsening and is of a newer period (or was not
    worsening before in the same one). An older period than the last is no news."""
    if last_period_start is not None and period_start < last_period_start:
        return []
    newer = last_period_start is None or period_start > last_period_start
    reasons = []
    if status == rules.RED and last_status != rules.RED:
        reasons.append("red")
    if direction == Direction.WORSENING and (newer or last_direction != Direction.WORSENING):
        reasons.append("worsening")
    return reasons


def latest_complete(indicators) -> dict:
    """Each indicator's dashboard view (``Evidence``): its headline is its latest complete Kent
    figure, the only kind the portal judges; an incomplete one is never read here."""
    return Evidence(indicators, history=1, districts=False).views


def subscription_follow(*, user, indicator, follow: bool) -> IndicatorSubscription | None:
    """Follow an indicator (from its latest complete figure as it is now, so only later news is
    told), or stop following it. Idempotent."""
    if not follow:
        IndicatorSubscription.objects.filter(user=user, indicator=indicator).delete()
        return None
    subscription, created = IndicatorSubscription.objects.get_or_create(user=user, indicator=indicator)
    if created:
        view = latest_complete([indicator])[indicator.pk]
        if view.latest is not None:
            subscription.last_period = view.latest.period
            subscription.last_status, subscription.last_direction = view.latest.status, view.direction
            subscription.save(update_fields=["last_period", "last_status", "last_direction"])
    return subscription


def subscriptions_check() -> int:
    """Look at every followed indicator's latest complete Kent figure and tell its followers
    what is news since they last looked (``alert_reasons``); then remember it. One notification
    per indicator, period and news, so a second run tells nobody again. Returns how many were told."""
    subscriptions = list(
        IndicatorSubscription.objects.filter(user__is_active=True).select_related("user", "indicator", "last_period")
    )
    views = latest_complete({s.indicator_id: s.indicator for s in subscriptions}.values())
    told = 0
    for subscription in subscriptions:
        view = views[subscription.indicator_id]
        latest = view.latest
        if latest is None or not latest.complete:
            continue
        last = subscription.last_period
        reasons = alert_reasons(
            last_period_start=last.start if last else None, last_status=subscription.last_status,
            last_direction=subscription.last_direction, period_start=latest.period.start, status=latest.status,
            direction=view.direction,
        )
        with transaction.atomic():
            if reasons:
                told += len(notifications_create(users=[subscription.user], **indicator_alert(view, reasons)))
            if (subscription.last_period_id, subscription.last_status, subscription.last_direction) != (
                    latest.period_id, latest.status, view.direction):
                IndicatorSubscription.objects.filter(pk=subscription.pk).update(
                    last_period=latest.period, last_status=latest.status, last_direction=view.direction,
                )
    return told


def indicator_alert(view, reasons: list[str]) -> dict:
    """The words of a followed indicator's news, and its event key."""
    indicator, latest = view.indicator, view.latest
    news = " and ".join({"red": "turned red", "worsening": "worsened"}[r] for r in reasons)
    value = fmt(latest.value, indicator.decimal_places)
    target = f" against a target of {fmt(latest.target, indicator.decimal_places)}" if latest.target is not None else ""
    return {
        "kind": Kind.INDICATOR_ALERT, "title": f"{indicator.name} {news} ({latest.period.label})",
        "body": (f"Kent's figure for {indicator.name} in {latest.period.label} is {value}{target}: "
                 f"{rules.status_label(latest.status)}, {DIRECTION_WORDS.get(view.direction, 'not comparable')} "
                 f"{view.direction_basis}."),
        "link": reverse("dashboards:indicator", args=[indicator.code]),
        "dedupe_key": f"indicator:{indicator.pk}:{latest.period_id}:{'+'.join(reasons)}",
    }


# --- Reading and preferences ---------------------------------------------------------------------

def notification_open(*, user, pk: int) -> Notification:
    """Mark one of the person's own notifications read and return it (``DoesNotExist`` for
    anyone else's)."""
    notification = Notification.objects.get(pk=pk, user=user)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


def notifications_mark_all_read(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


@transaction.atomic
def preferences_set(*, user, emailed: set[str]) -> None:
    """Which kinds the person is e-mailed (every other kind: in the portal only)."""
    for kind in Kind.values:
        Preference.objects.update_or_create(user=user, kind=kind, defaults={"email": kind in emailed})
