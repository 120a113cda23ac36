"""Bulk entry by CSV: the preview says exactly what the confirmation will change, counted by the
save's own rule (``imports.slot_changes`` over ``audit.draft_changes``), so the two cannot disagree."""
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from kentforum.roles import Role
from performance.models import IndicatorReturn, ReturnEvent, ReturnImport
from performance.returns import validation, workflow
from tests.factories import council, district
from tests.performance.conftest import make_user
from tests.performance.test_imports import fill, template, to_csv, upload

pytestmark = pytest.mark.django_db


def test_the_button_announces_the_changed_returns_and_the_save_writes_exactly_those(
    client, officer, period, count_indicator, rate_indicator
):
    """Given a draft already stored, when the officer uploads the template with the draft as
    stored and one new return filled in, then the preview announces 1 changed and 1 unchanged,
    and confirming writes exactly one return: the number saved is the number announced."""
    ret = workflow.indicator_return_save_draft(
        indicator=count_indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(value=Decimal(14), commentary="Fewer collisions"),
    )
    client.force_login(officer)
    rows = fill(template(client, period), {("T-RECYC", ""): {"numerator": "40", "denominator": "100"}})
    response = upload(client, period, to_csv(rows))
    page = client.get(response["Location"]).content.decode()
    announced = re.search(r"Save (\d+) changed returns? \((\d+) unchanged, (\d+) with errors\)", page)
    assert announced and announced.groups() == ("1", "1", "0")
    assert "1 return changed, 1 unchanged" in page
    events_before = ReturnEvent.objects.count()
    response = client.post(response["Location"], {"action": "confirm"})
    job = ReturnImport.objects.get()
    assert job.state == "applied" and job.applied_count == int(announced.group(1))
    assert ReturnEvent.objects.count() - events_before == int(announced.group(1))
    assert IndicatorReturn.objects.get(pk=ret.pk).version == ret.version  # the unchanged draft is not rewritten
    assert IndicatorReturn.objects.get(indicator=rate_indicator, breakdown=None).numerator == 40


def test_an_upload_of_the_template_as_stored_announces_nothing_to_save(client, officer, period, count_indicator):
    """Given a stored draft, when the template is uploaded as downloaded, then the button says 0 changed
    and confirming writes nothing."""
    workflow.indicator_return_save_draft(
        indicator=count_indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(value=Decimal(14), commentary="Fewer collisions"),
    )
    client.force_login(officer)
    response = upload(client, period, to_csv(template(client, period)))
    page = client.get(response["Location"]).content.decode()
    assert "Save 0 changed returns (1 unchanged, 0 with errors)" in page
    events_before = ReturnEvent.objects.count()
    client.post(response["Location"], {"action": "confirm"})
    assert ReturnImport.objects.get().applied_count == 0 and ReturnEvent.objects.count() == events_before


def saved_upload(client, officer, period, values):
    client.force_login(officer)
    response = upload(client, period, to_csv(fill(template(client, period), values)))
    response = client.post(response["Location"], {"action": "confirm"})
    assert response.status_code == 302
    return ReturnImport.objects.get(), client.get(response.url).content.decode()


def posted_returns(job):
    from performance.returns import imports

    return [f"{ret.pk}:{ret.version}" for ret in imports.import_drafts(job)]


def test_after_saving_the_officer_submits_the_drafts_that_pass_and_sees_why_the_others_cannot(
    client, officer, period, count_indicator, rate_indicator
):
    """Given an upload saving two drafts, one of them without the commentary its figure needs
    (or with a warning), when the officer submits all, then each is checked on its own: the
    summary counts the submitted and names the other with its reason and a link."""
    job, page = saved_upload(client, officer, period, {
        ("T-KSI", ""): {"value": "14", "commentary": "Fewer collisions"},
        ("T-RECYC", ""): {"numerator": "30", "denominator": "100"},  # off its 40% target, no commentary
    })
    assert "Submit the 2 saved drafts that pass validation" in page and "I have checked the warnings" in page
    response = client.post(reverse("performance:import-submit", args=[job.pk]), {"returns": posted_returns(job)})
    assert response.status_code == 200
    summary = response.content.decode()
    assert "1 submitted; 1 could not be" in summary
    assert f"/returns/{period.pk}/indicators/T-RECYC/E07000105/" in summary and "Add a commentary" in summary
    ksi, recyc = (IndicatorReturn.objects.get(indicator__code=code, breakdown=None) for code in ("T-KSI", "T-RECYC"))
    assert ksi.state == "submitted" and ksi.events.filter(action="submitted").count() == 1
    assert recyc.state == "draft" and not recyc.events.filter(action="submitted").exists()

def test_a_return_changed_since_the_page_was_shown_is_reported_not_overwritten(client, officer, period, count_indicator):
    job, _ = saved_upload(client, officer, period, {("T-KSI", ""): {"value": "14", "commentary": "Fewer collisions"}})
    shown = posted_returns(job)
    ret = IndicatorReturn.objects.get(breakdown=None)
    workflow.indicator_return_save_draft(
        indicator=count_indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(value=Decimal(15), commentary="Changed meanwhile"), expected_version=ret.version,
    )
    response = client.post(reverse("performance:import-submit", args=[job.pk]), {"returns": shown, "confirm_warnings": "yes"})
    after = IndicatorReturn.objects.get(pk=ret.pk)
    assert after.state == "draft" and after.value == 15
    assert "0 submitted; 1 could not be" in response.content.decode()
    assert "changed by someone else" in response.content.decode()


def test_only_the_uploader_may_submit_and_only_after_saving(client, officer, period, count_indicator):
    client.force_login(officer)
    response = upload(client, period, to_csv(fill(template(client, period), {("T-KSI", ""): {"value": "3"}})))
    job = ReturnImport.objects.get()
    assert client.post(reverse("performance:import-submit", args=[job.pk]), {}).status_code == 400  # a preview
    other = make_user("ashford-2", "Ashford Borough Council", Role.OFFICER)  # same organisation, not the uploader
    client.force_login(other)
    assert client.post(reverse("performance:import-submit", args=[job.pk]), {}).status_code == 403
    assert response.status_code == 302
