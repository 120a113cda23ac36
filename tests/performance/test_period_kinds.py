"""One rule decides the kinds of period an indicator is returned in (``periods.period_kinds_for``):
monthly indicators in months and quarters, quarterly ones in quarters, annual ones in financial
or calendar years by their year basis. The return pages (``selectors.period_for_indicator``) and
the rollup (``engine.all_slices`` for the nightly rebuild, ``queue.slices_touched`` for an
approval) follow it, so the rows an approval's incremental rollup makes are exactly the rows
``engine.rebuild_all`` keeps: a monthly indicator approved in a quarter keeps its quarter's rows.

Runs on SQLite (``compute_slice``) and, with DATABASE_URL pointing at PostgreSQL, on the
set-based path (``rollups_pg``)."""
import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from localities.models import Locality
from performance.catalogue import periods, selectors, services
from performance.models import Indicator, IndicatorReturn, IndicatorRollup, ReportingPeriod, WorkflowState
from performance.returns import selectors as returns_selectors
from performance.returns import validation, workflow
from performance.returns.validation import IndicatorFigures
from performance.rollups import engine, queue
from tests.factories import IndicatorFactory, PercentageIndicatorFactory, open_quarter
from tests.performance.conftest import make_user

pytestmark = pytest.mark.django_db

MONTH, QUARTER, FINANCIAL_YEAR, CALENDAR_YEAR = (
    ReportingPeriod.Kind.MONTH, ReportingPeriod.Kind.QUARTER, ReportingPeriod.Kind.FINANCIAL_YEAR,
    ReportingPeriod.Kind.CALENDAR_YEAR,
)


@pytest.mark.parametrize("frequency,year_basis,kinds", [
    ("monthly", "financial", {MONTH, QUARTER}),
    ("monthly", "calendar", {MONTH, QUARTER}),
    ("quarterly", "financial", {QUARTER}),
    ("quarterly", "calendar", {QUARTER}),
    ("annual", "financial", {FINANCIAL_YEAR}),
    ("annual", "calendar", {CALENDAR_YEAR}),
])
def test_the_kinds_of_period_follow_frequency_and_year_basis(frequency, year_basis, kinds):
    indicator = Indicator(frequency=frequency, year_basis=year_basis)
    assert periods.period_kinds_for(indicator) == kinds
    assert periods.period_kinds(frequency=frequency, year_basis=year_basis) == kinds
    assert {k.value for k in ReportingPeriod.Kind} >= kinds  # the rule speaks the periods' own kinds


def test_an_unknown_frequency_is_refused():
    with pytest.raises(ValueError, match="fortnightly"):
        periods.period_kinds(frequency="fortnightly", year_basis="financial")


# --- Every kind of period, and an indicator of every kind ------------------------------------------

def open_month(year: int, month: int) -> ReportingPeriod:
    """A month (periods.py has no month labels: months are made by an admin, as here)."""
    start = datetime.date(year, month, 1)
    end = (start + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    period = ReportingPeriod.objects.create(kind=MONTH, label=start.strftime("%b %Y"), start=start, end=end,
                                            deadline=end + datetime.timedelta(days=30))
    return services.period_open(period=period)


def open_year(span) -> ReportingPeriod:
    period, _ = services.period_ensure(span=span)
    return services.period_open(period=period)


@pytest.fixture
def every_period(db):
    """April to June 2012 as months, the quarter they make (2012/13 Q1), its financial year
    2012/13 and the calendar year 2012, all open."""
    return {
        MONTH: [open_month(2012, 4), open_month(2012, 5), open_month(2012, 6)],
        QUARTER: [open_quarter(2012, 1)],
        FINANCIAL_YEAR: [open_year(periods.financial_year(2012))],
        CALENDAR_YEAR: [open_year(periods.calendar_year(2012))],
    }


@pytest.fixture
def every_indicator(db):
    return {
        "monthly": IndicatorFactory(code="K-MONTHLY", frequency="monthly"),
        "quarterly": PercentageIndicatorFactory(code="K-QUARTERLY", frequency="quarterly"),
        "annual financial": IndicatorFactory(code="K-FY", frequency="annual", year_basis="financial"),
        "annual calendar": PercentageIndicatorFactory(code="K-CY", frequency="annual", year_basis="calendar"),
    }


@pytest.fixture
def approver(db):
    from kentforum.roles import Role

    return make_user("kinds.approver", "Kent County Council", Role.APPROVER)


def approve(indicator, locality, period, figures, approver):
    """The district council enters and submits; the approver approves (through the services)."""
    from partnerships.models import Organisation

    organisation = Organisation.objects.get(locality=locality)
    services.assignment_ensure(organisation=organisation, indicator=indicator, locality=locality)
    figures = IndicatorFigures(**{**figures.__dict__, "commentary": "Checked against the source."})
    ret = workflow.indicator_return_save_draft(indicator=indicator, locality=locality, period=period,
                                         organisation=organisation, figures=figures)
    workflow.indicator_return_submit(ret=ret, expected_version=ret.version, confirm_warnings=True)
    workflow.return_approve(ret=ret, expected_version=ret.version, user=approver)
    return ret


def legacy(indicator, locality, period, figures, state):
    """A return stored in a period not of its indicator's kinds, as a loader or an older version
    of the services could leave one: written to the table directly, since the services refuse it."""
    from partnerships.models import Organisation

    values = {"value": figures.value, "numerator": figures.numerator, "denominator": figures.denominator}
    if values["value"] is None:
        values["value"] = validation.indicator_value_from_rate(indicator=indicator, numerator=figures.numerator,
                                                               denominator=figures.denominator)
    return IndicatorReturn.objects.create(indicator=indicator, locality=locality, period=period, state=state,
                                          organisation=Organisation.objects.get(locality=locality), **values)


def test_every_door_refuses_a_return_in_a_period_not_of_its_kinds(every_period, every_indicator, client):
    """The one answer (``periods.period_kinds_for``): what the pages offer is what the services
    accept; the form's page, the API (single and bulk) and the CSV import refuse the rest."""
    from rest_framework.test import APIClient

    from kentforum.roles import Role
    from tests.factories import council, district

    officer = make_user("kinds.stray", "Ashford Borough Council", Role.OFFICER)
    quarterly, year = every_indicator["quarterly"], every_period[FINANCIAL_YEAR][0]
    services.assignment_ensure(organisation=council(), indicator=quarterly, locality=district())
    with pytest.raises(ValidationError, match="is not returned for"):
        workflow.indicator_return_save_draft(indicator=quarterly, locality=district(), period=year, organisation=council(),
                                       user=officer, figures=figures_for(quarterly, 1))
    api = APIClient()
    api.force_authenticate(officer)
    item = {"indicator": quarterly.code, "locality": district().gss_code, "period": year.label, "value": "3"}
    single = api.post("/api/v1/indicator-returns/", item, format="json")
    bulk = api.post("/api/v1/indicator-returns/bulk/", [item], format="json")
    assert single.status_code == 400 and "is not returned for" in str(single.json()), single.json()
    assert bulk.status_code == 400 and "is not returned for" in str(bulk.json()), bulk.json()
    assert not IndicatorReturn.objects.filter(indicator=quarterly).exists()


def figures_for(indicator, n: int) -> IndicatorFigures:
    if indicator.aggregation == Indicator.Aggregation.RATIO:
        return IndicatorFigures(numerator=Decimal(20 + n), denominator=Decimal(100))
    return IndicatorFigures(value=Decimal(10 + n))


def summary_rows() -> set[tuple]:
    """Every summary row, every column but its id and when it was computed."""
    columns = [f.attname for f in IndicatorRollup._meta.concrete_fields if f.name not in ("id", "computed_at")]
    return {
        tuple(tuple(v) if isinstance(v, list) else v for v in row)
        for row in IndicatorRollup.objects.values_list(*columns)
    }


def test_the_return_pages_and_the_rebuild_follow_the_one_rule(every_period, every_indicator):
    everything = [p for kind in every_period.values() for p in kind]
    slices = engine.all_slices()
    for indicator in every_indicator.values():
        kinds = periods.period_kinds_for(indicator)
        offered = selectors.period_for_indicator(indicator, everything)
        assert {p.kind for p in offered} == kinds
        assert offered == [p for p in everything if p.kind in kinds]
        rebuilt = {period_id for indicator_id, period_id in slices if indicator_id == indicator.pk}
        assert rebuilt == {p.pk for p in offered}, indicator.code
    assert selectors.period_for_indicator(every_indicator["monthly"], every_period[QUARTER]) == every_period[QUARTER]


def test_an_officer_is_asked_for_a_monthly_return_in_each_month_and_the_quarter(every_period, every_indicator):
    from kentforum.roles import Role
    from tests.factories import council, district

    officer = make_user("kinds.officer", "Ashford Borough Council", Role.OFFICER)
    for indicator in every_indicator.values():
        services.assignment_ensure(organisation=council(), indicator=indicator, locality=district())
    asked = {(row.code, row.period.kind) for group in returns_selectors.my_returns(officer) for row in group.rows}
    assert asked == {
        ("K-MONTHLY", MONTH), ("K-MONTHLY", QUARTER), ("K-QUARTERLY", QUARTER),
        ("K-FY", FINANCIAL_YEAR), ("K-CY", CALENDAR_YEAR),
    }


def test_the_rebuild_keeps_exactly_the_rows_the_approvals_made(every_period, every_indicator, approver,
                                                                django_capture_on_commit_callbacks):
    """Approve returns of each indicator in every period of its kinds (two districts each), with
    the incremental rollup run after each commit; then the full rebuild deletes none of those rows
    and adds none, and every column is as the approvals left it."""
    areas = list(Locality.objects.filter(name__in=["Ashford", "Dover"]).order_by("name"))
    stray = every_indicator["quarterly"]  # a return left from before the services refused a period not of its kinds
    with django_capture_on_commit_callbacks(execute=True):
        for n, indicator in enumerate(every_indicator.values()):
            for kind in sorted(periods.period_kinds_for(indicator)):
                for m, period in enumerate(every_period[kind]):
                    for k, locality in enumerate(areas):
                        approve(indicator, locality, period, figures_for(indicator, n + m + k), approver)
        legacy(stray, areas[0], every_period[FINANCIAL_YEAR][0], figures_for(stray, 0), WorkflowState.APPROVED)

    incremental = summary_rows()
    made = set(IndicatorRollup.objects.values_list("indicator_id", "period__kind").distinct())
    codes = {i.pk: code for code, i in every_indicator.items()}
    assert {(codes[i], kind) for i, kind in made} == {
        ("monthly", MONTH), ("monthly", QUARTER), ("quarterly", QUARTER),
        ("annual financial", FINANCIAL_YEAR), ("annual calendar", CALENDAR_YEAR),
    }, "a monthly indicator approved in a quarter has its quarter's rows; a stray return none"
    county = Locality.objects.get(kind=Locality.Kind.COUNTY)
    quarter_row = IndicatorRollup.objects.get(indicator=every_indicator["monthly"], period=every_period[QUARTER][0],
                                              locality=county, breakdown_key="")
    assert quarter_row.value is not None and quarter_row.reporting == 2

    result = engine.rebuild_all()
    rebuilt = summary_rows()
    assert not incremental - rebuilt, f"the rebuild deleted or changed rows an approval made: {incremental - rebuilt}"
    assert not rebuilt - incremental, f"the rebuild added rows no approval made: {rebuilt - incremental}"
    assert result["slices"] == len(engine.all_slices()) == 3 + 1 + 1 + 1 + 1


def test_an_approval_in_a_period_not_of_its_kinds_queues_nothing(every_period, every_indicator, approver,
                                                                 django_capture_on_commit_callbacks):
    locality = Locality.objects.get(name="Ashford")
    monthly = every_indicator["monthly"]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        in_a_year = legacy(monthly, locality, every_period[FINANCIAL_YEAR][0], figures_for(monthly, 1), WorkflowState.SUBMITTED)
        workflow.return_approve(ret=in_a_year, expected_version=in_a_year.version, user=approver)
    assert queue.slices_touched(in_a_year) == [] and not callbacks
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        in_may = approve(monthly, locality, every_period[MONTH][1], figures_for(monthly, 1), approver)
    may, june = every_period[MONTH][1:]
    assert queue.slices_touched(in_may) == [[monthly.pk, may.pk], [monthly.pk, june.pk]]
    assert len(callbacks) == 1
