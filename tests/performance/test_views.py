"""The returns pages over HTTP: who may see what, the form's validation and messages, the
workflow, conflicts and the audit trail."""
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from performance.catalogue import services
from performance.models import IndicatorReturn, ReturnEvent
from performance.returns import selectors, validation, workflow
from tests.factories import district

pytestmark = pytest.mark.django_db


def url(period, indicator, area="Ashford"):
    return reverse("performance:indicator-return", args=[period.pk, indicator.code, district(area).gss_code])


def post(client, period, indicator, action="save", **data):
    payload = {"action": action, "commentary": "", "version": ""}
    payload.update({k: str(v) for k, v in data.items()})
    return client.post(url(period, indicator), payload)


# --- Who may see what -----------------------------------------------------------------------

def test_anonymous_visitors_are_sent_to_sign_in(client, period, count_indicator):
    for target in (reverse("performance:my-returns"), url(period, count_indicator), reverse("performance:approvals"),
                   reverse("performance:periods")):
        response = client.get(target)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), target


def test_an_officer_of_another_district_gets_403_not_the_figures(client, other_officer, officer, period, count_indicator):
    client.force_login(officer)
    # A figure of five digits: a short one such as 17 turns up by chance in the page's random CSRF token.
    post(client, period, count_indicator, value=48213, commentary="Secret draft commentary")
    client.force_login(other_officer)
    response = client.get(url(period, count_indicator))
    assert response.status_code == 403
    html = response.content.decode()
    assert "Secret draft commentary" not in html and "48213" not in html and "48,213" not in html
    response = post(client, period, count_indicator, value=99)
    assert response.status_code == 403
    assert IndicatorReturn.objects.get(breakdown__isnull=True).value == 48213


def test_board_members_and_officers_cannot_use_approval_or_period_pages(client, board_member, officer):
    for user in (board_member, officer):
        client.force_login(user)
        assert client.get(reverse("performance:approvals")).status_code == 403
        assert client.get(reverse("performance:periods")).status_code == 403
    client.force_login(board_member)
    assert client.get(reverse("performance:my-returns")).status_code == 403


def test_unknown_return_is_404(client, officer, period):
    client.force_login(officer)
    assert client.get(reverse("performance:indicator-return", args=[period.pk, "NOPE", "E07000105"])).status_code == 404


# --- My returns -------------------------------------------------------------------------------

def test_my_returns_lists_the_open_period_with_deadline_and_progress(client, officer, period, count_indicator, rate_indicator):
    client.force_login(officer)
    html = client.get(reverse("performance:my-returns")).content.decode()
    assert "2012/13 Q1" in html and "Tuesday 31 July 2012" in html
    assert "Overdue by" in html  # the fixture's deadline is long past
    assert "0 of 2 submitted or approved" in html
    assert "People killed or seriously injured" in html and "Not started" in html
    assert "Dover" not in html.split("<table", 1)[1], "another district's return is not listed"


# --- The form ---------------------------------------------------------------------------------

def test_a_validation_error_is_summarised_linked_and_the_input_kept(client, officer, period, rate_indicator):
    client.force_login(officer)
    response = post(client, period, rate_indicator, action="submit", numerator="1,200", denominator=1000, commentary="Typed text")
    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in html
    assert 'href="#id_numerator"' in html and "numerator cannot be more than the denominator" in html
    assert 'value="1,200"' in html and "Typed text" in html, "what was typed stays, as typed"
    assert "saved as a draft" in html
    ret = IndicatorReturn.objects.get()
    assert ret.state == "draft" and ret.numerator == 1200


def test_typing_text_in_a_number_field_is_a_clear_error_and_saves_nothing(client, officer, period, count_indicator):
    client.force_login(officer)
    response = post(client, period, count_indicator, value="twelve", commentary="kept")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a number, like 1234 or 56.7." in html and 'value="twelve"' in html and "kept" in html
    assert not IndicatorReturn.objects.exists()


def test_rate_is_computed_and_shown(client, officer, period, rate_indicator):
    client.force_login(officer)
    post(client, period, rate_indicator, numerator=412, denominator=1000)
    html = client.get(url(period, rate_indicator)).content.decode()
    assert "41.2%" in html


def test_off_target_value_needs_a_commentary(client, officer, period, count_indicator):
    client.force_login(officer)
    response = post(client, period, count_indicator, action="submit", value=30)
    assert response.status_code == 400
    assert "Add a commentary: the value is off target" in response.content.decode()
    response = post(client, period, count_indicator, action="submit", value=30, commentary="A bad winter on the A2.",
                    version=IndicatorReturn.objects.get(breakdown__isnull=True).version)
    assert response.status_code == 302
    assert IndicatorReturn.objects.get(breakdown__isnull=True).state == "submitted"


def test_breakdowns_that_do_not_add_up_warn_and_can_be_confirmed(client, officer, period, count_indicator):
    from performance.models import BreakdownCategory

    fatal = BreakdownCategory.objects.get(dimension__code="severity", code="fatal")
    serious = BreakdownCategory.objects.get(dimension__code="severity", code="serious")
    client.force_login(officer)
    data = {f"breakdown_{fatal.pk}": 2, f"breakdown_{serious.pk}": 10, "value": 15}
    response = post(client, period, count_indicator, action="submit", **data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "adds up to 12, not the total of 15" in html
    version = IndicatorReturn.objects.get(breakdown__isnull=True).version
    response = post(client, period, count_indicator, action="submit", version=version, confirm_warnings="on",
                    commentary="Three casualties of unknown severity.", **data)
    assert response.status_code == 302
    total = IndicatorReturn.objects.get(breakdown__isnull=True)
    assert total.state == "submitted" and total.confirmed_warnings
    assert set(IndicatorReturn.objects.filter(breakdown__isnull=False).values_list("state", flat=True)) == {"submitted"}


def test_an_outlier_against_the_areas_history_warns(client, officer, period, count_indicator, approver):

    from tests.factories import council, open_quarter

    for number, value in ((1, 20), (2, 21), (3, 19), (4, 20)):
        quarter = open_quarter(2011, number)
        ret = workflow.indicator_return_save_draft(indicator=count_indicator, locality=district(), period=quarter,
                                             organisation=council(), figures=validation.IndicatorFigures(value=Decimal(value)))
        workflow.indicator_return_submit(ret=ret, expected_version=ret.version)
        workflow.return_approve(ret=ret, expected_version=ret.version, user=approver)
    client.force_login(officer)
    response = post(client, period, count_indicator, action="submit", value=9, commentary="")
    assert "more than three standard deviations" in response.content.decode() or "down 55%" in response.content.decode()
    html = client.get(url(period, count_indicator)).content.decode()
    assert "2011/12 Q4" in html, "last periods' values are shown beside the field"


# --- Conflicts and the audit trail ---------------------------------------------------------------

def test_two_people_editing_one_return_the_second_is_shown_the_conflict(client, officer, period, count_indicator):
    from django.test import Client

    client.force_login(officer)
    post(client, period, count_indicator, value=10)  # version 1
    first, second = Client(), Client()
    first.force_login(officer)
    second.force_login(officer)
    assert first.post(url(period, count_indicator), {"action": "save", "value": "11", "version": "1", "commentary": "first"}).status_code == 302
    response = second.post(url(period, count_indicator), {"action": "save", "value": "12", "version": "1", "commentary": "second person's words"})
    html = response.content.decode()
    assert response.status_code == 409
    assert "Someone else changed this return" in html
    assert "second person&#x27;s words" in html and 'value="12"' in html, "the second person's input is kept"
    assert 'name="version" value="2"' in html
    ret = IndicatorReturn.objects.get(breakdown__isnull=True)
    assert ret.value == 11 and ret.commentary == "first" and ret.version == 2
    saves = ReturnEvent.objects.filter(indicator_return=ret, action="saved")
    assert saves.count() == 1 and saves.get().changes["value"] == ["10", "11"]


def test_full_workflow_with_audit_trail(client, officer, approver, period, count_indicator):
    client.force_login(officer)
    post(client, period, count_indicator, value=18)
    post(client, period, count_indicator, action="submit", value=18, version=1)
    client.force_login(approver)
    queue = client.get(reverse("performance:approvals")).content.decode()
    assert "Ashford Borough Council" in queue and "People killed or seriously injured" in queue
    ret = IndicatorReturn.objects.get(breakdown__isnull=True)
    decide = reverse("performance:indicator-decision", args=[ret.pk, "send-back"])
    assert client.post(decide, {"version": ret.version, "reason": ""}).status_code == 400  # the page again, with an error summary
    assert IndicatorReturn.objects.get(pk=ret.pk).state == "submitted", "a return without a reason is refused"
    client.post(decide, {"version": ret.version, "reason": "Please split by severity."})
    client.force_login(officer)
    assert "Please split by severity." in client.get(reverse("performance:my-returns")).content.decode()
    ret.refresh_from_db()
    post(client, period, count_indicator, action="submit", value=18, version=ret.version, commentary="Split as asked.")
    client.force_login(approver)
    ret.refresh_from_db()
    client.post(reverse("performance:indicator-decision", args=[ret.pk, "approve"]), {"version": ret.version})
    ret.refresh_from_db()
    assert ret.state == "approved"
    actions = list(ret.events.values_list("action", flat=True))
    assert actions == ["created", "submitted", "returned", "saved", "submitted", "approved"]
    html = client.get(url(period, count_indicator)).content.decode()
    for words in ("Created", "Submitted", "Returned", "Saved as draft", "Approved", "Please split by severity."):
        assert words in html
    # History cannot be edited from the UI: there is no form to change events, and the admin refuses.
    assert 'name="event' not in html


def test_approved_returns_cannot_be_changed_by_the_officer(client, officer, approver, period, count_indicator):
    client.force_login(officer)
    post(client, period, count_indicator, value=18)
    post(client, period, count_indicator, action="submit", value=18, version=1)
    ret = IndicatorReturn.objects.get(breakdown__isnull=True)
    client.force_login(approver)
    client.post(reverse("performance:indicator-decision", args=[ret.pk, "approve"]), {"version": ret.version})
    client.force_login(officer)
    response = post(client, period, count_indicator, value=1, version=3)
    assert response.status_code == 200 and "Submit for approval" not in response.content.decode() or response.status_code == 400
    assert IndicatorReturn.objects.get(pk=ret.pk).value == 18


# --- Periods ----------------------------------------------------------------------------------

def test_writes_to_a_locked_period_are_refused(client, officer, period, count_indicator):


    services.period_lock(period=period)
    client.force_login(officer)
    response = post(client, period, count_indicator, value=5)
    assert response.status_code == 403 or "locked" in response.content.decode()
    assert not IndicatorReturn.objects.exists()


def test_the_forum_team_opens_locks_and_reopens_with_a_reason(client, forum_admin):
    from performance.catalogue import periods as fy
    from performance.models import PeriodEvent, ReportingPeriod

    quarter, _ = services.period_ensure(span=fy.quarter(2013, 1))
    client.force_login(forum_admin)
    response = client.post(reverse("performance:periods"), {
        "period": quarter.pk, "action": "open", "deadline_day": "31", "deadline_month": "2", "deadline_year": "2013",
        "grace_days": "5",
    })
    assert response.status_code == 400 and "must be a real date" in response.content.decode()
    client.post(reverse("performance:periods"), {
        "period": quarter.pk, "action": "open", "deadline_day": "31", "deadline_month": "7", "deadline_year": "2013",
        "grace_days": "5",
    })
    quarter.refresh_from_db()
    assert quarter.status == "open" and str(quarter.deadline) == "2013-07-31"
    client.post(reverse("performance:periods"), {"period": quarter.pk, "action": "lock"})
    response = client.post(reverse("performance:periods"), {"period": quarter.pk, "action": "reopen", "reason": ""})
    assert response.status_code == 400 and "Enter a reason for reopening the period." in response.content.decode()
    assert ReportingPeriod.objects.get(pk=quarter.pk).status == "locked"
    client.post(reverse("performance:periods"), {"period": quarter.pk, "action": "reopen", "reason": "Police data corrected"})
    quarter.refresh_from_db()
    assert quarter.status == "open" and quarter.reopen_reason == "Police data corrected"
    assert list(PeriodEvent.objects.filter(period=quarter).values_list("action", flat=True)) == ["opened", "locked", "reopened"]


def test_a_return_page_lists_the_latest_changes_and_links_to_all_of_them(client, officer, period, count_indicator):
    """A return edited many times still renders a page of bounded size: the latest changes, with
    a link to the whole history."""

    from performance.models import IndicatorReturn
    from tests.factories import council, district

    ret = None
    for n in range(selectors.HISTORY_SHOWN + 5):
        ret = workflow.indicator_return_save_draft(
            indicator=count_indicator, locality=district(), period=period, organisation=council(), user=officer,
            figures=validation.IndicatorFigures(value=Decimal(n)), expected_version=ret.version if ret else None,
        )
    assert IndicatorReturn.objects.get(pk=ret.pk).events.count() == selectors.HISTORY_SHOWN + 5
    client.force_login(officer)
    url = reverse("performance:indicator-return", args=[period.pk, count_indicator.code, district().gss_code])
    page = client.get(url).content.decode()
    assert f"Showing the latest {selectors.HISTORY_SHOWN} of {selectors.HISTORY_SHOWN + 5} changes" in page
    rows = re.compile(r"\), version (\d+)")
    assert rows.findall(page) == [str(v) for v in range(6, selectors.HISTORY_SHOWN + 6)], "the latest, oldest first"
    everything = client.get(url, {"history": "all"}).content.decode()
    assert "Showing the latest" not in everything
    assert rows.findall(everything) == [str(v) for v in range(1, selectors.HISTORY_SHOWN + 6)]
