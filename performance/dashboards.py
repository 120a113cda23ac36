"""Reads for the dashboards. They read only the summary tables (and the framework), in a fixed
number of queries whatever the number of indicators and districts: every query fetches a whole
set and the grouping happens here.

Only approved returns reach the summary tables, so everything here is publishable.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F, Prefetch, Window
from django.db.models.functions import RowNumber

from ambitions.models import KPQ, Ambition, DeliveryPlanAmbition
from localities.models import Locality, LocalPriority
from partnerships.models import Board, StrategicPartnership

from . import charts, rules, selectors
from .models import Indicator, IndicatorRollup, KPQJudgement, MilestoneReturn, MilestoneRollup, ReportingPeriod, Study

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
        return rules.STATUS_LABELS.get(self.latest.status if self.latest else "no_target", "No data")

    def commentaries(self) -> list[dict]:
        """The officers' commentary on the headline period's figures (required when off target):
        the county's own figure's, then each off-target district's."""
        found = []
        if self.latest is not None and self.latest.commentary:
            found.append({"area": "Kent", "status": self.latest.status, "text": self.latest.commentary})
        for row in self.districts:
            if row.commentary and row.status in (rules.AMBER, rules.RED):
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


def _recent(queryset, history: int):
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
        for row in _recent(county, history):
            trends[row.indicator_id].append(row)
        headline = {row.indicator_id: row for row in _recent(county.filter(complete=True), 1)}
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


def _indicators():
    """The framework's indicators: active, and evidence for at least one ambition (an indicator
    collected for no ambition is not on the boards' dashboards)."""
    return (
        Indicator.objects.filter(is_active=True, pk__in=Indicator.ambitions.through.objects.values("indicator_id"))
        .prefetch_related("kpqs", "ambitions").select_related("data_owner")
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


# --- The dashboards ---------------------------------------------------------------------------

def forum_dashboard() -> dict:
    """The Kent Forum: the three ambitions side by side, each with its KPQs and their answers,
    indicators and milestones by status, and the exceptions."""
    ambitions = list(Ambition.objects.prefetch_related(Prefetch("kpqs", queryset=KPQ.objects.order_by("number"))))
    indicators = list(_indicators())
    evidence = Evidence(indicators, history=1, districts=False)  # the forum shows latest figures only
    period, milestones = milestone_summaries_by_ambition()
    columns = []
    for ambition in ambitions:
        mine = [i for i in indicators if any(a.pk == ambition.pk for a in i.ambitions.all())]
        views = evidence.for_indicators(mine)
        kpqs = []
        for kpq in ambition.kpqs.all():
            kpq_views = evidence.for_indicators([i for i in mine if any(k.pk == kpq.pk for k in i.kpqs.all())])
            kpqs.append({"kpq": kpq, "answer": derived_answer(kpq_views), "answer_label": ANSWER_LABELS[derived_answer(kpq_views)]})
        status_counts = Counter(
            v.latest.status if v.latest else (rules.INCOMPLETE if v.newer_incomplete else "no_data") for v in views
        )
        columns.append({
            "ambition": ambition, "kpqs": kpqs,
            "status_counts": [(label, status_counts.get(key, 0)) for key, label in
                              ((rules.GREEN, "On target"), (rules.AMBER, "Within tolerance"), (rules.RED, "Off target"),
                               (rules.NO_TARGET, "No target"),
                               (rules.INCOMPLETE, "Not judged: no complete county figure yet"),
                               ("no_data", "No data yet"))],
            "milestones": milestones.get(ambition.number),
            "exceptions": [v for v in views if v.is_exception],
        })
    return {"columns": columns, "milestone_period": period}


def ambition_dashboard(number: int) -> dict:
    """An Ambition Board: each KPQ with its evidence, the delivery plans, the partnerships the
    board leads, and the exception report."""
    ambition = Ambition.objects.prefetch_related(Prefetch("kpqs", queryset=KPQ.objects.order_by("number"))).get(number=number)
    board = Board.objects.filter(kind=Board.Kind.AMBITION, ambition=ambition).first()
    indicators = list(_indicators().filter(ambitions=ambition))
    evidence = Evidence(indicators)
    period, milestones = milestone_summaries_by_ambition()
    summary = milestones.get(number)
    studies = list(Study.objects.filter(kpqs__ambition=ambition).distinct().prefetch_related("kpqs"))
    kpqs = []
    for kpq in ambition.kpqs.all():
        views = evidence.for_indicators([i for i in indicators if any(k.pk == kpq.pk for k in i.kpqs.all())])
        answer = derived_answer(views)
        kpqs.append({
            "kpq": kpq, "views": views, "answer": answer, "answer_label": ANSWER_LABELS[answer],
            "studies": [s for s in studies if any(k.pk == kpq.pk for k in s.kpqs.all())],
        })
    links = list(DeliveryPlanAmbition.objects.filter(ambition=ambition).select_related("plan__owner").order_by("plan__order"))
    views = evidence.for_indicators(indicators)
    return {
        "ambition": ambition, "board": board, "kpqs": kpqs, "milestones": summary, "milestone_period": period,
        "primary_plans": [link.plan for link in links if link.is_primary],
        "contributing_plans": [link.plan for link in links if not link.is_primary],
        "partnerships": list(StrategicPartnership.objects.filter(lead_board=board).prefetch_related("supported_boards")) if board else [],
        "exceptions": [v for v in views if v.is_exception],
        "missing": selectors.overdue_returns(indicators=indicators),
    }


def comparable_between_districts(indicator: Indicator) -> bool:
    """Whether districts may be set side by side and ranked on this indicator: rates,
    percentages, medians and the like may; counts and money totals (summed indicators) may not,
    since they mostly measure how big a district is."""
    return indicator.aggregation != Indicator.Aggregation.SUM


@dataclass
class DistrictCard:
    """One indicator on a Locality Board's page: the district's own latest approved figure and,
    in that same period, the other districts and Kent, compared and ranked only where that is
    honest."""

    view: IndicatorView
    own: IndicatorRollup
    rows: list[dict]
    rank: int | None
    of: int
    not_ranked: str
    county: IndicatorRollup | None
    chart: str | None


def _district_card(indicator: Indicator, locality: Locality, own: IndicatorRollup, peers: list[IndicatorRollup],
                   all_districts: int) -> DistrictCard:
    districts = [r for r in peers if r.locality.kind == Locality.Kind.DISTRICT]
    county = next((r for r in peers if r.locality.kind == Locality.Kind.COUNTY and r.complete), None)
    comparable = comparable_between_districts(indicator)
    rows, rank, not_ranked = [], None, ""
    if comparable:
        rows = [
            {"area": r.locality.name, "value": r.value, "lower": r.ci_lower, "upper": r.ci_upper,
             "highlight": r.locality_id == locality.pk, "county": False}
            for r in districts
        ]
        if county is not None:
            rows.append({"area": "Kent (KCC area)", "value": county.value, "lower": county.ci_lower,
                         "upper": county.ci_upper, "highlight": False, "county": True})
        if indicator.polarity == Indicator.Polarity.NEUTRAL:
            not_ranked = "Not ranked: neither higher nor lower is better."
        elif len(districts) < all_districts:
            not_ranked = f"Not ranked: {len(districts)} of {all_districts} districts have an approved figure for {own.period.label}."
        else:
            ranked = sorted(districts, key=lambda r: r.value, reverse=indicator.polarity == Indicator.Polarity.HIGHER)
            rank = next(n for n, r in enumerate(ranked, start=1) if r.locality_id == locality.pk)
    else:
        not_ranked = "Not compared with other districts: a count mostly measures how big a district is."
    return DistrictCard(
        view=IndicatorView(indicator=indicator, latest=own), own=own, rows=sorted(rows, key=lambda r: r["value"]),
        rank=rank, of=all_districts, not_ranked=not_ranked, county=county,
        chart=charts.ranked_chart(
            title=f"{indicator.name}, {own.period.label}", unit=indicator.get_unit_display(), rows=rows,
        ) if rows else None,
    )


def locality_dashboard(gss_code: str) -> dict:
    """A Locality Board: its weighted local priorities first; each indicator at the district's
    own latest approved figure (not the open quarter), against the other districts and the
    complete Kent figure of that same period; and the district's overdue returns."""
    locality = Locality.objects.get(gss_code=gss_code, kind=Locality.Kind.DISTRICT)
    board = Board.objects.filter(kind=Board.Kind.LOCALITY, locality=locality).first()
    county = Locality.objects.get(kind=Locality.Kind.COUNTY)
    priorities = list(
        LocalPriority.objects.filter(locality=locality).select_related("ambition")
        .prefetch_related("indicators").order_by("-weight", "title")
    )
    indicators = {i.pk: i for i in _indicators().exclude(reporting_level=Indicator.ReportingLevel.COUNTY)}
    own_rows = {
        row.indicator_id: row for row in _recent(IndicatorRollup.objects.filter(
            indicator_id__in=list(indicators), locality=locality, breakdown_key="", value__isnull=False,
        ), 1)
    }
    peers: dict[int, list[IndicatorRollup]] = defaultdict(list)
    for row in IndicatorRollup.objects.filter(
        indicator_id__in=list(own_rows), period_id__in={r.period_id for r in own_rows.values()}, breakdown_key="",
        value__isnull=False,
    ).select_related("locality", "period").order_by("locality__name"):
        if own_rows[row.indicator_id].period_id == row.period_id:
            peers[row.indicator_id].append(row)
    all_districts = Locality.objects.filter(kind=Locality.Kind.DISTRICT).count()
    cards = {
        pk: _district_card(indicators[pk], locality, own, peers[pk], all_districts)
        for pk, own in sorted(own_rows.items(), key=lambda item: indicators[item[0]].code)
    }
    prioritised, shown = [], set()
    for priority in priorities:
        prioritised.append({"priority": priority, "cards": [cards[i.pk] for i in priority.indicators.all() if i.pk in cards]})
        shown |= {i.pk for i in priority.indicators.all()}
    others = [card for pk, card in cards.items() if pk not in shown]
    return {
        "locality": locality, "board": board, "county": county, "priorities": prioritised, "others": others,
        "no_figures": sorted((i for pk, i in indicators.items() if pk not in own_rows), key=lambda i: i.code),
        "missing": selectors.overdue_returns(locality=locality),
    }


def kpq_page(code: str) -> dict:
    """A KPQ: the question, its evidence, the derived answer and its narrative, and the board
    members' judgements with their history."""
    ambition_number, kpq_number = code.upper().removeprefix("A").split("-KPQ")
    kpq = KPQ.objects.select_related("ambition").get(ambition__number=int(ambition_number), number=int(kpq_number))
    indicators = list(_indicators().filter(kpqs=kpq))
    evidence = Evidence(indicators)
    views = evidence.for_indicators(indicators)
    answer = derived_answer(views)
    period, milestones = milestone_summaries_by_ambition()
    return {
        "kpq": kpq, "views": views, "answer": answer, "answer_label": ANSWER_LABELS[answer], "narrative": narrative(views),
        "studies": list(kpq.studies.all()),
        "milestones": [
            r for r in (milestones[kpq.ambition.number].rows if kpq.ambition.number in milestones else [])
            if any(k.pk == kpq.pk for k in r.milestone.kpqs.all())
        ],
        "milestone_period": period,
        "judgements": list(kpq.judgements.select_related("author", "period")),
        "latest_period": max((v.latest.period for v in views if v.latest), key=lambda p: p.start, default=None),
    }


def board_report_content(number: int) -> dict:
    """The figures of an Ambition Board's six-monthly report, as plain data that can be stored
    as a snapshot and rendered or exported later unchanged."""
    data = ambition_dashboard(number)
    kpqs = []
    for item in data["kpqs"]:
        kpqs.append({
            "code": item["kpq"].code, "text": item["kpq"].text, "answer": item["answer_label"],
            "narrative": narrative(item["views"]),
            "indicators": [_report_indicator(v) for v in item["views"]],
        })
    summary = data["milestones"]
    return {
        "judged_on": "the latest complete figure",  # reports published before the rule say nothing of it
        "ambition": f"Ambition {data['ambition'].number}: {data['ambition'].title}",
        "board": data["board"].name if data["board"] else "",
        "kpqs": kpqs,
        "milestones": {
            "period": summary.period.label if summary and summary.period else "",
            "counts": summary.counts if summary else [],
            "overdue": [r.milestone.title for r in summary.overdue] if summary else [],
            "slipped": [r.milestone.title for r in summary.slipped] if summary else [],
        },
        "exceptions": [
            {"name": v.indicator.name, "status": v.status_label, "direction": DIRECTION_WORDS.get(v.direction, "not comparable")}
            for v in data["exceptions"]
        ],
        "missing": [
            {"organisation": organisation.name, "indicator": r.indicator.name, "area": r.locality.name,
             "period": r.period.label, "state": r.state, "deadline": r.period.deadline.isoformat()}
            for organisation, rows in data["missing"] for r in rows
        ],
    }


def _report_indicator(view: IndicatorView) -> dict:
    """An indicator in a board report: its latest complete figure, judged, and any newer figure
    that is incomplete, stated with its coverage and not judged."""
    latest, newer = view.latest, view.newer_incomplete
    return {
        "code": view.indicator.code, "name": view.indicator.name, "unit": view.indicator.get_unit_display(),
        "period": latest.period.label if latest else "",
        "value": str(latest.value) if latest and latest.value is not None else "",
        "target": str(latest.target) if latest and latest.target is not None else "",
        "status": view.status_label if latest else "No complete figure yet",
        "direction": DIRECTION_WORDS.get(view.direction, "not comparable"),
        "coverage": latest.coverage_display if latest else "", "complete": latest is not None,
        "flags": list(latest.flags) if latest else [],
        "commentary": [
            {"area": c["area"], "status": rules.STATUS_LABELS.get(c["status"], ""), "text": c["text"]}
            for c in view.commentaries()
        ],
        "newer": {
            "period": newer.period.label, "value": str(newer.value), "coverage": newer.coverage_display,
            "missing": list(newer.missing), "status": rules.STATUS_LABELS[rules.INCOMPLETE], "flags": list(newer.flags),
        } if newer else None,
    }


def board_report_rows(content: dict) -> list[list[str]]:
    """The report's figures as CSV rows."""
    rows = [["kpq", "indicator_code", "indicator", "period", "value", "target", "status", "direction", "coverage", "complete",
             "flags"]]
    for kpq in content["kpqs"]:
        for i in kpq["indicators"]:
            rows.append([kpq["code"], i["code"], i["name"], i["period"], i["value"], i["target"], i["status"], i["direction"],
                         # reports published before completeness was recorded say nothing of it
                         i["coverage"], {True: "yes", False: "no"}.get(i.get("complete"), ""), " ".join(i.get("flags", []))])
            if i.get("newer"):
                newer = i["newer"]
                rows.append([kpq["code"], i["code"], i["name"], newer["period"], newer["value"], "", newer["status"],
                             "not judged", newer["coverage"], "no", " ".join(newer.get("flags", []))])
    return rows
