"""The board pack in Chromium (issue 15, Done when: "the PDF renders; its text is read back and
checked"): a visitor downloads the Forum's pack from the Forum page, and a board member the
draft of their Ambition Board's report from the report page, by clicking the links a person
sees; each download is read back with pypdf."""
from pathlib import Path

import pypdf
import pytest
from django.core.cache import cache

from tests.performance.test_board_report_publish import approver, member_of  # noqa: F401
from tests.performance.test_browser import CHROMIUM, IN_CI, browser, sign_in  # noqa: F401
from tests.performance.test_dashboards import seed

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not Path(CHROMIUM).exists() and not IN_CI, reason="needs chromium")]


def download(page, link_name: str, tmp_path: Path) -> list[str]:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).first.click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert target.suffix == ".pdf"
    return [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(target).pages]


def test_the_packs_download_from_the_pages_and_read_back(framework, live_server, browser, approver, tmp_path):  # noqa: F811
    cache.clear()
    seed(approver, 2, 12)
    page = browser.new_context(accept_downloads=True).new_page()
    page.goto(f"{live_server.url}/dashboards/")
    pages = download(page, "Download the Forum's board pack (PDF)", tmp_path)
    assert "Is Kent on track? Kent Forum board pack" in pages[0]
    assert "Contents" in pages[1] and f"Page 2 of {len(pages)}" in pages[1]
    assert any("Measure D0" in p for p in pages) and any("The map's figures" in p for p in pages)

    member_of(2, "pack.browser")
    signed = sign_in(browser, live_server, "pack.browser")
    signed.goto(f"{live_server.url}/dashboards/ambitions/2/report/")
    pages = download(signed, "Download the board pack (PDF)", tmp_path)
    assert "Progress report: Ambition 2" in pages[0] and "Draft: figures as they stand now" in pages[0]
    assert any("A2-KPQ3" in p for p in pages[2:]) and f"Page {len(pages)} of {len(pages)}" in pages[-1]
