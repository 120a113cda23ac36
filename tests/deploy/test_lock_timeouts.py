"""Nobody waits behind a lock for long: on PostgreSQL, web requests give up waiting for a row lock
after DB_LOCK_TIMEOUT (3 s by default) and cancel a statement after DB_STATEMENT_TIMEOUT (30 s),
and are answered 503 with Retry-After, saying nothing was saved; never a hang or a server error.
Only the web processes have these limits (kentforum/wsgi.py): workers, beat, migrations and
management commands do not, so the nightly rollup rebuild and a long migration run to the end.

Given a return whose row another connection holds locked (as a long bulk write or job would),
when an officer saves it through the return form or the API, then the answer is 503 with
Retry-After within a few seconds, nothing is saved and no audit event is written; and once the
lock is gone the same save goes through."""
from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from rest_framework.test import APIClient

from partnerships.models import Organisation, PartnerAPIKey
from performance.catalogue import services
from performance.models import IndicatorReturn, ReturnEvent
from performance.returns import validation, views, workflow
from tests.conftest import requires_postgres
from tests.factories import IndicatorFactory, council, district, open_quarter
from tests.performance.conftest import PASSWORD, make_user

pytestmark = [pytest.mark.slow, pytest.mark.postgres, requires_postgres]

ROOT = Path(__file__).resolve().parents[2]
LOCK_TIMEOUT = "1s"


@pytest.fixture
def slot(framework):
    """Ashford's draft return of a count indicator for an open quarter, committed (so that
    another connection, or another process, sees and locks it), and its officer."""
    from kentforum.roles import Role

    officer = make_user("lock.officer", "Ashford Borough Council", Role.OFFICER)
    period = open_quarter(2012, 1)
    indicator = IndicatorFactory(code="T-LOCK", name="Locked return", min_value=Decimal(0))
    services.assignment_ensure(organisation=council(), indicator=indicator, locality=district())
    ret = workflow.indicator_return_save_draft(
        indicator=indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(value=Decimal(10)),
    )
    key, raw = PartnerAPIKey.objects.create_key(name="Feed", partner=Organisation.objects.get(name="Kent Police"),
                                                scope="submit")
    key.organisations.set([council()])
    return {"officer": officer, "period": period, "indicator": indicator, "ret": ret, "key": raw,
            "form": f"/returns/{period.pk}/indicators/{indicator.code}/{district().gss_code}/"}


def _connect():
    import psycopg2

    params = connection.get_connection_params()
    params.pop("options", None)
    return psycopg2.connect(**params)


@contextlib.contextmanager
def row_locked(pk: int):
    """Another session holds the return's row locked (FOR UPDATE) until the block ends."""
    other = _connect()
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT id FROM performance_indicatorreturn WHERE id = %s FOR UPDATE", [pk])
        yield
    finally:
        other.rollback()
        other.close()


@contextlib.contextmanager
def as_a_web_process(lock_timeout: str = LOCK_TIMEOUT, statement_timeout: str = "30s"):
    """This test process's database sessions as a web process's, with its lock and statement
    timeouts (a short lock timeout, to keep the test quick)."""
    options = connection.settings_dict.setdefault("OPTIONS", {})
    before = options.get("options", "")
    options["options"] = f"{before} -c lock_timeout={lock_timeout} -c statement_timeout={statement_timeout}"
    connection.close()
    try:
        yield
    finally:
        options["options"] = before
        connection.close()


def _unchanged(slot, events_before: int) -> None:
    ret = IndicatorReturn.objects.get(pk=slot["ret"].pk)
    assert ret.value == 10 and ret.version == 1, "nothing was saved"
    assert ReturnEvent.objects.count() == events_before, "no audit event was written"


def test_a_save_behind_a_held_row_lock_answers_503_with_retry_after_through_every_door(slot, client):
    officer, ret = slot["officer"], slot["ret"]
    client.force_login(officer)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {slot['key']}")
    events = ReturnEvent.objects.count()
    doors = {
        "the return form": lambda: client.post(slot["form"], {"value": "12", "commentary": "", "version": "1",
                                                              "action": "save"}),
        "PATCH": lambda: api.patch(f"/api/v1/indicator-returns/{ret.pk}/", {"value": "12", "version": 1}, format="json"),
        "bulk": lambda: api.post("/api/v1/indicator-returns/bulk/", [
            {"indicator": "T-LOCK", "locality": "E07000105", "period": slot["period"].label, "value": "12", "version": 1},
        ], format="json"),
    }
    with as_a_web_process():
        for door, save in doors.items():
            with row_locked(ret.pk):
                started = time.monotonic()
                response = save()
                waited = time.monotonic() - started

            assert response.status_code == 503, (door, response.status_code, response.content[:500])
            assert int(response["Retry-After"]) > 0, door
            assert waited < 5, f"{door}: answered after {waited:.1f} s"
            text = response.json()["detail"] if door != "the return form" else response.content.decode()
            assert "Nothing was saved" in text and "Try again" in text, (door, text[:300])
            if door == "the return form":
                assert 'value="12"' in text, "the officer's figures stay in the form to send again"
            _unchanged(slot, events)

        # Once the lock is gone, the same save goes through.
        response = doors["PATCH"]()
        assert response.status_code == 200, response.content
    assert IndicatorReturn.objects.get(pk=ret.pk).value == 12


def test_a_statement_over_the_statement_timeout_answers_503(slot, client, monkeypatch):
    """A request whose query runs longer than the statement timeout is stopped and answered."""
    from django.conf import settings

    monkeypatch.setattr(settings, "DB_STATEMENT_TIMEOUT", "200ms")
    client.force_login(slot["officer"])


    real = views.workflow.indicator_return_save_draft

    def slow_save(**kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(2)")
        return real(**kwargs)

    monkeypatch.setattr(views.workflow, "indicator_return_save_draft", slow_save)
    with as_a_web_process(statement_timeout="200ms"):
        started = time.monotonic()
        response = client.post(slot["form"], {"value": "12", "commentary": "", "version": "1", "action": "save"})
        waited = time.monotonic() - started
    assert response.status_code == 503 and int(response["Retry-After"]) > 0
    assert "longer than 200ms" in response.content.decode()
    assert waited < 2
    _unchanged(slot, ReturnEvent.objects.count())


# --- Only the web processes have the limits ------------------------------------------------------

def _show_timeouts(code: str, extra_env: dict | None = None) -> str:
    """Run ``code`` (which sets Django up) in a new process against the test database, and
    what its database session says lock_timeout and statement_timeout are."""
    show = ("from django.db import connection\n"
            "with connection.cursor() as c:\n"
            "    c.execute('SHOW lock_timeout'); a = c.fetchone()[0]\n"
            "    c.execute('SHOW statement_timeout'); b = c.fetchone()[0]\n"
            "print('TIMEOUTS', a, b)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KENTFORUM_", "DB_LOCK", "DB_STATEMENT"))}
    env.update({"DATABASE_URL": _test_database_url(), "DJANGO_SETTINGS_MODULE": "kentforum.settings.base",
                **(extra_env or {})})
    result = subprocess.run([sys.executable, "-c", code + show], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return re.search(r"TIMEOUTS (\S+) (\S+)", result.stdout).group(0).removeprefix("TIMEOUTS ")


def _test_database_url() -> str:
    from tests.deploy.conftest import server_url

    return server_url(connection.settings_dict["NAME"])


def test_the_web_process_has_the_limits_and_workers_and_commands_do_not(db):
    # gunicorn's module: the defaults, or what the environment says
    assert _show_timeouts("import kentforum.wsgi\n") == "3s 30s"
    assert _show_timeouts("import kentforum.wsgi\n", {"DB_LOCK_TIMEOUT": "1500ms", "DB_STATEMENT_TIMEOUT": "2min"}) \
        == "1500ms 2min"
    # the Celery app (worker and beat: the nightly rebuild) and management commands: no limit
    assert _show_timeouts("import django; django.setup(); import kentforum.celery\n") == "0 0"
    assert _show_timeouts("import django; django.setup()\nfrom django.core.management import call_command\n") == "0 0"
    # and the web process's mark is not passed on to processes it starts
    assert "KENTFORUM_WEB_PROCESS" not in os.environ


def test_an_unreadable_timeout_is_refused_at_start():
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("KENTFORUM_")}, "DB_LOCK_TIMEOUT": "3 s; DROP",
           "DJANGO_SETTINGS_MODULE": "kentforum.settings.base"}
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "DB_LOCK_TIMEOUT must be a whole number" in result.stderr


# --- End to end: gunicorn, a signed-in officer, a held lock ---------------------------------------

def test_gunicorn_answers_an_officers_save_behind_a_held_lock_with_503_in_seconds(slot, tmp_path):
    import requests

    from tests.deploy.conftest import Process, free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "KENTFORUM_", "PYTEST", "REDIS_URL"))}
    env.update({"DJANGO_SETTINGS_MODULE": "kentforum.settings.test", "DATABASE_URL": _test_database_url(),
                "DB_LOCK_TIMEOUT": LOCK_TIMEOUT, "PYTHONUNBUFFERED": "1"})
    web = Process("web", [sys.executable, "-m", "gunicorn", "kentforum.wsgi:application", "--bind", f"127.0.0.1:{port}",
                          "--workers", "1"], env, tmp_path / "web.log")
    base = f"http://127.0.0.1:{port}"
    web.start()
    try:
        deadline = time.monotonic() + 60
        while True:
            assert web.running, web.tail()
            try:
                if requests.get(base + "/healthz", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, web.tail()
            time.sleep(0.3)
        browser = requests.Session()
        login = browser.get(base + "/accounts/login/", timeout=30)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
        signed_in = browser.post(base + "/accounts/login/", data={
            "csrfmiddlewaretoken": token, "username": slot["officer"].username, "password": PASSWORD,
        }, allow_redirects=False, timeout=30)
        assert signed_in.status_code == 302, signed_in.status_code
        page = browser.get(base + slot["form"], timeout=30)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        form = {"csrfmiddlewaretoken": token, "value": "12", "commentary": "", "version": "1", "action": "save"}
        events = ReturnEvent.objects.count()

        with row_locked(slot["ret"].pk):
            started = time.monotonic()
            response = browser.post(base + slot["form"], data=form, allow_redirects=False, timeout=60)
            waited = time.monotonic() - started

        assert response.status_code == 503, (response.status_code, response.text[-2000:], web.tail())
        assert int(response.headers["Retry-After"]) > 0
        assert "Nothing was saved" in response.text
        assert waited < 5, f"answered after {waited:.1f} s"
        _unchanged(slot, events)
        print(f"\nLock timeout through gunicorn: the officer's save answered 503 after {waited:.2f} s "
              f"(lock_timeout {LOCK_TIMEOUT})")

        saved = browser.post(base + slot["form"], data=form, allow_redirects=False, timeout=60)
        assert saved.status_code == 302, (saved.status_code, web.tail())
        assert IndicatorReturn.objects.get(pk=slot["ret"].pk).value == 12
    finally:
        web.stop()
