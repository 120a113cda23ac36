"""With a real Celery worker on Redis (as in production), an approval returns at once while the
worker delivers its webhook to a slow receiver, signed; and a delivery whose message never reached
a worker is sent by beat's sweep. Needs PostgreSQL and Redis (the worker is another process)."""
from __future__ import annotations

import os
import time
import uuid

import pytest
from django.db import connection

from tests.conftest import requires_postgres, requires_redis
from tests.reliability.conftest import Worker
from webhooks import services
from webhooks.models import Event, WebhookDelivery
from webhooks.tasks import webhook_deliveries_sweep_task

from .test_delivery import approve, submitted_return

pytestmark = [pytest.mark.slow, pytest.mark.postgres, requires_postgres, requires_redis]

SLOW_ANSWER = 4.0  # seconds the receiver takes to answer (under the 5 s timeout)


@pytest.fixture
def worker(framework, tmp_path):
    """A real worker on a queue of its own, against the test database; this process sends to it."""
    from kentforum.celery import app as celery_app

    db = connection.settings_dict
    queue = f"webhooks-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "kentforum.settings.base", "CELERY_TASK_ALWAYS_EAGER": "false",
        "DEBUG": "false", "WEBHOOKS_ALLOW_LOOPBACK_HTTP": "true",
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
    }
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.task_default_queue
    conf.task_always_eager, conf.task_default_queue = False, queue
    process = Worker(queue, env, tmp_path / "worker.log", 1)
    try:
        process.wait_ready()
        # a round trip through Redis and the worker (which also opens this process's broker connection)
        assert webhook_deliveries_sweep_task.delay().get(timeout=30) == 0
        yield process
    finally:
        process.stop()
        conf.task_always_eager, conf.task_default_queue = saved
        import redis

        redis.Redis.from_url(os.environ["REDIS_URL"]).delete(queue)


def wait_for(check, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s")


def test_an_approval_does_not_wait_for_the_worker_that_delivers_it(worker, receiver, officer, approver,
                                                                   count_indicator, period):
    receiver.delay = SLOW_ANSWER
    hook = services.endpoint_create(partner=officer.person.organisation, url=receiver.url, events=list(Event.values))
    ret = submitted_return(officer, count_indicator, period)
    started = time.monotonic()
    approve(ret, approver)  # commits (a transactional test): the task goes to Redis
    took = time.monotonic() - started
    # the receiver records a request once it has answered it: none yet, so the approval did not wait
    assert receiver.requests == []
    assert took < SLOW_ANSWER, f"the approval took {took:.2f} s"
    delivery = WebhookDelivery.objects.get(endpoint=hook)
    wait_for(lambda: WebhookDelivery.objects.filter(pk=delivery.pk, status="delivered").exists(), 60)
    assert len(receiver.requests) == 1 and receiver.requests[0].signature_valid(hook.secret)
    assert receiver.requests[0].json["data"]["return"]["id"] == ret.pk


def test_a_delivery_whose_message_was_lost_is_sent_by_the_sweep(worker, receiver, officer):
    hook = services.endpoint_create(partner=officer.person.organisation, url=receiver.url, events=["period.locked"])
    # written (the outbox) but never queued, as if the broker had been down at the commit
    delivery_id, = services.outbox_write(event="period.locked", data={"period": {"id": 0}}, endpoint_ids=[hook.pk])
    # beat's sweep (run here: the deliveries it queues go to this test's queue, which the worker consumes)
    assert webhook_deliveries_sweep_task.apply().get() == 1
    wait_for(lambda: WebhookDelivery.objects.filter(pk=delivery_id, status="delivered").exists(), 60)
    assert [r.json["event"] for r in receiver.requests] == ["period.locked"]
