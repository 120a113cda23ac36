"""The comparator wing's API: the comparator areas (with the groups they are in) and their
published figures, readable by anyone. Figures are loaded by the Forum team's CSV import, not
written through the API."""
from __future__ import annotations

from rest_framework import serializers

from kentforum.api.base import BaseReadViewSet
from performance.comparators.filtersets import ComparatorAreaFilterSet, ComparatorFigureFilterSet
from performance.models import ComparatorArea, ComparatorFigure


class ComparatorAreaSerializer(serializers.ModelSerializer):
    groups = serializers.SlugRelatedField(slug_field="slug", read_only=True, many=True)

    class Meta:
        model = ComparatorArea
        fields = ["id", "gss_code", "name", "kind", "groups", "updated_at"]


class ComparatorFigureSerializer(serializers.ModelSerializer):
    indicator = serializers.SlugRelatedField(slug_field="code", read_only=True)
    area = serializers.SlugRelatedField(slug_field="gss_code", read_only=True)
    period = serializers.SlugRelatedField(slug_field="label", read_only=True)

    class Meta:
        model = ComparatorFigure
        fields = ["id", "indicator", "area", "period", "value", "ci_lower", "ci_upper", "numerator", "denominator",
                  "source", "source_released", "quality", "loaded_at", "updated_at"]


class ComparatorAreaViewSet(BaseReadViewSet):
    """Areas outside Kent that Kent is compared with (England, the South East, Kent's CIPFA nearest
    neighbours), by GSS code. Who may read: anyone."""

    queryset = ComparatorArea.objects.prefetch_related("groups")
    serializer_class = ComparatorAreaSerializer
    filterset_class = ComparatorAreaFilterSet
    ordering_fields = ["name", "gss_code"]


class ComparatorFigureViewSet(BaseReadViewSet):
    """The comparator areas' published figures, with interval, source, release date and quality;
    never part of Kent's figures. Who may read: anyone."""

    queryset = ComparatorFigure.objects.select_related("indicator", "area", "period")
    serializer_class = ComparatorFigureSerializer
    filterset_class = ComparatorFigureFilterSet
    ordering_fields = ["period__start", "indicator__code"]
