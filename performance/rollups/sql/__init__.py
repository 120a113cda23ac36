"""The rollup's SQL rules: ``rules.sql`` beside this module is their one source.

``apply_rules`` (re)creates every ``kf_*`` function from that file. A migration that changes
the rules is the one line ``migrations.RunPython(apply_rules, reverse_code=migrations.RunPython.noop)``
beside the file's fingerprint ``RULES_SHA256`` (migration 0010 is the first and the pattern;
tests/performance/test_sql_rules_source.py). Only the standard library here: migrations import it.
"""
from __future__ import annotations

from pathlib import Path

RULES = Path(__file__).with_name("rules.sql")


def rules_sql() -> str:
    """The text of rules.sql."""
    return RULES.read_text(encoding="utf-8")


def apply_rules(apps, schema_editor) -> None:
    """Run rules.sql on PostgreSQL (``CREATE OR REPLACE``, so it may run again); elsewhere do
    nothing: SQLite's rollup runs the Python reference. A ``RunPython`` callable."""
    if schema_editor.connection.vendor == "postgresql":
        # params=None: the file is sent as it is, with no placeholder (%s) interpolation
        schema_editor.execute(rules_sql(), params=None)
