"""The indicator-returns list reads plain rows (performance/api/rows.py): every item must be
exactly what IndicatorReturnSerializer writes, on every page, for every kind of return."""
import datetime
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from drf_orjson_renderer.renderers import ORJSONRenderer
from rest_framework.test import APIClient

from localities.models import Locality
from partnerships.models import Organisation
from performance.models import BreakdownCategory, BreakdownDimension, IndicatorReturn, WorkflowState
from performance.returns.api.serializers import IndicatorReturnSerializer
from tests.factories import IndicatorFactory, PercentageIndicatorFactory, open_quarter

pytestmark = pytest.mark.django_db

LONDON_SUMMER = datetime.datetime(2014, 7, 1, 9, 30, 15, 123456, tzinfo=datetime.UTC)
WINTER_WHOLE_SECOND = datetime.datetime(2014, 1, 2, 10, 0, 0, tzinfo=datetime.UTC)


@pytest.fixture
def varied_returns():
    """Counts and rates, totals and breakdowns, nulls, every state, summer and winter times."""
    period = open_quarter(2014, 1)
    count, rate = IndicatorFactory(), PercentageIndicatorFactory()
    dimension = BreakdownDimension.objects.create(code="fast-list-sex", name="Sex")
    female = BreakdownCategory.objects.create(dimension=dimension, code="female", label="Female")
    organisation = Organisation.objects.get(short_name="KCC")
    made = []
    for n, locality in enumerate(Locality.objects.order_by("name")):
        state = [WorkflowState.APPROVED, WorkflowState.SUBMITTED, WorkflowState.DRAFT, WorkflowState.RETURNED][n % 4]
        made.append(IndicatorReturn(
            indicator=count, locality=locality, period=period, organisation=organisation, state=state,
            value=None if n == 3 else Decimal(n * 1000) + Decimal("0.5"), commentary=f"Note {n} “quoted” \u2028",
            submitted_at=LONDON_SUMMER if n % 2 else None, decided_at=WINTER_WHOLE_SECOND if n % 3 else None,
            version=n + 1, return_reason="Check" if state == WorkflowState.RETURNED else "",
        ))
        made.append(IndicatorReturn(
            indicator=count, locality=locality, period=period, organisation=organisation, breakdown=female,
            state=WorkflowState.APPROVED, value=Decimal(0), decided_at=LONDON_SUMMER,
        ))
        made.append(IndicatorReturn(
            indicator=rate, locality=locality, period=period, organisation=organisation, state=WorkflowState.APPROVED,
            numerator=Decimal(n), denominator=Decimal("12345678901234.5678"), value=Decimal("0.0001"),
        ))
    IndicatorReturn.objects.bulk_create(made)
    return made


def test_every_item_on_every_page_is_what_the_serializer_writes(varied_returns, forum_admin):
    client = APIClient()
    client.force_login(forum_admin)
    items, url, params = [], "/api/v1/indicator-returns/", {"page_size": 7}
    while url:
        response = client.get(url, params)
        assert response.status_code == 200 and response["Content-Type"] == "application/json"
        body = response.json()
        items += body["results"]
        url, params = body["next"], None
    assert len(items) == IndicatorReturn.objects.count() >= len(varied_returns)
    objects = IndicatorReturn.objects.select_related("indicator", "locality", "period", "organisation",
                                                     "breakdown__dimension").in_bulk()
    for item in items:
        expected = json.loads(ORJSONRenderer().render(IndicatorReturnSerializer(objects[item["id"]]).data))
        assert item == expected


def test_anyone_reads_approved_rows_only_and_one_query_serves_a_page(varied_returns):
    client = APIClient()
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/api/v1/indicator-returns/", {"page_size": 1000}).json()
    assert {item["state"] for item in body["results"]} == {"approved"}
    assert len(body["results"]) == IndicatorReturn.objects.filter(state="approved").count()
    assert len(queries) == 1


def test_the_csv_list_still_comes_from_the_serializer(varied_returns):
    response = APIClient().get("/api/v1/indicator-returns/", {"format": "csv", "page_size": 1000})
    assert response.status_code == 200
    text = response.content.decode()
    assert "Note 0" in text and "fast-list-sex:female" in text


@pytest.mark.parametrize("ordering", ["-value", "-decided_at", "version"])
def test_an_order_the_cursor_list_does_not_offer_is_refused(varied_returns, ordering):
    """A cursor pages correctly only over a unique, non-null order: asking for another order
    (nullable or repeated values) is a 400 naming the orders offered, not a list that loses or
    repeats rows."""
    response = APIClient().get("/api/v1/indicator-returns/", {"ordering": ordering})
    assert response.status_code == 400 and "order by one of: id" in response.json()["ordering"][0]


@pytest.mark.parametrize("ordering", ["id", "-id"])
def test_every_page_is_whole_whatever_order_is_asked_for(varied_returns, ordering):
    """A cursor pages correctly only over a unique, non-null order: the list orders by id, up or down."""
    client = APIClient()
    seen, url, params = [], "/api/v1/indicator-returns/", {"page_size": 5, "ordering": ordering}
    while url:
        response = client.get(url, params)
        assert response.status_code == 200, response.content
        seen += [item["id"] for item in response.json()["results"]]
        url, params = response.json()["next"], None
    assert sorted(seen) == sorted(IndicatorReturn.objects.filter(state="approved").values_list("id", flat=True))
