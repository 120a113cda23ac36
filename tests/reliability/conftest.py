"""Fixtures of the reliability tests: a data set big enough that a full rollup takes seconds,
real prefork Celery workers on Redis that a test kills with SIGKILL, and the figures measured,
printed in the terminal summary.

The data set is made once for the module, outside pytest-django's per-test transactions (a worker
in another process must see it), and the database is flushed at the module's end, as a
transactional test leaves it.
"""
from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from kentforum.loaders.framework import framework_load
from performance.rollups import engine

from . import data

ROOT = Path(__file__).resolve().parents[2]

# The size of the data set. The default (12 indicators × 32 quarters, about 17,000 approved
# returns) makes a full rollup take 2-4 s on PostgreSQL; RELIABILITY_INDICATORS and
# RELIABILITY_YEARS scale it up (the waits and the bound scale with the measured duration).
YEARS = int(os.environ.get("RELIABILITY_YEARS", "8"))
INDICATORS = int(os.environ.get("RELIABILITY_INDICATORS", "12"))

# Measured figures, printed at the end of the run (also without -s).
FIGURES: dict[str, object] = {}


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("killed-worker recovery figures")
        for key, value in FIGURES.items():
            terminalreporter.write_line(f"{key}: {value}")


@pytest.fixture(scope="module")
def rollup_data(django_db_setup, django_db_blocker):
    """The framework, the synthetic returns and milestones, and the summary tables rolled up once
    in this process. Returns what was made, with that full rollup's duration."""

    from performance.models import IndicatorReturn

    with django_db_blocker.unblock():
        framework_load()
        period_ids = data.quarters(YEARS)
        data.add_milestones(period_ids)
        data.add_indicators(INDICATORS, period_ids)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        started = time.perf_counter()
        rebuilt = engine.rebuild_all()
        seconds = time.perf_counter() - started
        made = {
            "indicators": INDICATORS, "quarters": len(period_ids), "slices": rebuilt["slices"],
            "approved returns": IndicatorReturn.objects.filter(state="approved").count(),
            "summary rows": rebuilt["indicator rows"] + rebuilt["milestone rows"],
            "full rollup in process (s)": round(seconds, 2),
        }
        FIGURES["data"] = made
        try:
            yield {**made, "seconds": seconds}
        finally:
            data.drop_snapshots()
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def transactional_db(django_db_setup, django_db_blocker):
    """Overrides pytest-django's fixture of that name for these tests only: database access, with
    these tests ordered among the transactional ones, but without the flush after each test (the
    data set is the module's; ``rollup_data`` flushes at its end)."""
    with django_db_blocker.unblock():
        yield


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (from /proc; psutil is not a dependency)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()  # state, ppid, ...
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _die_with_parent() -> None:
    """In the worker before it runs: SIGKILL it if this pytest process dies without its teardown
    (killed by a CI timeout); its pool processes already die with it (Celery sets the same)."""
    from billiard.util import set_pdeathsig

    set_pdeathsig(signal.SIGKILL)


class Worker:
    """A real ``celery worker`` (prefork pool of 2) in a process group of its own."""

    def __init__(self, queue: str, env: dict, log: Path, number: int):
        self.log, self.marker = log, f"--- worker {number} starting"
        with open(log, "ab") as out:
            out.write(f"\n{self.marker} at {time.time():.3f}\n".encode())
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "kentforum", "worker", "--pool=prefork", "--concurrency=2",
                 "-Q", queue, "-n", f"{queue}-{number}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
                 f"--loglevel={os.environ.get('RELIABILITY_WORKER_LOGLEVEL', 'info')}"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def children(self) -> list[int]:
        return _children(self.pid)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log.read_text(errors="replace").rsplit(self.marker, 1)[1]:
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"the worker did not become ready within {timeout} s:\n{self.log_tail()}")

    def kill_child(self, pid: int) -> None:
        """SIGKILL one pool process."""
        assert pid in self.children(), f"{pid} is not a pool process of worker {self.pid}"
        os.kill(pid, signal.SIGKILL)

    def kill_all(self) -> None:
        """SIGKILL the whole worker, main process and pool processes at once, and wait until none is left."""
        members = [self.pid, *self.children()]
        os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in members) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not any(_alive(p) for p in members), "a process of the killed worker survived"

    def stop(self) -> None:
        """Teardown: a warm shutdown if the worker still runs, then SIGKILL to whatever is left of its group."""
        if self.process.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.process.poll() is None:
            self.process.wait(timeout=10)

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


class Workers:
    """The workers of one module, on one queue of its own; a killed one is replaced by ``start()``."""

    def __init__(self, env: dict, queue: str, log: Path, visibility: int):
        self.env, self.queue, self.log, self.visibility = env, queue, log, visibility
        self.started: list[Worker] = []
        self.current: Worker | None = None

    def start(self) -> Worker:
        self.current = Worker(self.queue, self.env, self.log, len(self.started) + 1)
        self.started.append(self.current)
        return self.current

    def running(self) -> Worker:
        if self.current is None or self.current.process.poll() is not None:
            self.start().wait_ready()
        return self.current

    def stop(self) -> None:
        for worker in self.started:
            worker.stop()


# The settings the workers run with (kentforum/settings/base.py reads them from the environment;
# acks_late, reject_on_worker_lost and prefetch 1 are the project's own, unchanged). Production
# keeps the defaults: an hour's visibility timeout, a sweep every 100 s, a 300 s sweep lock, 10 s
# lost-worker wait.
RESTORE_INTERVAL = 1  # seconds between sweeps of Redis's unacknowledged messages (throttle 1)
WORKER_LOST_WAIT = 1  # seconds a worker waits for the result of a pool process that died


@pytest.fixture(scope="module")
def workers(rollup_data, django_db_blocker, tmp_path_factory):
    """Real workers on a queue of this module's own, against the test database. The visibility
    timeout is a few times the measured full rollup (at least 10 s): longer than any task, so a
    running task is never delivered twice, but short enough that a whole worker's lost work comes
    back in seconds rather than production's hour. This process sends to that queue."""
    from kentforum.celery import app as celery_app

    visibility = int(os.environ.get("RELIABILITY_VISIBILITY_TIMEOUT", 0)) or max(10, math.ceil(4 * rollup_data["seconds"]))
    with django_db_blocker.unblock():
        db = connection.settings_dict
    url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    queue = f"reliability-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "kentforum.settings.base",
        "CELERY_TASK_ALWAYS_EAGER": "false", "DEBUG": "false",
        "CELERY_VISIBILITY_TIMEOUT": str(visibility),
        "CELERY_UNACKED_RESTORE_INTERVAL": str(RESTORE_INTERVAL), "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        "CELERY_UNACKED_MUTEX_EXPIRE": "5", "CELERY_WORKER_LOST_WAIT": str(WORKER_LOST_WAIT),
    }
    FIGURES["worker settings"] = {k: v for k, v in env.items() if k.startswith("CELERY_") and k != "CELERY_TASK_ALWAYS_EAGER"}
    log = tmp_path_factory.mktemp("reliability") / "workers.log"
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.task_default_queue
    conf.task_always_eager, conf.task_default_queue = False, queue
    pool = Workers(env, queue, log, visibility)
    try:
        yield pool
    finally:
        pool.stop()
        conf.task_always_eager, conf.task_default_queue = saved
        import redis

        redis.Redis.from_url(os.environ["REDIS_URL"]).delete(queue)
