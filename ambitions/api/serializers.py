from rest_framework import serializers

from ..models import KPQ, Ambition, DeliveryPlan, TopPriority


class TopPriorityInAmbitionSerializer(serializers.ModelSerializer):
    """A top priority as listed under its ambition."""

    code = serializers.CharField(read_only=True)

    class Meta:
        model = TopPriority
        fields = ["id", "code", "number", "text"]


class AmbitionSerializer(serializers.ModelSerializer):
    top_priorities = TopPriorityInAmbitionSerializer(many=True, read_only=True)

    class Meta:
        model = Ambition
        fields = ["id", "number", "title", "short_name", "slug", "statement", "vision", "top_priorities"]


class TopPrioritySerializer(serializers.ModelSerializer):
    """A top priority (chapter 4 of the Vision) with the KPQs and action-plan priority areas linked to it."""

    code = serializers.CharField(read_only=True)
    ambition = serializers.SlugRelatedField(slug_field="number", read_only=True)
    detail = serializers.ListField(source="detail_lines", child=serializers.CharField(), read_only=True)
    kpqs = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    priority_areas = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = TopPriority
        fields = ["id", "code", "ambition", "number", "text", "detail", "kpqs", "priority_areas"]


class KPQSerializer(serializers.ModelSerializer):
    code = serializers.CharField(read_only=True)
    ambition = serializers.SlugRelatedField(slug_field="number", read_only=True)

    class Meta:
        model = KPQ
        fields = ["id", "code", "ambition", "number", "text"]


class DeliveryPlanSerializer(serializers.ModelSerializer):
    ambitions = serializers.SerializerMethodField()
    primary_ambition = serializers.SerializerMethodField()
    owner = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)

    class Meta:
        model = DeliveryPlan
        fields = ["id", "name", "slug", "title", "group", "owner_name", "owner", "link", "link_note", "in_development",
                  "ambitions", "primary_ambition"]

    def get_ambitions(self, plan) -> list[int]:
        return [link.ambition.number for link in plan.ambition_links.all()]

    def get_primary_ambition(self, plan) -> int | None:
        return next((link.ambition.number for link in plan.ambition_links.all() if link.is_primary), None)
