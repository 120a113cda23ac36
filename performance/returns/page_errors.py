"""What a return page shows of its errors, the GOV.UK way: the breakdowns grouped by dimension,
each group carrying the warning of its own total check (``rules.breakdown_warning``, as
``validation.assess_figures`` applies it) and linked to from the error summary; and the
milestone form's rule errors (``validation.milestone_errors``) reported in the same round as
its field errors. No rule lives here: each comes from ``validation`` or ``catalogue.rules``."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.forms import BoundField

from kentforum.forms import error_list
from performance.catalogue import rules
from performance.returns import validation


@dataclass
class BreakdownGroup:
    """One breakdown dimension of the return form: its fieldset's legend, anchor and fields, and
    the warning of its total check when the error summary lists it."""

    dimension: str
    anchor: str
    fields: list[BoundField] = field(default_factory=list)
    error: str | None = None

    @property
    def legend(self) -> str:
        return f"By {self.dimension.lower()}"


def breakdown_groups(form, assessment=None) -> list[BreakdownGroup]:
    """The form's breakdown fields grouped by dimension (in the form's order). A group's error is
    its dimension's total check, worded by the same rule the submission applied, when that
    warning is among the form's errors (an unconfirmed warning stops the submission)."""
    groups: dict[int, BreakdownGroup] = {}
    for category in form.categories:
        dimension = category.dimension
        group = groups.setdefault(
            dimension.pk, BreakdownGroup(dimension=dimension.name, anchor=f"breakdown-{dimension.code}"),
        )
        group.fields.append(form[f"breakdown_{category.pk}"])
    if assessment is None or not assessment.warnings or not form.is_bound or not hasattr(form, "cleaned_data"):
        return list(groups.values())
    shown = set(form.non_field_errors())
    figures = form.figures()
    total = validation.computed_value(form.indicator, figures)
    for dimension_pk, group in groups.items():
        parts = {c.label: figures.breakdowns.get(c.pk) for c in form.categories if c.dimension_id == dimension_pk}
        warning = rules.breakdown_warning(total, parts, group.dimension)
        if warning and warning in assessment.warnings and warning in shown:
            group.error = warning
    return list(groups.values())


def indicator_page_errors(form, assessment=None) -> dict:
    """The return page's ``breakdown_groups`` and its error summary, whose breakdown warnings
    link to their dimension's fieldset."""
    if form is None:
        return {"breakdown_groups": [], "errors": []}
    groups = breakdown_groups(form, assessment)
    anchors = {group.error: group.anchor for group in groups if group.error}
    errors = [(anchors.get(message, field_id) if not field_id else field_id, message) for field_id, message in error_list(form)]
    return {"breakdown_groups": groups, "errors": errors}


def add_commentary_error(form, assessment) -> None:
    """A submission's missing commentary (``validation.commentary_required_error``) beside the
    warnings that stopped it, so the officer hears of both in one round."""
    if not assessment.commentary_required or form.errors.get("commentary"):
        return
    if not (form.cleaned_data.get("commentary") or "").strip():
        form.add_error("commentary", validation.commentary_required_error(assessment))


def add_milestone_rule_errors(form, milestone, *, submit: bool) -> None:
    """Put the milestone rules' errors (a submission's ``milestone_errors``, a draft's
    ``milestone_draft_errors``) on an invalid form beside its field errors, so every error comes
    in one round; a field already in error, or not read, is left to its own message."""
    data = form.cleaned_data
    percent = data.get("percent_complete")
    progress = validation.MilestoneProgress(
        status=data.get("status") or "", percent_complete=percent if percent is not None else 0,
        revised_date=data.get("revised_date"), commentary=(data.get("commentary") or "").strip(),
    )
    errors = validation.milestone_errors(progress, milestone) if submit else validation.milestone_draft_errors(progress)
    for name, message in errors.items():
        if name == "percent_complete" and percent is None:
            continue
        if name in form.fields and form.errors.get(name):
            continue
        if name == "revised_date" and (form.errors.get("revised_day") or data.get("revised_date") is None):
            continue
        if name not in form.fields and message in form.non_field_errors():
            continue
        form.add_error(name if name in form.fields else None, message)



def add_indicator_rule_errors(form, indicator, locality, period):
    """On a submission whose form has field errors: the submission's own rule errors
    (``validation.assess_figures``) of the figures that were read, and, when every figure was
    read, its unconfirmed warnings and a missing commentary, put beside the field errors so every
    error comes in one round. A field already in error is left to its own message. Returns the
    assessment for the page (None when a figure could not be read: no verdict from part of them)."""
    unread = set(form.errors)
    assessment = validation.assess_figures(indicator, locality, period, form.figures())
    for name, message in assessment.errors.items():
        if name in unread or (name not in form.fields and message in form.non_field_errors()):
            continue
        form.add_error(name if name in form.fields else None, message)
    if any(name in validation.FIGURE_FIELDS or name.startswith("breakdown_") for name in unread):
        return None
    add_warnings_and_commentary_errors(form, assessment)
    return assessment


def add_warnings_and_commentary_errors(form, assessment) -> None:
    """A submission's unconfirmed warnings and missing commentary beside its other errors (a
    refused submission stops at its first kind of error; the page says them all)."""
    if assessment.warnings and not form.cleaned_data.get("confirm_warnings"):
        for warning in assessment.warnings:
            if warning not in form.non_field_errors():
                form.add_error(None, warning)
    add_commentary_error(form, assessment)
