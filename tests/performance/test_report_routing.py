"""A board report's route (terms of reference para 10: to Joint Kent Chiefs first, then the
Forum): the dates are recorded by the Forum team in the admin, in that order or not at all (the
model's check and a database constraint), the rest of a published report stays fixed, and the
report's page shows where it has been."""
import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from kentforum.roles import Role
from performance.dashboards import reports
from performance.models import BoardReport
from tests.performance.conftest import make_user
from tests.performance.test_dashboards import seed

pytestmark = pytest.mark.django_db

JKC, FORUM = datetime.date(2013, 9, 10), datetime.date(2013, 9, 24)


@pytest.fixture
def report(db):
    approver = make_user("route.approver", "Kent County Council", Role.APPROVER)
    seed(approver, 2, 12)
    forum = make_user("route.forum", "Kent County Council", Role.FORUM_ADMIN)
    content = reports.board_report_content(2)
    return reports.board_report_publish(user=forum, number=2, fingerprint=reports.board_report_fingerprint(content))


def test_the_forum_comes_after_joint_kent_chiefs_or_not_at_all(report):
    report.to_forum_on = FORUM
    with pytest.raises(ValidationError, match="Joint Kent Chiefs first"):
        report.full_clean()
    report.to_joint_kent_chiefs_on = FORUM + datetime.timedelta(days=1)
    with pytest.raises(ValidationError, match="after Joint Kent Chiefs"):
        report.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        BoardReport.objects.filter(pk=report.pk).update(to_joint_kent_chiefs_on=FORUM, to_forum_on=JKC)
    report.to_joint_kent_chiefs_on = JKC
    report.full_clean()


def test_the_forum_team_records_the_route_in_the_admin_and_nothing_else_changes(client, report):
    client.force_login(make_user("route.forum2", "Kent County Council", Role.FORUM_ADMIN))
    url = reverse("admin:performance_boardreport_change", args=[report.pk])
    page = client.get(url).content.decode()
    assert 'name="to_joint_kent_chiefs_on"' in page and 'name="title"' not in page
    response = client.post(url, {"to_joint_kent_chiefs_on": "2013-09-24", "to_forum_on": "2013-09-10", "title": "Changed"})
    assert response.status_code == 200 and "after Joint Kent Chiefs" in response.content.decode()
    response = client.post(url, {"to_joint_kent_chiefs_on": "2013-09-10", "to_forum_on": "2013-09-24", "title": "Changed"})
    assert response.status_code == 302
    stored = BoardReport.objects.get(pk=report.pk)
    assert (stored.to_joint_kent_chiefs_on, stored.to_forum_on, stored.title, stored.content) == (
        JKC, FORUM, report.title, report.content)
    assert client.get(reverse("admin:performance_boardreport_add")).status_code == 403
    assert client.get(reverse("admin:performance_boardreport_delete", args=[report.pk])).status_code == 403


def test_the_report_page_shows_its_route(client, report):
    page = client.get(reverse("dashboards:report", args=[report.pk])).content.decode()
    assert "Presented to Joint Kent Chiefs</dt><dd class=\"govuk-summary-list__value\">Not yet" in page
    BoardReport.objects.filter(pk=report.pk).update(to_joint_kent_chiefs_on=JKC)
    page = client.get(reverse("dashboards:report", args=[report.pk])).content.decode()
    assert "10 September 2013" in page and "Presented to the Kent Forum</dt><dd class=\"govuk-summary-list__value\">Not yet" in page
