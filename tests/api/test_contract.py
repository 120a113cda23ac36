"""The API's contract with a generated client (issue 17): keys sent any other way are 401;
unknown parameters, empty choices, orders not offered and page sizes out of bounds are 400;
the schema documents what each operation serves (CSV twins as text, the export's filters and
body, numbers as numbers, ordering choices, page-size bounds, only the errors it can answer);
cursor lists give their cursors; CSV lists page by a Link header."""
import csv
import io
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from partnerships.models import Organisation, PartnerAPIKey
from performance.models import IndicatorReturn
from performance.returns import validation, workflow
from tests.factories import council, district

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clear_throttles():
    cache.clear()


@pytest.fixture
def schema():
    return APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


@pytest.fixture
def approved_returns(officer, approver, period, rate_indicator, count_indicator):
    """Three approved returns in Ashford (a rate and a count) and Canterbury."""
    made = []
    for indicator, figures in ((rate_indicator, {"numerator": Decimal(45), "denominator": Decimal(100)}),
                               (count_indicator, {"value": Decimal("17.5")})):
        ret = workflow.indicator_return_save_draft(
            indicator=indicator, locality=district(), period=period, organisation=council(), user=officer,
            figures=validation.IndicatorFigures(**figures),
        )
        workflow.indicator_return_submit(ret=ret, expected_version=ret.version, user=officer)
        made.append(workflow.return_approve(ret=ret, expected_version=ret.version, user=approver))
    return made


# --- Keys are sent one way; any other is 401, never anonymous service -----------------------------

@pytest.mark.parametrize("headers", [
    {"HTTP_AUTHORIZATION": "api-key abc.def"},        # lower-case scheme
    {"HTTP_AUTHORIZATION": "API-KEY abc.def"},
    {"HTTP_AUTHORIZATION": "Bearer abc.def"},
    {"HTTP_AUTHORIZATION": "Token abc.def"},
    {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"},
    {"HTTP_AUTHORIZATION": "Api-Key"},                # no key
    {"HTTP_AUTHORIZATION": "Api-Key    "},
    {"HTTP_AUTHORIZATION": "abc.def"},                # no scheme
    {"HTTP_X_API_KEY": "abc.def"},
])
def test_a_key_sent_any_other_way_is_401_saying_how_to_send_it(headers):
    response = APIClient().get("/api/v1/indicators/", **headers)
    assert response.status_code == 401
    assert "Authorization: Api-Key <key>" in response.json()["detail"]
    assert response["WWW-Authenticate"] == "Api-Key"


@pytest.mark.parametrize("parameter", ["api_key", "apikey"])
def test_a_key_in_the_query_string_is_401(parameter):
    response = APIClient().get("/api/v1/indicator-returns/", {parameter: "abc.def"})
    assert response.status_code == 401 and "query parameter" in response.json()["detail"]


def test_the_one_way_still_works_and_no_credentials_is_still_anonymous():
    _, raw = PartnerAPIKey.objects.create_key(name="k", partner=Organisation.objects.get(name="Kent Police"), scope="read")
    assert APIClient().get("/api/v1/indicators/", HTTP_AUTHORIZATION=f"Api-Key {raw}").status_code == 200
    assert APIClient().get("/api/v1/indicators/").status_code == 200


# --- Query strings are strict ----------------------------------------------------------------------

@pytest.mark.parametrize(("url", "query", "named"), [
    ("/api/v1/indicator-returns/", "localty=E07000105", "localty"),
    ("/api/v1/indicators/", "colour=red&page=1", "colour"),
    ("/api/v1/indicators.csv", "nope=1", "nope"),
    ("/api/v1/exports/approved-values.csv", "localty=E07000105", "localty"),
])
def test_an_unknown_parameter_is_a_400_naming_it(url, query, named):
    response = APIClient().get(f"{url}?{query}")
    assert response.status_code == 400
    assert named in response.content.decode() and "This list takes" in response.content.decode()


@pytest.mark.parametrize("query", ["state=", "state=bogus", "state=approved&state="])
def test_a_choice_filter_is_strict(query):
    response = APIClient().get(f"/api/v1/indicator-returns/?{query}")
    assert response.status_code == 400 and "state" in response.json()


@pytest.mark.parametrize("size", ["0", "1001", "-1", "ten", ""])
def test_page_size_out_of_its_bounds_is_a_400(size):
    assert APIClient().get(f"/api/v1/indicators/?page_size={size}").status_code == 400


def test_ordering_takes_only_the_orders_offered():
    client = APIClient()
    assert client.get("/api/v1/indicators/?ordering=-code").status_code == 200
    refused = client.get("/api/v1/indicators/?ordering=colour")
    assert refused.status_code == 400 and "code" in refused.json()["ordering"][0]


# --- What the schema says ------------------------------------------------------------------------

def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield path, method, operation


def test_only_writes_document_409_and_415(schema):
    for path, method, operation in operations(schema):
        if method in ("get", "head", "delete"):
            assert not {"405", "409", "415"} & set(operation["responses"]), (method, path)
    assert "409" in schema["paths"]["/api/v1/indicator-returns/{id}/"]["patch"]["responses"]
    assert "415" in schema["paths"]["/api/v1/indicator-returns/"]["post"]["responses"]


def test_json_operations_document_json_and_every_list_has_a_csv_twin_of_text(schema):
    lists = [path for path, method, operation in operations(schema)
             if method == "get" and any(p["name"] == "page_size" for p in operation.get("parameters", []))
             and not path.endswith(".csv")]
    assert "/api/v1/indicator-returns/" in lists and len(lists) >= 18
    for path, method, operation in operations(schema):
        for code, response in operation["responses"].items():
            media = set(response.get("content", {}))
            if path.endswith(".csv") and method == "get" and code.startswith("2"):
                assert media == {"text/csv"} and response["content"]["text/csv"]["schema"] == {"type": "string"}
            elif not path.endswith(".csv"):
                assert media <= {"application/json"}, (path, code)
    for path in lists:
        twin = schema["paths"][path.rstrip("/") + ".csv"]["get"]
        assert twin["responses"]["200"]["content"] == {"text/csv": {"schema": {"type": "string"}}}
        assert "Link" in twin["responses"]["200"]["headers"]


def test_the_export_documents_its_filters_and_its_csv_body(schema):
    export = schema["paths"]["/api/v1/exports/approved-values.csv"]["get"]
    names = {p["name"] for p in export["parameters"]}
    assert {"indicator", "locality", "ambition", "period_from", "period_to", "updated_since", "breakdown"} <= names
    assert export["responses"]["200"]["content"] == {"text/csv": {"schema": {"type": "string"}}}


def test_figures_are_numbers_ordering_is_an_enum_and_page_size_is_bounded(schema):
    ret = schema["components"]["schemas"]["IndicatorReturn"]["properties"]
    assert ret["value"]["type"] == "number" and ret["numerator"]["type"] == "number"
    listing = schema["paths"]["/api/v1/indicators/"]["get"]["parameters"]
    ordering = next(p for p in listing if p["name"] == "ordering")
    assert set(ordering["schema"]["enum"]) == {"code", "-code", "name", "-name"}
    size = next(p for p in listing if p["name"] == "page_size")
    assert (size["schema"]["minimum"], size["schema"]["maximum"]) == (1, 1000)
    page = schema["components"]["schemas"]["PaginatedIndicatorReturnList"]
    assert {"next_cursor", "previous_cursor"} <= set(page["properties"])


def test_descriptions_are_for_partners(schema):
    for path, method, operation in operations(schema):
        text = operation.get("description", "")
        assert ".py" not in text and "serializer" not in text.lower() and "restrict(" not in text, (method, path)


# --- What is served -----------------------------------------------------------------------------

def test_figures_are_served_as_json_numbers(approved_returns):
    items = APIClient().get("/api/v1/indicator-returns/").json()["results"]
    assert sorted(item["value"] for item in items) == [17.5, 45]
    one = APIClient().get(f"/api/v1/indicator-returns/{approved_returns[0].pk}/").json()
    assert one["numerator"] == 45 and isinstance(one["numerator"], (int, float))


def test_a_cursor_list_gives_its_cursor_and_a_link_header(approved_returns):
    client = APIClient()
    first = client.get("/api/v1/indicator-returns/", {"page_size": 1})
    body = first.json()
    assert body["next_cursor"] and body["previous_cursor"] is None
    assert parse_qs(urlsplit(body["next"]).query)["cursor"] == [body["next_cursor"]], "the cursor the link carries"
    assert first["Link"] == f'<{body["next"]}>; rel="next"'
    second = client.get("/api/v1/indicator-returns/", {"page_size": 1, "cursor": body["next_cursor"]}).json()
    assert second["next_cursor"] is None and second["previous_cursor"]
    assert {body["results"][0]["id"], second["results"][0]["id"]} == {r.pk for r in approved_returns}


def test_a_csv_list_is_read_whole_by_following_its_link_header(approved_returns):
    client, rows, url = APIClient(), [], "/api/v1/indicator-returns.csv?page_size=1"
    while url:
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        rows += list(csv.DictReader(io.StringIO(response.content.decode())))
        link = response.get("Link", "")
        url = link[1:link.index(">")] if 'rel="next"' in link else None
    assert sorted(int(row["id"]) for row in rows) == sorted(r.pk for r in approved_returns)
    assert IndicatorReturn.objects.count() == 2


def test_csv_twins_answer_errors_as_csv():
    response = APIClient().get("/api/v1/indicators.csv?page_size=0")
    assert response.status_code == 400 and response["Content-Type"].startswith("text/csv")


def test_the_export_streams_every_filtered_row(approved_returns):
    response = APIClient().get("/api/v1/exports/approved-values.csv", {"indicator": approved_returns[0].indicator.code})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["indicator_code"] for row in rows] == [approved_returns[0].indicator.code]
