"""The set-based rollup on PostgreSQL (performance/rollups/postgres.py and the SQL functions of
performance/rollups/sql/rules.sql) against the Python reference (rules.py, reference.compute_slice):
the same rules on a grid of inputs, and the same summary rows for every slice of a generated data
set, quarterly and annual (financial and calendar years, whose year ago is the year before)."""
import datetime
import random
from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from localities.models import Locality
from partnerships.models import Organisation
from performance.catalogue import periods, rules, services
from performance.models import (
    BreakdownCategory,
    BreakdownDimension,
    Indicator,
    IndicatorReturn,
    IndicatorRollup,
    IndicatorTarget,
    WorkflowState,
)
from performance.rollups import engine, postgres, reference
from tests.conftest import requires_postgres
from tests.factories import IndicatorFactory, open_quarter

pytestmark = [requires_postgres, pytest.mark.django_db]

UNITS = ["count", "percentage", "rate_per_1000", "rate_per_100000", "score"]
POLARITIES = ["higher_is_better", "lower_is_better", "neutral"]
numbers = st.one_of(st.none(), st.decimals(min_value=0, max_value=10**7, places=4, allow_nan=False))


def sql(expression: str, *params):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {expression}", params)
        return cursor.fetchone()


def close(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


@settings(max_examples=300, deadline=None)
@given(unit=st.sampled_from(UNITS), aggregation=st.sampled_from(["sum", "ratio", "none"]),
       value=numbers, numerator=numbers, denominator=numbers)
def test_confidence_limits_agree(unit, aggregation, value, numerator, denominator):
    if unit == "percentage" and numerator is not None and denominator and numerator > denominator:
        numerator = denominator  # a percentage's numerator is part of its denominator (the form checks it)
    multiplier = float(Indicator.MULTIPLIERS.get(unit, Decimal(1)))
    expected = rules.confidence_limits(unit=unit, aggregation=aggregation, multiplier=multiplier, value=value,
                                       numerator=numerator, denominator=denominator)
    lower, upper = sql("kf_ci_lower(%s, %s, %s, %s, %s), kf_ci_upper(%s, %s, %s, %s, %s)",
                       *([unit, aggregation, value, numerator, denominator] * 2))
    if expected is None:
        assert (lower, upper) == (None, None)
    else:
        assert close(lower, expected[0]) and close(upper, expected[1])


@settings(max_examples=300, deadline=None)
@given(value=numbers, target=numbers, tolerance=st.one_of(st.none(), st.decimals(0, 100, places=2)),
       polarity=st.sampled_from(POLARITIES))
def test_status_agrees(value, target, tolerance, polarity):
    expected = rules.rag_status(value=value, target=target, tolerance_percent=tolerance, polarity=polarity)
    assert sql("kf_rag(%s, %s, %s, %s)", value, target, tolerance, polarity)[0] == expected


@settings(max_examples=300, deadline=None)
@given(unit=st.sampled_from(UNITS), value=st.one_of(st.none(), st.decimals(0, 100, places=4)),
       interval=st.one_of(st.none(), st.tuples(st.decimals(0, 50, places=4), st.decimals(0, 50, places=4))),
       sample_base=st.one_of(st.none(), st.integers(1, 10**6)))
def test_survey_limits_agree(unit, value, interval, sample_base):
    lower, upper = sorted(interval) if interval else (None, None)
    expected = rules.survey_limits(unit=unit, value=value, ci_lower=lower, ci_upper=upper, sample_base=sample_base)
    got = sql("kf_survey_lower(%s, %s, %s, %s, %s), kf_survey_upper(%s, %s, %s, %s, %s)",
              *([unit, value, lower, upper, sample_base] * 2))
    if expected is None:
        assert got == (None, None)
    else:
        assert close(got[0], expected[0]) and close(got[1], expected[1])


@settings(max_examples=300, deadline=None)
@given(reporting=st.integers(0, 14), expected=st.integers(0, 13), aggregation=st.sampled_from(["sum", "ratio", "none"]),
       min_coverage=st.one_of(st.none(), st.integers(1, 14)))
def test_completeness_agrees(reporting, expected, aggregation, min_coverage):
    wanted = rules.is_complete(reporting=reporting, expected=expected, aggregation=aggregation, min_coverage=min_coverage)
    assert sql("kf_complete(%s, %s, %s, %s)", reporting, expected, aggregation, min_coverage)[0] is wanted


@settings(max_examples=400, deadline=None)
@given(current=numbers, previous=numbers, polarity=st.sampled_from(POLARITIES), with_ci=st.booleans(),
       spread=st.floats(0, 50))
def test_direction_agrees(current, previous, polarity, with_ci, spread):
    current_ci = (float(current) - spread, float(current) + spread) if with_ci and current is not None else None
    previous_ci = (float(previous) - spread, float(previous) + spread) if with_ci and previous is not None else None
    expected = rules.direction(current=current, previous=previous, current_ci=current_ci, previous_ci=previous_ci,
                               polarity=polarity)
    got = sql("kf_direction(%s, %s, %s, %s, %s, %s, %s)", polarity, current, previous,
              *(current_ci or (None, None)), *(previous_ci or (None, None)))[0]
    assert got == expected


COLUMNS = [
    "breakdown_label", "value", "numerator", "denominator", "ci_lower", "ci_upper", "reporting", "expected", "missing",
    "complete", "flags", "commentary", "target", "tolerance_percent", "status", "previous_value", "direction_previous", "year_ago_value", "direction_year",
]


def snapshot(indicator_ids) -> dict:
    return {
        (row["indicator_id"], row["locality_id"], row["period_id"], row["breakdown_key"]): tuple(row[c] for c in COLUMNS)
        for row in IndicatorRollup.objects.filter(indicator_id__in=indicator_ids)
        .values("indicator_id", "locality_id", "period_id", "breakdown_key", *COLUMNS)
    }


def periods_of(kind: str) -> list:
    """Six periods of a kind: quarters 2013/14 Q1 to 2014/15 Q2; or financial or calendar years
    2009 to 2015 but 2012, so the year after the gap has neither a previous year nor a year ago."""
    if kind == "quarter":
        return [open_quarter(2013 + (n // 4), n % 4 + 1) for n in range(6)]
    span = {"financial_year": periods.financial_year, "calendar_year": periods.calendar_year}[kind]
    return [services.period_open(period=services.period_ensure(span=span(year))[0])
            for year in (2009, 2010, 2011, 2013, 2014, 2015)]


def generated_data(seed: int, kind: str = "quarter"):
    """Indicators of every unit, aggregation and level, six periods (quarters, or financial or
    calendar years for annual indicators), a breakdown, targets, and approved, submitted and
    missing returns at random."""
    rng = random.Random(seed)
    quarters = periods_of(kind)
    dimension = BreakdownDimension.objects.create(code=f"age-{seed}", name="Age")
    categories = [BreakdownCategory.objects.create(dimension=dimension, code=c, label=c, order=n)
                  for n, c in enumerate(["0-17", "18-64", "65+"])]
    districts = list(Locality.objects.filter(kind="district"))
    county = Locality.objects.get(kind="county")
    kcc = Organisation.objects.get(short_name="KCC")
    indicators = []
    for unit, aggregation, level, min_coverage, survey in [
        ("count", "sum", "district", None, False), ("percentage", "ratio", "district", None, False),
        ("percentage", "ratio", "district", 9, False), ("rate_per_100000", "ratio", "district", None, False),
        ("currency_gbp", "sum", "district", None, False), ("score", "none", "both", None, False),
        ("score", "none", "district", None, False), ("count", "sum", "county", None, False),
        ("percentage", "ratio", "county", None, False),
        # survey estimates: with sample bases (a ratio) and with published intervals (districts and county)
        ("percentage", "ratio", "district", 10, True), ("percentage", "none", "both", None, True),
    ]:
        indicators.append(IndicatorFactory(
            unit=unit, aggregation=aggregation, reporting_level=level, polarity=rng.choice(POLARITIES),
            numerator_label="n" if aggregation == "ratio" else "", denominator_label="d" if aggregation == "ratio" else "",
            min_coverage=min_coverage, is_survey=survey,
            frequency="quarterly" if kind == "quarter" else "annual",
            year_basis="calendar" if kind == "calendar_year" else "financial",
        ))
    returns = []
    for indicator in indicators:
        areas = {"county": [county], "district": districts, "both": [*districts, county]}[indicator.reporting_level]
        for period in quarters:
            if rng.random() < 0.5:
                IndicatorTarget.objects.create(indicator=indicator, period=period, target=Decimal(rng.randint(1, 900)),
                                               tolerance_percent=Decimal(rng.choice([0, 5, 10])))
            if rng.random() < 0.3:
                area = rng.choice(areas)
                IndicatorTarget.objects.create(indicator=indicator, period=period, locality=area,
                                               target=Decimal(rng.randint(1, 90)), tolerance_percent=Decimal(5))
            for area in areas:
                for category in [None, *categories]:
                    if rng.random() < 0.2 or (category and rng.random() < 0.4):
                        continue
                    state = rng.choice([WorkflowState.APPROVED] * 4 + [WorkflowState.SUBMITTED])
                    if indicator.aggregation == "ratio":
                        denominator = Decimal(rng.randint(1, 5000))
                        numerator = Decimal(rng.randint(0, int(denominator)))
                        value = (numerator / denominator * indicator.multiplier).quantize(Decimal("0.0001"))
                    else:
                        numerator = denominator = None
                        value = None if rng.random() < 0.05 else Decimal(rng.randint(0, 100000)) / 100
                        if indicator.unit == "percentage" and value is not None:
                            value = min(value, Decimal(100))
                    published = sample_base = None
                    if indicator.is_survey and category is None:
                        if indicator.aggregation == "none" and value is not None and rng.random() < 0.8:
                            half = Decimal(rng.randint(100, 600)) / 100
                            published = (value - half, value + half)
                        elif rng.random() < 0.9:
                            sample_base = rng.randint(200, 2000)
                    returns.append(IndicatorReturn(
                        indicator=indicator, locality=area, period=period, breakdown=category, organisation=kcc,
                        quality=rng.choice(["final"] * 5 + ["provisional", "estimated", "revised"]),
                        commentary=rng.choice(["", "Checked", "Off target: staff shortages"]),
                        ci_lower=published[0] if published else None, ci_upper=published[1] if published else None,
                        sample_base=sample_base,
                        value=value, numerator=numerator, denominator=denominator, state=state,
                        decided_at=datetime.datetime(2014, 1, 1, tzinfo=datetime.UTC)
                        + datetime.timedelta(minutes=rng.randint(0, 10**5)),
                    ))
    IndicatorReturn.objects.bulk_create(returns)
    return indicators, quarters


@pytest.mark.parametrize(("seed", "kind"), [(1, "quarter"), (2, "quarter"), (5, "financial_year"), (6, "calendar_year")])
def test_every_slice_is_the_same_rows_as_the_python_reference(seed, kind):
    """Quarterly indicators compare with the same quarter a year before; annual ones (the annual
    branch of kf_sp in postgres.py and of reference.year_ago_period) with the year before."""
    indicators, quarters = generated_data(seed, kind)
    slices = [[i.pk, p.pk] for i in indicators for p in quarters]
    engine.rollup_slices(slices)
    from_sql = snapshot([i.pk for i in indicators])
    IndicatorRollup.objects.filter(indicator__in=indicators).delete()
    for indicator in indicators:
        for period in quarters:
            IndicatorRollup.objects.bulk_create(reference.compute_slice(indicator, period))
    from_python = snapshot([i.pk for i in indicators])
    assert len(from_sql) > 500
    complete = [row[COLUMNS.index("complete")] for key, row in from_sql.items() if key[1] == Locality.objects.get(kind="county").pk]
    assert True in complete and False in complete, "the data have county figures that may and may not be judged"
    flags = {tuple(row[COLUMNS.index("flags")]) for row in from_sql.values()}
    assert ("provisional",) in flags and any(len(f) > 1 for f in flags), "flags travel, alone and together"
    year_ago = [row for row in from_sql.values() if row[COLUMNS.index("year_ago_value")] is not None]
    assert any(row[COLUMNS.index("direction_year")] != "not_comparable" for row in year_ago), "figures have a year ago"
    if kind != "quarter":
        assert all(row[COLUMNS.index("year_ago_value")] == row[COLUMNS.index("previous_value")]
                   and row[COLUMNS.index("direction_year")] == row[COLUMNS.index("direction_previous")]
                   for row in from_sql.values()), "a year's year ago is the year before"
        gap = [key for key, row in from_sql.items() if key[2] == quarters[3].pk]
        assert gap and all(from_sql[key][COLUMNS.index("year_ago_value")] is None for key in gap), "no year before a gap"
    assert from_sql.keys() == from_python.keys()
    differing = {key: (from_sql[key], from_python[key]) for key in from_sql if from_sql[key] != from_python[key]}
    assert not differing, list(differing.items())[:3]


def test_a_second_run_writes_nothing_and_a_vanished_breakdown_row_is_deleted():
    indicators, quarters = generated_data(3)
    slices = [[i.pk, p.pk] for i in indicators for p in quarters]


    first = postgres.rollup_slices(slices, datetime.datetime.now(datetime.UTC))
    again = postgres.rollup_slices(slices, datetime.datetime.now(datetime.UTC))
    assert first["written"] == first["rows"] > 0
    assert again == {"rows": first["rows"], "written": 0, "deleted": 0}, "unchanged rows are not rewritten"
    gone = IndicatorReturn.objects.filter(indicator=indicators[0], period=quarters[-1], breakdown__isnull=False,
                                          state=WorkflowState.APPROVED).first()
    gone.state = WorkflowState.RETURNED
    gone.save()
    after = postgres.rollup_slices([[indicators[0].pk, quarters[-1].pk]], datetime.datetime.now(datetime.UTC))
    assert after["written"] >= 1 and after["deleted"] >= 1


def test_a_full_rebuild_leaves_the_planner_statistics_of_the_summary_tables_current():
    """After a rebuild the dashboards' queries are planned on the new rows, not on statistics of
    the table as it was (at ten million values stale statistics cost 2 to 4 s a page)."""
    from django.db import connection

    generated_data(4)

    def estimated_rows() -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'performance_indicatorrollup'")
            return cursor.fetchone()[0]

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE performance_indicatorrollup")  # statistics of the table before: empty
    assert estimated_rows() <= 0
    engine.rebuild_all()
    assert IndicatorRollup.objects.count() > 500
    assert estimated_rows() == IndicatorRollup.objects.count()
