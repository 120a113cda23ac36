"""Bulk entry by CSV in Chromium (issue 16, item 2): an upload then submit-all. The officer
downloads the template, fills two rows, uploads it, sees what will change, saves, submits
all, and sees the summary; every page of the journey passes axe."""
import csv
import io

import pytest

from performance.models import IndicatorReturn
from tests.performance.test_browser import AXE, CHROMIUM, IN_CI, axe_violations, browser, sign_in  # noqa: F401, F811

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists() and not IN_CI, reason="needs chromium")]


def test_an_upload_then_submit_all(framework, live_server, browser,  # noqa: F811
                                    officer, period, count_indicator, rate_indicator, tmp_path):
    page = sign_in(browser, live_server, "ashford")
    scanned = {}
    page.goto(f"{live_server.url}/returns/{period.pk}/upload/")
    scanned["upload"] = axe_violations(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the CSV template").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read())))
    for row in rows:
        if row["indicator_code"] == "T-KSI" and not row["breakdown"]:
            row.update(value="14", commentary="Fewer collisions")
        elif row["indicator_code"] == "T-RECYC":
            row.update(numerator="45", denominator="100", commentary="On target")
    filled = tmp_path / "returns.csv"
    with open(filled, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    page.locator("#id_file").set_input_files(str(filled))
    page.get_by_role("button", name="Check the file").click()
    assert "2 returns changed, 0 unchanged" in page.locator("#import-summary").inner_text()
    scanned["preview"] = axe_violations(page)
    page.get_by_role("button", name="Save 2 changed returns (0 unchanged, 0 with errors)").click()
    scanned["saved"] = axe_violations(page)
    page.get_by_label("I have checked the warnings").check()
    page.get_by_role("button", name="Submit the 2 saved drafts that pass validation").click()
    assert page.locator("#submit-summary").inner_text() == "2 submitted"
    scanned["summary"] = axe_violations(page)
    assert set(IndicatorReturn.objects.filter(breakdown=None).values_list("state", flat=True)) == {"submitted"}
    assert {name: found for name, found in scanned.items() if found} == {}
