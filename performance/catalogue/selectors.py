"""Reads of the catalogue: the open periods, which of them an indicator is returned in, the
periods with their history, and indicators filtered as the API filters them."""
from __future__ import annotations

from django.db.models import Prefetch

from performance.catalogue.filtersets import IndicatorFilterSet
from performance.catalogue.periods import period_kinds_for
from performance.models import Indicator, PeriodEvent, ReportingPeriod


def open_periods():
    return ReportingPeriod.objects.filter(status=ReportingPeriod.Status.OPEN).order_by("start", "kind")


def period_for_indicator(indicator, periods_open):
    """Those of ``periods_open`` an indicator is returned for: those of the kinds
    ``periods.period_kinds_for`` gives it (the rule the rollup keeps its rows by too)."""
    wanted = period_kinds_for(indicator)
    return [p for p in periods_open if p.kind in wanted]


def periods_for_admin():
    """Every period, newest first, with its history of openings, lockings and reopenings."""
    return ReportingPeriod.objects.prefetch_related(
        Prefetch("events", queryset=PeriodEvent.objects.select_related("actor"))
    ).order_by("-start", "kind")


def indicators_filtered(params):
    """Active indicators filtered by the same FilterSet as /api/v1/indicators/. Returns the
    FilterSet (for its form and errors) and the rows."""
    queryset = (
        Indicator.objects.filter(is_active=True).select_related("data_owner")
        .prefetch_related("kpqs__ambition", "ambitions").order_by("code")
    )
    filterset = IndicatorFilterSet(params or None, queryset=queryset)
    return filterset, (filterset.qs if filterset.is_bound and filterset.is_valid() else queryset)
