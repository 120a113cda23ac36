"""Rates per head from the source documents' tables: a count table (the briefing pack's road
traffic injuries, 2009) over the population of the same area and year (its population table)
as the denominator, with the confidence limits the rollup gives any rate per 100,000
(``rules.confidence_limits``: Poisson, Byar's approximation).

A rate is given only where its denominator is the same people as its count. The population's
printed total is the denominator of an all-ages rate (where it and its age bands disagree, the
rate by the bands' sum is given beside it if it differs at the precision shown). An age band's
rate is given only where whole population bands make up exactly the same ages; otherwise it is
withheld and the reason said, never estimated by splitting a band."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from localities.models import SourceFigure, SourceTable
from localities.selectors import POPULATION_UNIT, population_denominator
from performance.catalogue import rules

PER = 100_000
UNIT = "rate_per_100000"


@dataclass
class PerHeadRate:
    """One count over its population: the rate and its 95% limits (None where withheld, and then
    ``withheld`` says why), with the figures it was made of and a note of any choice made."""

    label: str
    count: Decimal
    population: Decimal | None
    population_label: str
    rate: Decimal | None = None
    ci_lower: Decimal | None = None
    ci_upper: Decimal | None = None
    rate_by_parts: Decimal | None = None  # the rate over the bands' sum, where it differs from the printed total's
    withheld: str = ""
    note: str = ""
    derived: bool = False  # the count is not printed: a sum of printed figures, which the label names


@dataclass
class PerHeadTable:
    """A count table's rates per 100,000 residents: by column (all ages) and by age band."""

    table: SourceTable
    population_table: SourceTable
    by_column: list[PerHeadRate]
    by_age: list[PerHeadRate]


def _tenth(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def rate_per_head(*, label: str, count: Decimal, population: Decimal, population_label: str,
                  population_parts: Decimal | None = None, derived: bool = False, note: str = "") -> PerHeadRate:
    """A count per 100,000 of a population, with its 95% limits, to one decimal place."""
    limits = rules.confidence_limits(unit=UNIT, aggregation="ratio", multiplier=PER, value=None,
                                     numerator=count, denominator=population)
    rate = _tenth(float(count) / float(population) * PER)
    by_parts = None
    if population_parts is not None and population_parts != population:
        other = _tenth(float(count) / float(population_parts) * PER)
        by_parts = other if other != rate else None
    return PerHeadRate(
        label=label, count=count, population=population, population_label=population_label, rate=rate,
        ci_lower=_tenth(limits[0]), ci_upper=_tenth(limits[1]), rate_by_parts=by_parts, derived=derived, note=note,
    )


def age_range(code: str) -> tuple[int, int | None] | None:
    """The ages a band's code covers, both ends included (None: open-ended): "0-4", "under-16",
    "over-65" (taken as 65 and over, as the population's "85+" is 85 and over), "85-plus";
    None for a band that is not ages ("unknown", "all-ages")."""
    if match := re.fullmatch(r"(\d+)-(\d+)", code):
        return int(match[1]), int(match[2])
    if match := re.fullmatch(r"under-(\d+)", code):
        return 0, int(match[1]) - 1
    if match := re.fullmatch(r"(?:over-(\d+)|(\d+)-plus)", code):
        return int(match[1] or match[2]), None
    return None


def _bands_for(wanted: tuple[int, int | None], bands: dict[tuple[int, int | None], SourceFigure]):
    """The population bands that make up exactly the ages wanted, or the reason there are none."""
    low, high = wanted
    inside, straddling = [], []
    for (start, end), figure in bands.items():
        after_low = start >= low
        before_high = high is None or (end is not None and end <= high)
        overlaps = (high is None or start <= high) and (end is None or end >= low)
        if after_low and before_high:
            inside.append(((start, end), figure))
        elif overlaps:
            straddling.append(figure.row_label)
    if straddling:
        return None, f"the population's band {', '.join(straddling)} straddles it: no whole bands make up these ages"
    inside.sort(key=lambda item: item[0][0])
    covered = low
    for (start, end), _ in inside:
        if start != covered:
            return None, "the population's bands leave out some of these ages"
        covered = None if end is None else end + 1
    if covered is not None and (high is None or covered != high + 1):
        return None, "the population's bands leave out some of these ages"
    return [figure for _, figure in inside], ""


def per_head_table(table: SourceTable) -> PerHeadTable | None:
    """The rates per 100,000 residents of a count table, over the population table of its area
    and year (None if there is none, or the table is itself a population)."""
    if table.unit == POPULATION_UNIT:
        return None
    total = population_denominator(area=table.area_id, year=table.year)
    if total is None:
        return None
    population_table = total.table
    people = list(population_table.figures.all())
    bands = {span: f for f in people if not f.is_total and (span := age_range(f.row_code))}
    population_label = f"{population_table.title} ({population_table.source}): {total.row_label}"
    figures = list(table.figures.all())
    total_row = [f for f in figures if f.is_total and f.row_code == "total"] or [f for f in figures if f.is_total]
    by_column = [
        rate_per_head(label=f.column_label, count=f.value, population=total.value, population_label=population_label,
                      population_parts=total.parts_sum)
        for f in sorted(total_row, key=lambda f: f.order)
    ]
    cells = {(f.row_code, f.column_code): f for f in total_row}
    if ("total", "fatal") in cells and ("total", "serious") in cells:
        by_column.append(rate_per_head(
            label="Killed or seriously injured (fatal and serious together)",
            count=cells["total", "fatal"].value + cells["total", "serious"].value, population=total.value,
            population_label=population_label, population_parts=total.parts_sum, derived=True,
        ))
    by_age = []
    for figure in sorted(figures, key=lambda f: f.order):
        if not figure.is_total or figure.row_code == "total":  # each age band's row total
            continue
        wanted = age_range(figure.row_code)
        if wanted is None:
            by_age.append(PerHeadRate(label=figure.row_label, count=figure.value, population=None, population_label="",
                                      withheld="no population counts people of unknown age"))
            continue
        parts, reason = _bands_for(wanted, bands)
        if parts is None:
            by_age.append(PerHeadRate(label=figure.row_label, count=figure.value, population=None, population_label="",
                                      withheld=reason))
            continue
        note = ("taken as 65 and over, the ages of the population's bands from 65-69"
                if figure.row_code.startswith("over-") else "")
        by_age.append(rate_per_head(
            label=figure.row_label, count=figure.value, population=sum(p.value for p in parts),
            population_label=f"{population_table.title}: " + ", ".join(p.row_label for p in parts), note=note,
        ))
    return PerHeadTable(table=table, population_table=population_table, by_column=by_column, by_age=by_age)
