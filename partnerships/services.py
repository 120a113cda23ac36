"""Writes of the partnership structure: board seats and portal users tied to people."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from kentforum.roles import Role, roles_ensure_groups

from .models import Board, BoardMembership, Organisation, Person


@transaction.atomic
def membership_create(
    *, board: Board, person: Person, organisation: Organisation, role: str = BoardMembership.Role.MEMBER,
    category: str = BoardMembership.Category.OTHER, note: str = "", start_date=None,
) -> BoardMembership:
    """Give a person a seat on a board, checking the board's rules (e.g. an Ambition Board's Chair
    and Vice-Chair come from different tiers). Raises ValidationError when a rule is broken."""
    membership = BoardMembership(
        board=board, person=person, organisation=organisation, role=role, category=category, note=note,
        start_date=start_date,
    )
    membership.full_clean()
    membership.save()
    return membership


@transaction.atomic
def person_user_ensure(
    *, username: str, name: str, organisation: Organisation, roles: list[str], job_title: str = "",
    email: str = "", password: str | None = None, is_staff: bool = False,
):
    """Create (or bring up to date) a portal user, the Person they are and their role groups.
    The password is set only when given. Returns (user, created)."""
    groups = roles_ensure_groups()
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=username, defaults={"email": email})
    first, _, last = name.partition(" ")
    changed = False
    for attribute, value in (
        ("first_name", first), ("last_name", last), ("email", email),
        ("is_staff", is_staff or Role.FORUM_ADMIN in roles),
    ):
        if getattr(user, attribute) != value:
            setattr(user, attribute, value)
            changed = True
    if password is not None:
        user.set_password(password)
        changed = True
    if changed or created:
        user.save()
    wanted = {groups[role].pk for role in roles}
    if set(user.groups.values_list("pk", flat=True)) != wanted:
        user.groups.set(wanted)
    person, _ = Person.objects.update_or_create(
        user=user, defaults={"name": name, "organisation": organisation, "job_title": job_title, "email": email}
    )
    return user, created
