"""Middleware of the portal."""
import logging

from django.http import JsonResponse

from kentforum.health import health_status

logger = logging.getLogger(__name__)


class HealthCheckMiddleware:
    """Answers ``GET /healthz`` before host validation and the HTTPS redirect, so that a load
    balancer or container health check can reach it by IP over plain HTTP. Who may use it:
    anyone; it reveals only up/down of the database, Redis and the Celery worker
    (kentforum/health.py)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz" and request.method in ("GET", "HEAD"):
            body, status = health_status()
            response = JsonResponse(body, status=status)
            response["Cache-Control"] = "no-store"
            return response
        return self.get_response(request)


# PostgreSQL's codes for a request that waited or ran too long, or lost a deadlock: nothing was
# changed, and the same request is likely to succeed a moment later.
LOCK_NOT_AVAILABLE, QUERY_CANCELED, DEADLOCK_DETECTED, SERIALIZATION_FAILURE = "55P03", "57014", "40P01", "40001"
BUSY_RETRY_AFTER = {LOCK_NOT_AVAILABLE: 5, DEADLOCK_DETECTED: 5, SERIALIZATION_FAILURE: 5, QUERY_CANCELED: 30}


def database_busy_code(error: BaseException) -> str | None:
    """The PostgreSQL code of ``error`` (a Django database error wrapping the driver's) if it is
    one of the busy ones above, else None."""
    seen = error
    for _ in range(5):
        if seen is None:
            return None
        code = getattr(seen, "pgcode", None) or getattr(seen, "sqlstate", None)
        if code in BUSY_RETRY_AFTER:
            return code
        seen = seen.__cause__ or seen.__context__
    return None


def database_busy_message(code: str) -> str:
    """What to tell the person whose request met a busy database (``database_busy_code``)."""
    from django.conf import settings

    if code == QUERY_CANCELED:
        return (f"The database took longer than {settings.DB_STATEMENT_TIMEOUT} to answer, so the request was "
                "stopped. Nothing was saved. Try again in a minute.")
    if code == LOCK_NOT_AVAILABLE:
        return (f"Someone else is saving these returns right now, and this request waited "
                f"{settings.DB_LOCK_TIMEOUT} for them. Nothing was saved. Try again in a few seconds.")
    return "This request met another save of the same returns. Nothing was saved. Try again in a few seconds."


class DatabaseBusyMiddleware:
    """A web request that hit the lock timeout (it waited ``DB_LOCK_TIMEOUT`` for rows another
    request or job is writing), the statement timeout (``DB_STATEMENT_TIMEOUT``), a deadlock or
    a serialisation failure is answered **503 with Retry-After** and a message saying nothing
    was saved, as JSON under ``/api/`` and as a page elsewhere; never a hang or a server error.
    Its transaction has been rolled back by then. Who sees it: anyone whose request met one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if (code := database_busy_code(exception)) is None:
            return None
        message = database_busy_message(code)
        retry_after = BUSY_RETRY_AFTER[code]
        logger.warning("database busy (%s) on %s %s: answered 503", code, request.method, request.path)
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": message}, status=503)
        else:
            response = _busy_page(request, message)
        response["Retry-After"] = str(retry_after)
        response["Cache-Control"] = "no-store"
        response._has_been_logged = True  # logged above as a warning, not as a server error
        return response


def _busy_page(request, message: str):
    from django.http import HttpResponse
    from django.template.loader import render_to_string
    from django.utils.html import escape

    try:
        body = render_to_string("database_busy.html", {"message": message}, request=request)
    except Exception:  # noqa: BLE001 - the page must not fail: plain words will do
        body = f"<!DOCTYPE html><title>Try again</title><h1>Try again in a few seconds</h1><p>{escape(message)}</p>"
    return HttpResponse(body, status=503)


NUL_MESSAGE = "A web address may not contain the NUL character (%00). Remove it and try again."


class NulInAddressMiddleware:
    """A NUL character in the path or the query string is a 400 that says so, for every page and
    endpoint alike: PostgreSQL refuses NUL in any string it is given, so such an address would
    otherwise reach a query and answer 500. Who may use it: it only refuses."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.http import HttpResponseBadRequest

        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", "") or any(
            "\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": NUL_MESSAGE}, status=400)
            return HttpResponseBadRequest(NUL_MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
