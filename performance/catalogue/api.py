"""The catalogue's API: indicators (with their targets), reporting periods, milestones and
studies, readable by anyone."""
from __future__ import annotations

from django.db.models import Prefetch
from rest_framework import serializers

from kentforum.api.base import BaseReadViewSet
from performance.catalogue.filtersets import (
    IndicatorFilterSet,
    MilestoneFilterSet,
    ReportingPeriodFilterSet,
    StudyFilterSet,
)
from performance.models import Indicator, IndicatorTarget, Milestone, ReportingPeriod, Study


class IndicatorTargetSerializer(serializers.ModelSerializer):
    period = serializers.SlugRelatedField(slug_field="label", read_only=True)
    locality = serializers.SlugRelatedField(slug_field="gss_code", read_only=True, allow_null=True)

    class Meta:
        model = IndicatorTarget
        fields = ["period", "locality", "target", "tolerance_percent"]


class IndicatorSerializer(serializers.ModelSerializer):
    data_owner = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    kpqs = serializers.SerializerMethodField()
    ambitions = serializers.SlugRelatedField(slug_field="number", read_only=True, many=True)
    breakdown_dimensions = serializers.SlugRelatedField(slug_field="code", read_only=True, many=True)
    baseline_period = serializers.SlugRelatedField(slug_field="label", read_only=True, allow_null=True)
    targets = IndicatorTargetSerializer(many=True, read_only=True)

    class Meta:
        model = Indicator
        fields = [
            "id", "code", "name", "definition", "unit", "polarity", "aggregation", "numerator_label", "denominator_label",
            "frequency", "year_basis", "time_lag_months", "reporting_level", "source", "data_owner", "ni_reference",
            "decimal_places", "min_value", "max_value", "baseline_value", "baseline_period", "kpqs", "ambitions",
            "breakdown_dimensions", "is_active", "is_demo", "targets", "updated_at",
        ]

    def get_kpqs(self, indicator) -> list[str]:
        return [f"A{k.ambition.number}-KPQ{k.number}" for k in indicator.kpqs.all()]


class ReportingPeriodSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReportingPeriod
        fields = ["id", "label", "kind", "start", "end", "deadline", "grace_days", "status"]


class MilestoneSerializer(serializers.ModelSerializer):
    delivery_plan = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    owner = serializers.SlugRelatedField(slug_field="name", read_only=True)
    priority_area = serializers.StringRelatedField(allow_null=True)

    class Meta:
        model = Milestone
        fields = ["id", "title", "description", "delivery_plan", "priority_area", "owner", "lead_officer", "due_date", "updated_at"]


class StudySerializer(serializers.ModelSerializer):
    commissioned_by = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    kpqs = serializers.SerializerMethodField()

    class Meta:
        model = Study
        fields = ["id", "title", "kind", "commissioned_by", "published_on", "url", "summary", "findings", "kpqs"]

    def get_kpqs(self, study) -> list[str]:
        return [f"A{k.ambition.number}-KPQ{k.number}" for k in study.kpqs.all()]


class IndicatorViewSet(BaseReadViewSet):
    """Performance indicators with every attribute and their targets. Who may read: anyone."""

    queryset = Indicator.objects.select_related("data_owner", "baseline_period").prefetch_related(
        "kpqs__ambition", "ambitions", "breakdown_dimensions",
        Prefetch("targets", queryset=IndicatorTarget.objects.select_related("period", "locality")),
    )
    serializer_class = IndicatorSerializer
    filterset_class = IndicatorFilterSet
    lookup_field = "code"
    ordering_fields = ["code", "name"]


class ReportingPeriodViewSet(BaseReadViewSet):
    """Reporting periods on the UK financial year. Who may read: anyone."""

    queryset = ReportingPeriod.objects.all()
    serializer_class = ReportingPeriodSerializer
    filterset_class = ReportingPeriodFilterSet
    ordering_fields = ["start", "label"]

class MilestoneViewSet(BaseReadViewSet):
    """Milestones of delivery plans and action plans. Who may read: anyone."""

    queryset = Milestone.objects.select_related("delivery_plan", "owner", "priority_area")
    serializer_class = MilestoneSerializer
    filterset_class = MilestoneFilterSet

class StudyViewSet(BaseReadViewSet):
    """Research and evaluation studies. Who may read: anyone."""

    queryset = Study.objects.select_related("commissioned_by").prefetch_related("kpqs__ambition")
    serializer_class = StudySerializer
    filterset_class = StudyFilterSet
