"""The dashboards in a real browser: ``python -m benchmarks browser`` (README, "Browser performance").

Headless Chromium (Debian's package, driven by Playwright) opens the Kent Forum page, Ambition
Board 1 and Ashford's Locality Board ``--repeat`` times each, every visit in a fresh browser
context (a cold cache), against a running portal (``--url``) or one it starts itself on a
temporary SQLite database with the Kent framework and the demo set (``--serve``). Each visit
measures, from the navigation's start:

- the first render: ``first-contentful-paint`` from the Performance API;
- every chart drawn: the page is scrolled to the bottom one screen a frame, as a quick reader
  would, until every ``.kf-chart`` carries ``kf-chart--drawn`` and Plotly's ``.main-svg``;
- the bytes: of script (transferred and decoded) and of everything transferred (the document
  and every resource in ``performance.getEntriesByType('resource')``).

It writes ``benchmarks/results-browser.json`` and ``benchmarks/results-browser.md``.
"""
from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ASHFORD = "E07000105"  # Ashford's GSS code (data/kent_framework/localities.yaml)
PAGES = [
    ("Kent Forum", "/dashboards/"),
    ("Ambition Board 1", "/dashboards/ambitions/1/"),
    ("Ashford's Locality Board", f"/dashboards/localities/{ASHFORD}/"),
]
# The budgets. Times depend on the machine; the script the browser must parse does not.
FIRST_RENDER_MS = 1000
ALL_CHARTS_MS = 2000
SCRIPT_BYTES = 1_500_000  # decoded (what the browser parses and compiles), 1.5 MB
METRICS = ("first_render_ms", "all_charts_ms", "script_bytes", "script_bytes_transferred", "total_bytes_transferred")

# Scroll one screen a frame to the bottom, then wait (a frame at a time) until every chart is drawn.
SCROLL_AND_WAIT = """async (timeoutMs) => {
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
  const charts = () => document.querySelectorAll(".kf-chart").length;
  const drawn = () => Array.from(document.querySelectorAll(".kf-chart.kf-chart--drawn"))
    .filter((chart) => chart.querySelector(".main-svg")).length;
  const deadline = performance.now() + timeoutMs;
  while (window.scrollY + window.innerHeight < document.documentElement.scrollHeight - 1) {
    window.scrollBy(0, window.innerHeight);
    await frame();
    if (performance.now() > deadline) { return null; }
  }
  while (drawn() < charts()) {
    if (performance.now() > deadline) { return null; }
    await frame();
  }
  return {ms: performance.now(), charts: charts()};
}"""

MEASURE = """async () => {
  const paint = () => performance.getEntriesByName("first-contentful-paint")[0];
  for (let i = 0; i < 100 && !paint(); i++) { await new Promise((r) => setTimeout(r, 20)); }
  const nav = performance.getEntriesByType("navigation")[0];
  const resources = performance.getEntriesByType("resource");
  const size = (e) => e.transferSize || e.encodedBodySize || 0;
  const sum = (list, f) => list.reduce((total, e) => total + f(e), 0);
  const scripts = resources.filter((e) => e.initiatorType === "script" || /\\.js(\\?|$)/.test(e.name));
  return {
    first_render_ms: paint() ? paint().startTime : null,
    script_bytes: sum(scripts, (e) => e.decodedBodySize || 0),
    script_bytes_transferred: sum(scripts, size),
    total_bytes_transferred: size(nav) + sum(resources, size),
    scripts: scripts.map((e) => e.name.replace(location.origin, "")),
    requests: resources.length + 1,
  };
}"""


def _spread(values: list[float]) -> dict:
    return {"samples": [round(v, 1) for v in values], "median": round(statistics.median(values), 1),
            "min": round(min(values), 1), "max": round(max(values), 1)}


def visit(browser, url: str, timeout_ms: int = 60_000) -> dict:
    """One visit with a cold cache: a fresh context is a fresh profile."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        response = page.goto(url, wait_until="domcontentloaded", timeout=timeout_ms)
        if response is None or response.status != 200:
            raise RuntimeError(f"{url} answered {response.status if response else 'nothing'}")
        done = page.evaluate(SCROLL_AND_WAIT, timeout_ms)
        if done is None:
            raise RuntimeError(f"{url}: not every chart was drawn within {timeout_ms} ms ({errors})")
        page.wait_for_load_state("load", timeout=timeout_ms)
        measured = page.evaluate(MEASURE)
        if measured["first_render_ms"] is None:
            raise RuntimeError(f"{url}: no first-contentful-paint entry")
        return {**measured, "all_charts_ms": done["ms"], "charts": done["charts"], "errors": errors}
    finally:
        context.close()


def measure(urls: dict, repeat: int, chromium: str = CHROMIUM, log=print) -> dict:
    """Each page of each portal in ``urls`` ({label: base URL}) ``repeat`` times, in alternate rounds
    (page after page, portal after portal), so that the machine's load weighs on all alike."""
    from playwright.sync_api import sync_playwright

    visits = {label: {name: [] for name, _ in PAGES} for label in urls}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        try:
            for base_url in urls.values():  # a first visit warms the server, not the browser
                visit(browser, base_url.rstrip("/") + PAGES[0][1])
            for _ in range(repeat):
                for label, base_url in urls.items():
                    for name, path in PAGES:
                        visits[label][name].append(visit(browser, base_url.rstrip("/") + path))
        finally:
            browser.close()
    measured = {}
    for label in urls:
        pages = measured[label] = {}
        for name, path in PAGES:
            runs = visits[label][name]
            pages[name] = {"path": path, "charts": runs[0]["charts"], "requests": runs[0]["requests"],
                           "scripts": runs[0]["scripts"], "errors": sorted({e for r in runs for e in r["errors"]}),
                           **{metric: _spread([r[metric] for r in runs]) for metric in METRICS}}
            log(f"  {label}: {name}: first render {pages[name]['first_render_ms']['median']:.0f} ms, every chart "
                f"{pages[name]['all_charts_ms']['median']:.0f} ms ({pages[name]['charts']} charts), script "
                f"{pages[name]['script_bytes']['median'] / 1e6:.2f} MB, transferred "
                f"{pages[name]['total_bytes_transferred']['median'] / 1e6:.2f} MB")
    return measured


def budgets(page: dict) -> dict:
    return {
        "first_render_ms": page["first_render_ms"]["median"] < FIRST_RENDER_MS,
        "all_charts_ms": page["all_charts_ms"]["median"] < ALL_CHARTS_MS,
        "script_bytes": page["script_bytes"]["max"] < SCRIPT_BYTES,
    }


# The portal on a temporary SQLite database, as in production: DEBUG off, static files collected
# (compressed, with hashed names) and served by WhiteNoise.
SETTINGS = """from kentforum.settings.base import *  # noqa: F401,F403
from pathlib import Path

DEBUG = False
STATIC_ROOT = Path({static!r})
STORAGES = {{
    "default": {{"BACKEND": "django.core.files.storage.FileSystemStorage"}},
    "staticfiles": {{"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}},
}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(log=print):
    with tempfile.TemporaryDirectory(prefix="kfbrowser-") as tmp:
        Path(tmp, "kfbrowser_settings.py").write_text(SETTINGS.format(static=f"{tmp}/static"))
        env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
        env.update({"DJANGO_SETTINGS_MODULE": "kfbrowser_settings", "PYTHONPATH": os.pathsep.join([tmp, str(ROOT)]),
                    "DATABASE_URL": f"sqlite:///{tmp}/portal.sqlite3", "DEBUG": "false",
                    "CELERY_TASK_ALWAYS_EAGER": "true"})
        for args in (["migrate", "--noinput", "-v0"], ["load_kent_framework"], ["load_demo", "--reset-passwords"],
                     ["collectstatic", "--noinput", "-v0"]):
            started = time.perf_counter()
            # quiet: load_demo prints the demo passwords
            subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
                           stdout=subprocess.DEVNULL)
            log(f"  manage.py {args[0]} … {time.perf_counter() - started:.0f} s")
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        server_log = Path(tmp, "server.log")
        server = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=server_log.open("w"))
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(url + "/healthz", timeout=2)
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("the portal did not start") from None
                    time.sleep(0.3)
            log(f"  serving on {url} (DEBUG off, WhiteNoise)")
            yield url
        except Exception:
            print(f"The portal's log:\n{server_log.read_text()[-5000:]}", file=sys.stderr)
            raise
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


def run(options, log=print) -> int:
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        if options.serve:
            log("Setting up a portal on a temporary SQLite database: migrate, the Kent framework, the demo set")
            url = stack.enter_context(serve(log))
        else:
            url = options.url
        urls = {"ours": url, **({"before": options.baseline_url} if options.baseline_url else {})}
        log(f"Measuring {len(PAGES)} pages × {options.repeat} cold visits in headless Chromium"
            + (" in alternate rounds with --baseline-url" if options.baseline_url else ""))
        measured = measure(urls, options.repeat, options.chromium, log)
        pages = measured["ours"]
    results = {
        "command": "python -m benchmarks browser " + ("--serve" if options.serve else f"--url {options.url}")
                   + f" --repeat {options.repeat}"
                   + (" --baseline-url …" if options.baseline_url else ""),
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
                    "chromium": _chromium_version(options.chromium),
                    "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())},
        "seconds": round(time.perf_counter() - started),
        "budgets": {"first_render_ms": FIRST_RENDER_MS, "all_charts_ms": ALL_CHARTS_MS, "script_bytes": SCRIPT_BYTES},
        "pages": {name: {**page, "met": budgets(page)} for name, page in pages.items()},
    }
    if options.baseline_url:
        results["baseline"] = {"command": f"--baseline-url {options.baseline_url}, in the same run",
                               "machine": results["machine"],
                               "pages": {name: {**page, "met": budgets(page)} for name, page in measured["before"].items()}}
    elif options.baseline:
        baseline = json.loads(Path(options.baseline).read_text())
        results["baseline"] = {k: baseline[k] for k in ("command", "machine", "pages")}
    if results.get("baseline") and options.baseline_note:
        results["baseline"]["note"] = options.baseline_note
    output = Path(options.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    table = markdown(results)
    output.with_suffix(".md").write_text(table)
    embed_in_results(table, output.parent / "results.md")
    print(table)
    return 0


RESULTS_MARK = "## Browser"


def embed_in_results(table: str, results_md: Path) -> None:
    """Put the browser's table in ``results.md`` too, after the server's (replacing an earlier
    one), so that one file holds every benchmark's figures and budgets."""
    if not results_md.exists():
        return
    text = results_md.read_text()
    kept = text.split(RESULTS_MARK, 1)[0].rstrip("\n")
    kept = "\n".join(line for line in kept.splitlines() if not line.startswith("The dashboards in a browser"))
    results_md.write_text(kept.rstrip("\n") + "\n\n" + table)


def _chromium_version(chromium: str) -> str | None:
    try:
        return subprocess.run([chromium, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except OSError:
        return None


def _ms(spread) -> str:
    return f"{spread['median']:,.0f} ({spread['min']:,.0f}–{spread['max']:,.0f})"


def _mb(spread) -> str:
    return f"{spread['median'] / 1e6:.2f}"


def _rows(pages: dict, with_met: bool) -> list[str]:
    lines = []
    for name, page in pages.items():
        met = page.get("met") or budgets(page)
        mark = (lambda key: " " + ("✓" if met[key] else "**✗**")) if with_met else (lambda key: "")
        lines.append(f"| {name} (`{page['path']}`) | {page['charts']} | {_ms(page['first_render_ms'])}{mark('first_render_ms')} "
                     f"| {_ms(page['all_charts_ms'])}{mark('all_charts_ms')} | {_mb(page['script_bytes'])}{mark('script_bytes')} "
                     f"| {_mb(page['script_bytes_transferred'])} | {_mb(page['total_bytes_transferred'])} |")
    return lines


HEADER = ["| Page | Charts | First render, ms: median (min–max) | Every chart drawn, ms | Script, MB (decoded) "
          "| Script, MB transferred | All transferred, MB |", "|---|---|---|---|---|---|---|"]


def markdown(results: dict) -> str:
    lines = [
        "## Browser",
        "",
        f"Run: `{results['command']}` on {results['machine']['platform']}, {results['machine']['cpus']} CPUs, "
        f"{results['machine']['chromium']} (headless), {results['machine']['when']} ({results['seconds']} s in all).",
        "Every visit with a cold cache, 1280×800, times from the navigation's start. Budgets: first render under "
        f"{FIRST_RENDER_MS / 1000:g} s and every chart drawn (scrolled to the bottom) under {ALL_CHARTS_MS / 1000:g} s "
        f"(medians), under {SCRIPT_BYTES / 1e6:g} MB of script (decoded, every visit); ✓ met, ✗ not met.",
        "",
        *HEADER,
        *_rows(results["pages"], with_met=True),
    ]
    if results.get("baseline"):
        base = results["baseline"]
        lines += ["", f"Before (`{base['command']}`, {base['machine']['when']}"
                  + (f"; {base['note']}" if base.get("note") else "") + "):", "", *HEADER,
                  *_rows(base["pages"], with_met=True)]
    return "\n".join(lines) + "\n"
