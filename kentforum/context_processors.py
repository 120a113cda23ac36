"""What every page needs to know: the signed-in user's roles and organisation, and whether single
sign-on is on, for the navigation."""
from django.conf import settings

from kentforum.roles import Role, user_organisation, user_roles


def portal(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"roles": set(), "organisation": None}
    roles = user_roles(user)
    return {
        "roles": roles,
        "organisation": user_organisation(user),
        "is_officer": Role.OFFICER in roles,
        "is_approver": Role.APPROVER in roles,
        "is_forum_admin": Role.FORUM_ADMIN in roles,
        "sso_enabled": settings.SSO_ENABLED,
    }
