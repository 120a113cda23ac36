"""The authentication backend of single sign-on: mozilla-django-oidc's code flow, with the ID
token's issuer and audience checked, the person found by issuer and subject (never by e-mail
alone), and what their sign-in comes to decided by ``sso.services.sso_sign_in_resolve``.

A sign-in that is pending or refused is not a failed password: the backend raises ``SignInHeld``,
which passes through ``django.contrib.auth.authenticate`` (so django-axes counts no failure) to the
callback view, which shows the person the page that says so."""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from . import services


class SignInHeld(Exception):
    """A sign-in through the identity provider that did not sign anyone in: waiting for the Forum
    team, or refused. Carries the ``SignInOutcome``."""

    def __init__(self, result: services.SignInOutcome):
        super().__init__(result.outcome)
        self.result = result


class PortalOIDCBackend(OIDCAuthenticationBackend):
    """Signs in partner staff the identity provider vouches for, once the Forum team approved
    their first sign-in. Does nothing unless single sign-on is configured (SSO_ENABLED)."""

    def authenticate(self, request, **kwargs):
        if not settings.SSO_ENABLED or request is None:
            return None
        return super().authenticate(request, **kwargs)

    def verify_token(self, token, **kwargs):
        """The signature (RS256, the provider's JWKS), expiry and nonce as mozilla-django-oidc
        checks them, then the issuer and audience, which it leaves to us."""
        payload = super().verify_token(token, **kwargs)
        if payload.get("iss") != settings.OIDC_OP_ISSUER:
            raise SuspiciousOperation("The ID token was issued by another provider.")
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if settings.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The ID token was issued for another client.")
        if not payload.get("sub"):
            raise SuspiciousOperation("The ID token names no subject.")
        return payload

    def get_or_create_user(self, access_token, id_token, payload):
        """``payload`` is the verified ID token; the userinfo endpoint's claims add to it (its
        subject must be the token's)."""
        user_info = self.get_userinfo(access_token, id_token, payload)
        if str(user_info.get("sub")) != str(payload["sub"]):
            raise SuspiciousOperation("The userinfo endpoint answered for another subject.")
        claims = {**user_info, **payload}
        result = services.sso_sign_in_resolve(
            issuer=payload["iss"], subject=str(payload["sub"]), claims=claims,
            organisation_claim=settings.OIDC_ORGANISATION_CLAIM,
        )
        services.sso_sign_in_log(result, request=self.request, issuer=payload["iss"])
        if result.user is None:
            raise SignInHeld(result)
        return result.user
