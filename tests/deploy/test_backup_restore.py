"""Back-up and restore with the README's commands: ``pg_dump -Fc`` of the live deployment's
database (gunicorn, the worker and beat running), ``pg_restore`` into a new database, and proof
that the copy is the same (the same tables, row counts and a checksum of every row of every table,
the same sequence positions) and that the portal runs on it (``manage.py check``, ``migrate
--check``, and pages and queries through Django with DATABASE_URL pointing at the copy)."""
import json
import subprocess
import time

import pytest

from tests.conftest import requires_postgres, requires_redis

from .conftest import create_database, drop_database, pg_env, server_url, sql

pytestmark = [pytest.mark.slow, pytest.mark.postgres, requires_postgres, requires_redis]

TABLES = ("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
          "AND table_type = 'BASE TABLE' ORDER BY table_name")


def fingerprint(database: str) -> dict:
    """Per table: the row count and the md5 of every row's text in a fixed order; and every sequence's position."""
    found = {}
    for (table,) in sql(database, TABLES):
        count, checksum = sql(database, f'SELECT count(*), md5(coalesce(string_agg(t::text, E\'\\n\' ORDER BY t::text), \'\')) FROM "{table}" t')[0]
        found[table] = (count, checksum)
    found["sequences"] = sql(database, "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1")
    return found


def run(argv: list[str]) -> float:
    started = time.monotonic()
    result = subprocess.run(argv, env=pg_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{' '.join(argv)}:\n{result.stderr[-3000:]}"
    return time.monotonic() - started


ORM_CHECK = """
import json
from django.test import Client
from performance.models import IndicatorReturn, ReturnEvent, IndicatorRollup
from django.contrib.auth import get_user_model
client = Client(HTTP_X_FORWARDED_PROTO="https")
page = client.get("/dashboards/ambitions/3/", HTTP_HOST="127.0.0.1")
print(json.dumps({
    "returns": IndicatorReturn.objects.count(), "events": ReturnEvent.objects.count(),
    "rollups": IndicatorRollup.objects.count(), "users": get_user_model().objects.count(),
    "versions": sorted(IndicatorReturn.objects.filter(indicator__code__startswith="DEPLOY-").values_list("indicator__code", "version")),
    "dashboard": page.status_code, "recycling shown": "43.2" in page.content.decode(),
}))
"""


KEY_TABLES = {"returns": "performance_indicatorreturn", "events": "performance_returnevent",
              "rollups": "performance_indicatorrollup"}


def key_counts(deployment) -> dict:
    return {key: deployment.sql(f"SELECT count(*) FROM {table}")[0][0] for key, table in KEY_TABLES.items()}


def test_pg_dump_and_pg_restore_give_an_identical_working_database(deployment, tmp_path):
    source = deployment.database
    # The seed's approved return is rolled up by the worker: wait (bounded) for its rows.
    deadline = time.monotonic() + 60
    while not (counts := key_counts(deployment))["rollups"]:
        assert time.monotonic() < deadline, f"the worker wrote no rollup rows within 60 s\n{deployment.logs()}"
        time.sleep(0.2)
    assert counts["returns"] >= 4 and counts["events"] >= 4, f"some returns exist to back up: {counts}"
    dump = tmp_path / "kentforum.dump"
    restored = f"{source}_restored"
    # The README's commands (PG* variables name the server: the same as DATABASE_URL's).
    dump_seconds = run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", f"--dbname={source}"])
    try:
        create_database(restored)  # README: createdb kentforum_restored
        restore_seconds = run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={restored}", str(dump)])
        before, after = fingerprint(source), fingerprint(restored)
        assert set(after) == set(before) and len(before) > 40, sorted(set(before) ^ set(after))
        differing = [table for table in before if before[table] != after[table]]
        assert not differing, {t: (before[t], after[t]) for t in differing}
        for key, table in KEY_TABLES.items():
            assert after[table] == before[table] and before[table][0] >= counts[key] > 0, (key, before[table], after[table])

        # The portal on the copy: checks, no migration missing, queries and a page through Django.
        env = {**deployment.env, "DATABASE_URL": server_url(restored)}
        deployment.manage("check", "--database", "default", env=env)
        deployment.manage("migrate", "--check", env=env)
        answer = json.loads(deployment.manage("shell", "-c", ORM_CHECK, env=env).stdout.strip().splitlines()[-1])
        assert answer["returns"] == counts["returns"] and answer["events"] == counts["events"]
        assert answer["users"] == before["auth_user"][0] and answer["rollups"] == before["performance_indicatorrollup"][0]
        assert answer["versions"] == [list(row) for row in deployment.sql(
            "SELECT i.code, r.version FROM performance_indicatorreturn r JOIN performance_indicator i ON i.id = r.indicator_id "
            "WHERE i.code LIKE 'DEPLOY-%%' ORDER BY 1, 2")]
        assert answer["dashboard"] == 200
        rows = sum(value[0] for table, value in before.items() if table != "sequences")
        key = ", ".join(f"{k} {before[t][0]} rows md5 {before[t][1][:8]}" for k, t in KEY_TABLES.items())
        print(f"\nBack-up and restore: {len(before) - 1} tables, {rows} rows ({key}), dump {dump.stat().st_size / 1024:.0f} KiB; "
              f"pg_dump {dump_seconds:.1f} s, pg_restore {restore_seconds:.1f} s; the copy is identical "
              f"(dashboard shows the approved return: {answer['recycling shown']})")
    finally:
        drop_database(restored)
