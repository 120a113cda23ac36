"""Fixtures for the returns workflow: one user per role, an assigned count indicator and an
assigned percentage indicator with targets, and an open quarter."""
import datetime
from decimal import Decimal

import pytest

from kentforum.roles import Role
from partnerships.services import person_user_ensure
from performance.catalogue import services
from performance.models import BreakdownDimension, IndicatorTarget
from tests.factories import IndicatorFactory, PercentageIndicatorFactory, council, district, open_quarter

PASSWORD = "correct-horse-battery-staple"


def make_user(username, organisation_name, role):
    from partnerships.models import Organisation

    user, _ = person_user_ensure(
        username=username, name=f"{username.title()} Tester", organisation=Organisation.objects.get(name=organisation_name),
        roles=[role], password=PASSWORD, email=f"{username}@example.org",
    )
    return user


@pytest.fixture
def officer(db):
    return make_user("ashford", "Ashford Borough Council", Role.OFFICER)


@pytest.fixture
def other_officer(db):
    return make_user("dover", "Dover District Council", Role.OFFICER)


@pytest.fixture
def approver(db):
    return make_user("approver", "Kent County Council", Role.APPROVER)


@pytest.fixture
def board_member(db):
    return make_user("member", "Canterbury City Council", Role.BOARD_MEMBER)


@pytest.fixture
def forum_admin(db):
    return make_user("forumadmin", "Kent County Council", Role.FORUM_ADMIN)


@pytest.fixture
def period(db):
    quarter = open_quarter(2012, 1)
    quarter.deadline = datetime.date(2012, 7, 31)
    quarter.save()
    return quarter


@pytest.fixture
def count_indicator(db, period):
    """Killed or seriously injured casualties: a count, lower is better, broken down by severity."""
    indicator = IndicatorFactory(code="T-KSI", name="People killed or seriously injured", min_value=Decimal(0))
    indicator.breakdown_dimensions.add(BreakdownDimension.objects.get(code="severity"))
    services.assignment_ensure(organisation=council(), indicator=indicator, locality=district())
    services.assignment_ensure(
        organisation=council("Dover District Council"), indicator=indicator, locality=district("Dover")
    )
    IndicatorTarget.objects.create(
        indicator=indicator, period=period, locality=district(), target=Decimal(20), tolerance_percent=Decimal(10)
    )
    return indicator


@pytest.fixture
def rate_indicator(db, period):
    """Household waste recycled: a percentage, higher is better, target 40%."""
    indicator = PercentageIndicatorFactory(code="T-RECYC", name="Household waste recycled")
    services.assignment_ensure(organisation=council(), indicator=indicator, locality=district())
    IndicatorTarget.objects.create(indicator=indicator, period=period, target=Decimal(40), tolerance_percent=Decimal(5))
    return indicator
