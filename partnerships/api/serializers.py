from rest_framework import serializers

from kentforum.roles import Role, user_roles

from ..models import (
    Board,
    BoardMembership,
    CommunityStrategy,
    ExistingPartnership,
    OfficerGroup,
    Organisation,
    Person,
    StrategicPartnership,
)


class OrganisationSerializer(serializers.ModelSerializer):
    locality = serializers.SlugRelatedField(slug_field="gss_code", read_only=True, allow_null=True)

    class Meta:
        model = Organisation
        fields = ["id", "name", "short_name", "slug", "sector", "tier", "locality", "website", "updated_at"]


class PersonSerializer(serializers.ModelSerializer):
    """People by name and organisation; e-mail and phone only for the Forum team."""

    organisation = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = Person
        fields = ["id", "name", "organisation", "job_title", "email", "phone"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if not (request and Role.FORUM_ADMIN in user_roles(request.user)):
            data.pop("email")
            data.pop("phone")
        return data


class CommunityStrategySerializer(serializers.ModelSerializer):
    """A Locality Board's community strategy, as Annex 3 of the Vision for Kent lists it."""

    class Meta:
        model = CommunityStrategy
        fields = ["name", "listed_under", "link", "source_note"]


class BoardSerializer(serializers.ModelSerializer):
    """A board with its relationships as the documents state them: the board it is accountable
    to, the councils it advises, whether it is decision-making (null where the documents are
    silent), and, for a Locality Board, its community strategies."""

    ambition = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)
    locality = serializers.SlugRelatedField(slug_field="gss_code", read_only=True, allow_null=True)
    accountable_to = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    advises = serializers.SlugRelatedField(slug_field="slug", read_only=True, many=True)
    community_strategies = CommunityStrategySerializer(many=True, read_only=True)

    class Meta:
        model = Board
        fields = [
            "id", "name", "slug", "kind", "ambition", "locality", "accountable_to", "advises", "decision_making",
            "community_strategies", "roles",
        ]


class BoardMembershipSerializer(serializers.ModelSerializer):
    board = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    person = serializers.SlugRelatedField(slug_field="name", read_only=True)
    organisation = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = BoardMembership
        fields = ["id", "board", "person", "organisation", "role", "category", "is_core", "note", "start_date", "end_date"]


class StrategicPartnershipSerializer(serializers.ModelSerializer):
    lead_board = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    supported_boards = serializers.SlugRelatedField(slug_field="slug", read_only=True, many=True)

    class Meta:
        model = StrategicPartnership
        fields = ["id", "name", "slug", "is_required", "lead_board", "supported_boards"]


class ExistingPartnershipSerializer(serializers.ModelSerializer):
    required_partnerships = serializers.SlugRelatedField(slug_field="slug", read_only=True, many=True)
    aligned_board = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = ExistingPartnership
        fields = ["id", "name", "slug", "required_partnerships", "aligned_board", "status", "status_note", "decided_on",
                  "source_line", "source_note"]


class OfficerGroupSerializer(serializers.ModelSerializer):
    board = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    locality = serializers.SlugRelatedField(slug_field="gss_code", read_only=True, allow_null=True)

    class Meta:
        model = OfficerGroup
        fields = ["id", "name", "section", "board", "locality", "county_members", "district_members", "other_members",
                  "chair", "meeting_frequency", "comment"]
