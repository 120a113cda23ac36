"""The one filter definition of each performance model, used by the API (and any browser list)."""
import django_filters
from django.db.models import Q

from kentforum.filtersets import BaseFilterSet, UTCDateTimeFilter, WholeNumberFilter

from .models import Indicator, IndicatorReturn, IndicatorRollup, Milestone, MilestoneReturn, ReportingPeriod, Study


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
    kpq = django_filters.CharFilter(method="filter_kpq", label="KPQ code, e.g. A2-KPQ4")
    board = django_filters.CharFilter(field_name="ambitions__board__slug", distinct=True, label="Ambition Board (slug)")
    code = django_filters.CharFilter()

    class Meta:
        model = Indicator
        fields = ["unit", "polarity", "aggregation", "frequency", "reporting_level", "is_active"]

    def filter_kpq(self, queryset, name, value):
        try:
            ambition, number = value.upper().removeprefix("A").split("-KPQ")
            return queryset.filter(kpqs__ambition__number=int(ambition), kpqs__number=int(number)).distinct()
        except ValueError:
            return queryset.none()


class ReportingPeriodFilterSet(BaseFilterSet):
    search_fields = ("label",)

    class Meta:
        model = ReportingPeriod
        fields = ["kind", "status"]


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


class MilestoneFilterSet(BaseFilterSet):
    search_fields = ("title", "description")
    delivery_plan = django_filters.CharFilter(field_name="delivery_plan__slug")
    ambition = WholeNumberFilter(field_name="delivery_plan__ambitions__number", distinct=True)
    owner = WholeNumberFilter(field_name="owner_id")

    class Meta:
        model = Milestone
        fields = ["delivery_plan", "owner"]


class MilestoneReturnFilterSet(PeriodRangeMixin, BaseFilterSet):
    search_fields = ("milestone__title", "commentary")
    delivery_plan = django_filters.CharFilter(field_name="milestone__delivery_plan__slug")
    ambition = WholeNumberFilter(field_name="milestone__delivery_plan__ambitions__number", distinct=True)
    state = django_filters.ChoiceFilter(choices=MilestoneReturn._meta.get_field("state").choices)
    updated_since = UTCDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = MilestoneReturn
        fields = ["status", "state"]


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


class StudyFilterSet(BaseFilterSet):
    search_fields = ("title", "summary", "findings")
    ambition = WholeNumberFilter(field_name="ambitions__number", distinct=True)

    class Meta:
        model = Study
        fields = ["kind"]
