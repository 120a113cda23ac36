"""Writes to a locked period, and to a return already approved, are refused through every door:
the browser form, the API (POST and PATCH of indicator and milestone returns), the CSV import
(preview and apply) and the Django admin (change and add forms). Each refusal says why, saves
nothing and writes no audit event."""
import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from performance.catalogue import services
from performance.models import IndicatorReturn, Milestone, MilestoneReturn, ReturnEvent, ReturnImport
from performance.returns import imports, validation, workflow
from tests.factories import council, district
from tests.performance.conftest import (  # noqa: F401 - fixtures
    approver,
    count_indicator,
    forum_admin,
    officer,
    period,
    rate_indicator,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def milestone(db):
    from ambitions.models import DeliveryPlan

    return Milestone.objects.create(
        title="Ashford ring road", delivery_plan=DeliveryPlan.objects.order_by("pk").first(), owner=council(),
        due_date=datetime.date(2013, 3, 31),
    )


@pytest.fixture
def returns(officer, period, rate_indicator, milestone):
    ret = workflow.indicator_return_save_draft(
        indicator=rate_indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(numerator=Decimal(45), denominator=Decimal(100), commentary="as entered"),
    )
    ms = workflow.milestone_return_save_draft(
        milestone=milestone, period=period, organisation=council(), user=officer,
        progress=validation.MilestoneProgress(status="on_track", percent_complete=40, commentary="as entered"),
    )
    return ret, ms


@pytest.fixture(params=["locked", "approved"])
def closed(request, returns, period, forum_admin, officer, approver):
    """The returns, either in a locked period or approved (in an open period)."""
    ret, ms = returns
    if request.param == "locked":
        services.period_lock(period=period, user=forum_admin)
    else:
        for item in (ret, ms):
            submit = workflow.indicator_return_submit if item is ret else workflow.milestone_return_submit
            kwargs = {"confirm_warnings": True} if item is ret else {}
            submit(ret=item, expected_version=item.version, user=officer, **kwargs)
            item.refresh_from_db()
            workflow.return_approve(ret=item, expected_version=item.version, user=approver)
    ret.refresh_from_db()
    ms.refresh_from_db()
    period.refresh_from_db()
    return request.param, ret, ms


REFUSAL = ("locked", "approved and can no longer be changed")


def snapshot():
    return (
        list(IndicatorReturn.objects.order_by("pk").values_list("pk", "numerator", "denominator", "commentary", "version", "state")),
        list(MilestoneReturn.objects.order_by("pk").values_list("pk", "percent_complete", "commentary", "version", "state")),
        ReturnEvent.objects.count(),
    )


def says_why(text: str) -> bool:
    return any(reason in text for reason in REFUSAL)


def test_browser_forms_refuse(client, closed, officer, rate_indicator, period, milestone):
    _kind, ret, ms = closed
    before = snapshot()
    client.force_login(officer)
    url = reverse("performance:indicator-return", args=[period.pk, rate_indicator.code, district().gss_code])
    page = client.get(url)
    assert page.status_code == 200 and page.context["can_edit"] is False
    response = client.post(url, {"numerator": "99", "denominator": "100", "commentary": "changed", "version": ret.version})
    assert response.status_code == 400 and says_why(response.content.decode())
    ms_url = reverse("performance:milestone-return", args=[period.pk, milestone.pk])
    assert client.get(ms_url).context["can_edit"] is False
    response = client.post(ms_url, {"status": "complete", "percent_complete": "100", "commentary": "changed", "version": ms.version})
    assert response.status_code == 400 and says_why(response.content.decode())
    assert snapshot() == before


def test_api_refuses(closed, officer, rate_indicator, period, milestone):
    _kind, ret, ms = closed
    before = snapshot()
    client = APIClient()
    client.force_authenticate(officer)
    attempts = [
        client.post("/api/v1/indicator-returns/", {
            "indicator": rate_indicator.code, "locality": district().gss_code, "period": period.label,
            "numerator": "99", "denominator": "100", "version": ret.version}, format="json"),
        client.patch(f"/api/v1/indicator-returns/{ret.pk}/", {"numerator": "99", "denominator": "100", "version": ret.version}, format="json"),
        client.post("/api/v1/indicator-returns/bulk/", [{
            "indicator": rate_indicator.code, "locality": district().gss_code, "period": period.label,
            "numerator": "99", "denominator": "100", "version": ret.version}], format="json"),
        client.post("/api/v1/milestone-returns/", {
            "milestone": milestone.pk, "period": period.label, "status": "complete", "percent_complete": 100,
            "version": ms.version}, format="json"),
        client.patch(f"/api/v1/milestone-returns/{ms.pk}/", {"percent_complete": 100, "version": ms.version}, format="json"),
    ]
    for response in attempts:
        assert response.status_code == 400, (response.status_code, response.content)
        assert says_why(response.content.decode()), response.content
    assert snapshot() == before


def test_csv_import_preview_refuses_a_locked_period(client, returns, officer, period, forum_admin, rate_indicator):
    services.period_lock(period=period, user=forum_admin)
    before, jobs = snapshot(), ReturnImport.objects.count()
    client.force_login(officer)
    template = b"".join(client.get(reverse("performance:template", args=[period.pk])).streaming_content) \
        if False else client.get(reverse("performance:template", args=[period.pk])).content
    upload = SimpleUploadedFile("returns.csv", template, content_type="text/csv")
    response = client.post(reverse("performance:upload", args=[period.pk]), {"file": upload})
    assert response.status_code == 400 and "locked" in response.content.decode()
    assert (snapshot(), ReturnImport.objects.count()) == (before, jobs)


def test_csv_import_apply_refuses_once_closed(client, returns, officer, approver, period, forum_admin, rate_indicator):
    """A preview made while open, confirmed after the period was locked: nothing is saved."""
    ret, _ms = returns
    text = (
        "period,indicator_code,area_gss_code,value,numerator,denominator,version\n"
        f"{period.label},{rate_indicator.code},{district().gss_code},,50,100,{ret.version}\n"
    )
    job = imports.import_preview(user=officer, organisation=council(), period=period, filename="r.csv", raw=text.encode())
    assert job.state == ReturnImport.State.PREVIEW, job.rows
    services.period_lock(period=period, user=forum_admin)
    before = snapshot()
    client.force_login(officer)
    response = client.post(reverse("performance:import", args=[job.pk]), {"action": "confirm"}, follow=True)
    assert "Nothing was saved" in response.content.decode() and "locked" in response.content.decode()
    job.refresh_from_db()
    assert job.state == ReturnImport.State.PREVIEW and job.applied_count in (0, None)
    assert snapshot() == before


def test_csv_import_refuses_an_approved_return(client, returns, officer, approver, period, rate_indicator):
    ret, _ms = returns
    workflow.indicator_return_submit(ret=ret, expected_version=ret.version, user=officer, confirm_warnings=True)
    ret.refresh_from_db()
    workflow.return_approve(ret=ret, expected_version=ret.version, user=approver)
    ret.refresh_from_db()
    before = snapshot()
    text = (
        "period,indicator_code,area_gss_code,value,numerator,denominator,version\n"
        f"{period.label},{rate_indicator.code},{district().gss_code},,50,100,{ret.version}\n"
    )
    client.force_login(officer)
    upload = SimpleUploadedFile("returns.csv", text.encode(), content_type="text/csv")
    response = client.post(reverse("performance:upload", args=[period.pk]), {"file": upload}, follow=True)
    body = response.content.decode()
    # Either the preview refuses the row, or confirming it saves nothing.
    job = ReturnImport.objects.filter(uploaded_by=officer).order_by("-pk").first()
    if job is not None and job.state == ReturnImport.State.PREVIEW:
        response = client.post(reverse("performance:import", args=[job.pk]), {"action": "confirm"}, follow=True)
        body = response.content.decode()
    job = ReturnImport.objects.filter(uploaded_by=officer).order_by("-pk").first()
    assert job.state == ReturnImport.State.REJECTED, job.state
    assert "Nothing has been saved" in body and "approved" in body.lower()
    assert snapshot() == before


@pytest.mark.parametrize("who", ["superuser", "forum_admin"])
def test_admin_cannot_change_or_add_returns(client, closed, forum_admin, who):
    _kind, ret, ms = closed
    user = forum_admin if who == "forum_admin" else get_user_model().objects.create_superuser("root", "r@example.org", "a-long-root-pw")
    client.force_login(user)
    before = snapshot()
    for obj, name in ((ret, "indicatorreturn"), (ms, "milestonereturn")):
        change = reverse(f"admin:performance_{name}_change", args=[obj.pk])
        page = client.get(change)
        assert page.status_code == 200
        html = page.content.decode()
        assert 'name="_save"' not in html and 'name="commentary"' not in html  # shown read-only
        assert client.post(change, {"commentary": "changed in the admin", "percent_complete": 100}).status_code == 403
        assert client.get(reverse(f"admin:performance_{name}_add")).status_code == 403
        assert client.post(reverse(f"admin:performance_{name}_add"), {"commentary": "new"}).status_code == 403
        delete = reverse(f"admin:performance_{name}_delete", args=[obj.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        # No bulk delete action on the list either.
        changelist = client.get(reverse(f"admin:performance_{name}_changelist"))
        assert "delete_selected" not in changelist.content.decode()
    assert snapshot() == before
