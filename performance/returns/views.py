"""Pages of the returns workflow. Each view says who may use it; each parses the request, calls a
service or selector, and renders. No rule lives here."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from kentforum.errors import add_to_form, joined
from kentforum.forms import error_list
from kentforum.middleware import BUSY_RETRY_AFTER, database_busy_code, database_busy_message
from kentforum.roles import Role, require_role, user_organisation
from performance.catalogue import rules, services
from performance.catalogue import selectors as catalogue_selectors
from performance.catalogue.periods import MILESTONE_PERIOD_KIND, is_returned_in
from performance.models import (
    BreakdownCategory,
    IndicatorAssignment,
    IndicatorReturn,
    Milestone,
    MilestoneReturn,
    ReportingPeriod,
    ReturnImport,
)
from performance.models.scope import EDITABLE_STATES
from performance.returns import access, comments, exports, imports, page_errors, selectors, validation, workflow
from performance.returns.forms import (
    DecisionForm,
    IndicatorReturnForm,
    MilestoneReturnForm,
    PeriodOpenForm,
    PeriodReopenForm,
    ReturnCommentForm,
    ReturnUploadForm,
    SendBackForm,
)
from performance.returns.my_returns import my_returns_page

# --- My returns ------------------------------------------------------------------------------

@require_role(Role.OFFICER)
def my_returns(request):
    """Who may see it: officers; each sees their own organisation's returns only, filtered and sorted."""
    page = my_returns_page(request.user, request.GET)
    return render(request, "performance/my_returns.html", {"page": page, "errors": page.errors}, status=400 if page.errors else 200)


# --- Indicator returns -----------------------------------------------------------------------

NOT_YOURS = "You may see another organisation's returns once they are approved."


def access_indicator_slot(user, period_id: int, code: str, gss_code: str):
    """The assignment, period, total return (or None) and ``ReturnAccess`` behind a return page:
    404 if there is no such return to make, 403 if the user may not see it."""
    period = get_object_or_404(ReportingPeriod, pk=period_id)
    assignment = get_object_or_404(
        IndicatorAssignment.objects.select_related("indicator", "locality", "organisation"),
        indicator__code=code, locality__gss_code=gss_code,
    )
    ret = (
        IndicatorReturn.objects.select_related("indicator", "locality", "period", "organisation", "submitted_by", "decided_by")
        .filter(indicator=assignment.indicator, locality=assignment.locality, period=period, breakdown__isnull=True).first()
    )
    if ret is None and not is_returned_in(assignment.indicator, period):
        raise Http404(services.not_returned_message(assignment.indicator, period))
    allowed = access.ReturnAccess(user, ret, organisation=assignment.organisation, period=period)
    if not allowed.can_view:
        raise PermissionDenied(NOT_YOURS)
    return assignment, period, ret, allowed


def _indicator_context(request, assignment, period, ret, form, *, conflict=None, assessment=None):
    indicator = assignment.indicator
    target = services.target_for(indicator, assignment.locality, period)
    # After a save (or a conflict) ``ret`` is newer than the one the page was opened with.
    allowed = access.ReturnAccess(request.user, ret, organisation=assignment.organisation, period=period)
    breakdowns = []
    if ret is not None:
        breakdowns = list(
            IndicatorReturn.objects.filter(
                indicator=indicator, locality=assignment.locality, period=period, breakdown__isnull=False
            ).select_related("breakdown__dimension")
        )
    return {
        "assignment": assignment, "indicator": indicator, "period": period, "ret": ret, "form": form,
        "errors": error_list(form) if form is not None else [], "target": target,
        "history": selectors.previous_values(indicator, assignment.locality, period, request.user, sees_workings=allowed.sees_workings),
        "events": _history(request, ret, allowed), "access": allowed, "can_edit": allowed.can_edit,
        "can_decide": allowed.can_decide, "can_reopen": allowed.can_reopen,
        "send_back_form": SendBackForm(initial={"version": ret.version}) if ret else None,
        "conflict": conflict, "assessment": assessment, "breakdowns": breakdowns,
        "status_label": rules.STATUS_LABELS.get(assessment.status) if assessment else None,
        "comment_form": ReturnCommentForm(), **comments.page_context(request.user, ret, allowed),
        **page_errors.indicator_page_errors(form, assessment),  # breakdowns by dimension; their warnings linked
    }


def _categories(indicator):
    return list(BreakdownCategory.objects.filter(dimension__indicators=indicator).select_related("dimension").order_by("dimension__name", "order"))


def _initial_from(ret, categories):
    if ret is None:
        return {}
    parts = {
        r.breakdown_id: r.value
        for r in IndicatorReturn.objects.filter(
            indicator_id=ret.indicator_id, locality_id=ret.locality_id, period_id=ret.period_id, breakdown__isnull=False
        )
    }
    released = ret.source_released
    initial = {
        "value": ret.value, "numerator": ret.numerator, "denominator": ret.denominator, "commentary": ret.commentary,
        "version": ret.version, "quality": ret.quality, "quality_note": ret.quality_note,
        "released_day": released.day if released else None, "released_month": released.month if released else None,
        "released_year": released.year if released else None,
        "ci_lower": ret.ci_lower, "ci_upper": ret.ci_upper, "sample_base": ret.sample_base,
    }
    initial.update({f"breakdown_{c.pk}": parts.get(c.pk) for c in categories})
    return initial


def _carried(request, assignment, period):
    return selectors.carried_commentary(assignment.indicator, assignment.locality, period, request.user)


def indicator_page(request, assignment, period, ret, *, status: int = 200, **extra):
    """The return page as it opens, its form holding what is stored, with ``extra`` context (how
    a refused comment or send-back is shown again)."""
    categories = _categories(assignment.indicator)
    # Last period's commentary starts a new return's, and is marked while a stored one is still it.
    carried = _carried(request, assignment, period) if ret is None or (ret.state in EDITABLE_STATES and ret.commentary) else None
    form = IndicatorReturnForm(indicator=assignment.indicator, categories=categories, initial=_initial_from(ret, categories),
                               carried=carried)
    context = {**_indicator_context(request, assignment, period, ret, form), **extra}
    return render(request, "performance/indicator_return.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def indicator_return(request, period_id: int, code: str, gss_code: str):
    """Who may see it (signed in; ``access.ReturnAccess``): anyone, once the return is approved
    (read-only: its figures and commentary, as the API publishes them); the officers of the
    organisation that makes the return (to enter it), approvers (submitted and decided returns,
    to decide) and the Forum team, with its workings (audit trail, send-back reason, earlier
    unapproved values). Anyone else, a draft or a return not started: 403."""
    assignment, period, ret, allowed = access_indicator_slot(request.user, period_id, code, gss_code)
    if request.method == "GET":
        return indicator_page(request, assignment, period, ret)
    categories = _categories(assignment.indicator)
    if not allowed.can_enter:
        raise PermissionDenied("Only an officer of the organisation that makes this return may change it.")
    carried = _carried(request, assignment, period) if request.POST.get("commentary", "").strip() else None
    form = IndicatorReturnForm(request.POST, indicator=assignment.indicator, categories=categories, carried=carried)
    action = request.POST.get("action", "save")
    if not form.is_valid():
        assessment = page_errors.add_indicator_rule_errors(form, assignment.indicator, assignment.locality, period) if action == "submit" else None
        return render(request, "performance/indicator_return.html",
                      _indicator_context(request, assignment, period, ret, form, assessment=assessment), status=400)
    figures = form.figures()
    try:
        saved = workflow.indicator_return_save_draft(
            indicator=assignment.indicator, locality=assignment.locality, period=period,
            organisation=assignment.organisation, figures=figures, expected_version=form.cleaned_data.get("version"),
            user=request.user,
        )
        if action == "submit":
            try:
                workflow.indicator_return_submit(
                    ret=saved, expected_version=saved.version, user=request.user,
                    confirm_warnings=form.cleaned_data.get("confirm_warnings", False),
                )
            except ValidationError as error:
                # The figures are kept as a draft; the officer sees what stops submission.
                form = IndicatorReturnForm(request.POST.copy(), indicator=assignment.indicator, categories=categories, carried=carried)
                form.data["version"] = str(saved.version)
                form.is_valid()
                add_to_form(form, error)
                assessment = validation.assess_figures(assignment.indicator, assignment.locality, period, figures)
                page_errors.add_warnings_and_commentary_errors(form, assessment)  # every error in one round
                context = _indicator_context(request, assignment, period, saved, form, assessment=assessment)
                context["saved_as_draft"] = True
                return render(request, "performance/indicator_return.html", context, status=400)
            messages.success(request, f"{assignment.indicator.name} for {assignment.locality.name} submitted for approval.")
            return redirect("performance:my-returns")
    except workflow.StaleReturnError as conflict:
        context = _indicator_context(request, assignment, period, conflict.current, form, conflict=conflict.current)
        context["conflict_rows"] = _conflict_rows(assignment.indicator, conflict.current, figures, categories)
        return render(request, "performance/indicator_return.html", context, status=409)
    except ValidationError as error:
        add_to_form(form, error)
        return render(request, "performance/indicator_return.html", _indicator_context(request, assignment, period, ret, form), status=400)
    except DatabaseError as error:
        if (code := database_busy_code(error)) is None:
            raise
        # Another save held these rows past the lock timeout: nothing was saved, and the
        # officer's figures stay in the form to send again.
        form.add_error(None, f"{database_busy_message(code)} Your figures are still in the form.")
        response = render(request, "performance/indicator_return.html",
                          _indicator_context(request, assignment, period, ret, form), status=503)
        response["Retry-After"] = str(BUSY_RETRY_AFTER[code])
        return response
    messages.success(request, "Draft saved.")
    return redirect(request.path)


def _conflict_rows(indicator, current, figures, categories):
    stored = _initial_from(current, categories)
    labels = [("value", "Value")] if not indicator.is_rate else [("numerator", "Numerator"), ("denominator", "Denominator")]
    labels += [(f"breakdown_{c.pk}", c.label) for c in categories] + [("commentary", "Commentary")]
    yours = {"value": figures.value, "numerator": figures.numerator, "denominator": figures.denominator,
             "commentary": figures.commentary, **{f"breakdown_{k}": v for k, v in figures.breakdowns.items()}}
    return [
        {"label": label, "theirs": stored.get(key), "yours": yours.get(key), "differs": stored.get(key) != yours.get(key)}
        for key, label in labels
    ]


# --- Milestone returns -----------------------------------------------------------------------

def access_milestone_slot(user, period_id: int, milestone_id: int):
    """The milestone, period, return (or None) and ``ReturnAccess`` behind a milestone return
    page: 404 if there is no such milestone or period, 403 if the user may not see it."""
    period = get_object_or_404(ReportingPeriod, pk=period_id)
    milestone = get_object_or_404(Milestone.objects.select_related("owner", "delivery_plan", "priority_area"), pk=milestone_id)
    ret = MilestoneReturn.objects.select_related("organisation", "period").filter(milestone=milestone, period=period).first()
    if ret is None and period.kind != MILESTONE_PERIOD_KIND:
        raise Http404("Milestones are reported quarterly.")
    allowed = access.ReturnAccess(user, ret, organisation=milestone.owner, period=period)
    if not allowed.can_view:
        raise PermissionDenied(NOT_YOURS)
    return milestone, period, ret, allowed


def _history(request, ret, allowed):
    """The return's audit trail for its page, for whoever sees its workings: the latest changes,
    or all with ``?history=all``."""
    if ret is None or not allowed.sees_workings:
        return []
    return selectors.return_history(ret, show_all=request.GET.get("history") == "all")


def _milestone_context(request, milestone, period, ret, form, *, conflict=None):
    allowed = access.ReturnAccess(request.user, ret, organisation=milestone.owner, period=period)
    return {
        "milestone": milestone, "period": period, "ret": ret, "form": form, "errors": error_list(form),
        "events": _history(request, ret, allowed), "access": allowed, "can_edit": allowed.can_edit,
        "conflict": conflict, "can_decide": allowed.can_decide,
        "send_back_form": SendBackForm(initial={"version": ret.version}) if ret else None,
        "comment_form": ReturnCommentForm(), **comments.page_context(request.user, ret, allowed),
    }


def milestone_page(request, milestone, period, ret, *, status: int = 200, **extra):
    """The milestone return page as it opens, its form holding what is stored, with ``extra``."""
    form = MilestoneReturnForm(initial=MilestoneReturnForm.initial_from(ret))
    context = {**_milestone_context(request, milestone, period, ret, form), **extra}
    return render(request, "performance/milestone_return.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def milestone_return(request, period_id: int, milestone_id: int):
    """Who may see it (signed in; ``access.ReturnAccess``): anyone, once the return is approved
    (read-only, without its workings); officers of the milestone's owner (to enter), approvers
    (submitted and decided returns, to decide) and the Forum team, with the audit trail and
    send-back reason. Anyone else, a draft or a return not started: 403."""
    milestone, period, ret, allowed = access_milestone_slot(request.user, period_id, milestone_id)
    if request.method == "GET":
        return milestone_page(request, milestone, period, ret)
    if not allowed.can_enter:
        raise PermissionDenied("Only an officer of the milestone's owner may change its return.")
    form = MilestoneReturnForm(request.POST)
    if not form.is_valid():  # the rules' errors too, in the same round as the fields'
        page_errors.add_milestone_rule_errors(form, milestone, submit=request.POST.get("action") == "submit")
        return render(request, "performance/milestone_return.html", _milestone_context(request, milestone, period, ret, form), status=400)
    try:
        saved = workflow.milestone_return_save_draft(
            milestone=milestone, period=period, organisation=milestone.owner, progress=form.progress(),
            expected_version=form.cleaned_data.get("version"), user=request.user,
        )
        if request.POST.get("action") == "submit":
            try:
                workflow.milestone_return_submit(ret=saved, expected_version=saved.version, user=request.user)
            except ValidationError as error:
                form = MilestoneReturnForm(request.POST.copy())
                form.data["version"] = str(saved.version)
                form.is_valid()
                add_to_form(form, error)
                context = _milestone_context(request, milestone, period, saved, form)
                context["saved_as_draft"] = True
                return render(request, "performance/milestone_return.html", context, status=400)
            messages.success(request, f"Progress on '{milestone.title}' submitted for approval.")
            return redirect("performance:my-returns")
    except workflow.StaleReturnError as conflict:
        return render(
            request, "performance/milestone_return.html",
            _milestone_context(request, milestone, period, conflict.current, form, conflict=conflict.current), status=409,
        )
    except ValidationError as error:
        add_to_form(form, error)
        return render(request, "performance/milestone_return.html", _milestone_context(request, milestone, period, ret, form), status=400)
    messages.success(request, "Draft saved.")
    return redirect(request.path)


# --- Approval --------------------------------------------------------------------------------

# The approval queue and its bulk approval: ``approval_views``.

def _return_page(ret) -> str:
    if isinstance(ret, IndicatorReturn):
        return reverse("performance:indicator-return", args=[ret.period_id, ret.indicator.code, ret.locality.gss_code])
    return reverse("performance:milestone-return", args=[ret.period_id, ret.milestone_id])


def _return_page_again(request, ret, **extra):
    if isinstance(ret, IndicatorReturn):
        assignment, period, ret, _ = access_indicator_slot(request.user, ret.period_id, ret.indicator.code, ret.locality.gss_code)
        return indicator_page(request, assignment, period, ret, **extra)
    milestone, period, ret, _ = access_milestone_slot(request.user, ret.period_id, ret.milestone_id)
    return milestone_page(request, milestone, period, ret, **extra)


def _decide(request, ret, decision: str):
    form = (SendBackForm if decision == "send-back" else DecisionForm)(request.POST)
    if not form.is_valid():
        if decision == "send-back":  # the page again, its error summary linking to the reason
            return _return_page_again(request, ret, send_back_form=form, errors=error_list(form), status=400)
        return redirect(_return_page(ret))
    try:
        if decision == "approve":
            workflow.return_approve(ret=ret, expected_version=form.cleaned_data["version"], user=request.user)
            messages.success(request, f"Approved: {ret}.")
        elif decision == "send-back":
            workflow.return_send_back(
                ret=ret, reason=form.cleaned_data["reason"], expected_version=form.cleaned_data["version"], user=request.user
            )
            messages.success(request, f"Returned to the officer: {ret}.")
        else:  # reopen (``_decision_allowed`` let no other decision through)
            workflow.return_reopen(
                ret=ret, reason=request.POST.get("reason", ""), expected_version=form.cleaned_data["version"], user=request.user
            )
            messages.success(request, f"Reopened: {ret}.")
    except workflow.StaleReturnError:
        messages.error(request, "The return changed while you were looking at it. Check it again before deciding.")
        return redirect(_return_page(ret))
    except ValidationError as error:
        messages.error(request, joined(error))
        return redirect(_return_page(ret))
    return redirect("performance:approvals" if decision != "reopen" else _return_page(ret))


def _decision_allowed(request, ret, decision: str) -> None:
    """404 for a decision that does not exist; 403 unless ``ReturnAccess.may_decide``."""
    if decision not in access.DECISIONS:
        raise Http404("No such decision.")
    allowed = access.ReturnAccess(request.user, ret, organisation=ret.organisation, period=ret.period)
    if not allowed.may_decide(decision):
        raise PermissionDenied(
            "Only the Forum team may reopen an approved indicator return." if decision == "reopen"
            else "Only an approver may decide on returns."
        )


@login_required
@require_POST
def indicator_decision(request, pk: int, decision: str):
    """Who may use it: approvers (approve, send back) and the Forum team (reopen); each only on a
    return whose workings they see (never a draft). Another decision: 404."""
    ret = get_object_or_404(IndicatorReturn.objects.select_related("period", "indicator", "locality", "organisation"), pk=pk, breakdown__isnull=True)
    _decision_allowed(request, ret, decision)
    return _decide(request, ret, decision)


@login_required
@require_POST
def milestone_decision(request, pk: int, decision: str):
    """Who may use it: approvers (approve, send back), on a return whose workings they see (never
    a draft). Milestone returns are not reopened (403). Another decision: 404."""
    ret = get_object_or_404(MilestoneReturn.objects.select_related("period", "milestone", "organisation"), pk=pk)
    _decision_allowed(request, ret, decision)
    return _decide(request, ret, decision)


# --- Periods ---------------------------------------------------------------------------------

@require_role(Role.FORUM_ADMIN)
@require_http_methods(["GET", "POST"])
def periods(request):
    """Who may see it: the Forum team. Open a period with its deadline, lock it, reopen it with a
    reason; see which organisations with returns outstanding the reminder e-mails cannot reach."""
    open_form = reopen_form = None
    target = None
    if request.method == "POST":
        target = get_object_or_404(ReportingPeriod, pk=request.POST.get("period"))
        action = request.POST.get("action")
        try:
            if action == "open":
                open_form = PeriodOpenForm(request.POST)
                if open_form.is_valid() and open_form.cleaned_data["deadline"]:
                    services.period_open(
                        period=target, deadline=open_form.cleaned_data["deadline"],
                        grace_days=open_form.cleaned_data["grace_days"], user=request.user,
                    )
                    messages.success(request, f"{target.label} is open for returns.")
                    return redirect("performance:periods")
            elif action == "lock":
                services.period_lock(period=target, user=request.user)
                messages.success(request, f"{target.label} is locked.")
                return redirect("performance:periods")
            elif action == "reopen":
                reopen_form = PeriodReopenForm(request.POST)
                if reopen_form.is_valid():
                    services.period_reopen(period=target, reason=reopen_form.cleaned_data["reason"], user=request.user)
                    messages.success(request, f"{target.label} is open again.")
                    return redirect("performance:periods")
            else:
                raise Http404
        except ValidationError as error:
            form = open_form or reopen_form
            if form is not None:
                add_to_form(form, error)
            else:
                messages.error(request, joined(error))
    context = {
        "periods": catalogue_selectors.periods_for_admin(), "target": target, "open_form": open_form or PeriodOpenForm(),
        "reopen_form": reopen_form or PeriodReopenForm(), "errors": error_list(open_form, reopen_form),
        "unreachable": selectors.reminders_unreachable(),
    }
    return render(request, "performance/periods.html", context, status=400 if target else 200)


# --- CSV bulk entry --------------------------------------------------------------------------

def _officer_period(request, period_id):
    organisation = user_organisation(request.user)
    if organisation is None:
        raise PermissionDenied("Your account is not linked to an organisation.")
    return organisation, get_object_or_404(ReportingPeriod, pk=period_id)


@require_role(Role.OFFICER)
def return_template(request, period_id: int):
    """Who may use it: officers; the template holds their own organisation's returns only."""
    organisation, period = _officer_period(request, period_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="returns-{organisation.slug}-{period.label.replace("/", "-").replace(" ", "-")}.csv"'
    response.write("\ufeff")  # so that Excel opens it as UTF-8
    exports.write_template(response, organisation, period)
    return response


@require_role(Role.OFFICER)
@require_http_methods(["GET", "POST"])
def return_upload(request, period_id: int):
    """Who may use it: officers, for their own organisation's returns."""
    organisation, period = _officer_period(request, period_id)
    form = ReturnUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = imports.import_preview(
                user=request.user, organisation=organisation, period=period, filename=upload.name, raw=upload.read()
            )
            return redirect("performance:import", pk=job.pk)
        except ValidationError as error:
            form.add_error("file", error.messages)
    status = 400 if request.method == "POST" else 200
    return render(request, "performance/upload.html", {"form": form, "period": period, "errors": error_list(form)}, status=status)


@require_role(Role.OFFICER)
@require_http_methods(["GET", "POST"])
def return_import(request, pk: int):
    """Who may see it: the officer who uploaded the file."""
    job = get_object_or_404(ReturnImport.objects.select_related("period", "organisation"), pk=pk)
    if job.uploaded_by_id != request.user.pk:
        raise PermissionDenied("This upload is someone else's.")
    if request.method == "POST":
        try:
            if request.POST.get("action") == "confirm":
                job = imports.import_apply(user=request.user, job=job)
                if job.state == ReturnImport.State.APPLIED:
                    messages.success(request, f"{job.applied_count} returns saved as drafts from {job.filename}. Check and submit them.")
                    return redirect("performance:import", pk=job.pk)
            else:
                imports.import_cancel(user=request.user, job=job)
                messages.success(request, "Upload cancelled; nothing was saved.")
                return redirect("performance:my-returns")
        except (ValidationError, workflow.StaleReturnError) as error:
            messages.error(request, f"Nothing was saved: {getattr(error, 'messages', [str(error)])[0]}")
            job.refresh_from_db()
    return render(request, "performance/import.html", {"job": job, "counts": imports.preview_counts(job), "drafts": imports.import_drafts(job)})
