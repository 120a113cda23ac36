"""The calendar of returns: the UK financial year, April to March, the labels of its periods,
and which kinds of period each indicator is returned in (``period_kinds_for``, the one answer).

``2011/12 Q1`` is April-June 2011; ``2011/12 Q4`` is January-March 2012.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

QUARTER_LABEL = re.compile(r"^(?P<year>\d{4})/(?P<next>\d{2}) Q(?P<q>[1-4])$")
FINANCIAL_YEAR_LABEL = re.compile(r"^(?P<year>\d{4})/(?P<next>\d{2})$")


@dataclass(frozen=True)
class PeriodSpan:
    kind: str
    label: str
    start: date
    end: date


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def financial_year_label(start_year: int) -> str:
    return f"{start_year}/{(start_year + 1) % 100:02d}"


def financial_year_of(day: date) -> int:
    """The calendar year in which the financial year containing ``day`` began."""
    return day.year if day.month >= 4 else day.year - 1


def quarter_of(day: date) -> int:
    """The financial quarter (1-4) containing ``day``."""
    return ((day.month - 4) % 12) // 3 + 1


def quarter(start_year: int, number: int) -> PeriodSpan:
    """Quarter ``number`` (1-4) of the financial year beginning in April ``start_year``."""
    if number not in (1, 2, 3, 4):
        raise ValueError("A financial year has quarters 1 to 4.")
    first_month = 4 + 3 * (number - 1)
    year = start_year + (first_month - 1) // 12
    month = (first_month - 1) % 12 + 1
    start = date(year, month, 1)
    end = _month_end(year, month + 2)
    return PeriodSpan("quarter", f"{financial_year_label(start_year)} Q{number}", start, end)


def quarter_containing(day: date) -> PeriodSpan:
    return quarter(financial_year_of(day), quarter_of(day))


def financial_year(start_year: int) -> PeriodSpan:
    return PeriodSpan(
        "financial_year", financial_year_label(start_year), date(start_year, 4, 1), date(start_year + 1, 3, 31)
    )


def calendar_year(year: int) -> PeriodSpan:
    return PeriodSpan("calendar_year", str(year), date(year, 1, 1), date(year, 12, 31))


# The kinds of reporting period (``ReportingPeriod.Kind``'s values).
MONTH, QUARTER, FINANCIAL_YEAR, CALENDAR_YEAR = "month", "quarter", "financial_year", "calendar_year"


def period_kinds(*, frequency: str, year_basis: str) -> frozenset[str]:
    """The kinds of period an indicator of this frequency and year basis is returned in: a
    quarterly indicator in quarters; an annual one in financial years (April to March) or
    calendar years, as its year basis says; a monthly one in months and in quarters (the
    boards, the demo and the return pages all work by the quarter; months are made only where
    an admin creates them). The one rule: the return pages, the CSV import and the overdue
    lists offer a return in these kinds, and the rollup keeps summary rows for exactly these."""
    if frequency == "annual":
        return frozenset({CALENDAR_YEAR if year_basis == "calendar" else FINANCIAL_YEAR})
    if frequency == "quarterly":
        return frozenset({QUARTER})
    if frequency == "monthly":
        return frozenset({MONTH, QUARTER})
    raise ValueError(f"{frequency!r} is not an indicator frequency (monthly, quarterly or annual).")


def period_kinds_for(indicator) -> frozenset[str]:
    """The kinds of period ``indicator`` is returned in (``period_kinds``): the one answer that
    the return pages and the CSV template offer, the services accept (``catalogue.services.
    check_returned_in``) and the rollup keeps rows for."""
    return period_kinds(frequency=indicator.frequency, year_basis=indicator.year_basis)


MILESTONE_PERIOD_KIND = QUARTER  # milestones are reported quarterly


def is_returned_in(indicator, period) -> bool:
    return period.kind in period_kinds_for(indicator)


def parse_label(label: str) -> PeriodSpan:
    """Turn '2011/12 Q1', '2011/12' or '2011' into its span. Raises ValueError for anything else."""
    text = label.strip()
    if match := QUARTER_LABEL.match(text):
        year = int(match["year"])
        if (year + 1) % 100 != int(match["next"]):
            raise ValueError(f"{label!r}: the years of a financial year follow each other, e.g. 2011/12.")
        return quarter(year, int(match["q"]))
    if match := FINANCIAL_YEAR_LABEL.match(text):
        year = int(match["year"])
        if (year + 1) % 100 != int(match["next"]):
            raise ValueError(f"{label!r}: the years of a financial year follow each other, e.g. 2011/12.")
        return financial_year(year)
    if re.fullmatch(r"\d{4}", text):
        return calendar_year(int(text))
    raise ValueError(f"{label!r} is not a period label such as '2011/12 Q1', '2011/12' or '2011'.")
