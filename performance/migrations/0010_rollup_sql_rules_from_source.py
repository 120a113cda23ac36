"""The rollup's SQL rules from their one source, performance/rollups/sql/rules.sql.

Migrations 0004-0006 created the ``kf_*`` functions from copies of their own; those stay as
history. From here on, a change to rules.sql comes with a migration like this one that
re-applies the file. Applied to a database migrated to 0009 it changes nothing: the file holds
each function's latest definition (tests/performance/test_sql_rules_source.py).
"""
from django.db import migrations

from performance.rollups.sql import apply_rules

# rules.sql as this migration applies it (sha256 of its statements, comment lines left out):
# tests/performance/test_sql_rules_source.py fails when the file has changed since the latest
# such migration, and prints the value for the next one.
RULES_SHA256 = "39a5c0a6f137749d604c7536750450a6f97ebc08173f53b179742e1bfda6b2d8"


class Migration(migrations.Migration):

    dependencies = [
        ("performance", "0009_reminders_name_their_organisation"),
    ]

    operations = [
        migrations.RunPython(apply_rules, reverse_code=migrations.RunPython.noop),
    ]
