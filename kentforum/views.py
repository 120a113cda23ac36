"""Public pages of the framework: what Kent is aiming for and who is doing it.

Everything here is published information (Annex 1: "performance management reports and
information should be made publicly available"), so anyone may read it without signing in.
Personal contact data is never shown on these pages.
"""
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from ambitions.selectors import ambition_list, delivery_plan_list
from kentforum import landing
from kentforum.search import MAX_WORDS
from kentforum.search import search as search_framework
from localities.selectors import source_table_list
from partnerships.models import Board
from partnerships.selectors import (
    TERMS_OF_REFERENCE,
    board_detail,
    board_list,
    partnership_list,
    rationalisation_progress,
    terms_of_reference_fixed_points,
    terms_of_reference_warnings,
)
from performance.catalogue.per_head import per_head_table


@require_GET
def home(request):
    """Who may see it: anyone."""
    return render(request, "kentforum/home.html", {"ambitions": ambition_list(), "boards": board_list()})


@require_GET
def delivery_plans(request):
    """Who may see it: anyone."""
    return render(request, "kentforum/delivery_plans.html", {"plans": delivery_plan_list()})


@require_GET
def source_tables(request):
    """Who may see it: anyone. The source documents' data tables, as printed, and beside a count
    table its rates per 100,000 residents over the population of its area and year."""
    tables = [(grid, per_head_table(grid.table)) for grid in source_table_list()]
    return render(request, "kentforum/source_tables.html", {"tables": tables})


@require_GET
def board(request, slug: str):
    """Who may see it: anyone. Members are listed by name and the organisation they represent only.
    An Ambition Board's page states its terms of reference's fixed points and warns where its
    core membership exceeds them."""
    try:
        the_board = board_detail(slug)
    except Board.DoesNotExist as exc:
        raise Http404("No such board") from exc
    return render(request, "kentforum/board.html", {
        "board": the_board,
        "tor_warnings": terms_of_reference_warnings(the_board),
        "tor_reference": TERMS_OF_REFERENCE,
        "tor_fixed_points": terms_of_reference_fixed_points(the_board),
    })


@require_GET
def partnerships(request):
    """Who may see it: anyone."""
    return render(
        request, "kentforum/partnerships.html",
        {"partnerships": partnership_list(), "progress": rationalisation_progress()},
    )


@login_required
@require_GET
def landing_page(request):
    """Who may use it: anyone signed in (the sign-in page sends everyone here)."""
    return redirect(landing.landing_url(request.user))


@require_GET
def search(request):
    """Who may use it: anyone (it finds published things only). ``?q=`` words."""
    query = request.GET.get("q", "")[:300]
    results = search_framework(query)
    return render(request, "kentforum/search.html", {"query": query, "results": results, "max_words": MAX_WORDS})
