"""The approval queue's pages: the queue with its filters (GET), the confirmation of a bulk
approval (POST of the selection: a page, no change), and the bulk approval itself (POST: all or
nothing, through ``workflow.returns_approve_many``). Each says who may use it; each parses the
request, calls a selector or the service, and renders. No rule lives here.

(In a module of their own beside ``views.py``, which is near the architecture test's 500
lines.)"""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from kentforum.roles import Role, require_role
from performance.returns import approvals, workflow

NOTHING_CHOSEN = "Select at least one return to approve."
NOT_YOURS = "You may approve only returns waiting for approval that you may decide: nothing was approved."


def _queue(request, *, errors=(), status=200, selected=None):
    queue = approvals.approval_queue_page(request.user, request.GET, page_number=request.GET.get("page") or 1)
    if selected is not None:
        queue.selected = selected
    filter_errors = [
        (f"id_{name}", f"{queue.filterset.form.fields[name].label}: {' '.join(errs)}")
        for name, errs in (queue.filterset.form.errors.items() if not queue.filterset.is_valid() else [])
    ]
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("selected", None)
    form = queue.filterset.form
    # Each list read in one query (a ModelChoiceIterator's len() would count its rows first).
    choices = {name: [choice for choice in form.fields[name].choices] for name in ("organisation", "ambition", "indicator", "state")}
    return render(request, "performance/approvals.html", {
        "queue": queue, "form": form, "choices": choices, "errors": [*errors, *filter_errors], "query": params.urlencode(),
    }, status=400 if filter_errors and status == 200 else status)


@require_role(Role.APPROVER)
@require_GET
def approval_queue(request):
    """Who may see it: approvers. The returns waiting for approval that they may decide (or, for
    reference, returned and approved ones), filtered, sorted by deadline, to approve one by one
    from each return's page or several at once."""
    return _queue(request)


def _chosen(request):
    """The selection posted, as ``ChosenReturn``s; 403 if it names a return the approver may
    not see (another's draft, or none at all), so that a crafted selection approves nothing."""
    selection = approvals.parse_selection(request.POST.getlist("selected"))
    chosen, missing = approvals.selected_returns(request.user, selection)
    if missing:
        raise PermissionDenied(NOT_YOURS)
    return chosen


def _confirm_page(request, chosen, *, status=200, errors=()):
    back = reverse("performance:approvals") + "?" + urlencode([("selected", c.key) for c in chosen])
    return render(request, "performance/approvals_confirm.html", {
        "chosen": chosen, "errors": list(errors), "back": back, "failed": bool(errors),
    }, status=status)


@require_role(Role.APPROVER)
@require_POST
def approval_confirm(request):
    """Who may use it: approvers, with a POST of the returns chosen in the queue. Shows exactly
    which returns, at which versions, the next button approves; changes nothing. GET: 405."""
    chosen = _chosen(request)
    if not chosen:
        return _queue(request, errors=[("selected-returns", NOTHING_CHOSEN)], status=400)
    return _confirm_page(request, chosen)


@require_role(Role.APPROVER)
@require_POST
def approval_approve(request):
    """Who may use it: approvers, with the POST of the confirmation page. Approves every chosen
    return, or none: if any cannot be (changed since it was chosen, no longer waiting, a period
    closed), the confirmation page says which and why (409), with the selection kept."""
    chosen = _chosen(request)
    if not chosen:
        return _queue(request, errors=[("selected-returns", NOTHING_CHOSEN)], status=400)
    try:
        workflow.returns_approve_many(items=[(c.ret, c.version) for c in chosen], user=request.user)
    except workflow.BulkApprovalError as error:
        failed = {id(f.ret): f.message for f in error.failures}
        for c in chosen:
            c.error = failed.get(id(c.ret), "")
        errors = [(c.row_id, f"{c.title}, {c.area}, {c.ret.period.label}: {c.error}") for c in chosen if c.error]
        return _confirm_page(request, chosen, status=409, errors=errors)
    except ValidationError as error:
        return _confirm_page(request, chosen, status=400, errors=[(None, " ".join(error.messages))])
    count = len(chosen)
    messages.success(request, f"{count} return{'' if count == 1 else 's'} approved: " + "; ".join(
        f"{c.title}, {c.area}, {c.ret.period.label}" for c in chosen
    ) + ".")
    return redirect("performance:approvals")
