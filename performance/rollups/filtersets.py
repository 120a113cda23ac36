"""The one filter definition of the summary rows, used by the API."""
from __future__ import annotations

import django_filters

from kentforum.filtersets import BaseFilterSet, UTCDateTimeFilter, WholeNumberFilter
from performance.catalogue import filter_scope
from performance.catalogue.filtersets import KPQFilter, PeriodRangeMixin
from performance.models import IndicatorRollup


class IndicatorRollupFilterSet(PeriodRangeMixin, BaseFilterSet):
    search_fields = ("indicator__code", "indicator__name")
    indicator = django_filters.CharFilter(field_name="indicator__code")
    locality = django_filters.CharFilter(field_name="locality__gss_code", label="Area (GSS code)")
    ambition = WholeNumberFilter(method="filter_ambition", label="Ambition number: its indicators")
    board = django_filters.CharFilter(method="filter_board", label="Board (slug): its ambition's indicators or its district")
    kpq = KPQFilter(method="filter_kpq", label="KPQ code, e.g. A2-KPQ4: the indicators answering it")
    delivery_plan = django_filters.CharFilter(method="filter_plan", label="Delivery plan (slug): its ambitions' indicators")
    updated_since = UTCDateTimeFilter(field_name="computed_at", lookup_expr="gte")

    class Meta:
        model = IndicatorRollup
        fields = ["indicator", "locality", "status", "breakdown_key", "complete"]

    # Each resolves its indicators (or district) first, so the summary is read through an index
    # (``catalogue.filter_scope``), whatever the order of its ids.
    def filter_ambition(self, queryset, name, value):
        return filter_scope.in_scope(queryset, filter_scope.ambition_scope(value))

    def filter_board(self, queryset, name, value):
        return filter_scope.in_scope(queryset, filter_scope.board_scope(value))

    def filter_kpq(self, queryset, name, value):
        return filter_scope.in_scope(queryset, filter_scope.kpq_scope(value))

    def filter_plan(self, queryset, name, value):
        return filter_scope.in_scope(queryset, filter_scope.delivery_plan_scope(value))
