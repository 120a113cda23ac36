"""Load the source documents' data tables (``data/kent_framework/*_20xx.yaml``: the briefing
pack's 2009 population by age, 2009 road traffic injuries by age and severity, and 2008 Place
Survey results) as ``SourceTable`` and ``SourceFigure`` rows, figures exactly as printed.

At load time every printed total is checked against the sum of its parts. A total that
disagrees is kept as published, with the sum beside it (``SourceFigure.parts_sum``) and a note on
its table; the data file must list it under ``discrepancies``, so that a transcription slip (a
discrepancy found and not listed, or listed and not found) stops the load instead of passing as
the source's own. A figure's ``baseline_for`` links it to that indicator when one is loaded, and
leaves it unlinked otherwise. Idempotent: upserts by natural key."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from django.utils.text import slugify

from localities.models import Locality, SourceFigure, SourceTable
from performance.models import BreakdownCategory, Indicator

from .base import Upserter, read_yaml

SOURCE_TABLE_FILES = ("population_2009.yaml", "road_injuries_2009.yaml", "place_survey_2008.yaml")
TOTAL = "total"


class SourceTableError(ValueError):
    """A data table whose printed totals and transcribed parts disagree other than as declared."""


def _number(value: Decimal) -> str:
    return f"{Decimal(value).normalize():,f}"


def discrepancy_note(found: list[tuple[str, str, Decimal, Decimal]]) -> str:
    """The words a table's page shows for its printed totals that disagree with their parts."""
    return " ".join(
        f"{row}, {column}: printed {_number(printed)}, its parts add up to {_number(parts)} "
        f"({_number(abs(printed - parts))} {'less' if printed > parts else 'more'}). Both kept as published."
        for row, column, printed, parts in found
    )


class SourceTableLoader:
    def __init__(self, up: Upserter, data_dir: Path, order_start: int = 1) -> None:
        self.up, self.data_dir, self.order = up, Path(data_dir), order_start

    def load(self) -> None:
        for name in SOURCE_TABLE_FILES:
            for item in read_yaml(self.data_dir / name)["source_tables"]:
                self.load_table(item)

    def _check_codes(self, dimension: str | None, codes: list[str], where: str) -> None:
        if not dimension:
            return
        known = set(BreakdownCategory.objects.filter(dimension__code=dimension).values_list("code", flat=True))
        if missing := [c for c in codes if c not in known]:
            raise SourceTableError(f"{where}: {missing} are not categories of the {dimension!r} breakdown dimension")

    def load_table(self, item: dict) -> SourceTable:
        area = Locality.objects.get(kind=Locality.Kind.COUNTY) if item["area"] == "county" else (
            Locality.objects.get(name=item["area"]))
        columns, rows, total_row = item["columns"], item["rows"], item.get("total_row")
        self._check_codes(item.get("column_dimension"), [c["code"] for c in columns], item["code"])
        self._check_codes(item.get("row_dimension"), [r["code"] for r in rows], item["code"])
        cells: list[dict] = []  # (row, column, value, line, is_total, parts_sum, baseline_for)
        for row in rows:
            for column, value in zip(columns, row["values"], strict=True):
                cells.append({"row": row, "column": column, "value": Decimal(value)})
            if "total" in row:
                cells.append({"row": row, "column": None, "value": Decimal(row["total"]),
                              "parts_sum": sum(Decimal(v) for v in row["values"])})
        if total_row:
            for i, (column, value) in enumerate(zip(columns, total_row["values"], strict=True)):
                cells.append({"row": total_row, "column": column, "value": Decimal(value),
                              "parts_sum": sum(Decimal(r["values"][i]) for r in rows)})
            if "total" in total_row:
                cells.append({"row": total_row, "column": None, "value": Decimal(total_row["total"]),
                              "parts_sum": sum(Decimal(v) for r in rows for v in r["values"])})
        total_column = item.get("total_column", "Total")
        found = [
            (c["row"]["label"], c["column"]["label"] if c["column"] else total_column, c["value"], c["parts_sum"])
            for c in cells if c.get("parts_sum") is not None and c["parts_sum"] != c["value"]
        ]
        declared = [(d["row"], d["column"], Decimal(d["printed"]), Decimal(d["parts_sum"]))
                    for d in item.get("discrepancies", [])]
        if sorted(found) != sorted(declared):
            raise SourceTableError(
                f"{item['code']}: printed totals that differ from their parts {found} are not those the file "
                f"declares {declared}; check the transcription against lines {item['lines']}"
            )
        table = self.up.upsert(
            SourceTable, {"code": item["code"]},
            {
                "title": item["title"], "document": item["document"], "source": item["source"], "area": area,
                "year": str(item["year"]), "unit": item["unit"], "row_heading": item.get("row_heading", ""),
                "first_line": item["lines"][0], "last_line": item["lines"][1],
                "discrepancy_note": discrepancy_note(found), "order": self.order,
            },
        )
        self.order += 1
        wanted = set()
        for order, cell in enumerate(cells, start=1):
            row, column = cell["row"], cell["column"]
            key = {"table": table, "row_code": row.get("code") or slugify(row["label"]),
                   "column_code": column["code"] if column else TOTAL}
            wanted.add((key["row_code"], key["column_code"]))
            baseline_for = row.get("baseline_for", "")
            self.up.upsert(
                SourceFigure, key,
                {
                    "row_label": row["label"], "column_label": column["label"] if column else total_column,
                    "value": cell["value"], "is_total": "parts_sum" in cell, "parts_sum": cell.get("parts_sum"),
                    "line": row["line"], "baseline_for": baseline_for, "order": order,
                    "baseline_of": Indicator.objects.filter(code=baseline_for).first() if baseline_for else None,
                },
            )
        stale = [f.pk for f in table.figures.all() if (f.row_code, f.column_code) not in wanted]
        if stale:
            SourceFigure.objects.filter(pk__in=stale).delete()
            self.up.report.count("source figures", "updated")
        return table
