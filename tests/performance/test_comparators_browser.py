"""The indicator page's comparator section in headless Chromium: the tables are there beside
the neighbours' chart, and axe-core finds no serious or critical violation on the page."""

from kentforum.roles import Role
from performance.comparators import services
from tests.performance.conftest import make_user
from tests.performance.test_browser import axe_violations, browser  # noqa: F401 - the fixture
from tests.performance.test_browser import pytestmark as browser_marks
from tests.performance.test_comparators import csv_of
from tests.performance.test_dashboards import seed

pytestmark = browser_marks


def test_the_comparator_tables_pass_axe(framework, live_server, browser):  # noqa: F811
    approver = make_user("cmp.approver", "Kent County Council", Role.APPROVER)
    (count, rate), period = seed(approver, 2, 12)
    neighbours = [f"{rate.code},{gss},{period.label},{30 + n},{29 + n},{31 + n},CIPFA demo,2013-06-01,final"
                  for n, (_, gss) in enumerate(services.CIPFA_NEIGHBOURS)]
    services.comparator_figures_import(user=approver, raw=csv_of(
        f"{rate.code},E92000001,{period.label},40.0,39.8,40.2,ONS,2013-06-01,final",
        f"{rate.code},E12000008,2012/13 Q1,50.0,49.5,50.5,ONS,2012-09-01,provisional", *neighbours))
    context = browser.new_context(bypass_csp=True)  # axe's script is injected inline
    page = context.new_page()
    page.goto(f"{live_server.url}/dashboards/indicators/{rate.code}/#comparators")
    table = page.locator("#comparators-table")
    assert table.locator("caption").inner_text() == "Kent against England and the South East"
    assert "Better" in table.inner_text() and "South East's latest is 2012/13 Q1" in table.inner_text()
    assert page.locator("#district-comparators-table tbody tr").count() == 12
    assert "By value, Kent is" in page.content()
    chart = page.locator("#neighbours-kent-cipfa-nearest-neighbours")
    chart.scroll_into_view_if_needed()  # charts are drawn as they come into view
    page.wait_for_selector("#neighbours-kent-cipfa-nearest-neighbours.kf-chart--drawn")  # beside its table
    assert axe_violations(page) == []
    context.close()
