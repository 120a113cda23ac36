"""The one filter definition of each catalogue model, used by the API and the indicator list,
and the period range every list of figures filters by."""
from __future__ import annotations

import django_filters
from django import forms

from kentforum.filtersets import BaseFilterSet, WholeNumberFilter
from performance.catalogue import filter_scope
from performance.models import Indicator, Milestone, ReportingPeriod, Study


class KPQCodeField(forms.CharField):
    """A KPQ's code as people write it, "A2-KPQ4" (any case); anything else is an error naming
    the form it takes, not a list that is silently empty (``filter_scope.parse_kpq``)."""

    default_error_messages = {"invalid": "Enter a KPQ code such as A2-KPQ4 (ambition 2, question 4)."}

    def clean(self, value):
        value = super().clean(value)
        if value and filter_scope.parse_kpq(value) is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return value


class KPQFilter(django_filters.CharFilter):
    """The filter of every list that can be narrowed to a KPQ's indicators."""

    field_class = KPQCodeField


class PeriodRangeMixin(django_filters.FilterSet):
    """period (label), period_from / period_to (labels, inclusive), updated_since."""

    period = django_filters.CharFilter(field_name="period__label", label="Period label, e.g. 2011/12 Q1")
    period_from = django_filters.CharFilter(method="filter_from", label="From period (label), inclusive")
    period_to = django_filters.CharFilter(method="filter_to", label="To period (label), inclusive")

    def _start(self, label):
        period = ReportingPeriod.objects.filter(label=label).only("start").first()
        return period.start if period else None

    def filter_from(self, queryset, name, value):
        start = self._start(value)
        return queryset.filter(period__start__gte=start) if start else queryset.none()

    def filter_to(self, queryset, name, value):
        start = self._start(value)
        return queryset.filter(period__start__lte=start) if start else queryset.none()


class IndicatorFilterSet(BaseFilterSet):
    search_fields = ("code", "name", "definition")
    ambition = WholeNumberFilter(field_name="ambitions__number", distinct=True)
    kpq = KPQFilter(method="filter_kpq", label="KPQ code, e.g. A2-KPQ4")
    board = django_filters.CharFilter(field_name="ambitions__board__slug", distinct=True, label="Ambition Board (slug)")
    code = django_filters.CharFilter()

    class Meta:
        model = Indicator
        fields = ["unit", "polarity", "aggregation", "frequency", "reporting_level", "is_active"]

    def filter_kpq(self, queryset, name, value):
        return queryset.filter(pk__in=filter_scope.kpq_scope(value).indicator_ids)


class ReportingPeriodFilterSet(BaseFilterSet):
    search_fields = ("label",)

    class Meta:
        model = ReportingPeriod
        fields = ["kind", "status"]


class MilestoneFilterSet(BaseFilterSet):
    search_fields = ("title", "description")
    delivery_plan = django_filters.CharFilter(field_name="delivery_plan__slug")
    ambition = WholeNumberFilter(field_name="delivery_plan__ambitions__number", distinct=True)
    owner = WholeNumberFilter(field_name="owner_id")

    class Meta:
        model = Milestone
        fields = ["delivery_plan", "owner"]


class StudyFilterSet(BaseFilterSet):
    search_fields = ("title", "summary", "findings")
    ambition = WholeNumberFilter(field_name="ambitions__number", distinct=True)

    class Meta:
        model = Study
        fields = ["kind"]
