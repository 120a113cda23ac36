"""The 2009 population as a rate's denominator (issue 18, item 5): the briefing pack's road
traffic injuries per 100,000 residents, over the population of the same area and year.

Every figure below is worked by hand from the printed tables: 6,106 injuries over 1,411,100
residents is 432.7 per 100,000; 25-39 year olds are 77,200 + 76,800 + 94,100 = 248,100 people.
An all-ages rate takes the population's printed total; where the rate over its age bands' sum
(1,411,300) differs at one decimal place, both are given. An age band is given a rate only where
whole population bands cover the same ages: under 16 and 16-24 cut the band 15-19 in two and are
withheld with that reason, never estimated."""
from decimal import Decimal
from html import unescape

import pytest

from kentforum.loaders.framework import framework_load
from localities.models import SourceFigure, SourceTable
from localities.selectors import population_denominator
from performance.catalogue import rules
from performance.catalogue.per_head import age_range, per_head_table

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates():
    framework_load()
    return per_head_table(SourceTable.objects.get(code="road-injuries-2009"))


def by_label(rows):
    return {r.label: r for r in rows}


def test_the_denominator_is_the_population_s_printed_total():
    framework_load()
    county = SourceTable.objects.get(code="population-2009").area
    total = population_denominator(area=county, year="2009")
    assert (total.value, total.parts_sum) == (Decimal("1411100"), Decimal("1411300"))
    assert population_denominator(area=county, year="2008") is None


def test_all_ages_rates_are_the_counts_over_the_printed_population(rates):
    rows = by_label(rates.by_column)
    assert {label: r.rate for label, r in rows.items()} == {
        "Slight injury": Decimal("388.1"), "Serious injury": Decimal("40.3"), "Fatal injury": Decimal("4.3"),
        "Total Injuries": Decimal("432.7"), "Killed or seriously injured (fatal and serious together)": Decimal("44.6"),
    }
    assert all(r.population == Decimal("1411100") for r in rows.values())
    # the KSI figure is not printed: it is said to be a sum of printed figures
    assert [r.label for r in rates.by_column if r.derived] == ["Killed or seriously injured (fatal and serious together)"]
    # 568 / 1,411,300 is 40.2 to one place, not 40.3: both are given; for the others the two agree
    assert rows["Serious injury"].rate_by_parts == Decimal("40.2")
    assert [label for label, r in rows.items() if r.rate_by_parts] == ["Serious injury"]


def test_limits_are_the_portal_s_own_rule_for_a_rate_per_100000(rates):
    fatal = by_label(rates.by_column)["Fatal injury"]
    lower, upper = rules.confidence_limits(unit="rate_per_100000", aggregation="ratio", multiplier=100000,
                                           value=None, numerator=61, denominator=1411100)
    assert (fatal.ci_lower, fatal.ci_upper) == (Decimal("3.3"), Decimal("5.6"))
    assert float(fatal.ci_lower) == pytest.approx(lower, abs=0.05) and float(fatal.ci_upper) == pytest.approx(upper, abs=0.05)
    assert all(r.ci_lower < r.rate < r.ci_upper for r in rates.by_column)


def test_age_rates_only_where_whole_population_bands_cover_the_same_ages(rates):
    rows = by_label(rates.by_age)
    assert (rows["25-39"].population, rows["25-39"].rate) == (Decimal("248100"), Decimal("630.4"))
    assert (rows["40-64"].population, rows["40-64"].rate) == (Decimal("482400"), Decimal("357.0"))
    assert (rows["Over 65"].population, rows["Over 65"].rate) == (Decimal("252300"), Decimal("183.1"))
    assert "65 and over" in rows["Over 65"].note
    for straddled in ("Under 16", "16-24"):
        assert rows[straddled].rate is None and rows[straddled].population is None
        assert "15-19 straddles" in rows[straddled].withheld
    assert rows["Unknown"].rate is None and "unknown age" in rows["Unknown"].withheld


def test_a_population_that_leaves_ages_out_withholds_the_rate(rates):
    # Given the population's band 30-34 gone, 25-39 is no longer covered by whole bands
    SourceFigure.objects.filter(table__code="population-2009", row_code="30-34").delete()
    again = by_label(per_head_table(SourceTable.objects.get(code="road-injuries-2009")).by_age)
    assert again["25-39"].rate is None and "leave out" in again["25-39"].withheld
    assert again["40-64"].rate == Decimal("357.0")


def test_tables_without_a_population_of_their_year_get_no_rates():
    framework_load()
    assert per_head_table(SourceTable.objects.get(code="population-2009")) is None
    assert all(per_head_table(t) is None for t in SourceTable.objects.exclude(code="road-injuries-2009"))


@pytest.mark.parametrize("code, expected", [
    ("0-4", (0, 4)), ("under-16", (0, 15)), ("over-65", (65, None)), ("85-plus", (85, None)), ("unknown", None),
    ("all-ages", None),
])
def test_age_bands_are_read_from_their_codes(code, expected):
    assert age_range(code) == expected


def test_the_data_tables_page_shows_the_rates_and_why_some_are_withheld(rates, client):
    html = unescape(client.get("/data-tables/").content.decode())
    assert "Road Traffic Injuries - 2009 - KCC Area: per 100,000 residents" in html
    for shown in ("432.7", "421.9–443.7", "44.6", "630.4", "(over the bands' sum: 40.2)"):
        assert shown in html, shown
    assert "Withheld: the population's band 15-19 straddles it" in html
