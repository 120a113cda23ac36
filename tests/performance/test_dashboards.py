"""Dashboards: rendered from the summary tables, public, approved figures only, a fixed number
of queries, board reports fixed as at publication, KPQ judgements with history."""
import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ambitions.models import KPQ, DeliveryPlan
from kentforum.roles import Role
from localities.models import Locality, LocalPriority
from performance.catalogue import rules, services
from performance.dashboards import charts, figures, pages, reports
from performance.dashboards.figures import TREND_LENGTH, Evidence
from performance.models import BoardReport, IndicatorTarget, KPQJudgement, Milestone
from performance.returns import selectors, workflow
from performance.returns.validation import IndicatorFigures
from performance.rollups import engine, queue
from tests.factories import IndicatorFactory, PercentageIndicatorFactory, council, open_quarter
from tests.performance.conftest import make_user

pytestmark = pytest.mark.django_db

DASHBOARDS = [
    ("dashboards:forum", []), ("dashboards:ambition", [2]), ("dashboards:locality", ["E07000105"]),
    ("dashboards:kpq", ["A2-KPQ3"]),
]


@pytest.fixture
def approver(db):
    return make_user("dash.approver", "Kent County Council", Role.APPROVER)


def seed(approver, count: int, districts: int, *, prefix="D"):
    """``count`` indicators linked to A2-KPQ3 and Ashford's priorities, two quarters of
    approved returns from ``districts`` districts, rolled up."""
    from partnerships.models import Organisation

    kpq = KPQ.objects.get(ambition__number=2, number=3)
    q1, q2 = open_quarter(2012, 1), open_quarter(2013, 1)
    areas = list(Locality.objects.filter(kind="district").order_by("name"))[:districts]
    created = []
    with queue.deferred() as pending:
        for n in range(count):
            indicator = (PercentageIndicatorFactory if n % 2 else IndicatorFactory)(code=f"{prefix}{n:03d}", name=f"Measure {prefix}{n}")
            indicator.kpqs.add(kpq)
            indicator.ambitions.add(kpq.ambition)
            IndicatorTarget.objects.create(indicator=indicator, period=q2, target=Decimal(40), tolerance_percent=Decimal(5))
            for period, base in ((q1, 30), (q2, 45)):
                for i, area in enumerate(areas):
                    organisation = Organisation.objects.get(locality=area)
                    services.assignment_ensure(organisation=organisation, indicator=indicator, locality=area)
                    figures = (IndicatorFigures(numerator=Decimal(base + i), denominator=Decimal(100), commentary="ok")
                               if indicator.is_rate else IndicatorFigures(value=Decimal(base + i), commentary="ok"))
                    ret = workflow.indicator_return_save_draft(indicator=indicator, locality=area, period=period,
                                                         organisation=organisation, figures=figures)
                    workflow.indicator_return_submit(ret=ret, expected_version=ret.version, confirm_warnings=True)
                    workflow.return_approve(ret=ret, expected_version=ret.version, user=approver)
            created.append(indicator)
        pending.clear()
    engine.rebuild_all()
    priority = LocalPriority.objects.create(locality=areas[0], title=f"Healthier lives {prefix}", weight=9)
    priority.indicators.set(created)
    return created, q2


def test_every_dashboard_renders_for_anyone(client, approver):
    seed(approver, 2, 12)
    for name, args in DASHBOARDS:
        response = client.get(reverse(name, args=args))
        assert response.status_code == 200, name
        html = response.content.decode()
        assert "Measure D0" in html or name == "dashboards:forum"
    forum = client.get(reverse("dashboards:forum")).content.decode()
    assert "Are inequalities in quality of life outcomes reducing?" in forum
    kpq = client.get(reverse("dashboards:kpq", args=["A2-KPQ3"])).content.decode()
    assert "12 of 12 districts improved" in kpq or "districts improved" in kpq
    assert "12/12 districts" in client.get(reverse("dashboards:ambition", args=[2])).content.decode()


def test_a_chart_always_has_a_data_table_and_local_plotly(client, approver):
    seed(approver, 2, 12)
    for name, args in DASHBOARDS[1:]:
        html = client.get(reverse(name, args=args)).content.decode()
        assert html.count('class="kf-chart"') >= 1
        assert html.count('class="kf-chart"') <= html.count("<table"), f"{name}: a table beside every chart"
        assert "/static/plotly/plotly-basic.min.js" in html and "cdn" not in html.lower()


def test_unapproved_figures_never_appear(client, approver):
    from partnerships.models import Organisation

    indicators, period = seed(approver, 1, 3)
    ashford = Locality.objects.get(name="Ashford")
    officer = make_user("dash.officer", "Ashford Borough Council", Role.OFFICER)
    later = open_quarter(2013, 2)
    ret = workflow.indicator_return_save_draft(indicator=indicators[0], locality=ashford, period=later,
                                         organisation=Organisation.objects.get(locality=ashford), user=officer,
                                         figures=IndicatorFigures(value=Decimal("98765"), commentary="draft only"))
    workflow.indicator_return_submit(ret=ret, expected_version=ret.version, user=officer, confirm_warnings=True)
    engine.rebuild_all()
    for name, args in DASHBOARDS:
        html = client.get(reverse(name, args=args)).content.decode()
        assert "98765" not in html and "98,765" not in html, name


@pytest.mark.parametrize("name,args", DASHBOARDS)
def test_a_dashboard_issues_a_fixed_number_of_queries(client, approver, name, args):
    seed(approver, 2, 12, prefix="S")  # complete figures at both sizes, so the same queries run
    with CaptureQueriesContext(connection) as small:
        client.get(reverse(name, args=args))
    seed(approver, 6, 12, prefix="L")
    Milestone.objects.create(title="Another milestone", delivery_plan=DeliveryPlan.objects.get(name="Local Transport Plan"),
                             owner=council(), due_date=datetime.date(2013, 1, 1))
    engine.rebuild_all()
    with CaptureQueriesContext(connection) as large:
        response = client.get(reverse(name, args=args))
    assert response.status_code == 200
    assert len(large) == len(small), f"{name}: {len(small)} queries with 2 indicators, {len(large)} with 8"


def test_board_members_add_judgements_with_history(client, approver):
    seed(approver, 2, 12)
    url = reverse("dashboards:kpq", args=["A2-KPQ3"])
    member = make_user("dash.member", "Canterbury City Council", Role.BOARD_MEMBER)
    officer = make_user("dash.officer2", "Dover District Council", Role.OFFICER)
    assert client.post(url, {"answer": "mixed", "rationale": "x"}).status_code == 302  # sign in first
    client.force_login(officer)
    assert client.post(url, {"answer": "mixed", "rationale": "x"}).status_code == 403
    client.force_login(member)
    response = client.post(url, {"answer": "mixed", "rationale": ""})
    assert response.status_code == 400 and "Give the rationale" in response.content.decode()
    client.post(url, {"answer": "mixed", "rationale": "Health gaps persist in Thanet."})
    client.post(url, {"answer": "improving", "rationale": "New figures are better."})
    judgements = list(KPQJudgement.objects.order_by("at"))
    assert [j.answer for j in judgements] == ["mixed", "improving"]
    html = client.get(url).content.decode()
    assert "Health gaps persist in Thanet." in html and "New figures are better." in html


def test_a_published_board_report_does_not_change_later(client, approver):
    indicators, period = seed(approver, 2, 12)
    admin = make_user("dash.admin", "Kent County Council", Role.FORUM_ADMIN)
    assert client.get(reverse("dashboards:board-report", args=[2])).status_code == 302
    client.force_login(admin)
    assert client.get(reverse("dashboards:board-report", args=[2])).status_code == 200
    preview = client.get(reverse("dashboards:board-report-publish", args=[2]))
    response = client.post(reverse("dashboards:board-report-publish", args=[2]), {"fingerprint": preview.context["fingerprint"]})
    report = BoardReport.objects.get()
    assert response["Location"] == reverse("dashboards:report", args=[report.pk])
    before = client.get(reverse("dashboards:report", args=[report.pk]), {"format": "csv"}).content
    # Later, a figure changes and the rollups are rebuilt.
    from performance.models import IndicatorRollup

    IndicatorRollup.objects.filter(indicator=indicators[0]).update(value=Decimal(1))
    client.logout()
    after = client.get(reverse("dashboards:report", args=[report.pk]), {"format": "csv"}).content
    assert after == before and b"D000" in after
    assert client.get(reverse("dashboards:report", args=[report.pk])).status_code == 200, "published reports are public"


def test_chart_data_cannot_break_out_of_its_script_element(client, approver):
    indicators, _ = seed(approver, 1, 3)
    indicator = indicators[0]
    indicator.name = '</script><script>alert("x")</script>'
    indicator.save()
    html = client.get(reverse("dashboards:ambition", args=[2])).content.decode()
    assert '<script>alert("x")' not in html
    import json
    import re

    for blob in re.findall(r'<script type="application/json" class="kf-chart-data"[^>]*>(.*?)</script>', html, re.S):
        json.loads(blob)  # still valid JSON


def test_officers_and_visitors_cannot_see_or_publish_a_draft_board_report(client, approver):
    seed(approver, 1, 3)
    for url in (reverse("dashboards:board-report", args=[2]), reverse("dashboards:board-report-publish", args=[2])):
        assert client.get(url).status_code == 302 and client.post(url).status_code == 302
    client.force_login(make_user("dash.officer3", "Thanet District Council", Role.OFFICER))
    for url in (reverse("dashboards:board-report", args=[2]), reverse("dashboards:board-report-publish", args=[2])):
        assert client.get(url).status_code == 403 and client.post(url).status_code == 403
    assert not BoardReport.objects.exists()


def test_publishing_with_no_figures_says_so_and_saves_nothing(client):
    client.force_login(make_user("dash.admin2", "Kent County Council", Role.FORUM_ADMIN))
    url = reverse("dashboards:board-report-publish", args=[3])
    response = client.post(url, {"fingerprint": client.get(url).context["fingerprint"]})
    assert response.status_code == 400
    html = response.content.decode()
    assert "There are no figures to report yet." in html and "There is a problem" in html
    assert not BoardReport.objects.exists()


def test_chart_ids_are_unique_and_each_has_its_data(client, approver):
    import re

    seed(approver, 2, 12)
    for name, args in DASHBOARDS[1:]:
        html = client.get(reverse(name, args=args)).content.decode()
        ids = re.findall(r'class="kf-chart" id="([^"]+)"', html)
        targets = re.findall(r'class="kf-chart-data" data-target="([^"]+)"', html)
        assert ids and len(ids) == len(set(ids)) and sorted(ids) == sorted(targets), name


def test_the_page_does_not_grow_with_history_or_with_indicators_outside_the_framework(client, approver):
    """Years of history and indicators collected for no ambition add nothing to a dashboard:
    a trend shows the last TREND_LENGTH periods, and only the framework's indicators appear."""
    from partnerships.models import Organisation
    from performance.models import IndicatorReturn, WorkflowState

    created, _ = seed(approver, 1, 2, prefix="H")
    indicator, kcc = created[0], Organisation.objects.get(short_name="KCC")
    quarters = [open_quarter(2000 + n // 4, n % 4 + 1) for n in range(TREND_LENGTH + 4)]
    outside = IndicatorFactory(code="NOT-ON-A-BOARD", name="Collected for no ambition")
    ashford = Locality.objects.get(name="Ashford")
    IndicatorReturn.objects.bulk_create([
        IndicatorReturn(indicator=i, locality=ashford, period=q, organisation=kcc, state=WorkflowState.APPROVED,
                        value=Decimal(7), numerator=Decimal(7) if i.is_rate else None,
                        denominator=Decimal(100) if i.is_rate else None)
        for q in quarters for i in (indicator, outside)
    ])
    engine.rebuild_all()
    html = client.get(reverse("dashboards:kpq", args=["A2-KPQ3"])).content.decode()
    assert f">{quarters[0].label}<" not in html and f">{quarters[-1].label}<" in html
    forum = client.get(reverse("dashboards:forum")).content.decode()
    assert "Collected for no ambition" not in forum


    assert len(Evidence([indicator]).views[indicator.pk].trend) == TREND_LENGTH


def test_every_chart_is_a_figure_plotly_accepts(client, approver):
    """The figures are written as Plotly's JSON directly (not through plotly.graph_objects, for
    speed): Plotly's own validation must accept each one, with the rows of its table."""
    import json
    import re

    import plotly.graph_objects as go

    seed(approver, 2, 12)
    checked = 0
    for name, args in DASHBOARDS[1:]:
        html = client.get(reverse(name, args=args)).content.decode()
        for blob in re.findall(r'<script type="application/json" class="kf-chart-data"[^>]*>(.*?)</script>', html, re.S):
            figure = json.loads(blob)
            go.Figure(figure)  # raises ValueError on any property Plotly does not know
            assert figure["data"] and all(trace["x"] and trace["y"] for trace in figure["data"]), name
            checked += 1
    assert checked >= 3


def test_charts_keep_their_labels_inside_the_chart():
    """Without plotly.py's template the figures must ask for room themselves: long titles wrap,
    axis labels get their margin, and periods such as "2012" stay categories, not numbers."""
    import json



    trend = json.loads(charts.trend_chart(title="Business births: Kent", unit="Count", points=[
        {"period": "2011", "value": 1, "target": None}, {"period": "2012", "value": 2, "target": None}]))
    assert trend["layout"]["xaxis"]["type"] == "category" and trend["layout"]["yaxis"]["automargin"]
    ranked = json.loads(charts.ranked_chart(
        title="16 to 18 year olds not in education, employment or training (NEET), 2012/13 Q4", unit="Percentage",
        rows=[{"area": "Tunbridge Wells", "value": 4, "lower": None, "upper": None, "highlight": False, "county": False}],
    ))
    assert "<br>" in ranked["layout"]["title"]["text"] and ranked["layout"]["yaxis"]["automargin"]
    assert all(len(line) <= charts.TITLE_WIDTH for line in ranked["layout"]["title"]["text"].split("<br>"))


# --- Honest figures: judged only when complete, compared only where fair ------------------------

def approve_figures(approver, indicator, period, areas, value_of):
    from partnerships.models import Organisation

    for n, area in enumerate(areas):
        organisation = Organisation.objects.get(locality=area)
        services.assignment_ensure(organisation=organisation, indicator=indicator, locality=area)
        ret = workflow.indicator_return_save_draft(indicator=indicator, locality=area, period=period, organisation=organisation,
                                             figures=IndicatorFigures(commentary="ok", **value_of(n)))
        workflow.indicator_return_submit(ret=ret, expected_version=ret.version, confirm_warnings=True)
        workflow.return_approve(ret=ret, expected_version=ret.version, user=approver)


def part_of_the_county(approver, polarity="lower_is_better"):
    """A count with 12/12 districts in one quarter and 3/12 in the next, far below the target."""
    kpq = KPQ.objects.get(ambition__number=2, number=3)
    indicator = IndicatorFactory(code="JSA-LIKE", name="Claimants like JSA", polarity=polarity)
    indicator.kpqs.add(kpq)
    indicator.ambitions.add(kpq.ambition)
    q3, q4 = open_quarter(2012, 3), open_quarter(2012, 4)
    for period in (q3, q4):
        IndicatorTarget.objects.create(indicator=indicator, period=period, target=Decimal(20000), tolerance_percent=Decimal(5))
    areas = list(Locality.objects.filter(kind="district").order_by("name"))
    with queue.deferred() as pending:
        approve_figures(approver, indicator, q3, areas, lambda n: {"value": Decimal(2100 + n)})
        approve_figures(approver, indicator, q4, areas[:3], lambda n: {"value": Decimal(2000 + n)})
        pending.clear()
    engine.rebuild_all()
    return indicator, q3, q4


@pytest.mark.parametrize("polarity", ["lower_is_better", "higher_is_better"])
def test_the_headline_is_the_latest_complete_figure_and_a_newer_incomplete_one_is_not_judged(client, approver, polarity):


    indicator, q3, q4 = part_of_the_county(approver, polarity)
    view = figures.Evidence([indicator]).views[indicator.pk]
    assert (view.latest.period, view.latest.complete, view.latest.value) == (q3, True, Decimal(25266))
    assert view.latest.status in ("green", "amber", "red")
    assert (view.newer_incomplete.period, view.newer_incomplete.value, view.newer_incomplete.status) == (q4, Decimal(6003), "incomplete")
    html = client.get(reverse("dashboards:ambition", args=[2])).content.decode()
    assert "Latest complete figure: <strong>2012/13 Q3</strong>" in html
    assert "Newer, incomplete: <strong>2012/13 Q4</strong>" in html and "from 3/12 districts" in html
    assert "Not judged: incomplete" in html
    assert "(incomplete, not judged)" in html, "the trend table marks the incomplete period"
    # the chart draws the incomplete figure apart from the line of complete ones
    import json
    import re

    charts = [json.loads(m) for m in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', html, re.S)]
    chart = next(c for c in charts if "Claimants like JSA" in c["layout"]["title"]["text"])
    line, apart = chart["data"][0], chart["data"][1]
    assert line["y"][-1] is None and apart["y"][-1] == 6003 and "Incomplete" in apart["name"]


def test_an_incomplete_figure_is_in_no_exception_list_answer_or_report(client, approver):


    indicator, q3, q4 = part_of_the_county(approver)
    content = reports.board_report_content(2)
    row = next(i for k in content["kpqs"] for i in k["indicators"] if i["code"] == indicator.code)
    assert (row["period"], row["complete"]) == ("2012/13 Q3", True)
    assert row["newer"]["period"] == "2012/13 Q4" and row["newer"]["status"] == "Not judged: incomplete"
    csv_rows = reports.board_report_rows(content)
    newer = next(r for r in csv_rows if r[1] == indicator.code and r[3] == "2012/13 Q4")
    assert newer[6:] == ["Not judged: incomplete", "not judged", "3/12 districts", "no", ""]
    # with only the incomplete quarter there is nothing to judge anywhere
    from performance.models import IndicatorRollup

    IndicatorRollup.objects.filter(indicator=indicator, period=q3).delete()
    view = figures.Evidence([indicator]).views[indicator.pk]
    assert view.latest is None and not view.is_exception and view.direction == "not_comparable"
    assert figures.derived_answer([view]) == "not_enough_data"
    forum = pages.forum_dashboard()
    column = next(c for c in forum["columns"] if c["ambition"].number == 2)
    assert indicator.pk not in [v.indicator.pk for v in column["exceptions"]]
    assert dict(column["status_counts"])[rules.STATUS_LABELS[rules.INCOMPLETE]] >= 1


def test_districts_are_ranked_on_rates_only_when_all_have_reported(client, approver):


    areas = list(Locality.objects.filter(kind="district").order_by("name"))
    rate, count = PercentageIndicatorFactory(code="RATE"), IndicatorFactory(code="COUNT")
    for indicator in (rate, count):
        indicator.ambitions.add(KPQ.objects.get(ambition__number=2, number=3).ambition)
    q1, q2 = open_quarter(2012, 1), open_quarter(2012, 2)
    with queue.deferred() as pending:
        approve_figures(approver, rate, q1, areas, lambda n: {"numerator": Decimal(10 + n), "denominator": Decimal(100)})
        approve_figures(approver, count, q1, areas, lambda n: {"value": Decimal(10 + n)})
        # in q2 only Ashford and two others report the rate: Ashford's latest is q2, unranked, no Kent
        approve_figures(approver, rate, q2, areas[:3], lambda n: {"numerator": Decimal(20 + n), "denominator": Decimal(100)})
        pending.clear()
    engine.rebuild_all()
    ashford = pages.locality_dashboard("E07000105")
    cards = {c.view.indicator.code: c for c in ashford["others"]}
    assert cards["RATE"].own.period == q2 and cards["RATE"].versus_kent == "" and cards["RATE"].county is None
    assert "3 of 12 districts" in cards["RATE"].not_ranked
    assert cards["COUNT"].versus_kent == "" and cards["COUNT"].chart is None and "count" in cards["COUNT"].not_ranked
    # Tunbridge Wells did not report the rate in q2: its latest is q1, where all twelve did. Its 21%
    # is the highest of the twelve, but of 100 households: its 95% interval overlaps Kent's 15.5%, so
    # it is similar to Kent, said with its basis, never "1 of 12 districts".
    wells = pages.locality_dashboard("E07000116")
    card = {c.view.indicator.code: c for c in wells["others"]}["RATE"]
    assert card.own.period == q1 and card.county is not None and card.county.complete
    assert (card.versus_kent, card.basis) == ("similar", "their 95% confidence intervals overlap")
    assert card.counts == {"better": 0, "similar": 12, "worse": 0}
    html = client.get(reverse("dashboards:locality", args=["E07000116"])).content.decode()
    assert "<strong>Similar to Kent</strong> in 2012/13 Q1: their 95% confidence intervals overlap." in html
    assert not re.search(r"\b\d+(st|nd|rd|th)? of 12 districts \(1 = best\)", html), "no rank among the districts"
    html = client.get(reverse("dashboards:locality", args=["E07000105"])).content.decode()
    assert "Not ranked: 3 of 12 districts have an approved figure for 2012/13 Q2." in html
    assert "a count mostly measures how big a district is" in html


def test_a_locality_card_compares_with_kent_by_the_indicator_pages_rule_not_by_rank():
    """The card's verdict is ``figures.versus_kent``, the rule ``compared_with_kent`` groups the
    indicator page's districts by: a district lower than Kent but within the intervals is similar."""
    from types import SimpleNamespace as Row

    from performance.models import Indicator

    rate = Indicator(polarity=Indicator.Polarity.LOWER)
    kent = Row(value=Decimal("5.0"), ci_lower=Decimal("4.8"), ci_upper=Decimal("5.2"))
    within = Row(value=Decimal("4.6"), ci_lower=Decimal("4.1"), ci_upper=Decimal("5.0"))
    below = Row(value=Decimal("4.0"), ci_lower=Decimal("3.6"), ci_upper=Decimal("4.4"))
    assert figures.versus_kent(rate, within, kent) == ("similar", "their 95% confidence intervals overlap")
    assert figures.versus_kent(rate, below, kent) == ("better", "their 95% confidence intervals do not overlap")
    plain = Row(value=Decimal("5.05"), ci_lower=None, ci_upper=None)
    assert figures.versus_kent(rate, plain, kent) == (
        "similar", "within 2% of each other, with no 95% confidence intervals to judge by")
    groups = figures.compared_with_kent(rate, [below, within, plain], kent)
    assert {name: len(rows) for name, rows in groups.items()} == {"better": 1, "similar": 2, "worse": 0}


def test_missing_returns_are_only_the_overdue_and_unsubmitted(client, approver):
    from partnerships.models import Organisation


    indicator = IndicatorFactory(code="DUE", name="Measure due")
    areas = list(Locality.objects.filter(kind="district").order_by("name"))[:3]
    past, current = open_quarter(2012, 1), open_quarter(2012, 2)
    past.deadline, past.grace_days = datetime.date(2012, 7, 31), 5
    past.save()
    current.deadline = datetime.date.today() + datetime.timedelta(days=10)
    current.save()
    for area in areas:
        services.assignment_ensure(organisation=Organisation.objects.get(locality=area), indicator=indicator, locality=area)
    approve_figures(approver, indicator, past, areas[:1], lambda n: {"value": Decimal(5)})  # submitted and approved
    draft = workflow.indicator_return_save_draft(indicator=indicator, locality=areas[1], period=past,
                                           organisation=Organisation.objects.get(locality=areas[1]),
                                           figures=IndicatorFigures(value=Decimal(4)))
    missing = selectors.overdue_returns(indicators=[indicator])
    listed = [(organisation.name, r.locality.name, r.period.label, r.state) for organisation, rows in missing for r in rows]
    assert listed == [
        (draft.organisation.name, areas[1].name, "2012/13 Q1", "draft"),
        (Organisation.objects.get(locality=areas[2]).name, areas[2].name, "2012/13 Q1", "not started"),
    ], "the approved return and the current quarter's (still in time) are not missing"
    html = client.get(reverse("dashboards:locality", args=[areas[2].gss_code])).content.decode()
    assert "Measure due, " + areas[2].name + ", 2012/13 Q1: not started" in html


def test_the_district_summary_compares_only_like_with_like():
    """Nine of twelve districts reported; seven have a figure a year before (all 50), two do not
    (52 and 90). The summary says how many could be compared and claims no widening gap made by
    a district with no figure a year before; for a count it never speaks of a gap."""
    from types import SimpleNamespace



    def row(value, before):
        return SimpleNamespace(value=Decimal(value) if value is not None else None,
                               year_ago_value=Decimal(before) if before is not None else None,
                               direction_year="no_change" if value is not None and before is not None else "not_comparable")

    rows = [row(50, 50)] * 7 + [row(52, None), row(90, None)] + [row(None, None)] * 3
    rate = figures.IndicatorView(indicator=PercentageIndicatorFactory.build(name="Rate", decimal_places=1), districts=rows)
    text = rate.district_summary()
    assert text == "Rate: 0 of 7 districts improved (7 of 12 districts could be compared with a year before)."
    complete = [row(50 + n, 50) for n in range(12)]
    assert "the gap between the highest and lowest widened from 0.0 to 11.0" in figures.IndicatorView(
        indicator=rate.indicator, districts=complete).district_summary()
    count = figures.IndicatorView(indicator=IndicatorFactory.build(name="Count", decimal_places=0), districts=complete)
    assert "gap" not in count.district_summary(), "counts measure a district's size: no gap between districts"
