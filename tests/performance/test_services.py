"""The return workflow services: validation, workflow states, periods and optimistic locking."""
import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from ambitions.models import DeliveryPlan
from performance.catalogue import services
from performance.models import IndicatorReturn, Milestone, ReportingPeriod
from performance.returns import workflow
from performance.returns.validation import IndicatorFigures, MilestoneProgress
from performance.returns.workflow import StaleReturnError
from tests.factories import (
    IndicatorFactory,
    PercentageIndicatorFactory,
    council,
    district,
    open_quarter,
)

pytestmark = pytest.mark.django_db


def save(indicator, period, figures, **kwargs):
    return workflow.indicator_return_save_draft(
        indicator=indicator, locality=district(), period=period, organisation=council(), figures=figures, **kwargs
    )


def test_a_rate_is_computed_from_numerator_and_denominator():
    ret = save(PercentageIndicatorFactory(), open_quarter(), IndicatorFigures(numerator=Decimal(412), denominator=Decimal(1000)))
    assert ret.value == Decimal("41.2000")


def test_numerator_above_denominator_is_refused_on_submit_with_the_input_kept():
    ret = save(PercentageIndicatorFactory(), open_quarter(), IndicatorFigures(numerator=Decimal(12), denominator=Decimal(10)))
    with pytest.raises(ValidationError) as error:
        workflow.indicator_return_submit(ret=ret, expected_version=ret.version)
    assert "numerator cannot be more than the denominator" in str(error.value)
    stored = IndicatorReturn.objects.get(pk=ret.pk)
    assert (stored.state, stored.numerator, stored.denominator) == ("draft", Decimal(12), Decimal(10))


@pytest.mark.parametrize("value,message", [(None, "Enter a value"), (Decimal(-1), "at least 0")])
def test_value_checks(value, message):
    indicator = IndicatorFactory(min_value=Decimal(0))
    ret = save(indicator, open_quarter(), IndicatorFigures(value=value))
    with pytest.raises(ValidationError, match=message):
        workflow.indicator_return_submit(ret=ret, expected_version=ret.version)


def test_workflow_draft_submit_return_resubmit_approve():
    indicator, period = IndicatorFactory(), open_quarter()
    ret = save(indicator, period, IndicatorFigures(value=Decimal(10)))
    workflow.indicator_return_submit(ret=ret, expected_version=1)
    workflow.return_send_back(ret=ret, reason="Check the figure", expected_version=2)
    assert (ret.state, ret.return_reason) == ("returned", "Check the figure")
    ret = save(indicator, period, IndicatorFigures(value=Decimal(11)), expected_version=3)
    workflow.indicator_return_submit(ret=ret, expected_version=4)
    workflow.return_approve(ret=ret, expected_version=5)
    stored = IndicatorReturn.objects.get(pk=ret.pk)
    assert (stored.state, stored.value, stored.version, stored.return_reason) == ("approved", Decimal(11), 6, "")


def test_sending_back_needs_a_reason():
    ret = save(IndicatorFactory(), open_quarter(), IndicatorFigures(value=Decimal(10)))
    workflow.indicator_return_submit(ret=ret, expected_version=1)
    with pytest.raises(ValidationError, match="Say why"):
        workflow.return_send_back(ret=ret, reason="  ", expected_version=2)


def test_approved_returns_cannot_be_edited():
    indicator, period = IndicatorFactory(), open_quarter()
    ret = save(indicator, period, IndicatorFigures(value=Decimal(10)))
    workflow.indicator_return_submit(ret=ret, expected_version=1)
    workflow.return_approve(ret=ret, expected_version=2)
    with pytest.raises(ValidationError, match="approved"):
        save(indicator, period, IndicatorFigures(value=Decimal(12)), expected_version=3)


def test_a_stale_save_is_refused_and_changes_nothing():
    indicator, period = IndicatorFactory(), open_quarter()
    save(indicator, period, IndicatorFigures(value=Decimal(10)))
    first = save(indicator, period, IndicatorFigures(value=Decimal(11)), expected_version=1)
    assert first.version == 2
    with pytest.raises(StaleReturnError) as error:
        save(indicator, period, IndicatorFigures(value=Decimal(99)), expected_version=1)
    assert error.value.current.value == Decimal(11)
    assert IndicatorReturn.objects.get(pk=first.pk).value == Decimal(11)


def test_a_stale_transition_is_refused():
    ret = save(IndicatorFactory(), open_quarter(), IndicatorFigures(value=Decimal(10)))
    workflow.indicator_return_submit(ret=ret, expected_version=1)
    copy = IndicatorReturn.objects.get(pk=ret.pk)
    workflow.return_approve(ret=ret, expected_version=2)
    with pytest.raises(StaleReturnError):
        workflow.return_send_back(ret=copy, reason="Too late", expected_version=2)


def test_returns_for_a_closed_period_are_refused():
    period = open_quarter()
    services.period_lock(period=period)
    with pytest.raises(ValidationError, match="locked"):
        save(IndicatorFactory(), period, IndicatorFigures(value=Decimal(10)))


def test_periods_lock_after_deadline_and_grace():
    period = open_quarter(2011, 1)
    period.deadline = datetime.date(2011, 7, 31)
    period.grace_days = 5
    period.save()
    assert services.period_lock_overdue(today=datetime.date(2011, 8, 5)) == 0
    assert services.period_lock_overdue(today=datetime.date(2011, 8, 6)) == 1
    assert ReportingPeriod.objects.get(pk=period.pk).status == "locked"
    assert services.period_lock_overdue(today=datetime.date(2011, 8, 6)) == 0


def test_period_deadline_cannot_precede_its_end():
    period = open_quarter()
    with pytest.raises(ValidationError, match="deadline"):
        services.period_open(period=period, deadline=datetime.date(2011, 5, 1))


def test_milestone_progress_with_locking():
    milestone = Milestone.objects.create(
        title="Publish the plan", delivery_plan=DeliveryPlan.objects.first(), owner=council(),
        due_date=datetime.date(2011, 12, 31),
    )
    period = open_quarter()
    ret = workflow.milestone_return_save_draft(
        milestone=milestone, period=period, organisation=council(),
        progress=MilestoneProgress(status="on_track", percent_complete=40),
    )
    with pytest.raises(StaleReturnError):
        workflow.milestone_return_save_draft(
            milestone=milestone, period=period, organisation=council(),
            progress=MilestoneProgress(status="at_risk", percent_complete=40), expected_version=ret.version + 1,
        )
    with pytest.raises(ValidationError, match="100% complete"):
        workflow.milestone_return_save_draft(
            milestone=milestone, period=period, organisation=council(),
            progress=MilestoneProgress(status="complete", percent_complete=80), expected_version=ret.version,
        )
    workflow.milestone_return_submit(ret=ret, expected_version=1)
    assert ret.state == "submitted"
