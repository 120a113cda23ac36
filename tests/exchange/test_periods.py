"""Our periods in DHIS2's and SDMX's formats, both ways, exactly; anything else refused with a
message saying what is accepted."""
from datetime import date

import pytest

from exchange import periods as exchange_periods
from exchange.periods import PeriodError, from_dhis2, from_sdmx, to_dhis2, to_sdmx
from performance.catalogue import periods

QUARTERS = [periods.quarter(year, n) for year in range(2010, 2031) for n in (1, 2, 3, 4)]
YEARS = [periods.financial_year(y) for y in range(2010, 2031)] + [periods.calendar_year(y) for y in range(2010, 2031)]


@pytest.mark.parametrize("label,dhis2,sdmx", [
    ("2024/25 Q1", "2024Q2", ("2024-Q1", "--04-01")),
    ("2024/25 Q2", "2024Q3", ("2024-Q2", "--04-01")),
    ("2024/25 Q3", "2024Q4", ("2024-Q3", "--04-01")),
    ("2024/25 Q4", "2025Q1", ("2024-Q4", "--04-01")),
    ("2024/25", "2024April", ("2024-A1", "--04-01")),
    ("2024", "2024", ("2024", "")),
])
def test_the_documented_examples(label, dhis2, sdmx):
    span = periods.parse_label(label)
    assert to_dhis2(span.kind, span.start) == dhis2
    assert to_sdmx(span.kind, span.start) == sdmx
    assert from_dhis2(dhis2) == (span.kind, span.start)
    assert from_sdmx(*sdmx) == (span.kind, span.start)


@pytest.mark.parametrize("span", QUARTERS + YEARS, ids=lambda s: s.label)
def test_every_period_goes_there_and_back(span):
    assert from_dhis2(to_dhis2(span.kind, span.start)) == (span.kind, span.start)
    assert from_sdmx(*to_sdmx(span.kind, span.start)) == (span.kind, span.start)


@pytest.mark.parametrize("span", QUARTERS, ids=lambda s: s.label)
def test_a_financial_quarter_is_the_calendar_quarter_it_covers(span):
    """DHIS2's quarters are calendar quarters: the one that starts when ours does, and ends when ours ends."""
    text = to_dhis2(span.kind, span.start)
    year, number = int(text[:4]), int(text[5])
    assert (year, 3 * number - 2) == (span.start.year, span.start.month)
    assert date(year, 3 * number, 1) <= span.end


def test_months_both_ways():
    assert to_dhis2("month", date(2024, 4, 1)) == "202404"
    assert from_dhis2("202404") == ("month", date(2024, 4, 1))
    assert to_sdmx("month", date(2025, 1, 1)) == ("2025-01", "")
    assert from_sdmx("2025-01") == ("month", date(2025, 1, 1))
    assert from_sdmx("2025-M01") == ("month", date(2025, 1, 1))


def test_sdmx_takes_calendar_quarters_and_years_too():
    assert from_sdmx("2025-Q1") == ("quarter", date(2025, 1, 1)) == from_sdmx("2024-Q4", "--04-01")
    assert from_sdmx("2025-Q1", "--01-01") == ("quarter", date(2025, 1, 1))
    assert from_sdmx("2024-A1") == ("calendar_year", date(2024, 1, 1))


@pytest.mark.parametrize("text", ["2024Q5", "2024Q0", "2024W10", "2024S1", "2024July", "202413", "24Q1", "", "2024/25 Q1"])
def test_dhis2_periods_we_do_not_hold_are_refused(text):
    with pytest.raises(PeriodError, match="is not a DHIS2 period we exchange"):
        from_dhis2(text)


@pytest.mark.parametrize("text,start_day", [
    ("2024-Q5", ""), ("2024-W10", ""), ("2024-S1", ""), ("2024", "--04-01"), ("2024-Q1", "--07-01"),
    ("2024-Q1", "--04-15"), ("2024-Q1", "April"), ("2024-M01", "--04-01"), ("", ""),
])
def test_sdmx_periods_we_do_not_hold_are_refused(text, start_day):
    with pytest.raises(PeriodError) as refused:
        from_sdmx(text, start_day)
    assert str(refused.value)


def test_unknown_kinds_are_refused():
    with pytest.raises(PeriodError):
        to_dhis2("fortnight", date(2024, 1, 1))
    with pytest.raises(PeriodError):
        to_sdmx("fortnight", date(2024, 1, 1))
    assert exchange_periods.FINANCIAL_START_DAY == "--04-01"
