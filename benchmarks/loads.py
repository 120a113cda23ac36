"""The load benchmarks of issue 19 (item 4): an officer's CSV file, a county quarter in one
upload, a central load of 100,000 values and the API's 5,000-item bulk write, each beside
COPY of exactly the rows it wrote, measured in the same run.

Run inside Django against one benchmark database made as ``python -m benchmarks run`` makes it
(migrate, the Kent framework, the demo set, ``benchmarks.generate``)::

    python -m benchmarks.loads --database-url postgres://postgres@127.0.0.1:5432/cl_bench_large \\
        --repeat 5 --output /tmp/loads.json

Every function returns plain numbers in the shape of ``benchmarks.measure``'s (seconds, rows per
second, the COPY ceiling's rows per second). The synthetic indicators the loads need (``LOAD-``
codes, assigned to Ashford, with eight quarters of approved history so the outlier rule has
something to weigh) are made inside a transaction that is rolled back at the end, so the
database is left as it was.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LOAD_INDICATORS = 12_600  # enough slots of Ashford's for a 50,000-row file (a total and three age bands each)
HISTORY_QUARTERS = 8  # approved values before the upload's quarter, as the outlier rule reads
COUNTY_ROWS = 50_000
OFFICER_ROWS = 5_000
CENTRAL_VALUES = 100_000


def _copy_out(where: str) -> str:
    """The returns matching ``where``, in COPY's text format: what COPY would have to load."""
    from django.db import connection

    from benchmarks.measure import RETURN_COLUMNS

    out = io.StringIO()
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY (SELECT {RETURN_COLUMNS} FROM performance_indicatorreturn WHERE {where}) TO STDOUT", out)
    return out.getvalue()


def load_setup(indicators: int = LOAD_INDICATORS):
    """Synthetic indicators for the loads (half counts with three age bands, half percentages),
    assigned to Ashford, with ``HISTORY_QUARTERS`` approved quarters before the upload's quarter
    written set-based. Returns (organisation, user, period, indicators)."""
    from django.db import connection

    from benchmarks.generate import CATEGORIES
    from benchmarks.measure import _import_setup, synthetic_indicators
    from localities.models import Locality
    from performance.catalogue import periods, services
    from performance.models import BreakdownCategory, BreakdownDimension, Indicator, IndicatorAssignment

    organisation, user, period = _import_setup()
    ashford = Locality.objects.get(gss_code="E07000105")
    dimension, _ = BreakdownDimension.objects.get_or_create(code="bench-age", defaults={"name": "Age band"})
    for order, (code, label) in enumerate(CATEGORIES):
        BreakdownCategory.objects.get_or_create(dimension=dimension, code=code, defaults={"label": label, "order": order})
    made = synthetic_indicators("LOAD", "Load measure", "the load benchmarks", indicators)
    Indicator.breakdown_dimensions.through.objects.bulk_create(
        [Indicator.breakdown_dimensions.through(indicator_id=i.pk, breakdowndimension_id=dimension.pk) for i in made])
    IndicatorAssignment.objects.bulk_create(
        [IndicatorAssignment(organisation=organisation, indicator=i, locality=ashford) for i in made])
    earlier = []
    year, number = 2030, 1
    for _ in range(HISTORY_QUARTERS):
        year, number = (year, number - 1) if number > 1 else (year - 1, 4)
        earlier.append(services.period_ensure(span=periods.quarter(year, number))[0].pk)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO performance_indicatorreturn (
                created_at, updated_at, organisation_id, period_id, commentary, state, return_reason, version,
                submitted_at, decided_at, indicator_id, locality_id, breakdown_id, value, numerator, denominator,
                confirmed_warnings)
            SELECT now(), now(), %(organisation)s, p, '', 'approved', '', 1, now(), now(), i.id, %(locality)s, NULL,
                   CASE WHEN i.aggregation = 'sum' THEN 100 + (i.id + p) %% 50 ELSE 40 + (i.id + p) %% 30 END,
                   CASE WHEN i.aggregation = 'ratio' THEN 400 + (i.id + p) %% 300 END,
                   CASE WHEN i.aggregation = 'ratio' THEN 1000 END, '[]'::jsonb
            FROM performance_indicator i CROSS JOIN unnest(%(periods)s) AS p
            WHERE i.code LIKE 'LOAD-%%'
            """,
            {"organisation": organisation.pk, "locality": ashford.pk, "periods": earlier},
        )
        cursor.execute("ANALYZE performance_indicatorreturn")
    return organisation, user, period, made


def _file(organisation, period, rows: int) -> tuple[bytes, int]:
    """Ashford's template for ``period`` filled in, cut to at most ``rows`` rows (between two returns)."""
    from django.test.utils import override_settings

    from benchmarks.measure import _filled_template

    with override_settings(RETURN_IMPORT_MAX_ROWS=rows):
        return _filled_template(organisation, period)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def officer_file(context, repeat: int, rows: int = OFFICER_ROWS) -> dict:
    """An officer's filled-in template of ``rows`` rows: preview (check) and confirm (save),
    each repetition rolled back, against COPY of exactly the rows the import wrote."""
    from django.db import transaction
    from django.test.utils import override_settings

    from benchmarks.measure import copy_ceiling
    from performance.returns import imports

    organisation, user, period, _ = context
    raw, count = _file(organisation, period, rows)
    previews, applies, totals, imported, copied, saved = [], [], [], [], [], 0
    with override_settings(RETURN_IMPORT_MAX_ROWS=max(rows, 5000), RETURN_IMPORT_MAX_BYTES=max(len(raw), 5 * 1024 * 1024)):
        for _ in range(repeat):
            with transaction.atomic():
                started = time.perf_counter()
                job = imports.import_preview(user=user, organisation=organisation, period=period, filename="load.csv",
                                             raw=raw)
                checked = time.perf_counter()
                job = imports.import_apply(user=user, job=job)
                done = time.perf_counter()
                if job.state != job.State.APPLIED:
                    raise RuntimeError(f"the benchmark upload was not applied: {[r for r in job.rows if r.get('errors')][:3]}")
                written = _copy_out(f"organisation_id = {int(organisation.pk)} AND period_id = {int(period.pk)}")
                transaction.set_rollback(True)
            previews.append(checked - started)
            applies.append(done - checked)
            totals.append(done - started)
            saved = written.count("\n")
            imported.append(saved / (done - started))
            copied.append(saved / copy_ceiling(written))
    return {"rows": count, "bytes": len(raw), "rows_saved": saved, "preview_seconds": previews,
            "apply_seconds": applies, "total_seconds": totals, "preview_p95": _p95(previews),
            "apply_p95": _p95(applies), "import_rows_per_second": imported, "copy_rows_per_second": copied}


def central_items(indicators, periods_: list, values: int) -> list[dict]:
    """Items of a central load (as ``exchange.services.returns_import`` hands them to the bulk
    entry) over Ashford's ``LOAD-`` slots in ``periods_``, until they carry ``values`` values:
    a count with its three age bands (which add up), or a percentage's numerator and denominator."""
    from performance.returns import validation

    items, carried, n = [], 0, 0
    for period in periods_:
        for indicator in indicators:
            if carried >= values:
                return items
            n += 1
            if indicator.unit == "percentage":
                figures = validation.IndicatorFigures(numerator=400 + n % 300, denominator=1000)
                breakdowns = {}
                carried += 1
            else:
                parts = [30 + n % 20, 40 + n % 10, 50 + n % 15]
                figures = validation.IndicatorFigures(value=sum(parts))
                breakdowns = {"bench-age:0-17": parts[0], "bench-age:18-64": parts[1], "bench-age:65+": parts[2]}
                carried += 4
            items.append({"indicator_code": indicator.code, "gss_code": "E07000105", "period_label": period.label,
                          "figures": figures, "breakdown_values": breakdowns, "expected_version": None, "submit": False})
    return items


def central_load(context, repeat: int, values: int = CENTRAL_VALUES) -> dict:
    """A central load of ``values`` values (a research team's quarter, or a DHIS2/SDMX import:
    the bulk entry ``exchange`` calls) into empty slots, rolled back after each run, against
    COPY of exactly the rows it wrote."""
    from django.db import transaction

    from benchmarks.measure import copy_ceiling
    from performance.catalogue import periods, services
    from performance.returns import bulk_entry

    organisation, user, _, indicators = context
    quarters = []
    for number in range(1, 5):
        period, _ = services.period_ensure(span=periods.quarter(2032, number))
        quarters.append(period if period.status == period.Status.OPEN else services.period_open(period=period))
    items = central_items(indicators, quarters, values)
    seconds, loaded, copied, saved = [], [], [], 0
    for _ in range(repeat):
        with transaction.atomic():
            started = time.perf_counter()
            bulk_entry.indicator_returns_save_by_codes(user=user, items=items)
            elapsed = time.perf_counter() - started
            written = _copy_out(f"period_id IN ({','.join(str(int(p.pk)) for p in quarters)})")
            transaction.set_rollback(True)
        saved = written.count("\n")
        seconds.append(elapsed)
        loaded.append(saved / elapsed)
        copied.append(saved / copy_ceiling(written))
    return {"items": len(items), "rows_saved": saved, "load_seconds": seconds, "load_rows_per_second": loaded,
            "copy_rows_per_second": copied}


def bulk_api(repeat: int, items: int = 5000) -> dict:
    """A ``items``-item POST to /api/v1/indicator-returns/bulk/ by a signed-in officer, as
    ``benchmarks.measure.bulk_write`` makes it (without its race), against COPY of the same rows."""
    from django.db import transaction
    from django.test import Client

    from benchmarks.measure import _bulk_items, _bulk_setup, copy_ceiling

    user, _, slots = _bulk_setup(items)
    client = Client()
    client.force_login(user)
    api, copied, saved = [], [], 0
    for n in range(repeat):
        body = json.dumps(_bulk_items(slots, n))
        with transaction.atomic():
            started = time.perf_counter()
            response = client.post("/api/v1/indicator-returns/bulk/", body, content_type="application/json")
            elapsed = time.perf_counter() - started
            if response.status_code != 201:
                raise RuntimeError(f"the benchmark bulk write was refused: {response.status_code} {response.content[:500]}")
            written = _copy_out("indicator_id IN (SELECT id FROM performance_indicator WHERE code LIKE 'BULK-%%')")
            transaction.set_rollback(True)
        saved = written.count("\n")
        api.append(saved / elapsed)
        copied.append(saved / copy_ceiling(written))
    return {"items": len(slots), "rows_saved": saved, "api_items_per_second": api, "copy_rows_per_second": copied}


def loads(repeat: int, steps: tuple[str, ...] = ("officer", "county", "central", "bulk")) -> dict:
    """Every load benchmark, in one transaction rolled back at the end (the synthetic slots go with it)."""
    from django.db import transaction

    result = {}
    with transaction.atomic():
        context = load_setup()
        if "officer" in steps:
            result["officer_file"] = officer_file(context, repeat)
        if "county" in steps:
            result["county_upload"] = officer_file(context, max(1, min(repeat, 3)), rows=COUNTY_ROWS)
        if "central" in steps:
            result["central_load"] = central_load(context, max(1, min(repeat, 3)))
        if "bulk" in steps:
            result["bulk_write"] = bulk_api(repeat)
        transaction.set_rollback(True)
    return result


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def markdown(result: dict) -> str:
    """The figures against the issue's targets, as a table."""
    lines = ["| Measure | Ours | Ceiling (COPY) | Ratio / p95 | Target | Met |", "|---|---|---|---|---|---|"]
    if officer := result.get("officer_file"):
        lines.append(f"| Officer's file, {officer['rows']:,} rows: preview | p95 {officer['preview_p95']:.2f} s | | | ≤ 1 s | "
                     f"{'yes' if officer['preview_p95'] <= 1 else 'no'} |")
        lines.append(f"| Officer's file, {officer['rows']:,} rows: confirm | p95 {officer['apply_p95']:.2f} s | | | ≤ 1 s | "
                     f"{'yes' if officer['apply_p95'] <= 1 else 'no'} |")
    if county := result.get("county_upload"):
        worst = max(county["total_seconds"])
        lines.append(f"| County quarter, {county['rows']:,} rows ({county['bytes'] / 1048576:.1f} MB), end to end | "
                     f"{worst:.2f} s (preview {max(county['preview_seconds']):.2f} s, confirm {max(county['apply_seconds']):.2f} s) "
                     f"| | | ≤ 10 s | {'yes' if worst <= 10 else 'no'} |")
    for key, label, ours_key, target in (("central_load", "Central load", "load_rows_per_second", 0.25),
                                         ("bulk_write", "Bulk API write", "api_items_per_second", 0.20)):
        if part := result.get(key):
            ours, ceiling = _median(part[ours_key]), _median(part["copy_rows_per_second"])
            ratio = ours / ceiling
            lines.append(f"| {label}, {part['rows_saved']:,} rows ({part['items']:,} items) | {ours:,.0f} rows/s | "
                         f"{ceiling:,.0f} rows/s | {ratio:.3f} | ≥ {target:.0%} of COPY | {'yes' if ratio >= target else 'no'} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.loads", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", nargs="*", default=["officer", "county", "central", "bulk"])
    parser.add_argument("--output", help="write the figures as JSON here")
    options = parser.parse_args(argv)
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "kentforum.settings.base", "DATABASE_URL": options.database_url,
        "REDIS_URL": options.redis_url, "DEBUG": "false", "CELERY_TASK_ALWAYS_EAGER": "true",
        "API_ANON_RATE": "1000000/min", "API_USER_RATE": "1000000/min",
    })
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    result = loads(options.repeat, tuple(options.only))
    if options.output:
        Path(options.output).write_text(json.dumps(result, indent=1))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
