"""The rollup as one set-based statement on PostgreSQL.

Given a set of slices (indicator × period), one statement reads their approved returns (and
those of the previous period and the same period a year before), computes every summary row
exactly as ``rollups.compute_slice`` does in Python — the districts' own figures, the KCC area
aggregated by the indicator's method, coverage, confidence limits, target and status, direction
of travel — upserts the rows that changed and deletes the rows that no longer have a source.
The rules are the SQL functions of migration 0004 (twins of performance/rules.py, checked
against them by tests/performance/test_rollup_sql.py).
"""
from __future__ import annotations

from django.db import connection

UPDATE_COLUMNS = [
    "breakdown_label", "value", "numerator", "denominator", "ci_lower", "ci_upper", "reporting", "expected", "missing",
    "target", "tolerance_percent", "status", "previous_value", "direction_previous", "year_ago_value", "direction_year",
]

ROLLUP_SQL = """
WITH
slices AS (
    SELECT DISTINCT s.indicator_id, s.period_id
    FROM unnest(%(indicators)s::bigint[], %(periods)s::bigint[]) AS s(indicator_id, period_id)
),
districts AS (SELECT id, name FROM localities_locality WHERE kind = 'district'),
county AS (SELECT id, name FROM localities_locality WHERE kind = 'county'),
all_districts AS (
    SELECT count(*)::int AS n, coalesce(jsonb_agg(name ORDER BY name COLLATE "C"), '[]'::jsonb) AS names FROM districts
),
-- each slice with the periods its direction of travel compares with
sp AS (
    SELECT s.indicator_id, s.period_id, prev.id AS prev_id, yr.id AS year_id
    FROM slices s
    JOIN performance_reportingperiod p ON p.id = s.period_id
    LEFT JOIN performance_reportingperiod prev ON prev.kind = p.kind AND prev."end" = p.start - 1
    LEFT JOIN performance_reportingperiod yr ON yr.kind = p.kind AND yr.start = CASE
        WHEN p.kind IN ('financial_year', 'calendar_year') THEN prev.start
        ELSE (p.start - interval '1 year')::date END
),
need AS (
    SELECT indicator_id, period_id FROM sp
    UNION SELECT indicator_id, prev_id FROM sp WHERE prev_id IS NOT NULL
    UNION SELECT indicator_id, year_id FROM sp WHERE year_id IS NOT NULL
),
-- the approved values those periods hold, with the level each indicator is reported at
src AS MATERIALIZED (
    SELECT r.indicator_id, r.period_id, coalesce(r.breakdown_id, 0) AS bkey, r.locality_id,
           r.value, r.numerator, r.denominator, r.decided_at,
           l.kind = 'district' AS from_district, i.reporting_level = 'county' AS county_level
    FROM performance_indicatorreturn r
    JOIN need ON need.indicator_id = r.indicator_id AND need.period_id = r.period_id
    JOIN performance_indicator i ON i.id = r.indicator_id
    JOIN localities_locality l ON l.id = r.locality_id
    WHERE r.state = 'approved'
),
-- every area's figure: its own value (districts; the county for county-level indicators) ...
fig AS (
    SELECT indicator_id, period_id, bkey, locality_id, value, numerator, denominator,
           1 AS reporting, 1 AS expected, '[]'::jsonb AS missing
    FROM src WHERE from_district <> county_level
    UNION ALL
    -- ... and the KCC area's, aggregated from its districts by the indicator's own method
    SELECT a.indicator_id, a.period_id, a.bkey, (SELECT id FROM county),
           CASE WHEN a.reporting = 0 THEN NULL
                WHEN i.aggregation = 'sum' THEN coalesce(a.sum_value, 0)
                WHEN i.aggregation = 'ratio' AND a.den <> 0 THEN round(a.num / a.den * kf_multiplier(i.unit), 4)
                WHEN i.aggregation = 'latest' THEN a.latest END,
           CASE WHEN a.reporting > 0 AND i.aggregation = 'ratio' AND a.den <> 0 THEN a.num END,
           CASE WHEN a.reporting > 0 AND i.aggregation = 'ratio' AND a.den <> 0 THEN a.den END,
           a.reporting, (SELECT n FROM all_districts),
           CASE WHEN a.reporting = (SELECT n FROM all_districts) THEN '[]'::jsonb
                ELSE (SELECT coalesce(jsonb_agg(d.name ORDER BY d.name COLLATE "C"), '[]'::jsonb)
                      FROM districts d WHERE d.id <> ALL(coalesce(a.reported, '{{}}'))) END
    FROM (
        SELECT indicator_id, period_id, bkey,
               count(*) FILTER (WHERE from_district)::int AS reporting,
               sum(value) FILTER (WHERE from_district) AS sum_value,
               sum(numerator) FILTER (WHERE from_district AND numerator IS NOT NULL AND denominator <> 0) AS num,
               sum(denominator) FILTER (WHERE from_district AND numerator IS NOT NULL AND denominator <> 0) AS den,
               (array_agg(value ORDER BY coalesce(decided_at, %(now)s) DESC, locality_id DESC)
                    FILTER (WHERE from_district))[1] AS latest,
               array_agg(locality_id) FILTER (WHERE from_district) AS reported
        FROM src WHERE NOT county_level
        GROUP BY indicator_id, period_id, bkey
    ) a
    JOIN performance_indicator i ON i.id = a.indicator_id
),
-- the totals and every breakdown reported in the slice's own period
keys AS (
    SELECT indicator_id, period_id, 0::bigint AS bkey FROM sp
    UNION
    SELECT src.indicator_id, src.period_id, src.bkey FROM src
    JOIN slices s ON s.indicator_id = src.indicator_id AND s.period_id = src.period_id WHERE src.bkey <> 0
),
-- the rows of each slice: every district for the total, a district for a breakdown only where it
-- reported it, and the KCC area for everything (only the KCC area for county-level indicators)
areas AS (
    SELECT k.indicator_id, k.period_id, k.bkey, d.id AS locality_id, d.name, true AS is_district
    FROM keys k JOIN performance_indicator i ON i.id = k.indicator_id AND i.reporting_level = 'district'
    CROSS JOIN districts d WHERE k.bkey = 0
    UNION ALL
    SELECT f.indicator_id, f.period_id, f.bkey, f.locality_id, d.name, true
    FROM fig f JOIN districts d ON d.id = f.locality_id
    JOIN slices s ON s.indicator_id = f.indicator_id AND s.period_id = f.period_id
    WHERE f.bkey <> 0
    UNION ALL
    SELECT k.indicator_id, k.period_id, k.bkey, c.id, c.name, false FROM keys k CROSS JOIN county c
),
computed AS MATERIALIZED (
    SELECT a.indicator_id, a.locality_id, a.period_id,
           CASE WHEN a.bkey = 0 THEN '' ELSE dim.code || ':' || cat.code END AS breakdown_key,
           CASE WHEN a.bkey = 0 THEN '' ELSE dim.name || ': ' || cat.label END AS breakdown_label,
           round(cur.value, 4) AS value, round(cur.numerator, 4) AS numerator, round(cur.denominator, 4) AS denominator,
           round(kf_ci_lower(i.unit, i.aggregation, cur.value, cur.numerator, cur.denominator)::numeric, 4) AS ci_lower,
           round(kf_ci_upper(i.unit, i.aggregation, cur.value, cur.numerator, cur.denominator)::numeric, 4) AS ci_upper,
           coalesce(cur.reporting, 0) AS reporting,
           coalesce(cur.expected, CASE WHEN a.is_district OR i.reporting_level = 'county' THEN 1
                                       ELSE (SELECT n FROM all_districts) END) AS expected,
           coalesce(cur.missing, CASE WHEN a.is_district OR i.reporting_level = 'county' THEN jsonb_build_array(a.name)
                                      ELSE (SELECT names FROM all_districts) END) AS missing,
           t.target, t.tolerance_percent,
           kf_rag(cur.value, t.target, t.tolerance_percent, i.polarity) AS status,
           round(prev.value, 4) AS previous_value,
           kf_direction(i.polarity, cur.value, prev.value,
                        kf_ci_lower(i.unit, i.aggregation, cur.value, cur.numerator, cur.denominator),
                        kf_ci_upper(i.unit, i.aggregation, cur.value, cur.numerator, cur.denominator),
                        kf_ci_lower(i.unit, i.aggregation, prev.value, prev.numerator, prev.denominator),
                        kf_ci_upper(i.unit, i.aggregation, prev.value, prev.numerator, prev.denominator)
           ) AS direction_previous,
           round(yr.value, 4) AS year_ago_value,
           kf_direction(i.polarity, cur.value, yr.value,
                        kf_ci_lower(i.unit, i.aggregation, cur.value, cur.numerator, cur.denominator),
                        kf_ci_upper(i.unit, i.aggregation, cur.value, cur.numerator, cur.denominator),
                        kf_ci_lower(i.unit, i.aggregation, yr.value, yr.numerator, yr.denominator),
                        kf_ci_upper(i.unit, i.aggregation, yr.value, yr.numerator, yr.denominator)
           ) AS direction_year
    FROM areas a
    JOIN sp ON sp.indicator_id = a.indicator_id AND sp.period_id = a.period_id
    JOIN performance_indicator i ON i.id = a.indicator_id
    LEFT JOIN performance_breakdowncategory cat ON cat.id = a.bkey
    LEFT JOIN performance_breakdowndimension dim ON dim.id = cat.dimension_id
    LEFT JOIN fig cur ON cur.indicator_id = a.indicator_id AND cur.period_id = a.period_id
        AND cur.bkey = a.bkey AND cur.locality_id = a.locality_id
    LEFT JOIN fig prev ON prev.indicator_id = a.indicator_id AND prev.period_id = sp.prev_id
        AND prev.bkey = a.bkey AND prev.locality_id = a.locality_id
    LEFT JOIN fig yr ON yr.indicator_id = a.indicator_id AND yr.period_id = sp.year_id
        AND yr.bkey = a.bkey AND yr.locality_id = a.locality_id
    -- the target that applies: the area's own, else the general one (never a count's for a district)
    LEFT JOIN LATERAL (
        SELECT tt.target, tt.tolerance_percent FROM performance_indicatortarget tt
        WHERE a.bkey = 0 AND tt.indicator_id = a.indicator_id AND tt.period_id = a.period_id
          AND (tt.locality_id = a.locality_id
               OR (tt.locality_id IS NULL AND NOT (i.aggregation = 'sum' AND a.is_district)))
        ORDER BY tt.locality_id IS NULL LIMIT 1
    ) t ON true
),
upserted AS (
    INSERT INTO performance_indicatorrollup (
        indicator_id, locality_id, period_id, breakdown_key, {columns}, computed_at
    )
    SELECT indicator_id, locality_id, period_id, breakdown_key, {columns}, %(now)s FROM computed
    ON CONFLICT ON CONSTRAINT one_rollup_per_indicator_area_period_breakdown DO UPDATE SET
        {assignments}, computed_at = EXCLUDED.computed_at
    WHERE ({old}) IS DISTINCT FROM ({new})
    RETURNING 1
),
deleted AS (
    DELETE FROM performance_indicatorrollup r USING slices s
    WHERE r.indicator_id = s.indicator_id AND r.period_id = s.period_id
      AND NOT EXISTS (
          SELECT 1 FROM computed c WHERE c.indicator_id = r.indicator_id AND c.period_id = r.period_id
             AND c.locality_id = r.locality_id AND c.breakdown_key = r.breakdown_key)
    RETURNING 1
)
SELECT (SELECT count(*) FROM computed), (SELECT count(*) FROM upserted), (SELECT count(*) FROM deleted)
""".format(
    columns=", ".join(UPDATE_COLUMNS),
    assignments=", ".join(f"{c} = EXCLUDED.{c}" for c in UPDATE_COLUMNS),
    old=", ".join(f"performance_indicatorrollup.{c}" for c in UPDATE_COLUMNS),
    new=", ".join(f"EXCLUDED.{c}" for c in UPDATE_COLUMNS),
)


def rollup_slices(slices: list[tuple[int, int]], now) -> dict[str, int]:
    """Compute and store the summary rows of the given slices in one statement; returns how many
    rows the slices have, how many were written (new or changed) and how many were deleted."""
    if not slices:
        return {"rows": 0, "written": 0, "deleted": 0}
    with connection.cursor() as cursor:
        cursor.execute(ROLLUP_SQL, {
            "indicators": [int(s[0]) for s in slices], "periods": [int(s[1]) for s in slices], "now": now,
        })
        rows, written, deleted = cursor.fetchone()
    return {"rows": rows, "written": written, "deleted": deleted}
