"""Concurrent officers over HTTP against gunicorn on PostgreSQL: 16 officers (KF_CONCURRENCY_CLIENTS),
each with their own signed-in session, each making 30 edits by default (KF_CONCURRENCY_EDITS=100
for the full run) to the same three returns, half of
them through the browser's return form (POST with its version field) and half through the API
(GET, then PATCH with the version read). Every edit reads the return and writes it back, as an
officer or a partner system does; edits collide and are refused.

Proved: no lost update. Every accepted edit (the form's redirect, the API's 200) is in the audit
trail exactly once, with the values sent, the sender as actor and the next version; every refused
one was told 409 (the form showing the conflict page, the API the current version) and left no
trace; nothing else happened (no 5xx, no 400); the audit trail of each return is an unbroken chain
from its starting version whose replay gives the stored values, and the version is the starting
version plus the accepted edits.

The figures (edits attempted, accepted, refused with 409, lost, elapsed, edits/s) are printed and
written to ``concurrent_officers.json`` in the test's tmp dir, before the assertions, so a failing
run reports them too.
"""
from __future__ import annotations

import json
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal

import pytest

from tests.conftest import requires_postgres, requires_redis

from .conftest import CONCURRENCY_CLIENTS as CLIENTS
from .conftest import CONCURRENCY_EDITS as EDITS
from .conftest import GUNICORN_THREADS, GUNICORN_WORKERS, Browser

pytestmark = [pytest.mark.slow, pytest.mark.postgres, requires_postgres, requires_redis]
VERSION_INPUT = "<input type=\"hidden\" name=\"version\" value=\""


@dataclass
class Attempt:
    client: int
    seq: int
    door: str  # "form" or "api"
    pk: int
    sent_version: int
    value: Decimal
    commentary: str
    status: int
    outcome: str  # "accepted", "refused" or "other"
    seconds: float
    answer_version: int | None = None
    detail: str = ""


def _form_version(html: str) -> int:
    start = html.index(VERSION_INPUT) + len(VERSION_INPUT)
    return int(html[start:html.index('"', start)])


def _edit_by_form(browser: Browser, path: str, attempt: dict) -> Attempt:
    page = browser.get(path)
    assert page.status_code == 200, page.status_code
    version = _form_version(page.text)
    started = time.perf_counter()
    response = browser.post(path, {"value": str(attempt["value"]), "commentary": attempt["commentary"],
                                   "version": str(version), "action": "save"})
    seconds = time.perf_counter() - started
    if response.status_code == 302 and response.headers["Location"] == path:
        outcome = "accepted"
    elif response.status_code == 409 and 'id="conflict"' in response.text and "Someone else changed this return" in response.text:
        outcome = "refused"
    else:
        outcome = "other"
    return Attempt(**attempt, door="form", sent_version=version, status=response.status_code, outcome=outcome,
                   seconds=seconds, detail=response.text[-500:] if outcome == "other" else "")


def _edit_by_api(browser: Browser, url: str, attempt: dict) -> Attempt:
    read = browser.api("GET", url)
    assert read.status_code == 200, read.status_code
    version = read.json()["version"]
    started = time.perf_counter()
    response = browser.api("PATCH", url, json={"value": str(attempt["value"]), "commentary": attempt["commentary"],
                                               "version": version})
    seconds = time.perf_counter() - started
    body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
    if response.status_code == 200:
        outcome, answer = "accepted", body.get("version")
    elif response.status_code == 409 and "current" in body:
        outcome, answer = "refused", body["current"]["version"]
    else:
        outcome, answer = "other", None
    return Attempt(**attempt, door="api", sent_version=version, status=response.status_code, outcome=outcome,
                   seconds=seconds, answer_version=answer, detail=response.text[-500:] if outcome == "other" else "")


def test_concurrent_officers_lose_no_update(deployment, tmp_path, record_property):
    seeded = deployment.seeded
    officers = seeded["officers"][:CLIENTS]
    assert len(officers) == CLIENTS, "the deployment made an officer for every client"
    drafts = seeded["drafts"]
    pks = [d["pk"] for d in drafts]
    paths = {d["pk"]: f"/returns/{seeded['period_id']}/indicators/{d['code']}/{seeded['gss_code']}/" for d in drafts}
    users = dict(deployment.sql("SELECT username, id FROM auth_user WHERE username = ANY(%s)", [officers]))
    start = {pk: (version, value, commentary) for pk, version, value, commentary in deployment.sql(
        "SELECT id, version, value, commentary FROM performance_indicatorreturn WHERE id = ANY(%s)", [pks])}
    first_event = deployment.sql("SELECT coalesce(max(id), 0) FROM performance_returnevent")[0][0]

    # Every officer signs in (successfully: a lockout would be a failure of the test) in parallel.
    browsers = [Browser(deployment) for _ in officers]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda pair: pair[0].sign_in(pair[1]), zip(browsers, officers)))
    for browser in browsers:
        assert browser.get("/returns/").status_code == 200  # a fresh CSRF token after the sign-in

    barrier = threading.Barrier(len(browsers))
    results: list[list[Attempt]] = [[] for _ in browsers]

    def client(index: int) -> None:
        browser, door = browsers[index], ("form" if index % 2 == 0 else "api")
        barrier.wait(timeout=120)
        for seq in range(EDITS):
            pk = pks[(index + seq) % len(pks)]
            attempt = {"client": index, "seq": seq, "pk": pk, "value": Decimal(1_000_000 + index * 10_000 + seq),
                       "commentary": f"officer {index:02d} edit {seq:04d}"}
            if door == "form":
                results[index].append(_edit_by_form(browser, paths[pk], attempt))
            else:
                results[index].append(_edit_by_api(browser, f"/api/v1/indicator-returns/{pk}/", attempt))

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(browsers)) as pool:
        for future in [pool.submit(client, i) for i in range(len(browsers))]:
            future.result()
    elapsed = time.perf_counter() - started
    attempts = [a for per_client in results for a in per_client]
    accepted = [a for a in attempts if a.outcome == "accepted"]
    refused = [a for a in attempts if a.outcome == "refused"]
    others = [a for a in attempts if a.outcome == "other"]

    # The audit trail of these returns since the start, each return's events in version order.
    events = deployment.sql(
        "SELECT id, indicator_return_id, actor_id, action, from_state, to_state, version, changes "
        "FROM performance_returnevent WHERE id > %s ORDER BY indicator_return_id, version, id", [first_event])
    events_of: dict[str, list] = {}
    for event in events:
        events_of.setdefault((event[7].get("commentary") or [None, None])[1], []).append(event)
    # Lost: an accepted edit with no event of its own in the trail, or whose event does not say what was sent.
    lost = [a for a in accepted if len(events_of.get(a.commentary, [])) != 1
            or Decimal(events_of[a.commentary][0][7]["value"][1]) != a.value]
    final = {pk: (version, value, commentary) for pk, version, value, commentary in deployment.sql(
        "SELECT id, version, value, commentary FROM performance_indicatorreturn WHERE id = ANY(%s)", [pks])}

    latencies = sorted(a.seconds for a in attempts) or [0.0]
    figures = {
        "clients": len(browsers), "edits per client": EDITS, "returns edited": len(pks),
        "doors": "browser form (session, CSRF) for even clients, API PATCH (session, CSRF) for odd clients",
        "gunicorn": f"{GUNICORN_WORKERS} workers x {GUNICORN_THREADS} threads",
        "edits attempted": len(attempts), "accepted": len(accepted), "refused (409)": len(refused),
        "other answers": len(others), "audit events": len(events), "lost": len(lost),
        "accepted by form / api": [sum(a.door == "form" for a in accepted), sum(a.door == "api" for a in accepted)],
        "refused by form / api": [sum(a.door == "form" for a in refused), sum(a.door == "api" for a in refused)],
        "write p50 (ms)": round(statistics.median(latencies) * 1000),
        "write p95 (ms)": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000),
        "elapsed (s)": round(elapsed, 1), "edits/s": round(len(attempts) / elapsed, 1),
        "accepted/s": round(len(accepted) / elapsed, 1),
    }
    (tmp_path / "concurrent_officers.json").write_text(json.dumps(figures, indent=2))
    print(f"\nConcurrent officers ({tmp_path / 'concurrent_officers.json'}): "
          + "; ".join(f"{k}: {v}" for k, v in figures.items()))
    for key, value in figures.items():
        record_property(key, value)

    # Every attempt was either accepted or refused with 409 (the conflict page, or the API's current version).
    assert not others, [(a.door, a.status, a.detail) for a in others[:5]]
    assert len(attempts) == len(browsers) * EDITS == len(accepted) + len(refused)
    assert accepted and refused, "the edits collided (and some got through)"
    assert all(a.status == 409 for a in refused)
    assert all(a.answer_version == a.sent_version + 1 for a in accepted if a.door == "api")
    assert all(a.answer_version > a.sent_version for a in refused if a.door == "api"), "a refusal names a newer version"

    # The audit trail: every accepted edit exactly once, as sent, by its officer; no refused edit; nothing else.
    assert not lost, [(a.door, a.commentary, len(events_of.get(a.commentary, []))) for a in lost[:5]]
    assert all(e[3] == "saved" and e[1] in start for e in events), Counter((e[3], e[1]) for e in events)
    assert len(events) == len(accepted), f"{len(events)} events for {len(accepted)} accepted edits"
    for a in accepted:
        event = events_of[a.commentary][0]
        assert event[1] == a.pk and event[2] == users[officers[a.client]]
        assert event[6] == a.sent_version + 1, "the edit made the next version of the one the officer read"
    assert not {a.commentary for a in refused} & set(events_of), "a refused edit left a trace"

    # Replaying each return's trail from its starting values gives what is stored now.
    for pk in pks:
        version, value, commentary = start[pk]
        for _, _, _, _, from_state, to_state, event_version, changes in (e for e in events if e[1] == pk):
            assert event_version == version + 1, f"return {pk}: a gap or a fork in the versions"
            assert Decimal(changes["value"][0]) == value and changes["commentary"][0] == commentary, (
                f"return {pk} v{event_version}: the edit did not start from the stored values (a lost update)")
            version, value, commentary = event_version, Decimal(changes["value"][1]), changes["commentary"][1]
            assert from_state == to_state == "draft"
        assert final[pk] == (version, value, commentary), f"return {pk}: replay {version, value, commentary} != {final[pk]}"
        assert final[pk][0] == start[pk][0] + sum(1 for a in accepted if a.pk == pk)
