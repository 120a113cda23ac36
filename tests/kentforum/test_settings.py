"""Settings: the embedded default, the environment, and production."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, env_overrides: dict, drop: tuple = ()) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "kentforum.settings.production",
    "SECRET_KEY": "x" * 60 + "production-test-secret-key-with-enough-entropy-0123456789",
    "ALLOWED_HOSTS": "performance.kentforum.example",
    "DATABASE_URL": os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/test",
    "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/1",
}


def test_check_deploy_is_clean_under_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env_overrides=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"])
def test_production_refuses_to_start_half_configured(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = run_manage("check", env_overrides=env, drop=(missing,))
    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr


def test_embedded_default_is_sqlite_and_eager_celery():
    code = (
        "from django.conf import settings;"
        "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER, settings.EMAIL_BACKEND)"
    )
    result = run_manage(
        "shell", "-c", code, env_overrides={"DJANGO_SETTINGS_MODULE": "kentforum.settings.base"},
        drop=("DATABASE_URL", "REDIS_URL"),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["django.db.backends.sqlite3", "True", "django.core.mail.backends.console.EmailBackend"]


def test_environment_selects_postgres_and_a_real_worker():
    code = (
        "from django.conf import settings;"
        "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER, settings.CELERY_BROKER_URL)"
    )
    result = run_manage(
        "shell", "-c", code,
        env_overrides={
            "DJANGO_SETTINGS_MODULE": "kentforum.settings.base",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test", "REDIS_URL": "redis://127.0.0.1:6379/3",
        },
    )
    assert result.stdout.strip().splitlines()[-1].split() == ["django.db.backends.postgresql", "False", "redis://127.0.0.1:6379/3"]


def test_debug_must_be_a_boolean():
    result = run_manage("check", env_overrides={"DEBUG": "maybe", "DJANGO_SETTINGS_MODULE": "kentforum.settings.base"})
    assert result.returncode != 0 and "DEBUG must be true or false" in result.stderr


def test_production_sends_hsts_and_only_secure_httponly_cookies():
    code = (
        "from django.conf import settings as s;"
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE,"
        " s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_AGE, s.SESSION_SAVE_EVERY_REQUEST,"
        " s.SESSION_ABSOLUTE_AGE, s.AXES_FAILURE_LIMIT, s.CONTENT_SECURITY_POLICY['DIRECTIVES']['script-src'])"
    )
    result = run_manage("shell", "-c", code, env_overrides=PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "31536000 True True True True True 1800 True 28800 5 [\"'self'\"]"
