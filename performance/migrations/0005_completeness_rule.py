"""Honest figures: a figure built from too few areas is not judged.

- ``IndicatorRollup.complete`` and the status ``incomplete``; ``Indicator.min_coverage`` (rates
  and percentages judged from part of the county); the SQL twin ``kf_complete`` of
  ``rules.is_complete``.
- Aggregation that cannot be wrong: only counts and money totals are summed (a check); the
  aggregation "latest" is gone: such an indicator is not aggregable and its county figure is
  returned in its own right (reporting level "both").

Existing summary rows are marked here by coverage alone; ``manage.py rebuild_rollups`` (nightly
on beat) recomputes every direction of travel with the new rule.
"""
import django.core.validators
from django.db import migrations, models

COMPLETE_SQL = """
CREATE OR REPLACE FUNCTION kf_complete(reporting int, expected int, aggregation text, min_coverage int)
RETURNS boolean IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
  SELECT CASE
    WHEN reporting IS NULL OR expected IS NULL OR expected <= 0 OR reporting <= 0 THEN false
    WHEN aggregation = 'ratio' AND coalesce(min_coverage, 0) > 0
      THEN reporting >= greatest(1, least(expected, min_coverage))
    ELSE reporting >= expected END
$$;
"""
DROP_COMPLETE_SQL = "DROP FUNCTION IF EXISTS kf_complete(int, int, text, int);"


def functions(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(COMPLETE_SQL)


def drop_functions(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_COMPLETE_SQL)


def no_wrong_aggregation(apps, schema_editor):
    """'latest' is not a county figure; a sum of rates, scores or indices means nothing. The
    county figures those methods made are withdrawn (not judged) until the rebuild recomputes
    them by the new rule."""
    Indicator = apps.get_model("performance", "Indicator")
    IndicatorRollup = apps.get_model("performance", "IndicatorRollup")
    wrong = list(
        Indicator.objects.filter(aggregation="latest").values_list("pk", flat=True)
    ) + list(Indicator.objects.filter(aggregation="sum").exclude(unit__in=["count", "currency_gbp"]).values_list("pk", flat=True))
    Indicator.objects.filter(aggregation="latest", reporting_level="district").update(aggregation="none", reporting_level="both")
    Indicator.objects.filter(aggregation="latest").update(aggregation="none")
    Indicator.objects.filter(aggregation="sum").exclude(unit__in=["count", "currency_gbp"]).update(aggregation="none")
    IndicatorRollup.objects.filter(indicator_id__in=wrong, locality__kind="county").update(
        value=None, numerator=None, denominator=None, ci_lower=None, ci_upper=None, status="incomplete",
        direction_previous="not_comparable", direction_year="not_comparable",
    )


def mark_complete(apps, schema_editor):
    IndicatorRollup = apps.get_model("performance", "IndicatorRollup")
    IndicatorRollup.objects.filter(value__isnull=False, reporting__gte=models.F("expected"), expected__gt=0).update(complete=True)
    IndicatorRollup.objects.filter(complete=False).update(
        status="incomplete", direction_previous="not_comparable", direction_year="not_comparable",
    )


class Migration(migrations.Migration):

    dependencies = [
        ('ambitions', '0002_initial'),
        ('partnerships', '0002_partner_api_keys'),
        ('performance', '0004_rollup_sql_rules'),
    ]

    operations = [
        migrations.RunPython(functions, drop_functions),
        migrations.RunPython(no_wrong_aggregation, migrations.RunPython.noop),
        migrations.AddField(
            model_name='indicator',
            name='min_coverage',
            field=models.PositiveSmallIntegerField(blank=True, help_text='Rates and percentages only: how many districts must have reported before the county figure is judged against target and over time. Empty: all of them.', null=True, validators=[django.core.validators.MinValueValidator(1)], verbose_name='minimum coverage'),
        ),
        migrations.AddField(
            model_name='indicatorrollup',
            name='complete',
            field=models.BooleanField(default=False, help_text='Enough areas reported for the figure to be judged (rules.is_complete); when false the figure has no status against target and no direction of travel.'),
        ),
        migrations.AlterField(
            model_name='indicator',
            name='aggregation',
            field=models.CharField(choices=[('sum', 'Sum of district values (counts and money totals only)'), ('ratio', 'Ratio of summed numerators and denominators'), ('none', 'Not aggregable (medians, indices, scores, survey estimates)')], max_length=10),
        ),
        migrations.AlterField(
            model_name='indicator',
            name='reporting_level',
            field=models.CharField(choices=[('district', 'Each district returns a value'), ('county', 'County figure only'), ('both', 'Districts and county (the county figure is returned in its own right)')], default='district', max_length=10),
        ),
        migrations.AddConstraint(
            model_name='indicator',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('aggregation', 'sum'), _negated=True), ('unit__in', ['count', 'currency_gbp']), _connector='OR'), name='only_counts_and_money_are_summed'),
        ),
        migrations.AddConstraint(
            model_name='indicator',
            constraint=models.CheckConstraint(condition=models.Q(('min_coverage__isnull', True), ('aggregation', 'ratio'), _connector='OR'), name='min_coverage_only_for_ratios'),
        ),
        migrations.AddConstraint(
            model_name='indicator',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('reporting_level', 'both'), _negated=True), ('aggregation', 'none'), _connector='OR'), name='county_returned_in_own_right_is_not_aggregated'),
        ),
        migrations.RunPython(mark_complete, migrations.RunPython.noop),
    ]
