"""The Celery application. Broker and behaviour come from Django settings (CELERY_* names)."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kentforum.settings.base")

app = Celery("kentforum")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
