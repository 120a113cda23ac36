"""Reminder e-mails really go out (Django's locmem backend, ``mail.outbox``): to each officer with
an e-mail address, counting the organisation's outstanding indicator and milestone returns;
once per kind, period and organisation actually reached; an organisation nobody can be e-mailed
at is not marked as reminded, is listed for the Forum team on the Periods page, and is reminded
on the next run after one of its officers has an address."""
import datetime
from decimal import Decimal
from smtplib import SMTPRecipientsRefused

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.urls import reverse
from django.utils import timezone

from kentforum.roles import Role
from performance.catalogue import services
from performance.models import Milestone, PeriodEvent
from performance.returns import reminders, validation, workflow
from performance.returns.tasks import reminders_send_task
from tests.factories import council, district
from tests.performance.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def kent(officer, other_officer, period, count_indicator):
    """Who has what outstanding in 2012/13 Q1 (deadline 31 July 2012):

    - Ashford: one KSI return and one milestone; officers ashford@ and ashford.two@, and one
      whose address is not an address (not e-mailed);
    - Dover: one KSI return; officer dover@;
    - Kent Police: only a milestone (no indicator at all); officer police@;
    - Canterbury: one KSI return; one officer, with no e-mail address;
    - Thanet: one KSI return; no officers at all;
    - Kent Police Authority: a milestone; one officer with no address (its name starts with
      "Kent Police", which must not count as reminded when Kent Police is).
    """
    from ambitions.models import DeliveryPlan

    second = make_user("ashford.two", "Ashford Borough Council", Role.OFFICER)
    broken = make_user("ashford.broken", "Ashford Borough Council", Role.OFFICER)
    type(broken).objects.filter(pk=broken.pk).update(email="not an address")
    broken.person.email = ""
    broken.person.save()
    police = make_user("police", "Kent Police", Role.OFFICER)
    canterbury = make_user("canterbury", "Canterbury City Council", Role.OFFICER)
    authority = make_user("authority", "Kent Police Authority", Role.OFFICER)
    for user in (canterbury, authority):
        type(user).objects.filter(pk=user.pk).update(email="")
        user.person.email = ""
        user.person.save()
    services.assignment_ensure(organisation=council("Canterbury City Council"), indicator=count_indicator,
                               locality=district("Canterbury"))
    services.assignment_ensure(organisation=council("Thanet District Council"), indicator=count_indicator,
                               locality=district("Thanet"))
    plan = DeliveryPlan.objects.get(name="Local Transport Plan")
    milestones = {
        name: Milestone.objects.create(title=f"{name} milestone", delivery_plan=plan, owner=council(name),
                                       due_date=datetime.date(2012, 9, 30))
        for name in ("Ashford Borough Council", "Kent Police", "Kent Police Authority")
    }
    return {"second": second, "police": police, "canterbury": canterbury, "authority": authority, "milestones": milestones}


def sent_to() -> dict[str, str]:
    """Each message's single recipient and its body."""
    assert all(len(m.to) == 1 for m in mail.outbox), "one e-mail per officer"
    return {m.to[0]: m.body for m in mail.outbox}


def reminded(period, action=PeriodEvent.Action.REMINDED) -> list[str]:
    return sorted(PeriodEvent.objects.filter(period=period, action=action).values_list("reason", flat=True))


def test_each_officer_with_an_address_is_sent_the_counts_of_indicator_and_milestone_returns(kent, period):
    count = reminders.reminders_send(today=period.deadline - datetime.timedelta(days=7))
    bodies = sent_to()
    assert sorted(bodies) == ["ashford.two@example.org", "ashford@example.org", "dover@example.org", "police@example.org"]
    assert count == 4
    assert ("2 of your returns for 2012/13 Q1 are not yet submitted: 1 indicator return and 1 milestone return. "
            "The deadline is Tuesday 31 July 2012.") in bodies["ashford@example.org"]
    assert bodies["ashford.two@example.org"] == bodies["ashford@example.org"]
    assert "1 of your returns for 2012/13 Q1 is not yet submitted: 1 indicator return." in bodies["dover@example.org"]
    assert "1 of your returns for 2012/13 Q1 is not yet submitted: 1 milestone return." in bodies["police@example.org"]
    assert {m.subject for m in mail.outbox} == {"Kent Forum returns for 2012/13 Q1 are due on 31 July 2012"}
    # only the organisations reached are marked as reminded
    assert reminded(period) == [
        "Ashford Borough Council: 1 indicator return and 1 milestone return outstanding; 2 officers e-mailed.",
        "Dover District Council: 1 indicator return outstanding; 1 officer e-mailed.",
        "Kent Police: 1 milestone return outstanding; 1 officer e-mailed.",
    ]


def test_reminders_are_sent_once_and_an_organisation_given_an_address_later_is_reminded_next_time(kent, period):
    day = period.deadline - datetime.timedelta(days=7)
    assert reminders.reminders_send(today=day) == 4
    assert reminders.reminders_send(today=day) == 0, "running twice sends nothing more"
    assert reminders.reminders_send(today=day + datetime.timedelta(days=1)) == 0, "nor the next day"
    assert len(mail.outbox) == 4

    for user, address in ((kent["canterbury"], "canterbury@example.org"), (kent["authority"], "kpa@example.org")):
        user.email = address
        user.save()
    mail.outbox.clear()
    assert reminders.reminders_send(today=day + datetime.timedelta(days=2)) == 2
    bodies = sent_to()
    assert sorted(bodies) == ["canterbury@example.org", "kpa@example.org"], "Kent Police's reminder is not Kent Police Authority's"
    assert "is not yet submitted: 1 indicator return." in bodies["canterbury@example.org"]
    assert "is not yet submitted: 1 milestone return." in bodies["kpa@example.org"]
    assert reminders.reminders_send(today=day + datetime.timedelta(days=2)) == 0


def test_the_overdue_notice_is_its_own_kind_and_counts_what_is_still_outstanding(kent, officer, period, count_indicator):
    assert reminders.reminders_send(today=period.deadline - datetime.timedelta(days=7)) == 4
    ret = workflow.indicator_return_save_draft(
        indicator=count_indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(value=Decimal(15)),
    )
    workflow.indicator_return_submit(ret=ret, expected_version=ret.version, user=officer)
    mail.outbox.clear()
    after = period.deadline + datetime.timedelta(days=1)
    assert reminders.reminders_send(today=after) == 4
    bodies = sent_to()
    assert all(m.subject == "Kent Forum returns for 2012/13 Q1 are overdue" for m in mail.outbox)
    assert ("1 of your returns for 2012/13 Q1 is not yet submitted: 1 milestone return. They were due on 31 July 2012."
            in bodies["ashford@example.org"])
    assert reminders.reminders_send(today=after) == 0
    assert len(reminded(period, PeriodEvent.Action.OVERDUE)) == 3


def test_an_organisation_with_nothing_outstanding_is_not_e_mailed(kent, other_officer, period, count_indicator):
    ret = workflow.indicator_return_save_draft(
        indicator=count_indicator, locality=district("Dover"), period=period, organisation=council("Dover District Council"),
        user=other_officer, figures=validation.IndicatorFigures(value=Decimal(15)),
    )
    workflow.indicator_return_submit(ret=ret, expected_version=ret.version, user=other_officer)
    reminders.reminders_send(today=period.deadline - datetime.timedelta(days=7))
    assert "dover@example.org" not in sent_to()
    assert not [r for r in reminded(period) if r.startswith("Dover")]


class RefusingBackend(EmailBackend):
    """The locmem backend, except that the server refuses Dover's address."""

    def send_messages(self, messages):
        for message in messages:
            if "dover@example.org" in message.to:
                raise SMTPRecipientsRefused({"dover@example.org": (550, b"No such mailbox")})
        return super().send_messages(messages)


def test_an_organisation_whose_e_mail_is_refused_is_not_marked_as_reminded(kent, period, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    day = period.deadline - datetime.timedelta(days=7)
    assert reminders.reminders_send(today=day) == 3
    assert "dover@example.org" not in sent_to()
    assert not [r for r in reminded(period) if r.startswith("Dover")]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    assert reminders.reminders_send(today=day) == 1
    assert list(sent_to()) == ["dover@example.org"]


def test_the_beat_task_sends_once(kent, period):
    """The task as beat runs it (today's date): a period due in three days."""
    period.deadline = timezone.localdate() + datetime.timedelta(days=3)
    period.save()
    assert reminders_send_task.delay().get() == 4
    assert reminders_send_task.delay().get() == 0
    assert len(mail.outbox) == 4


def test_the_forum_team_sees_the_organisations_no_reminder_reaches(client, kent, forum_admin, period):
    client.force_login(forum_admin)
    page = client.get(reverse("performance:periods")).content.decode()
    assert "Organisations the reminders cannot reach" in page
    section = page.split('id="unreachable"')[1].split("</section>")[0]
    assert "2012/13 Q1, due 31 July 2012" in section
    assert "Canterbury City Council: 1 indicator return outstanding; 1 officer, none with an e-mail address" in section
    assert "Thanet District Council: 1 indicator return outstanding; no officers" in section
    assert "Kent Police Authority: 1 milestone return outstanding; 1 officer, none with an e-mail address" in section
    for reached in ("Ashford Borough Council", "Dover District Council", "Kent Police:"):
        assert reached not in section

    canterbury = kent["canterbury"]
    canterbury.person.email = "canterbury@example.org"  # an address on the person is enough
    canterbury.person.save()
    section = client.get(reverse("performance:periods")).content.decode().split('id="unreachable"')[1]
    assert "Canterbury City Council" not in section.split("</section>")[0]


def test_the_periods_page_says_nothing_when_every_organisation_can_be_reached(client, officer, other_officer, forum_admin,
                                                                              period, count_indicator):
    client.force_login(forum_admin)
    assert "Organisations the reminders cannot reach" not in client.get(reverse("performance:periods")).content.decode()
