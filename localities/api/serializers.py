from rest_framework import serializers

from ..models import Locality


class LocalitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Locality
        fields = ["id", "name", "slug", "gss_code", "kind", "current_name"]
