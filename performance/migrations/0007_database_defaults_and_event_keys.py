"""Database defaults for the new NOT NULL columns (rows written by COPY or set-based SQL get
them), and ``ReturnEvent.api_key``: the partner key that made a change, filled for earlier
events from the mark "(via API key '<name>' (<prefix>))" that used to end their note (and taken
off the note)."""
import re

import django.db.models.deletion
from django.db import migrations, models

KEY_MARK = re.compile(r"\s*\(via API key '(?P<name>.*)' \((?P<prefix>[^()\s]+)\)\)\Z", re.S)


def keys_from_notes(apps, schema_editor):
    ReturnEvent = apps.get_model("performance", "ReturnEvent")
    PartnerAPIKey = apps.get_model("partnerships", "PartnerAPIKey")
    keys = dict(PartnerAPIKey.objects.values_list("prefix", "pk"))
    for event in ReturnEvent.objects.filter(actor__isnull=True, note__contains="(via API key "):
        match = KEY_MARK.search(event.note)
        if match and match["prefix"] in keys:
            event.api_key_id = keys[match["prefix"]]
            event.note = event.note[: match.start()]
            event.save(update_fields=["api_key", "note"])


class Migration(migrations.Migration):

    dependencies = [
        ('partnerships', '0003_alter_partnerapikey_rate'),
        ('performance', '0006_data_quality_and_surveys'),
    ]

    operations = [
        migrations.AddField(
            model_name='returnevent',
            name='api_key',
            field=models.ForeignKey(blank=True, help_text="The partner's API key that made the change, when no person did (keys are revoked, not deleted).", null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='partnerships.partnerapikey'),
        ),
        migrations.AlterField(
            model_name='indicator',
            name='is_survey',
            field=models.BooleanField(db_default=False, default=False, help_text="A sample survey's estimate (Annual Population Survey, Place Survey, Active People): its returns carry the published confidence interval or the unweighted sample base, and its confidence limits and direction of travel come from those alone.", verbose_name='survey estimate'),
        ),
        migrations.AlterField(
            model_name='indicatorreturn',
            name='quality',
            field=models.CharField(choices=[('final', 'Final'), ('provisional', 'Provisional'), ('estimated', 'Estimated'), ('revised', 'Revised')], db_default='final', default='final', max_length=12, verbose_name='data quality'),
        ),
        migrations.AlterField(
            model_name='indicatorreturn',
            name='quality_note',
            field=models.CharField(blank=True, db_default='', default='', help_text='What is provisional, estimated or revised, and why.', max_length=500),
        ),
        migrations.AlterField(
            model_name='indicatorrollup',
            name='commentary',
            field=models.TextField(blank=True, db_default='', default='', help_text="The officer's commentary on the approved return (own figures only)."),
        ),
        migrations.AlterField(
            model_name='indicatorrollup',
            name='complete',
            field=models.BooleanField(db_default=False, default=False, help_text='Enough areas reported for the figure to be judged (rules.is_complete); when false the figure has no status against target and no direction of travel.'),
        ),
        migrations.AlterField(
            model_name='indicatorrollup',
            name='flags',
            field=models.JSONField(blank=True, db_default=models.Value([], output_field=models.JSONField()), default=list, help_text='Data-quality flags of the returns in the figure (provisional, estimated, revised), sorted.'),
        ),
        migrations.RunPython(keys_from_notes, migrations.RunPython.noop),
    ]
