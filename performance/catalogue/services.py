"""Writes of the catalogue: reporting periods (made, opened, locked, reopened, locked when
their grace time ends) with their events, who returns which indicator for which area, and
which target applies to an area in a period."""
from __future__ import annotations

import logging
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from performance.catalogue import access, periods
from performance.models import IndicatorAssignment, IndicatorTarget, PeriodEvent, ReportingPeriod

DEFAULT_DEADLINE_DAYS = 30

logger = logging.getLogger(__name__)


class PeriodClosedError(ValidationError):
    """Returns for a period that is not open cannot be changed."""


# --- Reporting periods -----------------------------------------------------------------------

def period_event(period: ReportingPeriod, action: str, user=None, reason: str = "", organisation=None) -> None:
    PeriodEvent.objects.create(period=period, actor=user, at=timezone.now(), action=action, reason=reason,
                               organisation=organisation)


def period_ensure(*, span: periods.PeriodSpan, deadline_days: int = DEFAULT_DEADLINE_DAYS) -> tuple[ReportingPeriod, bool]:
    """Get or create the reporting period for ``span``, with a deadline ``deadline_days`` after
    it ends. Returns (period, created). An existing period is left as it is."""
    return ReportingPeriod.objects.get_or_create(
        kind=span.kind,
        start=span.start,
        defaults={"label": span.label, "end": span.end, "deadline": span.end + timedelta(days=deadline_days)},
    )


@transaction.atomic
def period_open(*, period: ReportingPeriod, deadline: date | None = None, grace_days: int | None = None, user=None) -> ReportingPeriod:
    """Open a period for returns, optionally setting its deadline and grace days."""
    access.check_can_manage_periods(user)
    if period.status == ReportingPeriod.Status.LOCKED:
        raise ValidationError("A locked period is reopened, with a reason, not opened.")
    if deadline is not None:
        period.deadline = deadline
    if grace_days is not None:
        period.grace_days = grace_days
    if period.deadline is None:
        raise ValidationError({"deadline": "Set a deadline before opening the period."})
    period.status = ReportingPeriod.Status.OPEN
    period.full_clean()
    period.save(update_fields=["status", "deadline", "grace_days", "updated_at"])
    period_event(period, PeriodEvent.Action.OPENED, user)
    return period


@transaction.atomic
def period_lock(*, period: ReportingPeriod, user=None) -> ReportingPeriod:
    access.check_can_manage_periods(user)
    period.status = ReportingPeriod.Status.LOCKED
    period.save(update_fields=["status", "updated_at"])
    period_event(period, PeriodEvent.Action.LOCKED, user)
    return period


@transaction.atomic
def period_reopen(*, period: ReportingPeriod, reason: str, user, deadline: date | None = None) -> ReportingPeriod:
    """Reopen a locked period. Only the Forum team may, and they must say why; the reason is kept."""
    access.check_can_manage_periods(user)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the period is being reopened."})
    if period.status != ReportingPeriod.Status.LOCKED:
        raise ValidationError("Only a locked period can be reopened.")
    period.status = ReportingPeriod.Status.OPEN
    period.reopen_reason = reason.strip()
    if deadline is not None:
        period.deadline = deadline
    period.full_clean()
    period.save(update_fields=["status", "reopen_reason", "deadline", "updated_at"])
    period_event(period, PeriodEvent.Action.REOPENED, user, reason=reason.strip())
    return period


def period_lock_overdue(*, today: date | None = None) -> int:
    """Lock every open period whose deadline and grace time have passed. Idempotent (a status
    guard in the UPDATE); returns how many periods it locked."""
    today = today or timezone.localdate()
    locked = 0
    for period in ReportingPeriod.objects.filter(status=ReportingPeriod.Status.OPEN, deadline__isnull=False):
        if period.past_grace(today):
            with transaction.atomic():
                if ReportingPeriod.objects.filter(pk=period.pk, status=ReportingPeriod.Status.OPEN).update(
                    status=ReportingPeriod.Status.LOCKED, updated_at=timezone.now()
                ):
                    locked += 1
                    period_event(period, PeriodEvent.Action.AUTO_LOCKED)
    return locked


def check_period_open(period: ReportingPeriod) -> None:
    if period.status != ReportingPeriod.Status.OPEN:
        raise PeriodClosedError(f"{period.label} is {period.get_status_display().lower()}; its returns cannot be changed.")


def not_returned_message(indicator, period) -> str:
    return f"{indicator.code} is not returned for {period.label}."


def check_returned_in(indicator, period: ReportingPeriod) -> None:
    """An indicator's returns are made only in the periods of its kinds (``periods.period_kinds_for``)."""
    if not periods.is_returned_in(indicator, period):
        raise ValidationError({"period": not_returned_message(indicator, period)})


def check_milestone_reported_in(period: ReportingPeriod) -> None:
    """Milestones are reported quarterly (``periods.MILESTONE_PERIOD_KIND``)."""
    if period.kind != periods.MILESTONE_PERIOD_KIND:
        raise ValidationError({"period": f"Milestones are reported quarterly; {period.label} is not a quarter."})


# --- Assignments -----------------------------------------------------------------------------

def assignment_ensure(*, organisation, indicator, locality) -> IndicatorAssignment:
    """Record that ``organisation`` returns ``indicator`` for ``locality`` (one organisation each)."""
    assignment, _ = IndicatorAssignment.objects.update_or_create(
        indicator=indicator, locality=locality, defaults={"organisation": organisation}
    )
    return assignment


def targets_for(indicator, locality, period_ids) -> dict[int, IndicatorTarget]:
    """The target that applies to an area in each period: its own, else the general one, except
    that a count's general target is the county total's and says nothing about one district."""
    general_applies = not (indicator.aggregation == indicator.Aggregation.SUM and locality.kind == "district")
    chosen: dict[int, IndicatorTarget] = {}
    for target in IndicatorTarget.objects.filter(indicator=indicator, period_id__in=period_ids):
        if target.locality_id == locality.pk:
            chosen[target.period_id] = target
        elif target.locality_id is None and general_applies:
            chosen.setdefault(target.period_id, target)
    return chosen


def target_for(indicator, locality, period) -> IndicatorTarget | None:
    return targets_for(indicator, locality, [period.pk]).get(period.pk)


def choose_target(indicator, locality, targets: list[IndicatorTarget]) -> IndicatorTarget | None:
    """Of one indicator's targets for one period, the one ``services.targets_for`` applies to an
    area: its own, else the general one, except that a count's general target is the county
    total's and says nothing about one district."""
    general_applies = not (indicator.aggregation == indicator.Aggregation.SUM and locality.kind == "district")
    chosen = None
    for target in targets:
        if target.locality_id == locality.pk:
            return target
        if target.locality_id is None and general_applies and chosen is None:
            chosen = target
    return chosen
