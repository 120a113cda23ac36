"""One home per rule: the rollup's SQL rules live in performance/rollups/sql/rules.sql alone.

- The migrated database has every ``kf_*`` function exactly as rules.sql gives it, and no other.
- rules.sql as it is now is the file the latest migration that re-applies it applied (its
  ``RULES_SHA256``): a rule edited in the file without a new migration fails here, because a
  fresh test database, migrated from the file as it is, cannot tell.
- No other file under performance/ defines a ``kf_*`` function, but the old migrations
  0001-0009, which stay as history.
"""
import hashlib
import importlib
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import connection, migrations, transaction
from django.db.migrations.loader import MigrationLoader

from performance.rollups.sql import RULES, apply_rules, rules_sql
from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db]

PERFORMANCE = Path(__file__).resolve().parents[2] / "performance"
HISTORY = re.compile(r"^000[1-9]_\w+\.py$")  # migrations 0001-0009: history, left as they are
DEFINES_KF = re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+(?:\w+\.)?kf_", re.IGNORECASE)
FILE_FUNCTIONS = re.compile(r"CREATE\s+OR\s+REPLACE\s+FUNCTION\s+(kf_\w+)\s*\(", re.IGNORECASE)


def definitions() -> dict[str, str]:
    """Every kf_* function of the database's schema: signature -> pg_get_functiondef."""
    with connection.cursor() as cursor:
        cursor.execute(
            r"SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid) FROM pg_proc p"
            r" JOIN pg_namespace n ON n.oid = p.pronamespace"
            r" WHERE n.nspname = current_schema() AND p.proname LIKE 'kf\_%' ORDER BY 1"
        )
        return dict(cursor.fetchall())


def fingerprint(text: str) -> str:
    """sha256 of rules.sql's statements: comment and blank lines outside the $$ bodies are left
    out, so a comment may be reworded without a migration (a body is kept as written)."""
    kept, in_body = [], False
    for line in text.splitlines():
        if in_body or (line.strip() and not line.lstrip().startswith("--")):
            kept.append(line.rstrip())
        if line.count("$$") % 2:
            in_body = not in_body
    return hashlib.sha256("\n".join(kept).encode()).hexdigest()


def migrations_applying_rules() -> list[tuple[str, object]]:
    """The performance migrations that run ``apply_rules``, in the order they are applied."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    (leaf,) = loader.graph.leaf_nodes("performance")
    found = []
    for app, name in loader.graph.forwards_plan(leaf):
        migration = loader.disk_migrations[(app, name)]
        if app == "performance" and any(
            isinstance(op, migrations.RunPython) and op.code is apply_rules for op in migration.operations
        ):
            found.append((name, importlib.import_module(type(migration).__module__)))
    return found


def test_the_database_has_every_rule_as_rules_sql_gives_it_and_no_other():
    in_file = set(FILE_FUNCTIONS.findall(rules_sql()))
    before = definitions()
    assert {signature.split("(")[0] for signature in before} == in_file, (
        "every kf_* function of the migrated database is in rules.sql, and every function of rules.sql is in the database"
    )
    with transaction.atomic():
        with connection.schema_editor() as editor:
            apply_rules(None, editor)
        after = definitions()
        transaction.set_rollback(True)
    assert after.keys() == before.keys(), f"rules.sql adds {sorted(after.keys() - before.keys())}: a new migration applies it"
    changed = {signature: (before[signature], after[signature]) for signature in before if before[signature] != after[signature]}
    assert not changed, f"rules.sql differs from the migrated database in {sorted(changed)}: a new migration applies it"


def test_rules_sql_is_the_file_the_latest_migration_applied():
    applying = migrations_applying_rules()
    assert applying, "a migration re-applies rules.sql (0010_rollup_sql_rules_from_source the first)"
    recorded = [getattr(module, "RULES_SHA256", None) for _, module in applying]
    assert None not in recorded, "every migration that re-applies rules.sql records RULES_SHA256"
    assert len(set(recorded)) == len(recorded), "each migration that re-applies rules.sql applies a changed file"
    name, module = applying[-1]
    current = fingerprint(rules_sql())
    assert module.RULES_SHA256 == current, (
        f"rules.sql has changed since migration {name} applied it: add a migration with "
        f"operations = [migrations.RunPython(apply_rules, reverse_code=migrations.RunPython.noop)] "
        f'and RULES_SHA256 = "{current}"'
    )


def test_no_file_of_performance_but_rules_sql_and_the_history_defines_a_kf_function():
    found = []
    for path in sorted(PERFORMANCE.rglob("*")):
        if path.suffix not in (".py", ".sql") or path == RULES:
            continue
        if path.parent.name == "migrations" and HISTORY.match(path.name):
            continue
        if DEFINES_KF.search(path.read_text(encoding="utf-8")):
            found.append(str(path.relative_to(PERFORMANCE.parent)))
    assert not found, f"kf_* functions are defined in performance/rollups/sql/rules.sql alone, not in {found}"
    assert DEFINES_KF.search(rules_sql())


def test_other_databases_are_left_alone():
    def refuse(*args, **kwargs):
        raise AssertionError("SQL sent to SQLite")

    apply_rules(None, SimpleNamespace(connection=SimpleNamespace(vendor="sqlite"), execute=refuse))
