"""Writes of the performance domain: reporting periods and the return workflow.

Every write goes through here, whoever calls it (browser view, API, Celery task, management
command). Returns use optimistic locking: a save names the version it read, and a save against
a newer version is refused with ``StaleReturnError`` rather than overwriting someone's work.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import periods
from .models import IndicatorReturn, MilestoneReturn, ReportingPeriod, WorkflowState

DEFAULT_DEADLINE_DAYS = 30


class StaleReturnError(Exception):
    """The return changed since the caller read it; ``current`` is what is stored now."""

    def __init__(self, current):
        super().__init__(f"{current} was changed by someone else (now version {current.version}).")
        self.current = current


class PeriodClosedError(ValidationError):
    """Returns for a period that is not open cannot be changed."""


# --- Reporting periods -----------------------------------------------------------------------

def period_ensure(*, span: periods.PeriodSpan, deadline_days: int = DEFAULT_DEADLINE_DAYS) -> tuple[ReportingPeriod, bool]:
    """Get or create the reporting period for ``span``, with a deadline ``deadline_days`` after
    it ends. Returns (period, created). An existing period is left as it is."""
    return ReportingPeriod.objects.get_or_create(
        kind=span.kind,
        start=span.start,
        defaults={"label": span.label, "end": span.end, "deadline": span.end + timedelta(days=deadline_days)},
    )


def period_open(*, period: ReportingPeriod, deadline: date | None = None) -> ReportingPeriod:
    """Open a period for returns, optionally setting its deadline."""
    if deadline is not None:
        period.deadline = deadline
    period.status = ReportingPeriod.Status.OPEN
    period.full_clean()
    period.save(update_fields=["status", "deadline", "updated_at"])
    return period


def period_lock(*, period: ReportingPeriod) -> ReportingPeriod:
    period.status = ReportingPeriod.Status.LOCKED
    period.save(update_fields=["status", "updated_at"])
    return period


def period_lock_overdue(*, today: date | None = None) -> int:
    """Lock every open period whose deadline and grace time have passed. Idempotent; returns
    how many periods it locked."""
    today = today or timezone.localdate()
    locked = 0
    for period in ReportingPeriod.objects.filter(status=ReportingPeriod.Status.OPEN, deadline__isnull=False):
        if today > period.deadline + timedelta(days=period.grace_days):
            locked += ReportingPeriod.objects.filter(pk=period.pk, status=ReportingPeriod.Status.OPEN).update(
                status=ReportingPeriod.Status.LOCKED, updated_at=timezone.now()
            )
    return locked


def check_period_open(period: ReportingPeriod) -> None:
    if period.status != ReportingPeriod.Status.OPEN:
        raise PeriodClosedError(f"{period.label} is {period.get_status_display().lower()}; its returns cannot be changed.")


# --- Indicator returns -----------------------------------------------------------------------

@dataclass(frozen=True)
class IndicatorFigures:
    """What an officer enters for an indicator: a value, or numerator and denominator."""

    value: Decimal | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    commentary: str = ""


def indicator_value_from_rate(*, indicator, numerator: Decimal, denominator: Decimal) -> Decimal:
    """The value of a rate or percentage: numerator / denominator × the unit's multiplier."""
    value = Decimal(numerator) / Decimal(denominator) * indicator.multiplier
    return value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def _apply_figures(ret: IndicatorReturn, figures: IndicatorFigures) -> None:
    ret.numerator = figures.numerator
    ret.denominator = figures.denominator
    ret.commentary = figures.commentary
    if ret.indicator.is_rate and figures.numerator is not None and figures.denominator:
        ret.value = indicator_value_from_rate(
            indicator=ret.indicator, numerator=figures.numerator, denominator=figures.denominator
        )
    else:
        ret.value = figures.value


def check_indicator_figures(ret: IndicatorReturn) -> None:
    """Type and range rules a submitted indicator return must meet."""
    indicator = ret.indicator
    errors: dict[str, str] = {}
    if indicator.is_rate:
        if ret.numerator is None:
            errors["numerator"] = f"Enter the {indicator.numerator_label.lower()}."
        if ret.denominator is None:
            errors["denominator"] = f"Enter the {indicator.denominator_label.lower()}."
        elif ret.denominator <= 0:
            errors["denominator"] = "The denominator must be more than 0."
        if ret.numerator is not None and ret.numerator < 0:
            errors["numerator"] = "The numerator cannot be negative."
        if (
            indicator.unit == indicator.Unit.PERCENTAGE
            and ret.numerator is not None
            and ret.denominator
            and ret.numerator > ret.denominator
        ):
            errors["numerator"] = "For a percentage the numerator cannot be more than the denominator."
    elif ret.value is None:
        errors["value"] = "Enter a value."
    if ret.value is not None and not errors:
        if indicator.min_value is not None and ret.value < indicator.min_value:
            errors["value"] = f"The value must be at least {indicator.min_value.normalize()}."
        elif indicator.max_value is not None and ret.value > indicator.max_value:
            errors["value"] = f"The value must be at most {indicator.max_value.normalize()}."
        elif indicator.unit == indicator.Unit.PERCENTAGE and not (0 <= ret.value <= 100):
            errors["value"] = "A percentage is between 0 and 100."
        elif indicator.unit == indicator.Unit.COUNT and ret.value < 0:
            errors["value"] = "A count cannot be negative."
    if errors:
        raise ValidationError(errors)


# Related objects arrive as instances and uniqueness is settled by the lookup (and the database's
# constraints under a race), so validation skips the per-field existence queries.
RELATION_FIELDS = ("indicator", "locality", "period", "breakdown", "organisation", "milestone", "submitted_by", "decided_by")


def _validate(ret) -> None:
    ret.full_clean(exclude=RELATION_FIELDS, validate_unique=False, validate_constraints=False)


def _bump(model, ret, *, expected_version: int, fields: dict) -> None:
    """Write ``fields`` only if the stored version is still ``expected_version``, in one
    conditional UPDATE; otherwise raise StaleReturnError with what is stored now."""
    now = timezone.now()
    updated = model.objects.filter(pk=ret.pk, version=expected_version).update(
        version=F("version") + 1, updated_at=now, **fields
    )
    if not updated:
        raise StaleReturnError(model.objects.get(pk=ret.pk))
    for name, value in fields.items():
        setattr(ret, name, value)
    ret.version = expected_version + 1
    ret.updated_at = now


@transaction.atomic
def indicator_return_save(
    *,
    indicator,
    locality,
    period: ReportingPeriod,
    organisation,
    figures: IndicatorFigures,
    breakdown=None,
    expected_version: int | None = None,
    user=None,
) -> IndicatorReturn:
    """Save an indicator return as a draft (creating it if new). An existing return is only
    changed if ``expected_version`` matches what is stored; approved returns are not changed."""
    check_period_open(period)
    ret = (
        IndicatorReturn.objects.select_related("indicator")
        .filter(indicator=indicator, locality=locality, period=period, breakdown=breakdown)
        .first()
    )
    if ret is None:
        ret = IndicatorReturn(
            indicator=indicator, locality=locality, period=period, breakdown=breakdown, organisation=organisation
        )
        _apply_figures(ret, figures)
        _validate(ret)
        ret.save()
        return ret
    if ret.state in (WorkflowState.APPROVED,):
        raise ValidationError("This return has been approved and can no longer be changed.")
    if expected_version is None or expected_version != ret.version:
        raise StaleReturnError(ret)
    _apply_figures(ret, figures)
    ret.state = WorkflowState.DRAFT
    _validate(ret)
    _bump(
        IndicatorReturn, ret, expected_version=expected_version,
        fields={
            "value": ret.value, "numerator": ret.numerator, "denominator": ret.denominator,
            "commentary": ret.commentary, "state": WorkflowState.DRAFT,
        },
    )
    return ret


def _transition(model, ret, *, allowed_from, to, expected_version: int, extra: dict) -> None:
    check_period_open(ret.period)
    if ret.state not in allowed_from:
        raise ValidationError(
            f"A {ret.get_state_display().lower()} return cannot become {WorkflowState(to).label.lower()}."
        )
    _bump(model, ret, expected_version=expected_version, fields={"state": to, **extra})


@transaction.atomic
def indicator_return_submit(*, ret: IndicatorReturn, expected_version: int, user=None, at: datetime | None = None) -> IndicatorReturn:
    """Submit a draft or returned indicator return for approval, once it is valid."""
    check_indicator_figures(ret)
    _transition(
        IndicatorReturn, ret, allowed_from={WorkflowState.DRAFT, WorkflowState.RETURNED}, to=WorkflowState.SUBMITTED,
        expected_version=expected_version,
        extra={"submitted_at": at or timezone.now(), "submitted_by": user, "return_reason": ""},
    )
    return ret


@transaction.atomic
def return_approve(*, ret, expected_version: int, user=None, at: datetime | None = None):
    """Approve a submitted indicator or milestone return: its figures become publishable."""
    _transition(
        type(ret), ret, allowed_from={WorkflowState.SUBMITTED}, to=WorkflowState.APPROVED,
        expected_version=expected_version, extra={"decided_at": at or timezone.now(), "decided_by": user},
    )
    return ret


@transaction.atomic
def return_send_back(*, ret, reason: str, expected_version: int, user=None, at: datetime | None = None):
    """Return a submitted return to its officer with a reason."""
    if not reason.strip():
        raise ValidationError({"return_reason": "Say why the return is being sent back."})
    _transition(
        type(ret), ret, allowed_from={WorkflowState.SUBMITTED}, to=WorkflowState.RETURNED,
        expected_version=expected_version,
        extra={"decided_at": at or timezone.now(), "decided_by": user, "return_reason": reason.strip()},
    )
    return ret


# --- Milestone returns -----------------------------------------------------------------------

@dataclass(frozen=True)
class MilestoneProgress:
    status: str
    percent_complete: int
    revised_date: date | None = None
    commentary: str = ""


@transaction.atomic
def milestone_return_save(
    *, milestone, period: ReportingPeriod, organisation, progress: MilestoneProgress,
    expected_version: int | None = None, user=None,
) -> MilestoneReturn:
    """Save a milestone's progress for a period as a draft (optimistic locking as for indicators)."""
    check_period_open(period)
    ret = MilestoneReturn.objects.filter(milestone=milestone, period=period).first()
    fields = {
        "status": progress.status, "percent_complete": progress.percent_complete,
        "revised_date": progress.revised_date, "commentary": progress.commentary,
    }
    if ret is None:
        ret = MilestoneReturn(milestone=milestone, period=period, organisation=organisation, **fields)
        _validate(ret)
        ret.save()
        return ret
    if ret.state == WorkflowState.APPROVED:
        raise ValidationError("This return has been approved and can no longer be changed.")
    if expected_version is None or expected_version != ret.version:
        raise StaleReturnError(ret)
    for name, value in fields.items():
        setattr(ret, name, value)
    ret.state = WorkflowState.DRAFT
    _validate(ret)
    _bump(MilestoneReturn, ret, expected_version=expected_version, fields={**fields, "state": WorkflowState.DRAFT})
    return ret


@transaction.atomic
def milestone_return_submit(*, ret: MilestoneReturn, expected_version: int, user=None, at: datetime | None = None) -> MilestoneReturn:
    """Submit a draft or returned milestone return for approval."""
    _validate(ret)
    _transition(
        MilestoneReturn, ret, allowed_from={WorkflowState.DRAFT, WorkflowState.RETURNED}, to=WorkflowState.SUBMITTED,
        expected_version=expected_version,
        extra={"submitted_at": at or timezone.now(), "submitted_by": user, "return_reason": ""},
    )
    return ret
