"""The return form in headless Chromium (issue 16, item 1): a breakdown mismatch followed from the
error summary to its dimension's fieldset, fixed and saved; axe-core finds no serious or critical
violation on the page with the error."""
import pytest

from performance.models import IndicatorReturn
from tests.performance.test_browser import AXE, CHROMIUM, IN_CI, axe_violations, browser, sign_in  # noqa: F401
from tests.performance.test_form_govuk import casualties, category  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists() and not IN_CI, reason="needs chromium"),
              pytest.mark.skipif(not AXE.exists() and not IN_CI, reason="needs node_modules (npm ci)")]


def test_a_breakdown_mismatch_followed_from_the_summary_to_its_group(framework, live_server, browser, officer, period,  # noqa: F811
                                                                     casualties):  # noqa: F811
    def field(dimension, code):
        return page.locator(f'[name="breakdown_{category(dimension, code).pk}"]')

    page = sign_in(browser, live_server, "ashford")
    page.goto(f"{live_server.url}/returns/{period.pk}/indicators/T-KSI/E07000105/")
    page.get_by_label("Value").fill("15")
    field("severity", "fatal").fill("5")
    field("severity", "serious").fill("10")
    field("age_band", "16-24").fill("4")
    field("age_band", "25-39").fill("7")
    page.get_by_label("Commentary").fill("A bad winter on the A2.")
    page.get_by_role("button", name="Submit for approval").click()

    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    assert axe_violations(page) == [], "the page with the error"
    link = summary.get_by_role("link", name="The age band breakdown adds up to 11")
    assert link.get_attribute("href") == "#breakdown-age_band"
    link.click()
    landed = page.evaluate("document.activeElement.id") == "breakdown-age_band"
    assert landed, "the summary's link lands on the age band's fieldset"
    group = page.locator("#breakdown-age_band")
    assert group.is_visible() and "govuk-form-group--error" in group.locator("xpath=..").get_attribute("class")
    assert "adds up to 11" in group.locator(".govuk-error-message").inner_text()
    assert page.locator("#breakdown-severity .govuk-error-message").count() == 0

    field("age_band", "25-39").fill("11")  # now 4 + 11 = 15
    page.get_by_role("button", name="Save as draft").click()
    assert page.get_by_text("Draft saved.").is_visible()
    assert IndicatorReturn.objects.get(breakdown=category("age_band", "25-39")).value == 11
    page.get_by_role("button", name="Submit for approval").click()
    assert page.locator(".govuk-error-summary").count() == 0
    assert IndicatorReturn.objects.get(breakdown__isnull=True).state == "submitted"
