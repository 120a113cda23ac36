"""Honest figures over the demo data: no figure built from part of the county carries a status,
a direction of travel, a rank or a KPQ verdict, on any surface that shows it: the summary table,
the API's rollups, every dashboard (Forum, Ambition, Locality, KPQ), the exception lists, the
board report and its CSV.

The demo's open quarter has a mix of states (some returns missing, drafts, submitted, approved),
so its county figures are incomplete; the test first checks that the demo really has such
figures, so that it cannot pass on data that never exercise the rule."""
import csv
import io

import pytest
from django.urls import reverse

from ambitions.models import KPQ
from kentforum.loaders.demo import demo_load
from localities.models import Locality
from performance.catalogue import rules
from performance.dashboards import figures, reports
from performance.models import Indicator, IndicatorRollup

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

JUDGED_STATUSES = {rules.GREEN, rules.AMBER, rules.RED}
JUDGED_LABELS = {rules.STATUS_LABELS[s] for s in JUDGED_STATUSES}


def kpq_codes():
    return [f"A{k.ambition.number}-KPQ{k.number}" for k in KPQ.objects.select_related("ambition")]


def assert_view_is_honest(view, where: str) -> None:
    if view.latest is not None:
        assert view.latest.complete, f"{where}: {view.indicator.code}'s headline {view.latest.period} is incomplete"
    if view.newer_incomplete is not None:
        assert not view.newer_incomplete.complete and view.newer_incomplete.status == rules.INCOMPLETE, where
    if view.latest is None:
        assert view.direction == "not_comparable" and not view.is_exception, where


def test_no_surface_judges_a_figure_from_part_of_the_county(client):
    demo_load()
    county = Locality.objects.get(kind="county")

    # The demo exercises the rule: incomplete county figures exist, and some newer than a complete one.
    incomplete = IndicatorRollup.objects.filter(locality=county, breakdown_key="", complete=False, reporting__gt=0)
    assert incomplete.count() >= 10, "the demo's open quarter leaves county figures incomplete"

    # 1. The summary table: every incomplete row is unjudged, and no direction compares with one.
    rows = {(r.indicator_id, r.locality_id, r.period_id, r.breakdown_key): r
            for r in IndicatorRollup.objects.select_related("period", "indicator")}
    for row in rows.values():
        if not row.complete:
            assert (row.status, row.direction_previous, row.direction_year) == (rules.INCOMPLETE, "not_comparable",
                                                                                "not_comparable"), row
        if row.indicator.aggregation != "ratio" or row.indicator.min_coverage is None:
            assert row.complete == (row.value is not None and row.reporting == row.expected > 0), row
    judged_on_incomplete = [
        row for row in rows.values() if row.direction_previous != "not_comparable" and row.previous_value is not None
        and any(
            not other.complete for other in rows.values()
            if (other.indicator_id, other.locality_id, other.breakdown_key) == (row.indicator_id, row.locality_id, row.breakdown_key)
            and other.period.kind == row.period.kind and other.period.end.toordinal() == row.period.start.toordinal() - 1
        )
    ]
    assert not judged_on_incomplete, judged_on_incomplete[:3]

    # 2. The API: every row of /api/v1/rollups/ that is not complete carries no judgement.
    partial_allowed = set(Indicator.objects.filter(aggregation="ratio", min_coverage__isnull=False).values_list("code", flat=True))
    assert partial_allowed, "the demo has rates that may be judged from part of the county"
    url, seen, unjudged = "/api/v1/rollups/?page_size=1000", 0, 0
    while url:
        page = client.get(url).json()
        for item in page["results"]:
            seen += 1
            if not item["complete"]:
                unjudged += 1
                assert (item["status"], item["direction_previous"], item["direction_year"]) == (
                    "incomplete", "not_comparable", "not_comparable"), item
            elif item["reporting"] < item["expected"] and item["indicator"] not in partial_allowed:
                raise AssertionError(f"complete with {item['coverage']}: {item}")
        url = page["next"]
    assert seen == len(rows) and unjudged >= incomplete.count()
    partial = client.get("/api/v1/rollups/?complete=false&page_size=1000").json()["results"]
    assert partial and all(item["status"] == "incomplete" for item in partial)

    # 3. The Forum dashboard: counts, KPQ answers and "Needs the Forum's attention".
    forum = client.get(reverse("dashboards:forum"))
    assert forum.status_code == 200
    for column in forum.context["columns"]:
        for view in column["exceptions"]:
            assert_view_is_honest(view, "forum exceptions")
            assert view.latest is not None and view.latest.complete
    assert rules.STATUS_LABELS[rules.INCOMPLETE] in forum.content.decode()

    # 4. Each Ambition Board: every indicator, exception, KPQ answer, and the draft report and its CSV.
    newer_seen = 0
    for number in (1, 2, 3):
        page = client.get(reverse("dashboards:ambition", args=[number]))
        assert page.status_code == 200
        for item in page.context["kpqs"]:
            for view in item["views"]:
                assert_view_is_honest(view, f"ambition {number}")
                newer_seen += view.newer_incomplete is not None
            assert item["answer"] == figures.derived_answer([v for v in item["views"] if v.latest is not None])
        for view in page.context["exceptions"]:
            assert view.latest is not None and view.latest.complete
        content = reports.board_report_content(number)
        for kpq in content["kpqs"]:
            for indicator in kpq["indicators"]:
                if not indicator["complete"]:
                    assert indicator["status"] not in JUDGED_LABELS and indicator["direction"] == "not comparable"
                if indicator["newer"]:
                    assert indicator["newer"]["status"] == "Not judged: incomplete"
        exported = list(csv.reader(io.StringIO("\n".join(",".join(f'"{c}"' for c in r) for r in
                                                         reports.board_report_rows(content)))))
        header = exported[0]
        for line in exported[1:]:
            record = dict(zip(header, line))
            if record["complete"] == "no":
                assert record["status"] not in JUDGED_LABELS and record["direction"] in ("not judged", "not comparable")
    assert newer_seen >= 5, "the demo shows newer incomplete figures beside complete ones"

    # 5. Every KPQ page: the derived answer and the narrative use complete figures only.
    for code in kpq_codes():
        page = client.get(reverse("dashboards:kpq", args=[code]))
        assert page.status_code == 200
        for view in page.context["views"]:
            assert_view_is_honest(view, code)

    # 6. Every Locality Board: a district's latest is its own; Kent only when complete; compared with
    # Kent (never ranked) only where all twelve reported a rate, by the indicator page's rule.
    all_districts = Locality.objects.filter(kind="district").count()
    ranked = 0
    for locality in Locality.objects.filter(kind="district"):
        page = client.get(reverse("dashboards:locality", args=[locality.gss_code]))
        assert page.status_code == 200
        cards = [c for p in page.context["priorities"] for c in p["cards"]] + list(page.context["others"])
        for card in cards:
            assert card.own.locality_id == locality.pk and card.own.complete
            assert card.county is None or card.county.complete
            assert not any(r["county"] for r in card.rows) or card.county is not None
            if card.versus_kent:
                ranked += 1
                assert card.view.indicator.aggregation != "sum", "counts are never compared"
                assert card.county is not None and sum(card.counts.values()) == all_districts
                assert len([r for r in card.rows if not r["county"]]) == all_districts
                assert card.versus_kent == figures.versus_kent(card.view.indicator, card.own, card.county)[0]
        assert " of 12 districts (1 = best)" not in page.content.decode(), "no rank among the districts"
    assert ranked > 0, "some districts are compared with Kent where all twelve reported a rate"
