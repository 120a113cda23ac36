"""The partner REST API: reading published data, writing returns through the services, keys,
formats, pagination, rate limits, and a permission matrix."""
import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from partnerships.models import Organisation, PartnerAPIKey
from performance.catalogue import services
from performance.models import IndicatorReturn, ReturnEvent
from performance.returns import imports, validation, workflow
from performance.returns.selectors import approval_queue
from performance.rollups import engine
from tests.factories import council, district

pytestmark = pytest.mark.django_db

RESOURCES = [
    "organisations", "people", "memberships", "boards", "ambitions", "kpqs", "partnerships", "officer-groups",
    "delivery-plans", "localities", "indicators", "periods", "indicator-returns", "milestones", "milestone-returns",
    "rollups", "studies",
]


@pytest.fixture(autouse=True)
def clear_throttles():
    cache.clear()


def make_key(scope="read", organisations=(), **extra):
    key, raw = PartnerAPIKey.objects.create_key(
        name=f"{scope} key", partner=Organisation.objects.get(name="Kent Police"), scope=scope, **extra
    )
    key.organisations.set(organisations)
    return key, raw


def key_client(raw):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


@pytest.fixture
def draft_and_approved(officer, approver, period, rate_indicator, count_indicator):
    """Ashford's recycling return approved (published); its KSI return only a draft."""
    approved = workflow.indicator_return_save_draft(
        indicator=rate_indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(numerator=Decimal(45), denominator=Decimal(100)),
    )
    workflow.indicator_return_submit(ret=approved, expected_version=approved.version, user=officer)
    workflow.return_approve(ret=approved, expected_version=approved.version, user=approver)
    draft = workflow.indicator_return_save_draft(
        indicator=count_indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(value=Decimal(31337)),
    )
    return approved, draft


@pytest.mark.parametrize("resource", RESOURCES)
def test_every_resource_lists_as_json_and_csv_for_anyone(resource):
    client = APIClient()
    response = client.get(f"/api/v1/{resource}/")
    assert response.status_code == 200, resource
    assert "results" in response.json()
    csv_response = client.get(f"/api/v1/{resource}/", {"format": "csv"})
    assert csv_response.status_code == 200 and csv_response["Content-Type"].startswith("text/csv")


def test_localities_by_gss_code_and_filters():
    client = APIClient()
    assert client.get("/api/v1/localities/E07000112/").json()["current_name"] == "Folkestone and Hythe"
    plans = client.get("/api/v1/delivery-plans/", {"primary_ambition": 3, "page_size": 100}).json()["results"]
    assert {p["primary_ambition"] for p in plans} == {3}
    assert client.get("/api/v1/kpqs/", {"ambition": 2}).json()["count"] == 5
    assert client.get("/api/v1/boards/", {"kind": "locality"}).json()["count"] == 12


def test_contact_details_only_for_the_forum_team(forum_admin):
    from partnerships.models import Person

    Person.objects.filter(name="Amanda Honey").update(email="amanda@example.org")
    anonymous = APIClient().get("/api/v1/people/", {"q": "Amanda"}).json()["results"][0]
    assert "email" not in anonymous and "phone" not in anonymous
    client = APIClient()
    client.force_authenticate(forum_admin)
    assert client.get("/api/v1/people/", {"q": "Amanda"}).json()["results"][0]["email"] == "amanda@example.org"


def test_anonymous_and_read_keys_see_only_published_returns(draft_and_approved, officer, other_officer):
    approved, draft = draft_and_approved
    _, raw = make_key("read")
    for client in (APIClient(), key_client(raw)):
        ids = {r["id"] for r in client.get("/api/v1/indicator-returns/").json()["results"]}
        assert ids == {approved.pk}
        assert client.get(f"/api/v1/indicator-returns/{draft.pk}/").status_code == 404
        assert b"31337" not in client.get("/api/v1/indicator-returns/", {"format": "csv"}).content
    own = APIClient()
    own.force_authenticate(officer)
    assert {r["id"] for r in own.get("/api/v1/indicator-returns/").json()["results"]} == {approved.pk, draft.pk}
    other = APIClient()
    other.force_authenticate(other_officer)
    assert other.get(f"/api/v1/indicator-returns/{draft.pk}/").status_code == 404


def test_a_partner_pulls_approved_values_for_a_locality_since_a_date(draft_and_approved):
    approved, _ = draft_and_approved
    _, raw = make_key("read")
    client = key_client(raw)
    since = (timezone.now() - datetime.timedelta(hours=1)).isoformat()
    rows = client.get("/api/v1/indicator-returns/", {"locality": "E07000105", "state": "approved", "updated_since": since}).json()
    assert [r["id"] for r in rows["results"]] == [approved.pk]
    assert rows["results"][0]["value"] == 45  # a JSON number
    later = client.get("/api/v1/indicator-returns/", {"updated_since": (timezone.now() + datetime.timedelta(hours=1)).isoformat()})
    assert later.json()["results"] == []
    csv = client.get("/api/v1/indicator-returns/", {"locality": "E07000105", "format": "csv"}).content.decode()
    assert "T-RECYC" in csv and "E07000105" in csv


def test_a_submit_key_posts_returns_that_reach_the_approval_queue(period, rate_indicator, count_indicator, approver):
    key, raw = make_key("submit", organisations=[council()])
    client = key_client(raw)
    response = client.post("/api/v1/indicator-returns/", {
        "indicator": "T-RECYC", "locality": "E07000105", "period": period.label, "numerator": "41", "denominator": "100",
        "submit": True,
    }, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["state"] == "submitted" and response.json()["value"] == 41
    ret = IndicatorReturn.objects.get()
    assert ReturnEvent.objects.filter(indicator_return=ret).last().api_key.name, "the event names the key"


    assert any(r.pk == ret.pk for _, rows in approval_queue(approver) for r in rows)


def test_invalid_or_stale_posts_change_nothing_and_say_why(period, rate_indicator, officer):
    _, raw = make_key("submit", organisations=[council()])
    client = key_client(raw)
    bad = client.post("/api/v1/indicator-returns/", {
        "indicator": "T-RECYC", "locality": "E07000105", "period": period.label, "numerator": "120", "denominator": "100",
        "submit": True,
    }, format="json")
    assert bad.status_code == 400 and "numerator" in bad.json()
    assert not IndicatorReturn.objects.exists(), "an invalid post changes nothing"
    good = client.post("/api/v1/indicator-returns/", {
        "indicator": "T-RECYC", "locality": "E07000105", "period": period.label, "numerator": "30", "denominator": "100",
    }, format="json")
    assert good.status_code == 201 and good.json()["version"] == 1
    ret = IndicatorReturn.objects.get()
    workflow.indicator_return_save_draft(indicator=rate_indicator, locality=district(), period=period, organisation=council(),
                                   user=officer, expected_version=ret.version,
                                   figures=validation.IndicatorFigures(numerator=Decimal(1), denominator=Decimal(2)))
    stale = client.patch(f"/api/v1/indicator-returns/{ret.pk}/", {"numerator": "40", "denominator": "100", "version": 1}, format="json")
    assert stale.status_code == 409
    assert stale.json()["current"]["version"] == 2 and stale.json()["current"]["numerator"] == 1
    assert IndicatorReturn.objects.get().numerator == 1
    unknown = client.post("/api/v1/indicator-returns/", {"indicator": "NOPE", "locality": "E99999999", "period": "1999/00 Q1"}, format="json")
    assert unknown.status_code == 400 and set(unknown.json()) == {"indicator", "locality", "period"}


def test_keys_may_only_submit_for_their_organisations(period, count_indicator):
    _, raw = make_key("submit", organisations=[council("Dover District Council")])
    response = key_client(raw).post("/api/v1/indicator-returns/", {
        "indicator": "T-KSI", "locality": "E07000105", "period": period.label, "value": "3"}, format="json")
    assert response.status_code == 403
    _, read_raw = make_key("read")
    response = key_client(read_raw).post("/api/v1/indicator-returns/", {
        "indicator": "T-KSI", "locality": "E07000105", "period": period.label, "value": "3"}, format="json")
    assert response.status_code == 403
    assert not IndicatorReturn.objects.exists()


def test_bulk_submission_is_all_or_nothing_with_per_item_errors(period, count_indicator, rate_indicator):
    _, raw = make_key("submit", organisations=[council()])
    client = key_client(raw)
    items = [
        {"indicator": "T-KSI", "locality": "E07000105", "period": period.label, "value": "12"},
        {"indicator": "T-RECYC", "locality": "E07000105", "period": period.label, "numerator": "9", "denominator": "0"},
        {"indicator": "T-KSI", "locality": "E07000108", "period": period.label, "value": "5"},
    ]
    response = client.post("/api/v1/indicator-returns/bulk/", items, format="json")
    assert response.status_code == 400
    failed = {e["index"] for e in response.json()["errors"]}
    assert failed == {1, 2}
    assert not IndicatorReturn.objects.exists()
    response = client.post("/api/v1/indicator-returns/bulk/", [items[0], {**items[1], "denominator": "10"}], format="json")
    assert response.status_code == 201 and len(response.json()) == 2
    assert IndicatorReturn.objects.filter(breakdown__isnull=True).count() == 2


def test_revoked_expired_and_unknown_keys_are_refused():
    _, revoked_raw = make_key("read", revoked=True)
    _, expired_raw = make_key("read", expiry_date=timezone.now() - datetime.timedelta(days=1))
    for raw, message in ((revoked_raw, "revoked"), (expired_raw, "expired"), ("nope.nope", "Unknown")):
        response = key_client(raw).get("/api/v1/indicators/")
        assert response.status_code == 401 and message in response.json()["detail"]


def test_keys_are_stored_hashed():
    key, raw = make_key("read")
    stored = PartnerAPIKey.objects.get(pk=key.pk)
    assert raw not in stored.hashed_key and stored.prefix == raw.split(".")[0]


def test_rate_limit_per_key_answers_429_with_retry_after():
    _, raw = make_key("read", rate="3/min")
    client = key_client(raw)
    codes = [client.get("/api/v1/ambitions/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = client.get("/api/v1/ambitions/")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0


@pytest.mark.parametrize("resource", ["indicator-returns", "rollups", "indicators", "delivery-plans", "memberships"])
def test_list_query_counts_do_not_grow_with_page_size(resource, draft_and_approved):


    engine.rebuild_all()
    client = APIClient()
    with CaptureQueriesContext(connection) as small:
        client.get(f"/api/v1/{resource}/", {"page_size": 1})
    with CaptureQueriesContext(connection) as large:
        client.get(f"/api/v1/{resource}/", {"page_size": 1000})
    assert len(large) == len(small), resource


def test_openapi_schema_and_docs():
    client = APIClient()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert schema["openapi"].startswith("3.")
    for resource in RESOURCES:
        assert f"/api/v1/{resource}/" in schema["paths"], resource
    assert "PartnerApiKey" in schema["components"]["securitySchemes"]
    assert "409" in schema["paths"]["/api/v1/indicator-returns/"]["post"]["responses"]
    # Only lists are paged and filtered: a write answers with what it wrote (schemathesis found
    # the bulk write documented as a paged list with the list's filters).
    for path, operations in schema["paths"].items():
        for method in ("post", "patch", "put"):
            if method in operations:
                assert "Paginated" not in str(operations[method]["responses"]), (method, path)
                assert {p["name"] for p in operations[method].get("parameters", []) if p["in"] == "query"} <= {"format"}, (method, path)
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"cdn" not in docs.content.lower()


# --- Permission matrix: who may do what, for every role and key scope -----------------------------

ACTORS = ["anonymous", "other_officer", "officer", "approver", "board_member", "read_key", "submit_key"]


@pytest.fixture
def actors(officer, other_officer, approver, board_member):
    def client_for(name):
        client = APIClient()
        if name == "read_key":
            client.credentials(HTTP_AUTHORIZATION=f"Api-Key {make_key('read')[1]}")
        elif name == "submit_key":
            client.credentials(HTTP_AUTHORIZATION=f"Api-Key {make_key('submit', organisations=[council()])[1]}")
        elif name != "anonymous":
            client.force_authenticate({"officer": officer, "other_officer": other_officer, "approver": approver,
                                       "board_member": board_member}[name])
        return client
    return client_for


# Expected status of: read the draft; create Ashford's return; update Ashford's draft.
MATRIX = {
    "anonymous": (404, 403, 404),
    "other_officer": (404, 403, 404),
    "officer": (200, 201, 200),
    "approver": (404, 403, 404),
    "board_member": (404, 403, 404),
    "read_key": (404, 403, 403),
    "submit_key": (200, 201, 200),
}


@pytest.mark.parametrize("name", ACTORS)
def test_permission_matrix(name, actors, draft_and_approved, period):
    approved, draft = draft_and_approved
    client = actors(name)
    read, create, update = MATRIX[name]
    assert client.get(f"/api/v1/indicator-returns/{draft.pk}/").status_code == read
    assert client.get(f"/api/v1/indicator-returns/{approved.pk}/").status_code == 200, "published: anyone"
    created = client.post("/api/v1/indicator-returns/", {
        "indicator": "T-KSI", "locality": "E07000105", "period": period.label, "value": "7",
        "version": IndicatorReturn.objects.get(pk=draft.pk).version}, format="json")
    assert created.status_code in ({201, 200} if create == 201 else {create, 401}), (name, created.content)
    version = IndicatorReturn.objects.get(pk=draft.pk).version
    updated = client.patch(f"/api/v1/indicator-returns/{draft.pk}/", {"value": "8", "version": version}, format="json")
    assert updated.status_code in ({update, 401} if update != 200 else {200}), (name, updated.content)
    assert client.delete(f"/api/v1/indicator-returns/{draft.pk}/").status_code in (401, 403, 405)
    assert client.post("/api/v1/indicators/", {"code": "X"}, format="json").status_code in (401, 403, 405)
    if update != 200:
        assert IndicatorReturn.objects.get(pk=draft.pk).value == Decimal(31337) or name in ("officer", "submit_key")


def test_the_long_format_export_round_trips_through_the_import(client, draft_and_approved, officer, period):

    from performance.models import ReturnImport

    approved, draft = draft_and_approved
    response = APIClient().get("/api/v1/exports/approved-values.csv", {"locality": "E07000105"})
    text = b"".join(response.streaming_content).decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = text.strip().splitlines()
    assert lines[0] == ("period,indicator_code,area_gss_code,breakdown,value,numerator,denominator,state,"
                        "quality,source_released,quality_note,ci_lower,ci_upper,sample_base")
    assert lines[1:] == [f"{period.label},T-RECYC,E07000105,,,45,100,approved,final,,,,,"], "approved values only"
    # The same file, uploaded to a portal where that return does not exist yet, recreates it.
    IndicatorReturn.objects.filter(pk=approved.pk).delete()
    job = imports.import_preview(user=officer, organisation=council(), period=period, filename="export.csv", raw=text.encode())
    assert job.state == ReturnImport.State.PREVIEW, job.rows
    imports.import_apply(user=officer, job=job)
    again = IndicatorReturn.objects.get(indicator__code="T-RECYC", breakdown__isnull=True)
    assert (again.numerator, again.denominator, again.value) == (Decimal(45), Decimal(100), Decimal("45.0000"))


def test_the_browser_list_and_the_api_share_one_filterset(client):
    from performance.models import Indicator
    from tests.factories import IndicatorFactory

    a2 = IndicatorFactory(code="F-ONE", name="Children in poverty")
    a2.ambitions.add(*__import__("ambitions.models", fromlist=["Ambition"]).Ambition.objects.filter(number=2))
    IndicatorFactory(code="F-TWO", name="Business births")
    page = client.get("/indicators/", {"ambition": 2}).content.decode()
    api = APIClient().get("/api/v1/indicators/", {"ambition": 2}).json()
    assert "F-ONE" in page and "F-TWO" not in page
    assert [r["code"] for r in api["results"]] == ["F-ONE"]
    assert Indicator.objects.count() == 2


def test_milestone_returns_are_writable_with_the_same_rules(period, officer):
    from ambitions.models import DeliveryPlan
    from performance.models import Milestone, MilestoneReturn

    milestone = Milestone.objects.create(title="Junction 10a opens", delivery_plan=DeliveryPlan.objects.get(name="Local Transport Plan"),
                                         owner=council(), due_date=datetime.date(2012, 9, 30))
    _, raw = make_key("submit", organisations=[council()])
    client = key_client(raw)
    bad = client.post("/api/v1/milestone-returns/", {"milestone": milestone.pk, "period": period.label, "status": "off_track",
                                                     "percent_complete": 30, "submit": True}, format="json")
    assert bad.status_code == 400 and "commentary" in bad.json() and not MilestoneReturn.objects.exists()
    good = client.post("/api/v1/milestone-returns/", {"milestone": milestone.pk, "period": period.label, "status": "on_track",
                                                      "percent_complete": 30}, format="json")
    assert good.status_code == 201 and good.json()["version"] == 1
    stale = client.patch(f"/api/v1/milestone-returns/{good.json()['id']}/", {"percent_complete": 40, "version": 7}, format="json")
    assert stale.status_code == 409 and stale.json()["current"]["percent_complete"] == 30
    _, other = make_key("submit", organisations=[council("Dover District Council")])
    denied = key_client(other).patch(f"/api/v1/milestone-returns/{good.json()['id']}/", {"percent_complete": 40, "version": 1}, format="json")
    assert denied.status_code in (403, 404)


def test_a_reassigned_slot_does_not_open_the_previous_owners_return(period, count_indicator, officer):
    """Review finding: the new owner of a slot must not read or overwrite the old owner's draft."""
    draft = workflow.indicator_return_save_draft(indicator=count_indicator, locality=district(), period=period,
                                           organisation=council(), user=officer,
                                           figures=validation.IndicatorFigures(value=Decimal(7), commentary="ashford secret"))
    services.assignment_ensure(organisation=council("Dover District Council"), indicator=count_indicator, locality=district())
    _, raw = make_key("submit", organisations=[council("Dover District Council")])
    response = key_client(raw).post("/api/v1/indicator-returns/", {
        "indicator": "T-KSI", "locality": "E07000105", "period": period.label, "value": "99", "version": draft.version,
    }, format="json")
    assert response.status_code == 403
    assert b"ashford secret" not in response.content
    assert IndicatorReturn.objects.get(pk=draft.pk).value == 7


def test_approvers_do_not_read_officers_drafts(draft_and_approved, approver):
    approved, draft = draft_and_approved
    client = APIClient()
    client.force_authenticate(approver)
    assert client.get(f"/api/v1/indicator-returns/{draft.pk}/").status_code == 404
    assert client.get(f"/api/v1/indicator-returns/{approved.pk}/").status_code == 200


def test_csv_keeps_negative_numbers_as_numbers():
    from kentforum.api.renderers import _neutralise

    assert _neutralise({"value": "-3.0000", "name": "-3 things", "formula": "=1+1"}) == {
        "value": "-3.0000", "name": "'-3 things", "formula": "'=1+1"}
