"""Reminder e-mails before the deadline and when overdue, once each."""
import datetime

import pytest
from django.core import mail

from performance.returns import reminders, validation, workflow
from performance.returns.tasks import reminders_send_task

pytestmark = pytest.mark.django_db


def test_reminder_a_week_before_the_deadline_then_overdue(officer, other_officer, period, count_indicator, settings):
    settings.RETURN_REMINDER_DAYS = 7
    deadline = period.deadline  # 31 July 2012
    assert reminders.reminders_send(today=deadline - datetime.timedelta(days=8)) == 0
    assert reminders.reminders_send(today=deadline - datetime.timedelta(days=7)) == 2
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects["ashford@example.org"] == "Kent Forum returns for 2012/13 Q1 are due on 31 July 2012"
    assert "1 of your returns for 2012/13 Q1 is not yet submitted: 1 indicator return." in mail.outbox[0].body
    assert reminders.reminders_send(today=deadline - datetime.timedelta(days=7)) == 0, "sent once"
    mail.outbox.clear()
    assert reminders.reminders_send(today=deadline + datetime.timedelta(days=1)) == 2
    assert all("overdue" in m.subject for m in mail.outbox)


def test_no_reminder_for_an_organisation_that_has_submitted(officer, other_officer, period, count_indicator):
    from decimal import Decimal

    from tests.factories import council, district

    ret = workflow.indicator_return_save_draft(
        indicator=count_indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(value=Decimal(15)),
    )
    workflow.indicator_return_submit(ret=ret, expected_version=ret.version, user=officer)
    reminders.reminders_send(today=period.deadline + datetime.timedelta(days=1))
    assert [m.to for m in mail.outbox] == [["dover@example.org"]]


def test_the_beat_task_runs_the_service(period, count_indicator):
    assert reminders_send_task.delay().get() == 0
