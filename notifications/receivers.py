"""The events notifications listen to, connected in ``apps.py``: the audit records the
services already write (a ``ReturnEvent`` for every step of a return, a ``BoardReport`` when
one is published), so no service of the performance app knows of notifications."""
from __future__ import annotations

from . import services


def on_return_event(sender, instance, created, **kwargs):
    """A return sent back or approved: its organisation's officers are told; a comment on it:
    the people in its conversation are."""
    if created and not kwargs.get("raw"):
        services.notify_return_decision(instance)
        services.notify_return_comment(instance)


def on_board_report(sender, instance, created, **kwargs):
    """A board report published: the board's current members are told."""
    if created and not kwargs.get("raw"):
        services.notify_report_published(instance)
