"""The one filter definition of indicator and milestone returns, used by the API."""
from __future__ import annotations

import django_filters
from django.db.models import Q

from kentforum.filtersets import BaseFilterSet, UTCDateTimeFilter, WholeNumberFilter
from performance.catalogue.filtersets import PeriodRangeMixin
from performance.models import IndicatorReturn, MilestoneReturn


class IndicatorReturnFilterSet(PeriodRangeMixin, BaseFilterSet):
    search_fields = ("indicator__code", "indicator__name", "commentary")
    indicator = django_filters.CharFilter(field_name="indicator__code", label="Indicator code")
    locality = django_filters.CharFilter(field_name="locality__gss_code", label="Area (GSS code)")
    ambition = WholeNumberFilter(field_name="indicator__ambitions__number", distinct=True)
    board = django_filters.CharFilter(method="filter_board", label="Board (slug): its ambition or its district")
    delivery_plan = django_filters.CharFilter(method="filter_plan", label="Delivery plan (slug): its ambitions' indicators")
    state = django_filters.ChoiceFilter(choices=IndicatorReturn._meta.get_field("state").choices)
    updated_since = UTCDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    breakdown = django_filters.CharFilter(method="filter_breakdown", label="'total', or dimension:category")

    class Meta:
        model = IndicatorReturn
        fields = ["indicator", "locality", "state"]

    def filter_board(self, queryset, name, value):
        return queryset.filter(
            Q(indicator__ambitions__board__slug=value) | Q(locality__board__slug=value)
        ).distinct()

    def filter_plan(self, queryset, name, value):
        return queryset.filter(indicator__ambitions__delivery_plans__slug=value).distinct()

    def filter_breakdown(self, queryset, name, value):
        if value == "total":
            return queryset.filter(breakdown__isnull=True)
        dimension, _, category = value.partition(":")
        return queryset.filter(breakdown__dimension__code=dimension, breakdown__code=category)


class MilestoneReturnFilterSet(PeriodRangeMixin, BaseFilterSet):
    search_fields = ("milestone__title", "commentary")
    delivery_plan = django_filters.CharFilter(field_name="milestone__delivery_plan__slug")
    ambition = WholeNumberFilter(field_name="milestone__delivery_plan__ambitions__number", distinct=True)
    state = django_filters.ChoiceFilter(choices=MilestoneReturn._meta.get_field("state").choices)
    updated_since = UTCDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = MilestoneReturn
        fields = ["status", "state"]
