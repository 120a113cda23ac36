"""Dashboards: rendered from the summary tables, public, approved figures only, a fixed number
of queries, board reports fixed as at publication, KPQ judgements with history."""
import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ambitions.models import KPQ, DeliveryPlan
from kentforum.roles import Role
from localities.models import Locality, LocalPriority
from performance import rollups, services
from performance.models import BoardReport, IndicatorTarget, KPQJudgement, Milestone
from performance.services import IndicatorFigures
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
    with rollups.deferred() as pending:
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
                    ret = services.indicator_return_save(indicator=indicator, locality=area, period=period,
                                                         organisation=organisation, figures=figures)
                    services.indicator_return_submit(ret=ret, expected_version=ret.version, confirm_warnings=True)
                    services.return_approve(ret=ret, expected_version=ret.version, user=approver)
            created.append(indicator)
        pending.clear()
    rollups.rebuild_all()
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
        assert "/static/plotly/plotly.min.js" in html and "cdn" not in html.lower()


def test_unapproved_figures_never_appear(client, approver):
    from partnerships.models import Organisation

    indicators, period = seed(approver, 1, 3)
    ashford = Locality.objects.get(name="Ashford")
    officer = make_user("dash.officer", "Ashford Borough Council", Role.OFFICER)
    later = open_quarter(2013, 2)
    ret = services.indicator_return_save(indicator=indicators[0], locality=ashford, period=later,
                                         organisation=Organisation.objects.get(locality=ashford), user=officer,
                                         figures=IndicatorFigures(value=Decimal("98765"), commentary="draft only"))
    services.indicator_return_submit(ret=ret, expected_version=ret.version, user=officer, confirm_warnings=True)
    rollups.rebuild_all()
    for name, args in DASHBOARDS:
        html = client.get(reverse(name, args=args)).content.decode()
        assert "98765" not in html and "98,765" not in html, name


@pytest.mark.parametrize("name,args", DASHBOARDS)
def test_a_dashboard_issues_a_fixed_number_of_queries(client, approver, name, args):
    seed(approver, 2, 4, prefix="S")
    with CaptureQueriesContext(connection) as small:
        client.get(reverse(name, args=args))
    seed(approver, 6, 12, prefix="L")
    Milestone.objects.create(title="Another milestone", delivery_plan=DeliveryPlan.objects.get(name="Local Transport Plan"),
                             owner=council(), due_date=datetime.date(2013, 1, 1))
    rollups.rebuild_all()
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
    response = client.post(reverse("dashboards:board-report", args=[2]))
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
    url = reverse("dashboards:board-report", args=[2])
    assert client.get(url).status_code == 302 and client.post(url).status_code == 302
    client.force_login(make_user("dash.officer3", "Thanet District Council", Role.OFFICER))
    assert client.get(url).status_code == 403 and client.post(url).status_code == 403
    assert not BoardReport.objects.exists()


def test_publishing_with_no_figures_says_so_and_saves_nothing(client):
    client.force_login(make_user("dash.admin2", "Kent County Council", Role.FORUM_ADMIN))
    response = client.post(reverse("dashboards:board-report", args=[3]), follow=True)
    assert "There are no figures to report yet." in response.content.decode()
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
    from performance.dashboards import TREND_LENGTH
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
    rollups.rebuild_all()
    html = client.get(reverse("dashboards:kpq", args=["A2-KPQ3"])).content.decode()
    assert f">{quarters[0].label}<" not in html and f">{quarters[-1].label}<" in html
    forum = client.get(reverse("dashboards:forum")).content.decode()
    assert "Collected for no ambition" not in forum
    from performance.dashboards import Evidence

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

    from performance import charts

    trend = json.loads(charts.trend_chart(title="Business births: Kent", unit="Count", points=[
        {"period": "2011", "value": 1, "target": None}, {"period": "2012", "value": 2, "target": None}]))
    assert trend["layout"]["xaxis"]["type"] == "category" and trend["layout"]["yaxis"]["automargin"]
    ranked = json.loads(charts.ranked_chart(
        title="16 to 18 year olds not in education, employment or training (NEET), 2012/13 Q4", unit="Percentage",
        rows=[{"area": "Tunbridge Wells", "value": 4, "lower": None, "upper": None, "highlight": False, "county": False}],
    ))
    assert "<br>" in ranked["layout"]["title"]["text"] and ranked["layout"]["yaxis"]["automargin"]
    assert all(len(line) <= charts.TITLE_WIDTH for line in ranked["layout"]["title"]["text"].split("<br>"))
