"""An indicator's own page (the drill-down from a board's scorecard): the county trend with its
confidence intervals, every district side by side (ranked where districts may be compared, and
a table of districts by period), the breakdowns, the targets, Kent and the districts against
England, the South East and similar counties (``comparisons``), the officers' commentary, the
data-quality flags, and the definition and source. Read from the summary tables and the
catalogue only, in a fixed number of queries."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from localities.models import Locality
from performance.catalogue import rules
from performance.dashboards import charts, comparisons, maps
from performance.dashboards.figures import (
    TREND_LENGTH,
    Evidence,
    IndicatorView,
    comparable_between_districts,
    compared_with_kent,
    district_ranking,
)
from performance.models import Indicator, IndicatorRollup, IndicatorTarget

DISTRICT_PERIODS = 6  # periods in the table of districts by period


@dataclass
class DistrictRow:
    """One district's figures in the table of districts by period, newest period last."""

    locality: Locality
    cells: list[IndicatorRollup | None]


@dataclass
class BreakdownGroup:
    """The county's figures by one dimension (age, sex, severity ...) in one period."""

    dimension: str
    rows: list[IndicatorRollup]
    total: object  # the county's total in that period, for the shares


def _dimension(row: IndicatorRollup) -> str:
    label = row.breakdown_label or row.breakdown_key
    return label.split(":", 1)[0].strip() if ":" in label else row.breakdown_key.split(":", 1)[0]


def _category(row: IndicatorRollup) -> str:
    label = row.breakdown_label or row.breakdown_key
    return label.split(":", 1)[1].strip() if ":" in label else label


def indicator_page(code: str) -> dict:
    """Everything the indicator's page shows. Raises Indicator.DoesNotExist for an unknown or
    inactive indicator."""
    indicator = (
        Indicator.objects.select_related("data_owner", "baseline_period")
        .prefetch_related("kpqs__ambition", "ambitions", "breakdown_dimensions").get(code=code, is_active=True)
    )
    view: IndicatorView = Evidence([indicator], history=TREND_LENGTH).views[indicator.pk]
    districts = list(Locality.objects.filter(kind=Locality.Kind.DISTRICT).order_by("name"))
    # One kind of period in the table (a monthly indicator has months and quarters): the kind of
    # the headline figure, else of the newest district figure.
    newest = view.latest or view.newer_incomplete or (
        IndicatorRollup.objects.filter(indicator=indicator, breakdown_key="").select_related("period")
        .order_by("-period__start").first()
    )
    rows = list(
        IndicatorRollup.objects.filter(indicator=indicator, locality__kind=Locality.Kind.DISTRICT, breakdown_key="",
                                       period__kind=newest.period.kind if newest else "")
        .select_related("period", "locality").order_by("-period__start")[: DISTRICT_PERIODS * len(districts)]
    )
    periods = sorted({r.period for r in rows}, key=lambda p: p.start)[-DISTRICT_PERIODS:]
    by_area: dict[int, dict[int, IndicatorRollup]] = defaultdict(dict)
    for row in rows:
        by_area[row.locality_id][row.period_id] = row
    table = [DistrictRow(locality=d, cells=[by_area[d.pk].get(p.pk) for p in periods]) for d in districts]

    # The districts in the latest period with a complete county figure (else their own latest).
    focus = view.latest.period if view.latest else (periods[-1] if periods else None)
    in_focus = [
        by_area[d.pk][focus.pk] for d in districts
        if focus and focus.pk in by_area[d.pk] and by_area[d.pk][focus.pk].value is not None
    ]
    ranked, not_ranked = district_ranking(indicator, in_focus, len(districts), focus.label if focus else "")
    versus_kent = compared_with_kent(indicator, ranked, view.latest if view.latest and focus and view.latest.period_id == focus.pk else None)
    chart = None
    if in_focus and comparable_between_districts(indicator):
        chart_rows = [{"area": r.locality.name, "value": r.value, "lower": r.ci_lower, "upper": r.ci_upper,
                       "highlight": False, "county": False} for r in in_focus]
        if view.latest is not None:
            chart_rows.append({"area": "Kent (KCC area)", "value": view.latest.value, "lower": view.latest.ci_lower,
                               "upper": view.latest.ci_upper, "highlight": True, "county": True})
        chart = charts.ranked_chart(title=f"{indicator.name}, {focus.label}", unit=indicator.get_unit_display(),
                                    rows=chart_rows)

    district_map, map_rows, map_note = None, [], ""
    if in_focus:
        judged = any(r.status in (rules.GREEN, rules.AMBER, rules.RED) for r in in_focus)
        by = "status" if judged else ("quintile" if comparable_between_districts(indicator) else None)
        if by is None:
            map_note = "Not mapped: with no district targets, a map of a count would mostly show how big each district is."
        else:
            by_gss = {r.locality.gss_code: r for r in in_focus}
            areas = [{"gss_code": d.gss_code, "name": d.name, "value": by_gss[d.gss_code].value if d.gss_code in by_gss else None,
                      "status": by_gss[d.gss_code].status if d.gss_code in by_gss else None} for d in districts]
            map_rows = maps.classify(areas, by=by)
            district_map = maps.map_chart(
                title=f"{indicator.name} by district, {focus.label}", areas=areas, by=by, places=indicator.decimal_places,
            )
            map_note = ("Coloured by each district's status against its target." if by == "status" else
                        "Coloured by the fifth of the districts each falls in (quintiles of the value), not by target.")

    groups: dict[str, list[IndicatorRollup]] = defaultdict(list)
    if focus is not None:
        for row in (IndicatorRollup.objects.filter(indicator=indicator, period=focus, locality__kind=Locality.Kind.COUNTY)
                    .exclude(breakdown_key="").order_by("breakdown_key")):
            groups[_dimension(row)].append(row)
    breakdowns = [
        BreakdownGroup(dimension=name, rows=[r for r in group if r.value is not None] or group,
                       total=view.latest.value if view.latest else None)
        for name, group in sorted(groups.items())
    ]
    for group in breakdowns:
        for row in group.rows:
            row.category = _category(row)

    targets = list(
        IndicatorTarget.objects.filter(indicator=indicator).select_related("period", "locality")
        .order_by("-period__start", "locality__name")[:24]
    )
    return {
        "indicator": indicator, "view": view, "periods": periods, "table": table, "focus": focus,
        "ranked": ranked, "not_ranked": not_ranked, "versus_kent": versus_kent, "district_chart": chart, "breakdowns": breakdowns,
        "district_map": district_map, "map_rows": map_rows, "map_note": map_note,
        "map_attribution": maps.ATTRIBUTION, "map_outside": maps.OUTSIDE,
        "targets": targets, "status_labels": rules.STATUS_LABELS,
        "flagged": [r for r in [view.latest, view.newer_incomplete, *in_focus] if r is not None and r.flags],
        **comparisons.indicator_comparisons(indicator, view, focus, in_focus),
    }
