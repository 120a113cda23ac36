"""Reads of the comparator wing: the comparator areas and groups, and their figures for a set of
indicators, in a fixed number of queries (the pages group them here, not in the database)."""
from __future__ import annotations

from collections import defaultdict

from django.db.models import Prefetch

from performance.comparators.services import ENGLAND, NEIGHBOURS_SLUG, SOUTH_EAST
from performance.models import ComparatorArea, ComparatorFigure, ComparatorGroup

HEADLINE_AREAS = (ENGLAND[1], SOUTH_EAST[1])  # England, then the South East, by GSS code


def figures_by_indicator(indicator_ids, *, gss_codes=None) -> dict[int, dict[str, list[ComparatorFigure]]]:
    """Each indicator's comparator figures by area GSS code, oldest period first (one query)."""
    queryset = ComparatorFigure.objects.filter(indicator_id__in=list(indicator_ids)).select_related("area", "period")
    if gss_codes is not None:
        queryset = queryset.filter(area__gss_code__in=list(gss_codes))
    found: dict[int, dict[str, list[ComparatorFigure]]] = defaultdict(lambda: defaultdict(list))
    for figure in queryset.order_by("period__start", "pk"):
        found[figure.indicator_id][figure.area.gss_code].append(figure)
    return found


def headline_areas() -> list[ComparatorArea]:
    """England and the South East, in that order, where they exist."""
    areas = {a.gss_code: a for a in ComparatorArea.objects.filter(gss_code__in=HEADLINE_AREAS)}
    return [areas[code] for code in HEADLINE_AREAS if code in areas]


def groups() -> list[ComparatorGroup]:
    """The comparator groups with their areas by name, Kent's CIPFA nearest neighbours first."""
    found = list(ComparatorGroup.objects.prefetch_related(Prefetch("areas", queryset=ComparatorArea.objects.order_by("name"))))
    return sorted(found, key=lambda g: (g.slug != NEIGHBOURS_SLUG, g.name))


def figure_for(figures: list[ComparatorFigure], period) -> ComparatorFigure | None:
    """Of one area's figures (oldest first), the one for ``period`` if there is one, else the latest."""
    same = [f for f in figures if period is not None and f.period_id == period.pk]
    return same[-1] if same else (figures[-1] if figures else None)
