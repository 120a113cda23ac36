"""The production topology without Docker: the processes of docker-compose.yml started directly
(gunicorn, a Celery worker, beat) with production settings, against a database of their own on
the local PostgreSQL and the local Redis, and talked to over real HTTP.

One deployment serves every test of this package (it is made once and torn down after the last
of them): a fresh database ``<DATABASE_URL's name>_deploy_<random>`` on the server DATABASE_URL
names (not pytest's test database), migrated and loaded as docker-compose's ``migrate`` service
does, static files collected for WhiteNoise's manifest storage, the Redis database of
DEPLOY_REDIS_URL (default: REDIS_URL) flushed, and the three processes each in a process group of
its own, stopped (and checked gone) at teardown, even when setup or a test fails. Their logs are
printed if a test failed.

Knobs (environment): KF_CONCURRENCY_CLIENTS and KF_CONCURRENCY_EDITS (the concurrency test's size:
16 clients x 30 edits by default, the bounded CI form; KF_CONCURRENCY_EDITS=100 for the full run), KF_GUNICORN_WORKERS and KF_GUNICORN_THREADS (default 3, as docker-compose.yml,
and 2 threads each), DEPLOY_REDIS_URL.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
PORTS = range(18400, 18500)
GUNICORN_WORKERS = os.environ.get("KF_GUNICORN_WORKERS", "3")
GUNICORN_THREADS = os.environ.get("KF_GUNICORN_THREADS", "2")
CONCURRENCY_CLIENTS = int(os.environ.get("KF_CONCURRENCY_CLIENTS", "16"))
# 16 x 100 edits take about 3.5 minutes on this 2-core machine (shared), so CI runs 16 x 30.
CONCURRENCY_EDITS = int(os.environ.get("KF_CONCURRENCY_EDITS", "30"))
DEPLOY_ORDER = ["test_topology.py", "test_concurrent_officers.py", "test_backup_restore.py"]


def pytest_collection_modifyitems(session, config, items):
    """Within this package: the topology first, then the concurrency test, then back-up and
    restore (which then dumps a database with thousands of audit events). Other tests keep their
    places (pytest-django has already ordered them)."""
    here = str(Path(__file__).parent)
    slots = [i for i, item in enumerate(items) if str(item.fspath).startswith(here + os.sep)]
    if not slots:
        return

    def rank(item):
        name = Path(str(item.fspath)).name
        return DEPLOY_ORDER.index(name) if name in DEPLOY_ORDER else len(DEPLOY_ORDER)

    ordered = sorted((items[i] for i in slots), key=rank)  # stable: keeps the order inside each file
    for slot, item in zip(slots, ordered):
        items[slot] = item


# --- PostgreSQL --------------------------------------------------------------------------------

def server_url(database: str) -> str:
    """DATABASE_URL with its database name replaced (same server, user and password)."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))


def pg_connect(database: str):
    import psycopg2

    parts = urlsplit(os.environ["DATABASE_URL"])
    connection = psycopg2.connect(
        host=parts.hostname or "127.0.0.1", port=parts.port or 5432, user=parts.username or "postgres",
        password=parts.password or None, dbname=database,
    )
    return connection


def pg_env() -> dict:
    """Environment for the PostgreSQL client programs (pg_dump, pg_restore, createdb, psql)."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    env = {**os.environ, "PGHOST": parts.hostname or "127.0.0.1", "PGPORT": str(parts.port or 5432),
           "PGUSER": parts.username or "postgres"}
    if parts.password:
        env["PGPASSWORD"] = parts.password
    return env


def create_database(name: str) -> None:
    connection = pg_connect("postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def drop_database(name: str) -> None:
    connection = pg_connect("postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    connection.close()


def sql(database: str, query: str, params=None) -> list[tuple]:
    connection = pg_connect(database)
    try:
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall()
    finally:
        connection.close()


# --- processes ---------------------------------------------------------------------------------

def free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A group of zombies only (reaped later by init) counts as gone.
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                return True
    return False


class Process:
    """One process of the topology, in a process group of its own, its output in a log file."""

    def __init__(self, name: str, argv: list[str], env: dict, log: Path):
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.popen: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            out.write(f"\n--- {self.name} starting at {time.strftime('%H:%M:%S')}: {' '.join(self.argv)}\n".encode())
            self.popen = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, start_new_session=True)

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM to the whole group (warm shutdown), SIGKILL what is left after ``timeout``;
        returns only when no process of the group is left."""
        if self.popen is None:
            return
        pgid = self.popen.pid
        if not self._signal_and_wait(pgid, signal.SIGTERM, timeout):
            self._signal_and_wait(pgid, signal.SIGKILL, 10)
        self.popen.wait(timeout=10)
        assert not _group_alive(pgid), f"a process of {self.name} survived"

    def _signal_and_wait(self, pgid: int, sig: int, timeout: float) -> bool:
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None and not _group_alive(pgid):
                return True
            time.sleep(0.1)
        return False

    def tail(self, chars: int = 6000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


class Deployment:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        base_name = urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/") or "kentforum"
        self.database = f"{base_name}_deploy_{secrets.token_hex(4)}"
        self.database_url = server_url(self.database)
        self.redis_url = os.environ.get("DEPLOY_REDIS_URL") or os.environ["REDIS_URL"]
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.origin = f"https://127.0.0.1:{self.port}"  # what the browser sees behind the TLS proxy
        self.password = secrets.token_urlsafe(16)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_", "PYTEST"))},
            "DJANGO_SETTINGS_MODULE": "kentforum.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "PYTHONUNBUFFERED": "1",
            "PORTAL_BASE_URL": self.origin,
        }
        self.processes: dict[str, Process] = {}
        self.seeded: dict = {}

    # Commands of docker-compose.yml, with the addresses and paths of this machine (and threads in
    # each web worker, so that requests also interleave inside one process).
    def commands(self) -> dict[str, list[str]]:
        return {
            "web": [sys.executable, "-m", "gunicorn", "kentforum.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
                    "--workers", GUNICORN_WORKERS, "--threads", GUNICORN_THREADS,
                    "--access-logfile", str(self.workdir / "access.log")],
            "worker": [sys.executable, "-m", "celery", "-A", "kentforum", "worker", "--loglevel=info", "--concurrency=2"],
            "beat": [sys.executable, "-m", "celery", "-A", "kentforum", "beat", "--loglevel=info",
                     f"--schedule={self.workdir / 'celerybeat-schedule'}"],
        }

    def manage(self, *args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env or self.env,
                                capture_output=True, text=True, timeout=timeout)
        assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
        return result

    def setup(self) -> None:
        import redis

        steps = self.setup_steps = {}
        mark = time.monotonic()

        def step(name):
            nonlocal mark
            now = time.monotonic()
            steps[name] = round(now - mark, 1)
            mark = now

        create_database(self.database)
        redis.Redis.from_url(self.redis_url).flushdb()
        # The static files the image collects at build time (no database needed: in parallel),
        # then docker-compose's migrate service.
        static = subprocess.Popen([sys.executable, "manage.py", "collectstatic", "--noinput"], cwd=ROOT, env=self.env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.manage("migrate", "--noinput")
        step("migrate")
        self.manage("load_kent_framework")
        step("load_kent_framework")
        seed = subprocess.run(
            [sys.executable, "-m", "tests.deploy.seed"], cwd=ROOT, capture_output=True, text=True, timeout=300,
            env={**self.env, "DEPLOY_PASSWORD": self.password, "DEPLOY_OFFICERS": str(CONCURRENCY_CLIENTS)},
        )
        assert seed.returncode == 0, seed.stderr[-5000:]
        self.seeded = json.loads(seed.stdout.strip().splitlines()[-1])
        step("seed")
        output, _ = static.communicate(timeout=300)
        assert static.returncode == 0, f"collectstatic failed:\n{output[-5000:]}"
        step("collectstatic (rest)")
        for name, argv in self.commands().items():
            self.processes[name] = Process(name, argv, self.env, self.workdir / f"{name}.log")
            self.processes[name].start()
        self.wait_healthy()
        step("processes up, /healthz 200")

    def healthz(self) -> tuple[int, dict]:
        import requests

        response = requests.get(self.base + "/healthz", timeout=10)
        return response.status_code, response.json()

    def wait_healthy(self, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        status, body = None, None
        while time.monotonic() < deadline:
            for process in self.processes.values():
                assert process.running, f"{process.name} exited:\n{process.tail()}"
            try:
                status, body = self.healthz()
                if status == 200:
                    return body
            except Exception as error:  # noqa: BLE001 - not listening yet
                body = repr(error)
            time.sleep(0.5)
        raise AssertionError(f"/healthz did not answer 200 within {timeout} s: {status} {body}\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join(f"===== {p.name} ({p.log}) =====\n{p.tail()}" for p in self.processes.values())

    def teardown(self) -> None:
        import redis

        errors = []
        for process in self.processes.values():
            try:
                process.stop()
            except Exception as error:  # noqa: BLE001 - stop the others, then report
                errors.append(f"{process.name}: {error}")
        drop_database(self.database)
        redis.Redis.from_url(self.redis_url).flushdb()
        assert not errors, errors

    def sql(self, query: str, params=None) -> list[tuple]:
        return sql(self.database, query, params)


@pytest.fixture(scope="package")
def deployment(request, tmp_path_factory):
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
        pytest.skip("needs DATABASE_URL pointing at PostgreSQL and REDIS_URL")
    deployed = Deployment(tmp_path_factory.mktemp("deploy"))
    started = time.monotonic()
    try:
        deployed.setup()
    except BaseException:
        print(deployed.logs())
        deployed.teardown()
        raise
    deployed.setup_seconds = round(time.monotonic() - started, 1)
    failed_before = request.session.testsfailed
    yield deployed
    if request.session.testsfailed > failed_before:
        print(f"\nDeployment logs (a test failed):\n{deployed.logs()}")
    deployed.teardown()


# --- HTTP ----------------------------------------------------------------------------------------

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Browser:
    """A person's browser behind the TLS-terminating proxy: its own cookies (session, CSRF), the
    proxy's ``X-Forwarded-Proto: https`` and the page's Origin on every form it sends.

    Production's cookies are Secure, which requests will not send over plain HTTP (even with a
    lenient cookie policy it copies them into a default jar per request), so this client keeps
    them itself, sends them in a Cookie header and follows redirects itself."""

    def __init__(self, deployment: Deployment):
        import requests

        self.deployment = deployment
        self.session = requests.Session()
        self.cookies: dict[str, str] = {}
        self.csrf_token = ""

    def request(self, method: str, path: str, *, follow: bool = False, headers: dict | None = None, **kwargs):
        headers = {"X-Forwarded-Proto": "https", **(headers or {})}
        if method != "GET":
            headers.setdefault("Origin", self.deployment.origin)
        for _ in range(10):
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
            response = self.session.request(method, self.deployment.base + path, headers=headers, timeout=60,
                                            allow_redirects=False, **kwargs)
            self.cookies.update(response.cookies.get_dict())
            if not (follow and response.is_redirect):
                break
            location = response.headers["Location"]
            assert not location.startswith("http") or location.startswith(self.deployment.origin), location
            path = location.removeprefix(self.deployment.origin)
            method, kwargs = "GET", {}
            headers.pop("Origin", None)
        if "text/html" in response.headers.get("Content-Type", ""):
            found = CSRF_INPUT.search(response.text)
            if found:
                self.csrf_token = found.group(1)
        return response

    def get(self, path: str, **kwargs):
        return self.request("GET", path, follow=kwargs.pop("follow", True), **kwargs)

    def post(self, path: str, data: dict, **kwargs):
        return self.request("POST", path, data={"csrfmiddlewaretoken": self.csrf_token, **data}, **kwargs)

    def api(self, method: str, path: str, **kwargs):
        headers = {"X-CSRFToken": self.csrf_token, "Accept": "application/json"}
        return self.request(method, path, headers=headers, **kwargs)

    def sign_in(self, username: str, password: str | None = None) -> None:
        page = self.get("/accounts/login/")
        assert page.status_code == 200, page.status_code
        response = self.post("/accounts/login/", {"username": username, "password": password or self.deployment.password})
        assert response.status_code == 302, f"sign-in of {username} refused: {response.status_code}"
        assert "sessionid" in self.cookies


@pytest.fixture
def browser(deployment):
    def make() -> Browser:
        return Browser(deployment)

    return make
