"""Milestone returns in the browser."""
import datetime

import pytest
from django.urls import reverse

from ambitions.models import DeliveryPlan
from performance.models import Milestone, MilestoneReturn
from tests.factories import council

pytestmark = pytest.mark.django_db


@pytest.fixture
def milestone(db):
    return Milestone.objects.create(
        title="Ashford Spurs junction improvement opens", delivery_plan=DeliveryPlan.objects.get(name="Local Transport Plan"),
        owner=council(), due_date=datetime.date(2012, 9, 30),
    )


def url(period, milestone):
    return reverse("performance:milestone-return", args=[period.pk, milestone.pk])


def test_milestone_listed_entered_and_submitted(client, officer, period, milestone):
    client.force_login(officer)
    assert "Ashford Spurs junction improvement opens" in client.get(reverse("performance:my-returns")).content.decode()
    response = client.post(url(period, milestone), {"action": "submit", "status": "at_risk", "percent_complete": "40",
                                                   "revised_day": "31", "revised_month": "12", "revised_year": "2012",
                                                   "commentary": ""})
    html = response.content.decode()
    assert response.status_code == 400 and 'href="#id_commentary"' in html and "at risk or off track" in html
    version = MilestoneReturn.objects.get().version
    response = client.post(url(period, milestone), {"action": "submit", "status": "at_risk", "percent_complete": "40",
                                                   "revised_day": "31", "revised_month": "12", "revised_year": "2012",
                                                   "commentary": "Utility diversions late.", "version": version})
    assert response.status_code == 302
    ret = MilestoneReturn.objects.get()
    assert (ret.state, ret.revised_date) == ("submitted", datetime.date(2012, 12, 31))


@pytest.mark.parametrize(
    "data,message",
    [
        ({"status": "complete", "percent_complete": "80"}, "A complete milestone is 100% complete."),
        ({"status": "on_track", "percent_complete": "140"}, "Percent complete is between 0 and 100."),
        ({"status": "on_track", "percent_complete": "40", "revised_day": "31", "revised_month": "2", "revised_year": "2013"},
         "The revised date must be a real date."),
        ({"percent_complete": "40"}, "Select the milestone&#x27;s status."),
    ],
)
def test_milestone_validation_messages(client, officer, period, milestone, data, message):
    client.force_login(officer)
    response = client.post(url(period, milestone), {"action": "save", "commentary": "", **data})
    assert response.status_code == 400 and message in response.content.decode()
    assert "There is a problem" in response.content.decode()


def test_another_organisation_cannot_see_the_milestone_return(client, other_officer, period, milestone):
    client.force_login(other_officer)
    assert client.get(url(period, milestone)).status_code == 403
