"""Single sign-on in the admin: the Forum team keeps the map of organisation claims (value →
organisation and role) and reads the identities; first sign-ins are decided on
/accounts/sso/requests/, not here. Open to the Forum team by role (and to superusers: ``kentforum.admin_access``)."""
from django.contrib import admin

from kentforum.admin_access import ForumTeamAdmin, ReadOnlyAdminMixin

from .models import ExternalIdentity, OrganisationClaim


@admin.register(OrganisationClaim)
class OrganisationClaimAdmin(ForumTeamAdmin):
    list_display = ("value", "organisation", "role", "active")
    list_filter = ("role", "active")
    search_fields = ("value", "organisation__name")
    autocomplete_fields = ("organisation",)


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(ReadOnlyAdminMixin, ForumTeamAdmin):
    """Read-only: decisions are made on the Forum team's page, through the services."""

    list_display = ("name", "organisation", "role", "status", "issuer", "decided_at", "last_sign_in_at")
    list_filter = ("status", "role")
    search_fields = ("name", "email", "subject", "organisation__name")
    readonly_fields = [f.name for f in ExternalIdentity._meta.fields]
