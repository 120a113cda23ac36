"""Rollups: aggregation by the indicator's own method, coverage, status, direction of travel,
idempotence, and incremental queuing after commit."""
from decimal import Decimal

import pytest

from localities.models import Locality
from performance.catalogue import rules, services
from performance.models import IndicatorReturn, IndicatorRollup, IndicatorTarget, MilestoneRollup
from performance.returns import validation, workflow
from performance.returns.validation import IndicatorFigures
from performance.rollups import engine, queue
from tests.factories import IndicatorFactory, PercentageIndicatorFactory, open_quarter
from tests.performance.conftest import make_user

pytestmark = pytest.mark.django_db


def districts():
    return list(Locality.objects.filter(kind="district").order_by("name"))


def county():
    return Locality.objects.get(kind="county")


def approve(indicator, locality, period, figures, approver):
    """A district council enters, submits; the approver approves (through the services)."""
    from partnerships.models import Organisation

    organisation = Organisation.objects.get(locality=locality)
    services.assignment_ensure(organisation=organisation, indicator=indicator, locality=locality)
    if not figures.commentary:
        figures = IndicatorFigures(**{**figures.__dict__, "commentary": "Checked against the source."})
    ret = workflow.indicator_return_save_draft(indicator=indicator, locality=locality, period=period,
                                         organisation=organisation, figures=figures)
    workflow.indicator_return_submit(ret=ret, expected_version=ret.version, confirm_warnings=True)
    workflow.return_approve(ret=ret, expected_version=ret.version, user=approver)
    return ret


@pytest.fixture
def approver(db):
    from kentforum.roles import Role

    return make_user("rollup.approver", "Kent County Council", Role.APPROVER)


def county_row(indicator, period, key=""):
    return IndicatorRollup.objects.get(indicator=indicator, period=period, locality__kind="county", breakdown_key=key)


def test_a_rate_over_districts_is_the_ratio_of_sums_never_an_average(approver, django_capture_on_commit_callbacks):
    indicator, period = PercentageIndicatorFactory(), open_quarter(2012, 1)
    small, large = districts()[:2]
    with django_capture_on_commit_callbacks(execute=True):
        approve(indicator, small, period, IndicatorFigures(numerator=Decimal(9), denominator=Decimal(10)), approver)
        approve(indicator, large, period, IndicatorFigures(numerator=Decimal(100), denominator=Decimal(1000)), approver)
    row = county_row(indicator, period)
    assert row.value == Decimal("10.7921")  # 109 / 1010, not (90% + 10%) / 2 = 50%
    assert (row.numerator, row.denominator) == (Decimal(109), Decimal(1010))
    assert row.coverage_display == "2/12 districts" and len(row.missing) == 10
    assert row.ci_lower < row.value < row.ci_upper


def test_counts_are_summed_and_breakdowns_rolled_up(approver, django_capture_on_commit_callbacks):
    from performance.models import BreakdownCategory, BreakdownDimension

    indicator, period = IndicatorFactory(), open_quarter(2012, 1)
    indicator.breakdown_dimensions.add(BreakdownDimension.objects.get(code="severity"))
    fatal, serious = BreakdownCategory.objects.get(dimension__code="severity", code="fatal"), BreakdownCategory.objects.get(dimension__code="severity", code="serious")
    with django_capture_on_commit_callbacks(execute=True):
        for n, locality in enumerate(districts()[:9], start=1):
            approve(indicator, locality, period, IndicatorFigures(value=Decimal(n), breakdowns={fatal.pk: Decimal(0), serious.pk: Decimal(n)}), approver)
    row = county_row(indicator, period)
    assert row.value == 45 and row.coverage_display == "9/12 districts"
    assert county_row(indicator, period, "severity:serious").value == 45
    assert county_row(indicator, period, "severity:fatal").breakdown_label == "Severity (killed or seriously injured): Fatal injury"


def test_not_aggregable_indicators_have_no_county_figure(approver, django_capture_on_commit_callbacks):
    indicator, period = IndicatorFactory(aggregation="none", unit="currency_gbp"), open_quarter(2012, 1)
    with django_capture_on_commit_callbacks(execute=True):
        approve(indicator, districts()[0], period, IndicatorFigures(value=Decimal(500)), approver)
    assert county_row(indicator, period).value is None
    assert IndicatorRollup.objects.get(indicator=indicator, locality=districts()[0]).value == 500


@pytest.mark.parametrize(
    "polarity,value,status",
    [("higher_is_better", 41, "green"), ("higher_is_better", 39, "amber"), ("higher_is_better", 37, "red"),
     ("lower_is_better", 39, "green"), ("lower_is_better", 41, "amber"), ("lower_is_better", 43, "red"),
     ("neutral", 50, "no_target")],
)
def test_status_against_target_and_tolerance_both_polarities(polarity, value, status):
    assert rules.rag_status(value=Decimal(value), target=Decimal(40), tolerance_percent=Decimal(5), polarity=polarity) == status
    assert rules.rag_status(value=Decimal(value), target=None, tolerance_percent=None, polarity=polarity) == "no_target"


def test_rollup_status_uses_the_target(approver, django_capture_on_commit_callbacks):
    indicator, period = PercentageIndicatorFactory(min_coverage=1), open_quarter(2012, 1)  # judged from one district
    IndicatorTarget.objects.create(indicator=indicator, period=period, target=Decimal(40), tolerance_percent=Decimal(5))
    with django_capture_on_commit_callbacks(execute=True):
        approve(indicator, districts()[0], period, IndicatorFigures(numerator=Decimal(30), denominator=Decimal(100)), approver)
    assert county_row(indicator, period).status == "red"


def test_small_numbers_do_not_flip_on_noise_but_real_changes_show(approver, django_capture_on_commit_callbacks):
    indicator = IndicatorFactory(polarity="lower_is_better")
    q1, q2 = open_quarter(2012, 1), open_quarter(2012, 2)
    small, large = districts()[0], districts()[1]
    with django_capture_on_commit_callbacks(execute=True):
        approve(indicator, small, q1, IndicatorFigures(value=Decimal(4)), approver)
        approve(indicator, small, q2, IndicatorFigures(value=Decimal(7)), approver)  # 4 -> 7: noise
        approve(indicator, large, q1, IndicatorFigures(value=Decimal(400)), approver)
        approve(indicator, large, q2, IndicatorFigures(value=Decimal(300)), approver)  # a real fall
    assert IndicatorRollup.objects.get(indicator=indicator, locality=small, period=q2).direction_previous == "no_change"
    assert IndicatorRollup.objects.get(indicator=indicator, locality=large, period=q2).direction_previous == "improving"


def test_running_a_rollup_twice_gives_the_same_rows(approver, django_capture_on_commit_callbacks):
    indicator, period = PercentageIndicatorFactory(), open_quarter(2012, 1)
    with django_capture_on_commit_callbacks(execute=True):
        for n, locality in enumerate(districts(), start=1):
            approve(indicator, locality, period, IndicatorFigures(numerator=Decimal(n), denominator=Decimal(50)), approver)

    def snapshot():
        return sorted(IndicatorRollup.objects.values_list(
            "pk", "indicator_id", "locality_id", "period_id", "breakdown_key", "value", "numerator", "denominator",
            "ci_lower", "ci_upper", "reporting", "expected", "status", "direction_previous", "direction_year"))

    first = snapshot()
    engine.rollup_slice(indicator.pk, period.pk)
    engine.rollup_slice(indicator.pk, period.pk)
    assert snapshot() == first
    engine.rebuild_all()
    assert [row[1:] for row in snapshot()] == [row[1:] for row in first]


def test_reopening_an_approved_return_removes_it_from_the_summary(approver, django_capture_on_commit_callbacks):
    from kentforum.roles import Role

    admin = make_user("rollup.admin", "Kent County Council", Role.FORUM_ADMIN)
    indicator, period = IndicatorFactory(), open_quarter(2012, 1)
    with django_capture_on_commit_callbacks(execute=True):
        ret = approve(indicator, districts()[0], period, IndicatorFigures(value=Decimal(8)), approver)
    assert county_row(indicator, period).value == 8
    with django_capture_on_commit_callbacks(execute=True):
        workflow.return_reopen(ret=ret, reason="Wrong quarter", expected_version=ret.version, user=admin)
    row = county_row(indicator, period)
    assert row.value is None and row.reporting == 0


def test_approval_queues_only_the_slices_it_touches_after_commit(approver, django_capture_on_commit_callbacks):
    indicator, other = IndicatorFactory(), IndicatorFactory()
    q1, q2 = open_quarter(2012, 1), open_quarter(2012, 2)
    q1_next_year = open_quarter(2013, 1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ret = approve(indicator, districts()[0], q1, IndicatorFigures(value=Decimal(8)), approver)
    assert not IndicatorRollup.objects.exists(), "nothing runs before the commit"
    assert queue.slices_touched(ret) == [[indicator.pk, q1.pk], [indicator.pk, q2.pk], [indicator.pk, q1_next_year.pk]] \
        or sorted(queue.slices_touched(ret)) == sorted([[indicator.pk, q1.pk], [indicator.pk, q2.pk], [indicator.pk, q1_next_year.pk]])
    for callback in callbacks:
        callback()
    assert set(IndicatorRollup.objects.values_list("indicator_id", flat=True)) == {indicator.pk}
    assert other.pk not in set(IndicatorRollup.objects.values_list("indicator_id", flat=True))


def test_milestones_roll_up_with_overdue_and_slipped(approver, django_capture_on_commit_callbacks):
    import datetime

    from ambitions.models import DeliveryPlan
    from performance.models import Milestone
    from tests.factories import council

    officer = make_user("m.officer", "Ashford Borough Council", "officer")
    plan = DeliveryPlan.objects.get(name="Local Transport Plan")
    due = Milestone.objects.create(title="Due and slipping", delivery_plan=plan, owner=council(), due_date=datetime.date(2012, 5, 1))
    period = open_quarter(2012, 1)
    with django_capture_on_commit_callbacks(execute=True):
        ret = workflow.milestone_return_save_draft(milestone=due, period=period, organisation=council(), user=officer,
                                             progress=validation.MilestoneProgress(status="at_risk", percent_complete=60,
                                                                                 revised_date=datetime.date(2012, 11, 30),
                                                                                 commentary="Contractor late"))
        workflow.milestone_return_submit(ret=ret, expected_version=ret.version, user=officer)
        workflow.return_approve(ret=ret, expected_version=ret.version, user=approver)
    row = MilestoneRollup.objects.get(milestone=due, period=period)
    assert (row.status, row.overdue, row.slipped) == ("at_risk", True, True)


# --- Completeness: a figure from part of the county is not judged ---------------------------------

def approve_all(indicator, period, value_of, approver, areas=None):
    for n, locality in enumerate(areas if areas is not None else districts(), start=1):
        approve(indicator, locality, period, value_of(n), approver)


@pytest.mark.parametrize("polarity", ["higher_is_better", "lower_is_better"])
def test_a_county_sum_from_part_of_the_county_gets_no_status_and_no_direction(approver, polarity, django_capture_on_commit_callbacks):
    """The demo's Jobseeker's Allowance: 26,073 from 12/12 districts, then 6,541 from 3/12, once
    shown as "On target, improving". A count from 3 districts is a quarter of the county, not a fall."""
    indicator = IndicatorFactory(polarity=polarity)
    q1, q2, q3 = open_quarter(2012, 1), open_quarter(2012, 2), open_quarter(2012, 3)
    for period in (q1, q2, q3):
        IndicatorTarget.objects.create(indicator=indicator, period=period, target=Decimal(1000), tolerance_percent=Decimal(5))
    with django_capture_on_commit_callbacks(execute=True):
        approve_all(indicator, q1, lambda n: IndicatorFigures(value=Decimal(100)), approver)
        approve_all(indicator, q2, lambda n: IndicatorFigures(value=Decimal(30)), approver, areas=districts()[:3])
        approve_all(indicator, q3, lambda n: IndicatorFigures(value=Decimal(150)), approver)
    complete = county_row(indicator, q1)
    assert complete.complete and complete.value == 1200 and complete.status in ("green", "red")
    partial = county_row(indicator, q2)
    assert partial.value == 90 and partial.coverage_display == "3/12 districts"
    assert (partial.complete, partial.status) == (False, "incomplete")
    assert (partial.direction_previous, partial.direction_year) == ("not_comparable", "not_comparable")
    after = county_row(indicator, q3)
    assert after.complete and after.status != "incomplete"
    assert after.direction_previous == "not_comparable", "never compared with an incomplete figure"
    # each district's own figure is complete and judged as ever
    own = IndicatorRollup.objects.get(indicator=indicator, period=q2, locality=districts()[0], breakdown_key="")
    assert own.complete and own.reporting == own.expected == 1


def test_a_rate_is_judged_from_part_of_the_county_only_above_its_minimum_coverage(approver, django_capture_on_commit_callbacks):
    strict, lenient = PercentageIndicatorFactory(), PercentageIndicatorFactory(min_coverage=9)
    q1, q2 = open_quarter(2012, 1), open_quarter(2012, 2)
    for indicator in (strict, lenient):
        IndicatorTarget.objects.create(indicator=indicator, period=q2, target=Decimal(10), tolerance_percent=Decimal(5))
    figures = lambda n: IndicatorFigures(numerator=Decimal(n), denominator=Decimal(100))  # noqa: E731
    with django_capture_on_commit_callbacks(execute=True):
        for indicator in (strict, lenient):
            approve_all(indicator, q1, figures, approver)
            approve_all(indicator, q2, figures, approver, areas=districts()[:9])
    assert (county_row(strict, q2).complete, county_row(strict, q2).status) == (False, "incomplete")
    judged = county_row(lenient, q2)
    assert judged.complete and judged.status == "red" and judged.direction_previous != "not_comparable"
    with django_capture_on_commit_callbacks(execute=True):
        workflow.return_reopen(
            ret=IndicatorReturn.objects.get(indicator=lenient, period=q2, locality=districts()[8], breakdown__isnull=True),
            reason="Wrong denominator", expected_version=3, user=make_user("cov.admin", "Kent County Council", "forum_admin"),
        )
    assert (county_row(lenient, q2).reporting, county_row(lenient, q2).complete) == (8, False), "8 is below the minimum of 9"


def test_a_county_figure_returned_in_its_own_right(approver, django_capture_on_commit_callbacks):
    """Medians and survey estimates are published for the county as well as each district: the
    county's figure is a return of its own, never computed from the districts."""
    indicator = IndicatorFactory(aggregation="none", unit="currency_gbp", reporting_level="both")
    period = open_quarter(2012, 1)
    from partnerships.models import Organisation

    kcc = Organisation.objects.get(short_name="KCC")
    with django_capture_on_commit_callbacks(execute=True):
        approve_all(indicator, period, lambda n: IndicatorFigures(value=Decimal(400 + n)), approver, areas=districts()[:2])
        services.assignment_ensure(organisation=kcc, indicator=indicator, locality=county())
        ret = workflow.indicator_return_save_draft(indicator=indicator, locality=county(), period=period, organisation=kcc,
                                             figures=IndicatorFigures(value=Decimal(523), commentary="ASHE, published"))
        workflow.indicator_return_submit(ret=ret, expected_version=ret.version, confirm_warnings=True)
        workflow.return_approve(ret=ret, expected_version=ret.version, user=approver)
    row = county_row(indicator, period)
    assert (row.value, row.reporting, row.expected, row.complete) == (Decimal(523), 1, 1, True)
    assert IndicatorRollup.objects.filter(indicator=indicator, period=period, locality__kind="district").count() == 12


@pytest.mark.parametrize("unit", ["percentage", "rate_per_1000", "rate_per_100000", "score", "index", "ratio", "days"])
def test_only_counts_and_money_totals_may_be_summed(unit):
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    indicator = IndicatorFactory.build(unit=unit, aggregation="sum")
    with pytest.raises(ValidationError, match="Only counts and money totals"):
        indicator.clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        IndicatorFactory(unit=unit, aggregation="sum")


def test_minimum_coverage_and_own_county_figures_are_checked():
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    with pytest.raises(ValidationError, match="a sum needs every district"):
        IndicatorFactory.build(aggregation="sum", unit="count", min_coverage=6).clean()
    with pytest.raises(ValidationError, match="not also computed"):
        IndicatorFactory.build(aggregation="sum", unit="count", reporting_level="both").clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        IndicatorFactory(aggregation="sum", unit="count", min_coverage=6)
    with pytest.raises(IntegrityError), transaction.atomic():
        IndicatorFactory(aggregation="sum", unit="count", reporting_level="both")


@pytest.mark.parametrize("reporting,expected,aggregation,min_coverage,complete", [
    (12, 12, "sum", None, True), (11, 12, "sum", None, False), (0, 12, "sum", None, False),
    (11, 12, "ratio", None, False), (9, 12, "ratio", 9, True), (8, 12, "ratio", 9, False), (1, 1, "ratio", 9, True),
    (12, 12, "none", None, True), (1, 1, "sum", None, True), (0, 1, "sum", None, False), (0, 0, "sum", None, False),
])
def test_the_completeness_rule(reporting, expected, aggregation, min_coverage, complete):
    assert rules.is_complete(reporting=reporting, expected=expected, aggregation=aggregation, min_coverage=min_coverage) is complete
