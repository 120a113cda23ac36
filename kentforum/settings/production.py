"""Production settings: explicit, secure, and refusing to start half-configured.

Required environment: SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, REDIS_URL.
"""
import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import env_bool, env_list

DEBUG = False

for _name in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"):
    if not os.environ.get(_name):
        raise ImproperlyConfigured(f"{_name} must be set in the environment for production")

SECRET_KEY = os.environ["SECRET_KEY"]
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
CELERY_TASK_ALWAYS_EAGER = False
WEBHOOKS_ALLOW_LOOPBACK_HTTP = False  # partner webhooks reach public HTTPS addresses only (SSRF)
# Single sign-on (sso/) talks to its identity provider over HTTPS only.
_sso_plain = [_n for _n in SSO_REQUIRED_SETTINGS if _n.startswith("OIDC_OP_") and not os.environ.get(_n, "https://").startswith("https://")]  # noqa: F405
if _sso_plain:
    raise ImproperlyConfigured(", ".join(_sso_plain) + " must be https:// addresses in production")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
# Idle and absolute session expiry, the CSP and login lockout are set in base (the demo and tests use them too).
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOGGING["root"]["level"] = os.environ.get("LOG_LEVEL", "WARNING")  # noqa: F405
