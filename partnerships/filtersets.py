import django_filters

from kentforum.filtersets import BaseFilterSet, WholeNumberFilter

from .models import (
    Board,
    BoardMembership,
    ExistingPartnership,
    OfficerGroup,
    Organisation,
    Person,
    StrategicPartnership,
)


class OrganisationFilterSet(BaseFilterSet):
    search_fields = ("name", "short_name")

    class Meta:
        model = Organisation
        fields = ["sector", "tier"]


class PersonFilterSet(BaseFilterSet):
    search_fields = ("name", "job_title")
    organisation = WholeNumberFilter()

    class Meta:
        model = Person
        fields = ["organisation"]


class BoardFilterSet(BaseFilterSet):
    search_fields = ("name",)
    ambition = WholeNumberFilter(field_name="ambition__number")
    locality = django_filters.CharFilter(field_name="locality__gss_code", label="Locality (GSS code)")

    class Meta:
        model = Board
        fields = ["kind"]


class BoardMembershipFilterSet(BaseFilterSet):
    search_fields = ("person__name", "board__name")
    board = django_filters.CharFilter(field_name="board__slug")
    ambition = WholeNumberFilter(field_name="board__ambition__number")

    class Meta:
        model = BoardMembership
        fields = ["role", "category"]


class StrategicPartnershipFilterSet(BaseFilterSet):
    search_fields = ("name",)
    board = django_filters.CharFilter(field_name="lead_board__slug", label="Lead board (slug)")
    ambition = WholeNumberFilter(field_name="lead_board__ambition__number", label="Lead board's ambition")

    class Meta:
        model = StrategicPartnership
        fields = ["is_required"]


class ExistingPartnershipFilterSet(BaseFilterSet):
    search_fields = ("name", "status_note")
    required_partnership = django_filters.CharFilter(
        field_name="required_partnerships__slug", label="Required partnership it maps to (slug)", distinct=True,
    )
    lead_board = django_filters.CharFilter(
        field_name="required_partnerships__lead_board__slug", label="Lead board of a required partnership it maps to (slug)",
        distinct=True,
    )

    class Meta:
        model = ExistingPartnership
        fields = ["status"]


class OfficerGroupFilterSet(BaseFilterSet):
    search_fields = ("name", "chair", "comment")
    ambition = WholeNumberFilter(field_name="board__ambition__number")
    locality = django_filters.CharFilter(field_name="locality__gss_code")

    class Meta:
        model = OfficerGroup
        fields = ["section"]
