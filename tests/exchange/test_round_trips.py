"""Round trips in both formats: approved values exported, the slots wiped, the file imported
again (through the API with a partner key, with an officer's session, and by the management
commands): the same values, as drafts, with their audit events."""
import csv
import io
import json

import pytest
from django.core.management import call_command

from partnerships.models import PartnerAPIKey
from performance.models import IndicatorReturn, ReturnEvent
from tests.exchange.conftest import ASHFORD_UNIT, stored_values, wipe

pytestmark = pytest.mark.django_db

DHIS2 = "/api/v1/exchange/dhis2/dataValueSets"
SDMX = "/api/v1/exchange/sdmx/data.csv"


def assert_imported_as_drafts(before, *, api_key=None, actor=None):
    assert stored_values() == before
    assert set(IndicatorReturn.objects.values_list("state", flat=True)) == {"draft"}
    totals = IndicatorReturn.objects.filter(breakdown__isnull=True)
    assert totals.count() == 2
    events = ReturnEvent.objects.filter(indicator_return__in=totals)
    assert events.count() == 2 and set(events.values_list("action", flat=True)) == {"created"}
    for event in events:
        assert event.api_key_id == (api_key.pk if api_key else None)
        assert event.actor_id == (actor.pk if actor else None)
        assert event.changes  # what was set, field by field


def test_dhis2_round_trip_through_the_api_with_a_partner_key(client, submit_client, mappings, approved):
    exported = client.get(DHIS2)
    assert exported.status_code == 200 and exported["Content-Type"].startswith("application/json")
    payload = exported.json()
    assert sorted((v["dataElement"], v.get("categoryOptionCombo"), v["period"], v["orgUnit"], v["value"])
                  for v in payload["dataValues"]) == sorted([
        ("DeKsiTotal1", "CocDefault1", "2012Q2", ASHFORD_UNIT, "14"),
        ("DeKsiSevere", "CocFatal001", "2012Q2", ASHFORD_UNIT, "1"),
        ("DeKsiSevere", "CocSerious1", "2012Q2", ASHFORD_UNIT, "13"),
        ("DeRecycNum1", None, "2012Q2", ASHFORD_UNIT, "4321"),
        ("DeRecycDen1", None, "2012Q2", ASHFORD_UNIT, "10000"),
    ])
    wipe()
    response = submit_client.post(DHIS2, payload, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["saved"] == 2
    assert_imported_as_drafts(approved, api_key=PartnerAPIKey.objects.get(name="submit key"))


def test_sdmx_round_trip_through_the_api_with_an_officers_session(client, officer, approved):
    exported = client.get(SDMX)
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/csv")
    text = exported.content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    ksi = next(r for r in rows if r["INDICATOR"] == "T-KSI" and r["BREAKDOWN"] == "_T")
    assert (ksi["STRUCTURE"], ksi["STRUCTURE_ID"], ksi["ACTION"], ksi["FREQ"], ksi["REF_AREA"], ksi["TIME_PERIOD"],
            ksi["REPORTING_YEAR_START_DAY"], ksi["OBS_VALUE"], ksi["OBS_STATUS"]) == (
        "dataflow", "KENT_FORUM:DF_PERFORMANCE(1.0)", "I", "Q", "E07000105", "2012-Q1", "--04-01", "14", "A")
    recycling = next(r for r in rows if r["INDICATOR"] == "T-RECYC")
    assert (recycling["OBS_VALUE"], recycling["NUMERATOR"], recycling["DENOMINATOR"]) == ("43.21", "4321", "10000")
    assert {r["BREAKDOWN"] for r in rows} == {"_T", "severity__fatal", "severity__serious"}
    wipe()
    client.force_login(officer)
    response = client.post(SDMX, text.encode(), content_type="text/csv")
    assert response.status_code == 200, response.content
    assert_imported_as_drafts(approved, actor=officer)


def test_round_trips_by_the_management_commands(tmp_path, officer, mappings, approved):
    commands = (("export_dhis2", "import_dhis2", "values.json"), ("export_sdmx", "import_sdmx", "values.csv"))
    for export, _, name in commands:
        call_command(export, "--filter", "locality=E07000105", "--output", str(tmp_path / name))
    for _, load, name in commands:
        path = tmp_path / name
        wipe()
        out = io.StringIO()
        call_command(load, str(path), "--user", officer.username, stdout=out)
        assert "2 returns saved as drafts" in out.getvalue()
        assert_imported_as_drafts(approved, actor=officer)
        wipe()
        call_command(load, str(path), stdout=io.StringIO())  # as the system, for the Forum team
        assert_imported_as_drafts(approved)


def test_the_export_is_filtered_like_the_approved_values_export(client, mappings, approved):
    assert client.get(DHIS2, {"indicator": "T-RECYC"}).json()["dataValues"][0]["dataElement"] in {"DeRecycNum1", "DeRecycDen1"}
    assert len(client.get(DHIS2, {"indicator": "T-RECYC"}).json()["dataValues"]) == 2
    assert client.get(DHIS2, {"locality": "E07000108"}).json() == {"dataValues": []}
    lines = client.get(SDMX, {"period": "2012/13 Q1", "breakdown": "total"}).content.decode().strip().splitlines()
    assert len(lines) == 3  # the header and the two totals
    refused = client.get(SDMX, {"nonsense": "1"})
    assert refused.status_code == 400 and "nonsense" in refused.json()
    assert client.get(DHIS2, {"state": "bogus"}).status_code == 400


def test_only_approved_values_are_exported(client, mappings, approved, officer):
    IndicatorReturn.objects.filter(indicator__code="T-RECYC").update(state="submitted")
    assert {v["dataElement"] for v in client.get(DHIS2).json()["dataValues"]} == {"DeKsiTotal1", "DeKsiSevere"}
    assert "T-RECYC" not in client.get(SDMX).content.decode()


def test_approved_values_given_back_as_stored_are_left_alone(client, officer, approved):
    """Importing the export into the portal it came from changes nothing (as the CSV import leaves
    rows of approved returns that come back as downloaded); changing one is refused."""
    text = client.get(SDMX).content.decode()
    client.force_login(officer)
    response = client.post(SDMX, text.encode(), content_type="text/csv")
    assert response.status_code == 200 and response.json()["saved"] == 0
    assert set(IndicatorReturn.objects.values_list("state", flat=True)) == {"approved"}
    changed = text.replace(",14,", ",15,")
    response = client.post(SDMX, changed.encode(), content_type="text/csv")
    assert response.status_code == 400
    assert "approved" in json.dumps(response.json()["errors"])


def test_the_exports_cost_the_same_queries_whatever_the_number_of_values(client, mappings, approved):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for params in ({"indicator": "T-RECYC"}, {}):
        for url in (DHIS2, SDMX):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url, params).status_code == 200
            counts.append((url, len(queries)))
    assert counts[:2] == counts[2:]
