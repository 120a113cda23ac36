"""Our reporting periods in DHIS2's and SDMX's period formats, both ways.

A period is known by its kind and first day (``ReportingPeriod`` is unique on both):

| our period | kind | DHIS2 | SDMX TIME_PERIOD | REPORTING_YEAR_START_DAY |
|---|---|---|---|---|
| 2024/25 Q1 (April-June 2024) | quarter | ``2024Q2`` (calendar quarter) | ``2024-Q1`` | ``--04-01`` |
| 2024/25 Q4 (January-March 2025) | quarter | ``2025Q1`` | ``2024-Q4`` | ``--04-01`` |
| 2024/25 (April 2024-March 2025) | financial_year | ``2024April`` | ``2024-A1`` | ``--04-01`` |
| 2024 | calendar_year | ``2024`` | ``2024`` | (empty) |
| April 2024 | month | ``202404`` | ``2024-04`` | (empty) |

Reading, SDMX also takes a calendar quarter or year as a reporting period of a year starting on
``--01-01`` (``2024-Q2`` with ``--01-01`` is 2024/25 Q1) and a reporting month (``2024-M04``).
Anything else raises ``PeriodError`` with a message saying what is accepted."""
from __future__ import annotations

import re
from datetime import date

from performance.catalogue.periods import CALENDAR_YEAR, FINANCIAL_YEAR, MONTH, QUARTER, financial_year_of, quarter_of

FINANCIAL_START_DAY = "--04-01"  # SDMX's REPORTING_YEAR_START_DAY of the UK financial year
CALENDAR_START_DAY = "--01-01"

DHIS2_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
DHIS2_FINANCIAL_APRIL = re.compile(r"^(\d{4})April$")
DHIS2_YEAR = re.compile(r"^(\d{4})$")
DHIS2_MONTH = re.compile(r"^(\d{4})(0[1-9]|1[0-2])$")
DHIS2_FORMATS = "quarterly 2024Q2, financial year from April 2024April, yearly 2024 or monthly 202404"

SDMX_YEAR = re.compile(r"^(\d{4})(?:-A1)?$")
SDMX_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
SDMX_MONTH = re.compile(r"^(\d{4})-M?(0[1-9]|1[0-2])$")
SDMX_START_DAY = re.compile(r"^--(\d{2})-01$")
SDMX_FORMATS = ("2024-Q1 or 2024-A1 with REPORTING_YEAR_START_DAY --04-01 (financial), 2024 or 2024-Q1 "
                "(calendar), or 2024-04 (a month)")


class PeriodError(ValueError):
    """A period that is not one of ours in the other system's format; the message says why."""


def to_dhis2(kind: str, start: date) -> str:
    """Our period (kind and first day) in DHIS2's ISO period format."""
    if kind == QUARTER:
        return f"{start.year}Q{(start.month - 1) // 3 + 1}"
    if kind == FINANCIAL_YEAR:
        return f"{start.year}April"
    if kind == CALENDAR_YEAR:
        return f"{start.year}"
    if kind == MONTH:
        return f"{start.year}{start.month:02d}"
    raise PeriodError(f"{kind!r} is not a kind of period we exchange.")


def from_dhis2(text: str) -> tuple[str, date]:
    """A DHIS2 period as our kind and first day."""
    text = (text or "").strip()
    if match := DHIS2_QUARTER.match(text):
        return QUARTER, date(int(match[1]), 3 * (int(match[2]) - 1) + 1, 1)
    if match := DHIS2_FINANCIAL_APRIL.match(text):
        return FINANCIAL_YEAR, date(int(match[1]), 4, 1)
    if match := DHIS2_YEAR.match(text):
        return CALENDAR_YEAR, date(int(match[1]), 1, 1)
    if match := DHIS2_MONTH.match(text):
        return MONTH, date(int(match[1]), int(match[2]), 1)
    raise PeriodError(f"“{text[:20]}” is not a DHIS2 period we exchange ({DHIS2_FORMATS}).")


def to_sdmx(kind: str, start: date) -> tuple[str, str]:
    """Our period as SDMX (TIME_PERIOD, REPORTING_YEAR_START_DAY)."""
    if kind == QUARTER:
        return f"{financial_year_of(start)}-Q{quarter_of(start)}", FINANCIAL_START_DAY
    if kind == FINANCIAL_YEAR:
        return f"{start.year}-A1", FINANCIAL_START_DAY
    if kind == CALENDAR_YEAR:
        return f"{start.year}", ""
    if kind == MONTH:
        return f"{start.year}-{start.month:02d}", ""
    raise PeriodError(f"{kind!r} is not a kind of period we exchange.")


def from_sdmx(time_period: str, start_day: str = "") -> tuple[str, date]:
    """An SDMX TIME_PERIOD (with its REPORTING_YEAR_START_DAY, if any) as our kind and first day."""
    text, day = (time_period or "").strip(), (start_day or "").strip()
    if day:
        match = SDMX_START_DAY.match(day)
        if not match or not 1 <= int(match[1]) <= 12:
            raise PeriodError(f"REPORTING_YEAR_START_DAY “{day[:12]}” is not a first day of a month such as --04-01.")
        first_month = int(match[1])
    else:
        first_month = 1
    if first_month not in (1, 4):
        raise PeriodError(f"A reporting year starting on {day} is not one of ours ({SDMX_FORMATS}).")
    if match := SDMX_MONTH.match(text):
        if first_month != 1 and "-M" in text:
            raise PeriodError(f"“{text[:20]}”: give a month as a calendar month such as 2024-04 ({SDMX_FORMATS}).")
        return MONTH, date(int(match[1]), int(match[2]), 1)
    if match := SDMX_QUARTER.match(text):
        months = first_month - 1 + 3 * (int(match[2]) - 1)
        return QUARTER, date(int(match[1]) + months // 12, months % 12 + 1, 1)
    if match := SDMX_YEAR.match(text):
        if first_month == 4:
            if not text.endswith("-A1"):
                raise PeriodError(f"“{text[:20]}”: a financial year is written 2024-A1 with REPORTING_YEAR_START_DAY --04-01.")
            return FINANCIAL_YEAR, date(int(match[1]), 4, 1)
        return CALENDAR_YEAR, date(int(match[1]), 1, 1)
    raise PeriodError(f"“{text[:20]}” is not an SDMX period we exchange ({SDMX_FORMATS}).")
