"""The admin of notifications (the superuser's): what was told to whom, and whether it was read
and e-mailed. (Preferences and followed indicators are each person's own, on their
preferences page.)"""
from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "user", "kind", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind"]
    search_fields = ["title", "user__username"]
    raw_id_fields = ["user"]
