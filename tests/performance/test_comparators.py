"""Comparator areas (issue 17, item 2): England, the South East and Kent's CIPFA nearest
neighbours by GSS code; their figures loaded centrally from a CSV file, all or nothing, with
errors by row; never rows of the returns and never in Kent's rollup; and the judgement of Kent
(or a district) against them by the districts' rule, withheld with its reason in words."""
from __future__ import annotations

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction

from performance.catalogue import periods as period_rules
from performance.catalogue import services as catalogue_services
from performance.comparators import services
from performance.dashboards.comparisons import compare_with_area
from performance.dashboards.figures import versus_kent
from performance.models import (
    ComparatorArea,
    ComparatorFigure,
    ComparatorGroup,
    Indicator,
    IndicatorReturn,
    IndicatorRollup,
)
from performance.rollups import engine
from tests.performance.test_dashboards import approver, seed  # noqa: F401 - the fixture and the seed

pytestmark = pytest.mark.django_db

HEADER = "indicator_code,area_gss_code,period,value,ci_lower,ci_upper,source,released,quality\n"


def csv_of(*rows: str) -> bytes:
    return (HEADER + "".join(r + "\n" for r in rows)).encode()


# --- Areas and groups ------------------------------------------------------------------------------

def test_the_standard_areas_and_the_neighbours_group_are_made_once_and_then_left_to_the_admin():
    group = services.comparator_areas_ensure()
    assert ComparatorArea.objects.get(gss_code="E92000001").kind == "country"
    assert ComparatorArea.objects.get(gss_code="E12000008").name == "South East"
    assert group.areas.count() == len(services.CIPFA_NEIGHBOURS) == 12
    assert group.areas.filter(gss_code="E10000012", name="Essex").exists()
    group.areas.remove(ComparatorArea.objects.get(gss_code="E10000007"))  # the Forum team drops Derbyshire
    services.comparator_areas_ensure()
    assert group.areas.count() == 11 and ComparatorGroup.objects.count() == 1


@pytest.mark.parametrize("kind,code,ok", [
    ("country", "E92000001", True), ("region", "E12000008", True), ("county", "E10000012", True),
    ("country", "E10000012", False), ("county", "E12000008", False), ("county", "E1000001", False),
])
def test_an_areas_gss_code_is_checked_like_a_localitys_and_against_its_kind(kind, code, ok):
    area = ComparatorArea(name=f"Area {code}", gss_code=code, kind=kind)
    if ok:
        area.full_clean()
    else:
        with pytest.raises(ValidationError) as error:
            area.full_clean()
        assert "gss_code" in error.value.message_dict


def test_an_interval_is_whole_and_ordered_in_the_database(approver):
    (count, rate), period = seed(approver, 2, 2)
    area = ComparatorArea.objects.create(name="England", gss_code="E92000001", kind="country")
    with pytest.raises(IntegrityError), transaction.atomic():
        ComparatorFigure.objects.create(indicator=rate, area=area, period=period, value=5, ci_lower=6, ci_upper=4,
                                        source="x", source_released=datetime.date(2013, 5, 1), loaded_at=datetime.datetime.now(datetime.UTC))


# --- Loading: all or nothing, errors by row ---------------------------------------------------------

def test_a_good_file_is_loaded_and_a_second_load_changes_nothing(approver):
    (count, rate), period = seed(approver, 2, 2)
    raw = csv_of(f"{rate.code},E92000001,{period.label},40.0,39.8,40.2,ONS,2013-06-01,final",
                 f"{rate.code},E12000008,{period.label},50.0,,,ONS,2013-06-01,provisional")
    result = services.comparator_figures_import(user=approver, raw=raw)
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    england = ComparatorFigure.objects.get(area__gss_code="E92000001")
    assert england.value == Decimal("40.0") and england.ci_lower == Decimal("39.8") and england.loaded_by == approver
    assert ComparatorFigure.objects.get(area__gss_code="E12000008").flags == ["provisional"]
    again = services.comparator_figures_import(user=approver, raw=raw)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    revised = services.comparator_figures_import(user=approver, raw=csv_of(
        f"{rate.code},E92000001,{period.label},40.5,40.3,40.7,ONS,2013-09-01,revised"))
    assert revised.updated == 1 and ComparatorFigure.objects.get(area__gss_code="E92000001").quality == "revised"


def test_one_bad_row_saves_nothing_and_every_error_names_its_row(approver):
    (count, rate), period = seed(approver, 2, 2)
    raw = csv_of(
        f"{rate.code},E92000001,{period.label},40.0,39.8,40.2,ONS,2013-06-01,final",  # row 2: fine
        f"NOPE,E92000001,{period.label},40.0,,,ONS,2013-06-01,final",  # row 3
        f"{rate.code},E99999999,{period.label},40.0,,,ONS,2013-06-01,final",  # row 4
        f"{rate.code},E12000008,2099/00 Q1,forty,,,ONS,2013-06-01,final",  # row 5
        f"{rate.code},E12000008,{period.label},40.0,39.0,,ONS,2013-06-01,final",  # row 6
        f"{rate.code},E10000012,{period.label},40.0,41.0,42.0,,13/06/2013,best",  # row 7
        f"{rate.code},E92000001,{period.label},41.0,40.8,41.2,ONS,2013-06-01,final",  # row 8: the same as row 2
        f"{rate.code},E12000008,{period.label},41.0,40.8,41.2,ONS,2099-01-01,final",  # row 9: released in the future
    )
    with pytest.raises(ValidationError) as error:
        services.comparator_figures_import(user=approver, raw=raw)
    messages = error.value.messages
    assert not ComparatorFigure.objects.exists()
    assert not any(m.startswith("Row 2:") for m in messages)
    expected = {
        "Row 3": "no indicator has the code “NOPE”", "Row 4": "no comparator area has the GSS code “E99999999”",
        "Row 5": "no reporting period is labelled “2099/00 Q1”", "Row 6": "give both limits",
        "Row 8": "the same indicator, area and period as row 2",
    }
    for row, words in expected.items():
        assert any(m.startswith(row) and words in m for m in messages), (row, messages)
    row7 = " ".join(m for m in messages if m.startswith("Row 7"))
    assert "outside its own confidence interval" in row7 and "source is empty" in row7
    assert "not a date written as YYYY-MM-DD" in row7 and "quality “best”" in row7
    assert any(m.startswith("Row 5") and "“forty” is not a number" in m for m in messages)
    assert any(m.startswith("Row 9") and "in the future" in m for m in messages)


def test_a_file_without_its_columns_or_rows_is_refused_whole():
    assert "lacks the columns" in services.comparator_figures_check(b"indicator_code,value\nX,1\n").errors[0]
    assert "no rows" in services.comparator_figures_check(HEADER.encode()).errors[0]
    assert "not UTF-8" in services.comparator_figures_check(HEADER.encode() + b"\xff\xfe\n").errors[0]


def test_a_period_of_another_kind_than_the_indicators_is_refused(approver):
    (count, rate), period = seed(approver, 2, 2)
    year, _ = catalogue_services.period_ensure(span=period_rules.calendar_year(2012))
    check = services.comparator_figures_check(csv_of(f"{rate.code},E92000001,{year.label},40,,,ONS,2013-06-01,final"))
    assert "is not reported in periods like" in check.errors[0]


def test_the_command_loads_a_file_or_nothing(approver, tmp_path, capsys):
    (count, rate), period = seed(approver, 2, 2)
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(csv_of(f"{rate.code},E92000001,{period.label},40.0,39.8,40.2,ONS,2013-06-01,final"))
    bad.write_bytes(csv_of(f"{rate.code},E92000001,{period.label},x,,,ONS,2013-06-01,final"))
    with pytest.raises(CommandError, match="Row 2"):
        call_command("load_comparators", str(bad))
    assert not ComparatorFigure.objects.exists()
    call_command("load_comparators", str(good))
    assert "1 new" in capsys.readouterr().out and ComparatorFigure.objects.count() == 1


# --- Never in the rollups -------------------------------------------------------------------------

def rollup_state():
    return sorted(IndicatorRollup.objects.values_list(
        "indicator__code", "locality__gss_code", "period__label", "breakdown_key", "value", "ci_lower", "ci_upper",
        "reporting", "expected", "complete", "status", "direction_year", "direction_previous"))


def test_loading_comparator_figures_leaves_kents_rollup_and_the_returns_unchanged(approver):
    (count, rate), period = seed(approver, 2, 12)
    before, returns = rollup_state(), IndicatorReturn.objects.count()
    services.comparator_areas_ensure()
    rows = [f"{code},{gss},{period.label},{value},,,ONS,2013-06-01,final"
            for code, value in ((count.code, 999999), (rate.code, 12.5))
            for gss in ["E92000001", "E12000008"] + [g for _, g in services.CIPFA_NEIGHBOURS]]
    services.comparator_figures_import(user=approver, raw=csv_of(*rows))
    assert ComparatorFigure.objects.count() == 28
    assert rollup_state() == before and IndicatorReturn.objects.count() == returns
    engine.rebuild_all()  # the nightly rebuild reads approved returns only
    assert rollup_state() == before


# --- The judgement and its withholding --------------------------------------------------------------

RATE = Indicator(code="R", name="A rate", unit="percentage", aggregation="ratio", polarity="higher_is_better")
Q3, Q4 = SimpleNamespace(label="2012/13 Q3"), SimpleNamespace(label="2012/13 Q4")


def kent(value="50", lower="48", upper="52", *, complete=True, period=Q3, period_id=3):
    return SimpleNamespace(value=Decimal(value), ci_lower=lower and Decimal(lower), ci_upper=upper and Decimal(upper),
                           complete=complete, period=period, period_id=period_id, coverage_display="3/12 districts")


def area(value="40", lower="39", upper="41", *, period=Q3, period_id=3):
    return SimpleNamespace(value=Decimal(value), ci_lower=lower and Decimal(lower), ci_upper=upper and Decimal(upper),
                           period=period, period_id=period_id)


def test_kent_is_judged_against_a_comparator_by_the_districts_rule():
    for row, figure in ((kent(), area()), (kent(), area("50", "49", "51")), (kent("30", "29", "31"), area()),
                        (kent(lower=None, upper=None), area(lower=None, upper=None))):
        found = compare_with_area(RATE, row, "Kent", "England", figure)
        assert (found.outcome, found.basis) == versus_kent(RATE, row, figure) and found.withheld == ""
    assert compare_with_area(RATE, kent(), "Kent", "England", area()).words.startswith("Better (their 95% confidence")
    assert compare_with_area(RATE, kent(), "Kent", "England", area("50", "49", "51")).outcome == "similar"
    assert compare_with_area(RATE, kent("30", "29", "31"), "Kent", "England", area()).outcome == "worse"


@pytest.mark.parametrize("row,figure,indicator,words", [
    (kent(complete=False), area(), RATE, "Kent's figure for 2012/13 Q3 is incomplete (3/12 districts): not compared."),
    (kent(period=Q4, period_id=4), area(), RATE, "England's latest is 2012/13 Q3; Kent's is 2012/13 Q4: not compared."),
    (kent(lower=None, upper=None), area(), RATE, "Kent's figure has no 95% confidence interval"),
    (kent(), area(lower=None, upper=None), RATE, "England's figure has no 95% confidence interval"),
    (kent(), None, RATE, "No figure for England loaded"),
    (kent(), area(), Indicator(unit="count", aggregation="sum", polarity="lower_is_better"), "a count mostly measures"),
    (kent(), area(), Indicator(unit="percentage", aggregation="ratio", polarity="neutral"), "neither higher nor lower"),
])
def test_each_reason_a_comparison_is_withheld_is_said_in_words(row, figure, indicator, words):
    found = compare_with_area(indicator, row, "Kent", "England", figure)
    assert found.outcome == "" and words in found.withheld and found.words == found.withheld
