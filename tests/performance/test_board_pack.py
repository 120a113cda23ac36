"""The board pack (issue 15, item 6): an Ambition Board's six-monthly report and the Forum's
dashboard as PDFs with their charts, map, a date, an "as at" statement, page numbers and a
contents page whose page numbers are right. Each PDF's text is read back (pypdf) and checked."""
import io
import re
from datetime import timedelta

import pypdf
import weasyprint
import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from partnerships.models import Board
from performance.dashboards import pack, print_charts, reports
from performance.models import BoardReport
from performance.rollups import engine
from tests.performance.test_board_report_publish import approver, member_of, seeded  # noqa: F401
from tests.performance.test_dashboards import seed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    """Packs and charts are cached by their content's fingerprint: each test starts with none."""
    cache.clear()


def pages_of(response) -> list[str]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment; filename=") and ".pdf" in response["Content-Disposition"]
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages]


def flat(text: str) -> str:
    return " ".join(text.split())


def contents(pages: list[str]) -> dict[str, int]:
    """The contents page's entries: their title and the page number the leader points to."""
    page = next(p for p in pages if p.lstrip().startswith("Contents") or "\nContents\n" in p)
    found = {}
    for line in page.splitlines():
        match = re.match(r"^(.*?)\s*\.{3,}\s*(\d+)$", line.strip())
        if match:
            found[match.group(1).strip()] = int(match.group(2))
    return found


def check_contents_point_right(pages: list[str]) -> dict[str, int]:
    entries = contents(pages)
    assert entries, "a contents page with page numbers"
    for title, number in entries.items():
        assert 1 <= number <= len(pages), (title, number)
        assert flat(title)[:30] in flat(pages[number - 1]), f"{title!r} is not on page {number}"
    return entries


def check_frame(pages: list[str], *, as_at: str) -> None:
    total = len(pages)
    assert total >= 4
    for n, text in enumerate(pages[1:], start=2):  # the title page has no running header
        assert f"Page {n} of {total}" in text, n
        assert f"As at {as_at}" in text, n
    assert f"As at {as_at}" in flat(pages[0])


def test_the_forum_pack_reads_back_with_its_contents_map_and_page_numbers(client, seeded):
    pages = pages_of(client.get(reverse("dashboards:forum-pack")))
    today = f"{timezone.localdate():%-d %B %Y}"
    check_frame(pages, as_at=today)
    text = flat(" ".join(pages))
    assert "Is Kent on track? Kent Forum board pack" in text
    entries = check_contents_point_right(pages)
    assert {"The three ambitions at a glance", "Map of the districts", "Scorecard"} <= set(entries)
    assert "Measure D0" in text and "Measure D1" in text
    assert "Boundaries: contains OS and ONS data" in text and "Medway" in text  # the map's attribution and what it leaves out
    assert "The map's figures" in text and "Ashford" in text
    assert "Indicators by status, each ambition" in text
    # Charts are drawn into the PDF (images), with their text kept as text.
    reader = pypdf.PdfReader(io.BytesIO(client.get(reverse("dashboards:forum-pack")).content))
    assert any("/XObject" in (p.get("/Resources") or {}) for p in reader.pages)


def test_an_ambition_boards_draft_pack_is_for_board_members_and_reads_back(client, seeded):
    url = reverse("dashboards:board-report", args=[2]) + "?format=pdf"
    assert client.get(url).status_code == 302  # sign in first
    client.force_login(member_of(2, "pack.member"))
    pages = pages_of(client.get(url))
    check_frame(pages, as_at=f"{timezone.localdate():%-d %B %Y}")
    text = flat(" ".join(pages))
    assert "Progress report: Ambition 2" in text and "Draft: figures as they stand now" in text
    entries = check_contents_point_right(pages)
    assert any(title.startswith("A2-KPQ3") for title in entries)
    content = reports.board_report_content(2)
    for indicator in next(k for k in content["kpqs"] if k["code"] == "A2-KPQ3")["indicators"]:
        assert indicator["name"] in text and indicator["status"] in text
    assert "Map of the districts" in text and "The map's figures" in text


def test_a_published_packs_figures_stay_as_published(client, seeded, approver):
    indicators, period = seeded
    client.force_login(member_of(2, "pack.publisher"))
    preview = client.get(reverse("dashboards:board-report-publish", args=[2]))
    client.post(reverse("dashboards:board-report-publish", args=[2]), {"fingerprint": preview.context["fingerprint"]})
    report = BoardReport.objects.get()
    client.logout()
    url = reverse("dashboards:report", args=[report.pk]) + "?format=pdf"
    before = flat(" ".join(pages_of(client.get(url))))  # public, as the report's page is
    assert "The figures were fixed when the report was published" in before
    assert f"As at {timezone.localtime(report.as_at):%-d %B %Y}" in before
    # Figures approved afterwards (a new measure of the same KPQ) change the dashboards, not the published pack.
    seed(approver, 1, 12, prefix="E")
    assert reports.board_report_content(2) != report.content
    after = flat(" ".join(pages_of(client.get(url))))
    assert after == before


def test_a_report_published_before_charts_were_kept_still_makes_a_pack(client, seeded):
    indicators, period = seeded
    content = reports.board_report_content(2)
    old = {key: value for key, value in content.items() if key != "districts"}
    old["kpqs"] = [{**k, "indicators": [{key: v for key, v in i.items() if key != "trend"} for i in k["indicators"]]}
                   for k in content["kpqs"]]
    user = member_of(2, "pack.old")
    report = BoardReport.objects.create(board=seeded_board(), period=period, as_at=timezone.now() - timedelta(days=200),
                                        title="An older report", content=old, published_by=user)
    text = flat(" ".join(pages_of(client.get(reverse("dashboards:report", args=[report.pk]) + "?format=pdf"))))
    assert "published before the map and charts were kept" in text and "Measure D0" in text


def seeded_board():
    return Board.objects.get(kind=Board.Kind.AMBITION, ambition__number=2)


def test_text_from_the_framework_is_printed_as_text_not_markup(client, seeded):
    indicators, _ = seeded
    indicators[0].name = 'Measure <img src="file:///etc/passwd"> & co'
    indicators[0].save()
    engine.rebuild_all()
    text = flat(" ".join(pages_of(client.get(reverse("dashboards:forum-pack")))))
    assert 'Measure <img src="file:///etc/passwd"> & co' in text


def test_the_pdf_renderer_reads_data_uris_only(tmp_path, settings):
    secret = tmp_path / "secret.svg"
    secret.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text y="9">LEAKED</text></svg>')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    (tmp_path / "probe.html").write_text(f'<p>probe</p><img src="file://{secret}"><img src="{{{{ chart }}}}">')
    chart = print_charts.data_uri(print_charts.trend_svg(title="Probe", unit="Count", points=[
        {"period": "2012", "value": "5", "target": "", "complete": True},
        {"period": "2013", "value": "6", "target": "7", "complete": False}]))
    text = pypdf.PdfReader(io.BytesIO(pack.render_pdf("probe.html", {"chart": chart}))).pages[0].extract_text()
    assert "probe" in text and "LEAKED" not in text
    assert "Probe" in text  # the chart's own text is text


def test_a_pack_is_laid_out_once_for_the_same_figures(client, seeded, approver, monkeypatch):
    laid_out = []
    write_pdf = weasyprint.HTML.write_pdf
    monkeypatch.setattr(weasyprint.HTML, "write_pdf", lambda self, *a, **k: laid_out.append(1) or write_pdf(self, *a, **k))
    first = client.get(reverse("dashboards:forum-pack")).content
    second = client.get(reverse("dashboards:forum-pack")).content
    assert first == second and len(laid_out) == 1
    seed(approver, 1, 12, prefix="F")  # new figures: a new pack
    assert client.get(reverse("dashboards:forum-pack")).content != first and len(laid_out) == 2


def test_a_pack_is_a_tagged_pdf_with_its_language_title_and_bookmarks(client, seeded):
    """PDF/UA-1: a screen reader finds the structure, the language and the title; the headings are bookmarks."""
    reader = pypdf.PdfReader(io.BytesIO(client.get(reverse("dashboards:forum-pack")).content))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"] and root["/Lang"] == "en-GB"
    assert reader.metadata.title == "Kent Forum: board pack"

    def titles(outline):
        for item in outline:
            yield from titles(item) if isinstance(item, list) else [item.title]

    assert {"Contents", "Map of the districts", "Scorecard"} <= set(titles(reader.outline))
