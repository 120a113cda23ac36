"""The app's Celery tasks, gathered where Celery's autodiscovery looks (``<app>.tasks``). Each is
defined in its wing; every task keeps the name it had before the wings (``performance.tasks.*``),
so that messages already queued and the beat schedule (settings ``CELERY_BEAT_SCHEDULE``) still
find it across a deployment."""
from performance.catalogue.tasks import period_lock_overdue_task
from performance.returns.tasks import reminders_send_task
from performance.rollups.tasks import rollup_milestones_task, rollup_rebuild_task, rollup_slices_task

__all__ = [
    "period_lock_overdue_task", "reminders_send_task", "rollup_milestones_task", "rollup_rebuild_task",
    "rollup_slices_task",
]
