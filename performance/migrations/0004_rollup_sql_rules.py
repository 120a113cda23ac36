"""The rules of performance (rules.py) as SQL functions, for the set-based rollup on PostgreSQL.

Each function is the same arithmetic as its Python twin in performance/rules.py, in the same
order of floating-point operations; tests/performance/test_rollup_sql.py checks the two agree
on a grid of inputs and on every slice of a generated data set. SQLite has no such functions;
there the rollup runs the Python rules (rollups.compute_slice).
"""
from django.db import migrations, models

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION kf_multiplier(unit text) RETURNS numeric
IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
  SELECT CASE unit WHEN 'percentage' THEN 100 WHEN 'rate_per_1000' THEN 1000
                   WHEN 'rate_per_100000' THEN 100000 ELSE 1 END::numeric
$$;

CREATE OR REPLACE FUNCTION kf_poisson_lower(c float8) RETURNS float8
IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
  SELECT CASE WHEN c IS NULL OR c < 0 THEN NULL WHEN c = 0 THEN 0::float8
              ELSE c * power(1 - 1 / (9 * c) - 1.959964::float8 / (3 * sqrt(c)), 3) END
$$;

CREATE OR REPLACE FUNCTION kf_poisson_upper(c float8) RETURNS float8
IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
  SELECT CASE WHEN c IS NULL OR c < 0 THEN NULL
              ELSE (c + 1) * power(1 - 1 / (9 * (c + 1)) + 1.959964::float8 / (3 * sqrt(c + 1)), 3) END
$$;

CREATE OR REPLACE FUNCTION kf_wilson_centre(num float8, den float8) RETURNS float8
IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
  SELECT (num / den + 1.959964::float8 * 1.959964::float8 / (2 * den))
         / (1 + 1.959964::float8 * 1.959964::float8 / den)
$$;

CREATE OR REPLACE FUNCTION kf_wilson_half(num float8, den float8) RETURNS float8
IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
  SELECT (1.959964::float8 / (1 + 1.959964::float8 * 1.959964::float8 / den))
         * sqrt(greatest((num / den) * (1 - num / den) / den
                         + 1.959964::float8 * 1.959964::float8 / (4 * den * den), 0))
$$;

-- Confidence limits of a figure on its own scale (rules.confidence_limits).
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

-- Status against target (rules.rag_status).
CREATE OR REPLACE FUNCTION kf_rag(value numeric, target numeric, tolerance numeric, polarity text) RETURNS text
IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
  SELECT CASE
    WHEN value IS NULL OR target IS NULL OR polarity = 'neutral' THEN 'no_target'
    WHEN CASE WHEN polarity = 'higher_is_better' THEN target - value ELSE value - target END <= 0 THEN 'green'
    WHEN CASE WHEN polarity = 'higher_is_better' THEN target - value ELSE value - target END
         <= abs(target) * coalesce(tolerance, 0) / 100 THEN 'amber'
    ELSE 'red' END
$$;

-- Direction of travel (rules.direction).
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
"""

DROP = """
DROP FUNCTION IF EXISTS kf_direction(text, numeric, numeric, float8, float8, float8, float8);
DROP FUNCTION IF EXISTS kf_rag(numeric, numeric, numeric, text);
DROP FUNCTION IF EXISTS kf_ci_upper(text, text, numeric, numeric, numeric);
DROP FUNCTION IF EXISTS kf_ci_lower(text, text, numeric, numeric, numeric);
DROP FUNCTION IF EXISTS kf_wilson_half(float8, float8);
DROP FUNCTION IF EXISTS kf_wilson_centre(float8, float8);
DROP FUNCTION IF EXISTS kf_poisson_upper(float8);
DROP FUNCTION IF EXISTS kf_poisson_lower(float8);
DROP FUNCTION IF EXISTS kf_multiplier(text);
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTIONS)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("performance", "0003_rollups_and_dashboards")]

    operations = [
        migrations.RunPython(create, drop),
        # The rollup reads approved returns by indicator and period.
        migrations.AddIndex(
            model_name="indicatorreturn",
            index=models.Index(
                condition=models.Q(("state", "approved")), fields=["indicator", "period"], name="return_approved_slice"
            ),
        ),
        # A slice's summary rows, found at once (the rollup deletes the ones without a source).
        migrations.AddIndex(
            model_name="indicatorrollup", index=models.Index(fields=["indicator", "period"], name="rollup_slice"),
        ),
    ]
