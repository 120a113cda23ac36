"""Every table of every dashboard page can be downloaded: one table as CSV, or all of a page's
tables as one Excel workbook (performance/dashboards/tables.py and downloads.py).

"Every" is checked against the pages themselves: each page is rendered, its <table>s read
(caption and rows), and they must be, in order, the downloadable tables (same caption, same
number of rows); each table's "Download ... as CSV" link must work and give that table."""
from __future__ import annotations

import csv
import datetime
import io
from collections import Counter
from decimal import Decimal
from html.parser import HTMLParser

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ambitions.models import KPQ, DeliveryPlanAmbition
from kentforum.csvcells import export_cell
from kentforum.loaders.demo import demo_load
from kentforum.roles import Role
from localities.models import Locality
from performance.catalogue import rules
from performance.dashboards import downloads, judgements, maps
from performance.dashboards.tables import Column, Table
from performance.models import Indicator, IndicatorRollup, Milestone
from performance.returns import workflow
from performance.returns.validation import MilestoneProgress
from performance.rollups import engine
from tests.factories import council
from tests.performance.conftest import make_user
from tests.performance.test_dashboards import seed

pytestmark = pytest.mark.django_db

FORMULA = "=1+1 Measure"  # an indicator's name a spreadsheet would run as a formula
RATIONALE = "=HYPERLINK(\"http://evil.example\") the figures are mixed"


# --- Reading a page's tables and links --------------------------------------------------------------

class PageTablesParser(HTMLParser):
    """Each <table>: its caption (as text) and its rows of data (a KPQ's heading row and a
    "nothing yet" row that spans the table are not data); and the page's download links."""

    def __init__(self):
        super().__init__()
        self.tables, self.links = [], []
        self.table = self.row = None
        self.in_caption = self.in_body = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.table = {"caption": "", "rows": 0}
        elif tag == "caption" and self.table is not None:
            self.in_caption = True
        elif tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body:
            self.row = {"cells": 0, "group": False, "spans": False}
        elif tag in ("td", "th") and self.row is not None:
            self.row["cells"] += 1
            self.row["group"] |= attrs.get("scope") == "rowgroup"
            self.row["spans"] |= "colspan" in attrs
        elif tag == "a" and "/tables" in (attrs.get("href") or ""):
            self.links.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "caption":
            self.in_caption = False
        elif tag == "tbody":
            self.in_body = False
        elif tag == "tr" and self.row is not None:
            if not self.row["group"] and not (self.row["cells"] == 1 and self.row["spans"]):
                self.table["rows"] += 1
            self.row = None
        elif tag == "table":
            self.table["caption"] = " ".join(self.table["caption"].split())
            self.tables.append(self.table)
            self.table = None

    def handle_data(self, data):
        if self.in_caption:
            self.table["caption"] += data


def read_page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    parser = PageTablesParser()
    parser.feed(response.content.decode())
    return parser


def read_csv(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def read_workbook(response):
    assert response["Content-Type"] == downloads.XLSX
    assert response["Content-Disposition"].startswith('attachment; filename="') and '.xlsx"' in response["Content-Disposition"]
    return openpyxl.load_workbook(io.BytesIO(response.content))


def assert_every_table_is_downloadable(client, url, built, *, csv_kinds=None):
    """The page's tables are the downloadable ones, in order, caption and rows; every table has
    one CSV link, which gives it; the workbook has a sheet for each. ``csv_kinds``: fetch the CSV
    of only the first table of each kind not yet in this set (and add it), so that a walk over
    every page fetches each kind of CSV once rather than hundreds of times (each CSV builds its
    whole page)."""
    page = read_page(client, url)
    assert [(t["caption"], t["rows"]) for t in page.tables] == [(t.title, len(t.rows)) for t in built.tables], url
    assert {t["caption"] for t in page.tables} == {t.title for t in built.tables}
    slugs = [t.slug for t in built.tables]
    assert len(set(slugs)) == len(slugs), f"{url}: two tables share a slug"
    csv_links = [link for link in page.links if link.endswith(".csv")]
    assert Counter(csv_links) == Counter(f"{url}tables/{slug}.csv" for slug in slugs), url
    assert page.links.count(f"{url}tables.xlsx") == 1, f"{url}: one link to the workbook"
    for table, link in zip(built.tables, (f"{url}tables/{slug}.csv" for slug in slugs), strict=True):
        kind = table.slug.split("-")[0]
        if csv_kinds is not None:
            if kind in csv_kinds:
                continue
            csv_kinds.add(kind)
        rows = read_csv(client.get(link))
        assert rows[0] == table.header and len(rows) == len(table.rows) + 1, link
    book = read_workbook(client.get(f"{url}tables.xlsx"))
    assert book.sheetnames[0] == "About" and len(book.sheetnames) == len(built.tables) + 1, url
    for name, table in zip(book.sheetnames[1:], built.tables, strict=True):
        sheet = book[name]
        assert sheet["A1"].value == export_cell(table.title)  # a title that looks like a formula is neutralised
        assert sheet.max_row == downloads.HEADER_ROW + len(table.rows) or not table.rows, (url, name)


# --- The data: two quarters of approved figures, a milestone, a judgement ---------------------------

@pytest.fixture
def approver(db):
    return make_user("tables.approver", "Kent County Council", Role.APPROVER)


@pytest.fixture
def seeded(approver):
    indicators, period = seed(approver, 4, 12, prefix="X")
    Indicator.objects.filter(pk=indicators[0].pk).update(name=FORMULA)
    plan = DeliveryPlanAmbition.objects.filter(ambition__number=2).select_related("plan").first().plan
    milestone = Milestone.objects.create(title="-Open the new skills centre", delivery_plan=plan, owner=council(),
                                         due_date=datetime.date(2013, 3, 31))
    milestone.kpqs.add(KPQ.objects.get(ambition__number=2, number=3))
    ret = workflow.milestone_return_save_draft(
        milestone=milestone, period=period, organisation=council(), user=None,
        progress=MilestoneProgress(status="at_risk", percent_complete=40, commentary="Funding is late."),
    )
    ret = workflow.milestone_return_submit(ret=ret, expected_version=ret.version) or ret
    ret.refresh_from_db()
    workflow.return_approve(ret=ret, expected_version=ret.version, user=approver)
    engine.rebuild_all()
    member = make_user("tables.member", "Canterbury City Council", Role.BOARD_MEMBER)
    judgements.kpq_judgement_add(user=member, kpq=KPQ.objects.get(ambition__number=2, number=3), period=period,
                                 answer="mixed", rationale=RATIONALE, derived_answer="mixed")
    return {"indicators": indicators, "period": period}


PAGES = [
    (reverse("dashboards:forum"), downloads.forum_page_tables, {}),
    *[(reverse("dashboards:ambition", args=[n]), downloads.ambition_page_tables, {"number": n}) for n in (1, 2, 3)],
    (reverse("dashboards:locality", args=["E07000105"]), downloads.locality_page_tables, {"gss_code": "E07000105"}),
    (reverse("dashboards:kpq", args=["A2-KPQ3"]), downloads.kpq_page_tables, {"code": "A2-KPQ3"}),
]


def test_every_table_of_every_page_is_downloadable(client, seeded):
    pages = PAGES + [(reverse("dashboards:indicator", args=[i.code]), downloads.indicator_page_tables, {"code": i.code})
                     for i in seeded["indicators"][:2]]
    kinds = Counter()
    for url, build, kwargs in pages:
        built = build(**kwargs)
        assert built.tables, url
        assert_every_table_is_downloadable(client, url, built)
        kinds.update(t.slug.split("-")[0] for t in built.tables)
    # The data reach every kind of table but the breakdowns (the demo walk below has those).
    for kind in ("scorecard", "map", "ambition", "trend", "milestones", "milestone", "districts", "judgements", "targets"):
        assert kinds[kind], f"no {kind} table was checked"


def test_the_workbook_says_what_it_is_and_keeps_the_figures(client, seeded):
    book = read_workbook(client.get(reverse("dashboards:forum-tables")))
    about = {row[0]: row[1] for row in book["About"].iter_rows(values_only=True) if row and row[0]}
    assert about["Page"] == "Kent Forum dashboard"
    assert about["Address"] == "http://testserver/dashboards/"
    assert about["Source"].startswith("Approved figures only")
    assert isinstance(about["Generated"], datetime.datetime)
    assert about["Licence and attribution"] == maps.ATTRIBUTION  # the map's figures are in it
    for name in book.sheetnames:
        assert len(name) <= 31 and not set(name) & set("[]:*?/\\"), name
    assert len({n.lower() for n in book.sheetnames}) == len(book.sheetnames)

    # The scorecard's figures are numbers, at full precision, shown with the indicator's places.
    sheet = book[book.sheetnames[1]]
    header = [c.value for c in sheet[downloads.HEADER_ROW]]
    figure, code = header.index("Latest complete figure") + 1, header.index("Indicator code") + 1
    county = Locality.objects.get(kind="county")
    checked = 0
    for row in range(downloads.HEADER_ROW + 1, sheet.max_row + 1):
        indicator = Indicator.objects.filter(code=sheet.cell(row=row, column=code).value).first()
        cell = sheet.cell(row=row, column=figure)
        if indicator is None or cell.value is None:
            continue
        rollup = IndicatorRollup.objects.filter(indicator=indicator, locality=county, breakdown_key="", complete=True) \
            .order_by("-period__start").first()
        assert Decimal(str(cell.value)) == rollup.value and cell.data_type == "n"
        assert cell.number_format == downloads.number_format(indicator.decimal_places)
        checked += 1
    assert checked >= 4


def test_text_a_spreadsheet_would_run_is_neutralised_in_both_formats(client, seeded):
    url = reverse("dashboards:ambition-tables", args=[2])
    book = read_workbook(client.get(url))
    texts = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert all(cell.data_type == "s" for cell in texts)
    assert not any(cell.value.startswith(("=", "+", "-", "@")) for cell in texts)
    assert any(cell.value == f"'{FORMULA}" for cell in texts), "the indicator's name, neutralised"
    assert any(cell.value == "'-Open the new skills centre" for cell in texts), "the milestone's title, neutralised"

    rows = read_csv(client.get(reverse("dashboards:ambition-table", args=[2, "scorecard"])))
    names = [row[rows[0].index("Indicator")] for row in rows[1:]]
    assert f"'{FORMULA}" in names and FORMULA not in names

    kpq = read_workbook(client.get(reverse("dashboards:kpq-tables", args=["A2-KPQ3"])))
    judged = kpq[kpq.sheetnames[1]]
    assert judged["A1"].value == "Judgements, newest first, with their history"
    assert judged.cell(row=downloads.HEADER_ROW + 1, column=6).value == f"'{RATIONALE}"
    assert isinstance(judged.cell(row=downloads.HEADER_ROW + 1, column=1).value, datetime.datetime)
    rows = read_csv(client.get(reverse("dashboards:kpq-table", args=["A2-KPQ3", "judgements"])))
    assert rows[1][5] == f"'{RATIONALE}"


def test_a_table_as_csv_keeps_full_precision(client, seeded):
    indicator = seeded["indicators"][1]  # a percentage
    response = client.get(reverse("dashboards:indicator-table", args=[indicator.code, "districts-by-period"]))
    assert response["Content-Disposition"] == (
        f'attachment; filename="indicator-{indicator.code.lower()}-districts-by-period.csv"')
    rows = read_csv(response)
    assert len(rows) == 1 + Locality.objects.filter(kind="district").count()
    label = seeded["period"].label
    ashford = next(r for r in rows if r[0] == "Ashford")
    rollup = IndicatorRollup.objects.get(indicator=indicator, locality__name="Ashford", period=seeded["period"], breakdown_key="")
    assert Decimal(ashford[rows[0].index(label)]) == rollup.value
    assert ashford[rows[0].index(f"{label}: status")] == rules.status_label(rollup.status)


def test_unknown_pages_and_tables_are_not_found_and_nothing_is_posted(client, seeded):
    code = seeded["indicators"][0].code
    for url in (
        reverse("dashboards:ambition-tables", args=[9]), reverse("dashboards:ambition-table", args=[9, "scorecard"]),
        reverse("dashboards:locality-tables", args=["E10000016"]),  # the county has no Locality Board
        reverse("dashboards:locality-table", args=["E99999999", "scorecard"]),
        reverse("dashboards:kpq-tables", args=["A9-KPQ9"]), reverse("dashboards:kpq-tables", args=["nonsense"]),
        reverse("dashboards:indicator-tables", args=["NO-SUCH"]),
        reverse("dashboards:forum-table", args=["no-such-table"]),
        reverse("dashboards:indicator-table", args=[code, "scorecard"]),  # an indicator's page has no scorecard
    ):
        assert client.get(url).status_code == 404, url
    for url in (reverse("dashboards:forum-tables"), reverse("dashboards:forum-table", args=["scorecard"])):
        assert client.post(url).status_code == 405


@pytest.mark.parametrize("url", [url for url, _build, _kwargs in PAGES])
def test_the_workbook_costs_no_more_queries_than_its_page(client, seeded, url):
    with CaptureQueriesContext(connection) as page:
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as workbook:
        assert client.get(f"{url}tables.xlsx").status_code == 200
    assert len(workbook) <= len(page) + 2, f"{url}: the page {len(page)} queries, its workbook {len(workbook)}"


def test_sheet_names_are_short_unique_and_plain():
    names = downloads.sheet_names(["Scorecard: every indicator of the three ambitions, by Key Performance Question",
                                   "Scorecard: every indicator of the three ambitions, by Key Performance Question",
                                   "Kent by age [band]: 16/17*?", "about", "'quoted'", "Indicators by status"])
    assert names == ["Scorecard every indicator of th", "Scorecard every indicator o (2)", "Kent by age band 16 17",
                     "about (2)", "quoted", "Indicators by status"]
    assert all(len(n) <= 31 for n in names)


def test_a_number_has_the_places_of_its_column_or_else_of_its_row():
    table = Table(slug="t", title="T", columns=[Column("Area"), Column("Value", 2), Column("Figure")],
                  rows=[["a", Decimal("1.23456"), Decimal(5)]], row_places=[0])
    assert [table.places(0, c) for c in range(3)] == [0, 2, 0]
    assert downloads.number_format(2) == "#,##0.00" and downloads.number_format(0) == "#,##0"


# --- Over the whole demo set: every page of every kind (the evidence tier) ---------------------------

@pytest.mark.slow
def test_every_table_of_every_demo_page_is_downloadable(client):
    demo_load()
    pages = [(reverse("dashboards:forum"), downloads.forum_page_tables, {})]
    pages += [(reverse("dashboards:ambition", args=[n]), downloads.ambition_page_tables, {"number": n}) for n in (1, 2, 3)]
    pages += [(reverse("dashboards:locality", args=[gss]), downloads.locality_page_tables, {"gss_code": gss})
              for gss in Locality.objects.filter(kind="district").values_list("gss_code", flat=True)]
    pages += [(reverse("dashboards:kpq", args=[k.code]), downloads.kpq_page_tables, {"code": k.code})
              for k in KPQ.objects.select_related("ambition")]
    pages += [(reverse("dashboards:indicator", args=[code]), downloads.indicator_page_tables, {"code": code})
              for code in Indicator.objects.filter(is_active=True).values_list("code", flat=True)]
    kinds, fetched = Counter(), set()
    for url, build, kwargs in pages:
        built = build(**kwargs)
        assert_every_table_is_downloadable(client, url, built, csv_kinds=fetched)
        kinds.update(t.slug.split("-")[0] for t in built.tables)
    for kind in ("scorecard", "map", "ambition", "trend", "milestones", "milestone", "districts", "breakdown",
                 "targets"):  # (the demo has no judgements: the test above has)
        assert kinds[kind], f"the demo has no {kind} table"
