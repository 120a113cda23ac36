"""The rollup as set-based SQL on PostgreSQL.

Given a set of slices (indicator × period), a few statements (each writing a temporary table
the next one reads, analysed so the planner knows its size) read their approved returns (and
those of the previous period and the same period a year before) and compute every summary row
exactly as ``reference.compute_slice`` does in Python — the districts' own figures, the KCC area
aggregated by the indicator's method, coverage, confidence limits, target and status, direction
of travel — upserts the rows that changed and deletes the rows that no longer have a source.
A full rebuild runs the same statements over every slice and inserts the rows into a fresh table
instead (``insert_all``; performance/rollups/rebuild.py swaps it in), so the rows are defined once.
The rules are the SQL functions of performance/rollups/sql/rules.sql (twins of
performance/catalogue/rules.py, checked against them by tests/performance/test_rollup_sql.py).
"""
from __future__ import annotations

import time

from django.conf import settings
from django.db import connection

UPDATE_COLUMNS = [
    "breakdown_label", "value", "numerator", "denominator", "ci_lower", "ci_upper", "reporting", "expected", "missing",
    "complete", "flags", "commentary", "target", "tolerance_percent", "status", "previous_value", "direction_previous", "year_ago_value", "direction_year",
]

# Each step writes a temporary table and analyses it, so that the planner knows how many rows
# the next step joins (estimates through CTEs were off by orders of magnitude and chose nested
# loops over a million rows).
STEPS = [
    # each slice with the periods its direction of travel compares with
    """
    CREATE TEMPORARY TABLE kf_sp ON COMMIT DROP AS
    SELECT s.indicator_id, s.period_id, prev.id AS prev_id, yr.id AS year_id
    FROM (SELECT DISTINCT * FROM unnest(%(indicators)s::bigint[], %(periods)s::bigint[]) AS u(indicator_id, period_id)) s
    JOIN performance_reportingperiod p ON p.id = s.period_id
    LEFT JOIN performance_reportingperiod prev ON prev.kind = p.kind AND prev."end" = p.start - 1
    LEFT JOIN performance_reportingperiod yr ON yr.kind = p.kind AND yr.start = CASE
        WHEN p.kind IN ('financial_year', 'calendar_year') THEN prev.start
        ELSE (p.start - interval '1 year')::date END
    """,
    # the approved values of those periods, with the level each indicator is reported at
    """
    CREATE TEMPORARY TABLE kf_src ON COMMIT DROP AS
    SELECT r.indicator_id, r.period_id, coalesce(r.breakdown_id, 0) AS bkey, r.locality_id,
           r.value, r.numerator, r.denominator, r.commentary, r.ci_lower, r.ci_upper, r.sample_base,
           -- a breakdown's figure is as final as its area's total
           coalesce(max(r.quality) FILTER (WHERE r.breakdown_id IS NULL)
                    OVER (PARTITION BY r.indicator_id, r.period_id, r.locality_id), r.quality) AS quality,
           l.kind = 'district' AS from_district, i.reporting_level AS level
    FROM performance_indicatorreturn r
    JOIN (SELECT indicator_id, period_id FROM kf_sp
          UNION SELECT indicator_id, prev_id FROM kf_sp WHERE prev_id IS NOT NULL
          UNION SELECT indicator_id, year_id FROM kf_sp WHERE year_id IS NOT NULL) need
        ON need.indicator_id = r.indicator_id AND need.period_id = r.period_id
    JOIN performance_indicator i ON i.id = r.indicator_id
    JOIN localities_locality l ON l.id = r.locality_id
    WHERE r.state = 'approved'
    """,
    # every area's figure with its confidence limits: each district's own, the county's own
    # where it is returned in its own right (reporting level county or both), and otherwise the
    # KCC area's aggregated from its districts by the indicator's own method
    """
    CREATE TEMPORARY TABLE kf_fig ON COMMIT DROP AS
    WITH all_districts AS (
        SELECT count(*)::int AS n FROM localities_locality WHERE kind = 'district'
    ),
    fig AS (
        SELECT indicator_id, period_id, bkey, locality_id, value, numerator, denominator,
               1 AS reporting, 1 AS expected, '[]'::jsonb AS missing,
               CASE WHEN quality <> 'final' THEN jsonb_build_array(quality) ELSE '[]'::jsonb END AS flags,
               commentary, ci_lower AS pub_lo, ci_upper AS pub_hi, sample_base::bigint AS sample_base
        FROM kf_src WHERE level = 'both' OR (level = 'district') = from_district
        UNION ALL
        SELECT a.indicator_id, a.period_id, a.bkey, (SELECT id FROM localities_locality WHERE kind = 'county'),
               CASE WHEN a.reporting = 0 THEN NULL
                    WHEN i.aggregation = 'sum' THEN coalesce(a.sum_value, 0)
                    WHEN i.aggregation = 'ratio' AND a.den <> 0 THEN round(a.num / a.den * kf_multiplier(i.unit), 4) END,
               CASE WHEN a.reporting > 0 AND i.aggregation = 'ratio' AND a.den <> 0 THEN a.num END,
               CASE WHEN a.reporting > 0 AND i.aggregation = 'ratio' AND a.den <> 0 THEN a.den END,
               a.reporting, (SELECT n FROM all_districts),
               CASE WHEN a.reporting = (SELECT n FROM all_districts) THEN '[]'::jsonb
                    ELSE (SELECT coalesce(jsonb_agg(d.name ORDER BY d.name COLLATE "C"), '[]'::jsonb)
                          FROM localities_locality d
                          WHERE d.kind = 'district' AND d.id <> ALL(coalesce(a.reported, '{}'))) END,
               a.flags, '', NULL::numeric, NULL::numeric, a.sample_base
        FROM (
            SELECT indicator_id, period_id, bkey,
                   count(*) FILTER (WHERE from_district)::int AS reporting,
                   sum(value) FILTER (WHERE from_district) AS sum_value,
                   sum(numerator) FILTER (WHERE from_district AND numerator IS NOT NULL AND denominator <> 0) AS num,
                   sum(denominator) FILTER (WHERE from_district AND numerator IS NOT NULL AND denominator <> 0) AS den,
                   array_agg(locality_id) FILTER (WHERE from_district) AS reported,
                   coalesce(jsonb_agg(DISTINCT quality COLLATE "C" ORDER BY quality COLLATE "C")
                            FILTER (WHERE from_district AND quality <> 'final'), '[]'::jsonb) AS flags,
                   -- a survey's county base: the districts' bases together, when every one has one
                   CASE WHEN count(*) FILTER (WHERE from_district AND sample_base IS NULL) = 0
                        THEN sum(sample_base) FILTER (WHERE from_district) END AS sample_base
            FROM kf_src WHERE level = 'district'
            GROUP BY indicator_id, period_id, bkey
        ) a
        JOIN performance_indicator i ON i.id = a.indicator_id
    )
    SELECT f.*,
           CASE WHEN i.is_survey THEN kf_survey_lower(i.unit, f.value, f.pub_lo, f.pub_hi, f.sample_base)
                ELSE kf_ci_lower(i.unit, i.aggregation, f.value, f.numerator, f.denominator) END AS lo,
           CASE WHEN i.is_survey THEN kf_survey_upper(i.unit, f.value, f.pub_lo, f.pub_hi, f.sample_base)
                ELSE kf_ci_upper(i.unit, i.aggregation, f.value, f.numerator, f.denominator) END AS hi
    FROM fig f JOIN performance_indicator i ON i.id = f.indicator_id
    """,
    # the rows of each slice: every district for the total, a district for a breakdown only
    # where it reported it, and the KCC area for the total and every breakdown reported in the
    # slice's period (only the KCC area for county-level indicators)
    """
    CREATE TEMPORARY TABLE kf_areas ON COMMIT DROP AS
    WITH districts AS (SELECT id, name FROM localities_locality WHERE kind = 'district'),
    keys AS (
        SELECT indicator_id, period_id, 0::bigint AS bkey FROM kf_sp
        UNION
        SELECT f.indicator_id, f.period_id, f.bkey FROM kf_src f
        JOIN kf_sp s ON s.indicator_id = f.indicator_id AND s.period_id = f.period_id WHERE f.bkey <> 0
    ),
    areas AS (
        SELECT k.indicator_id, k.period_id, k.bkey, d.id AS locality_id, d.name, true AS is_district
        FROM keys k JOIN performance_indicator i ON i.id = k.indicator_id AND i.reporting_level <> 'county'
        CROSS JOIN districts d WHERE k.bkey = 0
        UNION ALL
        SELECT f.indicator_id, f.period_id, f.bkey, f.locality_id, d.name, true
        FROM kf_fig f JOIN districts d ON d.id = f.locality_id
        JOIN kf_sp s ON s.indicator_id = f.indicator_id AND s.period_id = f.period_id
        WHERE f.bkey <> 0
        UNION ALL
        SELECT k.indicator_id, k.period_id, k.bkey, c.id, c.name, false
        FROM keys k CROSS JOIN localities_locality c WHERE c.kind = 'county'
    )
    SELECT a.*, sp.prev_id, sp.year_id,
           CASE WHEN a.bkey = 0 THEN '' ELSE dim.code || ':' || cat.code END AS breakdown_key,
           CASE WHEN a.bkey = 0 THEN '' ELSE dim.name || ': ' || cat.label END AS breakdown_label
    FROM areas a JOIN kf_sp sp ON sp.indicator_id = a.indicator_id AND sp.period_id = a.period_id
    LEFT JOIN performance_breakdowncategory cat ON cat.id = a.bkey
    LEFT JOIN performance_breakdowndimension dim ON dim.id = cat.dimension_id
    -- in slice order: the rows are read in this order by the joins that follow (each one's
    -- probe side), so a full rebuild writes a slice's rows together without sorting them again
    ORDER BY a.indicator_id, a.period_id, a.locality_id, breakdown_key
    """,
]
# each row with its figure, target and status, and direction of travel against the previous
# period and the same period a year before
ROWS_SQL = """
    WITH all_districts AS (
        SELECT count(*)::int AS n, coalesce(jsonb_agg(name ORDER BY name COLLATE "C"), '[]'::jsonb) AS names
        FROM localities_locality WHERE kind = 'district'
    )
    SELECT a.indicator_id, a.locality_id, a.period_id,
           a.breakdown_key, a.breakdown_label,
           round(cur.value, 4) AS value, round(cur.numerator, 4) AS numerator, round(cur.denominator, 4) AS denominator,
           round(cur.lo::numeric, 4) AS ci_lower, round(cur.hi::numeric, 4) AS ci_upper,
           coalesce(cur.reporting, 0) AS reporting,
           coalesce(cur.expected, CASE WHEN a.is_district OR i.reporting_level <> 'district' THEN 1
                                       ELSE (SELECT n FROM all_districts) END) AS expected,
           coalesce(cur.missing, CASE WHEN a.is_district OR i.reporting_level <> 'district' THEN jsonb_build_array(a.name)
                                      ELSE (SELECT names FROM all_districts) END) AS missing,
           j.complete, coalesce(cur.flags, '[]'::jsonb) AS flags, coalesce(cur.commentary, '') AS commentary,
           t.target, t.tolerance_percent,
           CASE WHEN j.complete THEN kf_rag(cur.value, t.target, t.tolerance_percent, i.polarity)
                ELSE 'incomplete' END AS status,
           round(prev.value, 4) AS previous_value,
           CASE WHEN j.complete AND j.prev_complete AND (NOT i.is_survey OR (cur.lo IS NOT NULL AND prev.lo IS NOT NULL))
                THEN kf_direction(i.polarity, cur.value, prev.value, cur.lo, cur.hi, prev.lo, prev.hi)
                ELSE 'not_comparable' END AS direction_previous,
           round(yr.value, 4) AS year_ago_value,
           CASE WHEN j.complete AND j.year_complete AND (NOT i.is_survey OR (cur.lo IS NOT NULL AND yr.lo IS NOT NULL))
                THEN kf_direction(i.polarity, cur.value, yr.value, cur.lo, cur.hi, yr.lo, yr.hi)
                ELSE 'not_comparable' END AS direction_year
    FROM kf_areas a
    JOIN performance_indicator i ON i.id = a.indicator_id
    LEFT JOIN kf_fig cur ON cur.indicator_id = a.indicator_id AND cur.period_id = a.period_id
        AND cur.bkey = a.bkey AND cur.locality_id = a.locality_id
    LEFT JOIN kf_fig prev ON prev.indicator_id = a.indicator_id AND prev.period_id = a.prev_id
        AND prev.bkey = a.bkey AND prev.locality_id = a.locality_id
    LEFT JOIN kf_fig yr ON yr.indicator_id = a.indicator_id AND yr.period_id = a.year_id
        AND yr.bkey = a.bkey AND yr.locality_id = a.locality_id
    -- the target that applies: the area's own, else the general one (never a count's for a district)
    LEFT JOIN performance_indicatortarget own ON a.bkey = 0 AND own.indicator_id = a.indicator_id
        AND own.period_id = a.period_id AND own.locality_id = a.locality_id
    LEFT JOIN performance_indicatortarget general ON a.bkey = 0 AND general.indicator_id = a.indicator_id
        AND general.period_id = a.period_id AND general.locality_id IS NULL
        AND NOT (i.aggregation = 'sum' AND a.is_district)
    CROSS JOIN LATERAL (
        SELECT CASE WHEN own.id IS NOT NULL THEN own.target ELSE general.target END AS target,
               CASE WHEN own.id IS NOT NULL THEN own.tolerance_percent ELSE general.tolerance_percent END
                   AS tolerance_percent
    ) t
    -- which of the three figures may be judged (rules.is_complete; a missing figure may not)
    CROSS JOIN LATERAL (
        SELECT cur.value IS NOT NULL AND kf_complete(cur.reporting, cur.expected, i.aggregation, i.min_coverage)
                   AS complete,
               prev.value IS NOT NULL AND kf_complete(prev.reporting, prev.expected, i.aggregation, i.min_coverage)
                   AS prev_complete,
               yr.value IS NOT NULL AND kf_complete(yr.reporting, yr.expected, i.aggregation, i.min_coverage)
                   AS year_complete
    ) j
"""

STEPS.append("CREATE TEMPORARY TABLE kf_rows ON COMMIT DROP AS " + ROWS_SQL)

UPSERT_SQL = """
INSERT INTO {{table}} AS t (indicator_id, locality_id, period_id, breakdown_key, {columns}, computed_at)
SELECT indicator_id, locality_id, period_id, breakdown_key, {columns}, %(now)s FROM kf_rows
ON CONFLICT (indicator_id, locality_id, period_id, breakdown_key) DO UPDATE SET
    {assignments}, computed_at = EXCLUDED.computed_at
WHERE ({old}) IS DISTINCT FROM ({new})
""".format(
    columns=", ".join(UPDATE_COLUMNS),
    assignments=", ".join(f"{c} = EXCLUDED.{c}" for c in UPDATE_COLUMNS),
    old=", ".join(f"t.{c}" for c in UPDATE_COLUMNS),
    new=", ".join(f"EXCLUDED.{c}" for c in UPDATE_COLUMNS),
)

# rows of the slices that no longer have a source (a breakdown no longer approved, say)
DELETE_SQL = """
DELETE FROM {table} r USING kf_sp s
WHERE r.indicator_id = s.indicator_id AND r.period_id = s.period_id
  AND NOT EXISTS (
      SELECT 1 FROM kf_areas c WHERE c.indicator_id = r.indicator_id AND c.period_id = r.period_id
         AND c.locality_id = r.locality_id AND c.breakdown_key = r.breakdown_key)
"""

# A full rebuild writes the rows straight into a fresh table (rollups.rebuild). A row keeps the
# id it has in the summary (as under the upsert: links and API clients keep finding it); a new
# row takes the next of the fresh table's sequence. Rows go in the order kf_areas holds them
# (slice order: hash joins keep their probe side's order), so that a slice's rows lie together
# on disk; that order is their layout, not their meaning, so no ORDER BY sorts the wide rows.
INSERT_ROWS_SQL = """
INSERT INTO {{table}} (id, indicator_id, locality_id, period_id, breakdown_key, {columns}, computed_at)
SELECT coalesce(o.id, nextval(%(sequence)s)), r.indicator_id, r.locality_id, r.period_id, r.breakdown_key,
       {rows_columns}, %(now)s
FROM ({rows}) r
LEFT JOIN {{summary}} o ON o.indicator_id = r.indicator_id AND o.locality_id = r.locality_id
    AND o.period_id = r.period_id AND o.breakdown_key = r.breakdown_key
""".format(columns=", ".join(UPDATE_COLUMNS), rows_columns=", ".join(f"r.{c}" for c in UPDATE_COLUMNS), rows=ROWS_SQL)

TEMPORARY = ["kf_sp", "kf_src", "kf_fig", "kf_areas", "kf_rows"]


def _settings(cursor) -> None:
    """Settings of the transaction for statements that join a million rows at a time."""
    # memory enough for the joins to hash rather than sort to disk (for this transaction only)
    cursor.execute("SET LOCAL work_mem = %s", [settings.ROLLUP_WORK_MEM])
    # joins of a million rows on four keys: hashing beats sorting them four times over
    cursor.execute("SET LOCAL enable_mergejoin = off")
    # compiling these long expressions took 15 s of a rebuild and saves less than it costs
    cursor.execute("SET LOCAL jit = off")


def compute(cursor, slices, now, steps: int = len(STEPS), seconds: dict | None = None) -> dict:
    """Run the first ``steps`` statements for the given slices (inside the caller's transaction),
    each into its temporary table, analysed; returns the statements' parameters. With
    ``seconds``, notes there how long each statement took."""
    params = {"indicators": [int(s[0]) for s in slices], "periods": [int(s[1]) for s in slices], "now": now}
    _settings(cursor)
    cursor.execute("DROP TABLE IF EXISTS " + ", ".join(TEMPORARY))
    for table, step in zip(TEMPORARY[:steps], STEPS[:steps]):
        started = time.perf_counter()
        cursor.execute(step, params)
        cursor.execute(f"ANALYZE {table}")
        if seconds is not None:
            seconds[table] = time.perf_counter() - started
    return params


def insert_all(slices, now, table: str, summary: str = "performance_indicatorrollup", seconds: dict | None = None) -> int:
    """Compute every row of the given slices and insert them into ``table``, an empty table with
    the summary's columns (the full rebuild's fresh table), each with its id in ``summary`` if it
    is there; returns the number of rows."""
    with connection.cursor() as cursor:
        params = compute(cursor, slices, now, steps=len(STEPS) - 1, seconds=seconds)  # the last step's rows go straight in
        started = time.perf_counter()
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        params["sequence"] = cursor.fetchone()[0]
        # the ids of a million rows: one hash join with the summary, not a million index look-ups
        # (the planner's choice: 38 s against 24 s at a million values)
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute(INSERT_ROWS_SQL.format(table=table, summary=summary), params)
        rows = cursor.rowcount
        if seconds is not None:
            seconds["kf_rows into the new table"] = time.perf_counter() - started
        cursor.execute("DROP TABLE IF EXISTS " + ", ".join(TEMPORARY))
    return rows


def rollup_slices(slices: list[tuple[int, int]], now, table: str = "performance_indicatorrollup") -> dict[str, int]:
    """Compute and store the summary rows of the given slices in ``table`` (the summary, or a
    rebuild's fresh table; inside the caller's transaction); returns how many rows the slices
    have, how many were written (new or changed) and how many were deleted."""
    if not slices:
        return {"rows": 0, "written": 0, "deleted": 0}
    with connection.cursor() as cursor:
        params = compute(cursor, slices, now)
        cursor.execute("SELECT count(*) FROM kf_areas")
        rows = cursor.fetchone()[0]
        cursor.execute(UPSERT_SQL.format(table=table), params)
        written = cursor.rowcount
        cursor.execute(DELETE_SQL.format(table=table))
        deleted = cursor.rowcount
        cursor.execute("DROP TABLE " + ", ".join(TEMPORARY))
    return {"rows": rows, "written": written, "deleted": deleted}
