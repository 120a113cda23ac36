from rest_framework import serializers

from ..models import KPQ, Ambition, DeliveryPlan


class AmbitionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ambition
        fields = ["id", "number", "title", "short_name", "slug", "statement", "vision"]


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
