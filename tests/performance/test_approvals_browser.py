"""The approval queue in real headless Chromium: an approver filters it, selects two returns and
approves them through the confirmation page with the keyboard only; axe finds no serious or
critical violation on the queue or the confirmation page."""
from decimal import Decimal
from pathlib import Path

import pytest

from performance.models import IndicatorReturn, WorkflowState
from performance.returns import validation, workflow
from tests.factories import council, district
from tests.performance.test_browser import AXE, CHROMIUM, IN_CI, axe_violations, browser, sign_in  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not IN_CI,
                       reason="needs Debian's chromium (apt-get install chromium)"),
    pytest.mark.skipif(not AXE.exists() and not IN_CI, reason="needs node_modules (npm ci)"),
]


def waiting(indicator, value, area="Ashford", organisation="Ashford Borough Council", period=None):
    return IndicatorReturn.objects.create(
        indicator=indicator, locality=district(area), period=period, organisation=council(organisation),
        state=WorkflowState.SUBMITTED, value=Decimal(value), commentary="Checked against the source.",
    )


def tab_to(page, condition: str, limit: int = 120) -> None:
    """Press Tab until ``condition`` (JavaScript on ``document.activeElement``, as ``el``) holds."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return !!({condition}); }})()"):
            return
    raise AssertionError(f"Tab never reached an element where {condition}")


def test_keyboard_only_use_of_the_approvals_queue_for_a_bulk_approval(framework, live_server, browser, officer, approver, period,  # noqa: F811
                                                count_indicator, rate_indicator):
    scanned = {}
    ksi = waiting(count_indicator, 18, period=period)
    recycling = waiting(rate_indicator, 42, period=period)
    dover = waiting(count_indicator, 3, area="Dover", organisation="Dover District Council", period=period)

    page = sign_in(browser, live_server, "approver")
    page.goto(f"{live_server.url}/approvals/")
    assert page.get_by_role("heading", name="Returns waiting for approval").is_visible()
    assert page.locator("tr[id^='return-indicator-']").count() == 3
    scanned["queue"] = axe_violations(page)

    # The approver filters the queue to Ashford with the keyboard: the filters go in the URL.
    tab_to(page, "el.id === 'id_organisation'")
    page.get_by_label("Organisation").select_option(label="Ashford Borough Council")
    tab_to(page, "el.textContent.trim() === 'Apply filters'")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "organisation=" in page.url
    assert page.locator("tr[id^='return-indicator-']").count() == 2
    assert page.locator(f"#return-indicator-{dover.pk}").count() == 0
    scanned["filtered queue"] = axe_violations(page)

    # Selects both with Tab and Space; each checkbox's name says which return it selects.
    for ret in (ksi, recycling):
        box = f"select-indicator-{ret.pk}"
        tab_to(page, f"el.id === '{box}'")
        page.keyboard.press("Space")
        assert page.locator(f"#{box}").is_checked()
    name = page.locator(f"#select-indicator-{ksi.pk}").evaluate("el => el.labels[0].textContent.trim()")
    assert name == f"Select {count_indicator.name}, Ashford, {period.label}"
    tab_to(page, "el.textContent.trim() === 'Approve selected'")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # The confirmation page lists exactly those two, at their versions; nothing is approved yet.
    assert page.get_by_role("heading", name="Approve 2 returns?").is_visible()
    assert page.locator("tbody tr").count() == 2
    assert set(IndicatorReturn.objects.values_list("state", flat=True)) == {WorkflowState.SUBMITTED}
    scanned["confirmation"] = axe_violations(page)
    tab_to(page, "el.textContent.trim() === 'Approve these 2 returns'")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    page.wait_for_url(f"{live_server.url}/approvals/")
    assert page.get_by_text("2 returns approved").is_visible()
    states = dict(IndicatorReturn.objects.values_list("pk", "state"))
    assert states == {ksi.pk: "approved", recycling.pk: "approved", dover.pk: "submitted"}
    assert page.locator("tr[id^='return-indicator-']").count() == 1, "only Dover's is still waiting"
    scanned["queue after approval"] = axe_violations(page)
    assert scanned == {key: [] for key in scanned}, scanned


def test_a_bulk_approval_with_a_return_changed_meanwhile_approves_nothing(framework, live_server, browser, officer,  # noqa: F811
                                                                        approver, period, count_indicator):
    ksi = waiting(count_indicator, 18, period=period)
    dover = waiting(count_indicator, 3, area="Dover", organisation="Dover District Council", period=period)
    page = sign_in(browser, live_server, "approver")
    page.goto(f"{live_server.url}/approvals/")
    for ret in (ksi, dover):
        page.locator(f"#select-indicator-{ret.pk}").check()
    page.get_by_role("button", name="Approve selected").click()
    assert page.get_by_role("heading", name="Approve 2 returns?").is_visible()

    # Meanwhile Dover's return is sent back by another approver, corrected and submitted again.
    workflow.return_send_back(ret=dover, reason="Check it.", expected_version=dover.version, user=approver)
    dover = workflow.indicator_return_save_draft(
        indicator=count_indicator, locality=district("Dover"), period=period, organisation=council("Dover District Council"),
        figures=validation.IndicatorFigures(value=Decimal(4), commentary="Corrected."), expected_version=dover.version,
    )
    workflow.indicator_return_submit(ret=dover, expected_version=dover.version, confirm_warnings=True)

    page.get_by_role("button", name="Approve these 2 returns").click()
    assert page.get_by_role("heading", name="Nothing was approved").is_visible()
    summary = page.locator(".govuk-error-summary")
    assert "changed after you chose it" in summary.inner_text() and "Dover" in summary.inner_text()
    assert axe_violations(page) == []
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == f"return-indicator-{dover.pk}", "the summary links to the row"
    assert set(IndicatorReturn.objects.values_list("state", flat=True)) == {WorkflowState.SUBMITTED}

    # Back in the queue, both are still selected; Dover's at its new version.
    page.get_by_role("link", name="Back to the approvals queue with these returns still selected").click()
    assert page.locator(f"#select-indicator-{ksi.pk}").is_checked()
    assert page.locator(f"#select-indicator-{dover.pk}").is_checked()
    assert page.locator(f"#select-indicator-{dover.pk}").get_attribute("value") == f"indicator-{dover.pk}-{dover.version}"
