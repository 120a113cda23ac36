"""My returns filtered, sorted and counted (issue 16, item 4): what is left to do in all and in
each period, the filters by period, state, indicator and ambition, the sorts, a filter that is not
one of its choices reported in the error summary, and the page's fixed number of queries."""
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ambitions.models import DeliveryPlan
from performance.catalogue import services
from performance.models import IndicatorReturn, Milestone, MilestoneReturn, WorkflowState
from performance.returns.my_returns import my_returns_page
from tests.factories import IndicatorFactory, ambition, council, district, open_quarter

URL = reverse("performance:my-returns")


def make_return(indicator, period, state, value=1):
    return IndicatorReturn.objects.create(indicator=indicator, locality=district(), period=period, organisation=council(),
                                          state=state, value=Decimal(value))


@pytest.fixture
def world(period, count_indicator, rate_indicator):
    """Four returns in the open quarter: KSI (ambition 3) sent back, recycling (ambition 2)
    submitted, T-ZED (ambition 2) not started, and a milestone of the Local Transport Plan (a plan
    of ambitions 1 and 2 in the framework) in draft."""
    count_indicator.ambitions.add(ambition(3))
    rate_indicator.ambitions.add(ambition(2))
    zed = IndicatorFactory(code="T-ZED", name="A last indicator")
    zed.ambitions.add(ambition(2))
    services.assignment_ensure(organisation=council(), indicator=zed, locality=district())
    make_return(count_indicator, period, WorkflowState.RETURNED)
    make_return(rate_indicator, period, WorkflowState.SUBMITTED, 35)
    plan = DeliveryPlan.objects.get(name="Local Transport Plan")
    milestone = Milestone.objects.create(title="Bypass opens", delivery_plan=plan, owner=council(),
                                         due_date=period.end)
    MilestoneReturn.objects.create(milestone=milestone, period=period, organisation=council(), state=WorkflowState.DRAFT)
    return {"zed": zed, "plan": plan}


def titles(officer, **params):
    return [row.title for block in my_returns_page(officer, params).periods for row in block.rows]


def test_the_page_counts_what_is_left_in_all_and_in_each_period(client, officer, world):
    client.force_login(officer)
    html = client.get(URL).content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "3 of 4 returns left to do" in text  # sent back, not started, draft
    assert "1 of 4 submitted or approved (3 left)" in text
    assert "Showing" not in text, "nothing is filtered"


def test_filters_by_state_indicator_period_and_ambition(officer, world, period):
    assert titles(officer, state="left") == ["People killed or seriously injured", "A last indicator", "Bypass opens"]
    assert titles(officer, state="submitted") == ["Household waste recycled"]
    assert titles(officer, state="not_started") == ["A last indicator"]
    assert titles(officer, state="returned") == ["People killed or seriously injured"]
    assert titles(officer, indicator="T-RECYC") == ["Household waste recycled"]
    assert titles(officer, indicator="milestones") == ["Bypass opens"]
    assert titles(officer, ambition="2") == ["Household waste recycled", "A last indicator", "Bypass opens"]
    assert titles(officer, ambition="3") == ["People killed or seriously injured"]
    assert titles(officer, ambition="1") == ["Bypass opens"], "a milestone answers its plan's ambitions"
    assert titles(officer, ambition="2", state="left") == ["A last indicator", "Bypass opens"]
    assert len(titles(officer, period=str(period.pk))) == 4
    page = my_returns_page(officer, {"state": "approved"})
    assert page.shown == 0 and page.total == 4 and page.left == 3 and page.periods == []


def test_an_earlier_open_period_is_filtered_out_by_the_period_filter(officer, world, period, rate_indicator):
    earlier = open_quarter(2011, 4)
    assert {b.period for b in my_returns_page(officer, {}).periods} == {earlier, period}
    shown = my_returns_page(officer, {"period": str(earlier.pk)})
    assert [b.period for b in shown.periods] == [earlier]
    assert shown.total == my_returns_page(officer, {}).total, "the count of what is left is of every open period"


def test_sorts(officer, world):
    assert titles(officer, sort="state") == [
        "People killed or seriously injured", "A last indicator", "Bypass opens", "Household waste recycled",
    ], "sent back, not started, draft, submitted"
    assert titles(officer, sort="title") == sorted(titles(officer), key=str.casefold)
    assert titles(officer)[-1] == "Bypass opens", "by code: indicators first, milestones last"


def test_the_page_shows_the_filters_kept_and_how_many_are_shown(client, officer, world):
    client.force_login(officer)
    html = client.get(URL, {"state": "left", "ambition": "2", "sort": "state"}).content.decode()
    assert re.search(r'<option value="left" selected>', html)
    assert re.search(r'<option value="2" selected>', html)
    assert "Showing 2 of 4 returns." in html
    table = html.split("<table", 1)[1]
    assert "A last indicator" in table and "Bypass opens" in table and "Household waste recycled" not in table
    none = client.get(URL, {"state": "approved"}).content.decode()
    assert "Showing 0 of 4 returns." in none and "clear the filters" in none


def test_a_filter_not_among_its_choices_is_in_the_error_summary_and_filters_nothing(client, officer, world, other_officer):
    client.force_login(officer)
    response = client.get(URL, {"state": "lost", "indicator": "T-NOT-MINE"})
    assert response.status_code == 400
    html = response.content.decode()
    assert html.count('class="govuk-error-summary"') == 1
    assert 'href="#id_state"' in html and 'href="#id_indicator"' in html
    assert "<title>Error: My returns" in html
    assert "A last indicator" in html and "Household waste recycled" in html, "every return is still listed"


def test_another_organisations_indicator_is_not_a_choice(client, officer, other_officer, world):
    client.force_login(other_officer)
    html = client.get(URL).content.decode()
    assert "T-RECYC" not in html and "T-ZED" not in html and "Bypass opens" not in html


@pytest.mark.parametrize("params", [{}, {"ambition": "2", "state": "left", "sort": "state"}])
def test_the_filtered_page_costs_a_fixed_number_of_queries(client, officer, world, period, params):
    client.force_login(officer)
    client.get(URL, params)

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, params).status_code == 200
        return len(captured.captured_queries)

    before = count()
    plan = world["plan"]
    for i in range(4):
        indicator = IndicatorFactory(code=f"T-N{i}")
        indicator.ambitions.add(ambition(2))
        services.assignment_ensure(organisation=council(), indicator=indicator, locality=district())
        make_return(indicator, period, WorkflowState.DRAFT)
        Milestone.objects.create(title=f"Milestone {i}", delivery_plan=plan, owner=council(), due_date=period.end)
    assert count() == before <= 21
