"""Hostile input answers 400 with a message that says what is wrong, never a server error:
malformed cursors, date-times that overflow when turned to UTC, numbers no database integer
holds, lone surrogates and JSON nested thousands of levels deep, on every list or write that
takes them."""
import datetime
import json
from decimal import Decimal

import django_filters
import pytest
from rest_framework.test import APIClient

from kentforum.api.urls import router
from performance.returns import validation, workflow
from performance.rollups import engine
from tests.factories import council, district

pytestmark = pytest.mark.django_db

CURSOR_LISTS = ["indicator-returns", "milestone-returns", "rollups"]
DATED_LISTS = [*CURSOR_LISTS, "exports/approved-values.csv"]


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


BAD_CURSORS = {
    "non-numeric position": "cD1hYmM=",  # p=abc: the example from the issue
    "blank position": _b64("p="),
    "position too large for any id": _b64("p=99999999999999999999999999"),
    "fractional position": _b64("p=1.5"),
    "not text once decoded": "////",
    "not a number of pages back": _b64("r=abc&p=1"),
}
OVERFLOWING_DATES = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]
HUGE_NUMBERS = ["-1.97e+97", "1e400", "99999999999999999999999", "-99999999999999999999999", "1.5"]


def numeric_filters():
    """Every numeric filter of every API list: (resource, parameter)."""
    found = []
    for prefix, viewset, _ in router.registry:
        filterset = getattr(viewset, "filterset_class", None)
        for name, declared in (filterset.base_filters.items() if filterset else ()):
            if isinstance(declared, django_filters.NumberFilter):
                found.append((prefix, name))
    return found


@pytest.fixture
def submitter(submit_client):
    return submit_client


@pytest.fixture
def slots(period, count_indicator, officer):
    """Ashford's KSI return (with a severity breakdown) and a milestone return, both drafts."""
    from ambitions.models import DeliveryPlan
    from performance.models import BreakdownCategory, Milestone

    fatal = BreakdownCategory.objects.filter(dimension__code="severity").first()
    ret = workflow.indicator_return_save_draft(
        indicator=count_indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(value=Decimal(12), commentary="kept", breakdowns={fatal.pk: Decimal(2)}),
    )
    milestone = Milestone.objects.create(
        title="Junction 10a opens", delivery_plan=DeliveryPlan.objects.get(name="Local Transport Plan"),
        owner=council(), due_date=datetime.date(2012, 9, 30),
    )
    milestone_ret = workflow.milestone_return_save_draft(
        milestone=milestone, period=period, organisation=council(), user=officer,
        progress=validation.MilestoneProgress(status="on_track", percent_complete=30, commentary="kept"),
    )
    return {
        "indicator_item": {"indicator": "T-KSI", "locality": "E07000105", "period": period.label, "value": "3",
                           "commentary": "ok", "breakdowns": {f"severity:{fatal.code}": "1"}, "version": ret.version},
        "milestone_item": {"milestone": milestone.pk, "period": period.label, "status": "on_track",
                           "percent_complete": 40, "commentary": "ok", "version": milestone_ret.version},
        "indicator_return": ret, "milestone_return": milestone_ret, "category": f"severity:{fatal.code}",
    }


def write_operations(slots):
    """Every write that takes a JSON body: (method, url, a valid body for it)."""
    indicator_item, milestone_item = slots["indicator_item"], slots["milestone_item"]
    return [
        ("post", "/api/v1/indicator-returns/", indicator_item),
        ("post", "/api/v1/indicator-returns/bulk/", [indicator_item]),
        ("patch", f"/api/v1/indicator-returns/{slots['indicator_return'].pk}/", indicator_item),
        ("post", "/api/v1/milestone-returns/", milestone_item),
        ("patch", f"/api/v1/milestone-returns/{slots['milestone_return'].pk}/", milestone_item),
    ]


def send(client, method, url, body: str):
    return getattr(client, method)(url, data=body, content_type="application/json")


def assert_refused(response, *words):
    assert response.status_code == 400, (response.status_code, response.content[:300])
    text = response.content.decode().lower()
    for word in words:
        assert word.lower() in text, (word, text[:300])


# --- Lists --------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "csv"])
@pytest.mark.parametrize("resource", CURSOR_LISTS)
@pytest.mark.parametrize("case", BAD_CURSORS)
def test_a_malformed_cursor_is_a_400(resource, case, fmt):
    response = APIClient().get(f"/api/v1/{resource}/", {"cursor": BAD_CURSORS[case], "format": fmt})
    assert_refused(response, "cursor")


@pytest.mark.parametrize("resource", CURSOR_LISTS)
def test_the_cursors_a_list_gives_still_page_through_it(resource, slots, period, officer):
    from ambitions.models import DeliveryPlan
    from performance.models import IndicatorReturn, Milestone, MilestoneReturn

    second = Milestone.objects.create(title="Second milestone", delivery_plan=DeliveryPlan.objects.get(name="Local Transport Plan"),
                                      owner=council(), due_date=datetime.date(2012, 9, 30))
    workflow.milestone_return_save_draft(milestone=second, period=period, organisation=council(), user=officer,
                                   progress=validation.MilestoneProgress(status="on_track", percent_complete=10))
    IndicatorReturn.objects.update(state="approved")
    MilestoneReturn.objects.update(state="approved")
    engine.rebuild_all()
    client = APIClient()
    seen, url = [], f"/api/v1/{resource}/?page_size=1"
    while url:
        page = client.get(url)
        assert page.status_code == 200, page.content
        seen += [item["id"] for item in page.json()["results"]]
        url = page.json()["next"]
    assert len(seen) >= 2 and len(seen) == len(set(seen))
    back = client.get(page.json()["previous"])
    assert back.status_code == 200 and back.json()["results"]


@pytest.mark.parametrize("resource", CURSOR_LISTS)
def test_a_cursor_list_keeps_its_unique_order_whatever_ordering_asks(resource, slots, period, officer):
    """Paged by a cursor over a field that repeats (status, state), a list skips rows."""
    from ambitions.models import DeliveryPlan
    from performance.models import IndicatorReturn, Milestone, MilestoneReturn

    for n in range(3):
        milestone = Milestone.objects.create(title=f"Milestone {n}", owner=council(), due_date=datetime.date(2012, 9, 30),
                                             delivery_plan=DeliveryPlan.objects.get(name="Local Transport Plan"))
        workflow.milestone_return_save_draft(milestone=milestone, period=period, organisation=council(), user=officer,
                                       progress=validation.MilestoneProgress(status="on_track", percent_complete=n))
    IndicatorReturn.objects.update(state="approved")
    MilestoneReturn.objects.update(state="approved")
    engine.rebuild_all()
    client = APIClient()
    for ordering in ("status", "-state", "percent_complete", "indicator"):
        # Not an order the list offers: refused, naming the ones it does (it used to be ignored).
        refused = client.get(f"/api/v1/{resource}/?page_size=1&ordering={ordering}")
        assert refused.status_code == 400 and "order by one of: id" in refused.json()["ordering"][0]
    for ordering in ("id",):
        seen, url = [], f"/api/v1/{resource}/?page_size=1&ordering={ordering}"
        while url:
            page = client.get(url)
            assert page.status_code == 200, page.content
            seen += [item["id"] for item in page.json()["results"]]
            url = page.json()["next"]
        assert seen == sorted(seen) and len(seen) == client.get(f"/api/v1/{resource}/", {"page_size": 1000}).json()["results"].__len__()


@pytest.mark.parametrize("value", OVERFLOWING_DATES)
@pytest.mark.parametrize("resource", DATED_LISTS)
def test_a_date_time_that_overflows_in_utc_is_a_400(resource, value):
    response = APIClient().get(f"/api/v1/{resource}" + ("" if resource.endswith(".csv") else "/"), {"updated_since": value})
    assert_refused(response, "updated_since")


def test_the_export_refuses_invalid_filters_instead_of_exporting_everything():
    response = APIClient().get("/api/v1/exports/approved-values.csv", {"updated_since": "yesterday"})
    assert_refused(response, "updated_since")


@pytest.mark.parametrize("value", HUGE_NUMBERS)
@pytest.mark.parametrize(("resource", "parameter"), numeric_filters())
def test_a_number_no_database_integer_holds_is_a_400(resource, parameter, value):
    response = APIClient().get(f"/api/v1/{resource}/", {parameter: value})
    assert_refused(response, parameter, "whole number")


def test_every_numeric_filter_is_covered():
    assert ("milestones", "owner") in numeric_filters()
    assert len(numeric_filters()) >= 10


# --- Writes -------------------------------------------------------------------------------------

SURROGATE = "\ud800"


def _with_surrogates(body):
    """Each way to put a lone surrogate into a valid body: (what, body)."""
    item = body[0] if isinstance(body, list) else body
    cases = []
    for name, value in item.items():
        if isinstance(value, str):
            cases.append((name, {**item, name: value + SURROGATE}))
    if "breakdowns" in item:
        cases.append(("breakdown key", {**item, "breakdowns": {f"severity:{SURROGATE}": "1"}}))
        cases.append(("breakdown value", {**item, "breakdowns": {next(iter(item["breakdowns"])): SURROGATE}}))
    cases.append(("a field name", {**item, SURROGATE: "x"}))
    return [(what, [case] if isinstance(body, list) else case) for what, case in cases]


def test_a_lone_surrogate_anywhere_in_a_write_is_a_400(submitter, slots):
    from performance.models import IndicatorReturn, MilestoneReturn

    before = (list(IndicatorReturn.objects.values()), list(MilestoneReturn.objects.values()))
    tried = 0
    for method, url, body in write_operations(slots):
        for what, hostile in _with_surrogates(body):
            # json.dumps writes a lone surrogate as the escape \ud800, as a hostile client would.
            text = json.dumps(hostile)
            assert "\\ud800" in text
            response = send(submitter, method, url, text)
            assert response.status_code == 400, (method, url, what, response.content[:300])
            assert "surrogate" in response.json()["detail"], (method, url, what)
            tried += 1
    assert tried >= 20
    assert (list(IndicatorReturn.objects.values()), list(MilestoneReturn.objects.values())) == before


@pytest.mark.parametrize("shape", ["whole body", "in a field", "in a bulk item"])
def test_json_nested_thousands_of_levels_deep_is_a_400(submitter, slots, shape):
    deep = "[" * 5000 + "]" * 5000
    for method, url, body in write_operations(slots):
        if shape == "whole body":
            text = deep
        else:
            item = body[0] if isinstance(body, list) else body
            text = json.dumps({**item, "commentary": "DEEP"}).replace('"DEEP"', deep)
            if shape == "in a bulk item":
                text = f"[{text}]"
        response = send(submitter, method, url, text)
        assert_refused(response, "nested")


def test_a_deep_object_is_a_400_too(submitter, slots):
    deep = '{"a":' * 5000 + "1" + "}" * 5000
    for method, url, _ in write_operations(slots):
        assert_refused(send(submitter, method, url, deep), "nested")


def test_ordinary_nesting_still_parses(submitter, slots):
    """A breakdowns object is two levels deep; the limit leaves room for far more."""
    method, url, body = write_operations(slots)[0]
    response = send(submitter, method, url, json.dumps(body))
    assert response.status_code == 201, response.content
