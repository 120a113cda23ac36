"""The return workflow: saving drafts, submitting, approving, sending back and reopening
indicator and milestone returns.

Every door that writes a return one at a time (the return form, the API, the demo loader)
calls these; the CSV import and the API's bulk write apply the same rules to many returns at
once (``returns.bulk_entry``, ``returns.imports``). ``user=None`` means the system itself.

Returns use optimistic locking: a save names the version it read, and the write is a single
conditional ``UPDATE ... WHERE version = n``; a save against a newer version is refused with
``StaleReturnError`` (carrying what is stored now) rather than overwriting someone's work.
Every change writes a ``ReturnEvent`` in the same transaction, and every decision queues the
rollup of the slices it touches for after the commit."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from performance.catalogue.services import check_milestone_reported_in, check_period_open, check_returned_in
from performance.models import (
    BreakdownCategory,
    IndicatorAssignment,
    IndicatorReturn,
    MilestoneReturn,
    ReportingPeriod,
    ReturnEvent,
    WorkflowState,
)
from performance.models.scope import EDITABLE_STATES, scope_for
from performance.returns import access
from performance.returns.audit import draft_changes, record_event, recorded_person
from performance.returns.validation import (
    QUALITY_FIELDS,
    IndicatorFigures,
    MilestoneProgress,
    assess_figures,
    check_draft_figures,
    commentary_required_error,
    creation_changes,
    milestone_draft_errors,
    milestone_errors,
    return_values,
)
from performance.rollups import queue


class StaleReturnError(Exception):
    """The return changed since the caller read it; ``current`` is what is stored now."""

    def __init__(self, current):
        super().__init__(f"{current} was changed by someone else (now version {current.version}).")
        self.current = current


class UnconfirmedWarnings(ValidationError):
    """The figures raise warnings the officer has not confirmed (with a comment)."""

    def __init__(self, warnings: list[str]):
        super().__init__(warnings)
        self.warnings = warnings


def _update_if_version(model, ret, *, expected_version: int, fields: dict) -> None:
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
def indicator_return_save_draft(
    *, indicator, locality, period: ReportingPeriod, organisation, figures: IndicatorFigures,
    breakdown=None, expected_version: int | None = None, user=None, action: str = ReturnEvent.Action.SAVED,
) -> IndicatorReturn:
    """Save an indicator return as a draft, creating it if new. A draft needs only what the
    database requires; the full checks come at submission. An existing return changes only if
    ``expected_version`` is the stored version; an approved one does not change."""
    access.check_can_enter(user, organisation)
    check_period_open(period)
    check_returned_in(indicator, period)
    assignment = IndicatorAssignment.objects.filter(indicator=indicator, locality=locality).first()
    if user is not None and (assignment is None or assignment.organisation_id != organisation.pk):
        raise ValidationError(f"{organisation} does not return {indicator.code} for {locality}.")
    ret = (
        IndicatorReturn.objects.select_related("indicator", "period", "organisation")
        .filter(indicator=indicator, locality=locality, period=period, breakdown=breakdown).first()
    )
    check_draft_figures(indicator, figures, ret)
    values = return_values(indicator, figures, ret)
    if ret is None:
        ret = IndicatorReturn(
            indicator=indicator, locality=locality, period=period, breakdown=breakdown, organisation=organisation, **values
        )
        ret.save()
        changes = creation_changes(values)
        changes.update(_save_breakdowns(ret, figures.breakdowns))
        record_event(ret, action=ReturnEvent.Action.CREATED if action == ReturnEvent.Action.SAVED else action,
                user=user, from_state="", changes=changes)
        return ret
    # The return belongs to whoever made it, even if the slot has since been reassigned.
    access.check_can_enter(user, ret.organisation)
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
    _update_if_version(IndicatorReturn, ret, expected_version=expected_version, fields={**values, "state": WorkflowState.DRAFT})
    changes.update(_save_breakdowns(ret, figures.breakdowns))
    _sync_breakdown_state(ret)
    record_event(ret, action=action, user=user, from_state=from_state, changes=changes)
    return ret


def _transition(model, ret, *, allowed_from, to, expected_version: int, extra: dict, action: str, user, note: str = "", at=None) -> None:
    check_period_open(ret.period)
    if ret.state not in allowed_from:
        raise ValidationError(
            f"A {ret.get_state_display().lower()} return cannot become {WorkflowState(to).label.lower()}."
        )
    from_state = ret.state
    _update_if_version(model, ret, expected_version=expected_version, fields={"state": to, **extra})
    if isinstance(ret, IndicatorReturn) and ret.breakdown_id is None:
        _sync_breakdown_state(ret)
    record_event(ret, action=action, user=user, from_state=from_state, note=note, at=at)


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
    access.check_can_enter(user, ret.organisation)
    assessment = assess_figures(ret.indicator, ret.locality, ret.period, _figures_of(ret))
    if assessment.errors:
        raise ValidationError(assessment.errors)
    if assessment.warnings and not confirm_warnings:
        raise UnconfirmedWarnings(assessment.warnings)
    if assessment.commentary_required and not ret.commentary.strip():
        raise ValidationError({"commentary": commentary_required_error(assessment)})
    _transition(
        IndicatorReturn, ret, allowed_from=EDITABLE_STATES, to=WorkflowState.SUBMITTED,
        expected_version=expected_version, action=ReturnEvent.Action.SUBMITTED, user=user, at=at,
        extra={
            "submitted_at": at or timezone.now(), "submitted_by": recorded_person(user), "return_reason": "",
            "confirmed_warnings": assessment.warnings if confirm_warnings else [],
        },
        note="; ".join(f"Confirmed warning: {w}" for w in assessment.warnings) if confirm_warnings else "",
    )
    return ret


@transaction.atomic
def return_approve(*, ret, expected_version: int, user=None, at: datetime | None = None):
    """Approve a submitted indicator or milestone return: its figures become publishable."""
    access.check_can_approve(user)
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
    access.check_can_approve(user)
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
    access.check_can_manage_periods(user)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the approved return is being reopened."})
    _transition(
        type(ret), ret, allowed_from={WorkflowState.APPROVED}, to=WorkflowState.RETURNED,
        expected_version=expected_version, action=ReturnEvent.Action.REOPENED, user=user, note=reason.strip(),
        extra={"decided_at": timezone.now(), "decided_by": user, "return_reason": reason.strip()},
    )
    _queue_rollups(ret)
    return ret


class ApprovalFailure(NamedTuple):
    """A return of a bulk approval that could not be approved, and why, in words."""

    ret: object
    message: str


class BulkApprovalError(Exception):
    """A bulk approval approved nothing because these returns could not be approved."""

    def __init__(self, failures: list[ApprovalFailure]):
        super().__init__("; ".join(f"{f.ret}: {f.message}" for f in failures))
        self.failures = failures


def returns_approve_many(*, items: list[tuple[object, int]], user, at: datetime | None = None) -> list:
    """Approve many submitted returns (indicator or milestone), each at the version the approver
    saw, all or nothing: in one transaction, each through ``return_approve`` (so the same
    permission, state, version and period checks), and only those ``user``'s decide scope
    covers. If any cannot be approved, nothing is, and ``BulkApprovalError`` names every one
    that failed and why (a return changed since it was chosen is a failure, never overwritten).
    The rollups they touch are queued once, after the commit."""
    if not items:
        raise ValidationError("Choose at least one return to approve.")
    access.check_can_approve(user)
    decide = scope_for(user, "decide") if user is not None else None
    failures: list[ApprovalFailure] = []
    with transaction.atomic(), queue.deferred():
        # Written in one order (kind, then id), so that two bulk approvals cannot deadlock on each other's rows.
        for ret, expected_version in sorted(items, key=lambda item: (type(item[0]).__name__, item[0].pk)):
            try:
                if decide is not None and not decide.covers(WorkflowState.SUBMITTED, ret.organisation_id):
                    raise PermissionDenied("You may not approve this return.")
                return_approve(ret=ret, expected_version=expected_version, user=user, at=at)
            except StaleReturnError as error:
                failures.append(ApprovalFailure(ret, (
                    f"It was changed after you chose it (now version {error.current.version}, "
                    f"{error.current.get_state_display().lower()}). Check it again before approving."
                )))
            except ValidationError as error:
                failures.append(ApprovalFailure(ret, " ".join(error.messages)))
            except PermissionDenied as error:
                failures.append(ApprovalFailure(ret, str(error)))
        if failures:
            raise BulkApprovalError(failures)
    return [ret for ret, _ in items]


def _queue_rollups(ret) -> None:
    """Queue, for after the commit, the rollup of the slices this decision touches."""
    queue.queue_for_return(ret)


@transaction.atomic
def milestone_return_save_draft(
    *, milestone, period: ReportingPeriod, organisation, progress: MilestoneProgress,
    expected_version: int | None = None, user=None,
) -> MilestoneReturn:
    """Save a milestone's progress for a period as a draft (optimistic locking as for indicators)."""
    access.check_can_enter(user, organisation)
    check_period_open(period)
    check_milestone_reported_in(period)
    if user is not None and milestone.owner_id != organisation.pk:
        raise ValidationError(f"{organisation} does not report on the milestone '{milestone}'.")
    if errors := milestone_draft_errors(progress):
        raise ValidationError(errors)
    fields = {
        "status": progress.status, "percent_complete": progress.percent_complete,
        "revised_date": progress.revised_date, "commentary": progress.commentary,
    }
    ret = MilestoneReturn.objects.select_related("milestone", "period").filter(milestone=milestone, period=period).first()
    if ret is None:
        ret = MilestoneReturn(milestone=milestone, period=period, organisation=organisation, **fields)
        ret.save()
        record_event(ret, action=ReturnEvent.Action.CREATED, user=user, from_state="",
                changes={k: (None, v) for k, v in fields.items() if v not in (None, "")})
        return ret
    access.check_can_enter(user, ret.organisation)
    if ret.state == WorkflowState.APPROVED:
        raise ValidationError("This return has been approved and can no longer be changed.")
    if ret.state == WorkflowState.SUBMITTED and user is not None:
        raise ValidationError("This return has been submitted and is waiting for approval; it cannot be changed now.")
    if expected_version is None or expected_version != ret.version:
        raise StaleReturnError(ret)
    from_state = ret.state
    changes = draft_changes(ret, fields)
    if changes is None:
        return ret  # nothing changed: no new version, no event, the same state and reason
    _update_if_version(MilestoneReturn, ret, expected_version=expected_version, fields={**fields, "state": WorkflowState.DRAFT})
    record_event(ret, action=ReturnEvent.Action.SAVED, user=user, from_state=from_state, changes=changes)
    return ret


@transaction.atomic
def milestone_return_submit(*, ret: MilestoneReturn, expected_version: int, user=None, at: datetime | None = None) -> MilestoneReturn:
    """Submit a milestone return for approval once its progress is consistent."""
    access.check_can_enter(user, ret.organisation)
    progress = MilestoneProgress(
        status=ret.status, percent_complete=ret.percent_complete, revised_date=ret.revised_date, commentary=ret.commentary
    )
    if errors := milestone_errors(progress, ret.milestone):
        raise ValidationError(errors)
    _transition(
        MilestoneReturn, ret, allowed_from=EDITABLE_STATES, to=WorkflowState.SUBMITTED,
        expected_version=expected_version, action=ReturnEvent.Action.SUBMITTED, user=user, at=at,
        extra={"submitted_at": at or timezone.now(), "submitted_by": recorded_person(user), "return_reason": ""},
    )
    return ret
