"""The production topology without Docker, end to end over HTTP: an officer signs in and submits
a return, the approver approves it, the worker rolls it up and the board dashboard shows it;
/healthz reports the database, Redis and the worker, and the worker going down."""
import re
import time

import pytest
import requests

from tests.conftest import requires_postgres, requires_redis

pytestmark = [pytest.mark.slow, pytest.mark.postgres, requires_postgres, requires_redis]


def test_a_return_submitted_and_approved_reaches_the_board_dashboard(deployment, browser, record_property):
    seeded = deployment.seeded
    topo = seeded["topology_indicator"]
    page = f"/returns/{seeded['period_id']}/indicators/{topo['code']}/{seeded['gss_code']}/"
    dashboard = f"/dashboards/ambitions/{topo['ambition']}/"

    # Production answers plain HTTP without the proxy's header with a redirect to HTTPS.
    plain = requests.get(deployment.base + "/", allow_redirects=False, timeout=30)
    assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")

    before = browser().get(dashboard)
    assert before.status_code == 200
    # WhiteNoise serves the collected files under their manifest (hashed) names.
    stylesheet = re.search(r'href="(/static/build/portal\.[0-9a-f]{12}\.css)"', before.text).group(1)
    css = requests.get(deployment.base + stylesheet, headers={"X-Forwarded-Proto": "https"}, timeout=30)
    assert css.status_code == 200 and "max-age" in css.headers["Cache-Control"] and len(css.content) > 1000
    card = _card(before.text, topo["code"])
    assert "No approved figures yet" in card and "43.2" not in card, card

    officer = browser()
    officer.sign_in(seeded["officers"][0])
    form = officer.get(page)
    assert form.status_code == 200 and 'name="numerator"' in form.text, form.status_code
    submitted = officer.post(page, {
        "numerator": "4321", "denominator": "10000", "commentary": "Deployment check: figures from the waste system.",
        "version": "", "action": "submit", "confirm_warnings": "on",
    })
    assert submitted.status_code == 302, (submitted.status_code, submitted.text[-3000:])
    assert submitted.headers["Location"].endswith("/returns/")
    assert "Submitted" in officer.get(page).text

    approver = browser()
    approver.sign_in(seeded["approver"])
    queue = approver.get("/approvals/")
    assert queue.status_code == 200 and topo["name"] in queue.text
    to_decide = approver.get(page).text
    approve_url = next(url for url in _form_actions(to_decide) if url.endswith("/approve/"))
    version = _input_after(to_decide, approve_url, "version")
    approved = approver.post(approve_url, {"version": version})
    assert approved.status_code == 302 and approved.headers["Location"].endswith("/approvals/"), approved.status_code
    approved_at = time.monotonic()
    assert deployment.sql(
        "SELECT state FROM performance_indicatorreturn r JOIN performance_indicator i ON i.id = r.indicator_id "
        "WHERE i.code = %s AND r.breakdown_id IS NULL", [topo["code"]],
    ) == [("approved",)]

    # The worker rolls the approved return up; the board dashboard changes (anyone may see it).
    reader = browser()
    deadline = approved_at + 60
    polls = 0
    while True:
        polls += 1
        html = reader.get(dashboard).text
        if "43.2" in _card(html, topo["code"]):
            break
        assert time.monotonic() < deadline, f"the dashboard did not change within 60 s\n{deployment.logs()}"
        time.sleep(0.1)
    seconds = time.monotonic() - approved_at
    print(f"\nTopology: approved return on the board dashboard after {seconds:.2f} s ({polls} polls); "
          f"deployment set up in {deployment.setup_seconds} s {deployment.setup_steps}")
    record_property("dashboard_seconds", round(seconds, 2))
    worker_log = deployment.processes["worker"].tail(200_000)
    assert re.search(r"performance\.tasks\.rollup_slices_task\[[^]]+\] succeeded", worker_log), "the worker, not the web, rolled it up"


def test_healthz_reports_each_component_and_the_worker_going_down(deployment):
    status, body = deployment.healthz()
    assert status == 200 and body == {"status": "ok", "database": "ok", "redis": "ok", "worker": "ok"}, body

    worker = deployment.processes["worker"]
    worker.stop()
    try:
        deadline = time.monotonic() + 30  # the ping's answer is cached for a few seconds
        while True:
            status, body = deployment.healthz()
            if status == 503 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert status == 503, body
        assert body == {"status": "unavailable", "database": "ok", "redis": "ok", "worker": "unavailable",
                        "failed": ["worker"]}
    finally:
        worker.start()  # the tests after this one have the whole deployment again
    deployment.wait_healthy(timeout=90)


def _form_actions(html: str) -> list[str]:
    return re.findall(r'<form method="post" action="([^"]+)"', html)


def _input_after(html: str, action: str, name: str) -> str:
    section = html[html.index(f'action="{action}"'):]
    return re.search(rf'name="{name}" value="([^"]*)"', section).group(1)


def _card(html: str, code: str) -> str:
    """The part of a dashboard page about one indicator: its card, from the code in its heading to
    the next heading (the scorecard at the top of the page names the code too)."""
    start = html.index(f'govuk-!-display-inline">{code}</span>')
    end = html.find("<h3", start)
    return html[start:end if end != -1 else None]
