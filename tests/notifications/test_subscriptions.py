"""Followed indicators: their followers are told when the latest complete Kent figure turns red
or worsens, once per period, and never of an incomplete figure."""
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from localities.models import Locality
from notifications import services, tasks
from notifications.models import IndicatorSubscription, Kind, Notification
from performance.catalogue import periods
from performance.catalogue import services as catalogue_services
from performance.models import IndicatorRollup
from tests.factories import IndicatorFactory

pytestmark = pytest.mark.django_db


def quarter(year, number):
    return catalogue_services.period_ensure(span=periods.quarter(year, number))[0]


def kent_figure(indicator, period, *, status, direction="no_change", complete=True, value=Decimal(10)):
    """Kent's summary row for the indicator and period, as the rollup writes it."""
    return IndicatorRollup.objects.create(
        indicator=indicator, locality=Locality.objects.get(kind=Locality.Kind.COUNTY), period=period, value=value,
        reporting=13 if complete else 3, expected=13, complete=complete, status=status if complete else "incomplete",
        direction_year=direction if complete else "not_comparable", target=Decimal(12), computed_at=timezone.now(),
    )


def test_alert_reasons():
    args = {"last_period_start": 2, "last_status": "green", "last_direction": "improving"}
    assert services.alert_reasons(**args, period_start=3, status="red", direction="worsening") == ["red", "worsening"]
    assert services.alert_reasons(**args, period_start=2, status="amber", direction="no_change") == []
    assert services.alert_reasons(**args, period_start=1, status="red", direction="worsening") == []  # older
    stays_red = {"last_period_start": 2, "last_status": "red", "last_direction": "worsening"}
    assert services.alert_reasons(**stays_red, period_start=2, status="red", direction="worsening") == []
    assert services.alert_reasons(**stays_red, period_start=3, status="red", direction="no_change") == []
    assert services.alert_reasons(**stays_red, period_start=3, status="red", direction="worsening") == ["worsening"]


def test_followers_are_told_of_red_or_worsening_complete_figures_once(officer, approver, django_capture_on_commit_callbacks):
    indicator = IndicatorFactory(code="T-FOLLOW", name="Followed measure")
    q1, q2, q3, q4 = quarter(2011, 1), quarter(2011, 2), quarter(2011, 3), quarter(2011, 4)
    kent_figure(indicator, q1, status="amber")
    # Following starts from the figure as it is: no news yet
    services.subscription_follow(user=officer, indicator=indicator, follow=True)
    subscription = IndicatorSubscription.objects.get(user=officer)
    assert (subscription.last_period, subscription.last_status) == (q1, "amber")
    assert services.subscriptions_check() == 0
    # A newer complete figure, green and improving: no news
    kent_figure(indicator, q2, status="green", direction="improving")
    assert services.subscriptions_check() == 0
    # Then a red and worsening one: told once, by e-mail too
    kent_figure(indicator, q3, status="red", direction="worsening")
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.subscriptions_check_task.delay().get() == 1
    note = Notification.objects.get(user=officer)
    assert note.kind == Kind.INDICATOR_ALERT
    assert note.title == "Followed measure turned red and worsened (2011/12 Q3)"
    assert "in 2011/12 Q3 is 10" in note.body and ": Off target, worsening on a year before." in note.body
    assert note.link == "/dashboards/indicators/T-FOLLOW/"
    assert len(mail.outbox) == 1
    assert services.subscriptions_check() == 0  # run again: nobody told twice
    # A newer figure that is incomplete, red and worse: never judged, never told
    kent_figure(indicator, q4, status="red", direction="worsening", complete=False)
    assert services.subscriptions_check() == 0
    assert Notification.objects.count() == 1
    # Someone who stops following is told nothing more
    services.subscription_follow(user=officer, indicator=indicator, follow=False)
    assert not IndicatorSubscription.objects.exists()


def test_a_first_complete_figure_that_is_red_is_news_and_an_incomplete_one_is_not(officer):
    indicator = IndicatorFactory(code="T-NEW", name="New measure")
    services.subscription_follow(user=officer, indicator=indicator, follow=True)  # no figure yet
    kent_figure(indicator, quarter(2011, 1), status="red", complete=False)
    assert services.subscriptions_check() == 0
    kent_figure(indicator, quarter(2011, 2), status="red")
    assert services.subscriptions_check() == 1
    assert Notification.objects.get().title == "New measure turned red (2011/12 Q2)"
