"""The Kent Forum performance portal project: settings, URLs, Celery app and shared bases."""
from .celery import app as celery_app

__all__ = ("celery_app",)
