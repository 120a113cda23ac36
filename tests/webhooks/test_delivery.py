"""Webhook delivery end to end against a receiver the test starts on 127.0.0.1: an approval, a
period lock and a published report each reach the partner, signed; the approval does not wait
for the delivery; a failing receiver is retried with a growing back-off and finally given up on;
a replay sends the same event again."""
from __future__ import annotations

import datetime
import socket
import ssl
import uuid
from decimal import Decimal

import pytest
from django.db import transaction

from performance.catalogue import services as catalogue_services
from performance.dashboards import reports
from performance.models import ReportingPeriod
from performance.returns import workflow
from performance.returns.validation import IndicatorFigures
from tests.factories import council, district
from tests.performance.conftest import make_user
from webhooks import outbox, services
from webhooks.models import Event, WebhookDelivery
from webhooks.tasks import webhook_deliver_task, webhook_deliveries_sweep_task

from .conftest import key_client

pytestmark = pytest.mark.django_db


def submitted_return(officer, indicator, period, value="17"):
    ret = workflow.indicator_return_save_draft(
        indicator=indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=IndicatorFigures(value=Decimal(value), commentary="SECRET-WORKINGS from the DfT return"),
    )
    workflow.indicator_return_submit(ret=ret, expected_version=ret.version, user=officer, confirm_warnings=True)
    return ret


def approve(ret, approver):
    return workflow.return_approve(ret=ret, expected_version=ret.version, user=approver)


def test_an_approval_reaches_the_receiver_signed_after_the_commit_without_waiting_for_it(
        receiver, endpoint, officer, approver, count_indicator, period, django_capture_on_commit_callbacks):
    # Given Ashford's endpoint and a submitted return
    ret = submitted_return(officer, count_indicator, period)
    # When the approver approves it
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        approve(ret, approver)
        # then, before the commit, the delivery is written (the outbox) and nothing has been sent
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)
        assert delivery.status == "pending" and delivery.attempts == 0
        assert receiver.requests == []
    assert receiver.requests == []  # the approval returned without any network call
    # and once it has committed, the queued task sends it
    for callback in callbacks:
        callback()
    assert len(receiver.requests) == 1
    got = receiver.requests[0]
    assert got.path == "/hooks/kentforum"
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["X-KentForum-Event"] == "return.approved"
    assert got.headers["X-KentForum-Delivery"] == str(delivery.uuid)
    assert got.signature_valid(endpoint.secret)
    assert not got.signature_valid("not-the-secret")
    body = got.json
    assert body["event"] == "return.approved" and uuid.UUID(body["id"]) == delivery.event_id
    item = body["data"]["return"]
    assert item["indicator"] == "T-KSI" and item["area"] == district().gss_code and item["period"] == period.label
    assert item["value"] == 17 and isinstance(item["value"], float) and item["state"] == "approved" and item["approved_at"]
    assert body["data"]["url"].endswith(f"/api/v1/indicator-returns/{ret.pk}/")
    assert b"SECRET-WORKINGS" not in got.body  # the commentary is not published
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None


def test_a_rolled_back_approval_sends_nothing(receiver, endpoint, officer, approver, count_indicator, period,
                                              django_capture_on_commit_callbacks):
    ret = submitted_return(officer, count_indicator, period)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            approve(ret, approver)
            raise RuntimeError("the caller's transaction fails after the approval")
    assert not WebhookDelivery.objects.exists()
    assert receiver.requests == []


def test_a_receiver_that_is_down_does_not_hold_up_or_undo_the_approval(
        endpoint, officer, approver, count_indicator, period, django_capture_on_commit_callbacks):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    endpoint.url = f"http://127.0.0.1:{closed}/hook"
    endpoint.save(update_fields=["url"])
    ret = submitted_return(officer, count_indicator, period)
    with django_capture_on_commit_callbacks(execute=True):
        approve(ret, approver)
    ret.refresh_from_db()
    assert ret.state == "approved"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1 and delivery.last_status_code is None
    assert "Connection" in delivery.last_error or "refused" in delivery.last_error.lower()


def test_only_subscribed_active_endpoints_receive_an_event(receiver, ashford_key, officer, approver, count_indicator,
                                                           period, django_capture_on_commit_callbacks):
    services.endpoint_create(partner=council(), url=receiver.url + "/periods", events=["period.locked"])
    services.endpoint_create(partner=council(), url=receiver.url + "/off", events=["return.approved"], active=False)
    wanted = services.endpoint_create(partner=council("Dover District Council"), url=receiver.url + "/dover",
                                      events=["return.approved"])
    ret = submitted_return(officer, count_indicator, period)
    with django_capture_on_commit_callbacks(execute=True):
        approve(ret, approver)
    assert [r.path for r in receiver.requests] == ["/hooks/kentforum/dover"]
    assert receiver.requests[0].signature_valid(wanted.secret)


def test_nobody_listening_costs_one_query(django_assert_num_queries):
    with django_assert_num_queries(1):
        assert outbox.event_publish(event=Event.RETURN_APPROVED, data_for=lambda: 1 / 0) == []


def test_a_failing_receiver_is_retried_with_a_growing_back_off_and_finally_failed(
        receiver, endpoint, officer, approver, count_indicator, period, django_capture_on_commit_callbacks):
    receiver.fail_first = 100
    ret = submitted_return(officer, count_indicator, period)
    with django_capture_on_commit_callbacks(execute=True):
        approve(ret, approver)  # the first attempt, after the commit
    delivery = WebhookDelivery.objects.get()
    waits = []
    while delivery.status == "pending":
        due = delivery.next_attempt_at
        waits.append((due - delivery.last_attempt_at).total_seconds())
        # not before its time (a message arriving early, or the sweep, sends nothing)
        assert services.delivery_attempt(delivery_id=delivery.pk, now=due - datetime.timedelta(seconds=10)) is None
        assert services.delivery_attempt(delivery_id=delivery.pk, now=due) is not None
        delivery.refresh_from_db()
    assert waits == [30, 60, 120, 240, 480, 960, 1920]
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", services.MAX_ATTEMPTS, 500)
    assert delivery.next_attempt_at is None and delivery.last_error == "HTTP 500"
    assert len(receiver.requests) == services.MAX_ATTEMPTS
    # every attempt is the same event and delivery, each signed afresh
    assert {r.headers["X-KentForum-Delivery"] for r in receiver.requests} == {str(delivery.uuid)}
    assert {r.json["id"] for r in receiver.requests} == {str(delivery.event_id)}
    assert all(r.signature_valid(endpoint.secret) for r in receiver.requests)
    # a failed delivery is not tried again by the task or the sweep
    assert webhook_deliver_task.delay(delivery.pk).get() == "not due"
    assert len(receiver.requests) == services.MAX_ATTEMPTS


def test_a_retry_that_succeeds_is_delivered_and_the_sweep_finds_due_deliveries(
        receiver, endpoint, officer, approver, count_indicator, period, django_capture_on_commit_callbacks):
    receiver.fail_first = 1
    ret = submitted_return(officer, count_indicator, period)
    with django_capture_on_commit_callbacks(execute=True):
        approve(ret, approver)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1 and delivery.last_status_code == 500
    assert services.deliveries_due() == []  # waiting for its back-off
    # when its time has come, beat's sweep queues it
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.next_attempt_at - datetime.timedelta(seconds=30))
    assert webhook_deliveries_sweep_task.delay().get() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == ("delivered", 2, 200, "")
    assert len(receiver.requests) == 2


def test_the_task_sends_once_however_often_it_runs(receiver, endpoint, officer, approver, count_indicator, period,
                                                    django_capture_on_commit_callbacks):
    ret = submitted_return(officer, count_indicator, period)
    with django_capture_on_commit_callbacks(execute=True):
        approve(ret, approver)
    delivery = WebhookDelivery.objects.get()
    assert webhook_deliver_task.delay(delivery.pk).get() == "not due"
    assert webhook_deliveries_sweep_task.delay().get() == 0
    assert len(receiver.requests) == 1


def test_redirects_are_not_followed(receiver, endpoint, officer, approver, count_indicator, period,
                                    django_capture_on_commit_callbacks):
    receiver.status, receiver.location = 302, "http://127.0.0.1:1/elsewhere"
    ret = submitted_return(officer, count_indicator, period)
    with django_capture_on_commit_callbacks(execute=True):
        approve(ret, approver)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.last_status_code == 302
    assert "redirects are not followed" in delivery.last_error
    assert len(receiver.requests) == 1


def test_replay_through_the_api_sends_the_same_event_again(receiver, endpoint, ashford_key, officer, approver,
                                                           count_indicator, period, django_capture_on_commit_callbacks):
    ret = submitted_return(officer, count_indicator, period)
    with django_capture_on_commit_callbacks(execute=True):
        approve(ret, approver)
    delivery = WebhookDelivery.objects.get()
    client = key_client(ashford_key[1])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/replay/")
    assert response.status_code == 202, response.content
    assert response.json()["event_id"] == str(delivery.event_id)
    assert len(receiver.requests) == 2
    first, again = receiver.requests
    assert again.json == first.json and again.json["id"] == str(delivery.event_id)
    assert again.headers["X-KentForum-Delivery"] == first.headers["X-KentForum-Delivery"]
    assert again.signature_valid(endpoint.secret)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.replays) == ("delivered", 1, 1)
    assert WebhookDelivery.objects.count() == 1  # the same delivery, not a new event


def test_a_failed_delivery_replayed_gets_a_fresh_set_of_attempts(receiver, endpoint):
    delivery_id, = services.outbox_write(event="period.locked", data={"period": {"id": 1}}, endpoint_ids=[endpoint.pk])
    WebhookDelivery.objects.filter(pk=delivery_id).update(status="failed", attempts=8, next_attempt_at=None)
    delivery = outbox.delivery_replay(delivery=WebhookDelivery.objects.get(pk=delivery_id))
    assert (delivery.status, delivery.attempts, delivery.replays) == ("pending", 0, 1)
    assert services.delivery_attempt(delivery_id=delivery_id).status == "delivered"
    assert len(receiver.requests) == 1


def test_a_period_locked_by_hand_or_after_its_grace_time_is_announced(receiver, endpoint, forum_admin, period,
                                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        catalogue_services.period_lock(period=period, user=forum_admin)
    got = receiver.requests[-1]
    assert got.headers["X-KentForum-Event"] == "period.locked" and got.signature_valid(endpoint.secret)
    data = got.json["data"]
    assert data["period"]["label"] == period.label and data["period"]["id"] == period.pk
    assert data["period"]["locked_at"] and data["period"]["automatically"] is False
    assert data["url"].endswith(f"/api/v1/periods/{period.pk}/")
    # beat's lock after the deadline and grace time too
    ReportingPeriod.objects.filter(pk=period.pk).update(status="open")
    with django_capture_on_commit_callbacks(execute=True):
        assert catalogue_services.period_lock_overdue(today=datetime.date(2013, 1, 1)) >= 1
    automatic = [r.json for r in receiver.requests if r.json["data"]["period"]["id"] == period.pk][-1]
    assert automatic["data"]["period"]["automatically"] is True
    assert len({r.json["id"] for r in receiver.requests}) == len(receiver.requests)  # a new event each time


def test_a_published_board_report_is_announced(receiver, ashford_key, approver):
    from tests.performance.test_dashboards import seed

    seed(approver, 2, 12)  # approved figures for Ambition 2, before anyone listens
    hook = services.endpoint_create(partner=council(), url=receiver.url, events=["report.published"])
    forum_team = make_user("hooks.forum", "Kent County Council", "forum_admin")
    fingerprint = reports.board_report_fingerprint(reports.board_report_content(2))
    report = reports.board_report_publish(user=forum_team, number=2, fingerprint=fingerprint)
    delivery = WebhookDelivery.objects.get(endpoint=hook)
    assert delivery.event == "report.published"
    # (an ordinary test runs inside a transaction: send it as the queued task would, after the commit)
    webhook_deliver_task.delay(delivery.pk)
    got = receiver.requests[-1]
    assert got.headers["X-KentForum-Event"] == "report.published" and got.signature_valid(hook.secret)
    data = got.json["data"]
    assert data["report"]["id"] == report.pk and data["report"]["title"] == report.title
    assert data["report"]["board"] == report.board.slug and data["report"]["as_at"]
    assert data["url"].endswith(f"/dashboards/reports/{report.pk}/")


def test_https_is_verified_against_the_host_name(tls_receiver, monkeypatch):
    tls_box, cert = tls_receiver
    hook = services.endpoint_create(partner=council(), url=tls_box.url, events=["period.locked"])
    first, = services.outbox_write(event="period.locked", data={"period": {"id": 1}}, endpoint_ids=[hook.pk])
    # a certificate nobody trusts: not delivered
    delivery = services.delivery_attempt(delivery_id=first)
    assert delivery.status == "pending" and "CERTIFICATE_VERIFY_FAILED" in delivery.last_error
    assert tls_box.requests == []
    # once its issuer is trusted, it is delivered over TLS to the name the certificate names
    trusted = ssl.create_default_context

    monkeypatch.setattr(ssl, "create_default_context", lambda *args, **kwargs: trusted(cafile=cert))
    second, = services.outbox_write(event="period.locked", data={"period": {"id": 2}}, endpoint_ids=[hook.pk])
    assert services.delivery_attempt(delivery_id=second).status == "delivered"
    assert len(tls_box.requests) == 1 and tls_box.requests[0].signature_valid(hook.secret)
