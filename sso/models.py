"""Single sign-on's records: what each value of the identity provider's organisation claim means
in the portal (``OrganisationClaim``), and each person the provider vouches for, found by its
issuer and subject, with the Forum team's decision on their first sign-in (``ExternalIdentity``)."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from kentforum.models import TimeStampedModel
from kentforum.roles import Role
from partnerships.models import Organisation

# A first sign-in may be given any role but the Forum team's own: Forum team admins are made by hand.
GRANTABLE_ROLES = [(role.value, role.label) for role in Role if role != Role.FORUM_ADMIN]


class OrganisationClaim(TimeStampedModel):
    """A value of the identity provider's organisation claim (OIDC_ORGANISATION_CLAIM), the
    portal organisation its people work for, and the role they are given once the Forum team
    approves their first sign-in. A value with no row here (or a row switched off) is refused."""

    value = models.CharField(max_length=200, unique=True,
                             help_text="The claim's value exactly as the identity provider sends it.")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="sso_claims")
    role = models.CharField(max_length=20, choices=GRANTABLE_ROLES, default=Role.OFFICER.value,
                            help_text="The role a first sign-in is given when the Forum team approves it.")
    active = models.BooleanField(default=True, help_text="Off: people sending this value are refused.")

    class Meta:
        ordering = ["value"]
        verbose_name = "organisation claim"

    def __str__(self) -> str:
        return f"{self.value} → {self.organisation} ({self.get_role_display()})"


class ExternalIdentity(TimeStampedModel):
    """Someone the identity provider vouches for: its issuer and the subject it gives them (never
    their e-mail alone), the organisation and role their claim asked for, and the Forum team's
    decision on their first sign-in. Pending and refused identities have no portal user; an
    approved one has the user it signs in as."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the Forum team"
        APPROVED = "approved", "Approved"
        REFUSED = "refused", "Refused"

    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    claim_value = models.CharField(max_length=200, help_text="The organisation claim at the first sign-in.")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="sso_identities")
    role = models.CharField(max_length=20, choices=GRANTABLE_ROLES)
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
                                related_name="sso_identity")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    refusal_reason = models.TextField(blank=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = "external identity"
        verbose_name_plural = "external identities"
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="sso_identity_unique_issuer_subject"),
            models.CheckConstraint(
                condition=models.Q(status="approved", user__isnull=False) | (~models.Q(status="approved") & models.Q(user__isnull=True)),
                name="sso_identity_user_only_when_approved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation}, {self.get_status_display().lower()})"
