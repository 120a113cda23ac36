"""Pure rules of performance: status against target, outliers. No database access here, so the
return form, the API, the CSV import and the rollups all judge a figure the same way."""
from __future__ import annotations

import statistics
from decimal import Decimal

GREEN, AMBER, RED, NO_TARGET = "green", "amber", "red", "no_target"
STATUS_LABELS = {GREEN: "On target", AMBER: "Within tolerance", RED: "Off target", NO_TARGET: "No target"}

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


def is_off_target(**kwargs) -> bool:
    return rag_status(**kwargs) in (AMBER, RED)


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
                f"{_fmt(value)}{unit_label} is more than three standard deviations from this area's "
                f"last {len(history)} values (average {_fmt(Decimal(str(round(mean, 2))))}{unit_label}). "
                "Check the figure, or confirm it and say why in the commentary."
            )
    if previous:
        change = (value - previous) / abs(previous) * 100
        if abs(change) > OUTLIER_CHANGE_PERCENT:
            direction = "up" if change > 0 else "down"
            return (
                f"{_fmt(value)}{unit_label} is {direction} {abs(change):.0f}% on last period's "
                f"{_fmt(previous)}{unit_label}. Check the figure, or confirm it and say why in the commentary."
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
            f"The {dimension.lower()} breakdown adds up to {_fmt(summed)}, not the total of {_fmt(total)}. "
            "Check the figures, or confirm them and say why in the commentary."
        )
    return None


def _fmt(value: Decimal) -> str:
    normal = value.normalize()
    text = f"{normal:f}"
    if "." in text:
        whole, fraction = text.split(".")
        return f"{int(whole):,}.{fraction}"
    return f"{int(normal):,}"
