"""Entering returns by reference (indicator code, GSS code, period label), as the API and the
bulk write do: the slot a reference names, its errors in one wording, and the breakdowns by
their dimension and category codes."""
from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from localities.models import Locality
from performance.models import (
    BreakdownCategory,
    Indicator,
    IndicatorAssignment,
    IndicatorReturn,
    Milestone,
    MilestoneReturn,
    ReportingPeriod,
)
from performance.returns import access
from performance.returns.validation import IndicatorFigures, MilestoneProgress, milestone_errors
from performance.returns.workflow import (
    indicator_return_save_draft,
    indicator_return_submit,
    milestone_return_save_draft,
    milestone_return_submit,
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
def indicator_return_save_by_codes(
    *, user, indicator_code: str, gss_code: str, period_label: str, figures: IndicatorFigures,
    breakdown_values: dict | None = None, expected_version: int | None = None, submit: bool = False,
    confirm_warnings: bool = False,
) -> IndicatorReturn:
    """Save (and optionally submit) the return named by codes: the API's way in, with the same
    permission, period, version, validation and audit rules as the browser."""
    assignment, period = resolve_slot(indicator_code=indicator_code, gss_code=gss_code, period_label=period_label)
    access.check_can_enter(user, assignment.organisation)
    figures = IndicatorFigures(
        value=figures.value, numerator=figures.numerator, denominator=figures.denominator,
        commentary=figures.commentary, breakdowns=breakdowns_by_key(assignment.indicator, breakdown_values or {}),
        quality=figures.quality,
    )
    ret = indicator_return_save_draft(
        indicator=assignment.indicator, locality=assignment.locality, period=period,
        organisation=assignment.organisation, figures=figures, expected_version=expected_version, user=user,
    )
    if submit:
        indicator_return_submit(ret=ret, expected_version=ret.version, user=user, confirm_warnings=confirm_warnings)
    return ret


def milestone_return_save_by_codes(
    *, user, milestone_id: int, period_label: str, progress: MilestoneProgress, expected_version: int | None = None,
    submit: bool = False,
) -> MilestoneReturn:
    """Save (and optionally submit) a milestone's progress named by id and period label: the
    API's way in, with the browser's rules."""
    milestone = Milestone.objects.select_related("owner").filter(pk=milestone_id).first()
    period = ReportingPeriod.objects.filter(label=period_label).first()
    errors = {}
    if milestone is None:
        errors["milestone"] = f"There is no milestone {milestone_id}."
    if period is None:
        errors["period"] = f"There is no reporting period “{period_label[:20]}”."
    if errors:
        raise ValidationError(errors)
    access.check_can_enter(user, milestone.owner)
    if problems := milestone_errors(progress, milestone) if submit else {}:
        raise ValidationError(problems)
    ret = milestone_return_save_draft(
        milestone=milestone, period=period, organisation=milestone.owner, progress=progress,
        expected_version=expected_version, user=user,
    )
    if submit:
        milestone_return_submit(ret=ret, expected_version=ret.version, user=user)
    return ret
