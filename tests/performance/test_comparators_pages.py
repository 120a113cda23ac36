"""Comparator areas on the pages (issue 17, item 2): an indicator's page sets Kent and each
district against England, the South East and Kent's CIPFA nearest neighbours, by the districts'
rule and with the reasons in words where it does not judge; an Ambition Board's page has a line
per indicator against England; the Forum team loads the figures on its upload page (others 403);
the API lists areas and figures."""
from __future__ import annotations

import base64
import csv
import io
import re
from decimal import Decimal
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kentforum.roles import Role
from performance.comparators import services
from performance.dashboards.indicator import indicator_page
from performance.dashboards.pages import ambition_dashboard, locality_dashboard
from performance.models import ComparatorFigure
from tests.performance.conftest import make_user
from tests.performance.test_comparators import csv_of
from tests.performance.test_dashboards import approver, seed  # noqa: F401 - the fixture and the seed

pytestmark = pytest.mark.django_db


def load(user, *rows):
    return services.comparator_figures_import(user=user, raw=csv_of(*rows))


@pytest.fixture
def rate_with_comparators(approver):
    """A percentage (higher is better) of every district, Kent 50.5% (Wilson interval about ±2.8)
    in 2013/14 Q1; England 40.0 (39.8 to 40.2), the South East 50.0 (49.5 to 50.5); the
    neighbours all but one with a figure of that period."""
    (count, rate), period = seed(approver, 2, 12)
    neighbours = [f"{rate.code},{gss},{period.label},{30 + n},{29 + n},{31 + n},CIPFA demo,2013-06-01,final"
                  for n, (_, gss) in enumerate(services.CIPFA_NEIGHBOURS[:-1])]
    load(approver, f"{rate.code},E92000001,{period.label},40.0,39.8,40.2,ONS,2013-06-01,final",
         f"{rate.code},E12000008,{period.label},50.0,49.5,50.5,ONS,2013-06-01,provisional", *neighbours)
    return count, rate, period


def page(client, code, status=200):
    response = client.get(reverse("dashboards:indicator", args=[code]))
    assert response.status_code == status
    return response.content.decode()


def test_the_indicator_page_sets_kent_against_england_and_the_south_east(client, approver, rate_with_comparators):
    count, rate, period = rate_with_comparators
    context = indicator_page(rate.code)
    england, south_east = context["comparisons"]
    assert (england.area, england.outcome) == ("England", "better")
    assert (south_east.area, south_east.outcome) == ("South East", "similar")
    html = page(client, rate.code)
    assert "Kent against England, the South East and similar counties" in html and 'href="#comparators"' in html
    assert "Better (their 95% confidence intervals do not overlap)" in html
    assert "Similar (their 95% confidence intervals overlap)" in html
    assert "39.8 to 40.2" in html and "released 1 June 2013" in html and "Provisional" in html


def test_each_district_is_set_against_england(client, approver, rate_with_comparators):
    count, rate, period = rate_with_comparators
    context = indicator_page(rate.code)
    assert len(context["district_comparisons"]) == 12
    assert {d["comparison"].outcome for d in context["district_comparisons"]} <= {"better", "similar", "worse"}
    assert "Each district against England, 2013/14 Q1" in page(client, rate.code)


def test_kent_is_not_placed_among_its_neighbours_until_every_one_has_a_figure_of_its_period(client, approver, rate_with_comparators):
    count, rate, period = rate_with_comparators
    ranking, = indicator_page(rate.code)["rankings"]
    assert ranking.rank is None and ranking.withheld == "Kent is not placed among them: 11 of 12 areas have a figure loaded."
    assert ranking.chart is not None  # the figures there are, with their table beside the chart
    load(approver, f"{rate.code},{services.CIPFA_NEIGHBOURS[-1][1]},{period.label},60,59,61,CIPFA demo,2013-06-01,final")
    ranking, = indicator_page(rate.code)["rankings"]
    assert (ranking.rank, ranking.of) == (2, 13)  # higher is better: only the 60% county is above Kent's 50.5%
    assert sum(ranking.counts.values()) == 12
    html = page(client, rate.code)
    assert "By value, Kent is 2 of 13 (best first)" in html and "the order is not a difference" in html
    assert html.count('class="kf-chart"') == 4  # the trend, the districts, the map and the neighbours


def test_a_neighbour_without_an_interval_or_of_another_period_stops_the_ranking(approver, rate_with_comparators):
    count, rate, period = rate_with_comparators
    last = services.CIPFA_NEIGHBOURS[-1][1]
    load(approver, f"{rate.code},{last},{period.label},60,,,CIPFA demo,2013-06-01,final")
    ranking, = indicator_page(rate.code)["rankings"]
    assert ranking.withheld == "Kent is not placed among them: not every figure has a 95% confidence interval."
    row = next(r for r in ranking.rows if r["area"] == "Worcestershire")
    assert "Worcestershire's figure has no 95% confidence interval" in row["comparison"].withheld
    ComparatorFigure.objects.filter(area__gss_code=last).delete()
    load(approver, f"{rate.code},{last},2012/13 Q1,60,59,61,CIPFA demo,2012-09-01,final")
    ranking, = indicator_page(rate.code)["rankings"]
    assert ranking.withheld == ("Kent is not placed among them: some areas' latest figures are for 2012/13 Q1, "
                                "not Kent's 2013/14 Q1.")


def test_vintage_is_said_when_englands_latest_is_of_another_period(client, approver):
    (count, rate), period = seed(approver, 2, 12)
    load(approver, f"{rate.code},E92000001,2012/13 Q1,40.0,39.8,40.2,ONS,2012-09-01,final")
    england = indicator_page(rate.code)["comparisons"][0]
    assert england.withheld == "England's latest is 2012/13 Q1; Kent's is 2013/14 Q1: not compared."
    html = page(client, rate.code)
    assert "England&#x27;s latest is 2012/13 Q1; Kent&#x27;s is 2013/14 Q1: not compared." in html
    assert "No figure for England loaded for 2013/14 Q1" not in html


def test_an_incomplete_kent_figure_is_not_compared(approver):
    (count, rate), period = seed(approver, 2, 5)  # 5 of 12 districts: Kent's figure is incomplete
    load(approver, f"{rate.code},E92000001,{period.label},40.0,39.8,40.2,ONS,2013-06-01,final")
    england = indicator_page(rate.code)["comparisons"][0]
    assert england.outcome == "" and "is incomplete (5/12 districts): not compared" in england.withheld


def test_a_count_is_shown_but_never_judged_against_england(client, approver):
    (count, rate), period = seed(approver, 2, 12)
    load(approver, f"{count.code},E92000001,{period.label},999999,,,ONS,2013-06-01,final")
    england = indicator_page(count.code)["comparisons"][0]
    assert england.withheld == "Not compared: a count mostly measures how big an area is."
    assert "999,999" in page(client, count.code)


def test_without_comparator_figures_the_page_says_so(client, approver):
    (count, rate), period = seed(approver, 2, 12)
    assert "No figures for England, the South East or similar counties have been loaded" in page(client, rate.code)


def test_the_page_costs_the_same_queries_with_comparators(client, approver, rate_with_comparators):
    count, rate, period = rate_with_comparators
    with CaptureQueriesContext(connection) as first:
        page(client, rate.code)
    load(approver, *[f"{rate.code},{gss},2012/13 Q1,{40 + n},,,ONS,2012-09-01,final"
                     for n, gss in enumerate(["E92000001", "E12000008"])])
    with CaptureQueriesContext(connection) as second:
        page(client, rate.code)
    assert len(first) == len(second) <= 18


def test_the_comparator_tables_download_as_the_page_shows_them(client, approver, rate_with_comparators):
    count, rate, period = rate_with_comparators
    base = reverse("dashboards:indicator", args=[rate.code])
    for slug, rows in (("comparators", 3), ("districts-against-england", 12),
                       (f"group-{services.NEIGHBOURS_SLUG}", 12)):
        response = client.get(f"{base}tables/{slug}.csv")
        assert response.status_code == 200, slug
        data = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert len(data) == rows + 1, slug
    assert client.get(f"{base}tables.xlsx").status_code == 200


# --- The board page ---------------------------------------------------------------------------------

def test_an_ambition_board_has_a_line_per_indicator_against_england(client, approver, rate_with_comparators):
    count, rate, period = rate_with_comparators
    load(approver, f"{count.code},E92000001,{period.label},999999,,,ONS,2013-06-01,final")
    rows = {e["view"].indicator.code: e for e in ambition_dashboard(2)["against_england"]}
    assert rows[rate.code]["comparison"].outcome == "better"
    assert rows[count.code]["comparison"].withheld == "Not compared: a count mostly measures how big an area is."
    html = unescape(client.get(reverse("dashboards:ambition", args=[2])).content.decode())
    assert "Kent against England: Ambition 2's indicators" in html and 'href="#against-england"' in html
    assert "Better (their 95% confidence intervals do not overlap)" in html
    response = client.get(reverse("dashboards:ambition-table", args=[2, "against-england"]))
    assert response.status_code == 200 and len(list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))) == 3


def test_a_locality_board_sets_its_district_against_england_by_the_same_rule(client, approver, rate_with_comparators):
    # Given Ashford's 45% (95% interval about 35.6 to 54.8) and England's 40.0 (39.8 to 40.2) in 2013/14 Q1
    count, rate, period = rate_with_comparators
    load(approver, f"{count.code},E92000001,{period.label},999999,,,ONS,2013-06-01,final")
    rows = {e["view"].indicator.code: e for e in locality_dashboard("E07000105")["against_england"]}
    # then the intervals overlap: similar, by versus_kent's rule; and a count is never judged
    ashford = rows[rate.code]
    assert (ashford["own"].locality.name, ashford["own"].period, ashford["comparison"].outcome) == ("Ashford", period, "similar")
    assert rows[count.code]["comparison"].withheld == "Not compared: a count mostly measures how big an area is."
    html = unescape(client.get(reverse("dashboards:locality", args=["E07000105"])).content.decode())
    assert "Ashford against England: the district's own latest figures" in html and 'href="#against-england"' in html
    assert "Similar (their 95% confidence intervals overlap)" in html
    response = client.get(reverse("dashboards:locality-table", args=["E07000105", "against-england"]))
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert response.status_code == 200 and len(table) == 3 and table[0][1:4] == ["Ashford", "Ashford: period", "Ashford: coverage"]


def test_a_districts_figure_of_another_period_than_englands_is_not_compared(client, approver):
    (count, rate), period = seed(approver, 2, 12)
    load(approver, f"{rate.code},E92000001,2012/13 Q1,40.0,39.8,40.2,ONS,2012-09-01,final")
    row, = locality_dashboard("E07000105")["against_england"]
    assert row["comparison"].withheld == f"England's latest is 2012/13 Q1; Ashford's is {period.label}: not compared."


def test_a_board_page_without_england_figures_says_so(client, approver):
    seed(approver, 2, 12)
    html = client.get(reverse("dashboards:ambition", args=[2])).content.decode()
    assert "No figures for England have been loaded for this board's indicators." in html


# --- The upload page: the Forum team's ------------------------------------------------------------

UPLOAD = "/comparators/upload/"


def test_only_the_forum_team_may_load_comparator_figures(client, approver):
    officer = make_user("cmp.officer", "Ashford Borough Council", Role.OFFICER)
    assert client.get(UPLOAD).status_code == 302  # to sign in
    client.force_login(officer)
    assert client.get(UPLOAD).status_code == 403
    assert client.post(UPLOAD, {"action": "confirm", "content": ""}).status_code == 403
    client.force_login(make_user("cmp.forum", "Kent County Council", Role.FORUM_ADMIN))
    html = client.get(UPLOAD).content.decode()
    assert "Load comparator figures" in html and "indicator_code,area_gss_code,period" in html.replace("<wbr>", "")


def upload(client, raw: bytes, name="figures.csv"):
    return client.post(UPLOAD, {"file": SimpleUploadedFile(name, raw, content_type="text/csv")})


def test_the_file_is_previewed_then_saved_all_together(client, approver):
    (count, rate), period = seed(approver, 2, 12)
    client.force_login(make_user("cmp.forum", "Kent County Council", Role.FORUM_ADMIN))
    raw = csv_of(f"{rate.code},E92000001,{period.label},40.0,39.8,40.2,ONS,2013-06-01,final",
                 f"{rate.code},E12000008,{period.label},50.0,49.5,50.5,ONS,2013-06-01,final")
    response = upload(client, raw)
    html = response.content.decode()
    assert response.status_code == 200 and "Check the 2 figures before saving" in html
    assert not ComparatorFigure.objects.exists()  # nothing saved yet
    content = re.search(r'name="content" value="([^"]+)"', html).group(1)
    assert base64.b64decode(content) == raw
    response = client.post(UPLOAD, {"action": "confirm", "content": content}, follow=True)
    assert "Comparator figures saved: 2 new, 0 replaced, 0 unchanged." in response.content.decode()
    assert ComparatorFigure.objects.count() == 2


def test_a_file_with_errors_shows_them_by_row_and_saves_nothing(client, approver):
    (count, rate), period = seed(approver, 2, 2)
    client.force_login(make_user("cmp.forum", "Kent County Council", Role.FORUM_ADMIN))
    response = upload(client, csv_of(f"{rate.code},E92000001,{period.label},40.0,39.8,40.2,ONS,2013-06-01,final",
                                     f"{rate.code},E99999999,{period.label},x,,,ONS,2013-06-01,final"))
    html = response.content.decode()
    assert response.status_code == 400 and "There is a problem" in html
    assert 'href="#row-3"' in html and 'id="row-3"' in html and "Row 3: no comparator area" in html
    assert 'name="content"' not in html and not ComparatorFigure.objects.exists()
    assert client.post(UPLOAD, {}).status_code == 400  # no file
    bad = base64.b64encode(csv_of(f"{rate.code},E92000001,{period.label},x,,,ONS,2013-06-01,final")).decode()
    assert client.post(UPLOAD, {"action": "confirm", "content": bad}).status_code == 400


# --- The API ----------------------------------------------------------------------------------------

def test_the_api_lists_areas_and_figures_to_anyone(client, approver, rate_with_comparators):
    count, rate, period = rate_with_comparators
    areas = client.get("/api/v1/comparator-areas/?kind=country").json()
    assert [a["gss_code"] for a in areas["results"]] == ["E92000001"]
    grouped = client.get(f"/api/v1/comparator-areas/?group={services.NEIGHBOURS_SLUG}").json()
    assert grouped["count"] == 12
    figures = client.get(f"/api/v1/comparator-figures/?indicator={rate.code}&area=E92000001").json()
    first, = figures["results"]
    assert (first["area"], first["period"], Decimal(first["value"]), first["quality"]) == (
        "E92000001", period.label, Decimal("40"), "final")
    assert client.post("/api/v1/comparator-figures/", {}).status_code in (401, 403, 405)
