"""In real headless Chromium: an officer turns off the e-mail of approvals on the preferences
page, is told in the portal but not e-mailed when a return is approved, turns it on again and
is e-mailed of the next approval. axe-core finds nothing serious on the two new pages."""
from pathlib import Path

import pytest
from django.core import mail

from notifications.models import Kind, Notification
from performance.models import IndicatorReturn
from tests.performance.test_browser import AXE, CHROMIUM, IN_CI, axe_violations, browser, sign_in  # noqa: F401

from .conftest import submitted

pytestmark = [pytest.mark.slow, pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not IN_CI, reason="needs Debian's chromium (apt-get install chromium)"),
    pytest.mark.skipif(not AXE.exists() and not IN_CI, reason="needs node_modules (npm ci)"),
]

APPROVED_LABEL = dict(Kind.choices)[Kind.RETURN_APPROVED]


def approve_in_the_browser(page, live_server, name):
    page.goto(f"{live_server.url}/approvals/")
    page.get_by_role("link", name=name).click()
    page.get_by_role("button", name="Approve").click()


def test_a_preference_is_honoured(framework, live_server, browser, officer, approver, period, rate_indicator,  # noqa: F811
                                  count_indicator):
    scanned = {}
    first = submitted(rate_indicator, officer, period)
    second = submitted(count_indicator, officer, period)

    # The officer opens the preferences from the header's Notifications link, and turns off the
    # e-mail of approvals with the keyboard
    page = sign_in(browser, live_server, "ashford")
    page.get_by_role("link", name="Notifications", exact=True).click()
    page.get_by_role("link", name="Choose what you are e-mailed").click()
    box = page.get_by_label(APPROVED_LABEL)
    assert box.is_checked()
    box.focus()
    page.keyboard.press("Space")
    assert not box.is_checked()
    scanned["preferences"] = axe_violations(page)
    page.get_by_role("button", name="Save preferences").click()
    assert page.get_by_text("Your e-mail preferences are saved.").is_visible()
    assert not page.get_by_label(APPROVED_LABEL).is_checked()

    # The approver approves the first return: the officer is told in the portal, not by e-mail
    approver_page = sign_in(browser, live_server, "approver")
    approve_in_the_browser(approver_page, live_server, "Household waste recycled")
    assert IndicatorReturn.objects.get(pk=first.pk).state == "approved"
    assert [m for m in mail.outbox if "ashford@example.org" in m.to] == []
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Notifications (1 unread)").click()
    assert page.get_by_text("1 unread.").is_visible()
    assert page.get_by_role("link", name="Approved: Household waste recycled, Ashford, 2012/13 Q1").is_visible()
    scanned["notifications"] = axe_violations(page)

    # The officer turns the e-mail of approvals on again, with the mouse
    page.goto(f"{live_server.url}/notifications/preferences/")
    page.get_by_label(APPROVED_LABEL).click()
    page.get_by_role("button", name="Save preferences").click()
    assert page.get_by_label(APPROVED_LABEL).is_checked()

    # Following an indicator from its page lists it on the preferences page
    page.goto(f"{live_server.url}/dashboards/indicators/T-RECYC/")
    page.get_by_role("button", name="Follow this indicator").click()
    assert page.get_by_text("You now follow Household waste recycled.").is_visible()
    page.goto(f"{live_server.url}/notifications/preferences/")
    assert page.get_by_role("button", name="Stop following Household waste recycled").is_visible()
    scanned["preferences, following"] = axe_violations(page)

    # The second approval is e-mailed, with a link to the return
    approve_in_the_browser(approver_page, live_server, "People killed or seriously injured")
    assert IndicatorReturn.objects.get(pk=second.pk).state == "approved"
    to_officer = [m for m in mail.outbox if "ashford@example.org" in m.to]
    assert len(to_officer) == 1
    assert to_officer[0].subject == "Kent Forum: Approved: People killed or seriously injured, Ashford, 2012/13 Q1"
    assert f"/returns/{period.pk}/indicators/T-KSI/E07000105/" in to_officer[0].body

    # Opening the notification marks it read and goes to the return
    page.goto(f"{live_server.url}/notifications/")
    page.get_by_role("link", name="Approved: People killed or seriously injured, Ashford, 2012/13 Q1").click()
    assert "/indicators/T-KSI/" in page.url
    assert Notification.objects.filter(user=officer, read_at__isnull=True).count() == 1
    page.get_by_role("link", name="Notifications (1 unread)").click()
    page.get_by_role("button", name="Mark all as read").click()
    assert page.get_by_role("link", name="Notifications", exact=True).is_visible()
    assert not Notification.objects.filter(user=officer, read_at__isnull=True).exists()

    assert scanned == {"preferences": [], "notifications": [], "preferences, following": []}, scanned
