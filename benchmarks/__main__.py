"""The benchmarks: ``python -m benchmarks run --values 10000000`` (see README, "Benchmarks").

``run`` makes two fresh PostgreSQL databases with the Kent framework and the demo set — a small
one (``--small-values``, ten thousand by default) and a large one (``--values``) — adds
synthetic approved values to each, measures each benchmark ``--repeat`` times against its
ceiling in the same run, and writes ``benchmarks/results.json`` and ``benchmarks/results.md``.
``generate`` and ``measure`` are its steps, run in a process of their own per database.

``browser`` measures the dashboards in headless Chromium (first render, every chart drawn,
bytes of script) against a running portal or, with ``--serve``, one it starts on a temporary
SQLite database, and writes ``benchmarks/results-browser.json`` and ``results-browser.md``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _django(database_url: str, redis_url: str) -> None:
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "kentforum.settings.base", "DATABASE_URL": database_url, "REDIS_URL": redis_url,
        "DEBUG": "false", "CELERY_TASK_ALWAYS_EAGER": "true", "API_ANON_RATE": "1000000/min",
        "API_USER_RATE": "1000000/min",  # the bulk write's 5,000 items count against the officer's rate
    })
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _env(database_url: str, redis_url: str) -> dict:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "kentforum.settings.base", "DATABASE_URL": database_url,
            "REDIS_URL": redis_url, "DEBUG": "false", "CELERY_TASK_ALWAYS_EAGER": "true",
            "API_ANON_RATE": "1000000/min", "API_USER_RATE": "1000000/min"}


def _psql(server: str, sql: str) -> None:
    import psycopg2

    connection = psycopg2.connect(server.rstrip("/") + "/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(sql)
    connection.close()


def _step(args: list[str], env: dict, log, quiet: bool = False) -> None:
    started = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL if quiet else None)
    log(f"  {' '.join(args[:3])} … {time.perf_counter() - started:.0f} s")


def _spread(values: list[float]) -> dict:
    import statistics

    return {"samples": [round(v, 6) for v in values], "median": round(statistics.median(values), 6),
            "min": round(min(values), 6), "max": round(max(values), 6)}


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def run(options) -> int:
    log = print
    server, redis_url = options.database_url.rstrip("/"), options.redis_url
    names = {"small": f"{options.prefix}_small", "large": f"{options.prefix}_large"}
    started = time.perf_counter()
    small_env = _env(f"{server}/{names['small']}", redis_url)
    saved = {scale: Path(tempfile.gettempdir()) / f"{names[scale]}-data.json" for scale in names}
    if not options.reuse:
        for name in names.values():
            _psql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _psql(server, f'CREATE DATABASE "{names["small"]}"')
        log("Setting up: migrate, the Kent framework and the demo set")
        _step(["manage.py", "migrate", "--noinput", "-v0"], small_env, log)
        _step(["manage.py", "load_kent_framework"], small_env, log, quiet=True)
        if not options.without_demo:
            _step(["manage.py", "load_demo"], small_env, log, quiet=True)  # quiet: it prints the demo passwords
        _psql(server, f'CREATE DATABASE "{names["large"]}" TEMPLATE "{names["small"]}"')
    parts = {}
    with tempfile.TemporaryDirectory() as tmp:
        for scale, values in (("small", options.small_values), ("large", options.values)):
            url = f"{server}/{names[scale]}"
            if not options.reuse:
                log(f"{scale}: generating {values:,} values")
                _step(["-m", "benchmarks", "generate", "--values", str(values), "--database-url", url,
                       "--redis-url", redis_url, "--output", str(saved[scale])], small_env, log)
            else:
                _step(["manage.py", "migrate", "--noinput", "-v0"], _env(url, redis_url), log)
            log(f"{scale}: measuring")
            _step(["-m", "benchmarks", "measure", "--scale", scale, "--database-url", url, "--redis-url", redis_url,
                   "--repeat", str(options.repeat), "--rollup-repeat", str(options.rollup_repeat or options.repeat),
                   "--items", str(options.api_items), "--latency-samples", str(options.latency_samples),
                   "--bulk-items", str(options.bulk_items),
                   "--output", f"{tmp}/{scale}.json", "--skip", "dashboards", "lists",
                   *(["--only", *options.only] if options.only else [])],
                  small_env, log)
            parts[scale] = {**json.loads(saved[scale].read_text()), **json.loads(Path(f"{tmp}/{scale}.json").read_text())}
        alternate = [step for step in ("dashboards", "lists") if options.only is None or step in options.only]
        if alternate:
            # The pages and lists at the two scales are compared, so they are measured in
            # alternate rounds: whatever else the machine is doing then weighs on both alike.
            log(f"{' and '.join(alternate)}: {options.repeat} alternate rounds at the two scales")
            for scale in names:
                for step in alternate:
                    parts[scale][step] = {}
            for round_ in range(options.repeat):
                for scale in names:
                    out = f"{tmp}/{scale}-alternate-{round_}.json"
                    _step(["-m", "benchmarks", "measure", "--scale", scale, "--database-url", f"{server}/{names[scale]}",
                           "--redis-url", redis_url, "--repeat", "1", "--output", out, "--only", *alternate],
                          small_env, log)
                    measured = json.loads(Path(out).read_text())
                    for url, page in measured.get("dashboards", {}).items():
                        kept = parts[scale]["dashboards"].setdefault(url, {"seconds": [], "queries": page["queries"]})
                        kept["seconds"] += page["seconds"]
                    for name, listed in measured.get("lists", {}).items():
                        kept = parts[scale]["lists"].setdefault(
                            name, {**listed, "first_page_seconds": [], "deep_page_seconds": []})
                        kept["first_page_seconds"] += listed["first_page_seconds"]
                        kept["deep_page_seconds"] += listed["deep_page_seconds"]
    earlier = None
    if options.only:  # the other steps' figures (and the scales) stay those of the run that --output holds
        earlier = json.loads(Path(options.output).read_text())
        parts = {scale: {**earlier["raw"][scale], **{k: v for k, v in parts[scale].items() if k in options.only}}
                 for scale in parts}
    if not options.keep:
        for name in names.values():
            _psql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    results = combine(parts, options, time.perf_counter() - started)
    if earlier is not None:  # say which run the figures come from, and what was measured again
        again = results["command"] + (" --reuse" if options.reuse else "") + " --only " + " ".join(options.only)
        remeasured = {"steps": options.only, "command": again, "platform": results["machine"]["platform"],
                      "when": results["machine"]["when"], "seconds": results["seconds"]}
        results.update({key: earlier[key] for key in ("command", "seconds", "machine")})
        results["remeasured"] = [*earlier.get("remeasured", []), remeasured]
    output = Path(options.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    table = markdown(results, browser_results=output.parent / "results-browser.json")
    output.with_suffix(".md").write_text(table)
    print(table)
    return 0


def combine(parts: dict, options, seconds: float) -> dict:
    import statistics

    large, small = parts["large"], parts["small"]
    rows = []

    def row(name, ours, ceiling, ratio, target, met, unit, note=""):
        rows.append({"benchmark": name, "ours": ours, "ceiling": ceiling, "ratio": round(ratio, 3), "target": target,
                     "met": bool(met), "unit": unit, "note": note})

    full = large["full_rollup"]
    r = statistics.median(full["rollup_seconds"]) / statistics.median(full["ceiling_seconds"])
    aggregate = statistics.median(full["ceiling_seconds"])
    floors = [floor["total"] for floor in full.get("finished_floor_seconds", [])]
    finished = (f"; the finished table alone (those rows copied, the summary's keys and indexes built, ANALYZE; "
                f"nothing computed) takes {statistics.median(floors):.1f} s, {statistics.median(floors) / aggregate:.1f}× "
                "the aggregate, the floor of any rebuild that materialises them" if floors else "")
    row("Full rollup of all values vs plain SUM … GROUP BY", _spread(full["rollup_seconds"]),
        _spread(full["ceiling_seconds"]), r, "≤ 10× (aim ≤ 3×)", r <= 10, "s",
        f"{full['approved_values']:,} approved values → {full['summary_rows']:,} summary rows; merely copying those "
        f"rows into a table without indexes takes {statistics.median(full['write_floor_seconds']):.1f} s{finished}")
    inc = large["incremental"]
    r = statistics.median(full["rollup_seconds"]) / statistics.median(inc["incremental_seconds"])
    row("Incremental rollup after one approval vs full rollup", _spread(inc["incremental_seconds"]),
        _spread(full["rollup_seconds"]), r, "≥ 100× cheaper", r >= 100, "s",
        f"{inc['slices_touched']} slices touched")
    if large.get("worker"):
        lat = large["worker"]["latency_seconds"]
        p95 = _p95(lat)
        rows.append({"benchmark": "Approval → dashboard through a real worker (p95)", "ours": _spread(lat),
                     "ceiling": None, "ratio": round(p95, 3), "target": "p95 ≤ 1 s", "met": p95 <= 1.0, "unit": "s",
                     "note": f"p50 {statistics.median(lat):.3f} s, p95 {p95:.3f} s over {len(lat)} approvals"})
    for url, big in large["dashboards"].items():
        little = small["dashboards"][url]
        r = statistics.median(big["seconds"]) / statistics.median(little["seconds"])
        row(f"Dashboard {url} at {large['values_in_database']:,} vs {small['values_in_database']:,} values",
            _spread(big["seconds"]), _spread(little["seconds"]), r, "≤ 1.5×", r <= 1.5, "s",
            f"{big['queries']} SQL queries (at the small scale {little['queries']})")
    for name, big in large.get("lists", {}).items():
        little = small["lists"][name]
        for which, key in (("first page", "first_page_seconds"), ("tenth page", "deep_page_seconds")):
            if not big[key] or not little[key]:
                continue  # fewer than ten pages at the small scale
            r = statistics.median(big[key]) / statistics.median(little[key])
            row(f"Filtered API list {name} ({which}) at {large['values_in_database']:,} vs "
                f"{small['values_in_database']:,} values", _spread(big[key]), _spread(little[key]), r, "≤ 1.5×",
                r <= 1.5, "s", f"/api/v1/rollups/ {big['params']}, {big['rows']} rows a page, {big['queries']} SQL "
                f"queries (at the small scale {little['queries']})")
    api = large["api"]
    r = statistics.median(api["api_items_per_second"]) / statistics.median(api["json_agg_items_per_second"])
    row("API list (1000-item JSON pages) vs json_agg", _spread(api["api_items_per_second"]),
        _spread(api["json_agg_items_per_second"]), r, "≥ 30%", r >= 0.30, "items/s", f"{api['items']:,} items a run")
    imp = large["import"]
    r = statistics.median(imp["import_rows_per_second"]) / statistics.median(imp["copy_rows_per_second"])
    row("CSV import (parse, validate, save, audit) vs COPY", _spread(imp["import_rows_per_second"]),
        _spread(imp["copy_rows_per_second"]), r, "≥ 50%", r >= 0.50, "rows/s",
        f"{imp['rows']:,} rows a file, {imp.get('rows_saved', imp['rows']):,} saved"
        + (f"; check and preview {statistics.median(imp['preview_seconds']):.2f} s, confirm and save "
           f"{statistics.median(imp['apply_seconds']):.2f} s" if imp.get("preview_seconds") else ""))
    if large.get("loads"):
        officer, county, central = (large["loads"][k] for k in ("officer_file", "county_upload", "central_load"))
        for which, key, p95 in (("preview", "preview_seconds", "preview_p95"), ("confirm", "apply_seconds", "apply_p95")):
            rows.append({"benchmark": f"Officer's CSV file of {officer['rows']:,} rows: {which} (p95)",
                         "ours": _spread(officer[key]), "ceiling": None, "ratio": round(officer[p95], 3),
                         "target": "p95 ≤ 1 s", "met": officer[p95] <= 1.0, "unit": "s",
                         "note": f"{officer['rows_saved']:,} returns saved; {len(officer[key])} runs"})
        worst = max(county["total_seconds"])
        rows.append({"benchmark": f"County quarter in one upload ({county['rows']:,} rows, "
                                  f"{county['bytes'] / 1048576:.1f} MB), preview and confirm",
                     "ours": _spread(county["total_seconds"]), "ceiling": None, "ratio": round(worst, 3),
                     "target": "≤ 10 s", "met": worst <= 10.0, "unit": "s",
                     "note": f"slowest run; preview {max(county['preview_seconds']):.2f} s, confirm "
                             f"{max(county['apply_seconds']):.2f} s"})
        r = statistics.median(central["load_rows_per_second"]) / statistics.median(central["copy_rows_per_second"])
        row(f"Central load of {central['rows_saved']:,} values ({central['items']:,} items, the bulk entry the "
            f"DHIS2 and SDMX imports use) vs COPY", _spread(central["load_rows_per_second"]),
            _spread(central["copy_rows_per_second"]), r, "≥ 25%", r >= 0.25, "rows/s",
            f"{statistics.median(central['load_seconds']):.1f} s a load")
    if large.get("bulk"):
        bulk = large["bulk"]
        r = statistics.median(bulk["api_items_per_second"]) / statistics.median(bulk["copy_rows_per_second"])
        row(f"Bulk API write ({bulk['items']:,} items: validate, check, save, audit, answer) vs COPY",
            _spread(bulk["api_items_per_second"]), _spread(bulk["copy_rows_per_second"]), r, "≥ 20%", r >= 0.20,
            "items/s", f"{bulk['rows_saved']:,} new returns a request; its write (COPY of returns and events) "
            f"{statistics.median(bulk['api_write_seconds']):.2f} s")
        per_thousand = [s / bulk["items"] * 1000 for s in bulk["race_write_seconds"]]
        r = statistics.median(per_thousand)
        row("Bulk write's statements (COPY, then row locks and UPDATE), per 1,000 items changed and submitted",
            _spread(per_thousand), None, r, "< 1 s", r < 1.0, "s",
            f"{bulk['items']:,} drafts changed and submitted in {statistics.median(bulk['race_bulk_seconds']):.2f} s "
            f"(check and write); stored rows are locked only for the part after the COPY")
        longest = bulk["officer_longest_wait_seconds"]
        r = max(longest)
        row(f"An officer's save racing that {bulk['items']:,}-item bulk write (longest wait)", _spread(longest), None, r,
            "< 3 s (DB_LOCK_TIMEOUT)", r < 3.0, "s",
            f"{bulk['officer_saves']:,} saves of one of its returns from another process while it ran; median save "
            f"{bulk['officer_median_save_seconds']:.3f} s")
    return {
        "command": " ".join(["python -m benchmarks run", f"--values {options.values}",
                             f"--small-values {options.small_values}", f"--repeat {options.repeat}",
                             f"--rollup-repeat {options.rollup_repeat or options.repeat}",
                             *(["--without-demo"] if options.without_demo else [])]),
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
                    "postgresql": large.get("postgresql"), "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())},
        "scales": {"small": {k: small[k] for k in ("values_in_database", "synthetic_values", "generation_seconds")},
                   "large": {k: large[k] for k in ("values_in_database", "synthetic_values", "generation_seconds")}},
        "seconds": round(seconds),
        "results": rows,
        "raw": parts,
    }


def _fmt(spread, unit) -> str:
    if spread is None:
        return "—"
    number = (lambda v: f"{v:,.0f}") if unit != "s" else (lambda v: f"{v:.3f}" if v < 10 else f"{v:.1f}")
    return f"{number(spread['median'])} ({number(spread['min'])}–{number(spread['max'])})"


def markdown(results: dict, browser_results: Path | None = None) -> str:
    """The results as a table; with ``browser_results`` (the browser benchmark's JSON beside the
    output, when there is one), its table and budgets too."""
    lines = [
        f"Run: `{results['command']}` on {results['machine']['platform']}, {results['machine']['cpus']} CPUs, "
        f"PostgreSQL {results['machine']['postgresql']}, {results['machine']['when']} ({results['seconds']} s in all).",
        "",
        *[f"Measured again: {', '.join(again['steps'])} with `{again['command']}`, {again['when']} "
          f"({again['seconds']} s)." for again in results.get("remeasured", [])],
        "",
        "| Benchmark | Ours: median (min–max) | Ceiling: median (min–max) | Unit | Ratio | Target | Met | Notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results["results"]:
        lines.append(f"| {r['benchmark']} | {_fmt(r['ours'], r['unit'])} | {_fmt(r['ceiling'], r['unit'])} | {r['unit']} "
                     f"| {r['ratio']} | {r['target']} | {'yes' if r['met'] else '**no**'} | {r['note']} |")
    if browser_results is not None and browser_results.exists():  # the browser's figures and budgets too (``python -m benchmarks browser --serve``)
        from benchmarks import browser

        lines += ["", browser.markdown(json.loads(browser_results.read_text())).rstrip("\n")]
    return "\n".join(lines) + "\n"


def generate_command(options) -> int:
    _django(options.database_url, options.redis_url)
    from benchmarks.generate import generate

    made = generate(options.values)
    Path(options.output).write_text(json.dumps(made))
    return 0


def measure_command(options) -> int:
    _django(options.database_url, options.redis_url)
    from django.db import connection

    from benchmarks import lists, loads, measure

    result, output = {}, Path(options.output)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        result["postgresql"] = cursor.fetchone()[0]
    steps = [("dashboards", lambda: measure.dashboards(options.repeat)),
             ("lists", lambda: lists.filtered_lists(options.repeat))]
    if options.scale == "large":
        steps += [
            ("incremental", lambda: measure.incremental_rollup(options.repeat)),
            ("api", lambda: measure.api_list(options.items, options.repeat)),
            ("import", lambda: measure.csv_import(min(options.repeat, 2))),
            ("bulk", lambda: measure.bulk_write(min(options.repeat, 3), options.bulk_items)),
            # an officer's file (p95), a county quarter in one upload, a central load of 100,000 values
            ("loads", lambda: loads.loads(max(options.repeat, 3), ("officer", "county", "central"))),
        ]
        if options.latency_samples:
            steps.append(("worker", lambda: measure.worker_latency(options.latency_samples, options.database_url)))
    full = ("full_rollup", lambda: measure.full_rollup(options.rollup_repeat))
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM performance_indicatorrollup)")
        rolled_up = cursor.fetchone()[0]
    # The pages need the summary tables: roll up first unless they are there already (--reuse),
    # in which case the long full rollup runs last.
    steps = [*steps, full] if rolled_up else [full, *steps]
    if options.only or options.skip:
        steps = [step for step in steps if step[0] in (options.only or [name for name, _ in steps])
                 and step[0] not in (options.skip or [])]
        needs_summary = {"dashboards", "lists", "incremental", "worker"} & {name for name, _ in steps}
        if not rolled_up and full not in steps and needs_summary:  # the pages and the increments need them
            from performance.rollups import engine  # after django.setup()

            engine.rebuild_all()
    output.write_text(json.dumps(result))
    for name, step in steps:
        result[name] = step()
        output.write_text(json.dumps(result))  # what is measured is kept even if a later step fails
    return 0


def browser_command(options) -> int:
    from benchmarks import browser

    return browser.run(options)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8"))

    run_parser = commands.add_parser("run", parents=[common], help="generate, measure and write the results")
    run_parser.add_argument("--values", type=int, default=10_000_000)
    run_parser.add_argument("--small-values", type=int, default=10_000)
    run_parser.add_argument("--repeat", type=int, default=5)
    run_parser.add_argument("--rollup-repeat", type=int, default=None, help="repetitions of the full rollup (default --repeat)")
    run_parser.add_argument("--api-items", type=int, default=100_000)
    run_parser.add_argument("--latency-samples", type=int, default=20)
    run_parser.add_argument("--bulk-items", type=int, default=5000, help="items of the bulk write (at most 5,000)")
    run_parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/"),
                            help="the PostgreSQL server (databases are made on it)")
    run_parser.add_argument("--prefix", default="kfbench", help="names of the two databases made")
    run_parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results.json"))
    run_parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    run_parser.add_argument("--without-demo", action="store_true",
                            help="the framework and synthetic values only (the CI smoke run: quicker, emptier pages)")
    run_parser.add_argument("--only", nargs="*", default=None,
                            help="with --reuse: measure only these steps (e.g. dashboards) at both scales, back to "
                                 "back, and update the results already in --output")
    run_parser.add_argument("--reuse", action="store_true",
                            help="measure again the databases a run with --keep left (no setup or generation)")

    generate_parser = commands.add_parser("generate", parents=[common])
    generate_parser.add_argument("--values", type=int, required=True)
    generate_parser.add_argument("--database-url", required=True)
    generate_parser.add_argument("--output", required=True)

    measure_parser = commands.add_parser("measure", parents=[common])
    measure_parser.add_argument("--scale", choices=["small", "large"], required=True)
    measure_parser.add_argument("--database-url", required=True)
    measure_parser.add_argument("--repeat", type=int, default=5)
    measure_parser.add_argument("--rollup-repeat", type=int, default=5)
    measure_parser.add_argument("--items", type=int, default=100_000)
    measure_parser.add_argument("--latency-samples", type=int, default=20)
    measure_parser.add_argument("--bulk-items", type=int, default=5000, help="items of the bulk write (at most 5,000)")
    measure_parser.add_argument("--output", required=True)
    measure_parser.add_argument("--only", nargs="*", default=None, help="measure only these steps")
    measure_parser.add_argument("--skip", nargs="*", default=None, help="measure all steps but these")

    browser_parser = commands.add_parser("browser", help="the dashboards in headless Chromium: first render, "
                                         "every chart drawn, bytes of script")
    browser_parser.add_argument("--url", default="http://127.0.0.1:8000", help="a running portal with the demo set")
    browser_parser.add_argument("--serve", action="store_true",
                                help="start a portal on a temporary SQLite database (the framework and the demo set, "
                                     "DEBUG off, static files collected) instead of --url, and stop it afterwards")
    browser_parser.add_argument("--repeat", type=int, default=5, help="cold visits of each page")
    browser_parser.add_argument("--chromium", default=os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium")
    browser_parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results-browser.json"))
    browser_parser.add_argument("--baseline", default=None,
                                help="an earlier run's JSON whose figures are kept beside these as \"Before\"")
    browser_parser.add_argument("--baseline-url", default=None,
                                help="a second running portal (e.g. the code before a change, on the same data) "
                                     "measured in alternate rounds with this one and kept as \"Before\"")
    browser_parser.add_argument("--baseline-note", default="", help="what the baseline was (e.g. the commit)")

    options = parser.parse_args(argv)
    return {"run": run, "generate": generate_command, "measure": measure_command,
            "browser": browser_command}[options.command](options)


if __name__ == "__main__":
    sys.exit(main())
