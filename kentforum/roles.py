"""The portal's roles, kept as Django groups, and who belongs to which organisation.

- Officer: enters returns for their own organisation.
- Approver: approves returns or sends them back with a reason.
- Board member: reads the dashboards, adds judgements to KPQs, and publishes the reports of
  the boards they sit on.
- Forum team admin: keeps the framework in the admin, opens and locks periods.
A user's organisation is that of the Person linked to them. ``require_role`` guards a page by role.
"""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db import models


class Role(models.TextChoices):
    OFFICER = "officer", "Officer"
    APPROVER = "approver", "Approver"
    BOARD_MEMBER = "board_member", "Board member"
    FORUM_ADMIN = "forum_admin", "Forum team admin"


GROUP_NAMES = {
    Role.OFFICER: "Officers",
    Role.APPROVER: "Approvers",
    Role.BOARD_MEMBER: "Board members",
    Role.FORUM_ADMIN: "Forum team admins",
}

# The Forum team keeps the framework: every model of these apps, except the returns, which
# change only through the return workflow.
FRAMEWORK_APPS = ("ambitions", "partnerships", "localities", "performance", "webhooks")
WORKFLOW_ONLY_MODELS = {"indicatorreturn", "milestonereturn"}


def roles_ensure_groups() -> dict[str, Group]:
    """Create the role groups if missing and give the Forum team admins their model permissions.
    Idempotent."""
    groups = {role: Group.objects.get_or_create(name=name)[0] for role, name in GROUP_NAMES.items()}
    framework_perms = Permission.objects.filter(content_type__app_label__in=FRAMEWORK_APPS).exclude(
        content_type__model__in=WORKFLOW_ONLY_MODELS, codename__regex=r"^(add|change|delete)_"
    )
    admin_group = groups[Role.FORUM_ADMIN]
    wanted = set(framework_perms.values_list("pk", flat=True))
    if set(admin_group.permissions.values_list("pk", flat=True)) != wanted:
        admin_group.permissions.set(wanted)
    return groups


def user_roles(user) -> set[str]:
    if not getattr(user, "is_authenticated", False) or not hasattr(user, "groups"):
        return set()
    names = set(user.groups.values_list("name", flat=True))
    return {role for role, name in GROUP_NAMES.items() if name in names}


def user_organisation(user):
    """The organisation the user works for, or None."""
    person = getattr(user, "person", None) if getattr(user, "is_authenticated", False) else None
    return person.organisation if person else None


def require_role(*roles):
    """Signed in, and holding one of ``roles``; otherwise the sign-in page or 403."""

    def decorator(view):
        @login_required
        def wrapped(request, *args, **kwargs):
            if not user_roles(request.user) & set(roles):
                raise PermissionDenied("This page is for " + " or ".join(Role(r).label.lower() + "s" for r in roles) + ".")
            return view(request, *args, **kwargs)

        wrapped.__name__ = view.__name__
        wrapped.__doc__ = view.__doc__
        return wrapped

    return decorator
