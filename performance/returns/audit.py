"""The audit trail of returns: every change of a return writes a ``ReturnEvent`` (who, when,
from which state to which, and what changed as field: [before, after]) in the transaction
that made it."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone

from kentforum.actors import KeyActor
from performance.models import IndicatorReturn, ReturnEvent, WorkflowState

# --- Audit -----------------------------------------------------------------------------------

def jsonable(value):
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def recorded_person(user):
    """The user to record, or None for the system or a partner's API key."""
    return None if user is None or isinstance(user, KeyActor) else user


def record_event(ret, *, action: str, user, from_state: str, changes: dict | None = None, note: str = "", at=None) -> None:
    """One step of a return's history: who (a person, a partner's API key, or the system when
    neither), what, and each changed field."""
    fk = "indicator_return" if isinstance(ret, IndicatorReturn) else "milestone_return"
    ReturnEvent.objects.create(
        **{fk: ret}, actor=recorded_person(user), api_key=user.key if isinstance(user, KeyActor) else None,
        at=at or timezone.now(), action=action, from_state=from_state,
        to_state=ret.state, version=ret.version,
        changes={k: [jsonable(a), jsonable(b)] for k, (a, b) in (changes or {}).items()}, note=note,
    )


def field_changes(ret, values: dict) -> dict:
    changes = {}
    for name, new in values.items():
        old = getattr(ret, name)
        if isinstance(old, Decimal) and isinstance(new, Decimal) and old == new:
            continue
        if old != new:
            changes[name] = (old, new)
    return changes


def draft_changes(ret, values: dict, *, breakdowns_changed: bool = False) -> dict | None:
    """The audit changes of saving ``values`` (figures, commentary, data quality; for a
    milestone, its progress) over the stored return ``ret`` as a draft, or None if there is
    nothing to write: the values and (``breakdowns_changed``) the breakdown rows are as stored.
    A save that writes nothing keeps the return's version and state: a returned return stays
    returned. One that writes moves the return to draft (the state change is recorded unless
    it is a draft already); its ``return_reason`` stays until it is submitted again. The CSV
    import (``imports.save_slots``) follows the same rule through this function."""
    changes = field_changes(ret, values)
    if not changes and not breakdowns_changed:
        return None
    return {**changes, **field_changes(ret, {"state": WorkflowState.DRAFT})}
