"""Fixtures of the exchange tests: the returns fixtures (users, indicators, an open quarter), an
API client per caller, the DHIS2 mappings of the two indicators and of Ashford, and a quarter of
approved values to export."""
from decimal import Decimal

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from exchange.models import DataElementMapping, OrgUnitMapping
from partnerships.models import Organisation, PartnerAPIKey
from performance.models import BreakdownCategory, IndicatorReturn, ReturnEvent
from performance.returns import validation, workflow
from tests.factories import council, district
from tests.performance.conftest import (  # noqa: F401 - fixtures shared with the returns tests
    approver,
    count_indicator,
    forum_admin,
    officer,
    other_officer,
    period,
    rate_indicator,
)

ASHFORD_UNIT = "OuAshford01"
ELEMENTS = {  # (indicator, breakdown key, measure): (data element, combo)
    ("T-KSI", "", "value"): ("DeKsiTotal1", "CocDefault1"),
    ("T-KSI", "severity:fatal", "value"): ("DeKsiSevere", "CocFatal001"),
    ("T-KSI", "severity:serious", "value"): ("DeKsiSevere", "CocSerious1"),
    ("T-RECYC", "", "numerator"): ("DeRecycNum1", ""),
    ("T-RECYC", "", "denominator"): ("DeRecycDen1", ""),
}


@pytest.fixture(autouse=True)
def clear_throttles():
    cache.clear()


def key_client(scope: str, organisation=None) -> APIClient:
    key, raw = PartnerAPIKey.objects.create_key(
        name=f"{scope} key", partner=Organisation.objects.get(name="Kent Police"), scope=scope,
    )
    if organisation is not None:
        key.organisations.set([organisation])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


@pytest.fixture
def submit_client(db):
    """A partner's submit key for Ashford Borough Council's returns."""
    return key_client("submit", council())


@pytest.fixture
def read_client(db):
    return key_client("read")


@pytest.fixture
def mappings(count_indicator, rate_indicator):  # noqa: F811 - the shared fixtures
    indicators = {"T-KSI": count_indicator, "T-RECYC": rate_indicator}
    for (code, breakdown, measure), (element, combo) in ELEMENTS.items():
        category = None
        if breakdown:
            dimension, _, category_code = breakdown.partition(":")
            category = BreakdownCategory.objects.get(dimension__code=dimension, code=category_code)
        DataElementMapping.objects.create(indicator=indicators[code], breakdown=category, measure=measure,
                                          data_element=element, category_option_combo=combo)
    OrgUnitMapping.objects.create(locality=district(), org_unit=ASHFORD_UNIT)


@pytest.fixture
def approved(officer, approver, period, count_indicator, rate_indicator):  # noqa: F811 - the shared fixtures
    """Ashford's two returns of the quarter, approved: 14 casualties (1 fatal, 13 serious) and
    4,321 of 10,000 households recycling."""
    fatal, serious = (BreakdownCategory.objects.get(dimension__code="severity", code=c) for c in ("fatal", "serious"))
    entries = [
        (count_indicator, validation.IndicatorFigures(value=Decimal(14), breakdowns={fatal.pk: Decimal(1), serious.pk: Decimal(13)})),
        (rate_indicator, validation.IndicatorFigures(numerator=Decimal(4321), denominator=Decimal(10000))),
    ]
    for indicator, figures in entries:
        ret = workflow.indicator_return_save_draft(indicator=indicator, locality=district(), period=period,
                                                   organisation=council(), figures=figures, user=officer)
        ret = workflow.indicator_return_submit(ret=ret, expected_version=ret.version, user=officer) or ret
        ret.refresh_from_db()
        workflow.return_approve(ret=ret, expected_version=ret.version, user=approver)
    return stored_values()


def stored_values() -> set[tuple]:
    """What is stored, as the exchange carries it: indicator, area, period, breakdown and figures."""
    return {
        (r.indicator.code, r.locality.gss_code, r.period.label, str(r.breakdown or ""), r.value, r.numerator, r.denominator)
        for r in IndicatorReturn.objects.select_related("indicator", "locality", "period", "breakdown")
    }


def wipe() -> None:
    """Every return and its history gone: the slots are fresh again."""
    ReturnEvent.objects.all().delete()
    IndicatorReturn.objects.all().delete()
