"""What a return's figures must be before they are saved or submitted: the figures an officer
sends (``IndicatorFigures``, ``MilestoneProgress``), their errors, their data-quality flags,
and the warnings (target, outlier against the approved history, breakdown totals) that an
officer confirms with a comment."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F, Window
from django.db.models.functions import RowNumber

from kentforum.forms import NUMBER_LIMIT
from performance.catalogue import rules
from performance.catalogue.services import target_for
from performance.models import (
    BreakdownCategory,
    DataQuality,
    IndicatorReturn,
    MilestoneReturn,
    ReportingPeriod,
    WorkflowState,
)

COMMENTARY_MAX_LENGTH = 5000  # characters of a return's commentary, whichever door it comes through
COMMENTARY_TOO_LONG = "The commentary has {length:,} characters; the limit is {limit:,}."


def commentary_errors(text: str | None) -> dict[str, str]:
    """The commentary's one rule: at most ``COMMENTARY_MAX_LENGTH`` characters. The form, the API
    serializers and the CSV import check it with this limit; the services check it again."""
    length = len(text or "")
    if length > COMMENTARY_MAX_LENGTH:
        return {"commentary": COMMENTARY_TOO_LONG.format(length=length, limit=COMMENTARY_MAX_LENGTH)}
    return {}


# --- A figure typed as text -------------------------------------------------------------------

FIGURE_PLACES = 4  # decimal places a figure keeps (decimal(20, 4)), as the API's serializers refuse more
STORED_PLACES = Decimal(1).scaleb(-FIGURE_PLACES)
# Digits, with commas or spaces only between groups of three, then a full stop and decimals.
FIGURE_BODY = re.compile(r"(?:\d+|\d{1,3}(?:,\d{3})+|\d{1,3}(?:[ \u00a0\u202f]\d{3})+)(?:\.\d*)?|\.\d+", re.ASCII)
SEPARATORS = re.compile(r"[,\s]")  # what FIGURE_BODY allows between groups of three digits
LOOKS_LIKE_DIGITS = re.compile(r"[0-9.,\s]*[0-9][0-9.,\s]*")  # digits, but not as FIGURE_BODY has them
SIGNS = "-+\u2212"  # a minus, a plus, the typographic minus
UNIT_SIGNS = {  # a unit's sign, which units may carry it, and what to say when one may not
    "£": (("currency_gbp",), "only figures in pounds have one"),
    "%": (("percentage", "percentage_points"), "only percentages have one"),
}


def parse_figure(text, *, unit: str | None = None, what: str = "the value") -> Decimal | None:
    """A figure as people write it, or ``None`` if nothing is written: the one rule of every
    door that takes figures as text (the return form and the CSV import; the API takes JSON
    numbers). Allowed: spaces around it; commas or spaces between groups of three digits
    ("5,177", "5 177"); a full stop for decimals; a sign; a spreadsheet's leading apostrophe;
    "£" for a figure in pounds and "%" for a percentage (``unit``, an ``Indicator.Unit``
    value; ``None`` for a count, such as a numerator). At most ``FIGURE_PLACES`` decimal places
    (as the API's serializers; zeros after them lose nothing) and less than 10^16, as stored. Anything else, including the ambiguous "5,17" and
    "1.234,5", raises a ``ValidationError`` that says what to write (``what`` names the
    figure), with a code: ``invalid`` (not a number at all: a door may say so in its own
    words), ``ambiguous``, ``unit``, ``places`` or ``too_big``."""
    rest = str(text).strip().removeprefix("\'").strip()
    if not rest:
        return None
    sign = ""
    if rest[0] in SIGNS:
        sign, rest = rest[0], rest[1:].lstrip()
    found = []
    if rest.startswith("£"):
        found.append("£")
        rest = rest[1:].lstrip()
        if not sign and rest[:1] and rest[:1] in SIGNS:
            sign, rest = rest[0], rest[1:].lstrip()
    if rest.endswith("%"):
        found.append("%")
        rest = rest[:-1].rstrip()
    if not FIGURE_BODY.fullmatch(rest):
        if LOOKS_LIKE_DIGITS.fullmatch(rest):
            raise ValidationError(
                f"Enter {what} with commas only between groups of three digits and a full stop for decimals, "
                f"like 5,177 or 5177.5 (“{shorten(text)}” could be read more than one way).", code="ambiguous",
            )
        raise ValidationError(f"Enter {what} as a number, like 5,177 or 5177.5.", code="invalid")
    for symbol in found:
        units, why = UNIT_SIGNS[symbol]
        if unit not in units:
            raise ValidationError(f"Enter {what} without the {symbol} sign: {why}.", code="unit")
    number = Decimal(SEPARATORS.sub("", rest) if not rest.isdigit() else rest)
    if -number.normalize().as_tuple().exponent > FIGURE_PLACES:  # zeros after the last digit lose nothing
        raise ValidationError(
            f"Enter {what} with at most {FIGURE_PLACES} decimal places (figures are kept to {FIGURE_PLACES}).",
            code="places",
        )
    if number >= NUMBER_LIMIT:
        raise ValidationError(f"Enter {what} as a number smaller than {NUMBER_LIMIT:,f}.", code="too_big")
    number = number.quantize(STORED_PLACES) if -number.as_tuple().exponent > FIGURE_PLACES else number
    return -number if sign in ("-", "\u2212") and number else number


def shorten(text, limit: int = 40) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
QUALITY_FLAGS = frozenset(DataQuality.values)  # read once: an enum's values are rebuilt at every call
QUALITY_DEFAULTS = {"quality": DataQuality.FINAL, "source_released": None, "quality_note": "", "ci_lower": None,
                    "ci_upper": None, "sample_base": None}


def quality_values(figures: IndicatorFigures, stored=None) -> dict:
    """The data-quality and survey fields a save writes: what was sent, over what is stored."""
    base = {name: getattr(stored, name) for name in QUALITY_FIELDS} if stored is not None else dict(QUALITY_DEFAULTS)
    if not figures.quality:  # the CSV import's figures never carry any: the stored or default ones
        return base
    unknown = set(figures.quality) - set(QUALITY_FIELDS)
    if unknown:
        raise ValueError(f"not data-quality fields: {sorted(unknown)}")
    return {**base, **{k: ("" if k == "quality_note" and v is None else v) for k, v in figures.quality.items()}}


def indicator_value_from_rate(*, indicator, numerator: Decimal, denominator: Decimal) -> Decimal:
    """The value of a rate or percentage: numerator / denominator × the unit's multiplier."""
    value = Decimal(numerator) / Decimal(denominator) * indicator.multiplier
    return value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def computed_value(indicator, figures: IndicatorFigures) -> Decimal | None:
    if indicator.is_rate:
        if figures.numerator is not None and figures.denominator:
            return indicator_value_from_rate(indicator=indicator, numerator=figures.numerator, denominator=figures.denominator)
        return None
    return figures.value


def check_draft_figures(indicator, figures: IndicatorFigures, stored=None) -> None:
    """What even a draft must satisfy: what the database itself would refuse."""
    errors = commentary_errors(figures.commentary)
    if figures.denominator is not None and figures.denominator <= 0:
        errors["denominator"] = "The denominator must be more than 0."
    errors.update(quality_errors(indicator, quality_values(figures, stored)))
    if errors:
        raise ValidationError(errors)


def quality_errors(indicator, values: dict) -> dict[str, str]:
    """The data-quality and survey fields: a known flag; a published interval whole and in
    order; a sample base of at least one; intervals and bases only on survey estimates."""
    errors: dict[str, str] = {}
    if values["quality"] not in QUALITY_FLAGS:
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
    value = computed_value(indicator, figures)
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
            errors[field_name] = f"The value must be at least {rules.number_words(indicator.min_value)}."
        elif indicator.max_value is not None and value > indicator.max_value:
            errors[field_name] = f"The value must be at most {rules.number_words(indicator.max_value)}."
        elif indicator.unit == indicator.Unit.PERCENTAGE and not (0 <= value <= 100):
            errors[field_name] = "A percentage is between 0 and 100."
        elif indicator.unit == indicator.Unit.COUNT and value < 0:
            errors[field_name] = "A count cannot be negative."
    for category_id, part in figures.breakdowns.items():
        if part is not None and part < 0 and indicator.unit == indicator.Unit.COUNT:
            errors[f"breakdown_{category_id}"] = "A count cannot be negative."
    return errors


def outlier_warning(value: Decimal | None, history: list[Decimal], *, unit_label: str = "") -> str | None:
    """``rules.outlier_warning``, the same answer, faster for the many values of an import or a
    bulk entry: a quick screen in floating point first, and the rule itself only where the screen
    cannot rule a warning out. The rule's standard deviation is exact (``statistics`` sums the
    squares as fractions), which costs far more than the warning's threshold needs; the screen
    passes anything within a millionth of either threshold on to the rule, so the two never
    disagree (tests/performance/test_loads_rules.py checks them on generated histories)."""
    if value is None or not history:
        return None
    if _may_be_outlier(float(value), [float(v) for v in history]):
        return rules.outlier_warning(value, history, unit_label=unit_label)
    return None


def _may_be_outlier(value: float, history: list[float]) -> bool:
    """Whether ``rules.outlier_warning`` might warn: False only when, in floating point, the value
    is clearly (by a millionth) inside both of its thresholds."""
    near = 1 - 1e-6
    previous = history[-1]
    if previous and abs(value - previous) / abs(previous) * 100 > float(rules.OUTLIER_CHANGE_PERCENT) * near:
        return True
    if len(history) >= rules.OUTLIER_MIN_HISTORY:
        mean = math.fsum(history) / len(history)
        sd = math.sqrt(math.fsum((v - mean) ** 2 for v in history) / len(history))
        if sd == 0:
            return value != mean or any(v != mean for v in history)  # exactly zero spread: let the rule decide
        if abs(value - mean) > float(rules.OUTLIER_SD) * sd * near:
            return True
    return False


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


# The fields the value is computed from: an error in one leaves no figure to warn about or judge.
FIGURE_FIELDS = frozenset({"value", "numerator", "denominator"})


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
    value = computed_value(indicator, figures)
    warnings: list[str] = []
    if not errors.keys() & FIGURE_FIELDS:  # warnings weigh the figures, whatever else is wrong
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
        commentary_required=rules.is_off_target(status) or bool(warnings),
    )


def commentary_required_error(assessment: FigureAssessment) -> str:
    """The message of a submission without the commentary its figures require, worded by the
    rule of the page's verdict (``rules.commentary_reason``)."""
    reason = rules.commentary_reason(assessment.status, warned=bool(assessment.warnings))
    return f"Add a commentary: {reason}. Say why, and what is being done."


def return_values(indicator, figures: IndicatorFigures, stored=None) -> dict:
    return {
        "value": computed_value(indicator, figures),
        "numerator": figures.numerator if indicator.is_rate else None,
        "denominator": figures.denominator if indicator.is_rate else None,
        "commentary": figures.commentary,
        **quality_values(figures, stored),
    }


def creation_changes(values: dict) -> dict:
    """The audit changes of a new return: every field given a value other than its default."""
    defaults = QUALITY_DEFAULTS  # compared by type first: a Decimal compared with "" costs a failed coercion
    return {k: (None, v) for k, v in values.items()
            if v is not None and not (isinstance(v, str) and v == "") and (k not in defaults or v != defaults[k])}


# --- Milestone returns -----------------------------------------------------------------------

@dataclass(frozen=True)
class MilestoneProgress:
    status: str
    percent_complete: int
    revised_date: date | None = None
    commentary: str = ""


def milestone_draft_errors(progress: MilestoneProgress) -> dict[str, str]:
    """What even a draft of a milestone return must satisfy (what the database itself refuses,
    constraint ``complete_milestone_is_100_percent``): percent complete 0..100, a complete
    milestone 100% complete; and the commentary's limit."""
    errors = commentary_errors(progress.commentary)
    if not 0 <= progress.percent_complete <= 100:
        errors["percent_complete"] = "Percent complete is between 0 and 100."
    elif progress.status == MilestoneReturn.Status.COMPLETE and progress.percent_complete != 100:
        errors["percent_complete"] = "A complete milestone is 100% complete."
    return errors


def milestone_errors(progress: MilestoneProgress, milestone) -> dict[str, str]:
    """What a submitted milestone return must satisfy: the draft's rules, a milestone not
    started 0% complete, a commentary when at risk or off track, a revised date after the due date."""
    errors = milestone_draft_errors(progress)
    if "percent_complete" in errors:
        pass
    elif progress.status == MilestoneReturn.Status.NOT_STARTED and progress.percent_complete > 0:
        errors["percent_complete"] = "A milestone that has not started is 0% complete."
    if progress.status in (MilestoneReturn.Status.AT_RISK, MilestoneReturn.Status.OFF_TRACK) and not progress.commentary.strip():
        errors["commentary"] = "Add a commentary: say why the milestone is at risk or off track and what is being done."
    if progress.revised_date and progress.revised_date < milestone.due_date and progress.status != MilestoneReturn.Status.COMPLETE:
        errors["revised_date"] = "A revised date is later than the due date; leave it empty if the date has not changed."
    return errors


# --- What submissions are judged against, for many returns at once -------------------------------

def among(queryset, column: str, values: list):
    """``queryset`` limited to rows whose ``column`` (table-qualified SQL, of a table the query
    reads) is one of ``values``. On PostgreSQL that is one array parameter (``= ANY``): an import
    names thousands of indicators, and Django takes longer to bind thousands of ``IN``
    parameters one by one than the database takes to read the rows. Elsewhere, ``IN``."""
    if not values:
        return queryset.none()
    if connection.vendor == "postgresql":
        return queryset.extra(where=[f"{column} = ANY(%s)"], params=[list(values)])
    table, name = column.rsplit(".", 1)
    field = next(f.attname for f in queryset.model._meta.concrete_fields if f.column == name) \
        if table == queryset.model._meta.db_table else None
    if field is None:  # a joined table's column: IN by a raw condition, as the array is above
        marks = ", ".join(["%s"] * len(values))
        return queryset.extra(where=[f"{column} IN ({marks})"], params=list(values))
    return queryset.filter(**{f"{field}__in": values})


def approved_history(period: ReportingPeriod, slots: set[tuple[int, int]]) -> dict[tuple[int, int], list[Decimal]]:
    """For each (indicator id, area id) slot, its approved values of earlier periods of the same
    kind as ``period``, oldest first: what ``value_history`` gives for one slot, for
    all of them in one query. The query names the slots' indicators, areas and the
    ``HISTORY_PERIODS`` periods it draws from, so that it reads the unique (indicator,
    area, period) index, not whole periods."""
    period_ids = [row["pk"] for row in history_periods(period)]
    if not period_ids or not slots:
        return {}
    if connection.vendor == "postgresql":
        return _approved_history_postgresql(period_ids, slots)
    latest = (
        among(IndicatorReturn.objects.filter(
            locality_id__in=sorted({loc for _, loc in slots}),
            period_id__in=period_ids, breakdown__isnull=True, state=WorkflowState.APPROVED, value__isnull=False,
        ), "performance_indicatorreturn.indicator_id", sorted({i for i, _ in slots}))
        .annotate(n=Window(RowNumber(), partition_by=[F("indicator_id"), F("locality_id")],
                           order_by=F("period__start").desc()))
        .filter(n__lte=HISTORY_VALUES)
        .order_by("indicator_id", "locality_id", "-n")
        .values_list("indicator_id", "locality_id", "value")
    )
    history: dict[tuple[int, int], list[Decimal]] = {}
    for indicator_id, locality_id, value in latest:
        key = (indicator_id, locality_id)
        if key in slots:
            history.setdefault(key, []).append(value)
    return history


# Each slot's history read through the unique (indicator, area, period) index of totals, slot by
# slot: the plan stays the same whatever the table's statistics say (a plan over whole periods
# and areas, which the planner may prefer after a large load, took ten times as long).
HISTORY_SQL = """
SELECT s.indicator_id, s.locality_id, h.value
FROM unnest(%(indicators)s::bigint[], %(localities)s::bigint[]) AS s(indicator_id, locality_id)
CROSS JOIN LATERAL (
    SELECT r.value, p.start
    FROM performance_indicatorreturn r JOIN performance_reportingperiod p ON p.id = r.period_id
    WHERE r.indicator_id = s.indicator_id AND r.locality_id = s.locality_id AND r.period_id = ANY(%(periods)s)
      AND r.breakdown_id IS NULL AND r.state = %(approved)s AND r.value IS NOT NULL
    ORDER BY p.start DESC
    LIMIT %(limit)s
) h
ORDER BY s.indicator_id, s.locality_id, h.start
"""


def _approved_history_postgresql(period_ids: list[int], slots: set[tuple[int, int]]) -> dict[tuple[int, int], list[Decimal]]:
    """``approved_history`` on PostgreSQL: the same rows, in the same order (``HISTORY_SQL``)."""
    ordered = sorted(slots)
    history: dict[tuple[int, int], list[Decimal]] = {}
    with connection.cursor() as cursor:
        cursor.execute(HISTORY_SQL, {
            "indicators": [i for i, _ in ordered], "localities": [loc for _, loc in ordered], "periods": period_ids,
            "approved": WorkflowState.APPROVED.value, "limit": HISTORY_VALUES,
        })
        for indicator_id, locality_id, value in cursor.fetchall():
            history.setdefault((indicator_id, locality_id), []).append(value)
    return history
