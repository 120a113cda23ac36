"""Who is told of what: decisions on returns, the approvers' digest and published board
reports; each event once, and e-mailed as each person prefers."""
import datetime
from smtplib import SMTPException

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.utils import timezone

from kentforum.roles import Role
from notifications import outbox, services, tasks
from notifications.models import Kind, Notification
from partnerships.models import Board, BoardMembership, Person
from performance.models import BoardReport
from performance.returns import workflow
from tests.factories import council, district

from .conftest import make_user, submitted

pytestmark = pytest.mark.django_db


def approve(ret, user):
    return workflow.return_approve(ret=ret, expected_version=ret.version, user=user)


# --- Decisions on returns --------------------------------------------------------------------------

def test_a_send_back_tells_the_returns_officers_with_the_reason_and_emails_them_once(
        officer, other_officer, approver, submitted_return, django_capture_on_commit_callbacks):
    # Given a second officer of Ashford, and Dover's officer
    colleague = make_user("ashford2", "Ashford Borough Council", Role.OFFICER)
    # When the approver sends Ashford's return back
    with django_capture_on_commit_callbacks(execute=True):
        workflow.return_send_back(ret=submitted_return, reason="Use the tonnage figures.",
                                  expected_version=submitted_return.version, user=approver)
    # Then Ashford's officers are told, with the reason and a link to the return; Dover's and the approver are not
    told = Notification.objects.order_by("user__username")
    assert [n.user for n in told] == [officer, colleague]
    note = told[0]
    assert note.kind == Kind.RETURN_SENT_BACK and "Household waste recycled" in note.title
    assert "Use the tonnage figures." in note.body
    assert note.link == f"/returns/{submitted_return.period_id}/indicators/T-RECYC/E07000105/"
    # And each was e-mailed once, with the link as an absolute address
    assert sorted(m.to[0] for m in mail.outbox) == ["ashford2@example.org", "ashford@example.org"]
    assert "http://127.0.0.1:8000/returns/" in mail.outbox[0].body
    assert all(n.emailed_at is not None for n in Notification.objects.all())
    # When the e-mail task runs again (a redelivered message)
    for n in told:
        assert tasks.notification_email_task.delay(n.pk).get() == "already sent"
    # Then nothing more is sent
    assert len(mail.outbox) == 2


def test_an_approval_tells_the_officers_and_is_not_emailed_to_one_who_turned_it_off(
        officer, approver, submitted_return, django_capture_on_commit_callbacks):
    services.preferences_set(user=officer, emailed={Kind.RETURN_SENT_BACK})
    with django_capture_on_commit_callbacks(execute=True):
        approve(submitted_return, approver)
    note = Notification.objects.get(user=officer)
    assert note.kind == Kind.RETURN_APPROVED and note.title.startswith("Approved: Household waste recycled")
    assert note.emailed_at is None and mail.outbox == []
    # Turned back on: an e-mail task (the sweep's) now sends it
    services.preferences_set(user=officer, emailed=set(Kind.values))
    assert outbox.notification_email(note.pk) == "sent"
    assert len(mail.outbox) == 1 and mail.outbox[0].subject.startswith("Kent Forum: Approved:")


def test_the_same_event_is_told_once(officer, approver, submitted_return):
    approve(submitted_return, approver)
    event = submitted_return.events.get(action="approved")
    assert services.notify_return_decision(event) == []  # seen again: nobody told twice
    assert Notification.objects.filter(user=officer).count() == 1


def test_other_steps_and_history_loaded_with_its_own_dates_tell_nobody(officer, approver, rate_indicator,
                                                                        count_indicator, period):
    ret = submitted(rate_indicator, officer, period)  # created, saved, submitted: no decision
    assert not Notification.objects.exists()
    # The demo set replays its decisions at their own times, days before or after today
    workflow.return_approve(ret=ret, expected_version=ret.version, user=approver,
                            at=timezone.now() - datetime.timedelta(days=3))
    later = submitted(count_indicator, officer, period)
    workflow.return_send_back(ret=later, reason="Check it.", expected_version=later.version, user=approver,
                              at=timezone.now() + datetime.timedelta(days=2))
    assert not Notification.objects.exists()


def test_a_refused_email_is_retried_with_backoff(officer, approver, submitted_return, monkeypatch):
    approve(submitted_return, approver)
    note = Notification.objects.get(user=officer)
    calls = []
    real_send = outbox.send_mail

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise SMTPException("451 try again later")
        return real_send(*args, **kwargs)

    monkeypatch.setattr(outbox, "send_mail", flaky)
    # A refusal asks Celery to retry (eager, as in tests, Celery reports the retry it would schedule)
    with pytest.raises(Retry):
        tasks.notification_email_task.delay(note.pk)
    note.refresh_from_db()
    assert note.emailed_at is None and mail.outbox == []
    # The retry sends it
    assert tasks.notification_email_task.delay(note.pk).get() == "sent"
    assert len(calls) == 2 and len(mail.outbox) == 1
    note.refresh_from_db()
    assert note.emailed_at is not None
    task = tasks.notification_email_task
    assert task.autoretry_for == (SMTPException, OSError) and task.retry_backoff and task.max_retries


def test_a_failed_queue_leaves_the_notification_for_the_sweep(officer, approver, submitted_return, monkeypatch,
                                                              django_capture_on_commit_callbacks):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(outbox.notification_email_task, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        approve(submitted_return, approver)  # the approval still stands
    note = Notification.objects.get(user=officer)
    assert note.emailed_at is None
    later = note.created_at + outbox.SWEEP_AFTER + datetime.timedelta(minutes=1)
    assert outbox.unsent_email_ids(now=later) == [note.pk]
    monkeypatch.undo()
    Notification.objects.filter(pk=note.pk).update(created_at=timezone.now() - outbox.SWEEP_AFTER * 2)
    assert tasks.notifications_email_outbox_task.delay().get() == 1
    assert len(mail.outbox) == 1
    assert outbox.unsent_email_ids() == []


# --- The approvers' digest -------------------------------------------------------------------------

def test_the_digest_tells_approvers_what_awaits_them_once_a_day(
        officer, approver, other_officer, count_indicator, rate_indicator, period, django_capture_on_commit_callbacks):
    second = make_user("approver2", "Kent County Council", Role.APPROVER)
    today = datetime.date(2012, 8, 1)
    assert services.approvals_digest_send(today=today) == 0  # nothing awaits: nobody told
    submitted(rate_indicator, officer, period)
    submitted(count_indicator, officer, period)
    submitted(count_indicator, other_officer, period, organisation=council("Dover District Council"),
              locality=district("Dover"))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.approvals_digest_send(today=today) == 2
    note = Notification.objects.get(user=approver)
    assert note.kind == Kind.APPROVALS_DIGEST and note.title == "3 returns await your approval"
    assert "Ashford Borough Council: 2" in note.body and "Dover District Council: 1" in note.body
    assert note.link == "/approvals/"
    assert Notification.objects.filter(user=second).exists()
    assert sorted(m.to[0] for m in mail.outbox) == ["approver2@example.org", "approver@example.org"]
    # Again the same day: nobody is told twice; the next day, again
    assert tasks.approvals_digest_task.delay().get() == 2  # today, a day of its own
    assert services.approvals_digest_send(today=today) == 0
    assert services.approvals_digest_send(today=today + datetime.timedelta(days=1)) == 2
    assert not Notification.objects.filter(user__in=[officer, other_officer], kind=Kind.APPROVALS_DIGEST).exists()


# --- Board reports ---------------------------------------------------------------------------------

def test_a_published_report_tells_the_boards_current_members_only(forum_admin, period, django_capture_on_commit_callbacks):
    board = Board.objects.get(kind="ambition", ambition__number=2)
    other_board = Board.objects.get(kind="ambition", ambition__number=1)

    def member(username, on_board, **dates):
        user = make_user(username, "Canterbury City Council", Role.BOARD_MEMBER)
        BoardMembership.objects.create(board=on_board, person=Person.objects.get(user=user),
                                       organisation=council("Canterbury City Council"), **dates)
        return user

    current = member("current", board)
    member("former", board, start_date=datetime.date(2010, 1, 1), end_date=datetime.date(2011, 1, 1))
    member("future", board, start_date=timezone.localdate() + datetime.timedelta(days=30))
    member("elsewhere", other_board)
    publisher = member("publisher", board)
    with django_capture_on_commit_callbacks(execute=True):
        report = BoardReport.objects.create(board=board, title="Ambition Board 2 report", period=period,
                                            as_at=timezone.now(), content={}, published_by=publisher)
    assert [n.user for n in Notification.objects.all()] == [current]
    note = Notification.objects.get()
    assert note.kind == Kind.REPORT_PUBLISHED and note.link == f"/dashboards/reports/{report.pk}/"
    assert [m.to for m in mail.outbox] == [["current@example.org"]]
