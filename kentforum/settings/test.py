"""Test settings: the environment-driven settings with a fast password hasher.

Tests run on whatever DATABASE_URL says (CI: the local PostgreSQL); Celery runs
eagerly unless a test starts a real worker itself.
"""
from .base import *  # noqa: F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WEBHOOKS_ALLOW_LOOPBACK_HTTP = True  # the webhook tests' receiver listens on http://127.0.0.1
