"""The Forum team registers partners' webhook endpoints (the secret is shown once, on creation)
and reads the delivery log, read-only, replaying a delivery when a partner asks."""
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from performance.admin import ReadOnlyAdmin
from webhooks import addresses, outbox, services
from webhooks.models import Event, WebhookDelivery, WebhookEndpoint


class WebhookEndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(choices=Event.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookEndpoint
        fields = ["partner", "url", "description", "events", "active"]

    def clean(self):
        cleaned = super().clean()
        url, partner = cleaned.get("url"), cleaned.get("partner")
        if url and "url" not in self.errors:
            try:
                addresses.check_resolves_public(url)
            except ValidationError as error:
                self.add_error("url", error)
        if partner and self.instance.pk is None and (
            WebhookEndpoint.objects.filter(partner=partner).count() >= services.MAX_ENDPOINTS_PER_PARTNER
        ):
            self.add_error("partner", f"A partner may register at most {services.MAX_ENDPOINTS_PER_PARTNER} endpoints.")
        return cleaned


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "partner", "events", "active", "secret_hint", "created_at"]
    list_filter = ["active", "partner"]
    search_fields = ["url", "description", "partner__name"]
    readonly_fields = ["secret_hint", "created_by_key", "created_at"]
    autocomplete_fields = ["partner"]

    @admin.display(description="secret")
    def secret_hint(self, obj) -> str:
        return obj.masked_secret

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        created = services.endpoint_create(
            partner=obj.partner, url=obj.url, events=obj.events, description=obj.description, active=obj.active,
        )
        obj.pk, obj.secret, obj.created_at = created.pk, created.secret, created.created_at
        messages.warning(request, f"The endpoint's signing secret, shown this once: {created.secret} — give it to the "
                                  "partner now; it cannot be shown again.")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """Read-only (the project's ReadOnlyAdmin): deliveries change only by being sent (or replayed)."""

    list_display = ["event", "endpoint", "status", "attempts", "last_status_code", "next_attempt_at", "delivered_at",
                    "created_at"]
    list_filter = ["status", "event"]
    search_fields = ["event_id", "uuid", "endpoint__url", "endpoint__partner__name"]
    list_select_related = ["endpoint__partner"]
    actions = ["replay"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    @admin.action(description="Replay the selected deliveries (same payload and event id)", permissions=["view"])
    def replay(self, request, queryset):
        count = 0
        for delivery in queryset:
            outbox.delivery_replay(delivery=delivery)
            count += 1
        self.message_user(request, f"{count} deliveries queued again.", messages.SUCCESS)
