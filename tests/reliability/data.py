"""A synthetic data set big enough that a full rollup takes a few seconds, written in bulk.

On top of the Kent framework: synthetic quarterly indicators (half counts summed, half
percentages aggregated as the ratio of summed numerators and denominators), each returned by
every district council for every quarter of a span of years, as a total and by three age bands;
about one value in seventeen is missing (so coverage and the missing areas vary) and one in
twenty-three is submitted but not approved (so the rollup must leave it out). Synthetic
milestones of a delivery plan get approved returns in some quarters, so the milestone positions
vary too. Rows are inserted by set-based SQL (returns) and bulk_create (the rest).
"""
from __future__ import annotations

import datetime

from django.db import connection, transaction

from performance.catalogue import periods, services

FIRST_YEAR = 2010
CATEGORIES = [("0-17", "Aged 0 to 17"), ("18-64", "Aged 18 to 64"), ("65+", "Aged 65 and over")]
MILESTONES = 30


def quarters(years: int) -> list[int]:


    ids = []
    for year in range(FIRST_YEAR, FIRST_YEAR + years):
        for number in range(1, 5):
            period, _ = services.period_ensure(span=periods.quarter(year, number))
            ids.append(period.pk)
    return ids


@transaction.atomic
def add_indicators(count: int, period_ids: list[int], first: int = 0) -> int:
    """Add ``count`` synthetic indicators with their returns for ``period_ids``; returns the
    number of returns written."""
    from localities.models import Locality
    from partnerships.models import Organisation
    from performance.models import BreakdownCategory, BreakdownDimension, Indicator, IndicatorAssignment

    owner = Organisation.objects.get(short_name="KCC")
    dimension, _ = BreakdownDimension.objects.get_or_create(code="rel-age", defaults={"name": "Age band"})
    for order, (code, label) in enumerate(CATEGORIES):
        BreakdownCategory.objects.get_or_create(dimension=dimension, code=code, defaults={"label": label, "order": order})
    indicators = Indicator.objects.bulk_create([
        Indicator(
            code=f"REL-{n:04d}", name=f"Reliability measure {n}", definition="Synthetic data for the reliability tests.",
            unit="percentage" if n % 2 else "count", aggregation="ratio" if n % 2 else "sum",
            polarity="higher_is_better" if n % 3 else "lower_is_better",
            numerator_label="People meeting the measure" if n % 2 else "", denominator_label="People" if n % 2 else "",
            data_owner=owner,
        )
        for n in range(first, first + count)
    ])
    Indicator.breakdown_dimensions.through.objects.bulk_create(
        [Indicator.breakdown_dimensions.through(indicator_id=i.pk, breakdowndimension_id=dimension.pk) for i in indicators]
    )
    councils = {o.locality_id: o for o in Organisation.objects.filter(locality__kind=Locality.Kind.DISTRICT)}
    IndicatorAssignment.objects.bulk_create([
        IndicatorAssignment(organisation=council, indicator=i, locality_id=locality_id)
        for i in indicators for locality_id, council in councils.items()
    ])
    with connection.cursor() as cursor:
        cursor.execute(INSERT_RETURNS, {"ids": [i.pk for i in indicators], "dimension": dimension.pk, "periods": period_ids})
        return cursor.rowcount


INSERT_RETURNS = """
INSERT INTO performance_indicatorreturn (
    created_at, updated_at, organisation_id, period_id, commentary, state, return_reason, version,
    submitted_at, decided_at, indicator_id, locality_id, breakdown_id, value, numerator, denominator, confirmed_warnings
)
SELECT now(), now(), a.organisation_id, p.id, '',
       CASE WHEN (i.id * 5 + p.id * 11 + a.locality_id * 7 + coalesce(b.id, 0)) %% 23 = 0 THEN 'submitted' ELSE 'approved' END,
       '', 1, now(), now() - make_interval(secs => (i.id + p.id + a.locality_id) %% 1000), i.id, a.locality_id, b.id,
       CASE WHEN i.aggregation = 'sum' THEN f.count ELSE round(f.num / f.den * 100, 4) END,
       CASE WHEN i.aggregation = 'ratio' THEN f.num END,
       CASE WHEN i.aggregation = 'ratio' THEN f.den END,
       '[]'::jsonb
FROM performance_indicator i
JOIN performance_indicatorassignment a ON a.indicator_id = i.id
CROSS JOIN performance_reportingperiod p
CROSS JOIN (SELECT NULL::bigint AS id UNION ALL
            SELECT id FROM performance_breakdowncategory WHERE dimension_id = %(dimension)s) b
CROSS JOIN LATERAL (
    SELECT floor((200 + (i.id %% 50) * 4 + extract(year FROM p.start) - 2000 + floor(random() * 40))
                 / CASE WHEN b.id IS NULL THEN 1 ELSE 3 END)::numeric AS count,
           (400 + floor(random() * 300))::numeric AS num,
           (900 + floor(random() * 200))::numeric AS den
) f
WHERE i.id = ANY(%(ids)s) AND p.id = ANY(%(periods)s)
  AND (i.id * 7 + p.id * 13 + a.locality_id * 3) %% 17 <> 0
"""


@transaction.atomic
def add_milestones(period_ids: list[int]) -> int:
    """Synthetic milestones of one delivery plan, with approved returns in some quarters."""
    from ambitions.models import DeliveryPlan
    from partnerships.models import Organisation
    from performance.models import Milestone, MilestoneReturn, ReportingPeriod

    owner = Organisation.objects.get(short_name="KCC")
    plan = DeliveryPlan.objects.order_by("pk").first()
    periods = list(ReportingPeriod.objects.filter(pk__in=period_ids).order_by("start"))
    milestones = Milestone.objects.bulk_create([
        Milestone(title=f"Reliability milestone {n}", delivery_plan=plan, owner=owner,
                  due_date=periods[(n * 7) % len(periods)].end + datetime.timedelta(days=n % 5))
        for n in range(MILESTONES)
    ])
    statuses = ["on_track", "at_risk", "off_track", "on_track"]
    returns = []
    for n, milestone in enumerate(milestones):
        for k, period in enumerate(periods):
            if (k + n) % 3:
                continue
            done = k >= len(periods) - 4 and n % 4 == 0
            returns.append(MilestoneReturn(
                milestone=milestone, period=period, organisation=owner, state="approved" if (k + n) % 9 else "submitted",
                status="complete" if done else statuses[(k + n) % 4], percent_complete=100 if done else (k * 3 + n) % 100,
                revised_date=milestone.due_date + datetime.timedelta(days=30 * (n % 3)) if n % 2 else None,
            ))
    MilestoneReturn.objects.bulk_create(returns)
    return len(returns)


def corrupt_summaries() -> None:
    """Make every kind of wrong the summary tables can hold: rows missing, rows with wrong
    figures, and a row of a slice that does not exist (a quarterly indicator in a month)."""
    from performance.models import Indicator, ReportingPeriod

    month, _ = ReportingPeriod.objects.get_or_create(
        kind="month", start=datetime.date(2035, 1, 1),
        defaults={"label": "Jan 2035 (rel.)", "end": datetime.date(2035, 1, 31), "deadline": datetime.date(2035, 3, 1)},
    )
    indicator = Indicator.objects.filter(code__startswith="REL-").order_by("pk").first()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM performance_indicatorrollup WHERE id % 3 = 0")
        cursor.execute(
            "UPDATE performance_indicatorrollup SET value = coalesce(value, 0) + 1, reporting = reporting + 1, "
            "missing = '[\"corrupted\"]'::jsonb, status = 'red', direction_year = 'worse' WHERE id % 3 = 1"
        )
        cursor.execute("DELETE FROM performance_milestonerollup WHERE id % 2 = 0")
        cursor.execute("UPDATE performance_milestonerollup SET percent_complete = 42, overdue = NOT overdue WHERE id % 2 = 1")
        cursor.execute(
            "INSERT INTO performance_indicatorrollup (indicator_id, locality_id, period_id, breakdown_key, breakdown_label, "
            "value, reporting, expected, missing, status, direction_previous, direction_year, computed_at) "
            "SELECT %s, l.id, %s, '', '', 1, 1, 1, '[]'::jsonb, 'green', 'not_comparable', 'not_comparable', now() "
            "FROM localities_locality l WHERE l.kind = 'county' ON CONFLICT DO NOTHING",
            [indicator.pk, month.pk],
        )


def indicator_columns() -> list[str]:
    from performance.models import IndicatorRollup

    return [f.attname for f in IndicatorRollup._meta.concrete_fields if f.name not in ("id", "computed_at")]


def milestone_columns() -> list[str]:
    from performance.models import MilestoneRollup

    return [f.attname for f in MilestoneRollup._meta.concrete_fields if f.name not in ("id", "computed_at")]


TABLES = {"IndicatorRollup": ("performance_indicatorrollup", indicator_columns),
          "MilestoneRollup": ("performance_milestonerollup", milestone_columns)}


def snapshot(name: str) -> None:
    """Copy every summary row, every column but id and computed_at, to tables of their own
    (compared in SQL: a full rollup has hundreds of thousands of rows)."""
    with connection.cursor() as cursor:
        for model, (table, columns) in TABLES.items():
            cursor.execute(f"DROP TABLE IF EXISTS rel_{name}_{table}")
            cursor.execute(f"CREATE UNLOGGED TABLE rel_{name}_{table} AS SELECT {', '.join(columns())} FROM {table}")


def drop_snapshots() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE %s", ["rel\\_%"])
        for (table,) in cursor.fetchall():
            cursor.execute(f"DROP TABLE {table}")


def differences(got: str, want: str, limit: int = 3) -> list[str]:
    """How two snapshots differ, as multisets of rows (empty when they are equal)."""
    found = []
    with connection.cursor() as cursor:
        for model, (table, _) in TABLES.items():
            counts = []
            for a, b in ((got, want), (want, got)):
                cursor.execute(f"SELECT count(*) FROM (SELECT * FROM rel_{a}_{table} EXCEPT ALL SELECT * FROM rel_{b}_{table}) d")
                counts.append(cursor.fetchone()[0])
            if any(counts):
                cursor.execute(f"SELECT * FROM rel_{got}_{table} EXCEPT ALL SELECT * FROM rel_{want}_{table} LIMIT {limit}")
                extra = cursor.fetchall()
                cursor.execute(f"SELECT * FROM rel_{want}_{table} EXCEPT ALL SELECT * FROM rel_{got}_{table} LIMIT {limit}")
                absent = cursor.fetchall()
                found.append(f"{model}: {counts[0]} rows of {got} not in {want} (e.g. {extra}); "
                             f"{counts[1]} rows of {want} not in {got} (e.g. {absent})")
    return found

