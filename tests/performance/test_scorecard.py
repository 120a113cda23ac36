"""The scorecard at the top of every board page (issue 15, item 1): one row per indicator under
its KPQ with its status, latest complete figure and coverage, direction of travel and a short
trend; counts by status; the exceptions that matter first (red and worsening, then red, then
amber and worsening); a contents list. Built from what the page has loaded, so it adds no query,
and it never judges an incomplete figure."""
import datetime
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kentforum.loaders.demo import demo_load
from performance.catalogue import rules
from performance.dashboards import pages, scorecard
from performance.dashboards.figures import IndicatorView
from performance.models import Indicator, IndicatorRollup, ReportingPeriod
from tests.performance.test_browser import AXE, CHROMIUM, IN_CI, axe_violations, browser  # noqa: F401 - the Chromium fixture
from tests.performance.test_dashboards import part_of_the_county, seed

pytestmark = pytest.mark.django_db

BOARD_PAGES = [("dashboards:forum", []), ("dashboards:ambition", [2]), ("dashboards:locality", ["E07000105"])]


def ids_of(html: str) -> set[str]:
    return set(re.findall(r'\sid="([^"]+)"', html))


def scorecard_html(html: str) -> str:
    start = html.index('id="scorecard"')
    return html[start:html.index("</table>", start)]


# --- Rows and counts of a seeded dashboard ------------------------------------------------------

def test_the_scorecard_shows_each_indicator_under_its_kpq_with_status_figure_coverage_and_trend(client, approver):
    created, q2 = seed(approver, 4, 12)
    context = pages.ambition_dashboard(2)
    card = context["scorecard"]
    group = next(g for g in card.groups if g.code == "A2-KPQ3")
    rows = {r.indicator.code: r for r in group.rows}
    assert set(rows) >= {i.code for i in created}
    for indicator in created:
        row = rows[indicator.code]
        assert row.figure.period == q2 and row.figure.complete and row.figure.coverage_display == "12/12 districts"
        assert row.link == reverse("dashboards:indicator", args=[indicator.code]) and row.anchor == f"score-A2-KPQ3-{indicator.code}"
        assert len(row.trend) == 2, "both approved quarters, oldest first"
        if indicator.unit == Indicator.Unit.COUNT:  # lower is better, 606 against a target of 40, up from 426
            assert (row.status, row.direction, row.trend_text) == (rules.RED, "worsening", "426.0 → 606.0")
        else:  # higher is better, 50.5% against 40%, up from 35.5%
            assert (row.status, row.direction, row.trend_text) == (rules.GREEN, "improving", "35.5% → 50.5%")
        assert row.status_label == rules.STATUS_LABELS[row.status]
    # the counts cover each indicator of the page once, in the one definition's order and words
    views = {v.indicator.pk: v for item in context["kpqs"] for v in item["views"]}
    assert sum(n for _, _, n in card.counts) == len(views)
    assert [s for s, _, _ in card.counts] == [s for s in rules.STATUS_LABELS if s in {s for s, _, _ in card.counts}]
    assert all(label == rules.STATUS_LABELS[s] for s, label, _ in card.counts)
    counts = dict((s, n) for s, _, n in card.counts)
    assert counts[rules.RED] >= 2 and counts[rules.GREEN] >= 2
    assert "2 off target" in card.counts_text or f"{counts[rules.RED]} off target" in card.counts_text
    # the red and worsening counts come first among the exceptions
    assert [r.indicator.code for r in card.exceptions][:2] == [i.code for i in created if i.unit == Indicator.Unit.COUNT]


@pytest.mark.parametrize("name,args", BOARD_PAGES)
def test_every_board_page_opens_with_the_scorecard_table_and_its_links_resolve(client, approver, name, args):
    seed(approver, 2, 12)
    html = client.get(reverse(name, args=args)).content.decode()
    top = html.index('id="scorecard"')
    assert top < html.index("<h2", html.index("</h1>")) + 200, "the scorecard is the first section after the heading"
    table = scorecard_html(html)
    assert '<table class="govuk-table govuk-body-s kf-scorecard" id="scorecard-table">' in html
    assert '<caption class="govuk-table__caption' in table and 'scope="col"' in table and 'scope="rowgroup"' in table
    assert "Measure D0" in table and ("12/12 districts" in table or "1/1 district" in table)
    assert "Indicators by status:" in table and "Exceptions that matter first" in table
    ids = ids_of(html)
    for anchor in re.findall(r'href="#([^"]+)"', html):
        assert anchor in ids, f"{name}: #{anchor} leads nowhere"
    assert '<nav class="govuk-grid-column-one-third" aria-labelledby="contents-heading">' in html


def test_the_locality_scorecard_shows_the_districts_own_figures(client, approver):
    created, q2 = seed(approver, 2, 12)
    context = pages.locality_dashboard("E07000105")  # Ashford, the first district by name
    rows = [r for g in context["scorecard"].groups for r in g.rows if r.indicator in created]
    assert rows and all(r.figure.locality.gss_code == "E07000105" and r.figure.period == q2 for r in rows)
    assert all(r.figure.coverage_display == "1/1 district" for r in rows)
    assert all(r.link.startswith("#priority-") for r in rows), "each links to its card under the district's priority"


# --- The exceptions' order, and the milestones in one line ----------------------------------------

def make_view(n: int, status: str, direction: str, *, complete: bool = True) -> IndicatorView:
    indicator = Indicator(pk=1000 + n, code=f"X{n:02d}", name=f"Indicator {n}", unit="count", decimal_places=0)
    period = ReportingPeriod(pk=n, label="2012/13 Q4", start=datetime.date(2013, 1, 1), end=datetime.date(2013, 3, 31))
    row = IndicatorRollup(pk=n, indicator=indicator, period=period, value=Decimal(10 + n), status=status,
                          direction_year=direction, direction_previous=direction, complete=complete, reporting=12, expected=12)
    if not complete:
        return IndicatorView(indicator=indicator, newer_incomplete=row, trend=[row])
    return IndicatorView(indicator=indicator, latest=row, trend=[row])


def test_exceptions_come_red_and_worsening_first_then_red_then_amber_and_worsening():
    views = [
        make_view(1, rules.AMBER, "worsening"), make_view(2, rules.RED, "improving"), make_view(3, rules.GREEN, "worsening"),
        make_view(4, rules.RED, "worsening"), make_view(5, rules.AMBER, "improving"), make_view(6, rules.RED, "no_change"),
        make_view(7, rules.INCOMPLETE, "not_comparable", complete=False),
    ]
    card = scorecard.build_scorecard([(None, views)], caption="c", link=lambda k, v: "", group_link=lambda k: "")
    assert [r.indicator.code for r in card.exceptions] == ["X04", "X02", "X06", "X01"]
    assert card.more_exceptions == 0
    assert card.counts_text == "1 on target, 2 within tolerance, 3 off target, 1 not judged: incomplete"
    many = [make_view(n, rules.RED, "worsening") for n in range(10, 18)]
    card = scorecard.build_scorecard([(None, many)], caption="c", link=lambda k, v: "", group_link=lambda k: "")
    assert len(card.exceptions) == scorecard.MAX_EXCEPTIONS and card.more_exceptions == 3


def test_an_indicator_under_two_kpqs_is_counted_once():
    view = make_view(1, rules.RED, "worsening")
    kpq_a, kpq_b = type("K", (), {"code": "A1-KPQ1", "text": "One?"})(), type("K", (), {"code": "A1-KPQ2", "text": "Two?"})()
    card = scorecard.build_scorecard([(kpq_a, [view]), (kpq_b, [view])], caption="c", link=lambda k, v: f"#{k.code}",
                                     group_link=lambda k: "")
    assert [len(g.rows) for g in card.groups] == [1, 1]
    assert card.groups[0].rows[0].anchor != card.groups[1].rows[0].anchor
    assert card.counts == [(rules.RED, rules.STATUS_LABELS[rules.RED], 1)] and len(card.exceptions) == 1
    assert card.exceptions[0].anchor == "score-A1-KPQ1-X01"


def test_milestones_are_one_line_not_one_exception_each(client, approver):
    seed(approver, 1, 12)
    card = pages.ambition_dashboard(2)["scorecard"]
    html = client.get(reverse("dashboards:ambition", args=[2])).content.decode()
    if card.milestones:
        assert re.search(r"\d+ milestones? overdue, \d+ slipped: see <a class=\"govuk-link\" href=\"#milestones\">", html)
    assert "Overdue milestone:" not in scorecard_html(html)


# --- Honest figures: an incomplete figure is never judged -----------------------------------------

def test_an_incomplete_figure_is_never_judged_in_the_scorecard(client, approver):
    indicator, q3, q4 = part_of_the_county(approver)
    row = next(r for g in pages.ambition_dashboard(2)["scorecard"].groups for r in g.rows if r.indicator == indicator)
    assert row.figure.period == q3 and row.figure.complete, "judged on the latest complete quarter"
    assert row.newer.period == q4 and not row.newer.complete
    assert "6,003" not in row.trend_text, "the incomplete figure is no point of the trend"
    IndicatorRollup.objects.filter(indicator=indicator, period=q3).delete()
    card = pages.ambition_dashboard(2)["scorecard"]
    row = next(r for g in card.groups for r in g.rows if r.indicator == indicator)
    assert (row.status, row.status_label) == (rules.INCOMPLETE, "Not judged: incomplete")
    assert row.figure is None and row.direction == "" and row.direction_text == "Not judged" and row.trend == []
    assert row.priority is None and indicator not in [r.indicator for r in card.exceptions]
    html = scorecard_html(client.get(reverse("dashboards:ambition", args=[2])).content.decode())
    cells = re.search(rf'id="score-A2-KPQ3-{indicator.code}">(.*?)</tr>', html, re.S).group(1)
    assert "Not judged: incomplete" in cells and "Newer, incomplete: 6,003" in cells and "from 3/12 districts, not judged" in cells
    for words in ("Improving", "Worsening", "No significant change", "Off target", "On target", "Within tolerance"):
        assert words not in cells
    forum = pages.forum_dashboard()["scorecard"]
    assert indicator not in [r.indicator for r in forum.exceptions]


# --- No query of its own -----------------------------------------------------------------------

@pytest.mark.parametrize("name,args", BOARD_PAGES)
def test_the_scorecard_adds_no_query_to_a_board_page(client, approver, monkeypatch, name, args):
    seed(approver, 3, 12)
    url = reverse(name, args=args)
    with CaptureQueriesContext(connection) as with_scorecard:
        assert client.get(url).status_code == 200

    def without(groups, **kwargs):
        list(groups)
        return scorecard.Scorecard(caption="", groups=[], counts=[], exceptions=[])

    monkeypatch.setattr(pages, "build_scorecard", without)
    with CaptureQueriesContext(connection) as without_scorecard:
        assert client.get(url).status_code == 200
    assert len(with_scorecard) == len(without_scorecard), name
    monkeypatch.undo()
    seed(approver, 5, 12, prefix="M")  # more indicators, more rows: still the same queries
    with CaptureQueriesContext(connection) as larger:
        html = client.get(url).content.decode()
    assert "Measure M4" in scorecard_html(html)
    assert len(larger) == len(with_scorecard), name


# --- In a real browser: on the first screen, and accessible ---------------------------------------

@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not Path(CHROMIUM).exists() and not IN_CI, reason="needs Debian's chromium (apt-get install chromium)")
@pytest.mark.skipif(not AXE.exists() and not IN_CI, reason="needs node_modules (npm ci)")
def test_ambition_board_1_shows_the_scorecard_on_the_first_screen_and_passes_axe(framework, live_server, browser):  # noqa: F811
    demo_load()
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/dashboards/ambitions/1/")
    table = page.locator("table#scorecard-table")
    box = table.bounding_box()
    assert box is not None and box["y"] < 800, f"the scorecard starts below the first screen: {box}"
    assert table.locator("caption").inner_text().startswith("Scorecard")
    assert table.locator("th[scope=rowgroup]").count() == 5, "one row group per KPQ of ambition 1"
    assert page.get_by_text("Indicators by status:").is_visible()
    assert axe_violations(page) == []
    context.close()
