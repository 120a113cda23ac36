"""Phones (issue 15, item 8), and every chart's "download as PNG" (item 6): at 320 px no page scrolls sideways; a wide table scrolls inside
its own container (a focusable region, so a keyboard can scroll it too). Real Chromium, and an
axe-core scan of the new pages (search, the indicator's own page) at that width."""
import pytest

from performance.models import Indicator
from tests.performance.test_browser import AXE, CHROMIUM, IN_CI, axe_violations, browser, sign_in  # noqa: F401
from tests.performance.test_dashboards import seed

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists() and not IN_CI, reason="needs chromium")]

PUBLIC = ["/", "/dashboards/", "/dashboards/ambitions/2/", "/dashboards/localities/E07000105/", "/dashboards/kpqs/A2-KPQ3/",
          "/indicators/", "/delivery-plans/", "/partnerships/", "/search/?q=measure"]


def overflow(page) -> tuple[int, list[str]]:
    """The page's width, and the tables wider than the screen that are not in their own scroller."""
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(300)
    loose = page.evaluate("""() => Array.from(document.querySelectorAll('table'))
        .filter(t => t.scrollWidth > window.innerWidth && !t.closest('.kf-table-scroll[tabindex]'))
        .map(t => (t.querySelector('caption') || {textContent: t.outerHTML.slice(0, 60)}).textContent.trim())""")
    return page.evaluate("document.documentElement.scrollWidth"), loose


def test_no_page_scrolls_sideways_at_320_px(framework, live_server, browser, officer, approver):
    indicators, period = seed(approver, 2, 12)
    pages = PUBLIC + [f"/dashboards/indicators/{indicators[1].code}/"]
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    wide = {}
    for url in pages:
        page.goto(f"{live_server.url}{url}")
        width, loose = overflow(page)
        if width > 320 or loose:
            wide[url] = (width, loose)
    signed = sign_in(browser, live_server, "ashford")
    signed.set_viewport_size({"width": 320, "height": 640})
    for url in ["/returns/", f"/returns/{period.pk}/indicators/{indicators[1].code}/E07000105/"]:
        signed.goto(f"{live_server.url}{url}")
        width, loose = overflow(signed)
        if width > 320 or loose:
            wide[url] = (width, loose)
    assert wide == {}


def test_the_new_pages_pass_axe_at_320_px(framework, live_server, browser, approver):
    indicators, period = seed(approver, 2, 12)
    assert Indicator.objects.filter(code=indicators[1].code).exists()
    context = browser.new_context(viewport={"width": 320, "height": 640}, bypass_csp=True)
    page = context.new_page()
    found = {}
    for url in [f"/dashboards/indicators/{indicators[1].code}/", "/search/?q=measure", "/dashboards/"]:
        page.goto(f"{live_server.url}{url}")
        found[url] = axe_violations(page)
    assert {url: v for url, v in found.items() if v} == {}


def test_every_chart_offers_plotlys_download_as_png(framework, live_server, browser, approver):
    indicators, period = seed(approver, 2, 12)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/dashboards/indicators/{indicators[1].code}/")
    page.locator(".kf-chart").first.scroll_into_view_if_needed()
    page.wait_for_selector(".kf-chart--drawn .main-svg", timeout=15000)
    chart = page.locator(".kf-chart--drawn").first
    chart.hover()
    buttons = chart.locator(".modebar-btn")
    titles = [buttons.nth(n).get_attribute("data-title") for n in range(buttons.count())]
    assert len(titles) == 1 and "png" in titles[0].lower(), titles
    button = buttons.first
    with page.expect_download() as download:
        button.click()
    assert download.value.suggested_filename.endswith(".png")
