"""What ``GET /healthz`` reports: whether the database, Redis and a Celery worker answer.

Each component is "ok", "unavailable", or, in the embedded default (no REDIS_URL: a SQLite file
and tasks run eagerly in-process), "not configured" (Redis) and "eager" (the worker), which do not
make the portal unhealthy. The answer is 200 only when every configured component is ok, else 503
with the failed components named. It reveals only up/down: no versions, hostnames or errors.

The worker check is a broadcast ping over the broker with a short timeout; its result is cached
for a few seconds so that a load balancer polling every web process cannot hammer the broker.
"""
from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import connection

OK = "ok"
UNAVAILABLE = "unavailable"
NOT_CONFIGURED = "not configured"
EAGER = "eager"
HEALTHY = {OK, NOT_CONFIGURED, EAGER}

WORKER_CACHE_KEY = "kentforum:healthz:worker"


def _setting(name: str, default):
    return getattr(settings, name, default)


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return OK
    except Exception:  # noqa: BLE001 - any failure means unavailable
        return UNAVAILABLE


def redis_status() -> str:
    """PING the Redis at REDIS_URL (broker, results and cache), with a short timeout."""
    url = _setting("REDIS_URL", "")
    if not url:
        return NOT_CONFIGURED
    import redis

    timeout = float(_setting("HEALTHZ_REDIS_TIMEOUT", 1.0))
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            return OK if client.ping() else UNAVAILABLE
        finally:
            client.close()
    except Exception:  # noqa: BLE001
        return UNAVAILABLE


def _ping_workers() -> bool:
    from kentforum.celery import app

    timeout = float(_setting("HEALTHZ_WORKER_TIMEOUT", 1.0))
    with app.connection_for_write() as conn:
        # A broker that does not answer fails here, quickly, instead of retrying for long.
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
        # The first reply is enough: without limit, ping waits out the whole timeout.
        replies = app.control.ping(timeout=timeout, limit=1, connection=conn)
    return any("ok" in (reply or {}).get(name, {}) for reply in replies for name in reply)


def worker_status(*, redis: str | None = None) -> str:
    """Whether a Celery worker answers a ping ("eager" where tasks run in-process)."""
    from kentforum.celery import app

    if app.conf.task_always_eager:
        return EAGER
    broker_is_redis = _setting("CELERY_BROKER_URL", None) == _setting("REDIS_URL", "") != ""
    if broker_is_redis and redis is not None and redis != OK:
        return UNAVAILABLE  # the broker is that Redis: no worker can be reached
    try:
        cached = cache.get(WORKER_CACHE_KEY)
    except Exception:  # noqa: BLE001 - the cache is Redis too; go on without it
        cached = None
    if cached in (OK, UNAVAILABLE):
        return cached
    try:
        status = OK if _ping_workers() else UNAVAILABLE
    except Exception:  # noqa: BLE001
        status = UNAVAILABLE
    try:
        cache.set(WORKER_CACHE_KEY, status, timeout=float(_setting("HEALTHZ_WORKER_CACHE_SECONDS", 5)))
    except Exception:  # noqa: BLE001
        pass
    return status


def health_status() -> tuple[dict, int]:
    """The body and status code of ``/healthz``."""
    redis = redis_status()
    components = {"database": database_status(), "redis": redis, "worker": worker_status(redis=redis)}
    failed = [name for name, status in components.items() if status not in HEALTHY]
    body = {"status": "unavailable" if failed else "ok", **components}
    if failed:
        body["failed"] = failed
    return body, 503 if failed else 200
