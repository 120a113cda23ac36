"""The Forum team registers a partner's endpoint in the admin (the secret shown once), reads the
delivery log read-only and replays a delivery."""
import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.factories import council
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_of(client, forum_admin):
    client.force_login(forum_admin)
    return client


def test_the_forum_team_registers_an_endpoint_and_sees_the_secret_once(admin_client_of, receiver):
    response = admin_client_of.post(reverse("admin:webhooks_webhookendpoint_add"), {
        "partner": council().pk, "url": receiver.url, "description": "Ashford's warehouse",
        "events": ["return.approved", "period.locked"], "active": "on",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["return.approved", "period.locked"] and len(endpoint.secret) >= 40
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(endpoint.secret in m for m in shown)
    assert endpoint.secret in admin_client_of.get(response["Location"]).content.decode()  # the page after: once
    change = admin_client_of.get(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]))
    assert change.status_code == 200
    assert endpoint.secret not in change.content.decode()
    assert endpoint.secret not in admin_client_of.get(reverse("admin:webhooks_webhookendpoint_changelist")).content.decode()


def test_the_admin_refuses_plain_http_to_a_public_host(admin_client_of):
    response = admin_client_of.post(reverse("admin:webhooks_webhookendpoint_add"), {
        "partner": council().pk, "url": "http://partner.example/hooks", "events": ["period.locked"], "active": "on",
    })
    assert response.status_code == 200 and "must use https://" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_deliveries_are_read_only_and_replayable(admin_client_of, endpoint, receiver, django_capture_on_commit_callbacks):
    delivery_id, = services.outbox_write(event="period.locked", data={"period": {"id": 1}}, endpoint_ids=[endpoint.pk])
    WebhookDelivery.objects.filter(pk=delivery_id).update(status="failed", attempts=8, next_attempt_at=None)
    assert admin_client_of.get(reverse("admin:webhooks_webhookdelivery_changelist")).status_code == 200
    assert admin_client_of.get(reverse("admin:webhooks_webhookdelivery_change", args=[delivery_id])).status_code == 200
    assert admin_client_of.get(reverse("admin:webhooks_webhookdelivery_add")).status_code == 403
    assert admin_client_of.post(reverse("admin:webhooks_webhookdelivery_delete", args=[delivery_id])).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_of.post(reverse("admin:webhooks_webhookdelivery_changelist"), {
            "action": "replay", "_selected_action": [delivery_id],
        })
    assert response.status_code == 302
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.replays, delivery.attempts) == ("delivered", 1, 1)
    assert len(receiver.requests) == 1 and receiver.requests[0].signature_valid(endpoint.secret)
