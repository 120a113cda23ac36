"""The measurements, each beside its ceiling measured in the same run on the same rows.

Run inside Django (``python -m benchmarks measure``) against one benchmark database; every
function returns plain numbers (seconds, items per second, query counts) and the parent
process (benchmarks/__main__.py) turns them into ratios and the table.
"""
from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
DASHBOARDS = [("dashboards:forum", []), ("dashboards:ambition", [1]), ("dashboards:locality", ["E07000105"])]


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def sql_timed(sql: str, params=None) -> float:
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(sql, params)
        cursor.fetchall()
        return time.perf_counter() - started


# --- Full rollup against a plain aggregate -------------------------------------------------------

# The ceiling: PostgreSQL summing the same approved rows by indicator, period and breakdown (the
# KCC area's figure of every slice), without writing anything.
PLAIN_AGGREGATE_SQL = """
SELECT count(*) FROM (
    SELECT indicator_id, period_id, breakdown_id, sum(value), sum(numerator), sum(denominator), count(*)
    FROM performance_indicatorreturn WHERE state = 'approved'
    GROUP BY indicator_id, period_id, breakdown_id
) s
"""


def full_rollup(repeat: int) -> dict:
    from performance import rollups

    rollup, ceiling, write_floor, rows = [], [], [], 0
    for _ in range(repeat):
        ceiling.append(sql_timed(PLAIN_AGGREGATE_SQL))
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE performance_indicatorrollup")
        started = time.perf_counter()
        result = rollups.rebuild_all()
        rollup.append(time.perf_counter() - started)
        rows = result["indicator rows"]
        with connection.cursor() as cursor:  # the floor of writing those rows at all, with no work
            started = time.perf_counter()
            cursor.execute("CREATE TEMPORARY TABLE kf_write_floor AS SELECT * FROM performance_indicatorrollup")
            write_floor.append(time.perf_counter() - started)
            cursor.execute("DROP TABLE kf_write_floor")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM performance_indicatorreturn WHERE state = 'approved'")
        approved = cursor.fetchone()[0]
    return {"rollup_seconds": rollup, "ceiling_seconds": ceiling, "write_floor_seconds": write_floor,
            "summary_rows": rows, "approved_values": approved}


# --- Incremental rollup after one approval -----------------------------------------------------

def _a_return_to_approve(offset: int):
    """An approved district total of a synthetic indicator, sent back to 'submitted' with a new
    value (directly, as if an officer had resubmitted it), ready to approve again."""
    from performance.models import IndicatorReturn, WorkflowState

    candidates = (
        IndicatorReturn.objects.filter(indicator__code__startswith="BENCH-", breakdown__isnull=True,
                                       state=WorkflowState.APPROVED, indicator__aggregation="sum")
        .select_related("indicator", "period", "locality").order_by("-period__start", "id")
    )
    ret = candidates[offset % min(candidates[:2000].count(), 2000)]
    if ret.period.status != ret.period.Status.OPEN:
        from performance import services

        services.period_open(period=ret.period)
    new_value = Decimal(900000 + offset)
    IndicatorReturn.objects.filter(pk=ret.pk).update(state=WorkflowState.SUBMITTED, value=new_value, version=ret.version + 1)
    ret.refresh_from_db()
    return ret, new_value


def incremental_rollup(repeat: int) -> dict:
    from performance import rollups, services

    samples, slices = [], 0
    for n in range(repeat):
        ret, _ = _a_return_to_approve(n)
        with rollups.deferred() as pending:  # approve without running its rollup: that is what is timed
            services.return_approve(ret=ret, expected_version=ret.version)
            pending.clear()
        touched = rollups.slices_touched(ret)
        slices = len(touched)
        samples.append(timed(lambda touched=touched: [rollups.rollup_slice(i, p) for i, p in touched]))
    return {"incremental_seconds": samples, "slices_touched": slices}


def worker_latency(samples: int, database_url: str) -> dict:
    """With a real Celery worker on Redis: from the approval's commit until the summary row the
    dashboards read shows the new value."""
    from kentforum.celery import app as celery_app
    from performance import services
    from performance.models import IndicatorRollup

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": database_url, "CELERY_TASK_ALWAYS_EAGER": "false", "DEBUG": "false"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "kentforum", "worker", "-Q", queue, "--concurrency=2",
         "--without-gossip", "--without-mingle", "--loglevel=warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    eager, default_queue = celery_app.conf.task_always_eager, celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = False, queue
    latencies = []
    try:
        for n in range(samples + 2):  # two to warm the worker up, not counted
            ret, new_value = _a_return_to_approve(100 + n)
            with transaction.atomic():
                services.return_approve(ret=ret, expected_version=ret.version)
                committed = time.perf_counter()  # the rollup is queued when this block commits
            row = IndicatorRollup.objects.filter(indicator=ret.indicator, locality=ret.locality, period=ret.period,
                                                 breakdown_key="")
            deadline = committed + 60
            while row.values_list("value", flat=True).first() != new_value:
                if time.perf_counter() > deadline:
                    raise RuntimeError("the worker did not roll the approval up within 60 seconds")
                time.sleep(0.005)
            if n >= 2:
                latencies.append(time.perf_counter() - committed)
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = eager, default_queue
        worker.terminate()
        worker.wait(timeout=30)
    return {"latency_seconds": latencies}


# --- Dashboards ----------------------------------------------------------------------------------

def dashboards(repeat: int) -> dict:
    client = Client()
    result = {}
    for name, args in DASHBOARDS:
        url = reverse(name, args=args)
        assert client.get(url).status_code == 200  # warm: templates, connections
        times = []
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as queries:
                times.append(timed(lambda url=url: client.get(url)))
        result[url] = {"seconds": times, "queries": len(queries)}
    return result


# --- API list throughput against json_agg ----------------------------------------------------

JSON_AGG_SQL = """
SELECT json_agg(t)::text, max(t.id) FROM (
    SELECT r.id, i.code AS indicator, l.gss_code AS locality, p.label AS period,
           coalesce(d.code || ':' || b.code, '') AS breakdown, o.name AS organisation,
           r.value::text AS value, r.numerator::text AS numerator, r.denominator::text AS denominator,
           r.commentary, r.state, r.return_reason, r.version, r.submitted_at, r.decided_at, r.updated_at
    FROM performance_indicatorreturn r
    JOIN performance_indicator i ON i.id = r.indicator_id
    JOIN localities_locality l ON l.id = r.locality_id
    JOIN performance_reportingperiod p ON p.id = r.period_id
    JOIN partnerships_organisation o ON o.id = r.organisation_id
    LEFT JOIN performance_breakdowncategory b ON b.id = r.breakdown_id
    LEFT JOIN performance_breakdowndimension d ON d.id = b.dimension_id
    WHERE r.state = 'approved' AND r.id > %s ORDER BY r.id LIMIT 1000
) t
"""


def api_list(items: int, repeat: int) -> dict:
    client = Client()
    api, ceiling, fetched = [], [], 0
    for _ in range(repeat):
        started, fetched, url, params = time.perf_counter(), 0, "/api/v1/indicator-returns/", {"page_size": 1000}
        while url and fetched < items:
            body = client.get(url, params).json()
            fetched += len(body["results"])
            url, params = body["next"], None
        api.append(fetched / (time.perf_counter() - started))
        with connection.cursor() as cursor:
            started, got, last = time.perf_counter(), 0, 0
            while got < fetched:
                cursor.execute(JSON_AGG_SQL, [last])
                text, last = cursor.fetchone()
                if text is None:
                    break
                got += 1000
            ceiling.append(got / (time.perf_counter() - started))
    return {"api_items_per_second": api, "json_agg_items_per_second": ceiling, "items": fetched}


# --- CSV import against COPY ---------------------------------------------------------------------

def _import_setup():
    from kentforum.roles import Role
    from partnerships.models import Organisation
    from partnerships.services import person_user_ensure
    from performance import periods, services

    organisation = Organisation.objects.get(name="Ashford Borough Council")
    user, _ = person_user_ensure(
        username="bench.officer", name="Benchmark Officer", organisation=organisation, roles=[Role.OFFICER],
        password=None, email="bench.officer@example.org",
    )
    period, _ = services.period_ensure(span=periods.quarter(2030, 1))
    if period.status != period.Status.OPEN:
        period = services.period_open(period=period)
    return organisation, user, period


def _filled_template(organisation, period) -> tuple[bytes, int]:
    from performance import imports
    from performance.models import Indicator

    rates = set(Indicator.objects.filter(aggregation="ratio").values_list("code", flat=True))
    out = io.StringIO()
    imports.write_template(out, organisation, period)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    header, body = rows[0], rows[1:]
    column = {name: n for n, name in enumerate(header)}
    if len(body) > imports.MAX_ROWS:  # one file holds at most MAX_ROWS rows: cut between two returns
        starts = [n for n, row in enumerate(body) if not row[column["breakdown"]] and n <= imports.MAX_ROWS]
        body = body[:starts[-1]]
    for n, row in enumerate(body):
        is_total = not row[column["breakdown"]]
        if row[column["indicator_code"]] in rates:
            if is_total:
                row[column["numerator"]], row[column["denominator"]] = str(400 + n % 300), "1000"
        else:
            row[column["value"]] = str(100 + n % 50)
        if is_total:
            row[column["commentary"]] = "Benchmark upload."
    text = io.StringIO()
    csv.writer(text).writerows([header, *body])
    return text.getvalue().encode(), len(body)


RETURN_COLUMNS = (
    "created_at, updated_at, organisation_id, period_id, commentary, state, return_reason, version, submitted_at, "
    "submitted_by_id, decided_at, decided_by_id, indicator_id, locality_id, breakdown_id, value, numerator, "
    "denominator, confirmed_warnings"
)


def copy_ceiling(written: str) -> float:
    """The ceiling of an import: seconds to COPY the same rows into the same table, in a
    transaction rolled back afterwards. ``written`` is the rows in COPY's text format."""
    with transaction.atomic(), connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.copy_expert(f"COPY performance_indicatorreturn ({RETURN_COLUMNS}) FROM STDIN", io.StringIO(written))
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


def csv_import(repeat: int) -> dict:
    """A filled-in template of one organisation for an open period, previewed and applied (parse,
    validate, save, audit), against COPY of exactly the rows the import wrote."""
    from performance import imports

    organisation, user, period = _import_setup()
    raw, rows = _filled_template(organisation, period)
    imported, copied, previews, applies = [], [], [], []
    for _ in range(repeat):
        written = io.StringIO()
        with transaction.atomic():
            started = time.perf_counter()
            job = imports.import_preview(user=user, organisation=organisation, period=period, filename="bench.csv", raw=raw)
            checked = time.perf_counter()
            job = imports.import_apply(user=user, job=job)
            elapsed = time.perf_counter() - started
            previews.append(checked - started)
            applies.append(elapsed - (checked - started))
            if job.state != job.State.APPLIED:
                raise RuntimeError(f"the benchmark upload was not applied: {job.rows[:3]}")
            with connection.cursor() as cursor:
                cursor.copy_expert(
                    f"COPY (SELECT {RETURN_COLUMNS} FROM performance_indicatorreturn WHERE organisation_id = "
                    f"{int(organisation.pk)} AND period_id = {int(period.pk)}) TO STDOUT", written,
                )
            transaction.set_rollback(True)  # the next repetition imports into the same empty slots
        saved = written.getvalue().count("\n")
        imported.append(saved / elapsed)
        copied.append(saved / copy_ceiling(written.getvalue()))
    return {"import_rows_per_second": imported, "copy_rows_per_second": copied, "rows": rows, "rows_saved": saved,
            "preview_seconds": previews, "apply_seconds": applies}
