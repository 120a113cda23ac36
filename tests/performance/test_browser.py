"""The returns flow in real headless Chromium (Debian's package, driven by Playwright), and an
axe-core accessibility scan of the main pages."""
import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from performance.models import IndicatorReturn
from tests.performance.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

# Skipped on a developer machine without Chromium; in CI (CI=true) a missing browser fails instead.
IN_CI = bool(os.environ.get("CI"))
pytestmark = [pytest.mark.slow, pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not IN_CI, reason="needs Debian's chromium (apt-get install chromium)"),
    pytest.mark.skipif(not AXE.exists() and not IN_CI, reason="needs node_modules (npm ci)"),
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; the test's own ORM calls are
    # still synchronous, so Django's async-safety check is relaxed for these tests only.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def sign_in(browser, live_server, username):
    # The axe-core scan injects its script inline, which the portal's CSP refuses by design; the
    # pages themselves are checked under the CSP in tests/kentforum/test_csp.py.
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    return page


def axe_violations(page, serious_only=True):
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"] if not serious_only or v["impact"] in ("serious", "critical")
    ]


def test_officer_and_approver_flow(framework, live_server, browser, officer, approver, forum_admin, period, rate_indicator):
    scanned = {}
    # The officer signs in and opens the return from My returns.
    page = sign_in(browser, live_server, "ashford")
    page.get_by_role("link", name="My returns").click()
    assert page.get_by_text("0 of 1 submitted or approved").is_visible()
    scanned["my returns"] = axe_violations(page)
    page.get_by_role("link", name="Household waste recycled").click()
    scanned["return form"] = axe_violations(page)

    # A validation error: the numerator is above the denominator.
    page.get_by_label("Numerator: Households recycling").fill("1200")
    page.get_by_label("Denominator: Households").fill("1000")
    page.get_by_role("button", name="Submit for approval").click()
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible() and "numerator cannot be more than the denominator" in summary.inner_text()
    assert page.get_by_label("Numerator: Households recycling").input_value() == "1200", "what was typed stays"
    scanned["return form with errors"] = axe_violations(page)
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "id_numerator", "the summary links to the field"

    # Fix it, save a draft, then submit.
    page.get_by_label("Numerator: Households recycling").fill("420")
    page.get_by_role("button", name="Save as draft").click()
    assert page.get_by_text("Draft saved.").is_visible()
    assert page.get_by_text("42.0%").is_visible(), "the rate is computed and shown"
    page.get_by_role("button", name="Submit for approval").click()
    assert page.get_by_text("submitted for approval").is_visible()
    assert IndicatorReturn.objects.get().state == "submitted"

    # The approver returns it with a reason.
    approver_page = sign_in(browser, live_server, "approver")
    approver_page.get_by_role("link", name="Approvals").click()
    assert approver_page.get_by_role("cell", name="Ashford Borough Council").is_visible()  # one table, by deadline
    scanned["approvals"] = axe_violations(approver_page)
    approver_page.get_by_role("link", name="Household waste recycled").click()
    approver_page.get_by_label("Why are you returning it?").fill("Please use the tonnage figures, not households.")
    approver_page.get_by_role("button", name="Return to officer").click()
    assert IndicatorReturn.objects.get().state == "returned"

    # The officer sees the reason, corrects and resubmits.
    page.goto(f"{live_server.url}/returns/")
    assert page.get_by_text("Please use the tonnage figures, not households.").is_visible()
    page.get_by_role("link", name="Household waste recycled").click()
    page.get_by_label("Numerator: Households recycling").fill("41")
    page.get_by_label("Denominator: Households").fill("100")
    page.get_by_label("Commentary").fill("Now in thousands of tonnes, as asked.")
    page.get_by_role("button", name="Submit for approval").click()
    assert page.get_by_text("submitted for approval").is_visible()

    # The approver approves.
    approver_page.goto(f"{live_server.url}/approvals/")
    approver_page.get_by_role("link", name="Household waste recycled").click()
    approver_page.get_by_role("button", name="Approve").click()
    ret = IndicatorReturn.objects.get()
    assert ret.state == "approved" and ret.value == Decimal("41.0000")

    # The audit trail shows every step.
    page.goto(approver_page.url.replace("/approvals/", "/returns/") if "/approvals/" in approver_page.url else page.url)
    page.goto(f"{live_server.url}/returns/{period.pk}/indicators/T-RECYC/E07000105/")
    history = page.locator("#history + .kf-table-scroll table").inner_text()
    for step in ("Created", "Saved as draft", "Submitted", "Returned", "Approved",
                 "Please use the tonnage figures, not households."):
        assert step in history, step
    assert history.count("Submitted") == 2

    # The admin's periods page and the public pages.
    admin_page = sign_in(browser, live_server, "forumadmin")
    admin_page.goto(f"{live_server.url}/periods/")
    scanned["periods"] = axe_violations(admin_page)
    admin_page.goto(f"{live_server.url}/")
    scanned["home"] = axe_violations(admin_page)
    admin_page.goto(f"{live_server.url}/delivery-plans/")
    scanned["delivery plans"] = axe_violations(admin_page)
    anonymous = browser.new_page(bypass_csp=True)
    anonymous.goto(f"{live_server.url}/accounts/login/")
    scanned["sign in"] = axe_violations(anonymous)
    assert {name: found for name, found in scanned.items() if found} == {}


def test_pages_work_without_javascript(framework, live_server, browser, officer, period, rate_indicator):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("ashford")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/returns/{period.pk}/indicators/T-RECYC/E07000105/")
    page.get_by_label("Numerator: Households recycling").fill("40")
    page.get_by_label("Denominator: Households").fill("100")
    page.get_by_role("button", name="Submit for approval").click()
    assert page.get_by_text("submitted for approval").is_visible()
    assert IndicatorReturn.objects.get().state == "submitted"


def test_keyboard_only_sign_in(framework, live_server, browser, officer):
    page = browser.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"
    page.get_by_label("Username").focus()
    page.keyboard.type("ashford")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/returns/")  # an officer lands on My returns
    assert page.get_by_text("Signed in as").is_visible()
