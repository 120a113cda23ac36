"""Who may do what on the project's admin pages: ``ReadOnlyAdminMixin`` for records changed only
by their services (returns, audit records, comparator figures, sign-in identities), and
``ForumTeamAdmin`` for the pages the Forum team keeps by its role rather than by model
permissions: those of the apps added beside the framework (single sign-on's claim map and
identities, the exchange's mapping tables), open to active Forum team admins and superusers (the
admin site itself asks for staff)."""
from django.contrib import admin

from kentforum.roles import Role, user_roles


def is_forum_team(request) -> bool:
    user = request.user
    return bool(user.is_active and (user.is_superuser or Role.FORUM_ADMIN in user_roles(user)))


class ReadOnlyAdminMixin:
    """Shown in the admin, never added, changed or deleted there."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ForumTeamAdmin(admin.ModelAdmin):
    """Viewed, added, changed and deleted by the Forum team (a read-only page overrides the
    writes to False)."""

    def has_module_permission(self, request):
        return is_forum_team(request)

    def has_view_permission(self, request, obj=None):
        return is_forum_team(request)

    def has_add_permission(self, request):
        return is_forum_team(request)

    def has_change_permission(self, request, obj=None):
        return is_forum_team(request)

    def has_delete_permission(self, request, obj=None):
        return is_forum_team(request)
