"""Fixtures of the notifications tests: the returns workflow's users, indicators and period
(tests/performance/conftest.py), and returns submitted by Ashford's officer."""
from decimal import Decimal

import pytest

from performance.returns import validation, workflow
from tests.factories import council, district
from tests.performance.conftest import (  # noqa: F401  (fixtures)
    PASSWORD,
    approver,
    board_member,
    count_indicator,
    forum_admin,
    make_user,
    officer,
    other_officer,
    period,
    rate_indicator,
)


def submitted(indicator, officer_user, period_, *, value=Decimal("15"), organisation=None, locality=None):
    """A return of the indicator, saved and submitted by the officer (warnings confirmed)."""
    figures = (validation.IndicatorFigures(numerator=Decimal(41), denominator=Decimal(100), commentary="ok")
               if indicator.is_rate else validation.IndicatorFigures(value=value, commentary="ok"))
    ret = workflow.indicator_return_save_draft(
        indicator=indicator, locality=locality or district(), period=period_, organisation=organisation or council(),
        figures=figures, user=officer_user,
    )
    return workflow.indicator_return_submit(ret=ret, expected_version=ret.version, user=officer_user, confirm_warnings=True)


@pytest.fixture
def submitted_return(officer, rate_indicator, period):  # noqa: F811
    return submitted(rate_indicator, officer, period)
