"""The performance app, and the one signal it connects: every reopening of a period goes to the
security log."""
from django.apps import AppConfig
from django.db.models.signals import post_save

from kentforum.security import period_reopened


def on_period_event(sender, instance, created, **kwargs):
    """Every reopening of a locked period, whoever wrote it, goes to the security log."""
    if created and instance.action == sender.Action.REOPENED:
        period_reopened(period=instance.period, user=instance.actor, reason=instance.reason)


class PerformanceConfig(AppConfig):
    name = "performance"
    verbose_name = "Performance indicators, milestones and returns"

    def ready(self):
        post_save.connect(on_period_event, sender="performance.PeriodEvent", dispatch_uid="performance.period_reopened")
