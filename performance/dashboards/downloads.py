"""The dashboards' tables as files: every table of a page in one Excel workbook (a sheet a table,
after an "About" sheet), or one table as CSV. Anyone may download them, as anyone may read the
pages (approved figures only); GET only. Each is built from the same context as its page
(``pages``, ``indicator``) through ``tables``, so a file holds what the page shows, at full
precision.

Text that a spreadsheet would run as a formula is neutralised in both formats by the one rule of
``kentforum.csvcells.export_cell`` (a leading apostrophe); in the workbook text is, besides,
always a text cell, never a formula. Numbers are number cells, shown with the indicator's own
decimal places."""
from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET
from openpyxl import Workbook
from openpyxl.styles import Font

from ambitions.models import KPQ, Ambition
from kentforum.csvcells import export_cell
from localities.models import Locality
from performance.dashboards import pages, tables
from performance.dashboards.indicator import indicator_page
from performance.models import Indicator

SOURCE = "Approved figures only: the portal's summary tables, which hold approved returns alone."
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_NAME_LENGTH = 31  # Excel's limit
NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")


@dataclass
class PageTables:
    """A page's tables, with what the files say of the page: its name, its address, and the
    stem of the files' names."""

    name: str
    url: str
    stem: str
    tables: list[tables.Table]


# --- Each page's tables (an unknown board, locality, KPQ or indicator is 404) ---------------------

def forum_page_tables() -> PageTables:
    return PageTables("Kent Forum dashboard", reverse("dashboards:forum"), "kent-forum",
                      tables.forum_tables(pages.forum_dashboard()))


def ambition_page_tables(number: int) -> PageTables:
    try:
        context = pages.ambition_dashboard(number)
    except Ambition.DoesNotExist as exc:
        raise Http404 from exc
    ambition = context["ambition"]
    return PageTables(f"Ambition {ambition.number}: {ambition.title}", reverse("dashboards:ambition", args=[number]),
                      f"ambition-{number}", tables.ambition_tables(context))


def locality_page_tables(gss_code: str) -> PageTables:
    try:
        context = pages.locality_dashboard(gss_code)
    except Locality.DoesNotExist as exc:
        raise Http404 from exc
    locality = context["locality"]
    return PageTables(f"{locality.name} Locality Board ({locality.gss_code})",
                      reverse("dashboards:locality", args=[locality.gss_code]), f"locality-{slugify(locality.gss_code)}",
                      tables.locality_tables(context))


def kpq_page_tables(code: str) -> PageTables:
    try:
        context = pages.kpq_page(code)
    except (KPQ.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    kpq = context["kpq"]
    return PageTables(f"{kpq.code}: {kpq.text}", reverse("dashboards:kpq", args=[kpq.code]), f"kpq-{slugify(kpq.code)}",
                      tables.kpq_tables(context))


def indicator_page_tables(code: str) -> PageTables:
    try:
        context = indicator_page(code)
    except Indicator.DoesNotExist as exc:
        raise Http404 from exc
    ind = context["indicator"]
    return PageTables(f"{ind.name} ({ind.code})", reverse("dashboards:indicator", args=[ind.code]),
                      f"indicator-{slugify(ind.code)}", tables.indicator_tables(context))


# --- The files --------------------------------------------------------------------------------------

def excel_cell(value):
    """A cell's value for the workbook: numbers and dates as they are (a date and time in the
    portal's time zone, as Excel has none), everything else as neutralised text."""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, (datetime.date, int, float, Decimal)):
        return value
    return None if value is None else str(export_cell(value))


def number_format(places: int | None) -> str | None:
    if places is None:
        return None
    return "#,##0" + ("." + "0" * places if places > 0 else "")


def sheet_names(titles: list[str]) -> list[str]:
    """A sheet name for each title: at most 31 characters, none of []:*?/\\, none twice (nor "About")."""
    used, names = {"about"}, []
    for title in titles:
        base = re.sub(r"\s+", " ", NOT_IN_SHEET_NAMES.sub(" ", title)).strip().strip("'") or "Table"
        name, n = base[:SHEET_NAME_LENGTH].strip(), 1
        while name.lower() in used:
            n += 1
            suffix = f" ({n})"
            name = base[: SHEET_NAME_LENGTH - len(suffix)].strip() + suffix
        used.add(name.lower())
        names.append(name)
    return names


def _write(sheet, row: int, values: list, *, bold: bool = False, formats: list | None = None) -> None:
    for column, value in enumerate(values, start=1):
        cell = sheet.cell(row=row, column=column, value=excel_cell(value))
        if isinstance(cell.value, str):
            cell.data_type = "s"  # text, never a formula
        if bold:
            cell.font = Font(bold=True)
        if formats and formats[column - 1] and not isinstance(cell.value, str):
            cell.number_format = formats[column - 1]
        elif isinstance(cell.value, datetime.datetime):
            cell.number_format = "yyyy-mm-dd hh:mm"
        elif isinstance(cell.value, datetime.date):
            cell.number_format = "yyyy-mm-dd"


HEADER_ROW = 4  # of a table's sheet: its title, its section or note, a blank row, then the header


def workbook(page: PageTables, *, address: str, generated: datetime.datetime) -> bytes:
    """The workbook: "About" (the page, the source, when, the licence of any map), then a sheet a table."""
    book = Workbook()
    about = book.active
    about.title = "About"
    names = sheet_names([t.title for t in page.tables])
    notes = sorted({t.note for t in page.tables if t.note})
    lines = [["Kent Forum performance portal: the tables of a dashboard page"], ["Page", page.name], ["Address", address],
             ["Source", SOURCE], ["Generated", generated]]
    lines += [["Licence and attribution", note] for note in notes]
    lines += [[], ["Sheet", "Table", "Section", "Rows"]]
    lines += [[name, t.title, t.section, len(t.rows)] for name, t in zip(names, page.tables, strict=True)]
    for n, line in enumerate(lines, start=1):
        _write(about, n, line, bold=n == 1 or line[:1] == ["Sheet"])
    about.column_dimensions["A"].width = 24
    about.column_dimensions["B"].width = 70
    for name, table in zip(names, page.tables, strict=True):
        sheet = book.create_sheet(name)
        _write(sheet, 1, [table.title], bold=True)
        _write(sheet, 2, [" ".join(part for part in (table.section, table.note) if part) or None])
        _write(sheet, HEADER_ROW, table.header, bold=True)
        for n, row in enumerate(table.rows):
            formats = [number_format(table.places(n, c)) for c in range(len(table.columns))]
            _write(sheet, HEADER_ROW + 1 + n, row, formats=formats)
        sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=1)
        for c, column in enumerate(table.columns, start=1):
            sheet.column_dimensions[sheet.cell(row=HEADER_ROW, column=c).column_letter].width = min(max(len(column.name), 10) + 2, 60)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_text(table: tables.Table) -> str:
    """One table as CSV: its header and rows, each cell through ``export_cell``."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([export_cell(cell) for cell in table.header])
    for row in table.rows:
        writer.writerow([export_cell(cell) for cell in row])
    return out.getvalue()


def xlsx_response(request, page: PageTables) -> HttpResponse:
    content = workbook(page, address=request.build_absolute_uri(page.url), generated=timezone.now())
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{page.stem}-tables.xlsx"'
    return response


def csv_response(page: PageTables, slug: str) -> HttpResponse:
    table = next((t for t in page.tables if t.slug == slug), None)
    if table is None:
        raise Http404("This page shows no such table.")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{page.stem}-{table.slug}.csv"'
    response.write("\ufeff")
    response.write(csv_text(table))
    return response


# --- The views: anyone, GET only ----------------------------------------------------------------

def _views(build: Callable[..., PageTables]):
    @require_GET
    def xlsx(request, **kwargs):
        return xlsx_response(request, build(**kwargs))

    @require_GET
    def one_csv(request, table: str, **kwargs):
        return csv_response(build(**kwargs), table)

    xlsx.__doc__ = f"Who may download it: anyone. Every table of the page ({build.__name__}) as Excel."
    one_csv.__doc__ = f"Who may download it: anyone. One table of the page ({build.__name__}) as CSV."
    return xlsx, one_csv


forum_xlsx, forum_csv = _views(forum_page_tables)
ambition_xlsx, ambition_csv = _views(ambition_page_tables)
locality_xlsx, locality_csv = _views(locality_page_tables)
kpq_xlsx, kpq_csv = _views(kpq_page_tables)
indicator_xlsx, indicator_csv = _views(indicator_page_tables)
