"""The notifications app. It listens to the audit records of the performance app (written in
the same transaction as the change they record), so that each notification is saved with the
event it reports."""
from django.apps import AppConfig
from django.db.models.signals import post_save


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        from . import receivers

        post_save.connect(receivers.on_return_event, sender="performance.ReturnEvent",
                          dispatch_uid="notifications.return_event")
        post_save.connect(receivers.on_board_report, sender="performance.BoardReport",
                          dispatch_uid="notifications.board_report")
