-- The rules of performance as SQL functions: the ONE source of the rollup's SQL rules.
--
-- The set-based rollup on PostgreSQL (performance/rollups/postgres.py) judges every figure with
-- these functions. Each is the twin of a Python rule in performance/catalogue/rules.py, named
-- above each function below (kf_multiplier's twin is Indicator.multiplier), doing the same
-- arithmetic in the same order of floating-point operations;
-- tests/performance/test_rollup_sql.py checks the twins agree on a grid of inputs and on every
-- slice of a generated data set. SQLite has no such functions: there the rollup runs the
-- Python reference (performance/rollups/reference.py).
--
-- A change to this file must come with a new migration that re-applies it, one line:
--
--     operations = [migrations.RunPython(apply_rules, reverse_code=migrations.RunPython.noop)]
--
-- (``from performance.rollups.sql import apply_rules``), beside the file's fingerprint
-- ``RULES_SHA256 = "..."``, which tests/performance/test_sql_rules_source.py prints when it
-- fails on a file changed without a migration; migration 0010 is the pattern. That test also
-- fails while the migrated database and this file disagree. CREATE OR REPLACE neither changes
-- a function's arguments or return type nor removes a function: for those the new migration
-- also drops the old function. Migrations 0004 to 0006 hold earlier copies of these functions
-- as history; this file is the only live definition.
--
-- Comments stay outside the $$ bodies: the database keeps a body as written.

-- The multiplier of a unit (twin: Indicator.multiplier in performance/models/catalogue.py,
-- the scale rules.confidence_limits is given).
CREATE OR REPLACE FUNCTION kf_multiplier(unit text) RETURNS numeric
IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
  SELECT CASE unit WHEN 'percentage' THEN 100 WHEN 'rate_per_1000' THEN 1000
                   WHEN 'rate_per_100000' THEN 100000 ELSE 1 END::numeric
$$;

-- Lower limit of a count (twin: rules.poisson_interval, its lower limit).
CREATE OR REPLACE FUNCTION kf_poisson_lower(c float8) RETURNS float8
IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
  SELECT CASE WHEN c IS NULL OR c < 0 THEN NULL WHEN c = 0 THEN 0::float8
              ELSE c * power(1 - 1 / (9 * c) - 1.959964::float8 / (3 * sqrt(c)), 3) END
$$;

-- Upper limit of a count (twin: rules.poisson_interval, its upper limit).
CREATE OR REPLACE FUNCTION kf_poisson_upper(c float8) RETURNS float8
IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
  SELECT CASE WHEN c IS NULL OR c < 0 THEN NULL
              ELSE (c + 1) * power(1 - 1 / (9 * (c + 1)) + 1.959964::float8 / (3 * sqrt(c + 1)), 3) END
$$;

-- Centre of the Wilson interval of a proportion (twin: rules.wilson_interval, its centre).
CREATE OR REPLACE FUNCTION kf_wilson_centre(num float8, den float8) RETURNS float8
IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
  SELECT (num / den + 1.959964::float8 * 1.959964::float8 / (2 * den))
         / (1 + 1.959964::float8 * 1.959964::float8 / den)
$$;

-- Half-width of the Wilson interval of a proportion (twin: rules.wilson_interval, its half).
CREATE OR REPLACE FUNCTION kf_wilson_half(num float8, den float8) RETURNS float8
IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
  SELECT (1.959964::float8 / (1 + 1.959964::float8 * 1.959964::float8 / den))
         * sqrt(greatest((num / den) * (1 - num / den) / den
                         + 1.959964::float8 * 1.959964::float8 / (4 * den * den), 0))
$$;

-- Confidence limits of a figure on its own scale (twin: rules.confidence_limits, lower).
CREATE OR REPLACE FUNCTION kf_ci_lower(unit text, aggregation text, value numeric, num numeric, den numeric)
RETURNS float8 IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
  SELECT CASE
    WHEN aggregation = 'ratio' AND num IS NOT NULL AND den IS NOT NULL AND den <> 0 THEN
      CASE WHEN den < 0 THEN NULL
           WHEN unit = 'percentage' THEN
             greatest(0::float8, kf_wilson_centre(num::float8, den::float8) - kf_wilson_half(num::float8, den::float8)) * 100
           ELSE kf_poisson_lower(num::float8) * (kf_multiplier(unit)::float8 / den::float8) END
    WHEN unit = 'count' AND value IS NOT NULL THEN kf_poisson_lower(value::float8)
  END
$$;

-- (twin: rules.confidence_limits, upper)
CREATE OR REPLACE FUNCTION kf_ci_upper(unit text, aggregation text, value numeric, num numeric, den numeric)
RETURNS float8 IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
  SELECT CASE
    WHEN aggregation = 'ratio' AND num IS NOT NULL AND den IS NOT NULL AND den <> 0 THEN
      CASE WHEN den < 0 THEN NULL
           WHEN unit = 'percentage' THEN
             least(1::float8, kf_wilson_centre(num::float8, den::float8) + kf_wilson_half(num::float8, den::float8)) * 100
           ELSE kf_poisson_upper(num::float8) * (kf_multiplier(unit)::float8 / den::float8) END
    WHEN unit = 'count' AND value IS NOT NULL THEN kf_poisson_upper(value::float8)
  END
$$;

-- Confidence limits of a survey estimate: the published interval, else Wilson on the sample
-- base (twin: rules.survey_limits, lower).
CREATE OR REPLACE FUNCTION kf_survey_lower(unit text, value numeric, lo numeric, hi numeric, n bigint)
RETURNS float8 IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
  SELECT CASE
    WHEN lo IS NOT NULL AND hi IS NOT NULL THEN lo::float8
    WHEN unit = 'percentage' AND value IS NOT NULL AND n IS NOT NULL AND n > 0 THEN
      greatest(0::float8,
               kf_wilson_centre(least(greatest(value::float8, 0), 100) / 100 * n::float8, n::float8)
               - kf_wilson_half(least(greatest(value::float8, 0), 100) / 100 * n::float8, n::float8)) * 100
  END
$$;

-- (twin: rules.survey_limits, upper)
CREATE OR REPLACE FUNCTION kf_survey_upper(unit text, value numeric, lo numeric, hi numeric, n bigint)
RETURNS float8 IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
  SELECT CASE
    WHEN lo IS NOT NULL AND hi IS NOT NULL THEN hi::float8
    WHEN unit = 'percentage' AND value IS NOT NULL AND n IS NOT NULL AND n > 0 THEN
      least(1::float8,
            kf_wilson_centre(least(greatest(value::float8, 0), 100) / 100 * n::float8, n::float8)
            + kf_wilson_half(least(greatest(value::float8, 0), 100) / 100 * n::float8, n::float8)) * 100
  END
$$;

-- Enough areas reported for the figure to be judged (twin: rules.is_complete, with
-- rules.required_coverage).
CREATE OR REPLACE FUNCTION kf_complete(reporting int, expected int, aggregation text, min_coverage int)
RETURNS boolean IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
  SELECT CASE
    WHEN reporting IS NULL OR expected IS NULL OR expected <= 0 OR reporting <= 0 THEN false
    WHEN aggregation = 'ratio' AND coalesce(min_coverage, 0) > 0
      THEN reporting >= greatest(1, least(expected, min_coverage))
    ELSE reporting >= expected END
$$;

-- Status against target (twin: rules.rag_status).
CREATE OR REPLACE FUNCTION kf_rag(value numeric, target numeric, tolerance numeric, polarity text) RETURNS text
IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
  SELECT CASE
    WHEN value IS NULL OR target IS NULL OR polarity = 'neutral' THEN 'no_target'
    WHEN CASE WHEN polarity = 'higher_is_better' THEN target - value ELSE value - target END <= 0 THEN 'green'
    WHEN CASE WHEN polarity = 'higher_is_better' THEN target - value ELSE value - target END
         <= abs(target) * coalesce(tolerance, 0) / 100 THEN 'amber'
    ELSE 'red' END
$$;

-- Direction of travel (twin: rules.direction).
CREATE OR REPLACE FUNCTION kf_direction(polarity text, cur numeric, prev numeric,
                                        cur_lo float8, cur_hi float8, prev_lo float8, prev_hi float8)
RETURNS text IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
  SELECT CASE
    WHEN cur IS NULL OR prev IS NULL OR polarity = 'neutral' THEN 'not_comparable'
    WHEN cur_lo IS NOT NULL AND prev_lo IS NOT NULL THEN
      CASE WHEN cur_lo > prev_hi THEN CASE WHEN polarity = 'higher_is_better' THEN 'improving' ELSE 'worsening' END
           WHEN cur_hi < prev_lo THEN CASE WHEN polarity = 'higher_is_better' THEN 'worsening' ELSE 'improving' END
           ELSE 'no_change' END
    WHEN prev = 0 THEN
      CASE WHEN cur = 0 THEN 'no_change'
           WHEN (cur > 0) = (polarity = 'higher_is_better') THEN 'improving' ELSE 'worsening' END
    WHEN abs((cur::float8 - prev::float8) / abs(prev::float8)) <= 0.02::float8 THEN 'no_change'
    WHEN ((cur::float8 - prev::float8) / abs(prev::float8) > 0) = (polarity = 'higher_is_better') THEN 'improving'
    ELSE 'worsening' END
$$;
