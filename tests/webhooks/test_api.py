"""The webhooks API (/api/v1/webhooks/): partner keys only; each partner sees and manages only its
own endpoints and deliveries; the secret is shown once; only https endpoints on public hosts."""
from __future__ import annotations

import socket

import pytest
from rest_framework.test import APIClient

from tests.factories import council
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint

from .conftest import key_client

pytestmark = pytest.mark.django_db

HOOKS = "/api/v1/webhooks/"


def test_a_partner_registers_an_endpoint_and_sees_its_secret_once(ashford_key, receiver):
    client = key_client(ashford_key[1])
    response = client.post(HOOKS, {"url": receiver.url, "events": ["return.approved", "report.published"],
                                   "description": "Our data warehouse"}, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    endpoint = WebhookEndpoint.objects.get(pk=created["id"])
    assert created["secret"] == endpoint.secret and len(endpoint.secret) >= 40
    assert endpoint.partner == council() and endpoint.created_by_key == ashford_key[0]
    assert created["events"] == ["return.approved", "report.published"] and created["active"] is True
    # never again: not in the list, not in the detail
    listed = client.get(HOOKS).json()
    assert [item["id"] for item in listed["results"]] == [endpoint.pk]
    for body in (client.get(HOOKS).content, client.get(f"{HOOKS}{endpoint.pk}/").content,
                 client.get(HOOKS, {"format": "csv"}).content):
        assert endpoint.secret.encode() not in body
    assert client.get(f"{HOOKS}{endpoint.pk}/").json()["secret_hint"] == endpoint.secret[:4] + "…"


@pytest.mark.parametrize("url", [
    "http://partner.example/hooks",  # not https
    "ftp://partner.example/hooks",
    "javascript:alert(1)",
    "https://user:pass@partner.example/hooks",
    "not a url",
    "https:///no-host",
])
def test_non_https_addresses_are_refused(ashford_key, url):
    response = key_client(ashford_key[1]).post(HOOKS, {"url": url, "events": ["period.locked"]}, format="json")
    assert response.status_code == 400, (url, response.content)
    assert "url" in response.json() or "non_field_errors" in response.json()
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/hooks", "https://127.0.0.1/hooks", "https://localhost/hooks", "https://10.1.2.3/hooks",
    "https://192.168.0.10/hooks", "https://169.254.169.254/latest/meta-data", "https://[::1]/hooks",
    "https://[::ffff:10.0.0.1]/hooks", "https://intranet/hooks", "https://0.0.0.0/hooks",
    "https://rebind.partner.example/hooks",  # resolves to a private address (below)
])
def test_private_loopback_and_link_local_addresses_are_refused_in_production(ashford_key, settings, monkeypatch, url):
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = False
    real = socket.getaddrinfo

    def fake_getaddrinfo(host, port, *args, **kwargs):
        if host == "rebind.partner.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    response = key_client(ashford_key[1]).post(HOOKS, {"url": url, "events": ["period.locked"]}, format="json")
    assert response.status_code == 400, (url, response.content)
    assert not WebhookEndpoint.objects.exists()


def test_a_public_https_address_is_accepted_in_production(ashford_key, settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = False
    response = key_client(ashford_key[1]).post(HOOKS, {"url": "https://93.184.215.14/hooks", "events": ["period.locked"]},
                                               format="json")
    assert response.status_code == 201, response.content


def test_a_delivery_to_an_address_that_became_private_is_refused_at_send_time(endpoint, receiver, settings):
    delivery_id, = services.outbox_write(event="period.locked", data={}, endpoint_ids=[endpoint.pk])
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = False
    delivery = services.delivery_attempt(delivery_id=delivery_id)
    assert delivery.status == "pending" and delivery.last_error.startswith("refused")
    assert receiver.requests == []


@pytest.mark.parametrize("events", [[], ["return.deleted"], "return.approved", [["period.locked"]], None])
def test_unknown_or_missing_events_are_refused(ashford_key, receiver, events):
    response = key_client(ashford_key[1]).post(HOOKS, {"url": receiver.url, "events": events}, format="json")
    assert response.status_code == 400, response.content


def test_a_partner_cannot_see_or_touch_another_partners_endpoints_or_deliveries(endpoint, dover_key, ashford_key):
    delivery_id, = services.outbox_write(event="period.locked", data={}, endpoint_ids=[endpoint.pk])
    dover = key_client(dover_key[1])
    assert dover.get(HOOKS).json()["results"] == []
    assert dover.get(f"{HOOKS}{endpoint.pk}/").status_code == 404
    assert dover.get(f"{HOOKS}{endpoint.pk}/deliveries/").status_code == 404
    assert dover.post(f"{HOOKS}{endpoint.pk}/deliveries/{delivery_id}/replay/").status_code == 404
    assert dover.delete(f"{HOOKS}{endpoint.pk}/").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert WebhookDelivery.objects.get(pk=delivery_id).replays == 0
    # a delivery of another endpoint, named under one's own, is 404 too
    own = services.endpoint_create(partner=council("Dover District Council"), url=endpoint.url, events=["period.locked"])
    assert dover.post(f"{HOOKS}{own.pk}/deliveries/{delivery_id}/replay/").status_code == 404
    assert dover.post(f"{HOOKS}{own.pk}/deliveries/99999999999999999999/replay/").status_code == 404
    assert dover.get(f"{HOOKS}abc/").status_code == 404


def test_only_partner_keys_may_use_it(endpoint, officer):
    assert APIClient().get(HOOKS).status_code == 401
    assert APIClient().post(HOOKS, {}, format="json").status_code == 401
    session = APIClient()
    session.force_login(officer)
    assert session.get(HOOKS).status_code == 403
    assert session.get(f"{HOOKS}{endpoint.pk}/").status_code == 403


def test_the_delivery_log_lists_status_and_filters(endpoint, ashford_key, django_assert_max_num_queries):
    first, = services.outbox_write(event="period.locked", data={"period": {"id": 1}}, endpoint_ids=[endpoint.pk])
    second, = services.outbox_write(event="report.published", data={"report": {"id": 2}}, endpoint_ids=[endpoint.pk])
    WebhookDelivery.objects.filter(pk=first).update(status="failed", attempts=8, last_status_code=500,
                                                    last_error="HTTP 500")
    client = key_client(ashford_key[1])
    with django_assert_max_num_queries(8):
        items = client.get(f"{HOOKS}{endpoint.pk}/deliveries/").json()["results"]
    assert [item["id"] for item in items] == [second, first]
    failed = items[1]
    assert (failed["status"], failed["attempts"], failed["last_status_code"], failed["event"]) == (
        "failed", 8, 500, "period.locked")
    assert failed["payload"]["data"] == {"period": {"id": 1}}
    assert [i["id"] for i in client.get(f"{HOOKS}{endpoint.pk}/deliveries/", {"status": "failed"}).json()["results"]] == [first]
    assert client.get(f"{HOOKS}{endpoint.pk}/deliveries/", {"status": "nope"}).status_code == 400
    csv = client.get(f"{HOOKS}{endpoint.pk}/deliveries.csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv") and str(second).encode() in csv.content


def test_a_partner_removes_its_endpoint(endpoint, ashford_key):
    services.outbox_write(event="period.locked", data={}, endpoint_ids=[endpoint.pk])
    response = key_client(ashford_key[1]).delete(f"{HOOKS}{endpoint.pk}/")
    assert response.status_code == 204
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()


def test_a_partner_has_at_most_ten_endpoints(ashford_key, receiver):
    client = key_client(ashford_key[1])
    for n in range(services.MAX_ENDPOINTS_PER_PARTNER):
        assert client.post(HOOKS, {"url": f"{receiver.url}/{n}", "events": ["period.locked"]}, format="json").status_code == 201
    response = client.post(HOOKS, {"url": receiver.url, "events": ["period.locked"]}, format="json")
    assert response.status_code == 400 and "at most" in str(response.json())


def test_the_schema_documents_the_webhooks(client):
    schema = client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/webhooks/"])
    assert {"get", "delete"} <= set(paths["/api/v1/webhooks/{id}/"])
    assert "get" in paths["/api/v1/webhooks/{id}/deliveries/"]
    assert "post" in paths["/api/v1/webhooks/{id}/deliveries/{delivery_id}/replay/"]


def test_the_endpoint_list_costs_the_same_queries_for_one_or_ten(ashford_key, receiver):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = key_client(ashford_key[1])
    counts = []
    for total in (1, 10):
        while WebhookEndpoint.objects.count() < total:
            services.endpoint_create(partner=council(), url=receiver.url, events=["period.locked"])
        with CaptureQueriesContext(connection) as queries:
            assert len(client.get(HOOKS).json()["results"]) == total
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
