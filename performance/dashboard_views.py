"""Dashboards: the Kent Forum, each Ambition Board, each Locality Board, each KPQ, and the
Ambition Boards' six-monthly reports. They read only the summary tables, which hold approved
figures alone, so anyone may read them without signing in (Annex 1: publish performance
information openly). Adding a judgement and publishing a report need a board member or the
Forum team."""
from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from ambitions.models import KPQ, Ambition
from kentforum.roles import Role, user_roles
from localities.models import Locality

from . import dashboards, services
from .imports import export_cell
from .models import BoardReport, KPQJudgement


def _can_judge(user) -> bool:
    return bool({Role.BOARD_MEMBER, Role.FORUM_ADMIN} & user_roles(user))


@require_GET
def forum(request):
    """Who may see it: anyone."""
    context = dashboards.forum_dashboard()
    context["localities"] = Locality.objects.filter(kind=Locality.Kind.DISTRICT).order_by("name")
    return render(request, "dashboards/forum.html", context)


@require_GET
def ambition(request, number: int):
    """Who may see it: anyone."""
    try:
        context = dashboards.ambition_dashboard(number)
    except Ambition.DoesNotExist as exc:
        raise Http404 from exc
    context["reports"] = BoardReport.objects.filter(board=context["board"]).select_related("period")
    context["can_report"] = _can_judge(request.user)
    return render(request, "dashboards/ambition.html", context)


@require_GET
def locality(request, gss_code: str):
    """Who may see it: anyone."""
    try:
        context = dashboards.locality_dashboard(gss_code)
    except Locality.DoesNotExist as exc:
        raise Http404 from exc
    return render(request, "dashboards/locality.html", context)


@require_http_methods(["GET", "POST"])
def kpq(request, code: str):
    """Who may see it: anyone. Who may add a judgement: board members and the Forum team."""
    try:
        context = dashboards.kpq_page(code)
    except (KPQ.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    context["can_judge"] = _can_judge(request.user)
    context["answers"] = KPQJudgement.Answer.choices
    context["errors"] = []
    status = 200
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{request.build_absolute_uri('/accounts/login/')}?next={request.path}")
        if not context["can_judge"]:
            raise PermissionDenied("Only board members and the Forum team may add a judgement.")
        if context["latest_period"] is None:
            context["errors"] = [("", "There are no figures yet to judge.")]
            status = 400
        else:
            try:
                services.kpq_judgement_add(
                    user=request.user, kpq=context["kpq"], period=context["latest_period"],
                    answer=request.POST.get("answer", ""), rationale=request.POST.get("rationale", ""),
                    derived_answer=context["answer"],
                )
                messages.success(request, "Your judgement has been added.")
                return redirect(request.path)
            except ValidationError as error:
                context["errors"] = [(f"id_{field}" if field != "answer" else "id_answer", message)
                                     for field, msgs in error.message_dict.items() for message in msgs]
                context["posted"] = request.POST
                status = 400
    return render(request, "dashboards/kpq.html", context, status=status)


def _csv_response(rows, filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    writer = csv.writer(response)
    for row in rows:
        writer.writerow([export_cell(cell) for cell in row])
    return response


@login_required
@require_http_methods(["GET", "POST"])
def board_report(request, number: int):
    """Who may see it: board members and the Forum team (the draft report); publishing fixes a
    snapshot that anyone may then read."""
    if not _can_judge(request.user):
        raise PermissionDenied("Draft board reports are for board members and the Forum team.")
    get_object_or_404(Ambition, number=number)
    if request.method == "POST":
        try:
            report = services.board_report_publish(user=request.user, number=number)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(request.path)
        messages.success(request, "The report is published; its figures are fixed as at now.")
        return redirect("dashboards:report", pk=report.pk)
    content = dashboards.board_report_content(number)
    if request.GET.get("format") == "csv":
        return _csv_response(dashboards.board_report_rows(content), f"ambition-{number}-report-draft.csv")
    return render(request, "dashboards/report.html", {"content": content, "draft": True, "number": number})


@require_GET
def published_report(request, pk: int):
    """Who may see it: anyone. The figures are as they were when it was published."""
    report = get_object_or_404(BoardReport.objects.select_related("board", "period", "published_by"), pk=pk)
    if request.GET.get("format") == "csv":
        return _csv_response(dashboards.board_report_rows(report.content), f"board-report-{report.pk}.csv")
    return render(request, "dashboards/report.html", {"content": report.content, "report": report, "draft": False})
