"""Where a return is in its workflow, and who may see, enter and decide which returns: the one
table every door reads (the return pages, the approval queue, My returns, the API, the export).

- ``WorkflowState`` and its groups (``EDITABLE_STATES``, ``DONE_STATES``, ``DECIDABLE_STATES``).
  They live here, not in ``returns.py``, because the return models take their manager from this
  module, and a module of this project may not import one that imports it back.
- ``Scope``: which returns, as a rule of state and organisation, with ``q()`` for the database
  and ``covers()`` for one return in memory (the same rule both ways).
- ``scope_for(actor, action)``, the table, for an action among ``ACTIONS``:

  ===================  =========================  ======================  =========  =================
  actor                view                       workings                enter      decide
  ===================  =========================  ======================  =========  =================
  anyone (anonymous)   approved, every org        nothing                 nothing    nothing
  officer              + every state, own org     every state, own org    own org    nothing
  approver             + S, A, R of every org     S, A, R of every org    nothing    submitted
  Forum team           everything                 everything              nothing    approved (reopen)
  key                  + every state, key's orgs  every state, key's orgs key's orgs nothing
  ===================  =========================  ======================  =========  =================

  "view" is what is published (approved returns, for everyone, as the API and the export have
  always given them) and what the actor may read beyond that. "workings" is what is behind a
  figure: drafts, the audit trail, send-back reasons, earlier unapproved values. A read key names
  no organisation (``KeyActor.organisation_ids`` is empty), so it views approved returns only.
  Roles add up: an approver who is also in the Forum team decides submitted and approved ones.
- ``ReturnQuerySet.restrict(actor, action)``: the manager of both kinds of return.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db import models
from django.db.models import Q

from kentforum.actors import KeyActor
from kentforum.roles import Role, user_organisation, user_roles


class WorkflowState(models.TextChoices):
    """Where a return is in its journey from officer to approver."""

    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    RETURNED = "returned", "Returned"


# The officer may change it (and submit it).
EDITABLE_STATES = frozenset({WorkflowState.DRAFT, WorkflowState.RETURNED})
# Done, as My returns, the reminders and the overdue lists count them: submitted or approved.
DONE_STATES = frozenset({WorkflowState.SUBMITTED, WorkflowState.APPROVED})
# Put to an approver at least once: what approvers read (not drafts).
DECIDABLE_STATES = frozenset({WorkflowState.SUBMITTED, WorkflowState.APPROVED, WorkflowState.RETURNED})

ACTIONS = ("view", "workings", "enter", "decide")


@dataclass(frozen=True)
class Scope:
    """Returns in any of ``states`` (of every organisation), or of any of ``organisation_ids``
    (in every state); or every return if ``everything``."""

    everything: bool = False
    states: frozenset[str] = frozenset()
    organisation_ids: frozenset[int] = frozenset()

    def q(self) -> Q:
        if self.everything:
            return Q()
        parts = []
        if self.states:
            parts.append(Q(state__in=sorted(self.states)))
        if self.organisation_ids:
            parts.append(Q(organisation_id__in=sorted(self.organisation_ids)))
        return reduce(or_, parts) if parts else Q(pk__in=[])

    def covers(self, state: str | None, organisation_id: int | None) -> bool:
        """Whether a return in ``state`` of the organisation ``organisation_id`` is in the scope
        (``state`` None: a return not started, which only an organisation clause covers)."""
        return (
            self.everything
            or (state is not None and state in self.states)
            or (organisation_id is not None and organisation_id in self.organisation_ids)
        )


NOTHING = Scope()
EVERYTHING = Scope(everything=True)
PUBLISHED = Scope(states=frozenset({WorkflowState.APPROVED}))


def _union(*scopes: Scope) -> Scope:
    return Scope(
        everything=any(s.everything for s in scopes),
        states=frozenset().union(*(s.states for s in scopes)),
        organisation_ids=frozenset().union(*(s.organisation_ids for s in scopes)),
    )


def scopes_for(actor) -> dict[str, Scope]:
    """Every action's scope for ``actor`` (a user, anonymous or not, or a ``KeyActor``), reading
    its roles and organisations once."""
    if isinstance(actor, KeyActor):
        own = Scope(organisation_ids=frozenset(actor.organisation_ids))
        return {"view": _union(PUBLISHED, own), "workings": own, "enter": own, "decide": NOTHING}
    roles = user_roles(actor)
    workings, enter, decide = [NOTHING], NOTHING, [NOTHING]
    if Role.OFFICER in roles and (organisation := user_organisation(actor)) is not None:
        enter = Scope(organisation_ids=frozenset({organisation.pk}))
        workings.append(enter)
    if Role.APPROVER in roles:
        workings.append(Scope(states=DECIDABLE_STATES))
        decide.append(Scope(states=frozenset({WorkflowState.SUBMITTED})))  # approve, send back
    if Role.FORUM_ADMIN in roles:
        workings.append(EVERYTHING)
        decide.append(Scope(states=frozenset({WorkflowState.APPROVED})))  # reopen
    seen = _union(*workings)
    return {"view": _union(PUBLISHED, seen), "workings": seen, "enter": enter, "decide": _union(*decide)}


def scope_for(actor, action: str) -> Scope:
    """The returns ``actor`` may ``action`` (one of ``ACTIONS``); see the module's table."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}: one of {', '.join(ACTIONS)}.")
    return scopes_for(actor)[action]


class ReturnQuerySet(models.QuerySet):
    """Indicator and milestone returns; ``restrict`` keeps those an actor may see, enter or decide."""

    def restrict(self, actor, action: str = "view"):
        return self.filter(scope_for(actor, action).q())
