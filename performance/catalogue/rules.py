"""Pure rules of judging a figure: its status against target (and the words and colour of each
status), whether it is complete enough to be judged at all, outliers and breakdown totals,
confidence limits (Wilson, Poisson, a survey's published interval) and direction of travel.
No database access here, so the return form, the API, the CSV import and the rollups all judge
a figure the same way; ``rollups/sql/rules.sql`` holds their SQL twins."""
from __future__ import annotations

import math
import statistics
from decimal import Decimal

GREEN, AMBER, RED, NO_TARGET = "green", "amber", "red", "no_target"
INCOMPLETE = "incomplete"  # too few areas reported for the figure to be judged at all
NO_DATA = "no_data"  # no figure at all yet
# The one wording and colour of each status, wherever it is shown (pages, reports, CSV, the
# ``status_label``/``status_tag`` template filters).
STATUS_LABELS = {
    GREEN: "On target", AMBER: "Within tolerance", RED: "Off target", NO_TARGET: "No target",
    INCOMPLETE: "Not judged: incomplete", NO_DATA: "No data yet",
}
STATUS_TAGS = {GREEN: "green", AMBER: "yellow", RED: "red"}  # GOV.UK tag colours; every other status is grey


def status_label(status: str | None) -> str:
    return STATUS_LABELS.get(status or NO_DATA, STATUS_LABELS[NO_DATA])


def status_tag(status: str | None) -> str:
    return STATUS_TAGS.get(status or NO_DATA, "grey")

OUTLIER_SD = Decimal(3)
OUTLIER_CHANGE_PERCENT = Decimal(50)
OUTLIER_MIN_HISTORY = 4


def rag_status(*, value: Decimal | None, target: Decimal | None, tolerance_percent: Decimal | None, polarity: str) -> str:
    """Green when the value meets the target in the better direction; amber when it misses by no
    more than the tolerance (a percentage of the target); red beyond it. Neutral indicators and
    missing figures have no status."""
    if value is None or target is None or polarity == "neutral":
        return NO_TARGET
    shortfall = (target - value) if polarity == "higher_is_better" else (value - target)
    if shortfall <= 0:
        return GREEN
    band = abs(target) * (tolerance_percent or Decimal(0)) / Decimal(100)
    return AMBER if shortfall <= band else RED


def is_off_target(status: str) -> bool:
    """Amber or red: a figure that misses its target, which an officer explains in a commentary
    and a dashboard lists among the exceptions."""
    return status in (AMBER, RED)


def commentary_reason(status: str, *, warned: bool = False) -> str:
    """Why a commentary is required, in the words the page's verdict uses for the same figure
    (``STATUS_LABELS``): "the value is within tolerance" beside "Within tolerance", never
    "off target" beside it."""
    if warned:
        return "the figures raise a warning"
    return f"the value is {status_label(status).lower()}"


# --- Completeness: which figures may be judged at all ---------------------------------------------

def required_coverage(*, expected: int, aggregation: str, min_coverage: int | None) -> int:
    """How many of the ``expected`` areas must have reported before a figure may be judged. A
    sum needs every area (a county count from 3 of 12 districts is a quarter of the county, not
    a low figure); a rate or percentage (the ratio of summed numerators and denominators) may be
    judged from part of the county when the indicator says so (``min_coverage`` districts),
    never from fewer than one area; everything else needs every area."""
    if aggregation == "ratio" and min_coverage:
        return max(1, min(expected, min_coverage))
    return expected


def is_complete(*, reporting: int, expected: int, aggregation: str, min_coverage: int | None) -> bool:
    """Whether a figure built from ``reporting`` of ``expected`` areas may be judged (status
    against target, direction of travel, rank, KPQ answers). SQL twin: ``kf_complete``."""
    if expected <= 0 or reporting <= 0:
        return False
    return reporting >= required_coverage(expected=expected, aggregation=aggregation, min_coverage=min_coverage)


def outlier_warning(value: Decimal | None, history: list[Decimal], *, unit_label: str = "") -> str | None:
    """A warning when ``value`` is unusual against the indicator's own history for the area (most
    recent last): beyond three standard deviations of at least four past values, or a change of
    more than 50% on the last value. The officer may confirm it with a comment."""
    if value is None or not history:
        return None
    previous = history[-1]
    if len(history) >= OUTLIER_MIN_HISTORY:
        mean = statistics.fmean(float(v) for v in history)
        sd = statistics.pstdev(float(v) for v in history)
        if sd > 0 and abs(float(value) - mean) > float(OUTLIER_SD) * sd:
            return (
                f"{number_words(value)}{unit_label} is more than three standard deviations from this area's "
                f"last {len(history)} values (average {number_words(Decimal(str(round(mean, 2))))}{unit_label}). "
                "Check the figure, or confirm it and say why in the commentary."
            )
    if previous:
        change = (value - previous) / abs(previous) * 100
        if abs(change) > OUTLIER_CHANGE_PERCENT:
            direction = "up" if change > 0 else "down"
            return (
                f"{number_words(value)}{unit_label} is {direction} {abs(change):.0f}% on last period's "
                f"{number_words(previous)}{unit_label}. Check the figure, or confirm it and say why in the commentary."
            )
    return None


def breakdown_warning(total: Decimal | None, parts: dict[str, Decimal | None], dimension: str) -> str | None:
    """A warning when the values of one breakdown dimension do not add up to the total."""
    given = [v for v in parts.values() if v is not None]
    if total is None or not given:
        return None
    summed = sum(given, Decimal(0))
    if summed != total:
        return (
            f"The {dimension.lower()} breakdown adds up to {number_words(summed)}, not the total of {number_words(total)}. "
            "Check the figures, or confirm them and say why in the commentary."
        )
    return None


def number_words(value: Decimal) -> str:
    normal = value.normalize()
    text = f"{normal:f}"
    sign = "-" if text.startswith("-") else ""
    text = text.lstrip("-")
    if "." in text:
        whole, fraction = text.split(".")
        return f"{sign}{int(whole):,}.{fraction}"
    return f"{sign}{int(text):,}"


# --- Confidence limits and direction of travel -----------------------------------------------

Z95 = 1.959964
NO_CHANGE_BAND = 0.02  # figures without confidence limits: within ±2% counts as no change


def wilson_interval(numerator: float, denominator: float, z: float = Z95) -> tuple[float, float] | None:
    """95% Wilson score interval of a proportion, as a fraction (0-1)."""
    if denominator is None or denominator <= 0 or numerator is None:
        return None
    p = numerator / denominator
    n = denominator
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = (z / (1 + z * z / n)) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def poisson_interval(count: float, z: float = Z95) -> tuple[float, float] | None:
    """95% confidence interval of a count (Byar's approximation to the exact Poisson limits)."""
    if count is None or count < 0:
        return None
    lower = 0.0 if count == 0 else count * (1 - 1 / (9 * count) - z / (3 * math.sqrt(count))) ** 3
    upper = (count + 1) * (1 - 1 / (9 * (count + 1)) + z / (3 * math.sqrt(count + 1))) ** 3
    return lower, upper


def confidence_limits(*, unit: str, aggregation: str, multiplier: float, value, numerator, denominator):
    """Confidence limits of a figure on its own scale: Wilson for percentages, Poisson (Byar) for
    rates per 1,000 or 100,000 and for counts; none for other figures."""
    if aggregation == "ratio" and numerator is not None and denominator:
        if unit == "percentage":
            interval = wilson_interval(float(numerator), float(denominator))
            return None if interval is None else (interval[0] * 100, interval[1] * 100)
        interval = poisson_interval(float(numerator))
        if interval is None:
            return None
        scale = multiplier / float(denominator)
        return interval[0] * scale, interval[1] * scale
    if unit == "count" and value is not None:
        return poisson_interval(float(value))
    return None


def survey_limits(*, unit: str, value, ci_lower, ci_upper, sample_base):
    """Confidence limits of a survey estimate: the interval its source published; else, for a
    percentage, a Wilson interval on the unweighted sample base (the people who answered, not
    the weighted population the estimate stands for, which would give ±0.1 points where the
    real interval is ±3 to 5); else none, and then no direction of travel is claimed."""
    if ci_lower is not None and ci_upper is not None:
        return float(ci_lower), float(ci_upper)
    if unit == "percentage" and value is not None and sample_base:
        n = float(sample_base)
        interval = wilson_interval(min(max(float(value), 0.0), 100.0) / 100 * n, n)
        return None if interval is None else (interval[0] * 100, interval[1] * 100)
    return None


def direction(*, current, previous, current_ci=None, previous_ci=None, polarity: str) -> str:
    """Improving, worsening or no significant change, by polarity. With confidence limits on
    both figures a change counts only when the intervals do not overlap; without them, a change
    within ±2% is no change."""
    if current is None or previous is None or polarity == "neutral":
        return "not_comparable"
    current, previous = float(current), float(previous)
    if current_ci and previous_ci:
        if current_ci[0] > previous_ci[1]:
            moved = 1
        elif current_ci[1] < previous_ci[0]:
            moved = -1
        else:
            return "no_change"
    else:
        if previous == 0:
            return "no_change" if current == 0 else ("improving" if (current > 0) == (polarity == "higher_is_better") else "worsening")
        change = (current - previous) / abs(previous)
        if abs(change) <= NO_CHANGE_BAND:
            return "no_change"
        moved = 1 if change > 0 else -1
    better = moved > 0 if polarity == "higher_is_better" else moved < 0
    return "improving" if better else "worsening"


# A figure's unit as people write it beside the number (GOV.UK prefix and suffix): "£17,620",
# "35.2%", "620.3 per 100,000". Forms show them around the input (hidden from screen readers,
# as the label says the unit in words); pages and packs write them with the figure.
UNIT_AFFIXES = {
    "currency_gbp": ("£", ""), "percentage": ("", "%"), "percentage_points": ("", " points"),
    "rate_per_1000": ("", " per 1,000"), "rate_per_100000": ("", " per 100,000"), "days": ("", " days"),
    "years": ("", " years"),
}


def with_unit(text: str, unit: str) -> str:
    """A figure already written as text, with its unit: "£" before, the rest after."""
    prefix, suffix = UNIT_AFFIXES.get(unit, ("", ""))
    return f"{prefix}{text}{suffix}"
