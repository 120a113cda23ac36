"""Writes of single sign-on: what a sign-in by the identity provider comes to (signed in, a
request waiting for the Forum team, or refused, and why), and the Forum team's approval or
refusal of a first sign-in. Every outcome and decision is written to the security log."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from kentforum.security import security_event
from partnerships.models import Person
from partnerships.services import person_user_ensure

from . import selectors
from .models import ExternalIdentity


class Outcome:
    SIGNED_IN = "signed_in"
    PENDING = "pending"
    REFUSED = "refused"


# Why a sign-in was refused (the refused page says each in words).
UNKNOWN_ORGANISATION = "unknown_organisation"
REFUSED_BY_FORUM_TEAM = "refused_by_forum_team"
ORGANISATION_CHANGED = "organisation_changed"
ACCOUNT_SWITCHED_OFF = "account_switched_off"


@dataclass(frozen=True)
class SignInOutcome:
    """What a sign-in by the identity provider came to: ``user`` only when signed in."""

    outcome: str
    reason: str = ""
    identity: ExternalIdentity | None = None
    user: object = None
    claim_value: str = ""
    created: bool = False


def _claim_text(value) -> str:
    return value.strip()[:200] if isinstance(value, str) else ""


def _display_name(claims: dict) -> str:
    name = claims.get("name") or " ".join(
        part for part in (claims.get("given_name"), claims.get("family_name")) if isinstance(part, str) and part)
    if not isinstance(name, str) or not name.strip():
        name = claims.get("email") or claims.get("preferred_username") or "Unnamed person"
    return str(name).strip()[:200]


@transaction.atomic
def sso_sign_in_resolve(*, issuer: str, subject: str, claims: dict, organisation_claim: str) -> SignInOutcome:
    """A person the identity provider vouched for (``issuer`` and ``subject`` from the verified ID
    token) signs in. The first time, their organisation claim must map to a portal organisation:
    a request is then kept for the Forum team (no user, no role yet); an unknown organisation is
    refused and nothing is kept. Afterwards: pending stays pending, refused stays refused, and an
    approved person signs in as their user while their claim still maps to the organisation that
    was approved and their account is on."""
    claim_value = _claim_text(claims.get(organisation_claim))
    identity = ExternalIdentity.objects.select_for_update(of=("self",)).select_related("user").filter(
        issuer=issuer, subject=subject).first()
    mapping = selectors.claim_for_value(claim_value)
    if identity is None:
        if mapping is None:
            return SignInOutcome(Outcome.REFUSED, UNKNOWN_ORGANISATION, claim_value=claim_value)
        email = claims.get("email") if isinstance(claims.get("email"), str) else ""
        identity = ExternalIdentity(
            issuer=issuer, subject=subject, claim_value=claim_value, organisation=mapping.organisation,
            role=mapping.role, name=_display_name(claims), email=email[:254],
        )
        identity.full_clean(validate_constraints=False)
        try:
            with transaction.atomic():
                identity.save()
        except IntegrityError:  # the same person signing in twice at once: the other request kept it
            identity = ExternalIdentity.objects.get(issuer=issuer, subject=subject)
            return SignInOutcome(Outcome.PENDING, identity=identity, claim_value=claim_value)
        return SignInOutcome(Outcome.PENDING, identity=identity, claim_value=claim_value, created=True)
    if identity.status == ExternalIdentity.Status.PENDING:
        return SignInOutcome(Outcome.PENDING, identity=identity, claim_value=claim_value)
    if identity.status == ExternalIdentity.Status.REFUSED:
        return SignInOutcome(Outcome.REFUSED, REFUSED_BY_FORUM_TEAM, identity=identity, claim_value=claim_value)
    if mapping is None or mapping.organisation_id != identity.organisation_id:
        return SignInOutcome(Outcome.REFUSED, ORGANISATION_CHANGED, identity=identity, claim_value=claim_value)
    if not identity.user.is_active:
        return SignInOutcome(Outcome.REFUSED, ACCOUNT_SWITCHED_OFF, identity=identity, claim_value=claim_value)
    identity.last_sign_in_at = timezone.now()
    identity.save(update_fields=["last_sign_in_at", "updated_at"])
    return SignInOutcome(Outcome.SIGNED_IN, identity=identity, user=identity.user, claim_value=claim_value)


def _username_for(identity: ExternalIdentity) -> str:
    """The e-mail address if no one has it as a username, else a name made from issuer and subject."""
    user_model = get_user_model()
    if identity.email and len(identity.email) <= 150 and not user_model.objects.filter(
            username__iexact=identity.email).exists():
        return identity.email
    digest = hashlib.sha256(f"{identity.issuer}\n{identity.subject}".encode()).hexdigest()[:16]
    return f"sso-{digest}"


def _pending_for_decision(identity_id: int) -> ExternalIdentity:
    identity = ExternalIdentity.objects.select_for_update(of=("self",)).select_related("organisation").get(pk=identity_id)
    if identity.status != ExternalIdentity.Status.PENDING:
        raise ValidationError(f"{identity.name}'s sign-in has already been {identity.get_status_display().lower()}.")
    return identity


@transaction.atomic
def sso_request_approve(*, identity_id: int, user, request=None) -> ExternalIdentity:
    """The Forum team approves a first sign-in: a portal user is made for the person (no usable
    password: they sign in through the identity provider), the Person they are in the mapped
    organisation, and the mapped role. Their next sign-in succeeds. Raises ValidationError if the
    request was already decided or the organisation already has someone of that name with an account."""
    identity = _pending_for_decision(identity_id)
    existing = Person.objects.filter(name=identity.name, organisation=identity.organisation).first()
    if existing is not None and existing.user_id is not None:
        raise ValidationError(
            f"{identity.organisation} already has a person called {identity.name} with a portal account; "
            "refuse this request, or rename that person in the admin first.")
    username = _username_for(identity)
    try:
        with transaction.atomic():
            if existing is not None:  # a person the framework already names, with no account yet: theirs
                existing.user = get_user_model().objects.create_user(username, email=identity.email)
                existing.save(update_fields=["user", "updated_at"])
            portal_user, _ = person_user_ensure(
                username=username, name=identity.name, organisation=identity.organisation,
                roles=[identity.role], email=identity.email, job_title=existing.job_title if existing else "",
            )
    except IntegrityError as error:
        raise ValidationError(f"An account for {identity.name} could not be made: {error}") from error
    portal_user.set_unusable_password()
    portal_user.save(update_fields=["password"])
    identity.status = ExternalIdentity.Status.APPROVED
    identity.user = portal_user
    identity.decided_by = user
    identity.decided_at = timezone.now()
    identity.full_clean()
    identity.save(update_fields=["status", "user", "decided_by", "decided_at", "updated_at"])
    security_event("sso_request_approved", request=request, user=user, identity_id=identity.pk,
                   person=identity.name, organisation=identity.organisation.name, role=identity.role,
                   account=portal_user.get_username())
    return identity


@transaction.atomic
def sso_request_refuse(*, identity_id: int, user, reason: str, request=None) -> ExternalIdentity:
    """The Forum team refuses a first sign-in, saying why; the person's sign-ins are refused from
    then on (they see the reason). Raises ValidationError without a reason or if already decided."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Enter why the sign-in is refused."})
    identity = _pending_for_decision(identity_id)
    identity.status = ExternalIdentity.Status.REFUSED
    identity.refusal_reason = reason
    identity.decided_by = user
    identity.decided_at = timezone.now()
    identity.full_clean()
    identity.save(update_fields=["status", "refusal_reason", "decided_by", "decided_at", "updated_at"])
    security_event("sso_request_refused", request=request, user=user, identity_id=identity.pk,
                   person=identity.name, organisation=identity.organisation.name)
    return identity


def sso_sign_in_log(result: SignInOutcome, *, request, issuer: str) -> dict:
    """The security log's line for a sign-in through the identity provider."""
    details = {"issuer": issuer, "organisation_claim": result.claim_value}
    if result.identity is not None:
        details.update(identity_id=result.identity.pk, organisation=result.identity.organisation.name)
    if result.outcome == Outcome.SIGNED_IN:
        return security_event("sso_login", request=request, user=result.user, role=result.identity.role, **details)
    if result.outcome == Outcome.PENDING:
        return security_event("sso_pending", request=request, username=None, new_request=result.created, **details)
    return security_event("sso_refused", request=request, username=None, reason=result.reason, **details)
