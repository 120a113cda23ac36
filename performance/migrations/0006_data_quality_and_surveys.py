"""Data quality on every figure and survey estimates (issue: honest figures).

Returns may be flagged provisional, estimated or revised, with the source's release date and a
note; the flags and the officer's commentary travel to the summary rows. Survey estimates carry
the published confidence interval or the unweighted sample base, and their limits come from
those alone: ``kf_survey_lower``/``kf_survey_upper`` are the SQL twins of
``rules.survey_limits``.
"""
import django.core.validators
from django.db import migrations, models

SURVEY_SQL = """
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
"""
DROP_SURVEY_SQL = """
DROP FUNCTION IF EXISTS kf_survey_upper(text, numeric, numeric, numeric, bigint);
DROP FUNCTION IF EXISTS kf_survey_lower(text, numeric, numeric, numeric, bigint);
"""


def functions(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SURVEY_SQL)


def drop_functions(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SURVEY_SQL)


class Migration(migrations.Migration):

    dependencies = [
        ('performance', '0005_completeness_rule'),
    ]

    operations = [
        migrations.RunPython(functions, drop_functions),
        migrations.AddField(
            model_name='indicator',
            name='is_survey',
            field=models.BooleanField(default=False, help_text="A sample survey's estimate (Annual Population Survey, Place Survey, Active People): its returns carry the published confidence interval or the unweighted sample base, and its confidence limits and direction of travel come from those alone.", verbose_name='survey estimate'),
        ),
        migrations.AddField(
            model_name='indicatorreturn',
            name='ci_lower',
            field=models.DecimalField(blank=True, decimal_places=4, help_text='Survey estimates: the lower limit of the published 95% confidence interval.', max_digits=20, null=True, verbose_name='published lower 95% limit'),
        ),
        migrations.AddField(
            model_name='indicatorreturn',
            name='ci_upper',
            field=models.DecimalField(blank=True, decimal_places=4, help_text='Survey estimates: the upper limit of the published 95% confidence interval.', max_digits=20, null=True, verbose_name='published upper 95% limit'),
        ),
        migrations.AddField(
            model_name='indicatorreturn',
            name='quality',
            field=models.CharField(choices=[('final', 'Final'), ('provisional', 'Provisional'), ('estimated', 'Estimated'), ('revised', 'Revised')], default='final', max_length=12, verbose_name='data quality'),
        ),
        migrations.AddField(
            model_name='indicatorreturn',
            name='quality_note',
            field=models.CharField(blank=True, help_text='What is provisional, estimated or revised, and why.', max_length=500),
        ),
        migrations.AddField(
            model_name='indicatorreturn',
            name='sample_base',
            field=models.PositiveIntegerField(blank=True, help_text='Survey estimates without a published interval: the number of people who answered.', null=True, validators=[django.core.validators.MinValueValidator(1)], verbose_name='unweighted sample base'),
        ),
        migrations.AddField(
            model_name='indicatorreturn',
            name='source_released',
            field=models.DateField(blank=True, help_text='When the source published (or revised) this figure.', null=True),
        ),
        migrations.AddField(
            model_name='indicatorrollup',
            name='commentary',
            field=models.TextField(blank=True, help_text="The officer's commentary on the approved return (own figures only)."),
        ),
        migrations.AddField(
            model_name='indicatorrollup',
            name='flags',
            field=models.JSONField(blank=True, default=list, help_text='Data-quality flags of the returns in the figure (provisional, estimated, revised), sorted.'),
        ),
        migrations.AddConstraint(
            model_name='indicatorreturn',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('ci_lower__isnull', True), ('ci_upper__isnull', True)), models.Q(('ci_lower__isnull', False), ('ci_upper__gte', models.F('ci_lower')), ('ci_upper__isnull', False)), _connector='OR'), name='published_interval_whole_and_ordered'),
        ),
        migrations.AddConstraint(
            model_name='indicatorreturn',
            constraint=models.CheckConstraint(condition=models.Q(('sample_base__isnull', True), ('sample_base__gte', 1), _connector='OR'), name='sample_base_positive'),
        ),
    ]
