"""What the partner webhooks announce, read from the audit records the services already write (no
service knows about webhooks): a return's ``ReturnEvent`` "approved", a period's ``PeriodEvent``
"locked" (by hand or after its grace time) and a new ``BoardReport``. Connected in
``WebhooksConfig.ready``. Each receiver costs one query when nobody listens; the payloads carry
only what anyone may read through the API (approved figures, periods, published reports)."""
from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from performance.models import IndicatorReturn, MilestoneReturn
from webhooks import outbox
from webhooks.models import Event


def api_url(name: str, pk) -> str:
    return settings.PORTAL_BASE_URL + reverse(name, kwargs={"pk": pk})


def figure(value) -> float | None:
    """A figure as the REST API gives it: a JSON number (the nearest double; stored figures have
    at most four decimal places)."""
    return None if value is None else float(value)


def return_data(event) -> dict:
    """An approved return as the API publishes it (no commentary or workings), and its API URL."""
    common = {"state": "approved", "version": event.version, "approved_at": event.at.isoformat()}
    if event.indicator_return_id:
        ret = IndicatorReturn.objects.select_related("indicator", "locality", "period", "breakdown__dimension").get(
            pk=event.indicator_return_id
        )
        breakdown = f"{ret.breakdown.dimension.code}:{ret.breakdown.code}" if ret.breakdown_id else ""
        return {
            "return": {
                "kind": "indicator", "id": ret.pk, "indicator": ret.indicator.code, "area": ret.locality.gss_code,
                "period": ret.period.label, "breakdown": breakdown, "value": figure(ret.value),
                "numerator": figure(ret.numerator), "denominator": figure(ret.denominator), **common,
            },
            "url": api_url("indicatorreturn-detail", ret.pk),
        }
    ret = MilestoneReturn.objects.select_related("period").get(pk=event.milestone_return_id)
    return {
        "return": {
            "kind": "milestone", "id": ret.pk, "milestone": ret.milestone_id, "period": ret.period.label,
            "status": ret.status, "percent_complete": ret.percent_complete, **common,
        },
        "url": api_url("milestonereturn-detail", ret.pk),
    }


def period_data(event) -> dict:
    period = event.period
    return {
        "period": {
            "id": period.pk, "label": period.label, "kind": period.kind, "start": period.start.isoformat(),
            "end": period.end.isoformat(), "locked_at": event.at.isoformat(),
            "automatically": event.action == type(event).Action.AUTO_LOCKED,
        },
        "url": api_url("reportingperiod-detail", period.pk),
    }


def report_data(report) -> dict:
    return {
        "report": {
            "id": report.pk, "board": report.board.slug, "board_name": report.board.name, "title": report.title,
            "period": report.period.label, "as_at": report.as_at.isoformat(),
        },
        "url": settings.PORTAL_BASE_URL + reverse("dashboards:report", kwargs={"pk": report.pk}),
    }


def on_return_event(sender, instance, created, raw=False, **kwargs):
    """An approval of an indicator or milestone return."""
    if created and not raw and instance.action == sender.Action.APPROVED:
        outbox.event_publish(event=Event.RETURN_APPROVED, data_for=lambda: return_data(instance), at=instance.at)


def on_period_event(sender, instance, created, raw=False, **kwargs):
    """A period locked, by the Forum team or after its deadline and grace time."""
    if created and not raw and instance.action in (sender.Action.LOCKED, sender.Action.AUTO_LOCKED):
        outbox.event_publish(event=Event.PERIOD_LOCKED, data_for=lambda: period_data(instance), at=instance.at)


def on_board_report(sender, instance, created, raw=False, **kwargs):
    """A board report published (it is public from then on)."""
    if created and not raw:
        outbox.event_publish(event=Event.REPORT_PUBLISHED, data_for=lambda: report_data(instance), at=instance.as_at)
