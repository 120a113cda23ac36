"""Shared bases of the REST API: who may call it, how it is paged, filtered, rendered and
rate-limited. App viewsets only declare their queryset, serializer and FilterSet."""
from django.conf import settings
from django_filters.rest_framework import DjangoFilterBackend
from drf_orjson_renderer.renderers import ORJSONRenderer
from rest_framework import exceptions, permissions, throttling, viewsets

from kentforum import rates, security
from kentforum.actors import KeyActor
from partnerships.models import PartnerAPIKey

from .filters import KnownParameters, StrictOrderingFilter
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


PERIOD_WORDS = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}


class ItemCountThrottle:
    """A rate limit that counts what a request does: a bulk write counts each of its items (the
    view's ``throttle_cost``), any other request one. A request that would take the caller over
    its allowance is refused whole (429 with Retry-After: when enough of the allowance is free
    again) and uses none of it; one larger than the whole allowance is refused saying how many
    items a request may carry."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        cost = getattr(view, "throttle_cost", None)
        cost = max(1, cost(request)) if cost else 1
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) + cost <= self.num_requests:
            self.history[:0] = [self.now] * cost
            self.cache.set(self.key, self.history, self.duration)
            return True
        if cost == 1:
            return self.throttle_failure()
        period = PERIOD_WORDS.get(self.duration, f"{self.duration} seconds")
        if cost > self.num_requests:
            raise exceptions.Throttled(wait=self.duration, detail=(
                f"This request has {cost:,} items, and each item counts as one request: the rate limit allows at "
                f"most {self.num_requests:,} a {period}. Send at most {self.num_requests:,} items a request. Nothing "
                "was saved."
            ))
        # The oldest requests that must expire before this one fits.
        wait = self.history[-(len(self.history) + cost - self.num_requests)] + self.duration - self.now
        left = self.num_requests - len(self.history)
        raise exceptions.Throttled(wait=max(wait, 1), detail=(
            f"This request has {cost:,} items, and each item counts as one request: {left:,} of the "
            f"{self.num_requests:,} allowed a {period} are left. Nothing was saved; send it again after "
            f"{max(1, round(wait))} seconds, or send fewer items."
        ))


class PartnerKeyThrottle(ItemCountThrottle, throttling.SimpleRateThrottle):
    """Per-key rate limit (the key's own rate, else API_KEY_RATE), a bulk write counting its
    items; answered with 429 and Retry-After.
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


class AnonymousThrottle(ItemCountThrottle, throttling.AnonRateThrottle):
    def allow_request(self, request, view):
        if isinstance(request.auth, PartnerAPIKey):
            return True
        return super().allow_request(request, view)


class SignedInThrottle(ItemCountThrottle, throttling.UserRateThrottle):
    """Signed-in users are rate-limited too (API_USER_RATE), a bulk write counting its items."""

    def allow_request(self, request, view):
        if isinstance(request.auth, PartnerAPIKey) or not request.user.is_authenticated:
            return True
        return super().allow_request(request, view)


class BaseReadViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [PublicReadOnly]
    pagination_class = StandardPagination
    # Unknown parameters and empty choices are a 400 first; then the FilterSet; then ordering.
    filter_backends = [KnownParameters, DjangoFilterBackend, StrictOrderingFilter]
    renderer_classes = [ORJSONRenderer, SafeCSVRenderer]  # orjson: the same JSON, written faster
    throttle_classes = [PartnerKeyThrottle, AnonymousThrottle, SignedInThrottle]
    lookup_value_regex = "[^/]+"  # any path segment reaches the view, which answers 404 in JSON
    ordering = ["pk"]
