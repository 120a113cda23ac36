"""Middleware of the portal."""
from django.http import JsonResponse

from kentforum.health import health_status


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
