"""My returns in real headless Chromium: the officer narrows the list to what is still to do and
sorts it by what needs doing first with the keyboard only; the count of what is left stays; axe
finds no serious or critical violation on the filtered page or on one with a filter error."""
from decimal import Decimal
from pathlib import Path

import pytest

from performance.models import IndicatorReturn, WorkflowState
from tests.factories import council, district
from tests.performance.test_approvals_browser import tab_to
from tests.performance.test_browser import AXE, CHROMIUM, IN_CI, axe_violations, browser, sign_in  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not IN_CI,
                       reason="needs Debian's chromium (apt-get install chromium)"),
    pytest.mark.skipif(not AXE.exists() and not IN_CI, reason="needs node_modules (npm ci)"),
]


def test_filtering_and_sorting_my_returns_with_the_keyboard(framework, live_server, browser, officer, period,
                                                            count_indicator, rate_indicator):  # noqa: F811
    IndicatorReturn.objects.create(indicator=rate_indicator, locality=district(), period=period,
                                   organisation=council(), state=WorkflowState.SUBMITTED, value=Decimal(41))
    page = sign_in(browser, live_server, "ashford")
    page.goto(f"{live_server.url}/returns/")
    assert "1 of 2 returns left to do" in page.locator("#returns-left").inner_text()

    tab_to(page, "el.id === 'id_state'")
    page.keyboard.press("ArrowDown")  # "Still to do (not started, draft or sent back)"
    tab_to(page, "el.id === 'id_sort'")
    page.locator("#id_sort").select_option("state")  # a keyboard user picks with the arrows too
    tab_to(page, "el.tagName === 'BUTTON' && el.textContent.includes('Apply')")
    page.keyboard.press("Enter")
    page.wait_for_url("**/returns/?*")
    assert "state=left" in page.url and "sort=state" in page.url
    assert page.get_by_text("Showing 1 of 2 returns.").is_visible()
    table = page.locator("table").inner_text()
    assert "People killed or seriously injured" in table and "Household waste recycled" not in table
    assert "1 of 2 returns left to do" in page.locator("#returns-left").inner_text()
    assert axe_violations(page) == []

    page.goto(f"{live_server.url}/returns/?state=lost")
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible() and "State" in summary.inner_text()
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "id_state", "the summary links to the filter"
    assert axe_violations(page) == []
