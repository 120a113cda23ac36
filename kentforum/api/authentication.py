"""Per-partner API keys: sent as ``Authorization: Api-Key <key>``, stored hashed, named,
revocable, expiring, with a scope; and the OpenAPI description of that scheme.

A request that tries to send a key any other way (another scheme in ``Authorization``, such as
``Bearer`` or a lower-case ``api-key``; an empty key; an ``X-Api-Key`` header; an ``api_key``
query parameter) is refused with 401 saying how to send it, never served as an anonymous caller
(which would quietly show it only published data)."""
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from kentforum import security
from partnerships.models import PartnerAPIKey

KEYWORD = "Api-Key"
HOW_TO_SEND = f"Send a partner key as the header “Authorization: {KEYWORD} <key>”."
# Other places a client might put a key: each is refused, not ignored.
KEY_HEADERS = ("HTTP_X_API_KEY", "HTTP_API_KEY")
KEY_PARAMETERS = ("api_key", "apikey", "api-key")


def misplaced_key(request) -> str | None:
    """Why the request's credentials are not a key we read (None when there are none, or when
    they are ``Authorization: Api-Key <something>``)."""
    header = authentication.get_authorization_header(request)
    if header:
        scheme, _, key = header.decode("latin-1").partition(" ")
        if scheme != KEYWORD:
            return (f"The Authorization header's scheme is “{scheme[:20]}”; this API reads only “{KEYWORD}” "
                    "(with that capitalisation).")
        if not key.strip():
            return "The Authorization header names no key."
        return None
    for name in KEY_HEADERS:
        if name in request.META:
            return f"The API does not read a key from the {name[5:].replace('_', '-').title()} header."
    for name in KEY_PARAMETERS:
        if name in request.query_params:
            return f"The API does not read a key from the “{name}” query parameter (it would be logged with the address)."
    return None


class PartnerKeyAuthentication(authentication.BaseAuthentication):
    keyword = KEYWORD

    def authenticate(self, request):
        problem = misplaced_key(request)
        if problem:
            security.api_key_rejected(request, "", "malformed")
            raise exceptions.AuthenticationFailed(f"{problem} {HOW_TO_SEND}")
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        key = header[len(self.keyword) + 1:].strip()
        prefix = key.partition(".")[0]
        api_key = PartnerAPIKey.objects.filter(prefix=prefix).first() if prefix else None
        if api_key is None or not api_key.is_valid(key):
            security.api_key_rejected(request, prefix, "unknown")
            raise exceptions.AuthenticationFailed("Unknown API key.")
        if api_key.revoked:
            security.api_key_rejected(request, prefix, "revoked")
            raise exceptions.AuthenticationFailed("This API key has been revoked.")
        if api_key.has_expired:
            security.api_key_rejected(request, prefix, "expired")
            raise exceptions.AuthenticationFailed("This API key has expired.")
        PartnerAPIKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now())
        # The security log names the key by its prefix and partner, never the key itself.
        security.api_key_used(request, api_key)
        return AnonymousUser(), api_key

    def authenticate_header(self, request):
        return self.keyword


class PartnerKeyScheme(OpenApiAuthenticationExtension):
    """Describes the partner key in the OpenAPI schema."""

    target_class = "kentforum.api.authentication.PartnerKeyAuthentication"
    name = "PartnerApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey", "in": "header", "name": "Authorization",
            "description": (
                f"`{KEYWORD} <key>`: a partner key issued by the Kent Forum team (read or submit scope). Any other "
                "scheme (`Bearer`, `api-key`), an empty key, an `X-Api-Key` header or an `api_key` parameter is 401."
            ),
        }
