"""Middleware of the portal."""
from django.db import connection
from django.http import JsonResponse


def health_status() -> tuple[dict, int]:
    """Whether the database answers; later issues add Redis and the worker."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        database = "unavailable"
    return {"database": database}, 200 if database == "ok" else 503


class HealthCheckMiddleware:
    """Answers ``GET /healthz`` before host validation and the HTTPS redirect, so that a load
    balancer or container health check can reach it by IP over plain HTTP. Who may use it:
    anyone; it reveals only up/down."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz" and request.method in ("GET", "HEAD"):
            body, status = health_status()
            return JsonResponse(body, status=status)
        return self.get_response(request)
