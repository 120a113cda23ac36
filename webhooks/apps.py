"""The partner webhooks app. It listens to the audit records the performance services already
write, so that no service knows about webhooks (``webhooks.events``)."""
from django.apps import AppConfig
from django.db.models.signals import post_save


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Partner webhooks"

    def ready(self):
        from webhooks import events  # the receivers import models: only once the apps are ready

        post_save.connect(events.on_return_event, sender="performance.ReturnEvent", dispatch_uid="webhooks.return_approved")
        post_save.connect(events.on_period_event, sender="performance.PeriodEvent", dispatch_uid="webhooks.period_locked")
        post_save.connect(events.on_board_report, sender="performance.BoardReport", dispatch_uid="webhooks.report_published")
