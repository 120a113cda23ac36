"""Synthetic but realistic data at a chosen scale, on top of the Kent framework and the demo set.

Kent keeps its 13 real areas; the scale comes from what a national or fully broken-down load
adds: many more indicators (counts summed, percentages as ratios of summed numerators and
denominators), each returned by every district for 27 years of quarters, as a total and by
three age bands. Every value is an approved return of the district council that owns the slot.
The synthetic indicators are evidence for no ambition, so the boards' dashboards show the same
indicators at every scale: what grows is the data behind them.

The returns are written by set-based SQL; the table's secondary indexes are dropped during the
load and built again after it, and the per-row foreign-key triggers are skipped (the rows are
consistent by construction), as a bulk load into PostgreSQL should be done.
"""
from __future__ import annotations

import math
import time

from django.db import connection, transaction

from performance.catalogue import periods, services

FIRST_YEAR, LAST_YEAR = 2000, 2026  # quarters of history
CATEGORIES = [("0-17", "Aged 0 to 17"), ("18-64", "Aged 18 to 64"), ("65+", "Aged 65 and over")]
BATCH = 100  # indicators per INSERT


def periods_ensure() -> list[int]:


    ids = []
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        for number in range(1, 5):
            period, _ = services.period_ensure(span=periods.quarter(year, number))
            ids.append(period.pk)
    return ids


def values_per_indicator(n_periods: int, n_districts: int) -> int:
    return n_periods * n_districts * (1 + len(CATEGORIES))


def generate(values: int, log=print) -> dict:
    """Add about ``values`` approved values. Returns what was made."""
    from localities.models import Locality
    from partnerships.models import Organisation
    from performance.models import BreakdownCategory, BreakdownDimension, Indicator, IndicatorAssignment

    started = time.perf_counter()
    period_ids = periods_ensure()
    districts = list(Locality.objects.filter(kind=Locality.Kind.DISTRICT))
    per_indicator = values_per_indicator(len(period_ids), len(districts))
    count = max(1, math.ceil(values / per_indicator))
    if count == 1:  # fewer values than one indicator's full history: only its latest quarters
        period_ids = period_ids[-max(1, math.ceil(values / values_per_indicator(1, len(districts)))):]
        per_indicator = values_per_indicator(len(period_ids), len(districts))
    owner = Organisation.objects.get(short_name="KCC")
    dimension, _ = BreakdownDimension.objects.get_or_create(code="bench-age", defaults={"name": "Age band"})
    for order, (code, label) in enumerate(CATEGORIES):
        BreakdownCategory.objects.get_or_create(dimension=dimension, code=code, defaults={"label": label, "order": order})
    indicators = Indicator.objects.bulk_create([
        Indicator(
            code=f"BENCH-{n:05d}", name=f"Synthetic measure {n}", definition="Synthetic data for the benchmarks.",
            unit="percentage" if n % 2 else "count", aggregation="ratio" if n % 2 else "sum",
            polarity="higher_is_better" if n % 3 else "lower_is_better",
            numerator_label="People meeting the measure" if n % 2 else "",
            denominator_label="People" if n % 2 else "", data_owner=owner,
        )
        for n in range(count)
    ])
    Indicator.breakdown_dimensions.through.objects.bulk_create(
        [Indicator.breakdown_dimensions.through(indicator_id=i.pk, breakdowndimension_id=dimension.pk) for i in indicators]
    )
    councils = {o.locality_id: o for o in Organisation.objects.filter(locality__kind=Locality.Kind.DISTRICT)}
    IndicatorAssignment.objects.bulk_create([
        IndicatorAssignment(organisation=councils[d.pk], indicator=i, locality=d) for i in indicators for d in districts
    ])
    ids = [i.pk for i in indicators]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'performance_indicatorreturn' "
            "AND indexname NOT LIKE '%%_pkey'"
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        # The rows are consistent by construction: skip the per-row foreign-key triggers (needs
        # a superuser, as the local PostgreSQL's postgres role is).
        cursor.execute("SET session_replication_role = replica")
        for start in range(0, len(ids), BATCH):
            with transaction.atomic():
                cursor.execute(INSERT_SQL, {"ids": ids[start:start + BATCH], "dimension": dimension.pk, "periods": period_ids})
            log(f"  generated values for {min(start + BATCH, len(ids))}/{len(ids)} indicators")
        cursor.execute("SET session_replication_role = DEFAULT")
        for _, definition in indexes:
            cursor.execute(definition)
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM performance_indicatorreturn")
        total = cursor.fetchone()[0]
    return {
        "synthetic_indicators": count, "synthetic_values": count * per_indicator, "values_in_database": total,
        "periods": len(period_ids), "generation_seconds": round(time.perf_counter() - started, 1),
    }


# One row per synthetic indicator × quarter × district × (total and each age band): counts of a
# few hundred a quarter with a trend and noise; percentages from numerators over denominators.
INSERT_SQL = """
INSERT INTO performance_indicatorreturn (
    created_at, updated_at, organisation_id, period_id, commentary, state, return_reason, version,
    submitted_at, decided_at, indicator_id, locality_id, breakdown_id, value, numerator, denominator, confirmed_warnings
)
SELECT now(), now(), a.organisation_id, p.id, '', 'approved', '', 1, now(), now(), i.id, a.locality_id, b.id,
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
           1000::numeric AS den
) f
WHERE i.id = ANY(%(ids)s) AND p.id = ANY(%(periods)s)
"""
