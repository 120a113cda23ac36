"""Reminders to organisations whose returns are outstanding: before the deadline, on it, and
after it, each sent once per period and organisation and recorded as a ``PeriodEvent``."""
from __future__ import annotations

import logging
from datetime import date, timedelta
from smtplib import SMTPException

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from performance.catalogue.services import period_event
from performance.models import PeriodEvent, ReportingPeriod
from performance.returns.selectors import outstanding_by_organisation

logger = logging.getLogger(__name__)

# --- Reminders -------------------------------------------------------------------------------

def reminder_kind(period: ReportingPeriod, today: date) -> str | None:
    """Which reminder an open period calls for on ``today``: "reminder" from
    ``RETURN_REMINDER_DAYS`` days before its deadline up to the deadline, "overdue" after it
    (until the period locks), else None."""
    if period.deadline is None:
        return None
    if period.deadline - timedelta(days=settings.RETURN_REMINDER_DAYS) <= today <= period.deadline:
        return "reminder"
    if today > period.deadline:
        return "overdue"
    return None


def _reminder_note(organisation) -> str:
    """The start of the reason of a reminder's PeriodEvent (read in the Periods page's history)."""
    return f"{organisation.name}: "


def _reminded(period: ReportingPeriod, action: str) -> set[int]:
    """The organisations already sent a reminder of one kind for a period."""
    return set(PeriodEvent.objects.filter(period=period, action=action, organisation__isnull=False)
               .values_list("organisation_id", flat=True))


def _was_reminded(reminded: set[int], organisation) -> bool:
    return organisation.pk in reminded


def _reminder_message(kind: str, period: ReportingPeriod, entry) -> tuple[str, str]:
    """The subject and body of a reminder to an organisation's officers, with how many of its
    indicator and milestone returns are outstanding."""
    verb = "is" if entry.total == 1 else "are"
    if kind == "reminder":
        subject = f"Kent Forum returns for {period.label} are due on {period.deadline:%d %B %Y}"
        lead = (f"{entry.total} of your returns for {period.label} {verb} not yet submitted: {entry.description}. "
                f"The deadline is {period.deadline:%A %d %B %Y}.")
    else:
        subject = f"Kent Forum returns for {period.label} are overdue"
        lead = (f"{entry.total} of your returns for {period.label} {verb} not yet submitted: {entry.description}. "
                f"They were due on {period.deadline:%d %B %Y}.")
    return subject, f"{lead}\n\nSee your returns: {settings.PORTAL_BASE_URL}/returns/\n\nKent Forum performance team"


def _send_each(connection, subject: str, body: str, recipients: list[str]) -> int:
    """Send the message to each recipient on its own; how many were sent (a refused one is logged)."""
    sent = 0
    for address in recipients:
        try:
            sent += connection.send_messages([EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [address])]) or 0
        except (SMTPException, OSError):
            logger.exception("The reminder to %s could not be sent.", address)
    return sent


@transaction.atomic
def _remind(connection, period: ReportingPeriod, kind: str, action: str, entry, recipients: list[str]) -> int:
    """Send one organisation its reminder of one kind, unless a run got there first (checked
    under the period's row lock), and record it if any officer was reached. Returns how many
    e-mails went."""
    ReportingPeriod.objects.select_for_update().get(pk=period.pk)
    if _was_reminded(_reminded(period, action), entry.organisation):
        return 0
    subject, body = _reminder_message(kind, period, entry)
    reached = _send_each(connection, subject, body, recipients)
    if reached:
        period_event(period, action, organisation=entry.organisation, reason=(
            f"{_reminder_note(entry.organisation)}{entry.description} outstanding; "
            f"{reached} officer{'' if reached == 1 else 's'} e-mailed."
        ))
    return reached


def reminders_send(*, today: date | None = None) -> int:
    """E-mail the officers of each organisation with indicator or milestone returns outstanding
    in an open period: a reminder from ``RETURN_REMINDER_DAYS`` days before the deadline, and an
    overdue notice after it. Each kind goes to an organisation once per period, and only counts
    as sent once at least one of its officers was sent it: a PeriodEvent naming the organisation
    records it, written under a row lock on the period after the e-mails went, so running twice
    (or two workers at once) sends nothing more. An organisation with returns outstanding and no
    officer with a usable e-mail address is not marked: it is logged, listed for the Forum team
    on the Periods page (``selectors.reminders_unreachable``), and reminded on the first run
    after one of its officers has an address. Returns how many e-mails were sent (one per
    officer reached)."""
    today = today or timezone.localdate()
    sent = 0
    connection = get_connection()  # each send connects, so a mail server that is down fails only its sends
    for period in ReportingPeriod.objects.filter(status=ReportingPeriod.Status.OPEN, deadline__isnull=False):
        kind = reminder_kind(period, today)
        if kind is None:
            continue
        action = PeriodEvent.Action.REMINDED if kind == "reminder" else PeriodEvent.Action.OVERDUE
        reminded = _reminded(period, action)
        for entry in outstanding_by_organisation(period):
            if not entry.total or _was_reminded(reminded, entry.organisation):
                continue
            recipients = entry.recipients
            if not recipients:
                logger.warning(
                    "No %s for %s reaches %s: %s outstanding and no officer with an e-mail address.",
                    kind, period.label, entry.organisation.name, entry.description,
                )
                continue
            sent += _remind(connection, period, kind, action, entry, recipients)
    return sent
