"""A save that changes nothing changes nothing: through the return form, the API and the CSV
import, a save whose figures, commentary, data-quality fields and breakdowns are as stored makes
no new version, keeps the return's state (a returned return stays returned), keeps the reason
the approver gave and writes no audit event. A save of a returned return that does change its
figures makes it a draft, and the approver's reason stays on it (and on its pages) until it is
submitted again."""
import csv
import datetime
import io
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from performance.models import BreakdownCategory, IndicatorReturn, Milestone, MilestoneReturn, ReturnEvent
from performance.returns import validation, workflow
from tests.factories import council, district

pytestmark = pytest.mark.django_db

REASON = "Check the figure against the police data"


@pytest.fixture(autouse=True)
def clear_throttles():
    cache.clear()


def category(code):
    return BreakdownCategory.objects.get(dimension__code="severity", code=code)


@pytest.fixture
def milestone(db):
    from ambitions.models import DeliveryPlan

    return Milestone.objects.create(
        title="Junction 10a opens", delivery_plan=DeliveryPlan.objects.get(name="Local Transport Plan"),
        owner=council(), due_date=datetime.date(2012, 9, 30),
    )


def ksi_draft(officer, period, count_indicator):
    return workflow.indicator_return_save_draft(
        indicator=count_indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(
            value=Decimal(18), commentary="From the police", breakdowns={category("fatal").pk: Decimal(2)},
            quality={"quality": "provisional", "quality_note": "Police data are provisional until July"},
        ),
    )


def ksi_returned(officer, approver, period, count_indicator):
    ret = ksi_draft(officer, period, count_indicator)
    workflow.indicator_return_submit(ret=ret, expected_version=ret.version, user=officer, confirm_warnings=True)
    return workflow.return_send_back(ret=ret, reason=REASON, expected_version=ret.version, user=approver)


def milestone_draft(officer, period, milestone):
    return workflow.milestone_return_save_draft(
        milestone=milestone, period=period, organisation=council(), user=officer,
        progress=validation.MilestoneProgress(status="at_risk", percent_complete=30,
                                            revised_date=datetime.date(2012, 10, 31), commentary="Contractor delayed"),
    )


def milestone_returned(officer, approver, period, milestone):
    ret = milestone_draft(officer, period, milestone)
    workflow.milestone_return_submit(ret=ret, expected_version=ret.version, user=officer)
    return workflow.return_send_back(ret=ret, reason=REASON, expected_version=ret.version, user=approver)


def given(which, officer, approver, period, count_indicator, milestone):
    """The return of a case: an indicator or milestone return, a draft or returned."""
    kind, state = which.split("-")
    if kind == "indicator":
        return (ksi_draft(officer, period, count_indicator) if state == "draft"
                else ksi_returned(officer, approver, period, count_indicator))
    return (milestone_draft(officer, period, milestone) if state == "draft"
            else milestone_returned(officer, approver, period, milestone))


def as_stored(ret) -> dict:
    """What must not change: version, state and reason of the return and of its breakdown rows,
    and how many audit events it has."""
    row = type(ret).objects.get(pk=ret.pk)
    result = {"version": row.version, "state": row.state, "return_reason": row.return_reason, "updated_at": row.updated_at}
    if isinstance(row, IndicatorReturn):
        result["events"] = ReturnEvent.objects.filter(indicator_return=row).count()
        result["breakdowns"] = sorted(
            IndicatorReturn.objects.filter(indicator=row.indicator, locality=row.locality, period=row.period,
                                           breakdown__isnull=False).values_list("breakdown_id", "value", "state", "version")
        )
    else:
        result["events"] = ReturnEvent.objects.filter(milestone_return=row).count()
    return result


def shows_reason(client, ret) -> bool:
    """The return's page says, above the form, why the approver returned it (not only in its history)."""
    html = client.get(page_url(ret)).content.decode()
    return 'id="send-back-reason"' in html and f"</strong> {REASON}</div>" in html


def my_returns_shows_reason(client) -> bool:
    return f"Reason: {REASON}" in client.get(reverse("performance:my-returns")).content.decode()


def page_url(ret):
    if isinstance(ret, IndicatorReturn):
        return reverse("performance:indicator-return", args=[ret.period_id, ret.indicator.code, ret.locality.gss_code])
    return reverse("performance:milestone-return", args=[ret.period_id, ret.milestone_id])


class _FormFields(HTMLParser):
    """The fields a browser would post from the page's return form (the one with a commentary)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {}
        elif self._form is None or "name" not in attrs:
            return
        elif tag == "input" and attrs.get("type") in ("radio", "checkbox"):
            if "checked" in attrs:
                self._form[attrs["name"]] = attrs.get("value", "on")
        elif tag == "input" and attrs.get("type") != "submit":
            self._form[attrs["name"]] = attrs.get("value", "")
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self._form[self._textarea] = ""

    def handle_data(self, data):
        if self._textarea:
            self._form[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None


def form_as_shown(html: str) -> dict:
    parser = _FormFields()
    parser.feed(html)
    (form,) = [f for f in parser.forms if "commentary" in f and "version" in f]
    form.pop("csrfmiddlewaretoken", None)
    # the textarea's first newline is not part of its value (HTML parsing rule)
    form["commentary"] = form["commentary"].removeprefix("\n")
    return form


# --- Through the return form -------------------------------------------------------------------------

CASES = ["indicator-draft", "indicator-returned", "milestone-draft", "milestone-returned"]


@pytest.mark.parametrize("which", CASES)
def test_posting_the_form_back_as_shown_changes_nothing(client, which, officer, approver, period, count_indicator, milestone):
    ret = given(which, officer, approver, period, count_indicator, milestone)
    before = as_stored(ret)
    client.force_login(officer)
    page = client.get(page_url(ret))
    assert page.status_code == 200
    response = client.post(page_url(ret), {**form_as_shown(page.content.decode()), "action": "save"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert as_stored(ret) == before
    if which.endswith("returned"):
        assert shows_reason(client, ret) and my_returns_shows_reason(client)


@pytest.mark.parametrize("which", ["indicator-returned", "milestone-returned"])
def test_a_returned_return_corrected_through_the_form_is_a_draft_that_keeps_the_reason(
    client, which, officer, approver, period, count_indicator, milestone,
):
    ret = given(which, officer, approver, period, count_indicator, milestone)
    before = as_stored(ret)
    client.force_login(officer)
    page = client.get(page_url(ret))
    data = form_as_shown(page.content.decode())
    if "value" in data:
        data["value"] = "17"
    else:
        data["percent_complete"] = "35"
    response = client.post(page_url(ret), {**data, "action": "save"})
    assert response.status_code == 302, response.content.decode()[:2000]
    after = as_stored(ret)
    assert (after["version"], after["state"], after["return_reason"]) == (before["version"] + 1, "draft", REASON)
    assert after["events"] == before["events"] + 1
    event = ReturnEvent.objects.order_by("-pk").first()
    assert (event.from_state, event.to_state) == ("returned", "draft")
    # the officer still sees why it was returned, on the return and in My returns
    assert shows_reason(client, ret) and my_returns_shows_reason(client)
    # resubmitting clears the stored reason (My returns, the API); the return page keeps it until approval
    stored = type(ret).objects.get(pk=ret.pk)
    if isinstance(stored, IndicatorReturn):
        workflow.indicator_return_submit(ret=stored, expected_version=stored.version, user=officer, confirm_warnings=True)
    else:
        workflow.milestone_return_submit(ret=stored, expected_version=stored.version, user=officer)
    assert type(ret).objects.get(pk=ret.pk).return_reason == ""
    assert not my_returns_shows_reason(client) and shows_reason(client, ret)


# --- Through the API ---------------------------------------------------------------------------------

def api_client(officer):
    client = APIClient()
    client.force_login(officer)
    return client


def api_url(ret):
    kind = "indicator-returns" if isinstance(ret, IndicatorReturn) else "milestone-returns"
    return f"/api/v1/{kind}/{ret.pk}/"


def api_body_as_stored(ret) -> dict:
    """A POST body that says exactly what is stored (every writable field)."""
    row = type(ret).objects.get(pk=ret.pk)
    if isinstance(row, MilestoneReturn):
        return {"milestone": row.milestone_id, "period": row.period.label, "status": row.status,
                "percent_complete": row.percent_complete, "revised_date": row.revised_date.isoformat(),
                "commentary": row.commentary, "version": row.version}
    parts = IndicatorReturn.objects.filter(indicator=row.indicator, locality=row.locality, period=row.period,
                                           breakdown__isnull=False).select_related("breakdown__dimension")
    return {"indicator": row.indicator.code, "locality": row.locality.gss_code, "period": row.period.label,
            "value": str(row.value), "commentary": row.commentary, "version": row.version,
            "quality": row.quality, "quality_note": row.quality_note,
            "breakdowns": {f"{p.breakdown.dimension.code}:{p.breakdown.code}": str(p.value) for p in parts}}


@pytest.mark.parametrize("which", CASES)
def test_an_api_post_of_the_stored_figures_changes_nothing(which, officer, approver, period, count_indicator, milestone):
    ret = given(which, officer, approver, period, count_indicator, milestone)
    before = as_stored(ret)
    kind = "indicator-returns" if isinstance(ret, IndicatorReturn) else "milestone-returns"
    response = api_client(officer).post(f"/api/v1/{kind}/", api_body_as_stored(ret), format="json")
    assert response.status_code == 201, response.content
    assert as_stored(ret) == before
    assert (response.json()["version"], response.json()["state"]) == (before["version"], before["state"])
    assert response.json()["return_reason"] == before["return_reason"]


@pytest.mark.parametrize("which", CASES)
def test_an_api_patch_of_only_the_version_changes_nothing(which, officer, approver, period, count_indicator, milestone):
    ret = given(which, officer, approver, period, count_indicator, milestone)
    before = as_stored(ret)
    response = api_client(officer).patch(api_url(ret), {"version": before["version"]}, format="json")
    assert response.status_code == 200, response.content
    assert as_stored(ret) == before
    assert response.json()["return_reason"] == before["return_reason"]


def test_an_api_patch_that_corrects_a_returned_return_keeps_the_reason(officer, approver, period, count_indicator, milestone):
    ret = ksi_returned(officer, approver, period, count_indicator)
    read = as_stored(ret)["version"]
    response = api_client(officer).patch(api_url(ret), {"value": "17", "version": read}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["version"], body["return_reason"]) == ("draft", read + 1, REASON)


# --- Through the CSV import ----------------------------------------------------------------------------

def upload(client, period, edit) -> None:
    """Download the template, change it with ``edit`` (rows as dicts), upload it and confirm."""
    template = client.get(reverse("performance:template", args=[period.pk]))
    rows = list(csv.DictReader(io.StringIO(template.content.decode("utf-8-sig"))))
    edit(rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    response = client.post(reverse("performance:upload", args=[period.pk]),
                           {"file": SimpleUploadedFile("returns.csv", out.getvalue().encode(), content_type="text/csv")})
    assert response.status_code == 302, response.content.decode()[:2000]
    response = client.post(response.url, {"action": "confirm"})
    assert response.status_code == 302 and response.url.startswith("/returns/imports/"), response.content.decode()[:3000]


@pytest.mark.parametrize("state", ["draft", "returned"])
def test_an_upload_that_changes_another_row_leaves_the_return_as_it_was(
    client, state, officer, approver, period, count_indicator, rate_indicator,
):
    ret = (ksi_draft(officer, period, count_indicator) if state == "draft"
           else ksi_returned(officer, approver, period, count_indicator))
    other = workflow.indicator_return_save_draft(
        indicator=rate_indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(numerator=Decimal(10), denominator=Decimal(40)),
    )
    before = as_stored(ret)
    client.force_login(officer)

    def change_the_rate_only(rows):
        (row,) = [r for r in rows if r["indicator_code"] == rate_indicator.code]
        row["numerator"] = "12"

    upload(client, period, change_the_rate_only)
    assert as_stored(ret) == before
    other = IndicatorReturn.objects.get(pk=other.pk)
    assert (other.numerator, other.version) == (Decimal(12), 2)
    if state == "returned":
        assert my_returns_shows_reason(client)


def test_an_upload_that_corrects_a_returned_return_keeps_the_reason(client, officer, approver, period, count_indicator, rate_indicator):
    ret = ksi_returned(officer, approver, period, count_indicator)
    before = as_stored(ret)
    client.force_login(officer)

    def correct_the_total(rows):
        (row,) = [r for r in rows if r["indicator_code"] == count_indicator.code and not r["breakdown"]]
        row["value"] = "17"

    upload(client, period, correct_the_total)
    stored = IndicatorReturn.objects.get(pk=ret.pk)
    assert (stored.value, stored.state, stored.version, stored.return_reason) == (Decimal(17), "draft", before["version"] + 1, REASON)
    assert shows_reason(client, stored) and my_returns_shows_reason(client)


def test_an_upload_that_leaves_a_submitted_provisional_return_as_downloaded_is_accepted(
    client, officer, period, count_indicator, rate_indicator,
):
    """The file carries no data-quality fields: a submitted return whose figure is provisional
    (not the default, final) comes back as downloaded, and is unchanged."""
    ret = ksi_draft(officer, period, count_indicator)
    workflow.indicator_return_submit(ret=ret, expected_version=ret.version, user=officer, confirm_warnings=True)
    workflow.indicator_return_save_draft(
        indicator=rate_indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(numerator=Decimal(10), denominator=Decimal(40)),
    )
    before = as_stored(ret)
    client.force_login(officer)

    def change_the_rate_only(rows):
        (row,) = [r for r in rows if r["indicator_code"] == rate_indicator.code]
        row["numerator"] = "12"

    upload(client, period, change_the_rate_only)
    assert as_stored(ret) == before and before["state"] == "submitted"
