"""Single sign-on's pages: the start of a sign-in with the identity provider and the return from
it (mozilla-django-oidc's views; both 404 while single sign-on is not configured), and the Forum
team's page of first sign-ins to approve or refuse."""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from kentforum.forms import error_list
from kentforum.roles import Role, require_role

from . import selectors, services
from .backends import SignInHeld
from .forms import DecisionForm


class SsoOnlyMixin:
    def dispatch(self, request, *args, **kwargs):
        if not settings.SSO_ENABLED:
            raise Http404("Single sign-on is not configured.")
        return super().dispatch(request, *args, **kwargs)


class PortalStartView(SsoOnlyMixin, OIDCAuthenticationRequestView):
    """Who: anyone. Sends the browser to the identity provider (state, nonce and PKCE kept in the session)."""


class PortalCallbackView(SsoOnlyMixin, OIDCAuthenticationCallbackView):
    """Who: anyone coming back from the identity provider. Signs in an approved person; anyone
    else sees why not: waiting for the Forum team (200) or refused (403)."""

    def get(self, request):
        try:
            return super().get(request)
        except SignInHeld as held:
            return held_redirect(request, held.result)

    def login_failure(self):
        return held_redirect(self.request, services.SignInOutcome(services.Outcome.REFUSED, "failed"))


HELD_KEY = "sso_held"  # the session's note of a sign-in held or refused, for the page /accounts/sso/held/


def held_redirect(request, result: services.SignInOutcome):
    """Keep what the sign-in came to in the session and send the browser to its page, so that
    reloading it shows it again (the callback's one-time state cannot be replayed)."""
    request.session[HELD_KEY] = {
        "outcome": result.outcome, "reason": result.reason, "claim_value": result.claim_value,
        "identity": result.identity.pk if result.identity is not None else None,
    }
    return redirect("sso:held")


def _support() -> dict:
    return {"support_email": settings.PORTAL_SUPPORT_EMAIL, "provider_name": settings.OIDC_PROVIDER_NAME}


def held_page(request):
    """Who: whoever's sign-in by the identity provider was just held or refused (the session says
    so; anyone else, or any time single sign-on is off: 404). Waiting for the Forum team (200) or
    refused, and why (403)."""
    held = request.session.get(HELD_KEY) if settings.SSO_ENABLED else None
    if not held or request.method != "GET":
        raise Http404("No sign-in to show.")
    identity = selectors.identity_get(str(held["identity"])) if held.get("identity") else None
    result = services.SignInOutcome(held.get("outcome", ""), held.get("reason", ""), identity=identity,
                                    claim_value=held.get("claim_value", ""))
    context = {"result": result, "identity": identity, "reason": result.reason, **_support()}
    if result.outcome == services.Outcome.PENDING:
        return render(request, "sso/pending.html", context)
    return render(request, "sso/refused.html", context, status=403)


@require_http_methods(["GET", "POST"])
@require_role(Role.FORUM_ADMIN)
def requests_page(request):
    """Who: the Forum team. First sign-ins waiting for a decision, each approved or refused (with a
    reason) by a POST naming it; a POST naming no pending request is 404."""
    bound, status = None, 200
    if request.method == "POST":
        named = selectors.identity_get(request.POST.get("identity", ""))
        if named is None:
            raise Http404("No such sign-in request.")
        identity_id = named.pk
        bound = DecisionForm(request.POST, prefix=f"r{identity_id}")
        if bound.is_valid():
            try:
                if bound.cleaned_data["decision"] == "approve":
                    identity = services.sso_request_approve(identity_id=identity_id, user=request.user,
                                                            request=request)
                else:
                    identity = services.sso_request_refuse(identity_id=identity_id, user=request.user,
                                                           reason=bound.cleaned_data["reason"], request=request)
            except ValidationError as error:
                for message in error.messages:
                    bound.add_error(None, message)
            else:
                return redirect(f"{request.path}?decided={identity.pk}")
        status = 400
    pending = list(selectors.identity_requests_pending())
    forms_by_id = {identity.pk: DecisionForm(prefix=f"r{identity.pk}") for identity in pending}
    if bound is not None:
        forms_by_id[identity_id] = bound
    decided_id = request.GET.get("decided", "")
    return render(request, "sso/requests.html", {
        "rows": [(identity, forms_by_id[identity.pk]) for identity in pending],
        "decided": selectors.identity_requests_decided(),
        "just_decided": selectors.identity_get(decided_id),
        "errors": error_list(bound) if bound is not None else [],
        "sso_enabled": settings.SSO_ENABLED,
    }, status=status)
