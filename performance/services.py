"""Writes of the performance domain: reporting periods and the return workflow.

Every write goes through here, whoever calls it (browser view, API, CSV import, Celery task,
management command): the same validation, the same permission checks, the same audit trail.
``user=None`` means the system itself (a loader or a scheduled task).

Returns use optimistic locking: a save names the version it read, and the write is a single
conditional ``UPDATE ... WHERE version = n``; a save against a newer version is refused with
``StaleReturnError`` (carrying what is stored now) rather than overwriting someone's work.
Every change writes a ``ReturnEvent`` in the same transaction.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from smtplib import SMTPException

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import periods, permissions, rules
from .models import (
    BreakdownCategory,
    DataQuality,
    IndicatorAssignment,
    IndicatorReturn,
    IndicatorTarget,
    MilestoneReturn,
    PeriodEvent,
    ReportingPeriod,
    ReturnEvent,
    WorkflowState,
)

DEFAULT_DEADLINE_DAYS = 30

logger = logging.getLogger(__name__)


class StaleReturnError(Exception):
    """The return changed since the caller read it; ``current`` is what is stored now."""

    def __init__(self, current):
        super().__init__(f"{current} was changed by someone else (now version {current.version}).")
        self.current = current


class PeriodClosedError(ValidationError):
    """Returns for a period that is not open cannot be changed."""


class UnconfirmedWarnings(ValidationError):
    """The figures raise warnings the officer has not confirmed (with a comment)."""

    def __init__(self, warnings: list[str]):
        super().__init__(warnings)
        self.warnings = warnings


# --- Reporting periods -----------------------------------------------------------------------

def _period_event(period: ReportingPeriod, action: str, user=None, reason: str = "", organisation=None) -> None:
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
    permissions.check_can_manage_periods(user)
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
    _period_event(period, PeriodEvent.Action.OPENED, user)
    return period


@transaction.atomic
def period_set_deadline(*, period: ReportingPeriod, deadline: date, grace_days: int | None = None, user=None) -> ReportingPeriod:
    permissions.check_can_manage_periods(user)
    period.deadline = deadline
    if grace_days is not None:
        period.grace_days = grace_days
    period.full_clean()
    period.save(update_fields=["deadline", "grace_days", "updated_at"])
    _period_event(period, PeriodEvent.Action.DEADLINE, user, reason=f"Deadline {deadline:%d %B %Y}, {period.grace_days} days' grace")
    return period


@transaction.atomic
def period_lock(*, period: ReportingPeriod, user=None) -> ReportingPeriod:
    permissions.check_can_manage_periods(user)
    period.status = ReportingPeriod.Status.LOCKED
    period.save(update_fields=["status", "updated_at"])
    _period_event(period, PeriodEvent.Action.LOCKED, user)
    return period


@transaction.atomic
def period_reopen(*, period: ReportingPeriod, reason: str, user, deadline: date | None = None) -> ReportingPeriod:
    """Reopen a locked period. Only the Forum team may, and they must say why; the reason is kept."""
    permissions.check_can_manage_periods(user)
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
    _period_event(period, PeriodEvent.Action.REOPENED, user, reason=reason.strip())
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
                    _period_event(period, PeriodEvent.Action.AUTO_LOCKED)
    return locked


def check_period_open(period: ReportingPeriod) -> None:
    if period.status != ReportingPeriod.Status.OPEN:
        raise PeriodClosedError(f"{period.label} is {period.get_status_display().lower()}; its returns cannot be changed.")


# --- Audit -----------------------------------------------------------------------------------

def _jsonable(value):
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _person(user):
    """The user to record, or None for the system or a partner's API key."""
    return None if user is None or isinstance(user, permissions.KeyActor) else user


def _record(ret, *, action: str, user, from_state: str, changes: dict | None = None, note: str = "", at=None) -> None:
    """One step of a return's history: who (a person, a partner's API key, or the system when
    neither), what, and each changed field."""
    fk = "indicator_return" if isinstance(ret, IndicatorReturn) else "milestone_return"
    ReturnEvent.objects.create(
        **{fk: ret}, actor=_person(user), api_key=user.key if isinstance(user, permissions.KeyActor) else None,
        at=at or timezone.now(), action=action, from_state=from_state,
        to_state=ret.state, version=ret.version,
        changes={k: [_jsonable(a), _jsonable(b)] for k, (a, b) in (changes or {}).items()}, note=note,
    )


def _diff(ret, values: dict) -> dict:
    changes = {}
    for name, new in values.items():
        old = getattr(ret, name)
        if isinstance(old, Decimal) and isinstance(new, Decimal) and old == new:
            continue
        if old != new:
            changes[name] = (old, new)
    return changes


def draft_changes(ret, values: dict, *, breakdowns_changed: bool = False) -> dict | None:
    """The audit changes of saving ``values`` (figures, commentary, data quality; for a
    milestone, its progress) over the stored return ``ret`` as a draft, or None if there is
    nothing to write: the values and (``breakdowns_changed``) the breakdown rows are as stored.
    A save that writes nothing keeps the return's version and state: a returned return stays
    returned. One that writes moves the return to draft (the state change is recorded unless
    it is a draft already); its ``return_reason`` stays until it is submitted again. The CSV
    import (``imports._save``) follows the same rule through this function."""
    changes = _diff(ret, values)
    if not changes and not breakdowns_changed:
        return None
    return {**changes, **_diff(ret, {"state": WorkflowState.DRAFT})}


# --- Indicator returns -----------------------------------------------------------------------

@dataclass(frozen=True)
class IndicatorFigures:
    """What an officer enters for an indicator: a value, or numerator and denominator, the
    commentary, and values per breakdown category (by category id)."""

    value: Decimal | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    commentary: str = ""
    breakdowns: dict[int, Decimal | None] = field(default_factory=dict)
    # Data quality and survey fields (QUALITY_FIELDS) that were sent; those not sent keep their
    # stored values (a new return starts final, with no interval or sample base).
    quality: dict = field(default_factory=dict)


QUALITY_FIELDS = ("quality", "source_released", "quality_note", "ci_lower", "ci_upper", "sample_base")
QUALITY_DEFAULTS = {"quality": DataQuality.FINAL, "source_released": None, "quality_note": "", "ci_lower": None,
                    "ci_upper": None, "sample_base": None}


def quality_values(figures: IndicatorFigures, stored=None) -> dict:
    """The data-quality and survey fields a save writes: what was sent, over what is stored."""
    base = {name: getattr(stored, name) for name in QUALITY_FIELDS} if stored is not None else dict(QUALITY_DEFAULTS)
    unknown = set(figures.quality) - set(QUALITY_FIELDS)
    if unknown:
        raise ValueError(f"not data-quality fields: {sorted(unknown)}")
    return {**base, **{k: ("" if k == "quality_note" and v is None else v) for k, v in figures.quality.items()}}


def indicator_value_from_rate(*, indicator, numerator: Decimal, denominator: Decimal) -> Decimal:
    """The value of a rate or percentage: numerator / denominator × the unit's multiplier."""
    value = Decimal(numerator) / Decimal(denominator) * indicator.multiplier
    return value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def _computed_value(indicator, figures: IndicatorFigures) -> Decimal | None:
    if indicator.is_rate:
        if figures.numerator is not None and figures.denominator:
            return indicator_value_from_rate(indicator=indicator, numerator=figures.numerator, denominator=figures.denominator)
        return None
    return figures.value


def check_draft_figures(indicator, figures: IndicatorFigures, stored=None) -> None:
    """What even a draft must satisfy: what the database itself would refuse."""
    if figures.denominator is not None and figures.denominator <= 0:
        raise ValidationError({"denominator": "The denominator must be more than 0."})
    if errors := quality_errors(indicator, quality_values(figures, stored)):
        raise ValidationError(errors)


def quality_errors(indicator, values: dict) -> dict[str, str]:
    """The data-quality and survey fields: a known flag; a published interval whole and in
    order; a sample base of at least one; intervals and bases only on survey estimates."""
    errors: dict[str, str] = {}
    if values["quality"] not in DataQuality.values:
        errors["quality"] = "Choose final, provisional, estimated or revised."
    if len(values["quality_note"] or "") > 500:
        errors["quality_note"] = "The note on data quality is at most 500 characters."
    lower, upper, base = values["ci_lower"], values["ci_upper"], values["sample_base"]
    if not indicator.is_survey and (lower is not None or upper is not None or base is not None):
        errors["ci_lower" if base is None else "sample_base"] = (
            "Only survey estimates carry a published confidence interval or a sample base."
        )
    elif (lower is None) != (upper is None):
        errors["ci_upper" if upper is None else "ci_lower"] = "Enter both limits of the published interval, or neither."
    elif lower is not None and upper < lower:
        errors["ci_upper"] = "The upper limit is below the lower limit."
    if base is not None and base < 1:
        errors["sample_base"] = "The sample base is the number of people who answered: at least 1."
    return errors


def figure_errors(indicator, figures: IndicatorFigures, stored=None) -> dict[str, str]:
    """Type and range rules a submitted indicator return must meet, by field."""
    quality = quality_values(figures, stored)
    errors: dict[str, str] = quality_errors(indicator, quality)
    if quality["quality"] != DataQuality.FINAL and not (quality["quality_note"] or "").strip() and "quality" not in errors:
        errors["quality_note"] = (
            f"Say what is {DataQuality(quality['quality']).label.lower()} about this figure, and when the final one is due."
        )
    value = _computed_value(indicator, figures)
    if value is not None and quality["ci_lower"] is not None and quality["ci_upper"] is not None and not errors and not (
        quality["ci_lower"] <= value <= quality["ci_upper"]
    ):
        errors["ci_lower"] = "The published interval does not contain the estimate."
    if indicator.is_rate:
        if figures.numerator is None:
            errors["numerator"] = f"Enter the {indicator.numerator_label.lower()}."
        elif figures.numerator < 0:
            errors["numerator"] = "The numerator cannot be negative."
        if figures.denominator is None:
            errors["denominator"] = f"Enter the {indicator.denominator_label.lower()}."
        elif figures.denominator <= 0:
            errors["denominator"] = "The denominator must be more than 0."
        if (
            "numerator" not in errors and "denominator" not in errors
            and indicator.unit == indicator.Unit.PERCENTAGE and figures.numerator > figures.denominator
        ):
            errors["numerator"] = "For a percentage the numerator cannot be more than the denominator."
    elif value is None:
        errors["value"] = "Enter a value."
    field_name = "numerator" if indicator.is_rate else "value"
    if value is not None and not errors:
        if indicator.min_value is not None and value < indicator.min_value:
            errors[field_name] = f"The value must be at least {rules._fmt(indicator.min_value)}."
        elif indicator.max_value is not None and value > indicator.max_value:
            errors[field_name] = f"The value must be at most {rules._fmt(indicator.max_value)}."
        elif indicator.unit == indicator.Unit.PERCENTAGE and not (0 <= value <= 100):
            errors[field_name] = "A percentage is between 0 and 100."
        elif indicator.unit == indicator.Unit.COUNT and value < 0:
            errors[field_name] = "A count cannot be negative."
    for category_id, part in figures.breakdowns.items():
        if part is not None and part < 0 and indicator.unit == indicator.Unit.COUNT:
            errors[f"breakdown_{category_id}"] = "A count cannot be negative."
    return errors


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


HISTORY_VALUES = 8  # earlier approved values an outlier is judged against
HISTORY_PERIODS = 16  # ... found among at most this many earlier periods of the same kind (4 years of quarters)


def history_periods(period):
    """The ids of the earlier periods of the same kind that a value's history is drawn from:
    the latest ``HISTORY_PERIODS`` (so that looking back costs the same however long the
    history kept)."""
    return (
        ReportingPeriod.objects.filter(kind=period.kind, start__lt=period.start)
        .order_by("-start").values("pk")[:HISTORY_PERIODS]
    )


def value_history(indicator, locality, period, limit: int = HISTORY_VALUES) -> list[Decimal]:
    """The area's approved values of earlier periods of the same kind, oldest first: at most
    ``limit``, from the last ``HISTORY_PERIODS`` such periods."""
    values = list(
        IndicatorReturn.objects.filter(
            indicator=indicator, locality=locality, breakdown__isnull=True, state=WorkflowState.APPROVED,
            period__in=history_periods(period), value__isnull=False,
        ).order_by("-period__start").values_list("value", flat=True)[:limit]
    )
    return values[::-1]


@dataclass
class FigureAssessment:
    errors: dict[str, str]
    warnings: list[str]
    status: str
    commentary_required: bool


def assess_figures(indicator, locality, period, figures: IndicatorFigures) -> FigureAssessment:
    """Everything the form shows about the figures: errors, warnings the officer may confirm,
    status against target, and whether a commentary is required."""
    errors = figure_errors(indicator, figures)
    value = _computed_value(indicator, figures)
    warnings: list[str] = []
    if not errors:
        unit = "%" if indicator.unit == indicator.Unit.PERCENTAGE else ""
        if warning := rules.outlier_warning(value, value_history(indicator, locality, period), unit_label=unit):
            warnings.append(warning)
        if indicator.aggregation == indicator.Aggregation.SUM and figures.breakdowns:
            categories = BreakdownCategory.objects.filter(pk__in=figures.breakdowns).select_related("dimension")
            by_dimension: dict[str, dict[str, Decimal | None]] = {}
            for category in categories:
                by_dimension.setdefault(category.dimension.name, {})[category.label] = figures.breakdowns[category.pk]
            for dimension, parts in sorted(by_dimension.items()):
                if warning := rules.breakdown_warning(value, parts, dimension):
                    warnings.append(warning)
    target = target_for(indicator, locality, period)
    status = rules.rag_status(
        value=value, target=target.target if target else None,
        tolerance_percent=target.tolerance_percent if target else None, polarity=indicator.polarity,
    )
    return FigureAssessment(
        errors=errors, warnings=warnings, status=status,
        commentary_required=status in (rules.AMBER, rules.RED) or bool(warnings),
    )


def _return_values(indicator, figures: IndicatorFigures, stored=None) -> dict:
    return {
        "value": _computed_value(indicator, figures),
        "numerator": figures.numerator if indicator.is_rate else None,
        "denominator": figures.denominator if indicator.is_rate else None,
        "commentary": figures.commentary,
        **quality_values(figures, stored),
    }


def creation_changes(values: dict) -> dict:
    """The audit changes of a new return: every field given a value other than its default."""
    return {k: (None, v) for k, v in values.items() if v not in (None, "") and v != QUALITY_DEFAULTS.get(k)}


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


def _breakdown_rows(ret: IndicatorReturn):
    return IndicatorReturn.objects.filter(
        indicator_id=ret.indicator_id, locality_id=ret.locality_id, period_id=ret.period_id, breakdown__isnull=False
    ).select_related("breakdown")


def _save_breakdowns(ret: IndicatorReturn, breakdowns: dict[int, Decimal | None]) -> dict:
    """Bring the breakdown rows of a total return in line with ``breakdowns``; the total's
    version guards them all. Returns the changes for the audit trail."""
    existing = {row.breakdown_id: row for row in _breakdown_rows(ret)}
    labels = dict(BreakdownCategory.objects.filter(pk__in=set(breakdowns) | set(existing)).values_list("pk", "label"))
    changes = {}
    for category_id, value in breakdowns.items():
        row = existing.get(category_id)
        old = row.value if row else None
        if row is None and value is None:
            continue
        if row is None:
            IndicatorReturn.objects.create(
                indicator_id=ret.indicator_id, locality_id=ret.locality_id, period_id=ret.period_id,
                organisation_id=ret.organisation_id, breakdown_id=category_id, value=value, state=ret.state,
            )
        elif old != value:
            IndicatorReturn.objects.filter(pk=row.pk).update(value=value, version=F("version") + 1, updated_at=timezone.now())
        if old != value:
            changes[f"breakdown: {labels.get(category_id, category_id)}"] = (old, value)
    return changes


def _breakdowns_differ(ret: IndicatorReturn, breakdowns: dict[int, Decimal | None]) -> bool:
    existing = {row.breakdown_id: row.value for row in _breakdown_rows(ret)}
    return any(existing.get(category_id) != value for category_id, value in breakdowns.items())


def _sync_breakdown_state(ret: IndicatorReturn) -> None:
    _breakdown_rows(ret).update(state=ret.state, version=F("version") + 1, updated_at=timezone.now())


@transaction.atomic
def indicator_return_save(
    *, indicator, locality, period: ReportingPeriod, organisation, figures: IndicatorFigures,
    breakdown=None, expected_version: int | None = None, user=None, action: str = ReturnEvent.Action.SAVED,
) -> IndicatorReturn:
    """Save an indicator return as a draft, creating it if new. A draft needs only what the
    database requires; the full checks come at submission. An existing return changes only if
    ``expected_version`` is the stored version; an approved one does not change."""
    permissions.check_can_enter(user, organisation)
    check_period_open(period)
    assignment = IndicatorAssignment.objects.filter(indicator=indicator, locality=locality).first()
    if user is not None and (assignment is None or assignment.organisation_id != organisation.pk):
        raise ValidationError(f"{organisation} does not return {indicator.code} for {locality}.")
    ret = (
        IndicatorReturn.objects.select_related("indicator", "period", "organisation")
        .filter(indicator=indicator, locality=locality, period=period, breakdown=breakdown).first()
    )
    check_draft_figures(indicator, figures, ret)
    values = _return_values(indicator, figures, ret)
    if ret is None:
        ret = IndicatorReturn(
            indicator=indicator, locality=locality, period=period, breakdown=breakdown, organisation=organisation, **values
        )
        ret.save()
        changes = creation_changes(values)
        changes.update(_save_breakdowns(ret, figures.breakdowns))
        _record(ret, action=ReturnEvent.Action.CREATED if action == ReturnEvent.Action.SAVED else action,
                user=user, from_state="", changes=changes)
        return ret
    # The return belongs to whoever made it, even if the slot has since been reassigned.
    permissions.check_can_enter(user, ret.organisation)
    if ret.state == WorkflowState.APPROVED:
        raise ValidationError("This return has been approved and can no longer be changed.")
    if ret.state == WorkflowState.SUBMITTED and user is not None:
        raise ValidationError("This return has been submitted and is waiting for approval; it cannot be changed now.")
    if expected_version is None or expected_version != ret.version:
        raise StaleReturnError(ret)
    from_state = ret.state
    changes = draft_changes(ret, values, breakdowns_changed=_breakdowns_differ(ret, figures.breakdowns))
    if changes is None:
        return ret  # nothing changed: no new version, no event, the same state and reason
    _bump(IndicatorReturn, ret, expected_version=expected_version, fields={**values, "state": WorkflowState.DRAFT})
    changes.update(_save_breakdowns(ret, figures.breakdowns))
    _sync_breakdown_state(ret)
    _record(ret, action=action, user=user, from_state=from_state, changes=changes)
    return ret


def _transition(model, ret, *, allowed_from, to, expected_version: int, extra: dict, action: str, user, note: str = "", at=None) -> None:
    check_period_open(ret.period)
    if ret.state not in allowed_from:
        raise ValidationError(
            f"A {ret.get_state_display().lower()} return cannot become {WorkflowState(to).label.lower()}."
        )
    from_state = ret.state
    _bump(model, ret, expected_version=expected_version, fields={"state": to, **extra})
    if isinstance(ret, IndicatorReturn) and ret.breakdown_id is None:
        _sync_breakdown_state(ret)
    _record(ret, action=action, user=user, from_state=from_state, note=note, at=at)


def _figures_of(ret: IndicatorReturn) -> IndicatorFigures:
    breakdowns = {row.breakdown_id: row.value for row in _breakdown_rows(ret)}
    return IndicatorFigures(
        value=ret.value, numerator=ret.numerator, denominator=ret.denominator, commentary=ret.commentary,
        breakdowns=breakdowns, quality={name: getattr(ret, name) for name in QUALITY_FIELDS},
    )


@transaction.atomic
def indicator_return_submit(
    *, ret: IndicatorReturn, expected_version: int, user=None, confirm_warnings: bool = False, at: datetime | None = None,
) -> IndicatorReturn:
    """Submit a draft or returned indicator return for approval, once it is valid: no errors; a
    commentary where the value is off target or a warning is confirmed; every warning confirmed."""
    permissions.check_can_enter(user, ret.organisation)
    assessment = assess_figures(ret.indicator, ret.locality, ret.period, _figures_of(ret))
    if assessment.errors:
        raise ValidationError(assessment.errors)
    if assessment.warnings and not confirm_warnings:
        raise UnconfirmedWarnings(assessment.warnings)
    if assessment.commentary_required and not ret.commentary.strip():
        reason = "the figures raise a warning" if assessment.warnings else "the value is off target"
        raise ValidationError({"commentary": f"Add a commentary: {reason}. Say why, and what is being done."})
    _transition(
        IndicatorReturn, ret, allowed_from={WorkflowState.DRAFT, WorkflowState.RETURNED}, to=WorkflowState.SUBMITTED,
        expected_version=expected_version, action=ReturnEvent.Action.SUBMITTED, user=user, at=at,
        extra={
            "submitted_at": at or timezone.now(), "submitted_by": _person(user), "return_reason": "",
            "confirmed_warnings": assessment.warnings if confirm_warnings else [],
        },
        note="; ".join(f"Confirmed warning: {w}" for w in assessment.warnings) if confirm_warnings else "",
    )
    return ret


@transaction.atomic
def return_approve(*, ret, expected_version: int, user=None, at: datetime | None = None):
    """Approve a submitted indicator or milestone return: its figures become publishable."""
    permissions.check_can_approve(user)
    _transition(
        type(ret), ret, allowed_from={WorkflowState.SUBMITTED}, to=WorkflowState.APPROVED,
        expected_version=expected_version, action=ReturnEvent.Action.APPROVED, user=user, at=at,
        extra={"decided_at": at or timezone.now(), "decided_by": user},
    )
    _queue_rollups(ret)
    return ret


@transaction.atomic
def return_send_back(*, ret, reason: str, expected_version: int, user=None, at: datetime | None = None):
    """Return a submitted return to its officer with a reason, which the officer sees."""
    permissions.check_can_approve(user)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the return is being sent back."})
    _transition(
        type(ret), ret, allowed_from={WorkflowState.SUBMITTED}, to=WorkflowState.RETURNED,
        expected_version=expected_version, action=ReturnEvent.Action.RETURNED, user=user, at=at, note=reason.strip(),
        extra={"decided_at": at or timezone.now(), "decided_by": user, "return_reason": reason.strip()},
    )
    _queue_rollups(ret)
    return ret


@transaction.atomic
def return_reopen(*, ret, reason: str, expected_version: int, user):
    """Reopen an approved return so its officer can correct it: it goes back to 'returned' with
    the reason. Only the Forum team may, in an open period."""
    permissions.check_can_manage_periods(user)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the approved return is being reopened."})
    _transition(
        type(ret), ret, allowed_from={WorkflowState.APPROVED}, to=WorkflowState.RETURNED,
        expected_version=expected_version, action=ReturnEvent.Action.REOPENED, user=user, note=reason.strip(),
        extra={"decided_at": timezone.now(), "decided_by": user, "return_reason": reason.strip()},
    )
    _queue_rollups(ret)
    return ret


def _queue_rollups(ret) -> None:
    """Queue, for after the commit, the rollup of the slices this decision touches."""
    from . import rollups

    rollups.queue_for_return(ret)


# --- Milestone returns -----------------------------------------------------------------------

@dataclass(frozen=True)
class MilestoneProgress:
    status: str
    percent_complete: int
    revised_date: date | None = None
    commentary: str = ""


def milestone_errors(progress: MilestoneProgress, milestone) -> dict[str, str]:
    errors = {}
    if not 0 <= progress.percent_complete <= 100:
        errors["percent_complete"] = "Percent complete is between 0 and 100."
    elif progress.status == MilestoneReturn.Status.COMPLETE and progress.percent_complete != 100:
        errors["percent_complete"] = "A complete milestone is 100% complete."
    elif progress.status == MilestoneReturn.Status.NOT_STARTED and progress.percent_complete > 0:
        errors["percent_complete"] = "A milestone that has not started is 0% complete."
    if progress.status in (MilestoneReturn.Status.AT_RISK, MilestoneReturn.Status.OFF_TRACK) and not progress.commentary.strip():
        errors["commentary"] = "Add a commentary: say why the milestone is at risk or off track and what is being done."
    if progress.revised_date and progress.revised_date < milestone.due_date and progress.status != MilestoneReturn.Status.COMPLETE:
        errors["revised_date"] = "A revised date is later than the due date; leave it empty if the date has not changed."
    return errors


@transaction.atomic
def milestone_return_save(
    *, milestone, period: ReportingPeriod, organisation, progress: MilestoneProgress,
    expected_version: int | None = None, user=None,
) -> MilestoneReturn:
    """Save a milestone's progress for a period as a draft (optimistic locking as for indicators)."""
    permissions.check_can_enter(user, organisation)
    check_period_open(period)
    if user is not None and milestone.owner_id != organisation.pk:
        raise ValidationError(f"{organisation} does not report on the milestone '{milestone}'.")
    if not 0 <= progress.percent_complete <= 100:
        raise ValidationError({"percent_complete": "Percent complete is between 0 and 100."})
    fields = {
        "status": progress.status, "percent_complete": progress.percent_complete,
        "revised_date": progress.revised_date, "commentary": progress.commentary,
    }
    ret = MilestoneReturn.objects.select_related("milestone", "period").filter(milestone=milestone, period=period).first()
    if ret is None:
        ret = MilestoneReturn(milestone=milestone, period=period, organisation=organisation, **fields)
        if progress.status == MilestoneReturn.Status.COMPLETE and progress.percent_complete != 100:
            raise ValidationError({"percent_complete": "A complete milestone is 100% complete."})
        ret.save()
        _record(ret, action=ReturnEvent.Action.CREATED, user=user, from_state="",
                changes={k: (None, v) for k, v in fields.items() if v not in (None, "")})
        return ret
    permissions.check_can_enter(user, ret.organisation)
    if ret.state == WorkflowState.APPROVED:
        raise ValidationError("This return has been approved and can no longer be changed.")
    if ret.state == WorkflowState.SUBMITTED and user is not None:
        raise ValidationError("This return has been submitted and is waiting for approval; it cannot be changed now.")
    if expected_version is None or expected_version != ret.version:
        raise StaleReturnError(ret)
    if progress.status == MilestoneReturn.Status.COMPLETE and progress.percent_complete != 100:
        raise ValidationError({"percent_complete": "A complete milestone is 100% complete."})
    from_state = ret.state
    changes = draft_changes(ret, fields)
    if changes is None:
        return ret  # nothing changed: no new version, no event, the same state and reason
    _bump(MilestoneReturn, ret, expected_version=expected_version, fields={**fields, "state": WorkflowState.DRAFT})
    _record(ret, action=ReturnEvent.Action.SAVED, user=user, from_state=from_state, changes=changes)
    return ret


@transaction.atomic
def milestone_return_submit(*, ret: MilestoneReturn, expected_version: int, user=None, at: datetime | None = None) -> MilestoneReturn:
    """Submit a milestone return for approval once its progress is consistent."""
    permissions.check_can_enter(user, ret.organisation)
    progress = MilestoneProgress(
        status=ret.status, percent_complete=ret.percent_complete, revised_date=ret.revised_date, commentary=ret.commentary
    )
    if errors := milestone_errors(progress, ret.milestone):
        raise ValidationError(errors)
    _transition(
        MilestoneReturn, ret, allowed_from={WorkflowState.DRAFT, WorkflowState.RETURNED}, to=WorkflowState.SUBMITTED,
        expected_version=expected_version, action=ReturnEvent.Action.SUBMITTED, user=user, at=at,
        extra={"submitted_at": at or timezone.now(), "submitted_by": _person(user), "return_reason": ""},
    )
    return ret


# --- Assignments -----------------------------------------------------------------------------

def assignment_ensure(*, organisation, indicator, locality) -> IndicatorAssignment:
    """Record that ``organisation`` returns ``indicator`` for ``locality`` (one organisation each)."""
    assignment, _ = IndicatorAssignment.objects.update_or_create(
        indicator=indicator, locality=locality, defaults={"organisation": organisation}
    )
    return assignment


# --- Reminders -------------------------------------------------------------------------------

def reminder_kind(period: ReportingPeriod, today: date) -> str | None:
    """Which reminder an open period calls for on ``today``: "reminder" from
    ``RETURN_REMINDER_DAYS`` days before its deadline up to the deadline, "overdue" after it
    (until the period locks), else None."""
    if period.deadline is None:
        return None
    if period.deadline - timedelta(days=settings.RETURN_REMINDER_DAYS) <= today <= period.deadline:
        return "reminder"
    if today > period.deadline:
        return "overdue"
    return None


def _reminder_note(organisation) -> str:
    """The start of the reason of a reminder's PeriodEvent (read in the Periods page's history)."""
    return f"{organisation.name}: "


def _reminded(period: ReportingPeriod, action: str) -> set[int]:
    """The organisations already sent a reminder of one kind for a period."""
    return set(PeriodEvent.objects.filter(period=period, action=action, organisation__isnull=False)
               .values_list("organisation_id", flat=True))


def _was_reminded(reminded: set[int], organisation) -> bool:
    return organisation.pk in reminded


def _reminder_message(kind: str, period: ReportingPeriod, entry) -> tuple[str, str]:
    """The subject and body of a reminder to an organisation's officers, with how many of its
    indicator and milestone returns are outstanding."""
    verb = "is" if entry.total == 1 else "are"
    if kind == "reminder":
        subject = f"Kent Forum returns for {period.label} are due on {period.deadline:%d %B %Y}"
        lead = (f"{entry.total} of your returns for {period.label} {verb} not yet submitted: {entry.description}. "
                f"The deadline is {period.deadline:%A %d %B %Y}.")
    else:
        subject = f"Kent Forum returns for {period.label} are overdue"
        lead = (f"{entry.total} of your returns for {period.label} {verb} not yet submitted: {entry.description}. "
                f"They were due on {period.deadline:%d %B %Y}.")
    return subject, f"{lead}\n\nSee your returns: {settings.PORTAL_BASE_URL}/returns/\n\nKent Forum performance team"


def _send_each(connection, subject: str, body: str, recipients: list[str]) -> int:
    """Send the message to each recipient on its own; how many were sent (a refused one is logged)."""
    sent = 0
    for address in recipients:
        try:
            sent += connection.send_messages([EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [address])]) or 0
        except (SMTPException, OSError):
            logger.exception("The reminder to %s could not be sent.", address)
    return sent


@transaction.atomic
def _remind(connection, period: ReportingPeriod, kind: str, action: str, entry, recipients: list[str]) -> int:
    """Send one organisation its reminder of one kind, unless a run got there first (checked
    under the period's row lock), and record it if any officer was reached. Returns how many
    e-mails went."""
    ReportingPeriod.objects.select_for_update().get(pk=period.pk)
    if _was_reminded(_reminded(period, action), entry.organisation):
        return 0
    subject, body = _reminder_message(kind, period, entry)
    reached = _send_each(connection, subject, body, recipients)
    if reached:
        _period_event(period, action, organisation=entry.organisation, reason=(
            f"{_reminder_note(entry.organisation)}{entry.description} outstanding; "
            f"{reached} officer{'' if reached == 1 else 's'} e-mailed."
        ))
    return reached


def reminders_send(*, today: date | None = None) -> int:
    """E-mail the officers of each organisation with indicator or milestone returns outstanding
    in an open period: a reminder from ``RETURN_REMINDER_DAYS`` days before the deadline, and an
    overdue notice after it. Each kind goes to an organisation once per period, and only counts
    as sent once at least one of its officers was sent it: a PeriodEvent naming the organisation
    records it, written under a row lock on the period after the e-mails went, so running twice
    (or two workers at once) sends nothing more. An organisation with returns outstanding and no
    officer with a usable e-mail address is not marked: it is logged, listed for the Forum team
    on the Periods page (``selectors.reminders_unreachable``), and reminded on the first run
    after one of its officers has an address. Returns how many e-mails were sent (one per
    officer reached)."""
    from .selectors import outstanding_by_organisation

    today = today or timezone.localdate()
    sent = 0
    connection = get_connection()  # each send connects, so a mail server that is down fails only its sends
    for period in ReportingPeriod.objects.filter(status=ReportingPeriod.Status.OPEN, deadline__isnull=False):
        kind = reminder_kind(period, today)
        if kind is None:
            continue
        action = PeriodEvent.Action.REMINDED if kind == "reminder" else PeriodEvent.Action.OVERDUE
        reminded = _reminded(period, action)
        for entry in outstanding_by_organisation(period):
            if not entry.total or _was_reminded(reminded, entry.organisation):
                continue
            recipients = entry.recipients
            if not recipients:
                logger.warning(
                    "No %s for %s reaches %s: %s outstanding and no officer with an e-mail address.",
                    kind, period.label, entry.organisation.name, entry.description,
                )
                continue
            sent += _remind(connection, period, kind, action, entry, recipients)
    return sent


# --- Board members' judgements and board reports ---------------------------------------------

def check_can_judge(user) -> None:
    """Board members (of any board) and the Forum team may add a KPQ judgement. Publishing a
    board's report is narrower: see ``permissions.check_can_publish_report``."""
    from kentforum.roles import Role, user_roles

    if not {Role.BOARD_MEMBER, Role.FORUM_ADMIN} & user_roles(user):
        raise PermissionDenied("Only board members and the Forum team may add a judgement.")


@transaction.atomic
def kpq_judgement_add(*, user, kpq, period, answer: str, rationale: str, derived_answer: str):
    """Record a board member's own answer to a KPQ with its rationale, beside the derived one.
    Earlier judgements are kept: this adds a row."""
    from .models import KPQJudgement

    check_can_judge(user)
    if answer not in KPQJudgement.Answer.values:
        raise ValidationError({"answer": "Select an answer."})
    if not rationale.strip():
        raise ValidationError({"rationale": "Give the rationale for your judgement."})
    return KPQJudgement.objects.create(
        kpq=kpq, period=period, answer=answer, rationale=rationale.strip(), derived_answer=derived_answer,
        author=user, at=timezone.now(),
    )


REPUBLISH_GUARD_MINUTES = 10  # the same figures published again by the same person within this is a double press


def board_report_fingerprint(content: dict) -> str:
    """The fingerprint of a board report's content: the SHA-256 of its canonical JSON (keys
    sorted, no spaces). The preview shows it and the publisher sends it back, so that what is
    frozen is exactly what they checked."""
    import hashlib
    import json

    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@transaction.atomic
def board_report_publish(*, user, number: int, fingerprint: str):
    """Fix an Ambition Board's progress report as at now. The figures are copied in, so later
    changes to returns or rollups do not alter a report already sent. The report's period is
    the latest one any of its indicators has figures for.

    Only the Forum team and members of that board may publish (PermissionDenied otherwise).
    ``fingerprint`` is that of the content the publisher checked (``board_report_fingerprint``
    of the preview); if the figures have changed since, nothing is published and
    ValidationError(code="changed") is raised. ValidationError(code="no_figures") when there
    are no figures to report yet."""
    import json

    from partnerships.models import Board

    from . import dashboards
    from .models import BoardReport

    board = Board.objects.filter(kind=Board.Kind.AMBITION, ambition__number=number).first()
    permissions.check_can_publish_report(user, board)  # before any work, whatever door calls
    dashboard = dashboards.ambition_dashboard(number)
    latest = [v.latest.period for item in dashboard["kpqs"] for v in item["views"] if v.latest]
    if not latest or board is None:
        raise ValidationError("There are no figures to report yet.", code="no_figures")
    content = dashboards.board_report_content(number)
    if board_report_fingerprint(content) != fingerprint:
        raise ValidationError("The figures changed since you opened the preview; check them again.", code="changed")
    previous = BoardReport.objects.select_for_update().filter(
        board=board, published_by=user, as_at__gte=timezone.now() - timedelta(minutes=REPUBLISH_GUARD_MINUTES),
    ).order_by("-as_at", "-pk").first()
    if previous is not None and board_report_fingerprint(previous.content) == fingerprint:
        return previous  # a second press of the button, or a retry: this user just published these figures
    return BoardReport.objects.create(
        board=board, period=max(latest, key=lambda p: p.start), as_at=timezone.now(),
        title=f"{board.name}: progress report as at {timezone.localdate():%d %B %Y}",
        # Stored as its canonical JSON reads back, so the stored report has the same fingerprint.
        content=json.loads(json.dumps(content)), published_by=user,
    )


# --- Entering returns by reference (API, bulk) ---------------------------------------------------

class BulkErrors(Exception):
    """Some items of a bulk submission failed; nothing was saved. ``errors`` is [(index, {field: [messages]})];
    ``detail`` says what happened in words."""

    def __init__(self, errors: list[tuple[int, dict]], detail: str = "Nothing was saved."):
        super().__init__(f"{len(errors)} item(s) failed")
        self.errors = errors
        self.detail = detail


def slot_errors(*, indicator, locality, period, indicator_code: str, gss_code: str, period_label: str) -> dict:
    """What is unknown of a return named by codes (the API's and the bulk write's words)."""
    errors = {}
    if indicator is None:
        errors["indicator"] = f"There is no indicator with code “{indicator_code[:40]}”."
    if locality is None:
        errors["locality"] = f"There is no area with GSS code “{gss_code[:12]}”."
    if period is None:
        errors["period"] = f"There is no reporting period “{period_label[:20]}”."
    return errors


def resolve_slot(*, indicator_code: str, gss_code: str, period_label: str):
    """The assignment and period named by codes, or a ValidationError naming each unknown code."""
    from localities.models import Locality

    from .models import Indicator

    errors = {}
    indicator = Indicator.objects.filter(code=indicator_code).first()
    locality = Locality.objects.filter(gss_code=gss_code).first()
    period = ReportingPeriod.objects.filter(label=period_label).first()
    errors.update(slot_errors(indicator=indicator, locality=locality, period=period, indicator_code=indicator_code,
                              gss_code=gss_code, period_label=period_label))
    if errors:
        raise ValidationError(errors)
    assignment = IndicatorAssignment.objects.select_related("organisation", "indicator", "locality").filter(
        indicator=indicator, locality=locality
    ).first()
    if assignment is None:
        raise ValidationError({"indicator": f"Nobody returns {indicator.code} for {locality.name}."})
    return assignment, period


def breakdowns_by_key(indicator, values: dict) -> dict[int, Decimal | None]:
    """Turn {"dimension:category": value} into {category id: value}, refusing unknown keys."""
    categories = {
        f"{c.dimension.code}:{c.code}": c.pk
        for c in BreakdownCategory.objects.filter(dimension__indicators=indicator).select_related("dimension")
    }
    unknown = [key for key in values if key not in categories]
    if unknown:
        raise ValidationError({"breakdowns": f"Not a breakdown of {indicator.code}: {', '.join(sorted(unknown))[:200]}."})
    return {categories[key]: value for key, value in values.items()}


@transaction.atomic
def indicator_return_enter(
    *, user, indicator_code: str, gss_code: str, period_label: str, figures: IndicatorFigures,
    breakdown_values: dict | None = None, expected_version: int | None = None, submit: bool = False,
    confirm_warnings: bool = False,
) -> IndicatorReturn:
    """Save (and optionally submit) the return named by codes: the API's way in, with the same
    permission, period, version, validation and audit rules as the browser."""
    assignment, period = resolve_slot(indicator_code=indicator_code, gss_code=gss_code, period_label=period_label)
    permissions.check_can_enter(user, assignment.organisation)
    figures = IndicatorFigures(
        value=figures.value, numerator=figures.numerator, denominator=figures.denominator,
        commentary=figures.commentary, breakdowns=breakdowns_by_key(assignment.indicator, breakdown_values or {}),
        quality=figures.quality,
    )
    ret = indicator_return_save(
        indicator=assignment.indicator, locality=assignment.locality, period=period,
        organisation=assignment.organisation, figures=figures, expected_version=expected_version, user=user,
    )
    if submit:
        indicator_return_submit(ret=ret, expected_version=ret.version, user=user, confirm_warnings=confirm_warnings)
    return ret


def indicator_returns_enter_bulk(*, user, items: list[dict]) -> list[int]:
    """Enter many returns at once (the items are ``indicator_return_enter``'s arguments), all or
    nothing: exactly what entering them one by one in order in one transaction would store,
    judged in memory with the same rules and written set-based (``bulk.indicator_returns_enter``),
    so that the returns' rows are locked only for the write itself. If any item is refused,
    nothing is saved and ``BulkErrors`` lists every refused item with its errors. Returns the ids
    of the total returns saved, in the items' order."""
    from . import bulk

    return bulk.indicator_returns_enter(user=user, items=items)


@transaction.atomic
def milestone_return_enter(
    *, user, milestone_id: int, period_label: str, progress: MilestoneProgress, expected_version: int | None = None,
    submit: bool = False,
) -> MilestoneReturn:
    """Save (and optionally submit) a milestone's progress named by id and period label: the
    API's way in, with the browser's rules."""
    from .models import Milestone

    milestone = Milestone.objects.select_related("owner").filter(pk=milestone_id).first()
    period = ReportingPeriod.objects.filter(label=period_label).first()
    errors = {}
    if milestone is None:
        errors["milestone"] = f"There is no milestone {milestone_id}."
    if period is None:
        errors["period"] = f"There is no reporting period “{period_label[:20]}”."
    if errors:
        raise ValidationError(errors)
    permissions.check_can_enter(user, milestone.owner)
    if problems := milestone_errors(progress, milestone) if submit else {}:
        raise ValidationError(problems)
    ret = milestone_return_save(
        milestone=milestone, period=period, organisation=milestone.owner, progress=progress,
        expected_version=expected_version, user=user,
    )
    if submit:
        milestone_return_submit(ret=ret, expected_version=ret.version, user=user)
    return ret


# --- Targets ---------------------------------------------------------------------------------

def target_changed(*, indicator, period) -> None:
    """An indicator's target or tolerance for a period was made, changed or deleted: queue, for
    after the commit, the rollup of the slice whose status it decides, so that the summary rows
    (and every dashboard) judge the figures against it at once instead of after the nightly
    rebuild. That slice is the target's own indicator in its own period only: a status is
    judged against its own period's target, and direction of travel compares figures, never
    targets (``rollups.compute_slice``, ``rollups_pg``). Nothing is queued for a period of a
    kind the indicator is not returned in (``periods.period_kinds_for``), where the rollup
    keeps no rows. Every writer of targets calls it, through ``target_save`` and
    ``target_delete`` (the admin's target pages and the targets on an indicator's page)."""
    from . import rollups

    if period.kind in periods.period_kinds_for(indicator):
        rollups.queue_slices([[indicator.pk, period.pk]])


@transaction.atomic
def target_save(*, target: IndicatorTarget) -> IndicatorTarget:
    """Save an indicator's target for a period (new or changed), checked as the model says, and
    queue the rollup of the slice it decides (``target_changed``) and, if the target was moved
    to another indicator or period, of the one it left."""
    before = (
        IndicatorTarget.objects.select_related("indicator", "period").filter(pk=target.pk).first()
        if target.pk else None
    )
    target.full_clean()
    target.save()
    target_changed(indicator=target.indicator, period=target.period)
    if before is not None and (before.indicator_id, before.period_id) != (target.indicator_id, target.period_id):
        target_changed(indicator=before.indicator, period=before.period)
    return target


@transaction.atomic
def target_delete(*, target: IndicatorTarget) -> None:
    """Delete an indicator's target for a period and queue the rollup of the slice it decided:
    its rows become "no target" (or take the general target, for an area's own)."""
    indicator, period = target.indicator, target.period
    target.delete()
    target_changed(indicator=indicator, period=period)


# How an indicator's figures are combined and judged: changing any of these changes its summary rows.
JUDGEMENT_FIELDS = ("unit", "polarity", "aggregation", "reporting_level", "min_coverage", "is_survey", "frequency",
                    "year_basis")


def indicator_definition_changed(*, indicator, before: dict | None) -> bool:
    """An indicator was saved (the admin): if any field that decides how its figures are
    combined or judged changed (``JUDGEMENT_FIELDS``: say its minimum coverage or polarity),
    queue, for after the commit, the rollup of every slice of it, so that no dashboard keeps a
    status, direction or completeness from the old definition until the nightly rebuild.
    ``before``: those fields as stored before the save (None for a new indicator). Returns
    whether anything was queued."""
    from . import rollups

    if before is None or all(before[name] == getattr(indicator, name) for name in JUDGEMENT_FIELDS):
        return False
    kinds = periods.period_kinds_for(indicator)
    rollups.queue_slices([
        [indicator.pk, pk] for pk in ReportingPeriod.objects.filter(kind__in=kinds).values_list("pk", flat=True)
    ])
    return True
