"""``/healthz``: the database, Redis and the Celery worker, each up or down, and 200 only when
every configured component is up. The worker checks use a real worker process on the local Redis."""
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection

from kentforum import health
from kentforum.celery import app as celery_app
from tests.conftest import requires_postgres, requires_redis

ROOT = Path(__file__).resolve().parents[2]
COMPONENTS = {"status", "database", "redis", "worker"}


@pytest.fixture
def real_broker():
    """This process sends to the broker (as the web processes do in production), not to itself."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    cache.delete(health.WORKER_CACHE_KEY)
    yield
    celery_app.conf.task_always_eager = eager
    cache.delete(health.WORKER_CACHE_KEY)


@pytest.fixture
def worker(transactional_db):
    """A real Celery worker process on the local Redis (its own queue: it takes no other test's tasks)."""
    db = connection.settings_dict
    database_url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "kentforum.settings.base",
           "CELERY_TASK_ALWAYS_EAGER": "false", "DEBUG": "false"}
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "kentforum", "worker", "--pool=solo", "-Q", f"health-{uuid.uuid4().hex[:8]}",
         "--without-gossip", "--without-mingle", "--loglevel=warning"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.mark.django_db
def test_the_embedded_default_is_healthy_without_redis_or_a_worker(client, settings):
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = "memory://"
    assert celery_app.conf.task_always_eager, "the test settings run tasks in-process"
    response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "not configured", "worker": "eager"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_an_unreachable_redis_is_503_naming_redis_and_the_worker(client, settings, real_broker):
    settings.REDIS_URL = settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    started = time.monotonic()
    response = client.get("/healthz")
    assert time.monotonic() - started < 10, "a dead Redis is reported quickly, not after long retries"
    assert response.status_code == 503
    body = response.json()
    assert set(body) == COMPONENTS | {"failed"}
    assert body["database"] == "ok" and body["redis"] == "unavailable" and body["worker"] == "unavailable"
    assert body["status"] == "unavailable" and body["failed"] == ["redis", "worker"]


@requires_postgres
@requires_redis
@pytest.mark.django_db
def test_postgres_and_redis_without_a_worker_is_503_worker_down(client, real_broker):
    response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
    body = response.json()
    assert response.status_code == 503, body
    assert body == {"status": "unavailable", "database": "ok", "redis": "ok", "worker": "unavailable", "failed": ["worker"]}
    assert cache.get(health.WORKER_CACHE_KEY) == "unavailable", "the ping's answer is cached for the next few seconds"


@requires_postgres
@requires_redis
def test_postgres_and_redis_with_a_worker_is_200(client, real_broker, worker):
    deadline = time.monotonic() + 60
    while True:
        cache.delete(health.WORKER_CACHE_KEY)  # do not wait out the cached "unavailable" of the start-up
        response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
        if response.status_code == 200 or time.monotonic() > deadline or worker.poll() is not None:
            break
        time.sleep(0.5)
    assert response.status_code == 200, (response.json(), worker.poll())
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok", "worker": "ok"}
    # Nothing but up/down: no versions, hostnames or worker names anywhere in the answer.
    assert "celery@" not in response.content.decode() and "health-" not in response.content.decode()


DEAD_DATABASE_CHECK = """
import json
from django.test import Client
response = Client().get("/healthz", HTTP_HOST="10.0.0.7:8000")
print(json.dumps({"status_code": response.status_code, "body": response.json()}))
"""


def test_a_database_that_does_not_answer_is_503_naming_the_database():
    """A real portal process (its own settings, no test database) whose DATABASE_URL names a port
    where nothing listens: /healthz answers 503 at once and says the database is what is down."""
    env = {**{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")},
           "DJANGO_SETTINGS_MODULE": "kentforum.settings.base", "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nothing"}
    started = time.monotonic()
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", DEAD_DATABASE_CHECK], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status_code"] == 503
    assert answer["body"] == {"status": "unavailable", "database": "unavailable", "redis": "not configured",
                              "worker": "eager", "failed": ["database"]}
    assert time.monotonic() - started < 60
