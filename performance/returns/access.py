"""Who may do what with returns, read from the one table in ``performance.models.scope``
(``scope_for``; lists use ``IndicatorReturn.objects.restrict``):

- ``can_enter`` / ``check_can_enter``: an officer enters the returns of their own organisation,
  a submit-scope key those of the organisations it names. The services ask this whatever door
  calls them (``user=None``, the system itself, may always).
- ``can_approve`` / ``check_can_approve``: approvers approve submitted returns or send them back.
- ``check_can_manage_periods`` (the catalogue's): the Forum team reopens approved returns.
- ``ReturnAccess``: what one return page, or one decision on it, allows its viewer: whether they
  may see it, see its workings (audit trail, send-back reason, unapproved earlier values),
  change it, approve or send it back, reopen it.

Anyone sees approved (published) returns, in the browser as in the API; officers also their own
organisation's returns in every state, approvers submitted and decided returns of every
organisation (not drafts), the Forum team everything. Board members and anyone else: approved
returns only.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied

from performance.catalogue.access import can_manage_periods, check_can_manage_periods  # noqa: F401  (the Forum team reopens approved returns)
from performance.models import IndicatorReturn, ReportingPeriod, WorkflowState
from performance.models.scope import EDITABLE_STATES, scope_for, scopes_for

DECISIONS = ("approve", "send-back", "reopen")


def can_enter(user, organisation) -> bool:
    return organisation is not None and scope_for(user, "enter").covers(None, organisation.pk)


def can_approve(user) -> bool:
    return scope_for(user, "decide").covers(WorkflowState.SUBMITTED, None)


def check_can_enter(user, organisation) -> None:
    if user is not None and not can_enter(user, organisation):
        raise PermissionDenied("Only an officer of the organisation that makes this return may change it.")


def check_can_approve(user) -> None:
    if user is not None and not can_approve(user):
        raise PermissionDenied("Only an approver may approve returns or send them back.")


class ReturnAccess:
    """What ``actor`` may do with one return slot: ``ret`` (None if not started yet) of
    ``organisation`` (the slot's current owner: the assignment's organisation or the
    milestone's owner) in ``period``. The actor's scopes are read once.

    - ``can_view``: the page opens. A return: the view scope covers it (so anyone's approved
      return). A slot not started: whoever would see its workings (its officers, the Forum team).
    - ``sees_workings``: the page shows the audit trail, the send-back reason and earlier
      unapproved values (the workings scope covers the return, or the empty slot).
    - ``can_enter``: may post figures for the slot (officers of its owner).
    - ``can_edit``: the form is shown: may enter, the period is open, the return is not started
      or is a draft or returned.
    - ``can_decide``: approve and send-back buttons: an approver, a submitted return, an open period.
    - ``can_reopen``: the reopen form: the Forum team, an approved indicator return (milestone
      returns are not reopened), an open period.
    """

    def __init__(self, actor, ret, *, organisation, period):
        scopes = scopes_for(actor)
        self.ret = ret
        is_open = period.status == ReportingPeriod.Status.OPEN
        state = ret.state if ret is not None else None
        owner_id = ret.organisation_id if ret is not None else getattr(organisation, "pk", None)
        self._decide = scopes["decide"]
        self.sees_workings = scopes["workings"].covers(state, owner_id)
        self.can_view = scopes["view"].covers(state, owner_id) if ret is not None else self.sees_workings
        self.can_enter = organisation is not None and scopes["enter"].covers(None, organisation.pk)
        self.can_edit = self.can_enter and is_open and (ret is None or ret.state in EDITABLE_STATES)
        self.can_decide = (
            ret is not None and ret.state == WorkflowState.SUBMITTED and is_open
            and self._decide.covers(WorkflowState.SUBMITTED, ret.organisation_id)
        )
        self.can_reopen = (
            isinstance(ret, IndicatorReturn) and ret.state == WorkflowState.APPROVED and is_open
            and self._decide.covers(WorkflowState.APPROVED, ret.organisation_id)
        )

    def may_decide(self, decision: str) -> bool:
        """The gate of a decision's POST (``decision`` one of ``DECISIONS``; the view answers 404
        to any other): the actor sees the return's workings and, to reopen, is the Forum team
        and the return an indicator return; to approve or send back, is an approver. Whether the
        return is in a state to be decided, and the period open, the workflow service says."""
        if decision not in DECISIONS:
            raise ValueError(f"Unknown decision {decision!r}.")
        if not self.sees_workings or self.ret is None:
            return False
        if decision == "reopen":
            return isinstance(self.ret, IndicatorReturn) and self._decide.covers(WorkflowState.APPROVED, self.ret.organisation_id)
        return self._decide.covers(WorkflowState.SUBMITTED, self.ret.organisation_id)
