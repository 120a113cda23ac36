"""Database constraints of indicators, targets and returns."""
import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ambitions.models import DeliveryPlan
from performance.models import (
    BreakdownCategory,
    IndicatorReturn,
    IndicatorTarget,
    Milestone,
    MilestoneReturn,
)
from tests.factories import (
    IndicatorFactory,
    PercentageIndicatorFactory,
    council,
    district,
    open_quarter,
)

pytestmark = pytest.mark.django_db


def make_return(indicator, period, breakdown=None, **extra):
    return IndicatorReturn.objects.create(
        indicator=indicator, locality=district(), period=period, organisation=council(), breakdown=breakdown,
        value=Decimal(1), **extra,
    )


def test_one_total_return_per_indicator_area_period():
    indicator, period = IndicatorFactory(), open_quarter()
    make_return(indicator, period)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_return(indicator, period)


def test_one_return_per_breakdown_category_but_categories_coexist():
    indicator, period = IndicatorFactory(), open_quarter()
    fatal = BreakdownCategory.objects.get(dimension__code="severity", code="fatal")
    serious = BreakdownCategory.objects.get(dimension__code="severity", code="serious")
    make_return(indicator, period)
    make_return(indicator, period, breakdown=fatal)
    make_return(indicator, period, breakdown=serious)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_return(indicator, period, breakdown=fatal)


def test_denominator_must_be_positive():
    indicator, period = PercentageIndicatorFactory(), open_quarter()
    with pytest.raises(IntegrityError), transaction.atomic():
        make_return(indicator, period, numerator=Decimal(0), denominator=Decimal(0))


def test_version_starts_at_one_and_cannot_be_zero():
    indicator, period = IndicatorFactory(), open_quarter()
    ret = make_return(indicator, period)
    assert ret.version == 1 and ret.state == "draft"
    with pytest.raises(IntegrityError), transaction.atomic():
        IndicatorReturn.objects.filter(pk=ret.pk).update(version=0)


def test_a_rate_names_numerator_and_denominator():
    indicator = PercentageIndicatorFactory.build(numerator_label="")
    with pytest.raises(ValidationError, match="numerator and denominator"):
        indicator.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        PercentageIndicatorFactory(denominator_label="")


def test_percentages_are_never_summed():
    indicator = PercentageIndicatorFactory.build(aggregation="sum", code="TEST-PCT")
    with pytest.raises(ValidationError, match="Only counts and money totals are added up"):
        indicator.full_clean()


def test_multiplier_follows_the_unit():
    assert PercentageIndicatorFactory.build().multiplier == 100
    assert IndicatorFactory.build(unit="rate_per_1000").multiplier == 1000
    assert IndicatorFactory.build(unit="count").multiplier == 1


def test_one_county_wide_target_per_period_and_one_per_locality():
    indicator, period = IndicatorFactory(), open_quarter()
    IndicatorTarget.objects.create(indicator=indicator, period=period, target=Decimal(10))
    IndicatorTarget.objects.create(indicator=indicator, period=period, locality=district(), target=Decimal(1))
    with pytest.raises(IntegrityError), transaction.atomic():
        IndicatorTarget.objects.create(indicator=indicator, period=period, target=Decimal(11))
    with pytest.raises(IntegrityError), transaction.atomic():
        IndicatorTarget.objects.create(indicator=indicator, period=period, locality=district(), target=Decimal(2))


def make_milestone():
    return Milestone.objects.create(
        title="Publish the plan", delivery_plan=DeliveryPlan.objects.first(), owner=council(),
        due_date=datetime.date(2011, 12, 31),
    )


def test_a_milestone_belongs_to_a_plan_or_a_priority_area():
    with pytest.raises(IntegrityError), transaction.atomic():
        Milestone.objects.create(title="Orphan", owner=council(), due_date=datetime.date(2011, 12, 31))


def test_milestone_percent_complete_and_complete_status():
    milestone, period = make_milestone(), open_quarter()
    with pytest.raises(IntegrityError), transaction.atomic():
        MilestoneReturn.objects.create(milestone=milestone, period=period, organisation=council(), percent_complete=101)
    with pytest.raises(IntegrityError), transaction.atomic():
        MilestoneReturn.objects.create(
            milestone=milestone, period=period, organisation=council(), status="complete", percent_complete=90
        )
    ret = MilestoneReturn(milestone=milestone, period=period, organisation=council(), status="complete", percent_complete=90)
    with pytest.raises(ValidationError, match="complete_milestone_is_100_percent"):
        ret.full_clean()  # the constraint; the services' words are validation.milestone_draft_errors
