"""The rollups' API: the dashboard figures per indicator, area, period and breakdown (approved
figures only), readable by anyone."""
from __future__ import annotations

from rest_framework import serializers

from kentforum.api.base import BaseReadViewSet
from kentforum.api.pagination import RollupCursorPagination
from performance.models import IndicatorRollup
from performance.rollups.filtersets import IndicatorRollupFilterSet


class IndicatorRollupSerializer(serializers.ModelSerializer):
    indicator = serializers.SlugRelatedField(slug_field="code", read_only=True)
    locality = serializers.SlugRelatedField(slug_field="gss_code", read_only=True)
    period = serializers.SlugRelatedField(slug_field="label", read_only=True)
    coverage = serializers.CharField(source="coverage_display", read_only=True)

    class Meta:
        model = IndicatorRollup
        fields = [
            "id", "indicator", "locality", "period", "breakdown_key", "breakdown_label", "value", "numerator", "denominator",
            "ci_lower", "ci_upper", "reporting", "expected", "coverage", "missing", "complete", "flags", "commentary",
            "target", "tolerance_percent", "status",
            "previous_value", "direction_previous", "year_ago_value", "direction_year", "computed_at",
        ]


class IndicatorRollupViewSet(BaseReadViewSet):
    """The dashboard figures per indicator, area, period and breakdown (approved figures only).
    Who may read: anyone."""

    queryset = IndicatorRollup.objects.select_related("indicator", "locality", "period")
    serializer_class = IndicatorRollupSerializer
    filterset_class = IndicatorRollupFilterSet
    pagination_class = RollupCursorPagination
    ordering_fields = ["id"]  # a cursor pages correctly only over a unique, non-null order
