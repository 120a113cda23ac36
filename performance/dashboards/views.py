"""Dashboards: the Kent Forum, each Ambition Board, each Locality Board, each KPQ, and the
Ambition Boards' six-monthly reports. Their figures come from the summary tables, which hold
approved figures alone, and the lists of overdue returns name only what is missing, so anyone
may read them without signing in (Annex 1: publish performance information openly). Adding a judgement needs a board member or the Forum team; publishing an
Ambition Board's report needs the Forum team or a member of that board."""
from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from ambitions.models import KPQ, Ambition
from kentforum.csvcells import export_cell
from kentforum.errors import summary_pairs
from localities.models import Locality
from partnerships.models import Board
from performance.dashboards import access, judgements, pack, pages, reports
from performance.dashboards.indicator import indicator_page
from performance.models import BoardReport, Indicator, KPQJudgement


@require_GET
def forum(request):
    """Who may see it: anyone."""
    context = pages.forum_dashboard()
    context["localities"] = Locality.objects.filter(kind=Locality.Kind.DISTRICT).order_by("name")
    return render(request, "dashboards/forum.html", context)


@require_GET
def forum_pack(request):
    """Who may see it: anyone (the Forum dashboard's figures as a PDF board pack, as at now)."""
    return _pdf_response(pack.forum_pack(), f"kent-forum-board-pack-{timezone.localdate():%Y-%m-%d}.pdf")


@require_GET
def ambition(request, number: int):
    """Who may see it: anyone."""
    try:
        context = pages.ambition_dashboard(number)
    except Ambition.DoesNotExist as exc:
        raise Http404 from exc
    context["reports"] = BoardReport.objects.filter(board=context["board"]).select_related("period")
    context["can_report"] = access.can_judge(request.user)
    return render(request, "dashboards/ambition.html", context)


@require_GET
def locality(request, gss_code: str):
    """Who may see it: anyone."""
    try:
        context = pages.locality_dashboard(gss_code)
    except Locality.DoesNotExist as exc:
        raise Http404 from exc
    return render(request, "dashboards/locality.html", context)


@require_GET
def indicator(request, code: str):
    """Who may see it: anyone (approved figures only). An indicator's drill-down: Kent over time,
    every district, breakdowns, targets, data quality, definition and source."""
    try:
        context = indicator_page(code)
    except Indicator.DoesNotExist as exc:
        raise Http404 from exc
    return render(request, "dashboards/indicator.html", context)


@require_http_methods(["GET", "POST"])
def kpq(request, code: str):
    """Who may see it: anyone. Who may add a judgement: board members and the Forum team."""
    try:
        context = pages.kpq_page(code)
    except (KPQ.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    context["can_judge"] = access.can_judge(request.user)
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
                judgements.kpq_judgement_add(
                    user=request.user, kpq=context["kpq"], period=context["latest_period"],
                    answer=request.POST.get("answer", ""), rationale=request.POST.get("rationale", ""),
                    derived_answer=context["answer"],
                )
                messages.success(request, "Your judgement has been added.")
                return redirect(request.path)
            except ValidationError as error:
                context["errors"] = summary_pairs(error)
                context["posted"] = request.POST
                status = 400
    return render(request, "dashboards/kpq.html", context, status=status)


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _csv_response(rows, filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    writer = csv.writer(response)
    for row in rows:
        writer.writerow([export_cell(cell) for cell in row])
    return response


@login_required
def board_report(request, number: int):
    """Who may see it: board members and the Forum team (the draft report, figures as they stand
    now). Publishing is not done here: a POST is refused (405) and publishes nothing; the draft
    links to the preview, where the Forum team and members of this board check and publish."""
    if not access.can_judge(request.user):
        raise PermissionDenied("Draft board reports are for board members and the Forum team.")
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    ambition = get_object_or_404(Ambition, number=number)
    content = reports.board_report_content(number)
    if request.GET.get("format") == "csv":
        return _csv_response(reports.board_report_rows(content), f"ambition-{number}-report-draft.csv")
    if request.GET.get("format") == "pdf":
        return _pdf_response(
            pack.ambition_pack(content, as_at=timezone.now(), title=f"Ambition {number}: draft progress report", draft=True),
            f"ambition-{number}-report-draft.pdf",
        )
    can_publish = access.can_publish_report(request.user, _ambition_board(ambition))
    return render(request, "dashboards/report.html",
                  {"content": content, "draft": True, "number": number, "can_publish": can_publish})


def _ambition_board(ambition):
    return Board.objects.filter(kind=Board.Kind.AMBITION, ambition=ambition).first()


@login_required
@require_http_methods(["GET", "POST"])
def board_report_publish(request, number: int):
    """Who may see it and publish: the Forum team and members of this Ambition Board.

    GET shows exactly the content that would be frozen (through the report's own template) with
    its fingerprint. POST publishes only if the fingerprint sent back is still that of the
    content as it would be frozen now; if the figures changed in between, it shows the new
    preview (409) and publishes nothing."""
    ambition = get_object_or_404(Ambition, number=number)
    if not access.can_publish_report(request.user, _ambition_board(ambition)):
        raise PermissionDenied("Only the Forum team and members of this Ambition Board may publish its report.")
    errors, status = [], 200
    if request.method == "POST":
        try:
            report = reports.board_report_publish(
                user=request.user, number=number, fingerprint=request.POST.get("fingerprint", ""),
            )
        except ValidationError as error:
            errors = summary_pairs(error)
            status = 409 if getattr(error, "code", None) == "changed" else 400
        else:
            messages.success(request, "The report is published; its figures are fixed as at now.")
            return redirect("dashboards:report", pk=report.pk)
    content = reports.board_report_content(number)
    if request.method == "GET" and request.GET.get("format") == "csv":
        return _csv_response(reports.board_report_rows(content), f"ambition-{number}-report-preview.csv")
    if request.method == "GET" and request.GET.get("format") == "pdf":
        return _pdf_response(
            pack.ambition_pack(content, as_at=timezone.now(), title=f"Ambition {number}: progress report, preview", draft=True),
            f"ambition-{number}-report-preview.pdf",
        )
    return render(request, "dashboards/report_publish.html", {
        "content": content, "fingerprint": reports.board_report_fingerprint(content), "number": number,
        "draft": False, "errors": errors,
    }, status=status)


@require_GET
def published_report(request, pk: int):
    """Who may see it: anyone. The figures are as they were when it was published."""
    report = get_object_or_404(BoardReport.objects.select_related("board", "period", "published_by"), pk=pk)
    if request.GET.get("format") == "csv":
        return _csv_response(reports.board_report_rows(report.content), f"board-report-{report.pk}.csv")
    if request.GET.get("format") == "pdf":
        return _pdf_response(pack.ambition_pack(report.content, as_at=report.as_at, title=report.title, draft=False),
                             f"board-report-{report.pk}.pdf")
    return render(request, "dashboards/report.html", {"content": report.content, "report": report, "draft": False})
