"""The comment door of the return pages: a comment is posted to ``.../comments/`` and the
officer, approver or Forum team member comes back to the page's conversation (``#comments``);
a refused comment shows the page again with the error summary and the text kept. The rules
are ``returns.comments``."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from kentforum.errors import add_to_form
from kentforum.forms import error_list
from performance.returns import comments, views
from performance.returns.forms import ReturnCommentForm


def _comment(request, ret, allowed, *, page_url: str, page):
    """Add the posted comment to ``ret`` and go back to ``page_url``'s conversation; or show the
    page again (``page``, with the refused form) with status 400."""
    if ret is None:
        raise Http404("Nothing has been entered for this return yet, so there is nothing to comment on.")
    if not allowed.sees_workings:
        raise PermissionDenied(comments.NOT_YOURS)
    form = ReturnCommentForm(request.POST)
    form.is_valid()
    try:
        comments.return_comment_add(ret=ret, user=request.user, text=form.cleaned_data.get("text", ""))
    except ValidationError as error:
        add_to_form(form, error)
        return page(status=400, comment_form=form, errors=error_list(form))
    messages.success(request, "Your comment has been added.")
    return redirect(page_url + "#comments")


@login_required
@require_POST
def indicator_return_comments(request, period_id: int, code: str, gss_code: str):
    """Who may use it: whoever sees the return's workings (its organisation's officers, approvers
    once it is submitted, the Forum team); anyone else who may open the page (an approved
    return, published): 403, as is the page for those who may not; a return not started: 404."""
    assignment, period, ret, allowed = views.access_indicator_slot(request.user, period_id, code, gss_code)
    url = reverse("performance:indicator-return", args=[period_id, code, gss_code])
    return _comment(request, ret, allowed, page_url=url,
                    page=lambda **extra: views.indicator_page(request, assignment, period, ret, **extra))


@login_required
@require_POST
def milestone_return_comments(request, period_id: int, milestone_id: int):
    """Who may use it: as for an indicator return's comments, for the milestone's return."""
    milestone, period, ret, allowed = views.access_milestone_slot(request.user, period_id, milestone_id)
    url = reverse("performance:milestone-return", args=[period_id, milestone_id])
    return _comment(request, ret, allowed, page_url=url,
                    page=lambda **extra: views.milestone_page(request, milestone, period, ret, **extra))
