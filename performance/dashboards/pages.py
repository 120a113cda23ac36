"""The dashboards: the Forum, each Ambition Board, each Locality Board and each KPQ. Their
figures come from the summary tables only; besides those they read the framework, board
members' judgements and which returns are overdue (``returns.selectors.overdue_returns``),
in a fixed number of queries whatever the number of indicators and districts: every query
fetches a whole set and the grouping happens here."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Prefetch
from django.urls import reverse

from ambitions.models import KPQ, Ambition, DeliveryPlanAmbition
from localities.models import Locality, LocalPriority
from partnerships.models import Board, StrategicPartnership
from performance.catalogue import rules
from performance.dashboards import charts, comparisons, maps
from performance.dashboards.figures import (
    ANSWER_LABELS,
    Evidence,
    IndicatorView,
    active_indicators,
    comparable_between_districts,
    compared_with_kent,
    derived_answer,
    district_ranking,
    milestone_summaries_by_ambition,
    narrative,
    recent_rows,
    versus_kent,
)
from performance.dashboards.scorecard import TREND_POINTS, build_scorecard
from performance.models import Indicator, IndicatorRollup, Study
from performance.returns import selectors

# --- The dashboards ---------------------------------------------------------------------------

def forum_dashboard() -> dict:
    """The Kent Forum: the three ambitions side by side, each with its KPQs and their answers,
    indicators and milestones by status, and the exceptions."""
    ambitions = list(Ambition.objects.prefetch_related(Prefetch("kpqs", queryset=KPQ.objects.order_by("number"))))
    indicators = list(active_indicators())
    evidence = Evidence(indicators, history=TREND_POINTS, districts=False)  # latest figures and the scorecard's trend
    period, milestones = milestone_summaries_by_ambition()
    columns, groups = [], []
    for ambition in ambitions:
        mine = [i for i in indicators if any(a.pk == ambition.pk for a in i.ambitions.all())]
        views = evidence.for_indicators(mine)
        kpqs = []
        for kpq in ambition.kpqs.all():
            kpq_views = evidence.for_indicators([i for i in mine if any(k.pk == kpq.pk for k in i.kpqs.all())])
            groups.append((kpq, kpq_views))
            kpqs.append({"kpq": kpq, "answer": derived_answer(kpq_views), "answer_label": ANSWER_LABELS[derived_answer(kpq_views)]})
        status_counts = Counter(
            v.latest.status if v.latest else (rules.INCOMPLETE if v.newer_incomplete else rules.NO_DATA) for v in views
        )
        columns.append({
            "ambition": ambition, "kpqs": kpqs,
            "status_counts": [(label, status_counts.get(key, 0)) for key, label in rules.STATUS_LABELS.items()],
            "milestones": milestones.get(ambition.number),
            "exceptions": [v for v in views if v.is_exception],
        })
    scorecard = build_scorecard(
        groups, caption="Scorecard: every indicator of the three ambitions, by Key Performance Question",
        link=lambda kpq, view: _indicator_url(view), group_link=_kpq_url,
        milestones=milestones.values(), milestones_link="#ambitions",
    )
    contents = [("scorecard-table", "Scorecard", []), ("map", "Map of the districts", []),
                ("ambitions", "The three ambitions", []), ("localities", "Locality Boards", [])]
    districts = maps.districts_on_target([i.pk for i in indicators])
    district_map = maps.map_chart(title="Share of each district's judged measures on target", areas=districts,
                                  by="quintile", places=0) if any(d["judged"] for d in districts) else None
    return {"columns": columns, "milestone_period": period, "scorecard": scorecard, "contents": contents,
            "district_map": district_map, "map_rows": maps.classify(districts, by="quintile"),
            "map_attribution": maps.ATTRIBUTION, "map_outside": maps.OUTSIDE}


def _indicator_url(view) -> str:
    """The indicator's own page: the drill-down from a scorecard row."""
    return reverse("dashboards:indicator", args=[view.indicator.code])


def _kpq_url(kpq) -> str:
    return reverse("dashboards:kpq", args=[kpq.code]) if kpq is not None else ""


def ambition_dashboard(number: int) -> dict:
    """An Ambition Board: each KPQ with its evidence, the delivery plans, the partnerships the
    board leads, and the exception report."""
    ambition = Ambition.objects.prefetch_related(Prefetch("kpqs", queryset=KPQ.objects.order_by("number"))).get(number=number)
    board = Board.objects.filter(kind=Board.Kind.AMBITION, ambition=ambition).first()
    indicators = list(active_indicators().filter(ambitions=ambition))
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
    groups = [(item["kpq"], item["views"]) for item in kpqs]
    linked = {v.indicator.pk for item in kpqs for v in item["views"]}
    if any(v.indicator.pk not in linked for v in views):
        groups.append((None, [v for v in views if v.indicator.pk not in linked]))
    scorecard = build_scorecard(
        groups, caption=f"Scorecard: Ambition {number}'s indicators, by Key Performance Question",
        link=lambda kpq, view: _indicator_url(view), group_link=_kpq_section, milestones=[summary],
    )
    return {
        "ambition": ambition, "board": board, "kpqs": kpqs, "milestones": summary, "milestone_period": period,
        "scorecard": scorecard, "against_england": comparisons.board_against_england(views), "area_name": "Kent",
        "against_england_title": f"Kent against England: Ambition {number}'s indicators",
        "contents": [("scorecard-table", "Scorecard", []), ("exception-report", "Exception report", []),
                     ("against-england", "Kent against England", [])]
        + ([(f"kpq-{kpqs[0]['kpq'].code}", "Key Performance Questions", [(f"kpq-{i['kpq'].code}", i["kpq"].code) for i in kpqs])]
           if kpqs else [])
        + [("milestones", "Milestones", []), ("delivery-plans", "Delivery plans", []),
           ("partnerships", "Partnerships this board leads", [])],
        "primary_plans": [link.plan for link in links if link.is_primary],
        "contributing_plans": [link.plan for link in links if not link.is_primary],
        "partnerships": list(StrategicPartnership.objects.filter(lead_board=board).prefetch_related("supported_boards")) if board else [],
        "exceptions": [v for v in views if v.is_exception],
        "missing": selectors.overdue_returns(indicators=indicators),
    }


def _kpq_section(kpq) -> str:
    return f"#kpq-{kpq.code}" if kpq is not None else ""


@dataclass
class DistrictCard:
    """One indicator on a Locality Board's page: the district's own latest approved figure and,
    in that same period, the other districts and Kent. The district is said to be better than
    Kent, similar or worse only by the rule of the indicator's own page (``district_ranking``,
    then ``versus_kent``: beyond the 95% intervals, or ±2% without them), with the basis in
    words; never a rank among the districts, whose order within noise is no difference."""

    view: IndicatorView
    own: IndicatorRollup
    rows: list[dict]
    versus_kent: str  # "better", "similar", "worse", or "" where not compared
    basis: str  # why, in words ("their 95% confidence intervals overlap")
    counts: dict[str, int]  # how many districts are better, similar and worse
    not_ranked: str  # why the districts are not compared, if they are not
    county: IndicatorRollup | None
    chart: str | None


def _district_card(indicator: Indicator, locality: Locality, own: IndicatorRollup, peers: list[IndicatorRollup],
                   all_districts: int) -> DistrictCard:
    districts = [r for r in peers if r.locality.kind == Locality.Kind.DISTRICT]
    county = next((r for r in peers if r.locality.kind == Locality.Kind.COUNTY and r.complete), None)
    rows = []
    if comparable_between_districts(indicator):
        rows = [
            {"area": r.locality.name, "value": r.value, "lower": r.ci_lower, "upper": r.ci_upper,
             "highlight": r.locality_id == locality.pk, "county": False}
            for r in districts
        ]
        if county is not None:
            rows.append({"area": "Kent (KCC area)", "value": county.value, "lower": county.ci_lower,
                         "upper": county.ci_upper, "highlight": False, "county": True})
    ranked, not_ranked = district_ranking(indicator, districts, all_districts, own.period.label)
    groups = compared_with_kent(indicator, ranked, county)
    outcome, basis, counts = "", "", {}
    if groups is not None:
        outcome, basis = versus_kent(indicator, own, county)
        counts = {name: len(group) for name, group in groups.items()}
    elif ranked:
        not_ranked = f"Not compared with Kent: no complete Kent figure for {own.period.label}."
    return DistrictCard(
        view=IndicatorView(indicator=indicator, latest=own), own=own, rows=sorted(rows, key=lambda r: r["value"]),
        versus_kent=outcome, basis=basis, counts=counts, not_ranked=not_ranked, county=county,
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
    indicators = {i.pk: i for i in active_indicators().exclude(reporting_level=Indicator.ReportingLevel.COUNTY)}
    own_history: dict[int, list[IndicatorRollup]] = defaultdict(list)
    for row in recent_rows(IndicatorRollup.objects.filter(
        indicator_id__in=list(indicators), locality=locality, breakdown_key="", value__isnull=False,
    ), TREND_POINTS):
        own_history[row.indicator_id].append(row)
    own_rows = {pk: rows[-1] for pk, rows in own_history.items()}
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
    no_figures = sorted((i for pk, i in indicators.items() if pk not in own_rows), key=lambda i: i.code)
    against_england = comparisons.district_against_england(locality.name, [card.view for card in cards.values()])
    return {
        "locality": locality, "board": board, "county": county, "priorities": prioritised, "others": others,
        "no_figures": no_figures,
        "contents": [("scorecard-table", "Scorecard", []), ("overdue-returns", "Overdue returns", []),
                     ("against-england", f"{locality.name} against England", []), ("priorities", "Local priorities", [])]
        + ([("other-indicators", "Other indicators", [])] if others else [])
        + ([("no-figures", "No approved figure yet", [])] if no_figures else []),
        "scorecard": _locality_scorecard(locality, indicators, cards, own_history, prioritised),
        "against_england": against_england, "area_name": locality.name,
        "against_england_title": f"{locality.name} against England: the district's own latest figures",
        "missing": selectors.overdue_returns(locality=locality),
    }


def _locality_scorecard(locality, indicators: dict, cards: dict, own_history: dict, prioritised: list):
    """The district's own figures, by KPQ, each linked to its card on the page (under its
    heaviest priority, or among the other indicators)."""
    where = {}
    for item in prioritised:
        for card in item["cards"]:
            where.setdefault(card.view.indicator.pk, f"#priority-{item['priority'].pk}")
    grouped, kpqs = defaultdict(list), {}
    for pk, indicator in sorted(indicators.items(), key=lambda item: item[1].code):
        view = IndicatorView(indicator=indicator, latest=cards[pk].own, trend=own_history[pk]) if pk in cards \
            else IndicatorView(indicator=indicator)
        linked = list(indicator.kpqs.all())
        for kpq in linked:
            kpqs[kpq.pk] = kpq
            grouped[kpq.pk].append(view)
        if not linked:
            grouped[None].append(view)
    order = sorted(kpqs.values(), key=lambda k: (k.ambition.number, k.number))
    groups = [(kpq, grouped[kpq.pk]) for kpq in order] + ([(None, grouped[None])] if grouped[None] else [])
    return build_scorecard(
        groups, caption=f"Scorecard: {locality.name}'s own latest figures, by Key Performance Question",
        link=lambda kpq, view: where.get(view.indicator.pk, "#other-indicators" if view.indicator.pk in cards else "#no-figures"),
        group_link=_kpq_url,
    )


def kpq_page(code: str) -> dict:
    """A KPQ: the question, its evidence, the derived answer and its narrative, and the board
    members' judgements with their history."""
    ambition_number, kpq_number = code.upper().removeprefix("A").split("-KPQ")
    kpq = KPQ.objects.select_related("ambition").get(ambition__number=int(ambition_number), number=int(kpq_number))
    indicators = list(active_indicators().filter(kpqs=kpq))
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
