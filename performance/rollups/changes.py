"""Changes to the catalogue that change how figures are judged (a target, an indicator's
definition): saved, and the rollup of every slice they decide queued for after the commit."""
from __future__ import annotations

from django.db import transaction

from performance.catalogue import periods
from performance.models import IndicatorTarget, ReportingPeriod
from performance.rollups import queue

# --- Targets ---------------------------------------------------------------------------------

def target_changed(*, indicator, period) -> None:
    """An indicator's target or tolerance for a period was made, changed or deleted: queue, for
    after the commit, the rollup of the slice whose status it decides, so that the summary rows
    (and every dashboard) judge the figures against it at once instead of after the nightly
    rebuild. That slice is the target's own indicator in its own period only: a status is
    judged against its own period's target, and direction of travel compares figures, never
    targets (``reference.compute_slice``, ``postgres``). Nothing is queued for a period of a
    kind the indicator is not returned in (``periods.period_kinds_for``), where the rollup
    keeps no rows. Every writer of targets calls it, through ``target_save`` and
    ``target_delete`` (the admin's target pages and the targets on an indicator's page)."""
    if period.kind in periods.period_kinds_for(indicator):
        queue.queue_slices([[indicator.pk, period.pk]])


@transaction.atomic
def target_save(*, target: IndicatorTarget) -> IndicatorTarget:
    """Save an indicator's target for a period (new or changed), checked as the model says, and
    queue the rollup of the slice it decides (``target_changed``) and, if the target was moved
    to another indicator or period, of the one it left."""
    before = (
        IndicatorTarget.objects.select_related("indicator", "period").filter(pk=target.pk).first()
        if target.pk else None
    )
    target.full_clean()
    target.save()
    target_changed(indicator=target.indicator, period=target.period)
    if before is not None and (before.indicator_id, before.period_id) != (target.indicator_id, target.period_id):
        target_changed(indicator=before.indicator, period=before.period)
    return target


@transaction.atomic
def target_delete(*, target: IndicatorTarget) -> None:
    """Delete an indicator's target for a period and queue the rollup of the slice it decided:
    its rows become "no target" (or take the general target, for an area's own)."""
    indicator, period = target.indicator, target.period
    target.delete()
    target_changed(indicator=indicator, period=period)


# How an indicator's figures are combined and judged: changing any of these changes its summary rows.
JUDGEMENT_FIELDS = ("unit", "polarity", "aggregation", "reporting_level", "min_coverage", "is_survey", "frequency",
                    "year_basis")


def indicator_definition_changed(*, indicator, before: dict | None) -> bool:
    """An indicator was saved (the admin): if any field that decides how its figures are
    combined or judged changed (``JUDGEMENT_FIELDS``: say its minimum coverage or polarity),
    queue, for after the commit, the rollup of every slice of it, so that no dashboard keeps a
    status, direction or completeness from the old definition until the nightly rebuild.
    ``before``: those fields as stored before the save (None for a new indicator). Returns
    whether anything was queued."""
    if before is None or all(before[name] == getattr(indicator, name) for name in JUDGEMENT_FIELDS):
        return False
    kinds = periods.period_kinds_for(indicator)
    queue.queue_slices([
        [indicator.pk, pk] for pk in ReportingPeriod.objects.filter(kind__in=kinds).values_list("pk", flat=True)
    ])
    return True
