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
from performance.models import ReportingPeriod
from performance.tasks import period_lock_overdue_task
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
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False  # this process sends to the broker, not to itself
    yield queue
    celery_app.conf.task_always_eager = eager
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
