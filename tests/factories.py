"""Factories for test data that the framework loader does not provide."""
from decimal import Decimal

import factory

from ambitions.models import Ambition
from localities.models import Locality
from partnerships.models import Organisation
from performance.catalogue import periods, services
from performance.models import Indicator


class IndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Indicator

    code = factory.Sequence(lambda n: f"TEST-{n:03d}")
    name = factory.Sequence(lambda n: f"Test indicator {n}")
    definition = "A test indicator."
    unit = Indicator.Unit.COUNT
    polarity = Indicator.Polarity.LOWER
    aggregation = Indicator.Aggregation.SUM
    data_owner = factory.LazyFunction(lambda: Organisation.objects.get(short_name="KCC"))


class PercentageIndicatorFactory(IndicatorFactory):
    unit = Indicator.Unit.PERCENTAGE
    polarity = Indicator.Polarity.HIGHER
    aggregation = Indicator.Aggregation.RATIO
    numerator_label = "Households recycling"
    denominator_label = "Households"
    min_value = Decimal(0)
    max_value = Decimal(100)


def open_quarter(year: int = 2011, number: int = 1):
    period, _ = services.period_ensure(span=periods.quarter(year, number))
    return services.period_open(period=period)


def district(name: str = "Ashford") -> Locality:
    return Locality.objects.get(name=name)


def council(name: str = "Ashford Borough Council") -> Organisation:
    return Organisation.objects.get(name=name)


def ambition(number: int) -> Ambition:
    return Ambition.objects.get(number=number)
