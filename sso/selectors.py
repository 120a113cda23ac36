"""Reads of single sign-on's records: the mapping of a claim value, the identity of an issuer and
subject, and the requests the Forum team has to decide."""
from __future__ import annotations

from django.db.models import QuerySet

from .models import ExternalIdentity, OrganisationClaim


def claim_for_value(value) -> OrganisationClaim | None:
    """The switched-on mapping of an organisation claim value, or None (no value, or unknown)."""
    if not isinstance(value, str) or not value.strip():
        return None
    return OrganisationClaim.objects.select_related("organisation").filter(value=value.strip(), active=True).first()


def identity_find(*, issuer: str, subject: str) -> ExternalIdentity | None:
    return ExternalIdentity.objects.select_related("user", "organisation").filter(
        issuer=issuer, subject=subject).first()


def identity_get(identity_id) -> ExternalIdentity | None:
    """The identity a form names (a string of digits), or None."""
    if not isinstance(identity_id, str) or not identity_id.isdigit() or len(identity_id) > 18:
        return None
    return ExternalIdentity.objects.select_related("organisation").filter(pk=int(identity_id)).first()


def identity_requests_pending() -> QuerySet[ExternalIdentity]:
    """First sign-ins waiting for the Forum team, oldest first."""
    return ExternalIdentity.objects.filter(status=ExternalIdentity.Status.PENDING).select_related(
        "organisation").order_by("created_at", "pk")


def identity_requests_decided(limit: int = 20) -> QuerySet[ExternalIdentity]:
    """The latest decisions, newest first."""
    return ExternalIdentity.objects.exclude(status=ExternalIdentity.Status.PENDING).select_related(
        "organisation", "decided_by").order_by("-decided_at", "-pk")[:limit]
