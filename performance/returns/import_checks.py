"""The checks of an uploaded CSV of returns, row by row and per indicator and area: what each
row is judged against (loaded with one query each), the rows of one indicator and area
grouped, and every error and warning the return form would give."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import NamedTuple

from django.core.exceptions import ValidationError

from kentforum.csvcells import unneutralised
from kentforum.errors import error_dict
from localities.models import Locality
from performance.catalogue import rules, services
from performance.catalogue.selectors import period_for_indicator
from performance.models import (
    BreakdownCategory,
    Indicator,
    IndicatorAssignment,
    IndicatorReturn,
    ReportingPeriod,
    WorkflowState,
)
from performance.models.scope import DONE_STATES
from performance.returns import audit, validation
from performance.returns.exports import COLUMNS
from performance.returns.validation import among
from performance.templatetags.figures import figure_for_input

# --- Reading a file ----------------------------------------------------------------------------

def size_words(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{max(1, round(n / 1024))} KB"


def shortened(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cell_error(column: str, message: str) -> dict:
    """A row's error: the column it is in and what is wrong, in words."""
    return {"column": column, "message": message}


def number_or_error(text: str, column: str, errors: list[dict], unit: str | None = None) -> Decimal | None:
    """A number cell (already stripped), read by ``validation.parse_figure``, the one rule of the
    return form too: plain, or as a spreadsheet writes it (1,234, a leading apostrophe), with
    "£" or "%" only where ``unit`` (the indicator's; None for a numerator or denominator) has one."""
    try:
        return validation.parse_figure(text, unit=unit, what=f"the {column}")
    except ValidationError as error:
        if error.code == "invalid":
            errors.append(cell_error(column, f"The {column} must be a number, not “{shortened(text)}”."))
        else:
            errors.append(cell_error(column, error.messages[0]))
    return None


class StoredReturn(NamedTuple):
    """A return already stored for a slot of the file, as far as the import needs it."""

    pk: int
    organisation_id: int
    state: str
    version: int
    value: Decimal | None
    numerator: Decimal | None
    denominator: Decimal | None
    commentary: str
    # data quality and survey fields, which the file does not carry: kept as stored
    quality: str
    source_released: object
    quality_note: str
    ci_lower: Decimal | None
    ci_upper: Decimal | None
    sample_base: int | None

    def get_state_display(self) -> str:
        return WorkflowState(self.state).label


class SlotRows:
    """The rows of one indicator and area: the total row and its breakdown rows, and what is
    stored for them now."""

    __slots__ = ("indicator", "locality", "total", "figures", "current", "breakdown_rows", "breakdown_values",
                 "stored_breakdowns", "frozen")

    def __init__(self, indicator, locality):
        self.indicator, self.locality = indicator, locality
        self.total: dict | None = None  # the total row
        self.figures: validation.IndicatorFigures | None = None
        self.current: StoredReturn | None = None
        self.breakdown_rows: dict[int, dict] = {}  # category id: row
        self.breakdown_values: dict[int, Decimal | None] = {}  # category id: value
        self.stored_breakdowns: dict[int, StoredReturn] = {}
        self.frozen = False  # already submitted or approved: its rows must be as stored


@dataclass
class ParsedUpload:
    rows: list[dict]  # every filled-in row, with its errors and warnings, for the preview
    groups: list[SlotRows]  # per indicator and area with a total row: what to save

    @cached_property  # asked several times of tens of thousands of rows; the rows are final once parsed
    def has_errors(self) -> bool:
        return any("errors" in r for r in self.rows)


class UploadContext:
    """Everything the rows are judged against, loaded with one query each. ``codes``, the
    indicator codes the file names, limits what is loaded to the indicators the file can touch
    (an organisation may return thousands; a file names some of them); None loads them all."""

    def __init__(self, organisation, period: ReportingPeriod, codes: set[str] | None = None):
        own = IndicatorAssignment.objects.filter(organisation=organisation, indicator__is_active=True)
        if codes is not None:
            own = among(own, "performance_indicator.code", sorted(codes))  # the join indicator__is_active makes
        assigned = list(own.values_list("indicator_id", "locality_id"))
        # explicit ids, not a subquery: the planner then reads the indexes of the slots named
        self.indicator_ids = sorted({indicator_id for indicator_id, _ in assigned})
        indicators = {i.id: i for i in among(Indicator.objects.all(), "performance_indicator.id", self.indicator_ids)}
        localities = {loc.id: loc for loc in Locality.objects.all()}
        self.slots: dict[tuple[str, str], tuple] = {}
        for indicator_id, locality_id in assigned:
            indicator, locality = indicators[indicator_id], localities[locality_id]
            self.slots[(indicator.code, locality.gss_code)] = (indicator, locality)
        self.codes: set[str] = {i.code for i in indicators.values()}
        self.dimensions: dict[int, set[int]] = {}
        through = Indicator.breakdown_dimensions.through
        for indicator_id, dimension_id in among(through.objects.all(), f"{through._meta.db_table}.indicator_id",
                                                self.indicator_ids).values_list(
            "indicator_id", "breakdowndimension_id"
        ):
            self.dimensions.setdefault(indicator_id, set()).add(dimension_id)
        self.categories = {f"{c.dimension.code}:{c.code}": c for c in BreakdownCategory.objects.select_related("dimension")}
        self.returned = {i.id: bool(period_for_indicator(i, [period])) for i in indicators.values()}
        self.stored: dict[tuple[int, int], StoredReturn] = {}  # totals by slot
        self.breakdowns: dict[tuple[int, int], dict[int, StoredReturn]] = {}  # by slot, then category
        stored = among(IndicatorReturn.objects.filter(period=period), "performance_indicatorreturn.indicator_id",
                       self.indicator_ids)
        for row in stored.values_list(
            "indicator_id", "locality_id", "breakdown_id", "pk", "organisation_id", "state", "version", "value",
            "numerator", "denominator", "commentary", *validation.QUALITY_FIELDS,
        ):
            if row[2] is None:
                self.stored[row[:2]] = StoredReturn(*row[3:])
            else:
                self.breakdowns.setdefault(row[:2], {})[row[2]] = StoredReturn(*row[3:])

    @staticmethod
    def history(period, slots) -> dict[tuple[int, int], list[Decimal]]:
        """Each of ``slots``' (indicator id, area id) last eight approved values of earlier periods
        of the same kind, oldest first (what ``validation.value_history`` gives for one slot), in
        one query (``validation.approved_history``)."""
        return validation.approved_history(period, set(slots))


class RowCheck:
    """Checks one filled-in row against the context and files it in its group."""

    def __init__(self, organisation, period, context: UploadContext, index: dict, rows: list, groups: dict):
        self.organisation, self.period, self.context, self.rows, self.groups = organisation, period, context, rows, groups
        self.at = {name: index[name] for name in ("period", "indicator_code", "area_gss_code", "breakdown", "version")}

    def __call__(self, line: int, record: list[str], value: str, numerator: str, denominator: str, commentary: str) -> None:
        at, context, period = self.at, self.context, self.period
        code = unneutralised(record[at["indicator_code"]].strip())
        gss = unneutralised(record[at["area_gss_code"]].strip())
        breakdown = unneutralised(record[at["breakdown"]].strip())
        row = {"line": line, "indicator": shortened(code), "area": shortened(gss, 20), "breakdown": shortened(breakdown, 60)}
        self.rows.append(row)
        errors: list[dict] = []
        period_label = unneutralised(record[at["period"]].strip())
        if period_label != period.label:
            errors.append(cell_error("period", f"The period is “{shortened(period_label, 20)}”; this upload is for {period.label}."))
        slot = context.slots.get((code, gss))
        if slot is None:
            errors.append(cell_error(
                "area_gss_code" if code in context.codes else "indicator_code",
                f"{self.organisation} does not return indicator “{shortened(code, 30)}” for area “{shortened(gss, 12)}”.",
            ))
            row["errors"] = errors
            return
        indicator, locality = slot
        if not context.returned[indicator.id]:
            errors.append(cell_error("period", services.not_returned_message(indicator, period)))
            row["errors"] = errors
            return
        key = (indicator.id, locality.id)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = SlotRows(indicator, locality)
        if breakdown:
            figure = number_or_error(value, "value", errors, indicator.unit)
            category = context.categories.get(breakdown)
            if category is None or category.dimension_id not in context.dimensions.get(indicator.id, ()):
                errors.append(cell_error("breakdown", f"“{shortened(breakdown)}” is not a breakdown of {indicator.code}."))
            elif category.id in group.breakdown_rows:
                first = group.breakdown_rows[category.id]["line"]
                errors.append(cell_error(
                    "breakdown",
                    f"The {breakdown} row of {indicator.code} for {locality.name} appears more than once (rows {first} and {line}).",
                ))
            else:
                group.breakdown_rows[category.id] = row
                group.breakdown_values[category.id] = figure
            if errors:
                row["errors"] = errors
            return
        if group.total is not None:
            errors.append(cell_error(
                "indicator_code",
                f"{indicator.code} for {locality.name} appears more than once (rows {group.total['line']} and {line}).",
            ))
            row["errors"] = errors
            return
        figures = (number_or_error(value, "value", errors, indicator.unit), number_or_error(numerator, "numerator", errors),
                   number_or_error(denominator, "denominator", errors), unneutralised(commentary))
        for problem in validation.commentary_errors(figures[3]).values():  # as stored: the apostrophe taken off
            errors.append(cell_error("commentary", problem))
        group.total, group.figures = row, figures
        current = group.current = context.stored.get(key)
        group.stored_breakdowns = context.breakdowns.get(key, {})
        version_text = record[at["version"]].strip()
        version = None
        if version_text:
            try:
                version = int(unneutralised(version_text))
            except ValueError:
                errors.append(cell_error("version", "The version must be the whole number from the template."))
        if current is not None:
            if current.organisation_id != self.organisation.id:
                errors.append(cell_error("indicator_code", "This return was entered by another organisation; it cannot be changed by your upload."))
            elif current.state in DONE_STATES:
                group.frozen = True  # its rows may come back as downloaded; check_slot compares them
            elif version != current.version:
                errors.append(cell_error(
                    "version",
                    f"This return has changed since the template was downloaded (it is now version {current.version}). "
                    "Download a new template.",
                ))
            row["action"] = "unchanged" if group.frozen else "update"
        else:
            row["action"] = "create"
        if errors:
            row["errors"] = errors


def check_slot(group: SlotRows, context: UploadContext, history: dict | None) -> None:
    """The checks of a whole return (its total and breakdowns): the services' rules for
    figures, and (with ``history``) the warnings the return form would show."""
    indicator = group.indicator
    total = group.total
    if total is None:
        for row in group.breakdown_rows.values():
            row.setdefault("errors", []).append(cell_error(
                "breakdown", "A breakdown row needs the total row of its indicator and area in the same file."
            ))
        return
    value, numerator, denominator, commentary = group.figures
    figures = group.figures = validation.IndicatorFigures(
        value=value, numerator=numerator, denominator=denominator, commentary=commentary,
        breakdowns=group.breakdown_values,
    )
    if "errors" in total or any("errors" in r for r in group.breakdown_rows.values()):
        return
    if group.frozen:
        check_unchanged(group, figures)
        return
    problems = validation.figure_errors(indicator, figures, group.current)  # data quality as stored
    if not problems:
        try:
            validation.check_draft_figures(indicator, figures, group.current)
        except ValidationError as invalid:
            problems = {k: " ".join(v) for k, v in error_dict(invalid, non_field="value").items()}
    if problems:
        for name, message in problems.items():
            row = total
            if name.startswith("breakdown_"):
                row = group.breakdown_rows.get(int(name.removeprefix("breakdown_")), total)
                name = "value"
            row.setdefault("errors", []).append(cell_error(name if name in COLUMNS else "value", message))
        return
    computed = validation.computed_value(indicator, figures)
    total["value_display"] = figure_for_input(computed, indicator.decimal_places)  # "5,177.0", every place kept
    if history is None:
        return
    found = []
    unit = "%" if indicator.unit == Indicator.Unit.PERCENTAGE else ""
    if warning := validation.outlier_warning(computed, history.get((indicator.id, group.locality.id), ()), unit_label=unit):
        found.append(warning)
    if indicator.aggregation == Indicator.Aggregation.SUM and figures.breakdowns:
        by_dimension: dict[str, dict[str, Decimal | None]] = {}
        for category in context.categories.values():
            if category.id in figures.breakdowns:
                by_dimension.setdefault(category.dimension.name, {})[category.label] = figures.breakdowns[category.id]
        for dimension, parts in sorted(by_dimension.items()):
            if warning := rules.breakdown_warning(computed, parts, dimension):
                found.append(warning)
    if found:
        total["warnings"] = found


def check_unchanged(group: SlotRows, figures) -> None:
    """A submitted or approved return's rows may come back as the template gave them (nothing
    is saved for them); any change to them is an error."""
    current = group.current
    # the file carries no data-quality fields: those are compared as stored (as ``imports.save_slots`` writes them)
    changed = bool(audit.field_changes(current, validation.return_values(group.indicator, figures, current)))
    for category_id, value in figures.breakdowns.items():
        stored = group.stored_breakdowns.get(category_id)
        changed |= (stored.value if stored else None) != value
    if changed:
        group.total.setdefault("errors", []).append(cell_error(
            "version",
            f"This return is already {current.get_state_display().lower()}; it cannot be changed by upload. "
            "Leave its rows as downloaded, or empty.",
        ))
    else:
        for row in group.breakdown_rows.values():
            row["action"] = "unchanged"
