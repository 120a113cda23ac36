"""The notifications pages: the list with its unread count, opening and marking read (one's own
only), the preferences form, following an indicator, and the header's count."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications import services
from notifications.models import IndicatorSubscription, Kind, Notification, Preference
from performance.returns import workflow
from tests.factories import IndicatorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(officer, approver, submitted_return):
    workflow.return_approve(ret=submitted_return, expected_version=submitted_return.version, user=approver)
    return Notification.objects.get(user=officer)


def test_the_pages_ask_anyone_to_sign_in(client):
    for name in ("list", "preferences"):
        response = client.get(reverse(f"notifications:{name}"))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_list_shows_ones_own_notifications_unread_first_and_the_header_counts_them(client, officer, approved, other_officer):
    Notification.objects.create(user=other_officer, kind=Kind.RETURN_APPROVED, title="Dover's own news", dedupe_key="x")
    read = Notification.objects.create(user=officer, kind=Kind.REPORT_PUBLISHED, title="Older and read", dedupe_key="y")
    services.notification_open(user=officer, pk=read.pk)
    client.force_login(officer)
    html = client.get(reverse("notifications:list")).content.decode()
    assert "Notifications (1 unread)" in html
    assert "1 unread." in html and "Mark all as read" in html
    assert html.index(approved.title) < html.index("Older and read")
    assert "Dover&#x27;s own news" not in html and "Dover's own news" not in html


def test_the_header_counts_unread_notifications_in_one_query(client, officer, approved):
    client.force_login(officer)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("dashboards:forum")).status_code == 200
    counting = [q["sql"] for q in queries.captured_queries if "notifications_notification" in q["sql"]]
    assert len(counting) == 1


def test_opening_marks_read_and_goes_to_the_page_and_nobody_else_may(client, officer, other_officer, approved):
    client.force_login(other_officer)
    assert client.get(reverse("notifications:open", args=[approved.pk])).status_code == 404
    approved.refresh_from_db()
    assert approved.read_at is None
    client.force_login(officer)
    response = client.get(reverse("notifications:open", args=[approved.pk]))
    assert response.status_code == 302 and response["Location"] == approved.link
    approved.refresh_from_db()
    assert approved.read_at is not None
    assert "Notifications (" not in client.get(reverse("notifications:list")).content.decode()


def test_mark_all_as_read_marks_only_ones_own_and_needs_a_post(client, officer, other_officer, approved):
    theirs = Notification.objects.create(user=other_officer, kind=Kind.RETURN_APPROVED, title="Theirs", dedupe_key="x")
    client.force_login(officer)
    assert client.get(reverse("notifications:read-all")).status_code == 405
    response = client.post(reverse("notifications:read-all"), follow=True)
    assert "1 notification marked as read." in response.content.decode()
    approved.refresh_from_db()
    theirs.refresh_from_db()
    assert approved.read_at is not None and theirs.read_at is None


def test_mark_all_as_read_is_refused_without_the_csrf_token(officer, approved):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    assert client.post(reverse("notifications:read-all")).status_code == 403


def test_preferences_are_a_checkbox_for_each_kind_and_saved(client, officer):
    client.force_login(officer)
    html = client.get(reverse("notifications:preferences")).content.decode()
    assert "<legend" in html and html.count('type="checkbox"') == len(Kind.values)
    assert html.count(" checked") == len(Kind.values)  # every kind e-mailed by default
    emailed = [k for k in Kind.values if k != Kind.RETURN_APPROVED]
    response = client.post(reverse("notifications:preferences"), {"emailed": emailed}, follow=True)
    assert "Your e-mail preferences are saved." in response.content.decode()
    assert list(Preference.objects.filter(user=officer, email=False).values_list("kind", flat=True)) == [Kind.RETURN_APPROVED]
    assert response.content.decode().count(" checked") == len(Kind.values) - 1


def test_a_preference_that_is_not_a_kind_is_an_error_in_the_summary(client, officer):
    client.force_login(officer)
    response = client.post(reverse("notifications:preferences"), {"emailed": ["everything"]})
    html = response.content.decode()
    assert response.status_code == 400
    assert "govuk-error-summary" in html and 'href="#id_emailed"' in html and "<title>Error:" in html
    assert not Preference.objects.exists()


def test_following_an_indicator_from_its_page(client, officer):
    indicator = IndicatorFactory(code="T-FOLLOW", name="Followed measure")
    page = reverse("dashboards:indicator", args=[indicator.code])
    assert "Follow this indicator" not in client.get(page).content.decode()  # not signed in
    client.force_login(officer)
    assert "Follow this indicator" in client.get(page).content.decode()
    response = client.post(reverse("notifications:follow"), {"indicator": indicator.code, "follow": "yes", "next": page})
    assert response.status_code == 302 and response["Location"] == page
    assert IndicatorSubscription.objects.filter(user=officer, indicator=indicator).exists()
    html = client.get(page).content.decode()
    assert "You now follow Followed measure." in html and "Stop following" in html
    assert "Followed measure" in client.get(reverse("notifications:preferences")).content.decode()
    # Stopping, from the preferences page; an address elsewhere is not followed
    response = client.post(reverse("notifications:follow"), {"indicator": indicator.code, "follow": "no",
                                                             "next": "https://elsewhere.example/"})
    assert response["Location"] == reverse("notifications:preferences")
    assert not IndicatorSubscription.objects.exists()


def test_following_needs_an_indicator_that_exists(client, officer):
    client.force_login(officer)
    assert client.post(reverse("notifications:follow"), {}).status_code == 400
    assert client.post(reverse("notifications:follow"), {"indicator": "NOPE", "follow": "yes"}).status_code == 404
