"""Celery tasks run by a real worker on the local Redis, against the test PostgreSQL database."""
import datetime
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

from kentforum.celery import app as celery_app
from performance.catalogue import services
from performance.catalogue.tasks import period_lock_overdue_task
from performance.models import ReportingPeriod
from performance.returns import validation, workflow
from tests.conftest import requires_postgres, requires_redis
from tests.factories import open_quarter

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker(framework):
    """A real Celery worker process on its own queue, connected to the test database."""
    db = connection.settings_dict
    database_url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "kentforum.settings.base",
        "CELERY_TASK_ALWAYS_EAGER": "false", "DEBUG": "false",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "kentforum", "worker", "--pool=solo", "-Q", queue,
         "--without-gossip", "--without-mingle", "--loglevel=warning"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    eager, default_queue = celery_app.conf.task_always_eager, celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager = False  # this process sends to the broker, not to itself
    celery_app.conf.task_default_queue = queue  # and only to this test's worker
    yield queue
    celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = eager, default_queue
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@requires_postgres
@requires_redis
def test_a_real_worker_locks_periods_past_their_grace_time(framework, worker):
    period = open_quarter(2011, 1)
    period.deadline = datetime.date(2011, 7, 31)
    period.save()
    result = celery_app.send_task(period_lock_overdue_task.name, queue=worker)
    assert result.get(timeout=60) == 1
    assert ReportingPeriod.objects.get(pk=period.pk).status == "locked"
    again = celery_app.send_task(period_lock_overdue_task.name, queue=worker)
    assert again.get(timeout=60) == 0, "idempotent: a second run locks nothing more"


@pytest.mark.django_db
def test_the_task_runs_eagerly_in_the_embedded_default():
    period = open_quarter(2011, 2)
    period.deadline = datetime.date(2011, 10, 31)
    period.save()
    assert period_lock_overdue_task.delay().get() == 1


def test_worker_settings_redeliver_a_killed_task(settings):
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] >= 3600
    assert "lock-periods-past-grace" in settings.CELERY_BEAT_SCHEDULE


@requires_postgres
@requires_redis
def test_a_return_approved_over_http_reaches_the_dashboard_through_the_worker(framework, worker, client):
    import time
    from decimal import Decimal

    from django.urls import reverse

    from kentforum.roles import Role
    from performance.models import IndicatorReturn, IndicatorRollup
    from tests.factories import PercentageIndicatorFactory, council, district
    from tests.performance.conftest import make_user

    officer = make_user("worker.officer", "Ashford Borough Council", Role.OFFICER)
    approver = make_user("worker.approver", "Kent County Council", Role.APPROVER)
    indicator = PercentageIndicatorFactory(code="W-RECYC", name="Recycling through the worker")
    from ambitions.models import KPQ

    kpq = KPQ.objects.get(ambition__number=3, number=5)
    indicator.kpqs.add(kpq)
    indicator.ambitions.add(kpq.ambition)
    period = open_quarter(2012, 3)
    services.assignment_ensure(organisation=council(), indicator=indicator, locality=district())
    ret = workflow.indicator_return_save_draft(indicator=indicator, locality=district(), period=period, organisation=council(),
                                         user=officer, figures=validation.IndicatorFigures(numerator=Decimal(4321), denominator=Decimal(10000)))
    workflow.indicator_return_submit(ret=ret, expected_version=ret.version, user=officer)
    client.force_login(approver)
    response = client.post(reverse("performance:indicator-decision", args=[ret.pk, "approve"]), {"version": ret.version})
    assert response.status_code == 302 and IndicatorReturn.objects.get(pk=ret.pk).state == "approved"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not IndicatorRollup.objects.filter(indicator=indicator, locality__kind="county").exists():
        time.sleep(0.2)
    row = IndicatorRollup.objects.get(indicator=indicator, locality__kind="county", breakdown_key="")
    assert row.value == Decimal("43.2100") and row.coverage_display == "1/12 districts"
    client.logout()
    html = client.get(reverse("dashboards:ambition", args=[3])).content.decode()
    assert "Recycling through the worker" in html and "43.2" in html
