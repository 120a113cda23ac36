"""Shared bases of the REST API: who may call it, how it is paged, filtered, rendered and
rate-limited. App viewsets only declare their queryset, serializer and FilterSet."""
from django.conf import settings
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, filters, permissions, throttling, viewsets
from drf_orjson_renderer.renderers import ORJSONRenderer

from kentforum import rates, security
from partnerships.models import PartnerAPIKey
from performance.permissions import KeyActor

from .pagination import StandardPagination
from .renderers import SafeCSVRenderer


def actor(request):
    """The party making the request: a partner key, a signed-in user, or an anonymous visitor."""
    if isinstance(request.auth, PartnerAPIKey):
        return KeyActor(key=request.auth)
    return request.user


class PublicReadOnly(permissions.IsAuthenticatedOrReadOnly):
    """Anyone may read (lists are scoped to what the caller may see); writing is for signed-in
    officers or partner keys with the submit scope, and the services check whose returns."""

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        if isinstance(request.auth, PartnerAPIKey):
            return request.auth.scope == PartnerAPIKey.Scope.SUBMIT
        return bool(request.user and request.user.is_authenticated)


class PartnerKeyThrottle(throttling.SimpleRateThrottle):
    """Per-key rate limit (the key's own rate, else API_KEY_RATE); answered with 429 and Retry-After.
    A key whose stored rate is not one we accept (kentforum.rates; saved before the admin checked
    it) is refused with 403 saying so, not a server error on every call."""

    scope = "partner_key"

    def get_rate(self):
        return settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["partner_key"]

    def allow_request(self, request, view):
        if not isinstance(request.auth, PartnerAPIKey):
            return True
        if request.auth.rate:
            try:
                self.num_requests, self.duration = rates.parse_rate(request.auth.rate)
            except ValueError:
                security.api_key_rejected(request, request.auth.prefix, "misconfigured rate")
                raise exceptions.PermissionDenied(
                    f"This key's rate limit (“{request.auth.rate[:20]}”) is misconfigured; ask the Kent Forum team "
                    f"({settings.PORTAL_SUPPORT_EMAIL})."
                ) from None
            self.rate = request.auth.rate
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}


class AnonymousThrottle(throttling.AnonRateThrottle):
    def allow_request(self, request, view):
        if isinstance(request.auth, PartnerAPIKey):
            return True
        return super().allow_request(request, view)


class SignedInThrottle(throttling.UserRateThrottle):
    """Signed-in users are rate-limited too (API_USER_RATE)."""

    def allow_request(self, request, view):
        if isinstance(request.auth, PartnerAPIKey) or not request.user.is_authenticated:
            return True
        return super().allow_request(request, view)


class BaseReadViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [PublicReadOnly]
    pagination_class = StandardPagination
    filter_backends = [DjangoFilterBackend, filters.OrderingFilter]
    renderer_classes = [ORJSONRenderer, SafeCSVRenderer]  # orjson: the same JSON, written faster
    throttle_classes = [PartnerKeyThrottle, AnonymousThrottle, SignedInThrottle]
    lookup_value_regex = "[^/]+"  # any path segment reaches the view, which answers 404 in JSON
    ordering = ["pk"]
