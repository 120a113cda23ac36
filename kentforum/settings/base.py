"""Settings read from the environment.

With nothing set, the portal runs as a self-contained local demo: a SQLite file,
Celery tasks executed eagerly in-process, e-mail printed to the console.
With ``DATABASE_URL`` and ``REDIS_URL`` set, it runs on PostgreSQL with a Celery
worker on Redis. Deployments use ``kentforum.settings.production``.
"""
from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp import constants as _csp
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
# The fallback key is for the local demo only; production settings refuse to start without SECRET_KEY.
SECRET_KEY = os.environ.get("SECRET_KEY", "local-demo-only-not-secret-kentforum-portal")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "axes",
    "csp",
    "kentforum.security.KentForumConfig",
    "localities",
    "partnerships",
    "ambitions",
    "performance",
    "notifications",
    "webhooks",
    "exchange",
    "sso",
]

MIDDLEWARE = [
    "kentforum.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # A NUL in the address: a 400 that says so, before anything can take it to the database.
    "kentforum.middleware.NulInAddressMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kentforum.security.SessionAbsoluteExpiryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "kentforum.security.PermissionDeniedLogMiddleware",
    # A lock or statement timeout (web processes on PostgreSQL): 503 with Retry-After, not a 500.
    "kentforum.middleware.DatabaseBusyMiddleware",
    # Last, as django-axes asks: turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kentforum.urls"
WSGI_APPLICATION = "kentforum.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kentforum.context_processors.portal",
                "notifications.context_processors.unread",
            ],
        },
    },
]

# Database: DATABASE_URL (postgres://user@host:5432/name) or a local SQLite file.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}


def env_duration(name: str, default: str) -> str:
    """A PostgreSQL duration setting from the environment: a whole number and a unit (``3s``,
    ``500ms``, ``2min``); ``0`` turns the limit off."""
    value = os.environ.get(name, "").strip() or default
    if not re.fullmatch(r"[0-9]{1,9}(ms|s|min|h)?", value):
        raise ImproperlyConfigured(f"{name} must be a whole number with ms, s, min or h (such as 3s), not {value!r}")
    return value


# Web requests on PostgreSQL give up waiting for a row lock after DB_LOCK_TIMEOUT and cancel a
# statement that runs longer than DB_STATEMENT_TIMEOUT, and are answered 503 with Retry-After
# (kentforum.middleware.DatabaseBusyMiddleware) rather than waiting behind another writer. Only
# the web processes set them (kentforum/wsgi.py, which gunicorn loads, sets KENTFORUM_WEB_PROCESS):
# Celery workers, beat, migrations and management commands keep PostgreSQL's defaults (no
# limit), so the nightly rollup rebuild and a long migration are never cut off.
DB_LOCK_TIMEOUT = env_duration("DB_LOCK_TIMEOUT", "3s")
DB_STATEMENT_TIMEOUT = env_duration("DB_STATEMENT_TIMEOUT", "30s")
DB_WEB_TIMEOUTS = env_bool("KENTFORUM_WEB_PROCESS", False)
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # A database host that drops packets fails a request (and /healthz) in seconds, not minutes.
    # A client that died (a killed worker) has its statement cancelled within seconds, so its
    # locks (the rollup's rebuild lock) are not held to the end of a long statement.
    _options = "-c client_connection_check_interval=5000"
    if DB_WEB_TIMEOUTS:
        _options += f" -c lock_timeout={DB_LOCK_TIMEOUT} -c statement_timeout={DB_STATEMENT_TIMEOUT}"
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "connect_timeout": int(os.environ.get("DB_CONNECT_TIMEOUT", "5")),
        "options": _options,
    })
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# GOV.UK Frontend's scripts and assets, installed from the npm registry by `make` (npm ci).
GOVUK_FRONTEND_DIR = BASE_DIR / "node_modules" / "govuk-frontend" / "dist" / "govuk"
if GOVUK_FRONTEND_DIR.is_dir():
    STATICFILES_DIRS.append(("govuk", GOVUK_FRONTEND_DIR))
# plotly.js's basic bundle (scatter, bar and pie: every chart here is a scatter or a bar; 1.2 MB
# against the whole bundle's 4.8 MB), installed from the npm registry by `make` (npm ci).
PLOTLY_DIR = BASE_DIR / "node_modules" / "plotly.js-basic-dist-min"
if PLOTLY_DIR.is_dir():
    STATICFILES_DIRS.append(("plotly", PLOTLY_DIR))

# Sign-in: django-axes checks every attempt first (it needs the request), then Django's own backend.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "sso.backends.PortalOIDCBackend",  # single sign-on (sso/): returns nobody unless OIDC is configured
]
# Lockout: after LOGIN_FAILURE_LIMIT wrong passwords for one username from one address, that
# username is refused from that address for LOGIN_LOCKOUT_MINUTES; a correct sign-in clears the count.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The CSV upload of returns: the largest file (bytes) and the most rows (the header not counted)
# one upload may hold; the form and the import service both read these (returns.imports).
# A county's quarter in one file: about 50,000 rows, 3.9 to 4.2 MB (issue 19). A central load
# larger than that (a research team's 100,000 values) raises both for its deployment.
RETURN_IMPORT_MAX_BYTES = int(os.environ.get("RETURN_IMPORT_MAX_BYTES", str(5 * 1024 * 1024)))
RETURN_IMPORT_MAX_ROWS = int(os.environ.get("RETURN_IMPORT_MAX_ROWS", "60000"))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "kentforum.security.lockout_response"  # registration/locked_out.html
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False  # the portal writes its own security log (kentforum.security)
# The client address: REMOTE_ADDR, or the address the trusted proxies add (as for the API, not a header anyone can write).
_NUM_PROXIES = int(os.environ.get("API_NUM_PROXIES", "0"))
if _NUM_PROXIES:
    AXES_IPWARE_PROXY_COUNT = _NUM_PROXIES
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
# Who to contact when locked out (shown on the lockout page).
PORTAL_SUPPORT_EMAIL = os.environ.get("PORTAL_SUPPORT_EMAIL", "performance@kentforum.example")

# Sessions: signed out after SESSION_IDLE_MINUTES without a request (the expiry moves on with every
# request) and in any case SESSION_ABSOLUTE_HOURS after signing in; the cookie ends with the browser.
SESSION_COOKIE_AGE = 60 * int(os.environ.get("SESSION_IDLE_MINUTES", "30"))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_ABSOLUTE_AGE = 60 * 60 * int(os.environ.get("SESSION_ABSOLUTE_HOURS", "8"))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Content Security Policy (django-csp 4): no inline script anywhere, no eval. Styles allow
# 'unsafe-inline' only because plotly.js injects its own <style> rules and style attributes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [_csp.SELF],
        "script-src": [_csp.SELF],
        "style-src": [_csp.SELF, _csp.UNSAFE_INLINE],
        "img-src": [_csp.SELF, "data:", "blob:"],  # blob: Plotly's "download as PNG" draws the chart through one
        "font-src": [_csp.SELF],
        "connect-src": [_csp.SELF],
        "object-src": [_csp.NONE],
        "base-uri": [_csp.SELF],
        "frame-ancestors": [_csp.NONE],
        "form-action": [_csp.SELF],
    },
}

# Single sign-on for partner staff by OpenID Connect (sso/, mozilla-django-oidc): on when every
# OIDC_* value below is set, off (no button, its addresses 404) when none is; half set refuses to start.
# The provider's endpoints are given explicitly (its discovery document lists them); ID tokens are
# RS256, checked against its JWKS. OIDC_ORGANISATION_CLAIM names the claim that says the person's
# organisation; the Forum team maps its values to portal organisations and roles (admin) and
# approves each first sign-in (/accounts/sso/requests/).
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_RP_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_RP_CLIENT_SECRET", "")
OIDC_OP_ISSUER = os.environ.get("OIDC_OP_ISSUER", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("OIDC_OP_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("OIDC_OP_USER_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("OIDC_OP_JWKS_ENDPOINT", "")
SSO_REQUIRED_SETTINGS = (
    "OIDC_RP_CLIENT_ID", "OIDC_RP_CLIENT_SECRET", "OIDC_OP_ISSUER", "OIDC_OP_AUTHORIZATION_ENDPOINT",
    "OIDC_OP_TOKEN_ENDPOINT", "OIDC_OP_USER_ENDPOINT", "OIDC_OP_JWKS_ENDPOINT",
)
_sso_set = [name for name in SSO_REQUIRED_SETTINGS if globals()[name]]
if _sso_set and len(_sso_set) != len(SSO_REQUIRED_SETTINGS):
    raise ImproperlyConfigured("Single sign-on needs all of " + ", ".join(
        name for name in SSO_REQUIRED_SETTINGS if name not in _sso_set) + " (or none of the OIDC_ settings)")
SSO_ENABLED = bool(_sso_set)
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = os.environ.get("OIDC_RP_SCOPES", "openid email profile")
OIDC_ORGANISATION_CLAIM = os.environ.get("OIDC_ORGANISATION_CLAIM", "organisation")
OIDC_PROVIDER_NAME = os.environ.get("OIDC_PROVIDER_NAME", "your organisation's account")  # on the sign-in button
OIDC_USE_PKCE = True
OIDC_TIMEOUT = int(os.environ.get("OIDC_TIMEOUT", "10"))  # seconds for each call to the provider
OIDC_AUTHENTICATION_CALLBACK_URL = "sso:callback"
OIDC_CALLBACK_CLASS = "sso.views.PortalCallbackView"
OIDC_AUTHENTICATE_CLASS = "sso.views.PortalStartView"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "landing"  # kentforum.landing.landing_url: each role lands where it works
LOGOUT_REDIRECT_URL = "home"

# Celery: a real worker on Redis when REDIS_URL is set, otherwise tasks run eagerly in-process.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
else:
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

# The cache (API rate limits): Redis when REDIS_URL is set, so that every web process counts together.
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TRACK_STARTED = True
# Tasks are written to be idempotent; a task lost with its worker is delivered again.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Seconds a worker waits, after one of its pool processes died, for a result it may have sent
# before marking the task lost (and so putting it back on the queue). Celery's default.
CELERY_WORKER_LOST_WAIT = float(os.environ.get("CELERY_WORKER_LOST_WAIT", "10"))
# A task whose whole worker died stays unacknowledged in Redis; a worker's periodic sweep (every
# interval x throttle seconds, under a Redis lock that expires after the mutex expiry) gives it back
# to its queue once the visibility timeout has passed since it was delivered. The timeout must be
# longer than the longest task (else Redis delivers a running task again); the other three are
# kombu's defaults, so a killed worker's task is back within about timeout + 100 s (+ 300 s if the
# worker died during a sweep). tests/reliability/ runs them at a few seconds.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
    "unacked_restore_interval": int(os.environ.get("CELERY_UNACKED_RESTORE_INTERVAL", "10")),
    "unacked_restore_throttle": int(os.environ.get("CELERY_UNACKED_RESTORE_THROTTLE", "10")),
    "unacked_mutex_expire": int(os.environ.get("CELERY_UNACKED_MUTEX_EXPIRE", "300")),
}
CELERY_BEAT_SCHEDULE = {
    "lock-periods-past-grace": {
        "task": "performance.tasks.period_lock_overdue_task",
        "schedule": 15 * 60,
    },
    "return-reminders": {
        "task": "performance.tasks.reminders_send_task",
        "schedule": 60 * 60,
    },
    "nightly-rollup-rebuild": {
        "task": "performance.tasks.rollup_rebuild_task",
        "schedule": crontab(hour=2, minute=30),
    },
    # Notifications: the approvers' daily digest, followed indicators' news, unsent e-mails swept up.
    "approvals-digest": {
        "task": "notifications.tasks.approvals_digest_task",
        "schedule": crontab(hour=7, minute=30),
    },
    "indicator-subscriptions": {
        "task": "notifications.tasks.subscriptions_check_task",
        "schedule": 15 * 60,
    },
    "notification-email-outbox": {
        "task": "notifications.tasks.notifications_email_outbox_task",
        "schedule": 15 * 60,
    },
    # Partner webhooks: deliveries due (a retry whose message was lost, or the worker was down).
    "webhook-deliveries-due": {
        "task": "webhooks.tasks.webhook_deliveries_sweep_task",
        "schedule": 60,
    },
}

# Partner webhooks (webhooks/): endpoints are HTTPS on public addresses only. The tests (and a
# local demo) may allow plain HTTP to 127.0.0.1 / localhost, and loopback or private addresses.
WEBHOOKS_ALLOW_LOOPBACK_HTTP = env_bool("WEBHOOKS_ALLOW_LOOPBACK_HTTP", False)

# Returns: reminder e-mails this many days before a period's deadline (and again when overdue);
# links in e-mails point at PORTAL_BASE_URL.
RETURN_REMINDER_DAYS = int(os.environ.get("RETURN_REMINDER_DAYS", "7"))
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Kent Forum performance portal <performance@kentforum.example>")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "kentforum.api.authentication.PartnerKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Each viewset declares who may use it (kentforum.api.base); anything that forgets is closed.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # JSON only; deep nesting and lone surrogates are a 400, not a server error (kentforum.api.parsers).
    "DEFAULT_PARSER_CLASSES": ["kentforum.api.parsers.StrictJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Figures are JSON numbers (17.5), as partners send them, not strings ("17.5000").
    "COERCE_DECIMAL_TO_STRING": False,
    "DEFAULT_THROTTLE_RATES": {
        "partner_key": os.environ.get("API_KEY_RATE", "600/min"),
        "anon": os.environ.get("API_ANON_RATE", "300/min"),
        "user": os.environ.get("API_USER_RATE", "1200/min"),
    },
    # How many proxies stand in front of the web processes: clients are told apart by the
    # address they add to X-Forwarded-For, not by a header anyone can write (0: REMOTE_ADDR).
    "NUM_PROXIES": int(os.environ.get("API_NUM_PROXIES", "0")),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kent Forum performance portal API",
    "DESCRIPTION": (
        "Kent's performance framework and figures: ambitions, KPQs, boards, partners, delivery plans, "
        "localities (by GSS code), indicators with targets, periods, returns, milestones, rollups and studies. "
        "Anyone may read published (approved) data. Partner systems authenticate with "
        "`Authorization: Api-Key <key>`; a key with the submit scope may post returns for the organisations it names. "
        "Every list is JSON, or CSV at its address with `.csv` for the final slash (`/api/v1/indicators.csv`); "
        "pages link to the next in a `Link` header, and cursor lists also give `next_cursor`. Figures are JSON "
        "numbers. A query parameter a list does not take is a 400."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "kentforum.api.schema.add_standard_errors",
    ],
    "ENUM_NAME_OVERRIDES": {
        "DirectionEnum": "performance.models.Direction",
        "WorkflowStateEnum": "performance.models.WorkflowState",
        "MilestoneStatusEnum": "performance.models.MilestoneReturn.Status",
        "PeriodStatusEnum": "performance.models.ReportingPeriod.Status",
        "WebhookEventEnum": "webhooks.models.Event",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        # The security log: the message is already one JSON object (kentforum.security).
        "json": {"format": "%(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "security": {"class": "logging.StreamHandler", "formatter": "json"},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Sign-ins, failures, lockouts, refusals, API key use, reopened periods: always at INFO.
        "kentforum.security": {"handlers": ["security"], "level": "INFO", "propagate": False},
        # django-axes' own lines repeat the security log with masked fields: warnings only.
        "axes": {"level": "WARNING"},
        # The board pack's renderers say each step at INFO (WeasyPrint, its font subsetting, Matplotlib's font cache).
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "matplotlib": {"level": "WARNING"},
    },
}

# Where the facts of the Kent framework and the demo set are kept (readable YAML).
FRAMEWORK_DATA_DIR = BASE_DIR / "data" / "kent_framework"
DEMO_DATA_DIR = BASE_DIR / "data" / "demo"

# Memory each set-based rollup statement may use for its joins on PostgreSQL (SET LOCAL work_mem).
ROLLUP_WORK_MEM = os.environ.get("ROLLUP_WORK_MEM", "256MB")
