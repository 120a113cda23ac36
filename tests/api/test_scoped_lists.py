"""The lists filtered by board, ambition, KPQ and delivery plan (issue 19, item 3): each filter
resolves its indicators (or a Locality Board's district) first and filters the big table by
their ids (``performance.catalogue.filter_scope``), without joins or DISTINCT. These tests check that
the rows are exactly those the joins through the framework would give, for every board,
ambition, KPQ and plan of the Kent framework, on the summary rows and on the returns; the speed
is measured in benchmarks/ (``python -m benchmarks run``, "Filtered API lists")."""
import datetime
import random
from html import unescape

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from ambitions.models import KPQ, Ambition, DeliveryPlan
from partnerships.models import Board, Organisation
from performance.catalogue import filter_scope, periods, services
from performance.models import IndicatorReturn, IndicatorRollup, WorkflowState
from performance.returns.filtersets import IndicatorReturnFilterSet
from performance.rollups.filtersets import IndicatorRollupFilterSet
from tests.factories import IndicatorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows():
    """Five indicators: evidence for ambition 1, for 2 and 3, for 3 with a KPQ, for 1 with two
    KPQs, and for none; a summary row and an approved return of each in every area, the summary
    rows' ids in no order of indicator or area."""
    kpqs = {(k.ambition.number, k.number): k for k in KPQ.objects.select_related("ambition")}
    links = [([1], []), ([2, 3], []), ([3], [(3, 2)]), ([1], [(1, 1), (1, 4)]), ([], [])]
    period, _ = services.period_ensure(span=periods.quarter(2011, 1))
    areas = [(o.locality, o) for o in Organisation.objects.filter(locality__isnull=False).select_related("locality")]
    now = datetime.datetime(2012, 1, 1, tzinfo=datetime.UTC)
    summary, returns = [], []
    for ambitions, kpq_keys in links:
        indicator = IndicatorFactory()
        indicator.ambitions.set(Ambition.objects.filter(number__in=ambitions))
        indicator.kpqs.set([kpqs[k] for k in kpq_keys])
        summary += [IndicatorRollup(indicator=indicator, locality=locality, period=period, computed_at=now)
                    for locality, _ in areas]
        returns += [IndicatorReturn(indicator=indicator, locality=locality, organisation=organisation, period=period,
                                    state=WorkflowState.APPROVED, value=1) for locality, organisation in areas]
    random.Random(19).shuffle(summary)  # ids scattered across indicators and areas, as after a rebuild
    random.Random(18).shuffle(returns)
    IndicatorRollup.objects.bulk_create(summary)
    IndicatorReturn.objects.bulk_create(returns)


def joined(model, **value):
    """The rows the filter stood for when it joined through the framework."""
    (name, v), = value.items()
    condition = {
        "board": Q(indicator__ambitions__board__slug=v) | Q(locality__board__slug=v),
        "ambition": Q(indicator__ambitions__number=v),
        "delivery_plan": Q(indicator__ambitions__delivery_plans__slug=v),
    }.get(name)
    if name == "kpq":
        ambition, number = filter_scope.parse_kpq(v)
        condition = Q(indicator__kpqs__ambition__number=ambition, indicator__kpqs__number=number)
    return set(model.objects.filter(condition).values_list("pk", flat=True))


def every_filter():
    yield from ({"board": slug} for slug in Board.objects.values_list("slug", flat=True))
    yield from ({"ambition": n} for n in (1, 2, 3))
    yield from ({"kpq": f"A{k.ambition.number}-KPQ{k.number}"} for k in KPQ.objects.select_related("ambition"))
    yield from ({"delivery_plan": slug} for slug in DeliveryPlan.objects.values_list("slug", flat=True))


@pytest.mark.parametrize("model, filterset", [
    (IndicatorRollup, IndicatorRollupFilterSet), (IndicatorReturn, IndicatorReturnFilterSet),
])
def test_each_filter_gives_the_rows_the_joins_gave(rows, model, filterset):
    checked = 0
    for value in every_filter():
        got = filterset(value, queryset=model.objects.all()).qs
        ids = list(got.values_list("pk", flat=True))
        assert len(ids) == len(set(ids)), f"{value}: a row twice"
        assert set(ids) == joined(model, **value), value
        checked += 1
    assert checked > 15 + 40  # 15 KPQs, 40 delivery plans and the boards
    # and the filters are not empty by accident
    assert filterset({"ambition": 1}, queryset=model.objects.all()).qs.count() == 2 * 13
    assert filterset({"kpq": "a3-kpq2"}, queryset=model.objects.all()).qs.count() == 13


def test_a_locality_board_is_its_district_and_an_ambition_board_its_indicators(rows):
    locality_board = Board.objects.filter(locality__isnull=False).select_related("locality").first()
    ambition_board = Board.objects.get(ambition__number=3)
    assert filter_scope.board_scope(locality_board.slug) == filter_scope.FilterScope(locality_ids=(locality_board.locality_id,))
    in_three = filter_scope.board_scope(ambition_board.slug)
    assert len(in_three.indicator_ids) == 2 and in_three.locality_ids == ()
    assert filter_scope.board_scope("kent-forum") == filter_scope.FilterScope() and filter_scope.board_scope("no-such-board") == filter_scope.FilterScope()
    assert not IndicatorRollup.objects.filter(filter_scope.FilterScope().q()).exists()


def test_the_api_lists_take_the_filters_and_a_malformed_kpq_is_a_400_naming_it(rows):
    client = APIClient()
    for resource in ("rollups", "indicator-returns", "indicators"):
        assert client.get(f"/api/v1/{resource}/", {"kpq": "A1-KPQ4", "page_size": 100}).json()["results"], resource
        # a KPQ that is well formed but does not exist answers nothing
        assert client.get(f"/api/v1/{resource}/", {"kpq": "A3-KPQ9"}).json()["results"] == [], resource
        # a code that is not one says what a KPQ code looks like, rather than listing nothing
        response = client.get(f"/api/v1/{resource}/", {"kpq": "not a kpq"})
        assert response.status_code == 400, resource
        assert response.json()["kpq"] == ["Enter a KPQ code such as A2-KPQ4 (ambition 2, question 4)."], resource
    plan = DeliveryPlan.objects.filter(ambitions__number=1).first()
    listed = client.get("/api/v1/rollups/", {"delivery_plan": plan.slug, "page_size": 1000}).json()["results"]
    assert len(listed) == len(joined(IndicatorRollup, delivery_plan=plan.slug)) > 0


def test_the_scope_is_resolved_in_a_fixed_number_of_queries(rows, django_assert_num_queries):
    slug = Board.objects.get(ambition__number=1).slug
    with django_assert_num_queries(3):  # its indicators, its district, then the rows themselves
        list(IndicatorRollupFilterSet({"board": slug}, queryset=IndicatorRollup.objects.all()).qs.values_list("pk"))
    # one less for everything else
    with django_assert_num_queries(2):
        list(IndicatorRollupFilterSet({"kpq": "A1-KPQ1"}, queryset=IndicatorRollup.objects.all()).qs.values_list("pk"))


def walk(client, url, params):
    """Every page of a cursor list, forwards; then back again by the previous links."""
    forwards, pages = [], []
    response = client.get(url, params).json()
    while True:
        pages.append(response)
        forwards += [row["id"] for row in response["results"]]
        if not response["next"]:
            break
        response = client.get(response["next"]).json()
    backwards = []
    while response["previous"]:
        response = client.get(response["previous"]).json()
        backwards = [row["id"] for row in response["results"]] + backwards
    return forwards, backwards, len(pages)


@pytest.mark.parametrize("params", [
    {"ambition": 1}, {"board": "ambition-board-3-to-put-citizens-in-control"}, {"kpq": "A1-KPQ4"}, {"ambition": 3, "kpq": "A3-KPQ2"},
    {"ambition": 1, "locality": "E07000105"}, {"board": "ashford-locality-board"},
])
@pytest.mark.parametrize("resource, model, filterset", [
    ("rollups", IndicatorRollup, IndicatorRollupFilterSet), ("indicator-returns", IndicatorReturn, IndicatorReturnFilterSet),
])
def test_a_scoped_list_pages_forwards_and_back_through_every_row(rows, params, resource, model, filterset):
    # Given rows of several indicators in every area, with their ids out of indicator order
    client = APIClient()
    expected = sorted(filterset(params, queryset=model.objects.all()).qs.values_list("pk", flat=True))
    assert expected, params
    # when a partner pages through the list seven rows at a time
    forwards, backwards, pages = walk(client, f"/api/v1/{resource}/", {**params, "page_size": 7})
    # then every row comes once, in id order, and the previous links lead back over the same rows
    assert forwards == expected
    last_page = len(expected) % 7 or 7
    assert backwards == expected[: len(expected) - last_page]
    assert pages == -(-len(expected) // 7)


def test_on_postgresql_a_page_is_read_one_indicator_at_a_time(rows):
    if connection.vendor != "postgresql":
        pytest.skip("compound queries with their own LIMIT are PostgreSQL's")
    for resource in ("rollups", "indicator-returns"):
        with CaptureQueriesContext(connection) as queries:
            APIClient().get(f"/api/v1/{resource}/", {"ambition": 1, "page_size": 5})
        branch_reads = [q["sql"] for q in queries if "UNION ALL" in q["sql"]]
        assert len(branch_reads) == 1 and branch_reads[0].count("LIMIT 6") == 2, resource  # two indicators, a page and one


def test_the_indicator_page_says_what_a_kpq_code_looks_like_and_keeps_what_was_typed(client):
    message = "Enter a KPQ code such as A2-KPQ4 (ambition 2, question 4)."
    page = unescape(client.get("/indicators/", {"kpq": "A2KPQ4"}).content.decode())
    assert f'<a href="#id_kpq">{message}</a>' in page  # the error summary links to the field
    assert f'<p id="id_kpq-error" class="govuk-error-message"><span class="govuk-visually-hidden">Error:</span> {message}</p>' in page
    assert 'name="kpq" type="text" aria-describedby="id_kpq-hint id_kpq-error" value="A2KPQ4"' in page
    assert "The list is not filtered until the problem above is put right." in page
    # a good code: no error at all
    good = client.get("/indicators/", {"kpq": "a2-kpq4"}).content.decode()
    assert "govuk-error-summary" not in good and "id_kpq-error" not in good
