from kentforum.api.base import BaseReadViewSet

from ..filtersets import (
    BoardFilterSet,
    BoardMembershipFilterSet,
    ExistingPartnershipFilterSet,
    OfficerGroupFilterSet,
    OrganisationFilterSet,
    PersonFilterSet,
    StrategicPartnershipFilterSet,
)
from ..models import (
    Board,
    BoardMembership,
    ExistingPartnership,
    OfficerGroup,
    Organisation,
    Person,
    StrategicPartnership,
)
from . import serializers


class OrganisationViewSet(BaseReadViewSet):
    """Partner organisations. Who may read: anyone."""

    queryset = Organisation.objects.select_related("locality")
    serializer_class = serializers.OrganisationSerializer
    filterset_class = OrganisationFilterSet
    ordering_fields = ["name", "id"]


class PersonViewSet(BaseReadViewSet):
    """People on boards. Who may read: anyone; contact details only the Forum team."""

    queryset = Person.objects.select_related("organisation")
    serializer_class = serializers.PersonSerializer
    filterset_class = PersonFilterSet
    ordering_fields = ["name", "id"]


class BoardViewSet(BaseReadViewSet):
    """The Kent Forum, Joint Kent Chiefs, Ambition Boards and Locality Boards. Who may read: anyone."""

    queryset = Board.objects.select_related("ambition", "locality", "accountable_to").prefetch_related(
        "advises", "community_strategies"
    )
    serializer_class = serializers.BoardSerializer
    filterset_class = BoardFilterSet
    lookup_field = "slug"


class BoardMembershipViewSet(BaseReadViewSet):
    """Board seats with role and category. Who may read: anyone."""

    queryset = BoardMembership.objects.select_related("board", "person", "organisation")
    serializer_class = serializers.BoardMembershipSerializer
    filterset_class = BoardMembershipFilterSet


class StrategicPartnershipViewSet(BaseReadViewSet):
    """The partnerships required by the Ambition Boards. Who may read: anyone."""

    queryset = StrategicPartnership.objects.select_related("lead_board").prefetch_related("supported_boards")
    serializer_class = serializers.StrategicPartnershipSerializer
    filterset_class = StrategicPartnershipFilterSet
    lookup_field = "slug"


class ExistingPartnershipViewSet(BaseReadViewSet):
    """The existing strategic partnerships and their rationalisation (status, mapping to the
    required partnerships). Who may read: anyone."""

    queryset = ExistingPartnership.objects.select_related("aligned_board").prefetch_related("required_partnerships")
    serializer_class = serializers.ExistingPartnershipSerializer
    filterset_class = ExistingPartnershipFilterSet
    ordering_fields = ["name", "id"]


class OfficerGroupViewSet(BaseReadViewSet):
    """Officer groups across Kent. Who may read: anyone."""

    queryset = OfficerGroup.objects.select_related("board", "locality")
    serializer_class = serializers.OfficerGroupSerializer
    filterset_class = OfficerGroupFilterSet
