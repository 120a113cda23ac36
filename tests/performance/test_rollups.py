"""Rollups: aggregation by the indicator's own method, coverage, status, direction of travel,
idempotence, and incremental queuing after commit."""
from decimal import Decimal

import pytest

from localities.models import Locality
from performance import rollups, rules, services
from performance.models import IndicatorRollup, IndicatorTarget, MilestoneRollup
from performance.services import IndicatorFigures
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
    ret = services.indicator_return_save(indicator=indicator, locality=locality, period=period,
                                         organisation=organisation, figures=figures)
    services.indicator_return_submit(ret=ret, expected_version=ret.version, confirm_warnings=True)
    services.return_approve(ret=ret, expected_version=ret.version, user=approver)
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
    fatal, serious = BreakdownCategory.objects.get(code="fatal"), BreakdownCategory.objects.get(code="serious")
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
    indicator, period = PercentageIndicatorFactory(), open_quarter(2012, 1)
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
    rollups.rollup_slice(indicator.pk, period.pk)
    rollups.rollup_slice(indicator.pk, period.pk)
    assert snapshot() == first
    rollups.rebuild_all()
    assert [row[1:] for row in snapshot()] == [row[1:] for row in first]


def test_reopening_an_approved_return_removes_it_from_the_summary(approver, django_capture_on_commit_callbacks):
    from kentforum.roles import Role

    admin = make_user("rollup.admin", "Kent County Council", Role.FORUM_ADMIN)
    indicator, period = IndicatorFactory(), open_quarter(2012, 1)
    with django_capture_on_commit_callbacks(execute=True):
        ret = approve(indicator, districts()[0], period, IndicatorFigures(value=Decimal(8)), approver)
    assert county_row(indicator, period).value == 8
    with django_capture_on_commit_callbacks(execute=True):
        services.return_reopen(ret=ret, reason="Wrong quarter", expected_version=ret.version, user=admin)
    row = county_row(indicator, period)
    assert row.value is None and row.reporting == 0


def test_approval_queues_only_the_slices_it_touches_after_commit(approver, django_capture_on_commit_callbacks):
    indicator, other = IndicatorFactory(), IndicatorFactory()
    q1, q2 = open_quarter(2012, 1), open_quarter(2012, 2)
    q1_next_year = open_quarter(2013, 1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ret = approve(indicator, districts()[0], q1, IndicatorFigures(value=Decimal(8)), approver)
    assert not IndicatorRollup.objects.exists(), "nothing runs before the commit"
    assert rollups.slices_touched(ret) == [[indicator.pk, q1.pk], [indicator.pk, q2.pk], [indicator.pk, q1_next_year.pk]] \
        or sorted(rollups.slices_touched(ret)) == sorted([[indicator.pk, q1.pk], [indicator.pk, q2.pk], [indicator.pk, q1_next_year.pk]])
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
        ret = services.milestone_return_save(milestone=due, period=period, organisation=council(), user=officer,
                                             progress=services.MilestoneProgress(status="at_risk", percent_complete=60,
                                                                                 revised_date=datetime.date(2012, 11, 30),
                                                                                 commentary="Contractor late"))
        services.milestone_return_submit(ret=ret, expected_version=ret.version, user=officer)
        services.return_approve(ret=ret, expected_version=ret.version, user=approver)
    row = MilestoneRollup.objects.get(milestone=due, period=period)
    assert (row.status, row.overdue, row.slipped) == ("at_risk", True, True)
