"""Serializers of the returns' API: what a partner reads of a return and what it may write."""
from __future__ import annotations

from rest_framework import serializers

from performance.models import DataQuality, IndicatorReturn, MilestoneReturn
from performance.returns.validation import COMMENTARY_MAX_LENGTH

COMMENTARY_LIMIT = f"The commentary is at most {COMMENTARY_MAX_LENGTH:,} characters."


class IndicatorReturnSerializer(serializers.ModelSerializer):
    indicator = serializers.SlugRelatedField(slug_field="code", read_only=True)
    locality = serializers.SlugRelatedField(slug_field="gss_code", read_only=True)
    period = serializers.SlugRelatedField(slug_field="label", read_only=True)
    organisation = serializers.SlugRelatedField(slug_field="name", read_only=True)
    breakdown = serializers.SerializerMethodField()

    class Meta:
        model = IndicatorReturn
        fields = [
            "id", "indicator", "locality", "period", "breakdown", "organisation", "value", "numerator", "denominator",
            "commentary", "quality", "source_released", "quality_note", "ci_lower", "ci_upper", "sample_base",
            "state", "return_reason", "version", "submitted_at", "decided_at", "updated_at",
        ]

    def get_breakdown(self, ret) -> str:
        return f"{ret.breakdown.dimension.code}:{ret.breakdown.code}" if ret.breakdown_id else ""


class IndicatorReturnWriteSerializer(serializers.Serializer):
    """What a partner system or officer sends to save (and optionally submit) an indicator return."""

    indicator = serializers.CharField(help_text="Indicator code, e.g. DEMO-NI117.")
    locality = serializers.CharField(help_text="Area GSS code, e.g. E07000105.")
    period = serializers.CharField(help_text="Period label, e.g. 2012/13 Q4.")
    value = serializers.DecimalField(max_digits=20, decimal_places=4, required=False, allow_null=True)
    numerator = serializers.DecimalField(max_digits=20, decimal_places=4, required=False, allow_null=True)
    denominator = serializers.DecimalField(max_digits=20, decimal_places=4, required=False, allow_null=True)
    commentary = serializers.CharField(required=False, allow_blank=True, max_length=COMMENTARY_MAX_LENGTH, default="",
                                       error_messages={"max_length": COMMENTARY_LIMIT})
    breakdowns = serializers.DictField(
        child=serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True), required=False, default=dict,
        help_text='Values by breakdown, e.g. {"severity:fatal": 2, "severity:serious": 14}.',
    )
    quality = serializers.ChoiceField(
        choices=DataQuality.choices, required=False,
        help_text="How final the figure is. Not sent: kept as stored (a new return is final).",
    )
    source_released = serializers.DateField(required=False, allow_null=True,
                                            help_text="When the source published (or revised) the figure.")
    quality_note = serializers.CharField(required=False, allow_blank=True, max_length=500,
                                         help_text="Required unless final: what is provisional, estimated or revised.")
    ci_lower = serializers.DecimalField(max_digits=20, decimal_places=4, required=False, allow_null=True,
                                        help_text="Survey estimates: the published lower 95% limit.")
    ci_upper = serializers.DecimalField(max_digits=20, decimal_places=4, required=False, allow_null=True,
                                        help_text="Survey estimates: the published upper 95% limit.")
    sample_base = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                           help_text="Survey estimates without a published interval: people who answered.")
    version = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                       help_text="The version you read; required to change an existing return.")
    submit = serializers.BooleanField(required=False, default=False, help_text="Submit for approval after saving.")
    confirm_warnings = serializers.BooleanField(required=False, default=False)


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current = IndicatorReturnSerializer()


class BulkItemErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    errors = serializers.DictField()


class BulkErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = BulkItemErrorSerializer(many=True, required=False)


class MilestoneReturnSerializer(serializers.ModelSerializer):
    milestone = serializers.PrimaryKeyRelatedField(read_only=True)
    period = serializers.SlugRelatedField(slug_field="label", read_only=True)
    organisation = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = MilestoneReturn
        fields = ["id", "milestone", "period", "organisation", "status", "percent_complete", "revised_date", "commentary",
                  "state", "return_reason", "version", "submitted_at", "decided_at", "updated_at"]


class MilestoneReturnWriteSerializer(serializers.Serializer):
    """A milestone's progress for a period, as a partner system or officer sends it."""

    milestone = serializers.IntegerField(min_value=1)
    period = serializers.CharField(help_text="Period label, e.g. 2012/13 Q4.")
    status = serializers.ChoiceField(choices=MilestoneReturn.Status.choices)
    percent_complete = serializers.IntegerField(min_value=0, max_value=100)
    revised_date = serializers.DateField(required=False, allow_null=True)
    commentary = serializers.CharField(required=False, allow_blank=True, max_length=COMMENTARY_MAX_LENGTH, default="",
                                       error_messages={"max_length": COMMENTARY_LIMIT})
    version = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    submit = serializers.BooleanField(required=False, default=False)


class MilestoneConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current = MilestoneReturnSerializer()
