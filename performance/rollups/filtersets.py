"""The one filter definition of the summary rows, used by the API."""
from __future__ import annotations

import django_filters
from django.db.models import Q

from kentforum.filtersets import BaseFilterSet, UTCDateTimeFilter, WholeNumberFilter
from performance.catalogue.filtersets import PeriodRangeMixin
from performance.models import IndicatorRollup


class IndicatorRollupFilterSet(PeriodRangeMixin, BaseFilterSet):
    search_fields = ("indicator__code", "indicator__name")
    indicator = django_filters.CharFilter(field_name="indicator__code")
    locality = django_filters.CharFilter(field_name="locality__gss_code", label="Area (GSS code)")
    ambition = WholeNumberFilter(field_name="indicator__ambitions__number", distinct=True)
    board = django_filters.CharFilter(method="filter_board", label="Board (slug)")
    updated_since = UTCDateTimeFilter(field_name="computed_at", lookup_expr="gte")

    class Meta:
        model = IndicatorRollup
        fields = ["indicator", "locality", "status", "breakdown_key", "complete"]

    def filter_board(self, queryset, name, value):
        return queryset.filter(Q(indicator__ambitions__board__slug=value) | Q(locality__board__slug=value)).distinct()
