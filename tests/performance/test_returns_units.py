"""Direct unit tests of the returns wing's public functions: validation (figures, data quality,
commentary, history, milestones), the audit trail, entry by code, the CSV template and export,
the upload's size rule and decoding, reminders, and the selectors of outstanding and overdue
returns. (My returns, the approval queue, earlier values and ``ReturnAccess`` are tested where
their rules live: tests/performance/test_return_access.py.)"""
import codecs
import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from ambitions.models import DeliveryPlan
from kentforum.actors import KeyActor
from localities.models import Locality
from partnerships.models import Organisation, PartnerAPIKey
from performance.catalogue import periods, services
from performance.models import (
    BreakdownCategory,
    Indicator,
    IndicatorReturn,
    Milestone,
    MilestoneReturn,
    ReportingPeriod,
    ReturnEvent,
    ReturnImport,
    WorkflowState,
)
from performance.returns import audit, by_code, exports, imports, reminders, selectors, validation, workflow
from performance.returns.forms import ReturnUploadForm
from performance.returns.validation import IndicatorFigures, MilestoneProgress
from tests.factories import IndicatorFactory, council, district, open_quarter

D = Decimal
APPROVED, SUBMITTED, DRAFT, RETURNED = (
    WorkflowState.APPROVED, WorkflowState.SUBMITTED, WorkflowState.DRAFT, WorkflowState.RETURNED,
)


def rate() -> Indicator:
    """An unsaved percentage (no database needed by the pure validation rules)."""
    return Indicator(code="T-R", unit="percentage", polarity="higher_is_better", aggregation="ratio",
                     numerator_label="Households recycling", denominator_label="Households",
                     min_value=D(0), max_value=D(100))


def count(**fields) -> Indicator:
    return Indicator(code="T-C", unit="count", polarity="lower_is_better", aggregation="sum", **fields)


def category(code: str) -> BreakdownCategory:
    return BreakdownCategory.objects.get(dimension__code="severity", code=code)


def stored(indicator, locality, period, *, value=None, state=APPROVED, organisation=None, **fields) -> IndicatorReturn:
    """A return as stored (written directly: the workflow is not under test here)."""
    return IndicatorReturn.objects.create(
        indicator=indicator, locality=locality, period=period, organisation=organisation or council(),
        value=value, state=state, **fields,
    )


def quarters(first_year: int, count_: int) -> list[ReportingPeriod]:
    """``count_`` consecutive quarters from April ``first_year`` (planned: history needs no open period)."""
    spans = [periods.quarter(first_year + n // 4, n % 4 + 1) for n in range(count_)]
    return [services.period_ensure(span=span)[0] for span in spans]


def milestone(title="Publish the plan", owner=None, due=datetime.date(2012, 12, 31)) -> Milestone:
    return Milestone.objects.create(title=title, delivery_plan=DeliveryPlan.objects.first(), owner=owner or council(),
                                    due_date=due)


# --- validation.py: the commentary ----------------------------------------------------------------

def test_commentary_errors_allows_5000_characters_and_refuses_5001():
    assert validation.commentary_errors("x" * 5000) == {}
    assert validation.commentary_errors("x" * 5001) == {
        "commentary": "The commentary has 5,001 characters; the limit is 5,000."
    }
    assert validation.commentary_errors(None) == {}
    assert validation.commentary_errors("") == {}


# --- validation.py: data quality ---------------------------------------------------------------------

def test_quality_values_of_a_new_return_are_the_defaults_over_which_what_was_sent():
    assert validation.quality_values(IndicatorFigures()) == {
        "quality": "final", "source_released": None, "quality_note": "", "ci_lower": None, "ci_upper": None,
        "sample_base": None,
    }
    sent = IndicatorFigures(quality={"quality": "provisional", "quality_note": "Awaiting the ONS release"})
    assert validation.quality_values(sent)["quality"] == "provisional"
    assert validation.quality_values(sent)["quality_note"] == "Awaiting the ONS release"


def test_quality_values_keep_the_stored_values_of_fields_not_sent():
    # Given a stored provisional figure with a release date and a note
    released = datetime.date(2012, 8, 1)
    current = IndicatorReturn(quality="provisional", source_released=released, quality_note="Awaiting ONS",
                              ci_lower=D(40), ci_upper=D(50), sample_base=None)
    # When only the flag is sent
    values = validation.quality_values(IndicatorFigures(quality={"quality": "revised"}), current)
    # Then the flag changes and every field not sent keeps its stored value
    assert values == {"quality": "revised", "source_released": released, "quality_note": "Awaiting ONS",
                      "ci_lower": D(40), "ci_upper": D(50), "sample_base": None}
    # and a note sent as None is an empty note
    assert validation.quality_values(IndicatorFigures(quality={"quality_note": None}), current)["quality_note"] == ""


def test_quality_values_refuse_a_field_that_is_not_a_data_quality_field():
    with pytest.raises(ValueError, match=r"not data-quality fields: \['value'\]"):
        validation.quality_values(IndicatorFigures(quality={"value": 3}))


def quality(**fields) -> dict:
    return {**validation.QUALITY_DEFAULTS, **fields}


def test_quality_errors_none_for_the_defaults_and_a_survey_with_a_whole_interval():
    assert validation.quality_errors(count(), quality()) == {}
    assert validation.quality_errors(count(is_survey=True), quality(ci_lower=D(1), ci_upper=D(2))) == {}
    assert validation.quality_errors(count(is_survey=True), quality(sample_base=900)) == {}


@pytest.mark.parametrize("indicator,fields,errors", [
    (count(), {"quality": "guessed"}, {"quality": "Choose final, provisional, estimated or revised."}),
    (count(), {"quality_note": "n" * 501}, {"quality_note": "The note on data quality is at most 500 characters."}),
    (count(), {"ci_lower": D(1), "ci_upper": D(2)},
     {"ci_lower": "Only survey estimates carry a published confidence interval or a sample base."}),
    (count(), {"sample_base": 900},
     {"sample_base": "Only survey estimates carry a published confidence interval or a sample base."}),
    (count(is_survey=True), {"ci_lower": D(1)}, {"ci_upper": "Enter both limits of the published interval, or neither."}),
    (count(is_survey=True), {"ci_upper": D(1)}, {"ci_lower": "Enter both limits of the published interval, or neither."}),
    (count(is_survey=True), {"ci_lower": D(5), "ci_upper": D(4)}, {"ci_upper": "The upper limit is below the lower limit."}),
    (count(is_survey=True), {"sample_base": 0},
     {"sample_base": "The sample base is the number of people who answered: at least 1."}),
])
def test_quality_errors(indicator, fields, errors):
    assert validation.quality_errors(indicator, quality(**fields)) == errors


# --- validation.py: figures ------------------------------------------------------------------------

def test_computed_value_of_a_rate_is_numerator_over_denominator_times_its_multiplier():
    assert validation.computed_value(rate(), IndicatorFigures(numerator=D(412), denominator=D(1000))) == D("41.2000")
    assert validation.computed_value(rate(), IndicatorFigures(numerator=D(1), denominator=D(3))) == D("33.3333")
    assert validation.computed_value(rate(), IndicatorFigures(numerator=D(2), denominator=D(3))) == D("66.6667")
    per_thousand = Indicator(unit="rate_per_1000", aggregation="ratio")
    assert validation.computed_value(per_thousand, IndicatorFigures(numerator=D(5), denominator=D(2000))) == D("2.5000")


def test_computed_value_of_a_rate_without_a_usable_denominator_is_none():
    assert validation.computed_value(rate(), IndicatorFigures(numerator=D(5))) is None
    assert validation.computed_value(rate(), IndicatorFigures(numerator=D(5), denominator=D(0))) is None
    assert validation.computed_value(rate(), IndicatorFigures(denominator=D(5))) is None


def test_computed_value_of_a_count_is_its_value_whatever_else_is_sent():
    assert validation.computed_value(count(), IndicatorFigures(value=D(14), numerator=D(1), denominator=D(2))) == D(14)
    assert validation.computed_value(count(), IndicatorFigures()) is None


def test_check_draft_figures_passes_what_the_database_accepts():
    assert validation.check_draft_figures(rate(), IndicatorFigures(numerator=D(12), denominator=D(10))) is None
    assert validation.check_draft_figures(count(), IndicatorFigures()) is None  # a draft may be empty


def test_check_draft_figures_refuses_what_the_database_would():
    with pytest.raises(ValidationError) as error:
        validation.check_draft_figures(
            rate(), IndicatorFigures(denominator=D(0), commentary="c" * 5001, quality={"ci_lower": D(1), "ci_upper": D(2)})
        )
    assert error.value.message_dict == {
        "commentary": ["The commentary has 5,001 characters; the limit is 5,000."],
        "denominator": ["The denominator must be more than 0."],
        "ci_lower": ["Only survey estimates carry a published confidence interval or a sample base."],
    }


def test_check_draft_figures_reads_data_quality_over_the_stored_return():
    # Given a stored survey interval on an indicator that is (no longer) a survey
    current = IndicatorReturn(quality="final", quality_note="", ci_lower=D(1), ci_upper=D(2), source_released=None,
                              sample_base=None)
    with pytest.raises(ValidationError) as error:
        validation.check_draft_figures(count(), IndicatorFigures(value=D(3)), current)
    assert list(error.value.message_dict) == ["ci_lower"]


@pytest.mark.parametrize("indicator,figures,errors", [
    (count(), IndicatorFigures(value=D(3)), {}),
    (rate(), IndicatorFigures(numerator=D(41), denominator=D(100)), {}),
    (count(), IndicatorFigures(), {"value": "Enter a value."}),
    (count(), IndicatorFigures(value=D(-1)), {"value": "A count cannot be negative."}),
    (count(min_value=D(2)), IndicatorFigures(value=D(1)), {"value": "The value must be at least 2."}),
    (count(max_value=D(1000)), IndicatorFigures(value=D(1001)), {"value": "The value must be at most 1,000."}),
    (rate(), IndicatorFigures(), {"numerator": "Enter the households recycling.", "denominator": "Enter the households."}),
    (rate(), IndicatorFigures(numerator=D(-1), denominator=D(0)),
     {"numerator": "The numerator cannot be negative.", "denominator": "The denominator must be more than 0."}),
    (rate(), IndicatorFigures(numerator=D(12), denominator=D(10)),
     {"numerator": "For a percentage the numerator cannot be more than the denominator."}),
    (count(), IndicatorFigures(value=D(3), quality={"quality": "provisional"}),
     {"quality_note": "Say what is provisional about this figure, and when the final one is due."}),
    (count(), IndicatorFigures(value=D(3), quality={"quality": "estimated", "quality_note": "Two months estimated"}), {}),
    (count(is_survey=True), IndicatorFigures(value=D(60), quality={"ci_lower": D(40), "ci_upper": D(50)}),
     {"ci_lower": "The published interval does not contain the estimate."}),
    (count(is_survey=True), IndicatorFigures(value=D(45), quality={"ci_lower": D(40), "ci_upper": D(50)}), {}),
    (count(), IndicatorFigures(value=D(3), breakdowns={7: D(-1), 8: D(4)}), {"breakdown_7": "A count cannot be negative."}),
])
def test_figure_errors(indicator, figures, errors):
    assert validation.figure_errors(indicator, figures) == errors


def test_return_values_of_a_rate_and_of_a_count():
    figures = IndicatorFigures(value=D(99), numerator=D(412), denominator=D(1000), commentary="Up on last year")
    assert validation.return_values(rate(), figures) == {
        "value": D("41.2000"), "numerator": D(412), "denominator": D(1000), "commentary": "Up on last year",
        **validation.QUALITY_DEFAULTS,
    }
    # a count keeps no numerator or denominator, even if sent
    assert validation.return_values(count(), figures) == {
        "value": D(99), "numerator": None, "denominator": None, "commentary": "Up on last year",
        **validation.QUALITY_DEFAULTS,
    }


def test_creation_changes_record_only_what_differs_from_the_defaults():
    values = {"value": D(5), "numerator": None, "denominator": None, "commentary": "", "quality": "final",
              "source_released": None, "quality_note": "", "ci_lower": None, "ci_upper": None, "sample_base": None}
    assert validation.creation_changes(values) == {"value": (None, D(5))}
    values.update(quality="provisional", quality_note="Awaiting ONS", commentary="Fewer collisions")
    assert validation.creation_changes(values) == {
        "value": (None, D(5)), "commentary": (None, "Fewer collisions"), "quality": (None, "provisional"),
        "quality_note": (None, "Awaiting ONS"),
    }


# --- validation.py: history and assessment -----------------------------------------------------------

@pytest.mark.django_db
def test_history_periods_are_the_latest_sixteen_earlier_periods_of_the_same_kind():
    # Given 19 quarters and a financial year
    qs = quarters(2008, 19)
    services.period_ensure(span=periods.financial_year(2011))
    # When the history of the 18th quarter is drawn
    found = [row["pk"] for row in validation.history_periods(qs[17])]
    # Then the 16 quarters before it, newest first (not the first quarter, not later ones, not the year)
    assert found == [q.pk for q in qs[16:0:-1]]
    assert [row["pk"] for row in validation.history_periods(qs[0])] == []


@pytest.fixture
def history(db):
    """T-C (a count) with Ashford's approved values 1..12 in the quarters of those numbers (but
    a draft in quarter 5, an approved breakdown row in quarter 3, an approved value in quarter 0
    outside the 16 quarters looked back on, and one after the period), Dover's in quarters 0
    and 1, and an approved value for a financial year; the period judged is quarter 17."""
    indicator = IndicatorFactory(code="T-C")
    indicator.breakdown_dimensions.add(category("fatal").dimension)
    qs = quarters(2008, 19)
    dover = council("Dover District Council")
    for n in range(13):
        stored(indicator, district(), qs[n], value=D(n), state=DRAFT if n == 5 else APPROVED)
    stored(indicator, district(), qs[3], value=D(999), breakdown=category("fatal"))
    stored(indicator, district(), qs[18], value=D(18))
    stored(indicator, district("Dover"), qs[0], value=D(100), organisation=dover)
    stored(indicator, district("Dover"), qs[1], value=D(101), organisation=dover)
    year, _ = services.period_ensure(span=periods.financial_year(2011))
    stored(indicator, district(), year, value=D(500))
    return indicator, qs[17]


def test_value_history_is_the_approved_totals_of_earlier_periods_oldest_first(history):
    indicator, period = history
    assert validation.value_history(indicator, district(), period) == [D(n) for n in (4, 6, 7, 8, 9, 10, 11, 12)]
    assert validation.value_history(indicator, district(), period, limit=3) == [D(10), D(11), D(12)]
    assert validation.value_history(indicator, district("Dover"), period) == [D(101)]
    assert validation.value_history(indicator, district("Canterbury"), period) == []


def test_approved_history_and_value_history_agree_for_the_same_slots(history):
    indicator, period = history
    other = IndicatorFactory(code="T-O")
    stored(other, district(), ReportingPeriod.objects.get(label="2011/12 Q1"), value=D(7))
    areas = [district(), district("Dover"), district("Canterbury")]
    slots = {(i.pk, a.pk) for i in (indicator, other) for a in areas}
    # When the history of many slots is read at once
    found = validation.approved_history(period, slots)
    # Then each slot has exactly what value_history gives it; slots without a history are left out
    for indicator_id, locality_id in slots:
        one = validation.value_history(Indicator.objects.get(pk=indicator_id), Locality.objects.get(pk=locality_id), period)
        assert found.get((indicator_id, locality_id), []) == one, (indicator_id, locality_id)
    assert found[(indicator.pk, district().pk)] == [D(n) for n in (4, 6, 7, 8, 9, 10, 11, 12)]
    assert found[(other.pk, district().pk)] == [D(7)]
    assert (indicator.pk, district("Canterbury").pk) not in found


@pytest.mark.django_db
def test_approved_history_of_no_slots_or_no_earlier_periods_is_empty():
    first = quarters(2008, 1)[0]
    assert validation.approved_history(first, {(1, 1)}) == {}
    assert validation.approved_history(quarters(2008, 2)[1], set()) == {}


@pytest.mark.parametrize("value,status,required", [
    (D(18), "green", False), (D(20), "green", False), (D(21), "amber", True), (D(22), "amber", True), (D(23), "red", True),
])
def test_assess_figures_judges_against_the_areas_target(count_indicator, period, value, status, required):
    # Given T-KSI (lower is better) with Ashford's target of 20 ± 10%
    assessment = validation.assess_figures(count_indicator, district(), period, IndicatorFigures(value=value))
    assert (assessment.errors, assessment.warnings, assessment.status, assessment.commentary_required) == (
        {}, [], status, required
    )


def test_assess_figures_warns_when_the_breakdown_does_not_add_up(count_indicator, period):
    figures = IndicatorFigures(value=D(14), breakdowns={category("fatal").pk: D(1), category("serious").pk: D(12)})
    assessment = validation.assess_figures(count_indicator, district(), period, figures)
    assert assessment.status == "green"
    assert assessment.warnings == [
        "The severity (killed or seriously injured) breakdown adds up to 13, not the total of 14. "
        "Check the figures, or confirm them and say why in the commentary."
    ]
    assert assessment.commentary_required is True


def test_assess_figures_warns_of_an_outlier_against_the_approved_history(count_indicator, period):
    stored(count_indicator, district(), open_quarter(2011, 4), value=D(10))
    assessment = validation.assess_figures(count_indicator, district(), period, IndicatorFigures(value=D(16)))
    assert assessment.warnings == [
        "16 is up 60% on last period's 10. Check the figure, or confirm it and say why in the commentary."
    ]
    assert (assessment.status, assessment.commentary_required) == ("green", True)


def test_assess_figures_with_errors_gives_them_and_no_warnings(count_indicator, period):
    assessment = validation.assess_figures(count_indicator, district(), period, IndicatorFigures())
    assert (assessment.errors, assessment.warnings, assessment.status) == ({"value": "Enter a value."}, [], "no_target")


def test_assess_figures_of_a_rate_uses_the_general_target(rate_indicator, period):
    # Given household waste recycled, higher is better, a general target of 40 ± 5%
    assessment = validation.assess_figures(
        rate_indicator, district(), period, IndicatorFigures(numerator=D(300), denominator=D(1000))
    )
    assert (assessment.status, assessment.commentary_required) == ("red", True)


# --- validation.py: milestones ------------------------------------------------------------------------

@pytest.mark.parametrize("progress,errors", [
    (MilestoneProgress("on_track", 40), {}),
    (MilestoneProgress("complete", 100), {}),
    (MilestoneProgress("complete", 80), {"percent_complete": "A complete milestone is 100% complete."}),
    (MilestoneProgress("on_track", 101), {"percent_complete": "Percent complete is between 0 and 100."}),
    (MilestoneProgress("on_track", -1), {"percent_complete": "Percent complete is between 0 and 100."}),
    (MilestoneProgress("on_track", 40, commentary="c" * 5001),
     {"commentary": "The commentary has 5,001 characters; the limit is 5,000."}),
])
def test_milestone_draft_errors(progress, errors):
    assert validation.milestone_draft_errors(progress) == errors


DUE = datetime.date(2012, 12, 31)


@pytest.mark.parametrize("progress,errors", [
    (MilestoneProgress("on_track", 40), {}),
    (MilestoneProgress("not_started", 0), {}),
    (MilestoneProgress("not_started", 10), {"percent_complete": "A milestone that has not started is 0% complete."}),
    (MilestoneProgress("complete", 80), {"percent_complete": "A complete milestone is 100% complete."}),
    (MilestoneProgress("at_risk", 40, commentary="  "),
     {"commentary": "Add a commentary: say why the milestone is at risk or off track and what is being done."}),
    (MilestoneProgress("off_track", 40),
     {"commentary": "Add a commentary: say why the milestone is at risk or off track and what is being done."}),
    (MilestoneProgress("at_risk", 40, commentary="The contractor withdrew."), {}),
    (MilestoneProgress("on_track", 40, revised_date=DUE - datetime.timedelta(days=1)),
     {"revised_date": "A revised date is later than the due date; leave it empty if the date has not changed."}),
    (MilestoneProgress("on_track", 40, revised_date=DUE + datetime.timedelta(days=30)), {}),
    (MilestoneProgress("complete", 100, revised_date=DUE - datetime.timedelta(days=30)), {}),  # finished early
])
def test_milestone_errors(progress, errors):
    assert validation.milestone_errors(progress, SimpleNamespace(due_date=DUE)) == errors


# --- audit.py ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("value,json", [
    (D("12.3400"), "12.34"), (D("100"), "100"), (D("1E+2"), "100"), (D("-0.5000"), "-0.5"),
    (datetime.date(2012, 4, 1), "2012-04-01"),
    (datetime.datetime(2012, 4, 1, 9, 30), "2012-04-01T09:30:00"),
    ("draft", "draft"), (None, None), (3, 3),
])
def test_jsonable(value, json):
    assert audit.jsonable(value) == json


@pytest.mark.django_db
def test_recorded_person_is_the_user_or_none_for_the_system_or_a_key(officer):
    assert audit.recorded_person(officer) == officer
    assert audit.recorded_person(None) is None
    assert audit.recorded_person(KeyActor(key=SimpleNamespace(scope="submit"))) is None


@pytest.fixture
def submit_key(db):
    key, _ = PartnerAPIKey.objects.create_key(
        name="Police feed", partner=Organisation.objects.get(name="Kent Police"), scope="submit",
    )
    return key


def test_record_event_of_a_person_writes_who_what_and_each_change(officer, period, count_indicator):
    ret = stored(count_indicator, district(), period, value=D(14), state=SUBMITTED, version=3)
    at = datetime.datetime(2012, 7, 1, 9, 0, tzinfo=datetime.timezone.utc)
    audit.record_event(ret, action=ReturnEvent.Action.SUBMITTED, user=officer, from_state=DRAFT,
                       changes={"value": (D("12.5000"), D("14")), "source_released": (None, datetime.date(2012, 6, 1))},
                       note="Checked twice", at=at)
    event = ReturnEvent.objects.get(indicator_return=ret)
    assert (event.actor, event.api_key, event.action, event.from_state, event.to_state, event.version, event.note,
            event.at) == (officer, None, "submitted", "draft", "submitted", 3, "Checked twice", at)
    assert event.changes == {"value": ["12.5", "14"], "source_released": [None, "2012-06-01"]}
    assert event.milestone_return is None


def test_record_event_of_a_partners_key_names_the_key_not_a_person(submit_key, period, count_indicator):
    ret = stored(count_indicator, district(), period, value=D(14), state=DRAFT)
    audit.record_event(ret, action=ReturnEvent.Action.CREATED, user=KeyActor(key=submit_key), from_state="")
    event = ReturnEvent.objects.get(indicator_return=ret)
    assert (event.actor, event.api_key, event.changes, event.to_state, event.version) == (None, submit_key, {}, "draft", 1)


def test_record_event_of_the_system_on_a_milestone_return(period):
    ret = MilestoneReturn.objects.create(milestone=milestone(), period=period, organisation=council(), status="on_track",
                                         percent_complete=40)
    audit.record_event(ret, action=ReturnEvent.Action.SAVED, user=None, from_state=DRAFT,
                       changes={"percent_complete": (30, 40)})
    event = ReturnEvent.objects.get(milestone_return=ret)
    assert (event.indicator_return, event.actor, event.api_key, event.changes) == (None, None, None, {"percent_complete": [30, 40]})


def test_field_changes_lists_only_what_differs():
    ret = IndicatorReturn(value=D("10.0000"), commentary="", state=DRAFT)
    assert audit.field_changes(ret, {"value": D(10), "commentary": "", "state": DRAFT}) == {}
    assert audit.field_changes(ret, {"value": D("10.5"), "commentary": "Fewer collisions"}) == {
        "value": (D("10.0000"), D("10.5")), "commentary": ("", "Fewer collisions"),
    }
    assert audit.field_changes(ret, {"value": None}) == {"value": (D("10.0000"), None)}


def test_draft_changes_is_none_when_nothing_would_be_written():
    assert audit.draft_changes(IndicatorReturn(value=D(10), state=RETURNED), {"value": D("10.0")}) is None
    assert audit.draft_changes(IndicatorReturn(value=D(10), state=DRAFT), {"value": D(10)}) is None


def test_draft_changes_move_a_returned_return_to_draft():
    returned = IndicatorReturn(value=D(10), state=RETURNED)
    assert audit.draft_changes(returned, {"value": D(11)}) == {"value": (D(10), D(11)), "state": (RETURNED, DRAFT)}
    # the breakdown rows alone changed: only the state
    assert audit.draft_changes(returned, {"value": D(10)}, breakdowns_changed=True) == {"state": (RETURNED, DRAFT)}
    # a draft stays a draft: its state change is not recorded
    assert audit.draft_changes(IndicatorReturn(value=D(10), state=DRAFT), {"value": D(11)}) == {"value": (D(10), D(11))}


# --- by_code.py -------------------------------------------------------------------------------------

def test_slot_errors_name_each_unknown_code():
    assert by_code.slot_errors(indicator=None, locality=None, period=None, indicator_code="NOPE", gss_code="E99",
                               period_label="2099/00 Q1") == {
        "indicator": "There is no indicator with code “NOPE”.",
        "locality": "There is no area with GSS code “E99”.",
        "period": "There is no reporting period “2099/00 Q1”.",
    }
    known = object()
    assert by_code.slot_errors(indicator=known, locality=known, period=known, indicator_code="", gss_code="",
                               period_label="") == {}


def test_slot_errors_shorten_long_codes():
    errors = by_code.slot_errors(indicator=None, locality=None, period=None, indicator_code="I" * 100,
                                 gss_code="G" * 100, period_label="P" * 100)
    assert errors == {
        "indicator": f"There is no indicator with code “{'I' * 40}”.",
        "locality": f"There is no area with GSS code “{'G' * 12}”.",
        "period": f"There is no reporting period “{'P' * 20}”.",
    }


def test_resolve_slot_finds_the_assignment_and_period(count_indicator, period):
    assignment, found = by_code.resolve_slot(indicator_code="T-KSI", gss_code="E07000105", period_label="2012/13 Q1")
    assert (assignment.indicator, assignment.locality, assignment.organisation, found) == (
        count_indicator, district(), council(), period
    )


def test_resolve_slot_refuses_unknown_codes(count_indicator, period):
    with pytest.raises(ValidationError) as error:
        by_code.resolve_slot(indicator_code="T-KSI", gss_code="E99999999", period_label="2099/00 Q1")
    assert error.value.message_dict == {
        "locality": ["There is no area with GSS code “E99999999”."],
        "period": ["There is no reporting period “2099/00 Q1”."],
    }


def test_resolve_slot_refuses_an_area_nobody_returns_for(count_indicator, period):
    with pytest.raises(ValidationError) as error:
        by_code.resolve_slot(indicator_code="T-KSI", gss_code="E07000106", period_label="2012/13 Q1")
    assert error.value.message_dict == {"indicator": ["Nobody returns T-KSI for Canterbury."]}


def test_breakdowns_by_key_turns_codes_into_category_ids(count_indicator):
    assert by_code.breakdowns_by_key(count_indicator, {"severity:fatal": D(1), "severity:serious": None}) == {
        category("fatal").pk: D(1), category("serious").pk: None,
    }
    assert by_code.breakdowns_by_key(count_indicator, {}) == {}


def test_breakdowns_by_key_refuses_a_breakdown_the_indicator_does_not_have(count_indicator):
    with pytest.raises(ValidationError) as error:
        by_code.breakdowns_by_key(count_indicator, {"severity:fatal": D(1), "age_band:under-16": D(2), "nonsense": D(3)})
    assert error.value.message_dict == {"breakdowns": ["Not a breakdown of T-KSI: age_band:under-16, nonsense."]}


def test_milestone_return_enter_refuses_an_unknown_milestone_and_period(officer):
    with pytest.raises(ValidationError) as error:
        by_code.milestone_return_save_by_codes(user=officer, milestone_id=999999, period_label="2099/00 Q1",
                                       progress=MilestoneProgress("on_track", 10))
    assert error.value.message_dict == {
        "milestone": ["There is no milestone 999999."], "period": ["There is no reporting period “2099/00 Q1”."],
    }


def test_milestone_return_enter_saves_then_submits_for_the_owners_officer(officer, period):
    plan = milestone()
    ret = by_code.milestone_return_save_by_codes(user=officer, milestone_id=plan.pk, period_label="2012/13 Q1",
                                         progress=MilestoneProgress("on_track", 40))
    assert (ret.state, ret.version, ret.percent_complete, ret.organisation) == (DRAFT, 1, 40, council())
    ret = by_code.milestone_return_save_by_codes(user=officer, milestone_id=plan.pk, period_label="2012/13 Q1",
                                         progress=MilestoneProgress("on_track", 60), expected_version=1, submit=True)
    stored_ret = MilestoneReturn.objects.get(milestone=plan, period=period)
    assert (stored_ret.state, stored_ret.version, stored_ret.percent_complete) == (SUBMITTED, 3, 60)


def test_milestone_return_enter_checks_a_submission_before_saving_anything(officer, period):
    plan = milestone()
    with pytest.raises(ValidationError) as error:
        by_code.milestone_return_save_by_codes(user=officer, milestone_id=plan.pk, period_label="2012/13 Q1",
                                       progress=MilestoneProgress("at_risk", 40), submit=True)
    assert list(error.value.message_dict) == ["commentary"]
    assert not MilestoneReturn.objects.filter(milestone=plan).exists()


def test_milestone_return_enter_refuses_another_organisations_officer(other_officer, period):
    plan = milestone()
    with pytest.raises(PermissionDenied):
        by_code.milestone_return_save_by_codes(user=other_officer, milestone_id=plan.pk, period_label="2012/13 Q1",
                                       progress=MilestoneProgress("on_track", 40))
    assert not MilestoneReturn.objects.exists()


# --- exports.py -------------------------------------------------------------------------------------

def test_template_rows_list_the_organisations_returns_for_the_period_with_current_figures(
    officer, period, count_indicator, rate_indicator
):
    # Given Ashford's draft T-KSI with its breakdown, and an annual indicator Ashford also returns
    workflow.indicator_return_save_draft(
        indicator=count_indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=IndicatorFigures(value=D(14), commentary="=SUM(A1)", breakdowns={category("fatal").pk: D(1)}),
    )
    annual = IndicatorFactory(code="T-ANNUAL", frequency="annual")
    services.assignment_ensure(organisation=council(), indicator=annual, locality=district())
    # When the template for the quarter is written
    rows = list(exports.template_rows(council(), period))
    # Then one row per total and breakdown of the quarter's returns, with figures and version
    ksi, recyc = "People killed or seriously injured", "Household waste recycled"
    assert rows == [
        ["2012/13 Q1", "T-KSI", ksi, "E07000105", "Ashford", "", "14", "", "", "'=SUM(A1)", 1],
        ["2012/13 Q1", "T-KSI", ksi, "E07000105", "Ashford", "severity:fatal", "1", "", "", "", ""],
        ["2012/13 Q1", "T-KSI", ksi, "E07000105", "Ashford", "severity:serious", "", "", "", "", ""],
        ["2012/13 Q1", "T-RECYC", recyc, "E07000105", "Ashford", "", "", "", "", "", ""],
    ]


def test_template_rows_of_a_rate_give_numerator_and_denominator_not_the_value(officer, period, rate_indicator):
    stored(rate_indicator, district(), period, value=D("41.2"), numerator=D(412), denominator=D(1000), state=DRAFT,
           version=2)
    assert list(exports.template_rows(council(), period)) == [
        ["2012/13 Q1", "T-RECYC", "Household waste recycled", "E07000105", "Ashford", "", "", "412", "1000", "", 2],
    ]


def test_template_rows_leave_out_an_inactive_indicator_as_my_returns_does(period, rate_indicator):
    retired = IndicatorFactory(code="T-RETIRED", is_active=False)
    services.assignment_ensure(organisation=council(), indicator=retired, locality=district())
    assert [row[1] for row in exports.template_rows(council(), period)] == ["T-RECYC"]


def test_export_rows_give_the_header_then_one_row_per_return_in_the_imports_columns(period, count_indicator,
                                                                                      rate_indicator):
    stored(rate_indicator, district(), period, value=D("41.2"), numerator=D(412), denominator=D(1000))
    stored(count_indicator, district(), period, value=D(14), quality="provisional", quality_note="=cmd|' /C calc'!A0",
           source_released=datetime.date(2012, 8, 1))
    stored(count_indicator, district(), period, value=D(1), breakdown=category("fatal"))
    rows = list(exports.export_rows(IndicatorReturn.objects.all()))
    assert rows[0] == exports.EXPORT_COLUMNS
    assert sorted(rows[1:]) == sorted([
        ["2012/13 Q1", "T-RECYC", "E07000105", "", "", "412", "1000", "approved", "final", "", "", "", "", ""],
        ["2012/13 Q1", "T-KSI", "E07000105", "", "14", "", "", "approved", "provisional", "2012-08-01",
         "'=cmd|' /C calc'!A0", "", "", ""],
        ["2012/13 Q1", "T-KSI", "E07000105", "severity:fatal", "1", "", "", "approved", "final", "", "", "", "", ""],
    ])


@pytest.mark.django_db
def test_export_rows_of_nothing_is_the_header_alone():
    assert list(exports.export_rows(IndicatorReturn.objects.none())) == [exports.EXPORT_COLUMNS]


# --- imports.py: the upload's size, its text, cancelling -----------------------------------------

def test_size_error_follows_the_setting(settings):
    settings.RETURN_IMPORT_MAX_BYTES = 1000
    assert imports.size_error(1000) is None
    # sizes that round to the same KB are given in bytes
    assert imports.size_error(1001) == "The file is 1,001 bytes; the limit is 1,000 bytes. Split it into smaller files."
    assert imports.size_error(3000) == "The file is 3 KB; the limit is 1 KB. Split it into smaller files."
    settings.RETURN_IMPORT_MAX_BYTES = 2 * 1024 * 1024
    assert imports.size_error(3000) is None
    assert imports.size_error(3 * 1024 * 1024) == "The file is 3.0 MB; the limit is 2.0 MB. Split it into smaller files."


def upload_form(content: bytes) -> ReturnUploadForm:
    return ReturnUploadForm(data={}, files={"file": SimpleUploadedFile("returns.csv", content, "text/csv")})


def test_the_upload_pages_form_follows_the_size_setting(settings):
    settings.RETURN_IMPORT_MAX_BYTES = 1000
    assert upload_form(b"x" * 1000).is_valid()
    form = upload_form(b"x" * 1001)
    assert not form.is_valid()
    assert form.errors["file"] == ["The file is 1,001 bytes; the limit is 1,000 bytes. Split it into smaller files."]
    settings.RETURN_IMPORT_MAX_BYTES = 2000
    assert upload_form(b"x" * 1001).is_valid()


def test_the_import_service_follows_the_size_setting(settings, officer, period, count_indicator):
    settings.RETURN_IMPORT_MAX_BYTES = 1000
    rows = b"period,indicator_code,area_gss_code,value,numerator,denominator\n2012/13 Q1,T-KSI,E07000105,14,,\n"
    raw = rows + b"\n" * (1001 - len(rows))  # a good file of 1,001 bytes (blank lines are not rows)
    with pytest.raises(ValidationError) as error:
        imports.import_preview(user=officer, organisation=council(), period=period, filename="r.csv", raw=raw)
    assert error.value.messages == [imports.size_error(len(raw))]
    assert not ReturnImport.objects.exists()
    # With a larger limit the same file is accepted for preview
    settings.RETURN_IMPORT_MAX_BYTES = 2000
    job = imports.import_preview(user=officer, organisation=council(), period=period, filename="r.csv", raw=raw)
    assert (job.state, len(job.rows)) == (ReturnImport.State.PREVIEW, 1)


def test_decode_upload_reads_utf8_with_or_without_a_byte_order_mark_and_utf16_with_one():
    text = "period,value\n2012/13 Q1,Café\n"
    assert imports.decode_upload(text.encode("utf-8")) == text
    assert imports.decode_upload(codecs.BOM_UTF8 + text.encode("utf-8")) == text
    assert imports.decode_upload(text.encode("utf-16")) == text  # Python writes the BOM
    assert imports.decode_upload(codecs.BOM_UTF16_BE + text.encode("utf-16-be")) == text


def test_decode_upload_refuses_an_empty_file():
    with pytest.raises(ValidationError, match="The file is empty: download the template"):
        imports.decode_upload(b"")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_decode_upload_refuses_utf16_without_a_byte_order_mark(encoding):
    with pytest.raises(ValidationError) as error:
        imports.decode_upload("period,indicator_code,value\n".encode(encoding))
    assert error.value.messages == [imports.UTF16_WITHOUT_BOM]


def test_decode_upload_names_the_line_of_the_first_character_that_is_not_utf8():
    with pytest.raises(ValidationError) as error:
        imports.decode_upload("period,value\n2012/13 Q1,Café\n".encode("latin-1"))
    assert error.value.messages == [
        "The file is not UTF-8 text (the first character that is not is on line 2). In Excel choose Save As, then "
        "'CSV UTF-8 (Comma delimited)'."
    ]


def import_job(user, period, state=ReturnImport.State.PREVIEW) -> ReturnImport:
    return ReturnImport.objects.create(organisation=council(), period=period, uploaded_by=user, filename="r.csv",
                                       content="", rows=[], state=state)


def test_import_cancel_cancels_a_preview_for_its_uploader(officer, period):
    job = imports.import_cancel(user=officer, job=import_job(officer, period))
    assert ReturnImport.objects.get(pk=job.pk).state == ReturnImport.State.CANCELLED


def test_import_cancel_leaves_an_upload_already_dealt_with(officer, period):
    job = imports.import_cancel(user=officer, job=import_job(officer, period, ReturnImport.State.APPLIED))
    assert ReturnImport.objects.get(pk=job.pk).state == ReturnImport.State.APPLIED


def test_import_cancel_refuses_anyone_but_the_uploader(officer, other_officer, period):
    job = import_job(officer, period)
    with pytest.raises(PermissionDenied, match="Only the person who uploaded the file may cancel it."):
        imports.import_cancel(user=other_officer, job=job)
    assert ReturnImport.objects.get(pk=job.pk).state == ReturnImport.State.PREVIEW


# --- reminders.py -----------------------------------------------------------------------------------

@pytest.mark.parametrize("days_from_deadline,kind", [
    (-30, None), (-8, None), (-7, "reminder"), (-1, "reminder"), (0, "reminder"), (1, "overdue"), (40, "overdue"),
])
def test_reminder_kind_by_the_day(settings, days_from_deadline, kind):
    settings.RETURN_REMINDER_DAYS = 7
    deadline = datetime.date(2012, 7, 31)
    period = ReportingPeriod(kind="quarter", deadline=deadline)
    assert reminders.reminder_kind(period, deadline + datetime.timedelta(days=days_from_deadline)) == kind


def test_reminder_kind_without_a_deadline_is_none():
    assert reminders.reminder_kind(ReportingPeriod(kind="quarter", deadline=None), datetime.date(2012, 7, 31)) is None


# --- selectors.py: milestones --------------------------------------------------------------------

def milestone_return(plan, period, *, status="complete", state=APPROVED) -> MilestoneReturn:
    return MilestoneReturn.objects.create(milestone=plan, period=period, organisation=plan.owner, status=status,
                                          percent_complete=100 if status == "complete" else 50, state=state)


@pytest.mark.django_db
def test_milestones_reported_leave_out_those_approved_complete_in_an_earlier_period():
    q1, q2, q3 = open_quarter(2011, 1), open_quarter(2011, 2), open_quarter(2011, 3)
    done = milestone("Done in Q1")
    submitted_complete = milestone("Complete but not yet approved")
    done_now = milestone("Done in Q2")
    going = milestone("On track")
    milestone_return(done, q1)
    milestone_return(submitted_complete, q1, state=SUBMITTED)
    milestone_return(done_now, q2)
    milestone_return(going, q1, status="on_track")
    assert set(selectors.milestones_reported(q2)) == {submitted_complete, done_now, going}
    assert set(selectors.milestones_reported(q3)) == {submitted_complete, going}
    assert set(selectors.milestones_reported(q1)) == {done, submitted_complete, done_now, going}


@pytest.mark.django_db
def test_milestones_due_are_the_organisations_own_by_due_date_then_title():
    q1, q2 = open_quarter(2011, 1), open_quarter(2011, 2)
    later = milestone("A later one", due=datetime.date(2013, 1, 1))
    b = milestone("B", due=datetime.date(2012, 1, 1))
    a = milestone("A", due=datetime.date(2012, 1, 1))
    finished = milestone("Finished", due=datetime.date(2011, 6, 1))
    milestone("Dover's", owner=council("Dover District Council"))
    milestone_return(finished, q1)
    assert list(selectors.milestones_due(council(), q2)) == [a, b, later]
    assert list(selectors.milestones_due(council(), q1)) == [finished, a, b, later]


# --- selectors.py: a return's history ---------------------------------------------------------------

def test_return_history_shows_the_latest_fifty_oldest_first_unless_asked_for_all(officer, submit_key, period,
                                                                                  count_indicator):
    ret = stored(count_indicator, district(), period, value=D(1), state=DRAFT)
    start = datetime.datetime(2012, 7, 1, tzinfo=datetime.timezone.utc)
    for n in range(54):
        audit.record_event(ret, action=ReturnEvent.Action.SAVED, user=officer, from_state=DRAFT, note=f"save {n}",
                           at=start + datetime.timedelta(minutes=n))
    audit.record_event(ret, action=ReturnEvent.Action.SAVED, user=KeyActor(key=submit_key), from_state=DRAFT,
                       note="from the feed", at=start + datetime.timedelta(minutes=54))
    # When the page's history is read
    history = selectors.return_history(ret)
    # Then the latest 50 of 55, oldest first, each saying who wrote it
    assert (history.total, len(history.events), history.is_partial, bool(history)) == (55, 50, True, True)
    assert [e.comment for e in history][:2] == ["save 5", "save 6"]
    assert history.events[-1].by_key == selectors.KeyWriter(name="Police feed", partner="Kent Police")
    assert history.events[0].by_key is None and history.events[0].actor == officer
    everything = selectors.return_history(ret, show_all=True)
    assert (everything.total, len(everything.events), everything.is_partial) == (55, 55, False)
    assert everything.events[0].comment == "save 0"


def test_return_history_of_a_return_without_events_is_empty(period, count_indicator):
    history = selectors.return_history(stored(count_indicator, district(), period, value=D(1)))
    assert (history.total, history.events, bool(history), history.is_partial) == (0, [], False, False)


# --- selectors.py: outstanding returns and reminders ---------------------------------------------------

@pytest.mark.parametrize("account,person,address", [
    ("ashford@example.org", "person@example.org", "ashford@example.org"),
    ("  ashford@example.org ", "", "ashford@example.org"),
    ("", "person@example.org", "person@example.org"),
    ("not an address", "person@example.org", "person@example.org"),
    ("", "", ""),
    ("not an address", "nor this", ""),
])
def test_usable_email(account, person, address):
    user = SimpleNamespace(email=account, person=SimpleNamespace(email=person))
    assert selectors.usable_email(user) == address


def test_usable_email_of_a_user_without_a_person():
    assert selectors.usable_email(get_user_model()(username="x", email="")) == ""
    assert selectors.usable_email(get_user_model()(username="x", email="x@example.org")) == "x@example.org"


def test_outstanding_by_organisation_counts_what_is_not_yet_submitted(officer, other_officer, period, count_indicator,
                                                                      rate_indicator):
    # Given: Ashford has submitted T-KSI, not T-RECYC, and owns a milestone not yet reported;
    # Dover owes T-KSI; an annual and an inactive indicator assigned to Ashford do not count
    stored(count_indicator, district(), period, value=D(14), state=SUBMITTED)
    for indicator in (IndicatorFactory(code="T-ANNUAL", frequency="annual"), IndicatorFactory(code="T-OLD", is_active=False)):
        services.assignment_ensure(organisation=council(), indicator=indicator, locality=district())
    milestone()
    # When the period's outstanding returns are counted
    entries = {e.organisation.name: e for e in selectors.outstanding_by_organisation(period)}
    # Then
    assert set(entries) == {"Ashford Borough Council", "Dover District Council"}
    ashford, dover = entries["Ashford Borough Council"], entries["Dover District Council"]
    assert (ashford.indicators, ashford.milestones, ashford.total, ashford.officers) == (1, 1, 2, [officer])
    assert ashford.description == "1 indicator return and 1 milestone return"
    assert ashford.recipients == ["ashford@example.org"]
    assert (dover.indicators, dover.milestones, dover.officers, dover.description) == (1, 0, [other_officer],
                                                                                       "1 indicator return")


def test_outstanding_by_organisation_counts_no_milestones_outside_quarters(officer, count_indicator):
    year, _ = services.period_ensure(span=periods.financial_year(2012))
    annual = IndicatorFactory(code="T-ANNUAL", frequency="annual")
    services.assignment_ensure(organisation=council(), indicator=annual, locality=district())
    milestone()
    entries = selectors.outstanding_by_organisation(year)
    assert [(e.organisation.name, e.indicators, e.milestones) for e in entries] == [("Ashford Borough Council", 1, 0)]


def test_outstanding_by_organisation_counts_an_organisation_with_everything_done_as_nothing_owed(
    officer, period, rate_indicator
):
    stored(rate_indicator, district(), period, value=D(41), numerator=D(41), denominator=D(100), state=APPROVED)
    [entry] = selectors.outstanding_by_organisation(period)
    assert (entry.organisation, entry.total, entry.description) == (council(), 0, "no returns")


def test_reminders_unreachable_lists_organisations_no_officer_can_be_emailed_at(officer, other_officer, period,
                                                                               count_indicator):
    # Given Dover's only officer has no usable address, and Ashford's has one
    other_officer.email = ""
    other_officer.save()
    other_officer.person.email = "not an address"
    other_officer.person.save()
    # When the Forum team's list is read
    found = selectors.reminders_unreachable()
    # Then Dover alone, for the open period
    assert [(p, [e.organisation.name for e in entries]) for p, entries in found] == [(period, ["Dover District Council"])]
    assert found[0][1][0].indicators == 1


def test_reminders_unreachable_is_empty_when_everyone_can_be_reached(officer, other_officer, period, count_indicator):
    assert selectors.reminders_unreachable() == []


@pytest.mark.django_db
def test_latest_overdue_periods_are_the_latest_past_deadline_and_grace_of_each_kind():
    # Given quarters with deadlines 30 days after they end (grace 5 days) and a financial year
    q1, q2, q3 = quarters(2011, 3)  # deadlines 30 Jul, 30 Oct 2011, 30 Jan 2012
    year, _ = services.period_ensure(span=periods.financial_year(2010))  # deadline 30 Apr 2011
    assert (q2.deadline, q2.grace_days) == (datetime.date(2011, 10, 30), 5)
    # When 10 November 2011: Q2's grace ended on 4 November
    assert selectors.latest_overdue_periods(datetime.date(2011, 11, 10)) == [year, q2]
    # When 4 November 2011: Q2 is still in its grace days
    assert selectors.latest_overdue_periods(datetime.date(2011, 11, 4)) == [year, q1]
    # When nothing has passed its grace time
    assert selectors.latest_overdue_periods(datetime.date(2011, 5, 1)) == []
    assert q3 not in selectors.latest_overdue_periods(datetime.date(2012, 2, 4))
    assert selectors.latest_overdue_periods(datetime.date(2012, 2, 5)) == [year, q3]
