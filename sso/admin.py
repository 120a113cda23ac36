"""Single sign-on in the admin: the Forum team keeps the map of organisation claims (value →
organisation and role) and reads the identities; first sign-ins are decided on
/accounts/sso/requests/, not here. Open to the Forum team by role (and to superusers)."""
from django.contrib import admin

from kentforum.roles import Role, user_roles

from .models import ExternalIdentity, OrganisationClaim


def _forum_team(request) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff and (user.is_superuser or Role.FORUM_ADMIN in user_roles(user)))


class ForumTeamAdmin(admin.ModelAdmin):
    def has_module_permission(self, request):
        return _forum_team(request)

    def has_view_permission(self, request, obj=None):
        return _forum_team(request)

    def has_add_permission(self, request):
        return _forum_team(request)

    def has_change_permission(self, request, obj=None):
        return _forum_team(request)

    def has_delete_permission(self, request, obj=None):
        return _forum_team(request)


@admin.register(OrganisationClaim)
class OrganisationClaimAdmin(ForumTeamAdmin):
    list_display = ("value", "organisation", "role", "active")
    list_filter = ("role", "active")
    search_fields = ("value", "organisation__name")
    autocomplete_fields = ("organisation",)


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(ForumTeamAdmin):
    """Read-only: decisions are made on the Forum team's page, through the services."""

    list_display = ("name", "organisation", "role", "status", "issuer", "decided_at", "last_sign_in_at")
    list_filter = ("status", "role")
    search_fields = ("name", "email", "subject", "organisation__name")
    readonly_fields = [f.name for f in ExternalIdentity._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
