"""Reads of the localities app: the source documents' data tables, as printed."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch

from .models import SourceFigure, SourceTable


@dataclass
class SourceTableGrid:
    """A source table laid out as printed: its columns, and each row's figures in column order
    (None where the table prints nothing)."""

    table: SourceTable
    columns: list[str] = field(default_factory=list)
    rows: list[tuple[str, bool, list[SourceFigure | None]]] = field(default_factory=list)


def source_table_list() -> list[SourceTableGrid]:
    """Every source table with its figures, in two queries."""
    figures = SourceFigure.objects.select_related("baseline_of").order_by("order")
    tables = SourceTable.objects.select_related("area").prefetch_related(Prefetch("figures", queryset=figures))
    grids = []
    for table in tables:
        grid = SourceTableGrid(table)
        by_row: dict[str, dict[str, SourceFigure]] = {}
        for figure in table.figures.all():
            if figure.column_label not in grid.columns:
                grid.columns.append(figure.column_label)
            by_row.setdefault(figure.row_label, {})[figure.column_label] = figure
        for label, cells in by_row.items():
            is_total_row = all(f.is_total for f in cells.values())
            grid.rows.append((label, is_total_row, [cells.get(c) for c in grid.columns]))
        grids.append(grid)
    return grids


POPULATION_UNIT = "persons"  # the unit of a population table: its printed total is a rate's denominator


def population_denominator(*, area, year: str) -> SourceFigure | None:
    """The published all-ages population of an area in a year (a rate's denominator), as
    printed: where the printed total and its age bands disagree, the printed total."""
    return (
        SourceFigure.objects.filter(table__area=area, table__year=year, table__unit=POPULATION_UNIT, is_total=True)
        .select_related("table").order_by("table__order").first()
    )
