"""Roll approved returns up into the summary tables the dashboards read.

A slice is recomputed whole under a lock of its own and written by upsert on the natural key;
rows that no longer have a source are deleted. So running a slice twice, or after a worker
died half way, leaves the same rows. On PostgreSQL the set-based SQL does the work
(``rollups.postgres``); elsewhere the Python reference (``rollups.reference``).
``rebuild_all`` recomputes everything: on PostgreSQL into a fresh table swapped in at the end
(``rollups.rebuild``), elsewhere slice by slice."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from django.db import connection, transaction
from django.utils import timezone

from performance.catalogue.periods import period_kinds_for
from performance.models import (
    Indicator,
    IndicatorRollup,
    Milestone,
    MilestoneReturn,
    MilestoneRollup,
    ReportingPeriod,
    WorkflowState,
)
from performance.rollups import postgres, rebuild
from performance.rollups.rebuild import REBUILD_LOCK
from performance.rollups.reference import compute_slice

UPDATE_FIELDS = [
    "breakdown_label", "value", "numerator", "denominator", "ci_lower", "ci_upper", "reporting", "expected", "missing",
    "complete", "flags", "commentary", "target", "tolerance_percent", "status", "previous_value", "direction_previous",
    "year_ago_value", "direction_year", "computed_at",
]


def _lock(*keys: int) -> None:
    """A lock per slice for the rest of the transaction (PostgreSQL advisory lock), taken after a
    shared hold on the rebuild lock, which a full rebuild holds exclusive at its start and at its
    swap (``rollups.rebuild``), so that the slices recomputed meanwhile are all logged and carried
    into the rebuilt table; SQLite serialises writers by itself."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [REBUILD_LOCK])
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", keys)


def _store_python(indicator_id: int, period_id: int) -> int:
    indicator = Indicator.objects.get(pk=indicator_id)
    period = ReportingPeriod.objects.get(pk=period_id)
    rows = compute_slice(indicator, period)
    IndicatorRollup.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["indicator", "locality", "period", "breakdown_key"],
        update_fields=UPDATE_FIELDS,
    )
    kept = {(r.locality_id, r.breakdown_key) for r in rows}
    stale = [
        pk for pk, locality_id, key in IndicatorRollup.objects.filter(indicator_id=indicator_id, period_id=period_id)
        .values_list("pk", "locality_id", "breakdown_key") if (locality_id, key) not in kept
    ]
    if stale:
        IndicatorRollup.objects.filter(pk__in=stale).delete()
    return len(rows)


@transaction.atomic
def rollup_slices(slices: list[list[int]]) -> int:
    """Recompute the given [indicator_id, period_id] slices. Idempotent; returns the number of
    rows they have. On PostgreSQL one set-based statement does them all (performance/postgres.py);
    elsewhere each slice is computed by ``compute_slice``."""
    ordered = sorted({(int(i), int(p)) for i, p in slices})
    for indicator_id, period_id in ordered:
        _lock(indicator_id, period_id)
    if connection.vendor == "postgresql":
        rebuild.note_slices(ordered)  # a rebuild in progress recomputes them again before its swap
        return postgres.rollup_slices(ordered, timezone.now())["rows"]
    return sum(_store_python(indicator_id, period_id) for indicator_id, period_id in ordered)


def rollup_slice(indicator_id: int, period_id: int) -> int:
    """Recompute one indicator in one period. Idempotent; returns the number of rows kept."""
    return rollup_slices([[indicator_id, period_id]])


# --- Milestones ----------------------------------------------------------------------------------

@transaction.atomic
def rollup_milestones(period_id: int) -> int:
    """Each milestone's position at the end of a period, from its latest approved return up to
    then. Idempotent (upsert on milestone and period)."""
    _lock(0, period_id)
    period = ReportingPeriod.objects.get(pk=period_id)
    latest: dict[int, MilestoneReturn] = {}
    for ret in (
        MilestoneReturn.objects.filter(state=WorkflowState.APPROVED, period__kind=period.kind, period__start__lte=period.start)
        .select_related("period").order_by("milestone_id", "period__start")
    ):
        latest[ret.milestone_id] = ret
    now = timezone.now()
    rows = []
    for milestone in Milestone.objects.all():
        ret = latest.get(milestone.pk)
        status = ret.status if ret else MilestoneReturn.Status.NOT_STARTED
        revised = ret.revised_date if ret else None
        rows.append(MilestoneRollup(
            milestone=milestone, period=period, status=status, percent_complete=ret.percent_complete if ret else 0,
            reported_period=ret.period if ret else None, revised_date=revised,
            overdue=milestone.due_date <= period.end and status != MilestoneReturn.Status.COMPLETE,
            slipped=bool(revised and revised > milestone.due_date), computed_at=now,
        ))
    MilestoneRollup.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["milestone", "period"],
        update_fields=["status", "percent_complete", "reported_period", "revised_date", "overdue", "slipped", "computed_at"],
    )
    return len(rows)


def all_slices() -> list[list[int]]:
    """Every indicator with every period of the kinds it is returned in (``periods.period_kinds_for``,
    the rule the return pages follow), ordered by indicator and then by period."""
    by_kind = defaultdict(list)
    for pk, kind in ReportingPeriod.objects.order_by("start", "kind", "pk").values_list("pk", "kind"):
        by_kind[kind].append(pk)
    result = []
    for indicator in Indicator.objects.order_by("code").only("pk", "frequency", "year_basis"):
        kinds = period_kinds_for(indicator)
        result += [[indicator.pk, pk] for kind in sorted(kinds) for pk in by_kind[kind]]
    return result


def _delete_orphans(slices: list[list[int]]) -> None:
    """Remove rows of indicators or periods no longer in the framework (SQLite; on PostgreSQL
    the rebuilt table has none)."""
    valid = {tuple(s) for s in slices}
    orphans = [pk for pk, i, p in IndicatorRollup.objects.values_list("pk", "indicator_id", "period_id") if (i, p) not in valid]
    IndicatorRollup.objects.filter(pk__in=orphans).delete()


def rebuild_all(before_swap: Callable[[], None] | None = None) -> dict[str, int]:
    """Recompute every slice and every milestone position; remove rows of indicators or periods
    that no longer exist in the framework. Idempotent. On PostgreSQL every row is built into a
    fresh table beside the summary, which then takes its place (``rollups.rebuild``; incremental
    rollups go on meanwhile and are carried over; ``before_swap`` runs between the two, for
    tests); elsewhere slice by slice."""
    slices = all_slices()
    if connection.vendor == "postgresql":
        rows = rebuild.rebuild(slices, before_swap)["rows"]
    else:
        rows = sum(rollup_slice(indicator_id, period_id) for indicator_id, period_id in slices)
        _delete_orphans(slices)
    quarters = list(ReportingPeriod.objects.filter(kind=ReportingPeriod.Kind.QUARTER).values_list("pk", flat=True))
    milestones = sum(rollup_milestones(pk) for pk in quarters)
    analyse_summary_tables()
    return {"slices": len(slices), "indicator rows": rows, "milestone rows": milestones}


def analyse_summary_tables() -> None:
    """Refresh PostgreSQL's statistics of the summary tables after a full rebuild. A rebuild can
    rewrite millions of rows at once; until autovacuum analyses them, the planner judges the
    dashboards' queries by the old statistics, and at ten million values took a few indicators'
    rows for most of the table (sequential scans and JIT compilation: 2 to 4 s a page instead of
    0.05 to 0.15 s; see README, "Benchmarks")."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE performance_indicatorrollup")
        cursor.execute("ANALYZE performance_milestonerollup")
