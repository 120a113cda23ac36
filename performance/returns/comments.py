"""The conversation on a return: comments between its officers, the approvers and the Forum
team, and the approver's send-back reason as the return page keeps showing it.

- Who may comment is who sees the return's workings (``scope_for(actor, "workings")``, the one
  table; on a page, ``ReturnAccess.sees_workings``): the officers of the organisation that makes
  it, approvers once it has been submitted (never a draft), the Forum team. A comment is part
  of the workings: the published, read-only view of an approved return shows none.
- Comments are append-only: ``return_comment_add`` writes one, with a ``ReturnEvent``
  "commented" in the same transaction (the audit trail); nothing edits or deletes them.
- ``send_back_notice``: why the return was last sent back (or reopened), read from the audit
  trail rather than the stored ``return_reason`` (which a resubmission clears, as the API
  publishes it), so that it stays on the page whatever is saved or resubmitted, through any
  door, until the return is approved.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from kentforum.actors import KeyActor
from kentforum.roles import Role, user_organisation, user_roles
from performance.models import IndicatorReturn, ReturnComment, ReturnEvent, WorkflowState
from performance.models.scope import DECIDABLE_STATES, scope_for
from performance.returns.audit import record_event

COMMENT_MAX_LENGTH = 2000  # characters of a comment on a return
COMMENT_EMPTY = "Enter a comment."
COMMENT_TOO_LONG = "The comment has {length:,} characters; a comment may have at most {limit:,}."
NOT_YOURS = ("Only the officers of the organisation that makes this return, approvers (once it is submitted) "
             "and the Forum team may comment on it.")


def comment_errors(text: str | None) -> dict[str, str]:
    """A comment's one rule: some words, at most ``COMMENT_MAX_LENGTH`` characters (once the
    spaces around it are taken off). The form shows these; the service refuses with them."""
    length = len((text or "").strip())
    if not length:
        return {"text": COMMENT_EMPTY}
    if length > COMMENT_MAX_LENGTH:
        return {"text": COMMENT_TOO_LONG.format(length=length, limit=COMMENT_MAX_LENGTH)}
    return {}


def can_comment(actor, ret) -> bool:
    """Whether ``actor`` (a signed-in person; never a partner's key) may comment on ``ret``: they
    see its workings."""
    return (
        ret is not None and not isinstance(actor, KeyActor) and getattr(actor, "is_authenticated", False)
        and scope_for(actor, "workings").covers(ret.state, ret.organisation_id)
    )


def commenter_role(user, ret) -> str:
    """The part ``user`` comments in: an officer of the return's organisation, else an approver
    (a return put to approvers), else the Forum team."""
    roles = user_roles(user)
    organisation = user_organisation(user)
    if Role.OFFICER in roles and organisation is not None and organisation.pk == ret.organisation_id:
        return Role.OFFICER
    if Role.APPROVER in roles and ret.state in DECIDABLE_STATES:
        return Role.APPROVER
    return Role.FORUM_ADMIN


def _return_fk(ret) -> str:
    return "indicator_return" if isinstance(ret, IndicatorReturn) else "milestone_return"


@transaction.atomic
def return_comment_add(*, ret, user, text: str) -> ReturnComment:
    """Add ``user``'s comment to the conversation on ``ret`` (an indicator or milestone return)
    and record it in the audit trail. The return's state is read again under a lock, so an
    approver cannot comment on a return that has just become a draft. ``PermissionDenied`` if
    they may not see its workings; ``ValidationError`` (on ``text``) if it is empty or too long."""
    current = type(ret).objects.select_for_update().get(pk=ret.pk)
    if not can_comment(user, current):
        raise PermissionDenied(NOT_YOURS)
    if errors := comment_errors(text):
        raise ValidationError(errors)
    comment = ReturnComment(
        **{_return_fk(ret): current}, author=user, role=commenter_role(user, current), text=text.strip(),
        created_at=timezone.now(),
    )
    comment.full_clean()
    comment.save()
    record_event(current, action=ReturnEvent.Action.COMMENTED, user=user, from_state=current.state,
                 note=comment.text, at=comment.created_at)
    return comment


def return_comments(ret, actor_sees_workings: bool) -> list[ReturnComment]:
    """The conversation on ``ret``, oldest first, with each author's organisation, in one query;
    nothing for those who do not see its workings (or a return not started)."""
    if ret is None or not actor_sees_workings:
        return []
    return list(
        ReturnComment.objects.filter(**{_return_fk(ret): ret})
        .select_related("author__person__organisation").order_by("created_at", "id")
    )


def send_back_notice(ret, actor_sees_workings: bool) -> ReturnEvent | None:
    """The audit event of the return's last send-back (or reopening), with its reason in
    ``note`` and its author in ``actor``, while it still stands: not once the return is approved
    (or approved after it). None for those who do not see the return's workings."""
    if ret is None or not actor_sees_workings or ret.state == WorkflowState.APPROVED:
        return None
    actions = (ReturnEvent.Action.RETURNED, ReturnEvent.Action.REOPENED, ReturnEvent.Action.APPROVED)
    last = (
        ReturnEvent.objects.filter(**{_return_fk(ret): ret}, action__in=actions)
        .select_related("actor").order_by("-at", "-id").first()
    )
    return last if last is not None and last.action != ReturnEvent.Action.APPROVED else None


def page_context(actor, ret, allowed) -> dict:
    """What a return page shows of the conversation: the comments, whether ``actor`` may add one,
    and the standing send-back reason (``allowed``: the page's ``ReturnAccess``)."""
    return {
        "comments": return_comments(ret, allowed.sees_workings),
        "can_comment": ret is not None and allowed.sees_workings,  # can_comment's rule, as the page read it
        "send_back": send_back_notice(ret, allowed.sees_workings),
    }
