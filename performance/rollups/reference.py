"""The rollup in Python: one slice (an indicator in a period) computed from its approved
returns, row by row, exactly as the set-based SQL does (``rollups.postgres``). It is the
engine on SQLite (the embedded default) and the oracle the SQL is tested against
(tests/performance/test_rollup_sql.py).

A slice is every district's row, the KCC area's aggregate and each breakdown, recomputed
whole from the approved returns of its period, the previous period and the same period a year
before (for direction of travel)."""
from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from localities.models import Locality
from performance.catalogue import rules
from performance.catalogue.services import targets_for
from performance.models import DataQuality, Indicator, IndicatorReturn, IndicatorRollup, ReportingPeriod, WorkflowState

FOUR_PLACES = Decimal("0.0001")


def _four_places(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


# --- Periods around a period -------------------------------------------------------------------

def previous_period(period: ReportingPeriod) -> ReportingPeriod | None:
    return ReportingPeriod.objects.filter(kind=period.kind, end=period.start - datetime.timedelta(days=1)).first()


def _shift_year(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def year_ago_period(period: ReportingPeriod) -> ReportingPeriod | None:
    if period.kind in (ReportingPeriod.Kind.FINANCIAL_YEAR, ReportingPeriod.Kind.CALENDAR_YEAR):
        return previous_period(period)
    return ReportingPeriod.objects.filter(kind=period.kind, start=_shift_year(period.start, -1)).first()


def dependent_periods(period: ReportingPeriod) -> list[ReportingPeriod]:
    """The periods whose direction of travel compares with ``period``: the next one and the one a year later."""
    found = list(
        ReportingPeriod.objects.filter(kind=period.kind).filter(
            start__in=[period.end + datetime.timedelta(days=1), _shift_year(period.start, 1)]
        )
    )
    return found


# --- Computing one slice -------------------------------------------------------------------------

@dataclass
class Figure:
    value: Decimal | None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    reporting: int = 0
    expected: int = 0
    missing: tuple = ()
    flags: tuple = ()  # data-quality flags of the returns in the figure (provisional, estimated, revised)
    commentary: str = ""  # the officer's, for an area's own figure
    published_ci: tuple | None = None  # survey estimates: the source's interval
    sample_base: int | None = None  # survey estimates: the unweighted sample base

    def ci(self, indicator: Indicator):
        if indicator.is_survey:
            return rules.survey_limits(
                unit=indicator.unit, value=self.value, ci_lower=self.published_ci[0] if self.published_ci else None,
                ci_upper=self.published_ci[1] if self.published_ci else None, sample_base=self.sample_base,
            )
        return rules.confidence_limits(
            unit=indicator.unit, aggregation=indicator.aggregation, multiplier=float(indicator.multiplier),
            value=self.value, numerator=self.numerator, denominator=self.denominator,
        )


def _flags(qualities) -> tuple:
    return tuple(sorted({q for q in qualities if q and q != DataQuality.FINAL}))


def aggregate(indicator: Indicator, parts: list[dict], expected: list[Locality]) -> Figure:
    """The KCC area's figure from its districts' approved figures, by the indicator's own method:
    a sum for counts and money totals; the ratio of summed numerators and denominators for rates
    and percentages (never an average of percentages); or not aggregable (a county figure of
    such an indicator is returned in its own right: reporting level "both")."""
    names = {loc.pk: loc.name for loc in expected}
    reported = [p for p in parts if p["locality_id"] in names]
    missing = tuple(sorted(name for pk, name in names.items() if pk not in {p["locality_id"] for p in reported}))
    figure = Figure(value=None, reporting=len(reported), expected=len(expected), missing=missing,
                    flags=_flags(p["quality"] for p in reported))
    if not reported:
        return figure
    if all(p["sample_base"] for p in reported):  # a survey's county base: the districts' bases together
        figure.sample_base = sum(p["sample_base"] for p in reported)
    method = indicator.aggregation
    if method == Indicator.Aggregation.SUM:
        figure.value = sum((p["value"] for p in reported if p["value"] is not None), Decimal(0))
    elif method == Indicator.Aggregation.RATIO:
        usable = [p for p in reported if p["numerator"] is not None and p["denominator"]]
        numerator = sum((p["numerator"] for p in usable), Decimal(0))
        denominator = sum((p["denominator"] for p in usable), Decimal(0))
        if denominator:
            figure.numerator, figure.denominator = numerator, denominator
            figure.value = _four_places(numerator / denominator * indicator.multiplier)
    return figure


def is_complete(indicator: Indicator, figure: Figure) -> bool:
    """Whether the figure exists and may be judged (rules.is_complete, by the indicator's own rule)."""
    return figure.value is not None and rules.is_complete(
        reporting=figure.reporting, expected=figure.expected, aggregation=indicator.aggregation,
        min_coverage=indicator.min_coverage,
    )


def compute_slice(indicator: Indicator, period: ReportingPeriod) -> list[IndicatorRollup]:
    """Every summary row of one indicator in one period, from approved returns only."""
    previous, year_ago = previous_period(period), year_ago_period(period)
    periods = [p for p in (period, previous, year_ago) if p is not None]
    county = Locality.objects.get(kind=Locality.Kind.COUNTY)
    districts = list(Locality.objects.filter(kind=Locality.Kind.DISTRICT).order_by("name"))
    level = indicator.reporting_level
    returns = (
        IndicatorReturn.objects.filter(indicator=indicator, period__in=periods, state=WorkflowState.APPROVED)
        .values("period_id", "locality_id", "breakdown_id", "breakdown__code", "breakdown__label",
                "breakdown__dimension__code", "breakdown__dimension__name", "value", "numerator", "denominator",
                "quality", "commentary", "ci_lower", "ci_upper", "sample_base")
    )
    returns = list(returns)
    # a breakdown's figure is as final as its area's total
    total_quality = {(r["period_id"], r["locality_id"]): r["quality"] for r in returns if not r["breakdown_id"]}
    by_key: dict[tuple, list[dict]] = defaultdict(list)
    labels = {"": ""}
    for row in returns:
        if row["breakdown_id"]:
            row["quality"] = total_quality.get((row["period_id"], row["locality_id"]), row["quality"])
        key = f"{row['breakdown__dimension__code']}:{row['breakdown__code']}" if row["breakdown_id"] else ""
        if key:
            labels[key] = f"{row['breakdown__dimension__name']}: {row['breakdown__label']}"
        by_key[(row["period_id"], key)].append(row)

    def own_figure(parts: list[dict], area: Locality) -> Figure:
        own = next((p for p in parts if p["locality_id"] == area.pk), None)
        if own is None:
            return Figure(value=None, reporting=0, expected=1, missing=(area.name,))
        return Figure(
            value=own["value"], numerator=own["numerator"], denominator=own["denominator"], reporting=1, expected=1,
            flags=_flags([own["quality"]]), commentary=own["commentary"] or "",
            published_ci=(own["ci_lower"], own["ci_upper"]) if own["ci_lower"] is not None and own["ci_upper"] is not None else None,
            sample_base=own["sample_base"],
        )

    def figures_for(period_id: int, key: str) -> dict[int, Figure]:
        parts = by_key.get((period_id, key), [])
        result: dict[int, Figure] = {}
        if level != Indicator.ReportingLevel.COUNTY:
            for district in districts:
                result[district.pk] = own_figure(parts, district)
        if level == Indicator.ReportingLevel.DISTRICT:
            result[county.pk] = aggregate(indicator, parts, districts)
        else:  # the county's figure is returned in its own right
            result[county.pk] = own_figure(parts, county)
        return result

    areas = [county] if level == Indicator.ReportingLevel.COUNTY else [*districts, county]
    keys = sorted({key for (pid, key) in by_key if pid == period.pk} | {""})
    now = timezone.now()
    rows = []
    target_cache = {area.pk: targets_for(indicator, area, [period.pk]).get(period.pk) for area in areas}
    for key in keys:
        current = figures_for(period.pk, key)
        before = figures_for(previous.pk, key) if previous else {}
        year = figures_for(year_ago.pk, key) if year_ago else {}
        for area in areas:
            figure = current[area.pk]
            if key and figure.reporting == 0 and area.kind == Locality.Kind.DISTRICT:
                continue  # a breakdown row only where the district reported it
            target = target_cache[area.pk] if not key else None
            ci = figure.ci(indicator)
            prev_figure, year_figure = before.get(area.pk), year.get(area.pk)
            complete = is_complete(indicator, figure)
            status = rules.rag_status(
                value=figure.value, target=target.target if target else None,
                tolerance_percent=target.tolerance_percent if target else None, polarity=indicator.polarity,
            ) if complete else rules.INCOMPLETE
            rows.append(IndicatorRollup(
                indicator=indicator, locality=area, period=period, breakdown_key=key, breakdown_label=labels.get(key, key),
                value=_four_places(figure.value), numerator=_four_places(figure.numerator), denominator=_four_places(figure.denominator),
                ci_lower=_four_places(ci[0]) if ci else None, ci_upper=_four_places(ci[1]) if ci else None,
                reporting=figure.reporting, expected=figure.expected, missing=list(figure.missing), complete=complete,
                flags=list(figure.flags), commentary=figure.commentary,
                target=target.target if target else None, tolerance_percent=target.tolerance_percent if target else None,
                status=status,
                previous_value=_four_places(prev_figure.value) if prev_figure else None,
                direction_previous=_direction(indicator, figure, prev_figure),
                year_ago_value=_four_places(year_figure.value) if year_figure else None,
                direction_year=_direction(indicator, figure, year_figure),
                computed_at=now,
            ))
    return rows


def _direction(indicator: Indicator, current: Figure, earlier: Figure | None) -> str:
    """Direction of travel, only between two figures that may both be judged: a county sum from
    3 of 12 districts against one from 12 of 12 is not a fall."""
    if earlier is None or not is_complete(indicator, current) or not is_complete(indicator, earlier):
        return "not_comparable"
    current_ci, earlier_ci = current.ci(indicator), earlier.ci(indicator)
    if indicator.is_survey and (current_ci is None or earlier_ci is None):
        return "not_comparable"  # a survey's change is judged against its own intervals, or not at all
    return rules.direction(
        current=current.value, previous=earlier.value, current_ci=current_ci, previous_ci=earlier_ci,
        polarity=indicator.polarity,
    )
