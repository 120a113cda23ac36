"""The webhooks API's shapes. The secret is in the create response only."""
from rest_framework import serializers

from webhooks.addresses import MAX_URL_LENGTH
from webhooks.models import Event, WebhookDelivery, WebhookEndpoint


class WebhookEndpointSerializer(serializers.ModelSerializer):
    secret_hint = serializers.CharField(source="masked_secret", read_only=True,
                                        help_text="The secret's first characters; the secret itself is shown once.")
    events = serializers.ListField(child=serializers.ChoiceField(choices=Event.choices), read_only=True)

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "events", "active", "secret_hint", "created_at"]
        read_only_fields = fields


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text=(
        "Signs every delivery: X-KentForum-Signature is sha256=<hex HMAC-SHA256 of \"<timestamp>.<body>\">. "
        "Shown this once; keep it safe."))

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointWriteSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=MAX_URL_LENGTH, help_text="https:// only, on a public host.")
    events = serializers.MultipleChoiceField(
        choices=Event.choices, allow_empty=False, help_text="One or more of " + ", ".join(Event.values) + ".",
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate_events(self, value) -> list[str]:
        return [event for event in Event.values if event in value]  # a list, in the events' own order


class WebhookDeliverySerializer(serializers.ModelSerializer):
    delivery_id = serializers.UUIDField(source="uuid", read_only=True, help_text="Sent as X-KentForum-Delivery.")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id", "delivery_id", "endpoint", "event", "event_id", "payload", "status", "attempts", "next_attempt_at",
            "last_status_code", "last_error", "delivered_at", "replays", "created_at",
        ]
        read_only_fields = fields
