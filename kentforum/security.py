"""Security: the structured security log, session expiry after a fixed time, and the app
configuration that connects them to Django's and django-axes' signals.

Every security event is one line of JSON on the ``kentforum.security`` logger::

    {"timestamp": "2026-11-22T23:59:01.123456+00:00", "event": "login_failed", "user": "jsmith",
     "ip": "203.0.113.7", "path": "/accounts/login/", "details": {}}

Events: login, login_failed, logout, lockout, session_expired, permission_denied, api_key_used,
api_key_rejected, period_reopened. Passwords and API keys are never written: Django cleans the
credentials it passes on, detail keys that name a secret are dropped, and API keys appear only by
their public prefix.
"""
from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone

from django.apps import AppConfig
from django.conf import settings

logger = logging.getLogger("kentforum.security")

# Detail keys never written, whatever a caller passes.
SECRET_KEYS = frozenset({"password", "password1", "password2", "key", "api_key", "token", "secret", "authorization"})
SIGNED_IN_AT = "kentforum_signed_in_at"


def client_ip(request) -> str | None:
    """The client's address as django-axes works it out (REMOTE_ADDR, or the address the trusted
    proxies added when API_NUM_PROXIES is set)."""
    if request is None:
        return None
    ip = getattr(request, "axes_ip_address", None)
    if ip:
        return ip
    try:
        from axes.helpers import get_client_ip_address

        return get_client_ip_address(request)
    except Exception:  # noqa: BLE001 - a log line must never break a request
        return request.META.get("REMOTE_ADDR")


def _username(user) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.get_username()


_UNSET = object()


def security_event(event: str, *, request=None, user=None, username=_UNSET, **details) -> dict:
    """Write one security event as a JSON line and return what was written. The user is ``username``
    if given (None: nobody), else ``user``'s, else the request's signed-in user."""
    if username is _UNSET:
        if user is None and request is not None:
            # Django's HttpRequest only: asking a DRF Request for .user would authenticate again.
            user = getattr(getattr(request, "_request", request), "user", None)
        username = _username(user)
    record = {
        "timestamp": datetime.now(timezone.utc).isoformat(),
        "event": event,
        "user": username,
        "ip": client_ip(request),
        "path": request.path if request is not None else None,
        "details": {k: v for k, v in details.items() if k.lower() not in SECRET_KEYS},
    }
    logger.info(json.dumps(record, default=str), extra={"security_event": record})
    return record


# --- receivers ---------------------------------------------------------------------------------

def on_logged_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT] = int(time.time())
    security_event("login", request=request, user=user)


def on_login_failed(sender, credentials, request=None, **kwargs):
    # Django has already replaced the password in ``credentials``; only the username is kept.
    security_event("login_failed", request=request, username=str(credentials.get("username") or "") or None)


def on_logged_out(sender, request, user, **kwargs):
    security_event("logout", request=request, user=user)


def on_locked_out(sender, request, username, ip_address, **kwargs):
    security_event(
        "lockout", request=request, username=username or None,
        failure_limit=settings.AXES_FAILURE_LIMIT,
        lockout_minutes=int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    )


def period_reopened(*, period, user, reason: str, request=None) -> dict:
    """A locked period was reopened (written for every PeriodEvent 'reopened')."""
    return security_event("period_reopened", request=request, user=user, period_id=period.pk,
                          period=str(period), reason=reason)


def api_key_used(request, api_key) -> dict:
    """A partner system authenticated with an API key: its prefix, partner and scope, never the key."""
    return security_event(
        "api_key_used", request=request, username=None, key_prefix=api_key.prefix, key_name=api_key.name,
        organisation=api_key.partner.name, scope=api_key.scope,
    )


def api_key_rejected(request, prefix: str, reason: str) -> dict:
    return security_event("api_key_rejected", request=request, username=None, key_prefix=prefix[:16], reason=reason)


def lockout_response(request, original_response=None, credentials=None):
    """The lockout page (AXES_LOCKOUT_CALLABLE): when to try again and whom to ask, status 429.
    Each attempt during a lockout starts the wait again (django-axes' default), so the time is
    counted from now."""
    from django.shortcuts import render
    from django.utils import timezone as dj_timezone

    cool_off = settings.AXES_COOLOFF_TIME
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    response = render(request, "registration/locked_out.html", {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "username": username,
        "lockout_minutes": int(cool_off.total_seconds() // 60),
        "retry_at": dj_timezone.localtime(dj_timezone.now() + cool_off),
        "support_email": settings.PORTAL_SUPPORT_EMAIL,
    }, status=settings.AXES_HTTP_RESPONSE_CODE)
    response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response


# --- middleware --------------------------------------------------------------------------------

class SessionAbsoluteExpiryMiddleware:
    """Signs a user out SESSION_ABSOLUTE_AGE seconds after they signed in, however active they were.
    (The idle timeout is Django's own: SESSION_COOKIE_AGE with SESSION_SAVE_EVERY_REQUEST.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            signed_in_at = request.session.get(SIGNED_IN_AT)
            now = int(time.time())
            if signed_in_at is None:
                request.session[SIGNED_IN_AT] = now
            elif now - int(signed_in_at) > settings.SESSION_ABSOLUTE_AGE:
                from django.contrib.auth import logout

                security_event("session_expired", request=request, user=user, reason="absolute",
                               signed_in_seconds=now - int(signed_in_at))
                logout(request)
        return self.get_response(request)


class PermissionDeniedLogMiddleware:
    """Writes permission_denied for every 403 the portal or the API sends."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 403:
            security_event("permission_denied", request=request, method=request.method, status=403)
        return response


# --- app configuration -------------------------------------------------------------------------

class KentForumConfig(AppConfig):
    """The ``kentforum`` app: connects the security log to the sign-in, lockout and period signals."""

    name = "kentforum"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

        user_logged_in.connect(on_logged_in, dispatch_uid="kentforum.security.login")
        user_login_failed.connect(on_login_failed, dispatch_uid="kentforum.security.login_failed")
        user_logged_out.connect(on_logged_out, dispatch_uid="kentforum.security.logout")
        user_locked_out.connect(on_locked_out, dispatch_uid="kentforum.security.lockout")
