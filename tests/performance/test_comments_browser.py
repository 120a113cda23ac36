"""A comment thread on a return in headless Chromium: the officer comments, the approver replies,
the officer sees both, oldest first; the return page with its thread (and with a refused comment)
has no serious or critical axe-core violations."""
from decimal import Decimal
from pathlib import Path

import pytest

from performance.returns import validation, workflow
from tests.factories import council, district
from tests.performance.test_browser import AXE, CHROMIUM, IN_CI, axe_violations, browser, sign_in  # noqa: F401  (browser: the fixture)

pytestmark = [pytest.mark.slow, pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not IN_CI,
                       reason="needs Debian's chromium (apt-get install chromium)"),
    pytest.mark.skipif(not AXE.exists() and not IN_CI, reason="needs node_modules (npm ci)"),
]


def test_a_comment_thread(framework, live_server, browser, officer, approver, period, rate_indicator):  # noqa: F811
    ret = workflow.indicator_return_save_draft(
        indicator=rate_indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(numerator=Decimal(41), denominator=Decimal(100)),
    )
    workflow.indicator_return_submit(ret=ret, expected_version=ret.version, user=officer)
    url = f"{live_server.url}/returns/{period.pk}/indicators/T-RECYC/E07000105/"
    scanned = {}

    # The officer comments on the submitted return.
    page = sign_in(browser, live_server, "ashford")
    page.goto(url)
    page.get_by_role("button", name="Add comment").click()
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible() and "Enter a comment." in summary.inner_text()
    scanned["return page with a refused comment"] = axe_violations(page)
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "id_comment-text", "the summary links to the textarea"
    page.get_by_label("Add a comment").fill("The tonnage is from the county's weighbridges.")
    page.get_by_role("button", name="Add comment").click()
    assert page.url.endswith("#comments") and page.get_by_text("Your comment has been added.").is_visible()
    assert page.locator("ol.kf-comments").get_by_text("The tonnage is from the county's weighbridges.").is_visible()

    # The approver reads it on the return page and replies.
    approver_page = sign_in(browser, live_server, "approver")
    approver_page.goto(url)
    thread = approver_page.locator("#comments + ol")
    assert "The tonnage is from the county's weighbridges." in thread.inner_text()
    approver_page.get_by_label("Add a comment").fill("Thank you: does it include garden waste?")
    approver_page.get_by_role("button", name="Add comment").click()
    assert approver_page.locator("ol.kf-comments").get_by_text("Thank you: does it include garden waste?").is_visible()

    # The officer sees both, oldest first, with who wrote them.
    page.goto(url)
    items = page.locator("ol.kf-comments > li")
    assert items.count() == 2
    first, second = items.nth(0).inner_text(), items.nth(1).inner_text()
    assert "Ashford Tester" in first and "officer" in first and "weighbridges" in first
    assert "Approver Tester" in second and "approver" in second and "garden waste" in second
    assert "Commented" in page.locator("#history ~ div table").inner_text(), "the history lists them too"
    scanned["return page with a thread"] = axe_violations(page)
    approver_page.goto(url)
    scanned["return page with a thread, approver"] = axe_violations(approver_page)
    assert scanned == {name: [] for name in scanned}, scanned
