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
