"""An approver who sends a return back without a reason gets the return page again (400) with a
GOV.UK error summary linking to the reason, not a banner; nothing is decided."""
from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from performance.models import Milestone, ReturnEvent
from performance.returns import validation, workflow
from tests.factories import council, district


@pytest.fixture
def submitted(officer, period, count_indicator):
    ret = workflow.indicator_return_save_draft(
        indicator=count_indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(value=Decimal(18), commentary="From the police"),
    )
    return workflow.indicator_return_submit(ret=ret, expected_version=ret.version, user=officer, confirm_warnings=True)


@pytest.fixture
def submitted_milestone(officer, period):
    from ambitions.models import DeliveryPlan

    milestone = Milestone.objects.create(
        title="Junction 10a opens", delivery_plan=DeliveryPlan.objects.get(name="Local Transport Plan"),
        owner=council(), due_date=datetime.date(2012, 9, 30),
    )
    ret = workflow.milestone_return_save_draft(
        milestone=milestone, period=period, organisation=council(), user=officer,
        progress=validation.MilestoneProgress(status="on_track", percent_complete=30, revised_date=None, commentary=""),
    )
    return workflow.milestone_return_submit(ret=ret, expected_version=ret.version, user=officer)


@pytest.mark.parametrize("kind", ["indicator", "milestone"])
@pytest.mark.parametrize("reason", ["", "   "])
def test_a_send_back_without_a_reason_is_an_error_summary(kind, reason, request, client, approver):
    ret = request.getfixturevalue("submitted" if kind == "indicator" else "submitted_milestone")
    client.force_login(approver)
    response = client.post(reverse(f"performance:{kind}-decision", args=[ret.pk, "send-back"]),
                           {"version": ret.version, "reason": reason})
    html = response.content.decode()
    assert response.status_code == 400
    summary = html[html.index("govuk-error-summary"):html.index("</ul>", html.index("govuk-error-summary"))]
    assert '<a href="#id_reason">' in summary and "Enter a reason for returning the return." in summary
    assert "govuk-textarea--error" in html and 'id="id_reason-error"' in html, "the field shows it too"
    assert "Approve</button>" in html and "Return to officer" in html, "the decision is offered again"
    ret.refresh_from_db()
    assert ret.state == "submitted" and not ReturnEvent.objects.filter(action="returned").exists()


def test_a_send_back_with_a_reason_still_goes_back_to_approvals(client, approver, submitted):
    client.force_login(approver)
    response = client.post(reverse("performance:indicator-decision", args=[submitted.pk, "send-back"]),
                           {"version": submitted.version, "reason": "Check the fatal casualties"})
    assert response.status_code == 302 and response["Location"] == reverse("performance:approvals")
    submitted.refresh_from_db()
    assert submitted.state == "returned"


def test_the_return_page_shows_the_reason_field_as_a_govuk_textarea(client, approver, submitted):
    client.force_login(approver)
    html = client.get(reverse("performance:indicator-return", args=[submitted.period_id, submitted.indicator.code,
                                                                     submitted.locality.gss_code])).content.decode()
    assert 'for="id_reason">Why are you returning it?' in html and 'id="id_reason-hint"' in html
