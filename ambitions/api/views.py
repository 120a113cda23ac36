from django.db.models import Prefetch

from kentforum.api.base import BaseReadViewSet

from ..filtersets import AmbitionFilterSet, DeliveryPlanFilterSet, KPQFilterSet, TopPriorityFilterSet
from ..models import KPQ, Ambition, DeliveryPlan, DeliveryPlanAmbition, TopPriority
from ..selectors import top_priority_list
from . import serializers


class AmbitionViewSet(BaseReadViewSet):
    """The three Countywide Ambitions. Who may read: anyone."""

    queryset = Ambition.objects.prefetch_related(
        Prefetch("top_priorities", queryset=TopPriority.objects.select_related("ambition"))
    )
    serializer_class = serializers.AmbitionSerializer
    filterset_class = AmbitionFilterSet
    lookup_field = "number"


class KPQViewSet(BaseReadViewSet):
    """The fifteen Key Performance Questions. Who may read: anyone."""

    queryset = KPQ.objects.select_related("ambition")
    serializer_class = serializers.KPQSerializer
    filterset_class = KPQFilterSet


class TopPriorityViewSet(BaseReadViewSet):
    """The top priorities under each ambition (chapter 4 of the Vision), in published order. Who may read: anyone."""

    queryset = top_priority_list()
    serializer_class = serializers.TopPrioritySerializer
    filterset_class = TopPriorityFilterSet


class DeliveryPlanViewSet(BaseReadViewSet):
    """Delivery plans with the ambitions they serve. Who may read: anyone."""

    queryset = DeliveryPlan.objects.select_related("owner").prefetch_related(
        Prefetch("ambition_links", queryset=DeliveryPlanAmbition.objects.select_related("ambition"))
    )
    serializer_class = serializers.DeliveryPlanSerializer
    filterset_class = DeliveryPlanFilterSet
    lookup_field = "slug"
