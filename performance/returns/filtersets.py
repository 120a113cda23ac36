"""The one filter definition of indicator and milestone returns, used by the API, and the
approval queue's filters (``ApprovalQueueFilterSet``, a form in the browser)."""
from __future__ import annotations

import django_filters
from django import forms

from ambitions.models import Ambition
from kentforum.filtersets import BaseFilterSet, UTCDateTimeFilter, WholeNumberFilter
from partnerships.models import Organisation
from performance.catalogue import filter_scope, rules
from performance.catalogue.filtersets import KPQFilter, PeriodRangeMixin
from performance.models import DataQuality, Indicator, IndicatorReturn, MilestoneReturn, WorkflowState


class IndicatorReturnFilterSet(PeriodRangeMixin, BaseFilterSet):
    search_fields = ("indicator__code", "indicator__name", "commentary")
    indicator = django_filters.CharFilter(field_name="indicator__code", label="Indicator code")
    locality = django_filters.CharFilter(field_name="locality__gss_code", label="Area (GSS code)")
    ambition = WholeNumberFilter(method="filter_ambition", label="Ambition number: its indicators")
    board = django_filters.CharFilter(method="filter_board", label="Board (slug): its ambition or its district")
    kpq = KPQFilter(method="filter_kpq", label="KPQ code, e.g. A2-KPQ4: the indicators answering it")
    delivery_plan = django_filters.CharFilter(method="filter_plan", label="Delivery plan (slug): its ambitions' indicators")
    state = django_filters.ChoiceFilter(choices=IndicatorReturn._meta.get_field("state").choices)
    updated_since = UTCDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    breakdown = django_filters.CharFilter(method="filter_breakdown", label="'total', or dimension:category")

    class Meta:
        model = IndicatorReturn
        fields = ["indicator", "locality", "state"]

    # Each resolves its indicators (or district) first, so the returns are read through an index
    # (``catalogue.filter_scope``), whatever the order of their ids.
    def filter_ambition(self, queryset, name, value):
        return filter_scope.in_scope(queryset, filter_scope.ambition_scope(value))

    def filter_board(self, queryset, name, value):
        return filter_scope.in_scope(queryset, filter_scope.board_scope(value))

    def filter_kpq(self, queryset, name, value):
        return filter_scope.in_scope(queryset, filter_scope.kpq_scope(value))

    def filter_plan(self, queryset, name, value):
        return filter_scope.in_scope(queryset, filter_scope.delivery_plan_scope(value))

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


# The approval queue's flags: each ticked flag narrows the list (a return must have them all).
# Missing its target is judged by ``rules.is_off_target`` on the row's status, after the query, in
# ``returns.approvals.approval_queue_page`` (the one home of that rule is Python).
FLAG_OFF_TARGET, FLAG_WARNINGS, FLAG_QUALITY = "off_target", "warnings", "quality"
QUEUE_FLAGS = [
    (FLAG_OFF_TARGET, f"Missing its target ({rules.status_label(rules.AMBER).lower()} or {rules.status_label(rules.RED).lower()})"),
    (FLAG_WARNINGS, "Warnings confirmed by the officer"),
    (FLAG_QUALITY, "Data quality flagged (provisional, estimated or revised)"),
]
QUEUE_STATES = [
    (WorkflowState.SUBMITTED, "Waiting for approval"),
    (WorkflowState.RETURNED, "Returned to the officer"),
    (WorkflowState.APPROVED, "Approved"),
]


class ApprovalQueueFilterSet(django_filters.FilterSet):
    """The approval queue's filters (a GET form, so a filtered queue can be bookmarked):
    organisation, ambition, indicator, state (waiting for approval unless another is chosen)
    and flags. Used on indicator returns; ``milestones`` applies the organisation, ambition and
    state to milestone returns."""

    organisation = django_filters.ModelChoiceFilter(
        queryset=Organisation.objects.order_by("name"), empty_label="Any organisation", label="Organisation",
    )
    ambition = django_filters.ModelChoiceFilter(
        queryset=Ambition.objects.order_by("number"), to_field_name="number", method="filter_ambition",
        empty_label="Any ambition", label="Ambition",
    )
    indicator = django_filters.ModelChoiceFilter(
        queryset=Indicator.objects.order_by("code"), to_field_name="code", empty_label="Any indicator", label="Indicator",
    )
    state = django_filters.ChoiceFilter(choices=QUEUE_STATES, empty_label=None, label="State")
    flags = django_filters.MultipleChoiceFilter(
        choices=QUEUE_FLAGS, method="filter_flags", widget=forms.CheckboxSelectMultiple, label="Flags",
    )

    class Meta:
        model = IndicatorReturn
        fields = ["organisation", "ambition", "indicator", "state", "flags"]

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and not data.get("state"):
            data = data.copy()
            data["state"] = WorkflowState.SUBMITTED
        super().__init__(data, *args, **kwargs)

    def filter_ambition(self, queryset, name, value):
        return queryset.filter(indicator__in=Indicator.objects.filter(ambitions=value).values("pk"))

    def filter_flags(self, queryset, name, value):
        if FLAG_WARNINGS in value:
            queryset = queryset.exclude(confirmed_warnings=[])
        if FLAG_QUALITY in value:
            queryset = queryset.exclude(quality=DataQuality.FINAL)
        return queryset  # FLAG_OFF_TARGET: see QUEUE_FLAGS

    def milestones(self, queryset):
        """Milestone returns under the same organisation, ambition and state (they have no
        indicator or flags: none are listed when either is chosen)."""
        data = self.form.cleaned_data
        if data.get("indicator") or data.get("flags"):
            return queryset.none()
        if data.get("organisation"):
            queryset = queryset.filter(organisation=data["organisation"])
        if data.get("ambition"):
            queryset = queryset.filter(milestone__delivery_plan__ambitions=data["ambition"]).distinct()
        return queryset.filter(state=data.get("state") or WorkflowState.SUBMITTED)
