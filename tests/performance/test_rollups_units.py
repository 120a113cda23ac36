"""Direct unit tests of the rollups wing's public functions: the periods around a period and
the county aggregate (reference.py), what a change touches and when it is queued (queue.py,
changes.py), the engine's idempotent slice and its statistics refresh, and the milestone task."""
import datetime
import os
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from ambitions.models import DeliveryPlan
from localities.models import Locality
from performance.catalogue import periods, services
from performance.models import (
    Indicator,
    IndicatorReturn,
    IndicatorRollup,
    IndicatorTarget,
    Milestone,
    MilestoneReturn,
    MilestoneRollup,
    ReportingPeriod,
    WorkflowState,
)
from performance.rollups import changes, engine, queue, reference, tasks
from tests.conftest import requires_postgres
from tests.factories import IndicatorFactory, PercentageIndicatorFactory, council, district, open_quarter

pytestmark = pytest.mark.django_db

D = Decimal
ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")


def quarter(year: int, number: int) -> ReportingPeriod:
    return services.period_ensure(span=periods.quarter(year, number))[0]


def financial_year(year: int) -> ReportingPeriod:
    return services.period_ensure(span=periods.financial_year(year))[0]


def calendar_year(year: int) -> ReportingPeriod:
    return services.period_ensure(span=periods.calendar_year(year))[0]


def districts() -> list[Locality]:
    return list(Locality.objects.filter(kind=Locality.Kind.DISTRICT).order_by("name"))


def approved(indicator, locality, period, value, **fields) -> IndicatorReturn:
    from partnerships.models import Organisation

    return IndicatorReturn.objects.create(
        indicator=indicator, locality=locality, period=period, organisation=Organisation.objects.get(locality=locality),
        value=value, state=WorkflowState.APPROVED, **fields,
    )


# --- reference.py: the periods around a period ------------------------------------------------------

def test_previous_period_is_the_one_of_the_same_kind_ending_the_day_before():
    q1, q2, q4 = quarter(2011, 1), quarter(2011, 2), quarter(2011, 4)
    next_q1 = quarter(2012, 1)
    y2011, y2012 = financial_year(2011), financial_year(2012)
    assert reference.previous_period(q2) == q1
    assert reference.previous_period(next_q1) == q4
    assert reference.previous_period(q1) is None  # no 2010/11 Q4
    assert reference.previous_period(q4) is None  # 2011/12 Q3 was never made
    assert reference.previous_period(y2012) == y2011  # not the quarter that ends the day before too


def test_year_ago_period_is_the_same_period_a_year_before():
    q1, q2, next_q1 = quarter(2011, 1), quarter(2011, 2), quarter(2012, 1)
    assert reference.year_ago_period(next_q1) == q1
    assert reference.year_ago_period(q2) is None
    y2011, y2012 = financial_year(2011), financial_year(2012)
    c2010, c2011, c2012 = calendar_year(2010), calendar_year(2011), calendar_year(2012)
    assert reference.year_ago_period(y2012) == y2011
    assert reference.year_ago_period(y2011) is None
    assert reference.year_ago_period(c2012) == c2011
    assert reference.year_ago_period(c2011) == c2010
    assert reference.year_ago_period(c2010) is None


def test_dependent_periods_are_the_next_one_and_the_one_a_year_later():
    q1, q2, q4, next_q1 = quarter(2011, 1), quarter(2011, 2), quarter(2011, 4), quarter(2012, 1)
    y2011, y2012 = financial_year(2011), financial_year(2012)
    assert set(reference.dependent_periods(q1)) == {q2, next_q1}
    assert reference.dependent_periods(q4) == [next_q1]  # 2012/13 Q4 does not exist
    assert reference.dependent_periods(y2011) == [y2012]  # the next year is also the year later
    assert reference.dependent_periods(y2012) == []


# --- reference.py: the KCC area's aggregate ------------------------------------------------------------

def part(locality, value=None, numerator=None, denominator=None, quality="final", sample_base=None) -> dict:
    return {"locality_id": locality.pk, "value": value, "numerator": numerator, "denominator": denominator,
            "quality": quality, "sample_base": sample_base}


def others(*names) -> tuple:
    return tuple(sorted(d.name for d in districts() if d.name not in names))


def test_aggregate_of_a_sum_adds_the_districts_reporting_and_names_the_missing():
    # Given Ashford's 5 (provisional) and Dover's 7 of twelve districts, and a county figure that is not a district's
    county = Locality.objects.get(kind=Locality.Kind.COUNTY)
    parts = [part(district(), D(5), quality="provisional"), part(district("Dover"), D(7)), part(county, D(100))]
    figure = reference.aggregate(Indicator(unit="count", aggregation="sum"), parts, districts())
    assert (figure.value, figure.reporting, figure.expected, figure.flags) == (D(12), 2, 12, ("provisional",))
    assert figure.missing == others("Ashford", "Dover") and len(figure.missing) == 10
    assert (figure.numerator, figure.denominator, figure.sample_base) == (None, None, None)


def test_aggregate_of_a_ratio_divides_summed_numerators_by_summed_denominators():
    # 30/100 and 50/300: 80/400 is 20%, not the mean of 30% and 16.7%
    indicator = Indicator(unit="percentage", aggregation="ratio")
    parts = [part(district(), D(30), D(30), D(100), sample_base=500),
             part(district("Dover"), D("16.6667"), D(50), D(300), sample_base=700)]
    figure = reference.aggregate(indicator, parts, districts())
    assert (figure.value, figure.numerator, figure.denominator) == (D("20.0000"), D(80), D(400))
    assert (figure.reporting, figure.expected, figure.missing, figure.sample_base) == (
        2, 12, others("Ashford", "Dover"), 1200
    )


def test_aggregate_of_a_rate_per_thousand_uses_its_multiplier_and_skips_parts_without_a_denominator():
    indicator = Indicator(unit="rate_per_1000", aggregation="ratio")
    parts = [part(district(), numerator=D(3), denominator=D(1000)), part(district("Dover"), numerator=D(9), denominator=D(2000)),
             part(district("Thanet"), numerator=D(5))]
    figure = reference.aggregate(indicator, parts, districts())
    assert (figure.value, figure.numerator, figure.denominator, figure.reporting) == (D("4.0000"), D(12), D(3000), 3)


def test_aggregate_of_an_indicator_that_is_not_aggregable_has_no_value():
    # (the third aggregation: medians, indices, scores; there is no "mean" aggregation)
    parts = [part(district(), D(30)), part(district("Dover"), D(50))]
    figure = reference.aggregate(Indicator(unit="score", aggregation="none"), parts, districts())
    assert (figure.value, figure.reporting, figure.expected, figure.missing) == (None, 2, 12, others("Ashford", "Dover"))


def test_aggregate_of_nothing_reported():
    figure = reference.aggregate(Indicator(unit="count", aggregation="sum"), [], districts())
    assert (figure.value, figure.reporting, figure.expected, figure.missing) == (None, 0, 12, others())


# --- queue.py ------------------------------------------------------------------------------------

class Recorder:
    """Stands in for a Celery task: records each ``delay``."""

    def __init__(self):
        self.calls = []

    def delay(self, *args):
        self.calls.append(args)


@pytest.fixture
def queued(monkeypatch):
    """The rollup tasks the queue sends, recorded instead of run."""
    recorded = SimpleNamespace(slices=Recorder(), milestones=Recorder())
    monkeypatch.setattr(queue, "rollup_slices_task", recorded.slices)
    monkeypatch.setattr(queue, "rollup_milestones_task", recorded.milestones)
    return recorded


@pytest.fixture
def calendar_of_quarters():
    """2011/12 Q1 to Q3, 2012/13 Q1 and the financial year 2011/12."""
    return SimpleNamespace(q1=quarter(2011, 1), q2=quarter(2011, 2), q3=quarter(2011, 3), next_q1=quarter(2012, 1),
                           year=financial_year(2011))


def a_return(indicator, period) -> IndicatorReturn:
    return IndicatorReturn.objects.create(indicator=indicator, locality=district(), period=period, organisation=council(),
                                          value=D(5), state=WorkflowState.APPROVED)


def a_milestone_return(period) -> MilestoneReturn:
    plan = Milestone.objects.create(title="Publish the plan", delivery_plan=DeliveryPlan.objects.first(),
                                    owner=council(), due_date=datetime.date(2012, 12, 31))
    return MilestoneReturn.objects.create(milestone=plan, period=period, organisation=council(), status="on_track",
                                          percent_complete=40, state=WorkflowState.APPROVED)


def test_slices_touched_are_the_returns_own_and_the_periods_comparing_with_it(calendar_of_quarters):
    c = calendar_of_quarters
    indicator = IndicatorFactory()
    touched = queue.slices_touched(a_return(indicator, c.q1))
    assert touched[0] == [indicator.pk, c.q1.pk]
    assert sorted(touched) == sorted([[indicator.pk, c.q1.pk], [indicator.pk, c.q2.pk], [indicator.pk, c.next_q1.pk]])
    assert queue.slices_touched(a_return(indicator, c.q3)) == [[indicator.pk, c.q3.pk]]


def test_slices_touched_nothing_outside_the_indicators_kinds_or_for_a_milestone(calendar_of_quarters):
    c = calendar_of_quarters
    assert queue.slices_touched(a_return(IndicatorFactory(), c.year)) == []  # a quarterly indicator's year
    assert queue.slices_touched(a_milestone_return(c.q1)) == []


def test_queue_for_return_queues_its_slices_after_the_commit(calendar_of_quarters, queued,
                                                             django_capture_on_commit_callbacks):
    c = calendar_of_quarters
    ret = a_return(IndicatorFactory(), c.q3)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queue.queue_for_return(ret)
    assert len(callbacks) == 1 and queued.slices.calls == [], "nothing runs before the commit"
    callbacks[0]()
    assert queued.slices.calls == [([[ret.indicator_id, c.q3.pk]],)]
    assert queued.milestones.calls == []


def test_queue_for_return_of_a_milestone_queues_its_period_and_those_comparing_with_it(
    calendar_of_quarters, queued, django_capture_on_commit_callbacks
):
    c = calendar_of_quarters
    with django_capture_on_commit_callbacks(execute=True):
        queue.queue_for_return(a_milestone_return(c.q1))
    assert sorted(queued.milestones.calls) == sorted([(c.q1.pk,), (c.q2.pk,), (c.next_q1.pk,)])
    assert queued.slices.calls == []


def test_queue_slices_after_the_commit_and_nothing_for_no_slices(queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        queue.queue_slices([])
    assert callbacks == [] and queued.slices.calls == []
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        queue.queue_slices([[1, 2], [3, 4]])
    assert len(callbacks) == 1
    assert queued.slices.calls == [([[1, 2], [3, 4]],)]


def test_deferred_collects_the_blocks_rollups_and_queues_each_once_at_its_end(calendar_of_quarters, queued,
                                                                             django_capture_on_commit_callbacks):
    c = calendar_of_quarters
    indicator = IndicatorFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        waiting = len(connection.run_on_commit)
        with queue.deferred() as pending:
            queue.queue_slices([[indicator.pk, c.q2.pk], [indicator.pk, c.q1.pk]])
            queue.queue_slices([[indicator.pk, c.q1.pk]])
            queue.queue_for_return(a_milestone_return(c.q3))
            # Inside the block nothing is queued, only collected
            assert len(connection.run_on_commit) == waiting
            assert pending == {("slice", indicator.pk, c.q1.pk), ("slice", indicator.pk, c.q2.pk),
                               ("milestones", c.q3.pk)}
    # At its end: one task for every slice, sorted and each once; one per milestone period
    assert len(callbacks) == 2
    assert queued.slices.calls == [([[indicator.pk, c.q1.pk], [indicator.pk, c.q2.pk]],)]
    assert queued.milestones.calls == [(c.q3.pk,)]


# --- changes.py ------------------------------------------------------------------------------------

def test_target_save_of_a_new_target_queues_its_slice(calendar_of_quarters, queued, django_capture_on_commit_callbacks):
    c = calendar_of_quarters
    indicator = PercentageIndicatorFactory()
    with django_capture_on_commit_callbacks(execute=True):
        target = changes.target_save(target=IndicatorTarget(indicator=indicator, period=c.q1, target=D(40)))
    assert IndicatorTarget.objects.get(pk=target.pk).target == D(40)
    assert queued.slices.calls == [([[indicator.pk, c.q1.pk]],)]


def test_target_save_of_a_target_moved_to_another_period_queues_both(calendar_of_quarters, queued,
                                                                     django_capture_on_commit_callbacks):
    c = calendar_of_quarters
    indicator = PercentageIndicatorFactory()
    target = IndicatorTarget.objects.create(indicator=indicator, period=c.q1, target=D(40))
    target.period = c.q2
    with django_capture_on_commit_callbacks(execute=True):
        changes.target_save(target=target)
    assert queued.slices.calls == [([[indicator.pk, c.q2.pk]],), ([[indicator.pk, c.q1.pk]],)]


def test_target_save_in_a_period_the_indicator_is_not_returned_in_queues_nothing(
    calendar_of_quarters, queued, django_capture_on_commit_callbacks
):
    c = calendar_of_quarters
    indicator = PercentageIndicatorFactory()  # quarterly
    with django_capture_on_commit_callbacks(execute=True):
        changes.target_save(target=IndicatorTarget(indicator=indicator, period=c.year, target=D(40)))
    assert IndicatorTarget.objects.filter(indicator=indicator, period=c.year).exists()
    assert queued.slices.calls == []


def test_target_save_refuses_an_invalid_target_and_queues_nothing(calendar_of_quarters, queued,
                                                                  django_capture_on_commit_callbacks):
    c = calendar_of_quarters
    indicator = PercentageIndicatorFactory()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError, match="tolerance_percent"):
        changes.target_save(target=IndicatorTarget(indicator=indicator, period=c.q1, target=D(40),
                                                   tolerance_percent=D(150)))
    assert queued.slices.calls == [] and not IndicatorTarget.objects.filter(indicator=indicator).exists()


def test_target_delete_deletes_and_queues_its_slice(calendar_of_quarters, queued, django_capture_on_commit_callbacks):
    c = calendar_of_quarters
    indicator = PercentageIndicatorFactory()
    target = IndicatorTarget.objects.create(indicator=indicator, period=c.q2, target=D(40))
    with django_capture_on_commit_callbacks(execute=True):
        changes.target_delete(target=target)
    assert not IndicatorTarget.objects.filter(indicator=indicator).exists()
    assert queued.slices.calls == [([[indicator.pk, c.q2.pk]],)]


def judgement_fields(indicator) -> dict:
    return {name: getattr(indicator, name) for name in changes.JUDGEMENT_FIELDS}


def test_indicator_definition_changed_queues_every_slice_of_its_kinds(calendar_of_quarters, queued,
                                                                      django_capture_on_commit_callbacks):
    c = calendar_of_quarters
    indicator = PercentageIndicatorFactory()
    before = judgement_fields(indicator)
    indicator.polarity = Indicator.Polarity.LOWER
    with django_capture_on_commit_callbacks(execute=True):
        assert changes.indicator_definition_changed(indicator=indicator, before=before) is True
    [(slices,)] = queued.slices.calls
    assert sorted(slices) == sorted([indicator.pk, p.pk] for p in (c.q1, c.q2, c.q3, c.next_q1))  # not the year


def test_indicator_definition_changed_queues_nothing_for_a_new_or_unjudged_change(calendar_of_quarters, queued,
                                                                                   django_capture_on_commit_callbacks):
    indicator = PercentageIndicatorFactory()
    before = judgement_fields(indicator)
    indicator.name = "Renamed"  # not a field that decides how figures are judged
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert changes.indicator_definition_changed(indicator=indicator, before=before) is False
        assert changes.indicator_definition_changed(indicator=indicator, before=None) is False
    assert callbacks == [] and queued.slices.calls == []


# --- engine.py ----------------------------------------------------------------------------------

def snapshot(indicator, period) -> list[tuple]:
    return list(
        IndicatorRollup.objects.filter(indicator=indicator, period=period).order_by("locality__name", "breakdown_key")
        .values_list("pk", "locality__name", "breakdown_key", "value", "reporting", "expected", "missing", "complete",
                     "status")
    )


def test_rollup_slice_is_idempotent_and_removes_rows_without_a_source():
    # Given a count with Ashford's 5 and Dover's 7 approved
    indicator, period = IndicatorFactory(), open_quarter(2011, 1)
    approved(indicator, district(), period, D(5))
    approved(indicator, district("Dover"), period, D(7))
    # When its slice is rolled up: a row per district and the county's
    assert engine.rollup_slice(indicator.pk, period.pk) == 13
    first = snapshot(indicator, period)
    county = IndicatorRollup.objects.get(indicator=indicator, period=period, locality__kind=Locality.Kind.COUNTY)
    assert (county.value, county.reporting, county.expected, county.complete, county.status) == (
        D(12), 2, 12, False, "incomplete"
    )
    assert county.missing == list(others("Ashford", "Dover"))
    # and a row with no source appears (say, left by a deleted breakdown)
    IndicatorRollup.objects.create(indicator=indicator, locality=district(), period=period,
                                   breakdown_key="severity:fatal", computed_at=timezone.now())
    # When it is rolled up again: the same rows, the stray one gone
    assert engine.rollup_slice(indicator.pk, period.pk) == 13
    assert snapshot(indicator, period) == first
    assert IndicatorRollup.objects.filter(indicator=indicator, period=period).count() == 13


@pytest.mark.skipif(ON_POSTGRES, reason="the SQLite run: PostgreSQL's is below")
def test_analyse_summary_tables_does_nothing_on_sqlite(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert engine.analyse_summary_tables() is None


def last_analyze(cursor, table: str):
    cursor.execute("SELECT pg_stat_clear_snapshot()")  # statistics are cached per transaction otherwise
    cursor.execute("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = %s", [table])
    return cursor.fetchone()[0]


@requires_postgres
def test_analyse_summary_tables_refreshes_postgresqls_statistics():
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        started = cursor.fetchone()[0]
        engine.analyse_summary_tables()
        for table in ("performance_indicatorrollup", "performance_milestonerollup"):
            analysed = last_analyze(cursor, table)
            assert analysed is not None and analysed >= started, table


# --- tasks.py -----------------------------------------------------------------------------------

def test_rollup_milestones_task_run_eagerly_returns_the_number_of_rows():
    # Given two milestones, one with an approved return in the quarter
    period = open_quarter(2011, 1)
    plan = DeliveryPlan.objects.first()
    reported = Milestone.objects.create(title="Reported", delivery_plan=plan, owner=council(),
                                        due_date=datetime.date(2012, 12, 31))
    overdue = Milestone.objects.create(title="Overdue", delivery_plan=plan, owner=council(),
                                       due_date=datetime.date(2011, 5, 1))
    MilestoneReturn.objects.create(milestone=reported, period=period, organisation=council(), status="on_track",
                                   percent_complete=40, state=WorkflowState.APPROVED)
    # When the task runs (eagerly, as in the tests' settings)
    result = tasks.rollup_milestones_task.delay(period.pk)
    # Then it returns how many rows it wrote: one per milestone
    assert result.get() == 2 == Milestone.objects.count()
    rows = {r.milestone: r for r in MilestoneRollup.objects.filter(period=period)}
    assert (rows[reported].status, rows[reported].percent_complete, rows[reported].reported_period,
            rows[reported].overdue) == ("on_track", 40, period, False)
    assert (rows[overdue].status, rows[overdue].reported_period, rows[overdue].overdue) == ("not_started", None, True)
    # and again, the same count and rows
    assert tasks.rollup_milestones_task.delay(period.pk).get() == 2
    assert MilestoneRollup.objects.filter(period=period).count() == 2
