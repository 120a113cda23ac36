"""The UK financial year: April to March."""
from datetime import date

import pytest

from performance.catalogue import periods


@pytest.mark.parametrize(
    "year,number,label,start,end",
    [
        (2011, 1, "2011/12 Q1", date(2011, 4, 1), date(2011, 6, 30)),
        (2011, 2, "2011/12 Q2", date(2011, 7, 1), date(2011, 9, 30)),
        (2011, 3, "2011/12 Q3", date(2011, 10, 1), date(2011, 12, 31)),
        (2011, 4, "2011/12 Q4", date(2012, 1, 1), date(2012, 3, 31)),
        (2099, 4, "2099/00 Q4", date(2100, 1, 1), date(2100, 3, 31)),
    ],
)
def test_quarters(year, number, label, start, end):
    span = periods.quarter(year, number)
    assert (span.label, span.start, span.end) == (label, start, end)
    assert periods.parse_label(label) == span


@pytest.mark.parametrize(
    "day,label",
    [(date(2011, 4, 1), "2011/12 Q1"), (date(2012, 3, 31), "2011/12 Q4"), (date(2012, 2, 29), "2011/12 Q4"),
     (date(2012, 12, 25), "2012/13 Q3")],
)
def test_quarter_containing(day, label):
    assert periods.quarter_containing(day).label == label


def test_years():
    assert periods.financial_year(2011) == periods.parse_label("2011/12")
    assert periods.parse_label("2011/12").end == date(2012, 3, 31)
    assert periods.parse_label("2011").start == date(2011, 1, 1)


@pytest.mark.parametrize("label", ["2011/13 Q1", "2011/12 Q5", "Q1 2011", "", "2011-12"])
def test_bad_labels_are_refused_with_a_message(label):
    with pytest.raises(ValueError, match="2011/12"):
        periods.parse_label(label)


def test_quarter_number_checked():
    with pytest.raises(ValueError):
        periods.quarter(2011, 0)
