"""The one filter definition of a webhook delivery (the API's deliveries list)."""
import django_filters

from webhooks.models import Event, WebhookDelivery


class WebhookDeliveryFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=WebhookDelivery.Status.choices)
    event = django_filters.ChoiceFilter(choices=Event.choices)

    class Meta:
        model = WebhookDelivery
        fields = ["status", "event"]
