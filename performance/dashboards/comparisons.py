"""Kent and its districts against the comparator areas (England, the South East and Kent's CIPFA
nearest neighbours) on an indicator's own page and an Ambition Board's page. A figure is judged
against a comparator by the one rule that judges a district against Kent (``figures.versus_kent``:
beyond the 95% intervals, or ±2% where neither figure has one), and only where that is honest:
never on an incomplete figure, never across two periods, never where one figure has an interval
and the other none, never on a count or a measure where neither direction is better. Otherwise
the reason is given in words. Comparator figures are read beside the summary rows, never mixed
into them."""
from __future__ import annotations

from dataclasses import dataclass, field

from performance.comparators import selectors
from performance.dashboards import charts
from performance.dashboards.figures import comparable_between_districts, versus_kent
from performance.models import ComparatorFigure, Indicator

OUTCOME_WORDS = {"better": "Better", "similar": "Similar", "worse": "Worse"}


def has_interval(figure) -> bool:
    return figure is not None and figure.ci_lower is not None and figure.ci_upper is not None


@dataclass
class Comparison:
    """One figure (Kent's or a district's) against one comparator area's: the outcome ("better",
    "similar", "worse") and its basis in words, or, where it is not judged, why not."""

    area: str  # the comparator area's name
    figure: ComparatorFigure | None
    outcome: str = ""
    basis: str = ""
    withheld: str = ""

    @property
    def words(self) -> str:
        if self.outcome:
            return f"{OUTCOME_WORDS[self.outcome]} ({self.basis})"
        return self.withheld


def compare_with_area(indicator: Indicator, row, name: str, area_name: str, figure) -> Comparison:
    """``row`` (a summary row of Kent or a district, called ``name``) against a comparator
    area's ``figure`` of the same period, by ``versus_kent``'s rule, or the reason it is not."""
    found = Comparison(area=area_name, figure=figure)
    if figure is None:
        found.withheld = f"No figure for {area_name} loaded: not compared."
    elif not comparable_between_districts(indicator):
        found.withheld = "Not compared: a count mostly measures how big an area is."
    elif indicator.polarity == Indicator.Polarity.NEUTRAL:
        found.withheld = "Not compared: neither higher nor lower is better."
    elif row is None or row.value is None:
        found.withheld = f"No approved figure for {name} to compare."
    elif not row.complete:
        found.withheld = (f"{name}'s figure for {row.period.label} is incomplete ({row.coverage_display}): "
                          "not compared.")
    elif row.period_id != figure.period_id:
        found.withheld = f"{area_name}'s latest is {figure.period.label}; {name}'s is {row.period.label}: not compared."
    elif has_interval(row) != has_interval(figure):
        lacking = name if not has_interval(row) else area_name
        found.withheld = (f"{lacking}'s figure has no 95% confidence interval, so a difference cannot be told "
                          "from chance: not compared.")
    else:
        found.outcome, found.basis = versus_kent(indicator, row, figure)
    return found


def kent_row_for(view, figure):
    """Kent's figure to set beside a comparator's: the latest complete one, unless the comparator's
    figure is of a newer period Kent has only an incomplete figure for (which is then named as
    incomplete rather than as another period)."""
    if figure is not None and view.newer_incomplete is not None and figure.period_id == view.newer_incomplete.period_id:
        return view.newer_incomplete
    return view.latest or view.newer_incomplete


def kent_against(indicator: Indicator, view, area_name: str, figures: list) -> Comparison:
    """Kent against one comparator area, choosing the area's figure for Kent's period if it has one."""
    figure = selectors.figure_for(figures, view.latest.period if view.latest else None)
    return compare_with_area(indicator, kent_row_for(view, figure), "Kent", area_name, figure)


@dataclass
class NeighbourRanking:
    """Kent among a group of comparator areas (its CIPFA nearest neighbours): each area's figure,
    Kent's place by value and how many are better, similar and worse by the rule, or why Kent is
    not placed among them."""

    group: object
    rows: list[dict] = field(default_factory=list)  # area, figure (or Kent's row), comparison, is_kent
    rank: int | None = None
    of: int = 0
    counts: dict = field(default_factory=dict)
    withheld: str = ""
    chart: str | None = None


def neighbour_ranking(indicator: Indicator, view, group, figures_by_area: dict) -> NeighbourRanking:
    """Kent's place among ``group`` by value, only when Kent's figure is complete, every area of the
    group has a figure of Kent's period, and every figure has a 95% interval; how many areas are
    better, similar or worse than Kent by the rule is given with it, since an order within noise is
    no difference."""
    kent = view.latest
    result = NeighbourRanking(group=group)
    for area in group.areas.all():
        figure = selectors.figure_for(figures_by_area.get(area.gss_code, []), kent.period if kent else None)
        result.rows.append({"area": area.name, "figure": figure, "is_kent": False,
                            "comparison": compare_with_area(indicator, kent, "Kent", area.name, figure)})
    with_figures = [r for r in result.rows if r["figure"] is not None]
    reason = ""
    if not result.rows:
        reason = f"{group.name} has no areas yet."
    elif not comparable_between_districts(indicator):
        reason = "a count mostly measures how big an area is"
    elif indicator.polarity == Indicator.Polarity.NEUTRAL:
        reason = "neither higher nor lower is better"
    elif kent is None:
        reason = ("Kent's figure is incomplete" if view.newer_incomplete else "Kent has no approved figure")
    elif len(with_figures) < len(result.rows):
        reason = f"{len(with_figures)} of {len(result.rows)} areas have a figure loaded"
    elif any(r["figure"].period_id != kent.period_id for r in with_figures):
        others = sorted({r["figure"].period.label for r in with_figures if r["figure"].period_id != kent.period_id})
        reason = f"some areas' latest figures are for {', '.join(others)}, not Kent's {kent.period.label}"
    elif not has_interval(kent) or not all(has_interval(r["figure"]) for r in with_figures):
        reason = "not every figure has a 95% confidence interval"
    if reason:
        result.withheld = reason if reason.endswith(".") else f"Kent is not placed among them: {reason}."
    else:
        better_first = indicator.polarity == Indicator.Polarity.HIGHER
        values = sorted([kent.value] + [r["figure"].value for r in with_figures], reverse=better_first)
        result.rank, result.of = values.index(kent.value) + 1, len(values)
        result.counts = {o: sum(1 for r in result.rows if r["comparison"].outcome == o) for o in OUTCOME_WORDS}
    if kent is not None and with_figures and comparable_between_districts(indicator):
        points = [{"area": r["area"], "value": r["figure"].value, "lower": r["figure"].ci_lower,
                   "upper": r["figure"].ci_upper, "highlight": False, "county": False} for r in with_figures]
        points.append({"area": "Kent", "value": kent.value, "lower": kent.ci_lower, "upper": kent.ci_upper,
                       "highlight": True, "county": True})
        result.chart = charts.ranked_chart(title=f"{indicator.name}: Kent and {group.name}", unit=indicator.get_unit_display(),
                                           rows=points)
    return result


def indicator_comparisons(indicator: Indicator, view, focus, in_focus: list) -> dict:
    """What an indicator's page shows of the comparators: Kent against England and the South
    East, each district of the page's period against England, and Kent among each group."""
    figures = selectors.figures_by_indicator([indicator.pk]).get(indicator.pk, {})
    if not figures:  # nothing loaded for this indicator: one query, and the page says so
        return {"comparisons": [], "district_comparisons": [], "district_comparisons_note": "", "england": None,
                "rankings": [], "any_comparator_figures": False}
    areas = selectors.headline_areas()
    groups = selectors.groups()
    headline = [kent_against(indicator, view, area.name, figures.get(area.gss_code, [])) for area in areas]
    england = next((a for a in areas if a.kind == a.Kind.COUNTRY), None)
    districts, districts_note = [], ""
    if england is not None and in_focus:
        figure = selectors.figure_for(figures.get(england.gss_code, []), focus)
        if figure is None:
            districts_note = f"No figure for {england.name} loaded: the districts are not compared with it."
        else:
            districts = [{"row": row, "comparison": compare_with_area(indicator, row, row.locality.name, england.name, figure)}
                         for row in in_focus]
    rankings = [neighbour_ranking(indicator, view, group, figures) for group in groups]
    return {
        "comparisons": headline, "district_comparisons": districts, "district_comparisons_note": districts_note,
        "england": england, "rankings": rankings, "any_comparator_figures": bool(figures),
    }


def england_figures(views: list) -> dict:
    """England's figures (oldest first) of each indicator of ``views`` that has any, by indicator
    id (one query)."""
    england = selectors.HEADLINE_AREAS[0]
    figures = selectors.figures_by_indicator([v.indicator.pk for v in views], gss_codes=[england])
    return {pk: by_area[england] for pk, by_area in figures.items() if by_area.get(england)}


def board_against_england(views: list) -> list[dict]:
    """An Ambition Board's indicators against England: each indicator with an England figure
    loaded, with Kent's figure ("own") and the judgement or why not (one query)."""
    figures = england_figures(views)
    rows = []
    for view in views:
        if own := figures.get(view.indicator.pk):
            comparison = kent_against(view.indicator, view, "England", own)
            rows.append({"view": view, "own": kent_row_for(view, comparison.figure), "comparison": comparison})
    return rows


def district_against_england(name: str, views: list) -> list[dict]:
    """A Locality Board's district (called ``name``) against England: each of its indicators with
    an England figure loaded, the district's own latest figure (``view.latest``, "own") against
    England's of the same period if there is one, and the judgement or why not, by the same rule
    and withholding as Kent's (one query)."""
    figures = england_figures(views)
    rows = []
    for view in views:
        if own := figures.get(view.indicator.pk):
            figure = selectors.figure_for(own, view.latest.period)
            rows.append({"view": view, "own": view.latest,
                         "comparison": compare_with_area(view.indicator, view.latest, name, "England", figure)})
    return rows
