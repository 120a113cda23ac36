"""The benchmark harness runs end to end at smoke size and writes its results (CI keeps it from
rotting). Nothing here is about time: only that every measurement was made and recorded."""
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.conftest import requires_postgres, requires_redis

pytestmark = pytest.mark.slow  # the evidence tier (README, "Tests")

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = {
    "Full rollup": "s", "Incremental rollup": "s", "Approval → dashboard": "s", "Dashboard /dashboards/": "s",
    "Dashboard /dashboards/ambitions/": "s", "Filtered API list": "s", "API list": "items/s", "CSV import": "rows/s",
    "Officer's CSV file": "s", "County quarter": "s", "Central load": "rows/s",
}


def _server_and_prefix() -> tuple[str, str]:
    """The PostgreSQL server of DATABASE_URL, and a prefix for the harness's own databases
    named after this run's database, so parallel runs do not meet."""
    url = urlsplit(os.environ["DATABASE_URL"])
    name = url.path.strip("/") or "postgres"
    return urlunsplit((url.scheme, url.netloc, "/", "", "")), f"{name}_benchsmoke"


@requires_postgres
@requires_redis
def test_smoke_run_writes_every_measurement(tmp_path):
    # Given the local PostgreSQL and Redis
    server, prefix = _server_and_prefix()
    output = tmp_path / "results.json"

    # When the benchmarks run at smoke size
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks", "run", "--values", "3000", "--small-values", "1000", "--repeat", "1",
         "--latency-samples", "3", "--api-items", "2000", "--without-demo", "--database-url", server,
         "--redis-url", os.environ["REDIS_URL"], "--prefix", prefix, "--output", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )

    # Then they finish, and the JSON holds every measurement with numbers beside its ceiling
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = json.loads(output.read_text())
    assert results["machine"]["postgresql"]
    assert results["scales"]["large"]["synthetic_values"] > results["scales"]["small"]["synthetic_values"] > 0
    rows = results["results"]
    for prefix_of_name, unit in BENCHMARKS.items():
        found = [r for r in rows if r["benchmark"].startswith(prefix_of_name)]
        assert found, f"no result for {prefix_of_name}"
        for row in found:
            assert row["unit"] == unit
            assert row["ours"]["median"] > 0 and row["ours"]["samples"]
            assert row["ratio"] > 0 and isinstance(row["met"], bool) and row["target"]
    assert all(r["ceiling"]["median"] > 0 for r in rows if r["ceiling"] is not None)
    latency = next(r for r in rows if r["benchmark"].startswith("Approval → dashboard"))
    assert len(latency["ours"]["samples"]) == 3
    # and the markdown table, one line per result, is written beside it and printed
    table = output.with_suffix(".md").read_text()
    assert table.count("\n| ") == len(rows) + 1
    assert "| Full rollup of all values" in completed.stdout
    # and the databases it made are gone
    import psycopg2

    connection = psycopg2.connect(server.rstrip("/") + "/postgres")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname LIKE %s", [f"{prefix}%"])
        assert cursor.fetchone()[0] == 0
    connection.close()
