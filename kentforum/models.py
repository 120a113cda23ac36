"""Shared model bases."""
from django.db import models


class TimeStampedModel(models.Model):
    """Adds creation and last-change times; ``updated_at`` drives incremental sync."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        abstract = True
