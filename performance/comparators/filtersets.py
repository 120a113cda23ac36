"""The one filter definition of the comparator areas and figures, used by the API."""
from __future__ import annotations

import django_filters

from kentforum.filtersets import BaseFilterSet
from performance.catalogue.filtersets import PeriodRangeMixin
from performance.models import ComparatorArea, ComparatorFigure


class ComparatorAreaFilterSet(BaseFilterSet):
    search_fields = ("name", "gss_code")
    group = django_filters.CharFilter(field_name="groups__slug", distinct=True, label="Comparator group (slug)")

    class Meta:
        model = ComparatorArea
        fields = ["kind", "gss_code"]


class ComparatorFigureFilterSet(PeriodRangeMixin, BaseFilterSet):
    search_fields = ("indicator__code", "area__name", "source")
    indicator = django_filters.CharFilter(field_name="indicator__code", label="Indicator code")
    area = django_filters.CharFilter(field_name="area__gss_code", label="Comparator area (GSS code)")
    group = django_filters.CharFilter(field_name="area__groups__slug", distinct=True, label="Comparator group (slug)")

    class Meta:
        model = ComparatorFigure
        fields = ["quality"]
