from kentforum.api.base import BaseReadViewSet

from ..filtersets import LocalityFilterSet
from ..models import Locality
from . import serializers


class LocalityViewSet(BaseReadViewSet):
    """Kent's districts and the KCC area, looked up by GSS code (e.g. /localities/E07000105/). Who may read: anyone."""

    queryset = Locality.objects.all()
    serializer_class = serializers.LocalitySerializer
    filterset_class = LocalityFilterSet
    lookup_field = "gss_code"
