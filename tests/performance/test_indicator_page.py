"""An indicator's own page (issue 15, item 2): Kent over time, every district side by side,
breakdowns, targets, data quality, definition and source; ranked only where districts may be
compared and all of them have a figure; a fixed number of queries; anyone may read it."""
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from performance.dashboards.indicator import indicator_page
from performance.models import Indicator
from tests.performance.test_dashboards import approver, seed  # noqa: F401,F811 - the fixture and the seed

pytestmark = pytest.mark.django_db


def page(client, code):
    response = client.get(reverse("dashboards:indicator", args=[code]))
    assert response.status_code == 200
    return response.content.decode()


def test_anyone_reads_an_indicator_with_every_section(client, approver):
    (count, rate), period = seed(approver, 2, 12)
    html = page(client, rate.code)
    for section in ("Kent over time", "Every district", "Breakdowns", "Targets", "Data quality", "Definition and source"):
        assert section in html
    assert rate.definition in html and "Ashford" in html and "Tunbridge Wells" in html
    assert html.count('class="kf-chart"') == 3  # the county trend, the districts and the map, each beside its table
    assert 'href="#districts"' in html


def test_districts_are_ranked_only_on_a_rate_with_every_district(client, approver):
    (count, rate), period = seed(approver, 2, 12)
    context = indicator_page(rate.code)
    assert len(context["ranked"]) == 12 and context["not_ranked"] == ""
    # lower is better: the best district has the lowest value
    values = [r.value for r in context["ranked"]]
    assert values == sorted(values, reverse=rate.polarity == Indicator.Polarity.HIGHER)
    # compared with Kent only beyond noise: every district in exactly one group
    groups = context["versus_kent"]
    assert sorted(r.locality.name for g in groups.values() for r in g) == sorted(r.locality.name for r in context["ranked"])
    html = page(client, rate.code)
    assert "Compared with Kent in" in html and "Ranked best first" not in html
    counted = indicator_page(count.code)
    assert counted["ranked"] == [] and "count" in counted["not_ranked"] and counted["district_chart"] is None


def test_a_rate_from_part_of_kent_is_not_ranked(client, approver):
    (count, rate), period = seed(approver, 2, 7)
    context = indicator_page(rate.code)
    assert context["ranked"] == [] and "7 of 12 districts" in context["not_ranked"]


def test_the_table_shows_each_district_by_period_and_a_gap_as_a_dash(client, approver):
    (count, rate), period = seed(approver, 2, 5)
    context = indicator_page(rate.code)
    assert [p.label for p in context["periods"]] == ["2012/13 Q1", "2013/14 Q1"]
    rows = {row.locality.name: row.cells for row in context["table"]}
    assert len(rows) == 12 and all(cell is not None for cell in rows["Ashford"])
    assert all(cell is None or cell.value is None for cell in rows["Tunbridge Wells"])  # shown as a dash
    html = page(client, rate.code)
    assert html.count("<td class=\"govuk-table__cell kf-numeric\">—</td>") >= 7 * 2
    assert rows["Ashford"][-1].value == Decimal("45.0000")


def test_the_page_costs_the_same_queries_whatever_else_is_stored(client, approver):
    (count, rate), period = seed(approver, 2, 12, prefix="S")
    with CaptureQueriesContext(connection) as small:
        page(client, rate.code)
    seed(approver, 8, 12, prefix="B")  # more indicators, returns and summary rows
    with CaptureQueriesContext(connection) as big:
        page(client, rate.code)
    assert len(small) == len(big) <= 14


def test_an_unknown_or_retired_indicator_is_not_found(client, approver):
    (count, rate), period = seed(approver, 2, 3)
    assert client.get(reverse("dashboards:indicator", args=["NOPE"])).status_code == 404
    Indicator.objects.filter(pk=rate.pk).update(is_active=False)
    assert client.get(reverse("dashboards:indicator", args=[rate.code])).status_code == 404


def test_a_district_is_better_or_worse_than_kent_only_beyond_noise():
    from types import SimpleNamespace as Row

    from performance.dashboards.indicator import compared_with_kent

    rate = Indicator(polarity=Indicator.Polarity.LOWER)
    kent = Row(value=Decimal("5.0"), ci_lower=Decimal("4.8"), ci_upper=Decimal("5.2"))
    within = Row(value=Decimal("4.6"), ci_lower=Decimal("4.1"), ci_upper=Decimal("5.0"), locality=Row(name="Overlaps"))
    below = Row(value=Decimal("4.0"), ci_lower=Decimal("3.6"), ci_upper=Decimal("4.4"), locality=Row(name="Lower"))
    above = Row(value=Decimal("6.0"), ci_lower=Decimal("5.6"), ci_upper=Decimal("6.4"), locality=Row(name="Higher"))
    groups = compared_with_kent(rate, [below, within, above], kent)
    assert [r.locality.name for r in groups["better"]] == ["Lower"]  # lower is better, beyond the intervals
    assert [r.locality.name for r in groups["similar"]] == ["Overlaps"]  # lower, but within noise
    assert [r.locality.name for r in groups["worse"]] == ["Higher"]
    assert compared_with_kent(rate, [below], None) is None  # no complete Kent figure: nothing said
