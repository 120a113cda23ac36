"""The summary's indicator and period foreign keys lose their own indexes (issue 19): the natural
key (indicator, locality, period, breakdown) and the index (period, locality, breakdown) lead
with them, and each index is written on every row of a full rebuild. The locality's stays."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('performance', '0014_board_report_route'),
    ]

    operations = [
        migrations.AlterField(
            model_name='indicatorrollup',
            name='indicator',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='rollups', to='performance.indicator'),
        ),
        migrations.AlterField(
            model_name='indicatorrollup',
            name='period',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='rollups', to='performance.reportingperiod'),
        ),
    ]
