"""Imports go through the returns' own rules: all or nothing with every refused row listed,
unmapped DHIS2 identifiers named, and only whoever may enter those organisations' returns."""
import json
from decimal import Decimal

import pytest

from exchange import dhis2
from performance.models import IndicatorReturn, ReturnEvent
from tests.exchange.conftest import ASHFORD_UNIT

pytestmark = pytest.mark.django_db

DHIS2 = "/api/v1/exchange/dhis2/dataValueSets"
SDMX = "/api/v1/exchange/sdmx/data.csv"
HEADER = "STRUCTURE,STRUCTURE_ID,ACTION,FREQ,INDICATOR,REF_AREA,BREAKDOWN,TIME_PERIOD,OBS_VALUE,NUMERATOR,DENOMINATOR,REPORTING_YEAR_START_DAY\n"
DF = "dataflow,KENT_FORUM:DF_PERFORMANCE(1.0),I,Q"


def value(element, amount, *, combo=None, period="2012Q2", org_unit=ASHFORD_UNIT):
    item = {"dataElement": element, "period": period, "orgUnit": org_unit, "value": amount}
    if combo:
        item["categoryOptionCombo"] = combo
    return item


def errors_by_row(response) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list] = {}
    for error in response.json()["errors"]:
        found.setdefault(error["row"], []).append((error["field"], error["message"]))
    return found


def test_one_bad_value_saves_nothing_and_every_bad_value_is_listed(submit_client, mappings, period):
    payload = {"dataValues": [
        value("DeKsiTotal1", "14", combo="CocDefault1"),  # 1: good
        value("DeUnknown01", "3"),  # 2: unmapped data element
        value("DeKsiTotal1", "3", combo="CocUnknown1", period="2012Q3"),  # 3: unmapped combo of a mapped element
        value("DeRecycNum1", "5", org_unit="OuNowhere01"),  # 4: unmapped organisation unit
        value("DeRecycNum1", "5", period="2012W10"),  # 5: not a DHIS2 period we hold
        value("DeRecycNum1", "five"),  # 6: not a number
        value("DeRecycNum1", "5", period="2030Q2"),  # 7: no such reporting period
        value("DeRecycDen1", "0"),  # 8: the services' rule: a denominator above 0
    ]}
    response = submit_client.post(DHIS2, payload, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["detail"] == "Nothing was saved."
    rows = errors_by_row(response)
    assert set(rows) == {2, 3, 4, 5, 6, 7, 8}
    assert rows[2][0][0] == "dataElement" and "DeUnknown01" in rows[2][0][1]
    assert rows[3][0][0] == "categoryOptionCombo" and "CocUnknown1" in rows[3][0][1]
    assert rows[4][0][0] == "orgUnit" and "OuNowhere01" in rows[4][0][1]
    assert rows[5][0][0] == "period" and "2012W10" in rows[5][0][1]
    assert rows[6][0][0] == "value"
    assert rows[7][0][0] == "period" and "2030-04-01" in rows[7][0][1]
    assert rows[8] == [("denominator", "The denominator must be more than 0.")]
    assert not IndicatorReturn.objects.exists() and not ReturnEvent.objects.exists()


def test_a_refusal_of_the_services_alone_saves_nothing(submit_client, mappings, period):
    """Every row reads, but one return breaks a rule: the others are not saved either."""
    payload = {"dataValues": [value("DeKsiTotal1", "14", combo="CocDefault1"), value("DeRecycNum1", "5"),
                              value("DeRecycDen1", "-3")]}
    response = submit_client.post(DHIS2, payload, format="json")
    assert response.status_code == 400
    assert errors_by_row(response) == {3: [("denominator", "The denominator must be more than 0.")]}
    assert not IndicatorReturn.objects.exists()


def test_sdmx_rows_are_all_or_nothing_too(client, officer, count_indicator, rate_indicator, period):
    body = HEADER + "".join([
        f"{DF},T-KSI,E07000105,_T,2012-Q1,14,,,--04-01\n",  # 2: good
        f"{DF},T-NOPE,E07000105,_T,2012-Q1,1,,,--04-01\n",  # 3: no such indicator
        f"{DF},T-KSI,E07000105,_T,2012-Q1,15,,,--04-01\n",  # 4: the same figure twice
        f"{DF},T-RECYC,E07000105,_T,2012-13,,1,2,\n",  # 5: not a period
        f"{DF},T-KSI,E07000105,severity__nope,2012-Q1,1,,,--04-01\n",  # 6: not a breakdown (reported on the return)
    ])
    client.force_login(officer)
    response = client.post(SDMX, body.encode(), content_type="text/csv")
    assert response.status_code == 400, response.content
    rows = errors_by_row(response)
    assert set(rows) >= {2, 3, 4, 5}
    assert "T-NOPE" in json.dumps(rows[3])
    assert "given twice (rows 2 and 4)" in json.dumps(rows[4])
    assert rows[5][0][0] == "TIME_PERIOD"
    assert "severity:nope" in json.dumps(response.json()["errors"])
    assert not IndicatorReturn.objects.exists()


def test_an_officer_of_another_organisation_is_refused(client, other_officer, count_indicator, period):
    client.force_login(other_officer)
    body = HEADER + f"{DF},T-KSI,E07000105,_T,2012-Q1,14,,,--04-01\n"
    response = client.post(SDMX, body.encode(), content_type="text/csv")
    assert response.status_code == 403 and "Ashford Borough Council" in response.json()["detail"]
    assert not IndicatorReturn.objects.exists()


def test_a_read_key_and_anonymous_callers_are_refused(client, read_client, mappings, period):
    payload = {"dataValues": [value("DeKsiTotal1", "14", combo="CocDefault1")]}
    assert read_client.post(DHIS2, payload, format="json").status_code == 403
    assert client.post(DHIS2, payload, content_type="application/json").status_code in (401, 403)
    assert client.post(SDMX, b"x", content_type="text/csv").status_code in (401, 403)
    assert not IndicatorReturn.objects.exists()


def test_a_submit_key_of_another_organisation_is_refused(mappings, period):
    from partnerships.models import Organisation
    from tests.exchange.conftest import key_client

    dover_key = key_client("submit", Organisation.objects.get(name="Dover District Council"))
    response = dover_key.post(DHIS2, {"dataValues": [value("DeKsiTotal1", "14", combo="CocDefault1")]}, format="json")
    assert response.status_code == 403
    assert not IndicatorReturn.objects.exists()


def test_not_a_data_value_set(submit_client, period):
    for body in ([], {"dataValues": "x"}, {"nothing": 1}):
        response = submit_client.post(DHIS2, body, format="json")
        assert response.status_code == 400 and response.json()["errors"][0]["field"] == "dataValues"
    assert submit_client.post(DHIS2, {"dataValues": []}, format="json").status_code == 400


def test_a_set_s_own_period_and_org_unit_stand_for_values_that_give_none(submit_client, mappings, period):
    payload = {"period": "2012Q2", "orgUnit": ASHFORD_UNIT, "dataValues": [{"dataElement": "DeKsiTotal1", "value": "14"}]}
    response = submit_client.post(DHIS2, payload, format="json")
    assert response.status_code == 200, response.content
    assert IndicatorReturn.objects.get().value == 14


def test_mapping_falls_back_to_the_element_s_default_combo(mappings):
    figures, errors = dhis2.read_data_value_set({"dataValues": [value("DeRecycNum1", "5", combo="HllvX50cXC0")]})
    assert not errors and (figures[0].indicator_code, figures[0].measure) == ("T-RECYC", "numerator")


def test_sdmx_unreadable_files_are_a_clear_400(client, officer, period):
    client.force_login(officer)
    response = client.post(SDMX, b"A,B\n1,2\n", content_type="text/csv")
    assert response.status_code == 400 and "lacks the column(s)" in response.json()["errors"][0]["message"]
    response = client.post(SDMX, "período".encode("latin-1"), content_type="text/csv")
    assert response.status_code == 400 and "not UTF-8" in response.json()["errors"][0]["message"]
    assert client.post(SDMX, b"{}", content_type="application/json").status_code == 415


def test_sdmx_csv_1_0_is_read_too(client, officer, count_indicator, rate_indicator, period):
    body = ("DATAFLOW,INDICATOR: Indicator,REF_AREA,BREAKDOWN,TIME_PERIOD,OBS_VALUE,NUMERATOR,DENOMINATOR\n"
            "KENT_FORUM:DF_PERFORMANCE(1.0),T-KSI,E07000105,_T,2012-Q2,14,,\n"  # a calendar quarter: 2012/13 Q1
            "KENT_FORUM:DF_PERFORMANCE(1.0),T-KSI,E07000105,severity:fatal,2012-Q2,2,,\n"
            "KENT_FORUM:DF_PERFORMANCE(1.0),T-RECYC,E07000105,_T,2012-Q2,43.21,4321,10000\n")
    client.force_login(officer)
    response = client.post(SDMX, body.encode(), content_type="text/csv")
    assert response.status_code == 200, response.content
    assert set(IndicatorReturn.objects.values_list("indicator__code", "breakdown__code", "value")) == {
        ("T-KSI", None, 14), ("T-KSI", "fatal", 2), ("T-RECYC", None, Decimal("43.21"))}


def test_a_rate_needs_its_numerator_and_denominator(client, officer, rate_indicator, period):
    client.force_login(officer)
    body = HEADER + f"{DF},T-RECYC,E07000105,_T,2012-Q1,43.21,,,--04-01\n"
    response = client.post(SDMX, body.encode(), content_type="text/csv")
    assert response.status_code == 400
    assert errors_by_row(response)[2][0][0] == "value" and not IndicatorReturn.objects.exists()
    body = HEADER + f"{DF},T-RECYC,E07000105,_T,2012-Q1,1,,,--04-01\n".replace("dataflow,KENT_FORUM", "dataflow,OTHER")
    response = client.post(SDMX, body.encode(), content_type="text/csv")
    assert response.status_code == 400 and errors_by_row(response)[2][0][0] == "STRUCTURE_ID"
