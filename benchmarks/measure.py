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

from performance.catalogue import periods, services
from performance.returns import bulk_entry, exports, imports, validation, workflow
from performance.returns import bulk_write as bulk_writer
from performance.rollups import engine, queue, rebuild

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
    """The full rebuild (``engine.rebuild_all``: on PostgreSQL built beside the summary and
    swapped in) over the summary as it stands, as the nightly rebuild finds it (full once the
    pages have been rolled up; empty on a fresh database, the first load), beside the plain
    aggregate of the same approved rows; with the seconds of each part of the rebuild."""
    rollup, ceiling, write_floor, finished_floor, rows, parts, before = [], [], [], [], 0, [], []
    for _ in range(repeat):
        ceiling.append(sql_timed(PLAIN_AGGREGATE_SQL))
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM performance_indicatorrollup")
            before.append(cursor.fetchone()[0])
        started = time.perf_counter()
        result = engine.rebuild_all()
        rollup.append(time.perf_counter() - started)
        parts.append({name: round(seconds, 3) for name, seconds in rebuild.LAST.items()})
        rows = result["indicator rows"]
        with connection.cursor() as cursor:  # the floor of writing those rows at all, with no work
            started = time.perf_counter()
            cursor.execute("CREATE TEMPORARY TABLE kf_write_floor AS SELECT * FROM performance_indicatorrollup")
            write_floor.append(time.perf_counter() - started)
            cursor.execute("DROP TABLE kf_write_floor")
        finished_floor.append(_finished_table_floor())
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM performance_indicatorreturn WHERE state = 'approved'")
        approved = cursor.fetchone()[0]
    return {"rollup_seconds": rollup, "ceiling_seconds": ceiling, "write_floor_seconds": write_floor,
            "finished_floor_seconds": finished_floor, "summary_rows": rows, "approved_values": approved, "rows_before": before, "rebuild_parts": parts}


FLOOR_TABLE = "kf_finished_floor"


def _finished_table_floor() -> dict[str, float]:
    """The floor of any rebuild that materialises these rows: the finished summary copied into a
    bare table like the rebuild's, then given the summary's keys and indexes and analysed
    (``rebuild.finish``, the rebuild's own last steps), computing nothing. Seconds of each part."""
    seconds: dict[str, float] = {}
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
        cursor.execute(f"CREATE TABLE {FLOOR_TABLE} (LIKE performance_indicatorrollup INCLUDING DEFAULTS)")
        started = time.perf_counter()
        cursor.execute(f"INSERT INTO {FLOOR_TABLE} SELECT * FROM performance_indicatorrollup")
        seconds["copy"] = time.perf_counter() - started
    try:
        rebuild.finish(FLOOR_TABLE, "kffloor_", seconds)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {FLOOR_TABLE}")
    seconds["total"] = sum(seconds.values())
    return {name: round(value, 3) for name, value in seconds.items()}


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


        services.period_open(period=ret.period)
    new_value = Decimal(900000 + offset)
    IndicatorReturn.objects.filter(pk=ret.pk).update(state=WorkflowState.SUBMITTED, value=new_value, version=ret.version + 1)
    ret.refresh_from_db()
    return ret, new_value


def incremental_rollup(repeat: int) -> dict:


    samples, slices = [], 0
    for n in range(repeat):
        ret, _ = _a_return_to_approve(n)
        with queue.deferred() as pending:  # approve without running its rollup: that is what is timed
            workflow.return_approve(ret=ret, expected_version=ret.version)
            pending.clear()
        touched = queue.slices_touched(ret)
        slices = len(touched)
        samples.append(timed(lambda touched=touched: [engine.rollup_slice(i, p) for i, p in touched]))
    return {"incremental_seconds": samples, "slices_touched": slices}


def worker_latency(samples: int, database_url: str) -> dict:
    """With a real Celery worker on Redis: from the approval's commit until the summary row the
    dashboards read shows the new value."""
    from kentforum.celery import app as celery_app
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
                workflow.return_approve(ret=ret, expected_version=ret.version)
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

    from performance.models import Indicator

    rates = set(Indicator.objects.filter(aggregation="ratio").values_list("code", flat=True))
    out = io.StringIO()
    exports.write_template(out, organisation, period)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    header, body = rows[0], rows[1:]
    column = {name: n for n, name in enumerate(header)}
    if len(body) > imports.max_rows():  # one file holds at most MAX_ROWS rows: cut between two returns
        starts = [n for n, row in enumerate(body) if not row[column["breakdown"]] and n <= imports.max_rows()]
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


# --- The API's bulk write against COPY, and an officer's save racing it ---------------------------

BULK_ITEMS = 5000  # the most one bulk request may carry
BULK_PERIODS = 4  # the items are spread over this many open quarters


def synthetic_indicators(prefix: str, name: str, purpose: str, count: int) -> list:
    """``count`` synthetic indicators coded ``PREFIX-00000`` on: every other one a percentage (a
    ratio of summed numerators and denominators), the rest counts (summed)."""
    from performance.models import Indicator

    return Indicator.objects.bulk_create([
        Indicator(code=f"{prefix}-{n:05d}", name=f"{name} {n}", definition=f"Synthetic data for {purpose}.",
                  unit="percentage" if n % 2 else "count", aggregation="ratio" if n % 2 else "sum",
                  polarity="higher_is_better", numerator_label="People meeting it" if n % 2 else "",
                  denominator_label="People" if n % 2 else "")
        for n in range(count)
    ])


def _bulk_setup(items: int):
    """Slots for one ``items``-item bulk write by Ashford's benchmark officer: synthetic
    indicators (half counts, half percentages) assigned to Ashford, returned in ``BULK_PERIODS``
    open quarters; the same at every scale, so that what grows is the table behind them."""
    from localities.models import Locality
    from performance.models import IndicatorAssignment

    organisation, user, _ = _import_setup()
    ashford = Locality.objects.get(gss_code="E07000105")
    count = -(-items // BULK_PERIODS)
    indicators = synthetic_indicators("BULK", "Bulk measure", "the bulk benchmark", count)
    IndicatorAssignment.objects.bulk_create(
        [IndicatorAssignment(organisation=organisation, indicator=i, locality=ashford) for i in indicators])
    quarters = []
    for number in range(1, BULK_PERIODS + 1):
        period, _ = services.period_ensure(span=periods.quarter(2031, number))
        quarters.append(period if period.status == period.Status.OPEN else services.period_open(period=period))
    slots = [(i, p) for p in quarters for i in indicators][:items]
    return user, indicators, slots


def _bulk_items(slots, n: int, versions: dict | None = None, submit: bool = False) -> list[dict]:
    items = []
    for i, (indicator, period) in enumerate(slots):
        item = {"indicator": indicator.code, "locality": "E07000105", "period": period.label,
                "commentary": f"Bulk benchmark, round {n}."}
        if indicator.unit == "percentage":
            item.update(numerator=str(400 + (i + n) % 300), denominator="1000")
        else:
            item["value"] = str(100 + (i + n) % 50)
        if versions is not None:
            item["version"] = versions[(indicator.pk, period.pk)]
        if submit:
            item["submit"] = True
        items.append(item)
    return items


def bulk_write(repeat: int, items: int = BULK_ITEMS) -> dict:
    """A ``items``-item POST to /api/v1/indicator-returns/bulk/ by a signed-in officer (parse,
    validate, check, save, audit, answer), rolled back after each run, against COPY of exactly
    the rows it wrote; then the same returns stored as drafts, changed and submitted by one
    bulk write while an officer saves one of them again and again (each save rolled back): how
    long the bulk's writes hold their row locks, and how long the officer waits."""
    import json
    import multiprocessing

    from django.db import connections

    from performance.models import Indicator, IndicatorReturn
    from performance.returns.api.serializers import IndicatorReturnWriteSerializer
    from performance.returns.api.views import indicator_entry

    user, indicators, slots = _bulk_setup(items)
    client = Client()
    client.force_login(user)
    written_seconds: list[float] = []
    real_write = bulk_writer.write

    def timed_write(plan, **kwargs):  # the statements that lock, change and add rows
        started = time.perf_counter()
        try:
            return real_write(plan, **kwargs)
        finally:
            written_seconds.append(time.perf_counter() - started)

    bulk_writer.write = timed_write
    api, copied, api_writes, saved = [], [], [], 0
    try:
        for n in range(repeat):  # new returns through the API
            body = json.dumps(_bulk_items(slots, n))
            written = io.StringIO()
            with transaction.atomic():
                written_seconds.clear()
                started = time.perf_counter()
                response = client.post("/api/v1/indicator-returns/bulk/", body, content_type="application/json")
                elapsed = time.perf_counter() - started
                if response.status_code != 201:
                    raise RuntimeError(f"the benchmark bulk write was refused: {response.status_code} {response.content[:500]}")
                api_writes.extend(written_seconds)
                with connection.cursor() as cursor:
                    cursor.copy_expert(
                        f"COPY (SELECT {RETURN_COLUMNS} FROM performance_indicatorreturn WHERE indicator_id IN "
                        f"(SELECT id FROM performance_indicator WHERE code LIKE 'BULK-%%')) TO STDOUT", written,
                    )
                transaction.set_rollback(True)
            saved = written.getvalue().count("\n")
            api.append(saved / elapsed)
            copied.append(saved / copy_ceiling(written.getvalue()))

        # The race: the returns stored as drafts (committed), then changed and submitted in bulk.
        bulk_entry.indicator_returns_save_by_codes(user=user, items=[
            indicator_entry(_valid(IndicatorReturnWriteSerializer, item)) for item in _bulk_items(slots, 99)
        ])
        versions = {(r.indicator_id, r.period_id): r.version for r in IndicatorReturn.objects.filter(
            indicator__code__startswith="BULK-", breakdown__isnull=True)}
        target = IndicatorReturn.objects.select_related("indicator", "locality", "period", "organisation").get(
            indicator=slots[len(slots) // 2][0], period=slots[len(slots) // 2][1], breakdown__isnull=True)
        race_bulk, race_locks, waits, longest = [], [], [], []
        forked = multiprocessing.get_context("fork")
        for n in range(repeat):
            entries = [indicator_entry(_valid(IndicatorReturnWriteSerializer, item))
                       for item in _bulk_items(slots, 200 + n, versions, submit=True)]
            # The officer is a process of its own, as a web request is (not a thread here, which
            # would wait for this one's interpreter lock rather than for the database).
            connections.close_all()
            saving, stop, out = forked.Event(), forked.Event(), forked.Queue()
            officer = forked.Process(target=_officer_saves, args=(target.pk, user.pk, saving, stop, out))
            officer.start()
            try:
                saving.wait(60)
                time.sleep(0.2)  # a few saves before the bulk starts
                with transaction.atomic():
                    written_seconds.clear()
                    started = time.perf_counter()
                    bulk_entry.indicator_returns_save_by_codes(user=user, items=entries)
                    race_bulk.append(time.perf_counter() - started)
                    race_locks.append(sum(written_seconds))
                    transaction.set_rollback(True)  # the next round starts from the same drafts
                time.sleep(0.2)
            finally:
                stop.set()
                seconds = out.get(timeout=60)
                officer.join(timeout=60)
            waits.extend(seconds)
            longest.append(max(seconds))
    finally:
        bulk_writer.write = real_write
        IndicatorReturn.objects.filter(indicator__code__startswith="BULK-").delete()  # their events go with them
        Indicator.objects.filter(code__startswith="BULK-").delete()
    return {"items": len(slots), "rows_saved": saved, "api_items_per_second": api, "copy_rows_per_second": copied,
            "api_write_seconds": api_writes, "race_bulk_seconds": race_bulk, "race_write_seconds": race_locks,
            "officer_longest_wait_seconds": longest, "officer_saves": len(waits),
            "officer_median_save_seconds": sorted(waits)[len(waits) // 2] if waits else None}


def _valid(serializer_class, data: dict) -> dict:
    payload = serializer_class(data=data)
    payload.is_valid(raise_exception=True)
    return payload.validated_data


def _officer_saves(return_id: int, user_id: int, saving, stop, out) -> None:
    """An officer saving one return again and again (each save rolled back, so that the bulk
    write's versions hold) until told to stop; puts how many seconds each save took."""
    from django.contrib.auth import get_user_model

    from performance.models import IndicatorReturn

    user = get_user_model().objects.get(pk=user_id)
    target = IndicatorReturn.objects.select_related("indicator", "locality", "period", "organisation").get(pk=return_id)
    figures = validation.IndicatorFigures(value=target.value, numerator=target.numerator, denominator=target.denominator,
                                        commentary="The officer's own save.")
    seconds = []
    saving.set()
    while not stop.is_set():
        started = time.perf_counter()
        with transaction.atomic():
            workflow.indicator_return_save_draft(
                indicator=target.indicator, locality=target.locality, period=target.period,
                organisation=target.organisation, figures=figures, expected_version=target.version, user=user,
            )
            transaction.set_rollback(True)
        seconds.append(time.perf_counter() - started)
        time.sleep(0.005)
    connection.close()
    out.put(seconds)
