"""Per-partner API keys: sent as ``Authorization: Api-Key <key>``, stored hashed, named,
revocable, expiring, with a scope."""
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework import authentication, exceptions

from kentforum import security
from partnerships.models import PartnerAPIKey


class PartnerKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header.startswith(f"{self.keyword} "):
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


from drf_spectacular.extensions import OpenApiAuthenticationExtension  # noqa: E402


class PartnerKeyScheme(OpenApiAuthenticationExtension):
    """Describes the partner key in the OpenAPI schema."""

    target_class = "kentforum.api.authentication.PartnerKeyAuthentication"
    name = "PartnerApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey", "in": "header", "name": "Authorization",
            "description": "`Api-Key <key>`: a partner key issued by the Kent Forum team (read or submit scope).",
        }
