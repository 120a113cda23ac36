"""How final and how certain a figure is: data-quality flags (provisional, estimated, revised)
through every door to every surface; survey estimates judged on their own intervals, never on
Wilson intervals of weighted population figures; the officer's commentary beside the figure."""
import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kentforum.roles import Role
from localities.models import Locality
from partnerships.models import Organisation
from performance.catalogue import rules, services
from performance.dashboards import reports
from performance.models import IndicatorReturn, IndicatorRollup, IndicatorTarget, ReturnEvent
from performance.returns import workflow
from performance.returns.validation import IndicatorFigures
from performance.rollups import engine
from tests.factories import IndicatorFactory, PercentageIndicatorFactory, open_quarter
from tests.performance.conftest import make_user

pytestmark = pytest.mark.django_db

PROVISIONAL = {"quality": "provisional", "quality_note": "Police data are provisional until the annual release",
               "source_released": datetime.date(2012, 7, 19)}


def districts():
    return list(Locality.objects.filter(kind="district").order_by("name"))


def enter(indicator, locality, period, figures, approver=None, *, approve=True):
    organisation = Organisation.objects.get(locality=locality) if locality.kind == "district" else \
        Organisation.objects.get(short_name="KCC")
    services.assignment_ensure(organisation=organisation, indicator=indicator, locality=locality)
    ret = workflow.indicator_return_save_draft(indicator=indicator, locality=locality, period=period, organisation=organisation,
                                         figures=figures)
    if approve:
        workflow.indicator_return_submit(ret=ret, expected_version=ret.version, confirm_warnings=True)
        workflow.return_approve(ret=ret, expected_version=ret.version, user=approver)
    return ret


@pytest.fixture
def approver(db):
    return make_user("dq.approver", "Kent County Council", Role.APPROVER)


# --- Flags: entered, required to be explained, carried to every surface ---------------------------

def test_a_flag_needs_a_note_before_submission(approver):
    indicator, period = IndicatorFactory(), open_quarter(2012, 1)
    ret = enter(indicator, districts()[0], period, IndicatorFigures(value=Decimal(5), commentary="ok",
                                                                   quality={"quality": "estimated"}), approve=False)
    assert ret.quality == "estimated", "a draft may be flagged before the note is written"
    with pytest.raises(ValidationError) as refused:
        workflow.indicator_return_submit(ret=ret, expected_version=ret.version, confirm_warnings=True)
    assert "Say what is estimated" in str(refused.value.message_dict["quality_note"])


def test_flags_travel_to_the_summary_the_api_the_export_and_the_report(client, approver, django_capture_on_commit_callbacks):
    kpq_indicator = IndicatorFactory(code="DQ-ASB", name="Anti-social behaviour (dq)")
    from ambitions.models import KPQ

    kpq = KPQ.objects.get(ambition__number=3, number=1)
    kpq_indicator.kpqs.add(kpq)
    kpq_indicator.ambitions.add(kpq.ambition)
    period = open_quarter(2012, 1)
    with django_capture_on_commit_callbacks(execute=True):
        for n, area in enumerate(districts()):
            quality = PROVISIONAL if n == 0 else {"quality": "revised", "quality_note": "Revised"} if n == 1 else {}
            enter(kpq_indicator, area, period, IndicatorFigures(value=Decimal(10 + n), commentary="ok", quality=quality),
                  approver)
    county = IndicatorRollup.objects.get(indicator=kpq_indicator, period=period, locality__kind="county", breakdown_key="")
    assert county.flags == ["provisional", "revised"] and county.complete
    own = IndicatorRollup.objects.get(indicator=kpq_indicator, period=period, locality=districts()[0], breakdown_key="")
    assert own.flags == ["provisional"]
    # the API: the return and the summary row
    api_return = client.get("/api/v1/indicator-returns/", {"indicator": "DQ-ASB", "locality": districts()[0].gss_code}).json()
    item = api_return["results"][0]
    assert (item["quality"], item["source_released"], item["quality_note"]) == (
        "provisional", "2012-07-19", PROVISIONAL["quality_note"])
    rollup = client.get("/api/v1/rollups/", {"indicator": "DQ-ASB", "locality": "E10000016"}).json()["results"][0]
    assert rollup["flags"] == ["provisional", "revised"]
    # the approved-values CSV
    export = b"".join(client.get("/api/v1/exports/approved-values.csv", {"indicator": "DQ-ASB"}).streaming_content).decode()
    assert f"provisional,2012-07-19,{PROVISIONAL['quality_note']}" in export
    # the dashboard and the board report
    html = client.get(reverse("dashboards:ambition", args=[3])).content.decode()
    assert "kf-flag" in html and ">Provisional</strong>" in html and ">Revised</strong>" in html
    content = reports.board_report_content(3)
    row = next(i for k in content["kpqs"] for i in k["indicators"] if i["code"] == "DQ-ASB")
    assert row["flags"] == ["provisional", "revised"]
    csv_row = next(r for r in reports.board_report_rows(content) if r[1] == "DQ-ASB")
    assert csv_row[-1] == "provisional revised"


def test_a_revision_keeps_the_previous_value_in_the_history(approver, django_capture_on_commit_callbacks):
    admin = make_user("dq.admin", "Kent County Council", Role.FORUM_ADMIN)
    indicator, period = IndicatorFactory(), open_quarter(2012, 1)
    area = districts()[0]
    with django_capture_on_commit_callbacks(execute=True):
        ret = enter(indicator, area, period, IndicatorFigures(value=Decimal(40), commentary="first release"), approver)
        workflow.return_reopen(ret=ret, reason="The source revised the figure", expected_version=ret.version, user=admin)
        ret.refresh_from_db()
        revised = workflow.indicator_return_save_draft(
            indicator=indicator, locality=area, period=period, organisation=ret.organisation, expected_version=ret.version,
            figures=IndicatorFigures(value=Decimal(43), commentary="revised release",
                                     quality={"quality": "revised", "quality_note": "ONS revised the series",
                                              "source_released": datetime.date(2012, 11, 1)}),
        )
        workflow.indicator_return_submit(ret=revised, expected_version=revised.version, confirm_warnings=True)
        workflow.return_approve(ret=revised, expected_version=revised.version, user=approver)
    change = ReturnEvent.objects.filter(indicator_return=ret, changes__has_key="value").last().changes
    assert change["value"] == ["40", "43"] and change["quality"] == ["final", "revised"]
    row = IndicatorRollup.objects.get(indicator=indicator, period=period, locality=area, breakdown_key="")
    assert (row.value, row.flags) == (Decimal(43), ["revised"])


def test_the_form_saves_the_flag_and_a_post_without_it_keeps_it(client, officer, period, count_indicator):
    client.force_login(officer)
    url = reverse("performance:indicator-return", args=[period.pk, count_indicator.code, "E07000105"])
    page = client.get(url).content.decode()
    assert 'name="quality"' in page and 'name="released_day"' in page and 'name="quality_note"' in page
    response = client.post(url, {"value": "12", "commentary": "ok", "quality": "provisional", "released_day": "19",
                                 "released_month": "7", "released_year": "2012", "quality_note": "Until July",
                                 "action": "save"})
    assert response.status_code == 302, response.content.decode()[:2000]
    ret = IndicatorReturn.objects.get(indicator=count_indicator, breakdown__isnull=True)
    assert (ret.quality, ret.source_released, ret.quality_note) == ("provisional", datetime.date(2012, 7, 19), "Until July")
    # a post that does not carry the fields (an older page, a script) changes the figures only
    client.post(url, {"value": "13", "commentary": "ok", "version": ret.version, "action": "save"})
    ret.refresh_from_db()
    assert (ret.value, ret.quality, ret.quality_note) == (Decimal(13), "provisional", "Until July")
    # a bad date is a form error, with everything typed kept
    response = client.post(url, {"value": "14", "commentary": "kept", "quality": "revised", "released_day": "31",
                                 "released_month": "2", "released_year": "2012", "quality_note": "n",
                                 "version": ret.version, "action": "save"})
    assert response.status_code == 400 and "The release date must be a real date." in response.content.decode()
    assert 'value="kept"' in response.content.decode() or ">kept</textarea>" in response.content.decode()


# --- Survey estimates --------------------------------------------------------------------------------

def test_survey_limits_come_from_the_sample_not_the_weighted_population():
    """An Annual Population Survey rate of 60% stands for 60,000 of 100,000 residents, but 1,000
    people answered: the interval is about ±3 points, not ±0.3."""
    weighted = rules.confidence_limits(unit="percentage", aggregation="ratio", multiplier=100.0, value=Decimal(60),
                                       numerator=Decimal(60000), denominator=Decimal(100000))
    surveyed = rules.survey_limits(unit="percentage", value=Decimal(60), ci_lower=None, ci_upper=None, sample_base=1000)
    assert weighted[1] - weighted[0] < 0.7
    assert 5.5 < surveyed[1] - surveyed[0] < 6.5
    published = rules.survey_limits(unit="percentage", value=Decimal(60), ci_lower=Decimal("56.1"),
                                    ci_upper=Decimal("63.8"), sample_base=1000)
    assert published == (56.1, 63.8), "a published interval wins over the sample base"
    assert rules.survey_limits(unit="score", value=Decimal(60), ci_lower=None, ci_upper=None, sample_base=1000) is None


@pytest.mark.parametrize("polarity", ["higher_is_better", "lower_is_better"])
def test_a_survey_change_within_its_interval_is_no_change_and_without_one_is_not_claimed(polarity, approver,
                                                                                      django_capture_on_commit_callbacks):
    survey = PercentageIndicatorFactory(is_survey=True, polarity=polarity, min_coverage=1)
    q1, q2 = open_quarter(2012, 1), open_quarter(2012, 2)
    area, other = districts()[0], districts()[1]
    with django_capture_on_commit_callbacks(execute=True):
        # weighted population figures that move by 2 points: a "change" on Wilson limits of 100,000
        enter(survey, area, q1, IndicatorFigures(numerator=Decimal(60000), denominator=Decimal(100000), commentary="ok",
                                                 quality={"sample_base": 900}), approver)
        enter(survey, area, q2, IndicatorFigures(numerator=Decimal(62000), denominator=Decimal(100000), commentary="ok",
                                                 quality={"sample_base": 900}), approver)
        enter(survey, other, q1, IndicatorFigures(numerator=Decimal(60000), denominator=Decimal(100000), commentary="ok"),
              approver)
        enter(survey, other, q2, IndicatorFigures(numerator=Decimal(62000), denominator=Decimal(100000), commentary="ok"),
              approver)
    row = IndicatorRollup.objects.get(indicator=survey, period=q2, locality=area, breakdown_key="")
    assert row.ci_upper - row.ci_lower > 5, "the interval of 900 people who answered"
    assert row.direction_previous == "no_change"
    bare = IndicatorRollup.objects.get(indicator=survey, period=q2, locality=other, breakdown_key="")
    assert (bare.ci_lower, bare.direction_previous) == (None, "not_comparable"), "no interval, no claim"
    # the same figures as an administrative rate would be a significant change
    plain = PercentageIndicatorFactory(polarity=polarity, min_coverage=1)
    with django_capture_on_commit_callbacks(execute=True):
        for period, numerator in ((q1, 60000), (q2, 62000)):
            enter(plain, area, period, IndicatorFigures(numerator=Decimal(numerator), denominator=Decimal(100000),
                                                        commentary="ok"), approver)
    assert IndicatorRollup.objects.get(indicator=plain, period=q2, locality=area, breakdown_key="").direction_previous != "no_change"


def test_survey_fields_are_checked_where_they_are_entered(approver):
    plain, survey = IndicatorFactory(), PercentageIndicatorFactory(is_survey=True, aggregation="none", reporting_level="both")
    period, area = open_quarter(2012, 1), districts()[0]
    with pytest.raises(ValidationError, match="Only survey estimates"):
        enter(plain, area, period, IndicatorFigures(value=Decimal(5), quality={"sample_base": 500}), approve=False)
    with pytest.raises(ValidationError, match="both limits"):
        enter(survey, area, period, IndicatorFigures(value=Decimal(50), quality={"ci_lower": Decimal(45)}), approve=False)
    with pytest.raises(ValidationError, match="below the lower limit"):
        enter(survey, area, period, IndicatorFigures(value=Decimal(50), quality={"ci_lower": Decimal(55),
                                                                                  "ci_upper": Decimal(45)}), approve=False)
    ret = enter(survey, area, period, IndicatorFigures(value=Decimal(50), commentary="ok",
                                                       quality={"ci_lower": Decimal(52), "ci_upper": Decimal(58)}),
                approve=False)
    with pytest.raises(ValidationError, match="does not contain the estimate"):
        workflow.indicator_return_submit(ret=ret, expected_version=ret.version, confirm_warnings=True)


def test_a_survey_return_through_the_form(client, period):
    officer = make_user("dq.officer", "Ashford Borough Council", Role.OFFICER)
    survey = PercentageIndicatorFactory(code="DQ-PLACE", is_survey=True, aggregation="none", reporting_level="both")
    services.assignment_ensure(organisation=Organisation.objects.get(locality=districts()[0]), indicator=survey,
                               locality=districts()[0])
    client.force_login(officer)
    url = reverse("performance:indicator-return", args=[period.pk, "DQ-PLACE", "E07000105"])
    assert 'name="sample_base"' in client.get(url).content.decode()
    response = client.post(url, {"value": "64", "commentary": "Place Survey", "quality": "final", "sample_base": "1100",
                                 "ci_lower": "", "ci_upper": "", "action": "save"})
    assert response.status_code == 302
    assert IndicatorReturn.objects.get(indicator=survey).sample_base == 1100


# --- Commentary beside the figure ---------------------------------------------------------------------

def test_the_officers_commentary_on_an_off_target_figure_reaches_the_board(client, approver, django_capture_on_commit_callbacks):
    from ambitions.models import KPQ

    indicator = IndicatorFactory(code="DQ-KSI", name="Casualties (dq)", polarity="lower_is_better")
    kpq = KPQ.objects.get(ambition__number=3, number=1)
    indicator.kpqs.add(kpq)
    indicator.ambitions.add(kpq.ambition)
    period = open_quarter(2012, 1)
    for area in districts():
        IndicatorTarget.objects.create(indicator=indicator, period=period, locality=area, target=Decimal(10),
                                       tolerance_percent=Decimal(5))
    with django_capture_on_commit_callbacks(execute=True):
        for n, area in enumerate(districts()):
            note = "Two fatal collisions on the A20; a speed review is under way" if n == 0 else "On target"
            enter(indicator, area, period, IndicatorFigures(value=Decimal(20 if n == 0 else 8), commentary=note), approver)
    engine.rebuild_all()
    html = client.get(reverse("dashboards:ambition", args=[3])).content.decode()
    assert "Two fatal collisions on the A20" in html and "On target</li>" not in html, "off-target areas' commentary"
    content = reports.board_report_content(3)
    row = next(i for k in content["kpqs"] for i in k["indicators"] if i["code"] == "DQ-KSI")
    assert row["commentary"] == [{"area": districts()[0].name, "status": "Off target",
                                  "text": "Two fatal collisions on the A20; a speed review is under way"}]
    locality = client.get(reverse("dashboards:locality", args=[districts()[0].gss_code])).content.decode()
    assert "Officer's commentary: “Two fatal collisions on the A20" in locality
