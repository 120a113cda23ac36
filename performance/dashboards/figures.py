"""What a dashboard says of one indicator, one KPQ's evidence and the milestones of an
ambition, built from the summary tables only: only approved returns reach them, so
everything here is publishable."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F, Prefetch, Window
from django.db.models.functions import RowNumber

from ambitions.models import KPQ, DeliveryPlanAmbition
from localities.models import Locality
from performance.catalogue import rules
from performance.dashboards import charts
from performance.models import (
    Indicator,
    IndicatorRollup,
    KPQJudgement,
    MilestoneReturn,
    MilestoneRollup,
    ReportingPeriod,
)

DIRECTION_WORDS = {"improving": "improving", "worsening": "worsening", "no_change": "no significant change"}
ANSWER_LABELS = dict(KPQJudgement.Answer.choices)


def fmt(value, places: int = 1) -> str:
    if value is None:
        return "—"
    return f"{Decimal(value):,.{places}f}"


@dataclass
class IndicatorView:
    """An indicator as a dashboard shows it: its headline county figure, which is the latest
    *complete* one (the only kind that is judged: status, direction, exceptions, KPQ answers),
    any newer figure that is incomplete (shown beside it, labelled, never judged), the trend, and
    the districts' figures in the headline's period."""

    indicator: Indicator
    latest: IndicatorRollup | None = None
    newer_incomplete: IndicatorRollup | None = None
    trend: list[IndicatorRollup] = field(default_factory=list)
    districts: list[IndicatorRollup] = field(default_factory=list)

    @property
    def direction(self) -> str:
        if self.latest is None:
            return "not_comparable"
        if self.latest.direction_year != "not_comparable":
            return self.latest.direction_year
        return self.latest.direction_previous

    @property
    def direction_basis(self) -> str:
        """What ``direction`` compares with: the same period a year before, or else the one before."""
        if self.latest is not None and self.latest.direction_year == "not_comparable" \
                and self.latest.direction_previous != "not_comparable":
            return "on the period before"
        return "on a year before"

    @property
    def status_label(self) -> str:
        return rules.status_label(
            self.latest.status if self.latest else (rules.INCOMPLETE if self.newer_incomplete else rules.NO_DATA)
        )

    def commentaries(self) -> list[dict]:
        """The officers' commentary on the headline period's figures (required when off target):
        the county's own figure's, then each off-target district's."""
        found = []
        if self.latest is not None and self.latest.commentary:
            found.append({"area": "Kent", "status": self.latest.status, "text": self.latest.commentary})
        for row in self.districts:
            if row.commentary and rules.is_off_target(row.status):
                found.append({"area": row.locality.name, "status": row.status, "text": row.commentary})
        return found

    @property
    def is_exception(self) -> bool:
        return self.latest is not None and (self.latest.status == rules.RED or self.direction == "worsening")

    def trend_points(self) -> list[dict]:
        return [
            {"period": r.period.label, "value": r.value, "target": r.target, "coverage": r.coverage_display,
             "complete": r.complete}
            for r in self.trend
        ]

    def trend_chart(self) -> str:
        return charts.trend_chart(
            title=f"{self.indicator.name}: Kent", unit=self.indicator.get_unit_display(), points=self.trend_points()
        )

    def district_summary(self) -> str:
        """A sentence from the figures: how many districts improved on a year before, and
        whether the gap between the highest and lowest narrowed. Only districts with both
        figures are compared, and it says how many of all the districts that is; the gap is
        given only for indicators districts may be compared on (not counts, which mostly
        measure a district's size), and only when every district has both figures."""
        rows = [r for r in self.districts if r.value is not None]
        every = len(self.districts)
        comparable = [r for r in rows if r.direction_year != "not_comparable"]
        name = self.indicator.name
        if not comparable:
            return f"{name}: not enough data to compare districts with a year before."
        improved = sum(1 for r in comparable if r.direction_year == "improving")
        worsened = sum(1 for r in comparable if r.direction_year == "worsening")
        text = f"{name}: {improved} of {len(comparable)} districts improved"
        if worsened:
            text += f" and {worsened} worsened"
        if len(comparable) < every:
            text += f" ({len(comparable)} of {every} districts could be compared with a year before)"
        paired = [r for r in rows if r.year_ago_value is not None]
        places = self.indicator.decimal_places
        if comparable_between_districts(self.indicator) and every > 1 and len(paired) == every:
            gap_now = max(r.value for r in paired) - min(r.value for r in paired)
            gap_before = max(r.year_ago_value for r in paired) - min(r.year_ago_value for r in paired)
            verb = "narrowed" if gap_now < gap_before else "widened" if gap_now > gap_before else "stayed"
            text += f"; the gap between the highest and lowest {verb} from {fmt(gap_before, places)} to {fmt(gap_now, places)}"
        return text + "."


def derived_answer(views: list[IndicatorView]) -> str:
    """A KPQ's answer from its indicators' direction of travel: improving if some improve and
    none worsen, worsening if some worsen and none improve, mixed otherwise, and not enough data
    when none can be compared."""
    directions = [v.direction for v in views if v.direction != "not_comparable"]
    if not directions:
        return KPQJudgement.Answer.NOT_ENOUGH_DATA
    improving, worsening = directions.count("improving"), directions.count("worsening")
    if improving and not worsening:
        return KPQJudgement.Answer.IMPROVING
    if worsening and not improving:
        return KPQJudgement.Answer.WORSENING
    return KPQJudgement.Answer.MIXED


def narrative(views: list[IndicatorView]) -> str:
    """One paragraph generated from the figures."""
    if not views:
        return "No indicators are linked to this question yet."
    counts = Counter(v.direction for v in views)
    parts = [
        f"Of {len(views)} indicator{'s' if len(views) != 1 else ''}, {counts['improving']} "
        f"{'is' if counts['improving'] == 1 else 'are'} improving, {counts['worsening']} worsening and "
        f"{counts['no_change']} without significant change over the year"
        + (f" ({counts['not_comparable']} cannot yet be compared)" if counts["not_comparable"] else "") + "."
    ]
    parts += [v.district_summary() for v in views if v.indicator.reporting_level == "district"]
    return " ".join(parts)


TREND_LENGTH = 12  # periods of history in a trend chart and its table


def recent_rows(queryset, history: int):
    """The latest ``history`` rows of each indicator, oldest first (the page does not grow with
    the years of history)."""
    return (
        queryset.annotate(recent=Window(RowNumber(), partition_by=[F("indicator_id")], order_by=F("period__start").desc()))
        .filter(recent__lte=history).select_related("period", "locality").order_by("period__start")
    )


class Evidence:
    """Loads, for a set of indicators, the county trend, the latest complete county figure and
    the districts' figures in its period, in four queries."""

    def __init__(self, indicators, *, history: int = TREND_LENGTH, districts: bool = True) -> None:
        """``history``: periods of the county trend to load (1 for the latest figure only);
        ``districts``: whether to load the districts' figures too."""
        self.indicators = list(indicators)
        ids = [i.pk for i in self.indicators]
        county = IndicatorRollup.objects.filter(
            indicator_id__in=ids, locality__kind=Locality.Kind.COUNTY, breakdown_key="", reporting__gt=0, value__isnull=False,
        )
        trends: dict[int, list[IndicatorRollup]] = defaultdict(list)
        for row in recent_rows(county, history):
            trends[row.indicator_id].append(row)
        headline = {row.indicator_id: row for row in recent_rows(county.filter(complete=True), 1)}
        self.views: dict[int, IndicatorView] = {}
        latest_periods = {}
        for indicator in self.indicators:
            trend = trends.get(indicator.pk, [])
            latest = headline.get(indicator.pk)
            newest = trend[-1] if trend else None
            newer = newest if newest and not newest.complete and (
                latest is None or newest.period.start > latest.period.start) else None
            self.views[indicator.pk] = IndicatorView(indicator=indicator, latest=latest, newer_incomplete=newer, trend=trend)
            if latest:
                latest_periods[indicator.pk] = latest.period_id
        if not districts:
            return
        district_rows = (
            IndicatorRollup.objects.filter(
                indicator_id__in=list(latest_periods), period_id__in=set(latest_periods.values()),
                locality__kind=Locality.Kind.DISTRICT, breakdown_key="",
            ).select_related("locality", "period").order_by("locality__name")
        )
        for row in district_rows:
            if latest_periods.get(row.indicator_id) == row.period_id:
                self.views[row.indicator_id].districts.append(row)

    def for_indicators(self, indicators) -> list[IndicatorView]:
        return [self.views[i.pk] for i in indicators if i.pk in self.views]


def active_indicators():
    """The framework's indicators: active, and evidence for at least one ambition (an indicator
    collected for no ambition is not on the boards' dashboards)."""
    return (
        Indicator.objects.filter(is_active=True, pk__in=Indicator.ambitions.through.objects.values("indicator_id"))
        .prefetch_related(Prefetch("kpqs", queryset=KPQ.objects.select_related("ambition")), "ambitions")
        .select_related("data_owner")
    )


def _latest_quarter_with_milestones() -> ReportingPeriod | None:
    row = MilestoneRollup.objects.filter(reported_period__isnull=False).select_related("period").order_by("-period__start").first()
    return row.period if row else None


@dataclass
class MilestoneSummary:
    period: ReportingPeriod | None
    rows: list[MilestoneRollup]

    @property
    def counts(self) -> list[tuple[str, int]]:
        counter = Counter(r.status for r in self.rows)
        return [(label, counter.get(value, 0)) for value, label in MilestoneReturn.Status.choices]

    @property
    def overdue(self) -> list[MilestoneRollup]:
        return [r for r in self.rows if r.overdue]

    @property
    def slipped(self) -> list[MilestoneRollup]:
        return [r for r in self.rows if r.slipped]

    @property
    def by_plan(self) -> list[dict]:
        """Counts per delivery plan (or action-plan priority area)."""
        plans: dict[str, dict] = {}
        for r in self.rows:
            name = str(r.milestone.delivery_plan or r.milestone.priority_area)
            plan = plans.setdefault(name, {"name": name, "total": 0, "complete": 0, "at_risk": 0, "overdue": 0, "slipped": 0})
            plan["total"] += 1
            plan["complete"] += r.status == MilestoneReturn.Status.COMPLETE
            plan["at_risk"] += r.status in (MilestoneReturn.Status.AT_RISK, MilestoneReturn.Status.OFF_TRACK)
            plan["overdue"] += r.overdue
            plan["slipped"] += r.slipped
        return sorted(plans.values(), key=lambda p: p["name"])


def milestone_summaries_by_ambition() -> tuple[ReportingPeriod | None, dict[int, MilestoneSummary]]:
    """For the latest quarter with milestone positions: each ambition's milestones (of the plans
    that serve it and of its board's action plans)."""
    period = _latest_quarter_with_milestones()
    result: dict[int, MilestoneSummary] = {}
    if period is None:
        return None, result
    plan_ambitions = defaultdict(set)
    for plan_id, number in DeliveryPlanAmbition.objects.values_list("plan_id", "ambition__number"):
        plan_ambitions[plan_id].add(number)
    grouped: dict[int, list] = defaultdict(list)
    for row in MilestoneRollup.objects.filter(period=period).select_related(
        "milestone__delivery_plan", "milestone__priority_area__action_plan__board__ambition", "milestone__owner"
    ).prefetch_related("milestone__kpqs").order_by("milestone__due_date", "milestone__title", "milestone_id"):
        milestone = row.milestone
        numbers = set(plan_ambitions.get(milestone.delivery_plan_id, set()))
        if milestone.priority_area_id:
            numbers.add(milestone.priority_area.action_plan.board.ambition.number)
        for number in numbers:
            grouped[number].append(row)
    for number in (1, 2, 3):
        result[number] = MilestoneSummary(period=period, rows=grouped.get(number, []))
    return period, result


def comparable_between_districts(indicator: Indicator) -> bool:
    """Whether districts may be set side by side and ranked on this indicator: rates,
    percentages, medians and the like may; counts and money totals (summed indicators) may not,
    since they mostly measure how big a district is."""
    return indicator.aggregation != Indicator.Aggregation.SUM


def district_ranking(indicator: Indicator, districts: list, all_districts: int, period_label: str) -> tuple[list, str]:
    """The districts' figures best first, or none and why not: only where districts may be
    compared (``comparable_between_districts``), a better direction exists, and every district
    has a figure for the period. The one rule of ranking, for a Locality Board's card and an
    indicator's own page."""
    if not comparable_between_districts(indicator):
        return [], "Not compared with other districts: a count mostly measures how big a district is."
    if indicator.polarity == Indicator.Polarity.NEUTRAL:
        return [], "Not ranked: neither higher nor lower is better."
    with_figures = [r for r in districts if r.value is not None]
    if len(with_figures) < all_districts:
        return [], f"Not ranked: {len(with_figures)} of {all_districts} districts have an approved figure for {period_label}."
    return sorted(with_figures, key=lambda r: r.value, reverse=indicator.polarity == Indicator.Polarity.HIGHER), ""


def versus_kent(indicator: Indicator, row, county) -> tuple[str, str]:
    """Whether a district's figure is "better" than Kent's, "similar" or "worse", and the basis
    in words: only a difference beyond noise counts (``rules.direction``: 95% intervals that do
    not overlap where both figures have them, else more than ±2%), so that an order within noise
    is never read as a difference. The one rule of comparing a district with Kent, for an
    indicator's own page and a Locality Board's card (``compared_with_kent``)."""
    kent_ci = (county.ci_lower, county.ci_upper) if county.ci_lower is not None and county.ci_upper is not None else None
    ci = (row.ci_lower, row.ci_upper) if row.ci_lower is not None and row.ci_upper is not None else None
    with_intervals = kent_ci is not None and ci is not None
    verdict = rules.direction(current=row.value, previous=county.value, current_ci=ci if with_intervals else None,
                              previous_ci=kent_ci if with_intervals else None, polarity=indicator.polarity)
    outcome = "better" if verdict == "improving" else "worse" if verdict == "worsening" else "similar"
    band = f"{rules.NO_CHANGE_BAND:.0%}"
    if with_intervals:
        basis = "their 95% confidence intervals overlap" if outcome == "similar" else "their 95% confidence intervals do not overlap"
    else:
        basis = (f"within {band} of each other" if outcome == "similar" else f"more than {band} apart") + (
            ", with no 95% confidence intervals to judge by")
    return outcome, basis


def compared_with_kent(indicator: Indicator, ranked: list, county) -> dict | None:
    """The ranked districts (``district_ranking``) grouped as better than Kent, similar, or
    worse (``versus_kent``). None without a complete Kent figure for the same period."""
    if not ranked or county is None or county.value is None:
        return None
    groups: dict[str, list] = {"better": [], "similar": [], "worse": []}
    for row in ranked:
        groups[versus_kent(indicator, row, county)[0]].append(row)
    return groups
