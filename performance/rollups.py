"""Roll approved returns up into the summary tables the dashboards read.

A *slice* is one indicator in one period: every district's row, the KCC area's aggregate and
each breakdown. A slice is recomputed whole from the approved returns of its period, the
previous period and the same period a year before (for direction of travel), under a lock of
its own, and written by upsert on the natural key; rows that no longer have a source are
deleted. So running a slice twice, or after a worker died half way, leaves the same rows.

Approving, sending back or reopening a return queues the slices it touches (its own, and the
next period's and next year's, whose direction of travel compares with it) after the
transaction commits. ``rebuild_all`` recomputes everything.
"""
from __future__ import annotations

import contextlib
import contextvars
import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.utils import timezone

from localities.models import Locality

from . import rollups_pg, rules
from .models import (
    DataQuality,
    Indicator,
    IndicatorReturn,
    IndicatorRollup,
    Milestone,
    MilestoneReturn,
    MilestoneRollup,
    ReportingPeriod,
    WorkflowState,
)
from .periods import period_kinds_for
from .services import targets_for

FOUR_PLACES = Decimal("0.0001")
_batch: contextvars.ContextVar[set | None] = contextvars.ContextVar("rollup_batch", default=None)


def _d(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


# --- Periods around a period -------------------------------------------------------------------

def previous_period(period: ReportingPeriod) -> ReportingPeriod | None:
    return ReportingPeriod.objects.filter(kind=period.kind, end=period.start - datetime.timedelta(days=1)).first()


def _shift_year(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def year_ago_period(period: ReportingPeriod) -> ReportingPeriod | None:
    if period.kind in (ReportingPeriod.Kind.FINANCIAL_YEAR, ReportingPeriod.Kind.CALENDAR_YEAR):
        return previous_period(period)
    return ReportingPeriod.objects.filter(kind=period.kind, start=_shift_year(period.start, -1)).first()


def dependent_periods(period: ReportingPeriod) -> list[ReportingPeriod]:
    """The periods whose direction of travel compares with ``period``: the next one and the one a year later."""
    found = list(
        ReportingPeriod.objects.filter(kind=period.kind).filter(
            start__in=[period.end + datetime.timedelta(days=1), _shift_year(period.start, 1)]
        )
    )
    return found


# --- Computing one slice -------------------------------------------------------------------------

@dataclass
class Figure:
    value: Decimal | None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    reporting: int = 0
    expected: int = 0
    missing: tuple = ()
    flags: tuple = ()  # data-quality flags of the returns in the figure (provisional, estimated, revised)
    commentary: str = ""  # the officer's, for an area's own figure
    published_ci: tuple | None = None  # survey estimates: the source's interval
    sample_base: int | None = None  # survey estimates: the unweighted sample base

    def ci(self, indicator: Indicator):
        if indicator.is_survey:
            return rules.survey_limits(
                unit=indicator.unit, value=self.value, ci_lower=self.published_ci[0] if self.published_ci else None,
                ci_upper=self.published_ci[1] if self.published_ci else None, sample_base=self.sample_base,
            )
        return rules.confidence_limits(
            unit=indicator.unit, aggregation=indicator.aggregation, multiplier=float(indicator.multiplier),
            value=self.value, numerator=self.numerator, denominator=self.denominator,
        )


def _flags(qualities) -> tuple:
    return tuple(sorted({q for q in qualities if q and q != DataQuality.FINAL}))


def aggregate(indicator: Indicator, parts: list[dict], expected: list[Locality]) -> Figure:
    """The KCC area's figure from its districts' approved figures, by the indicator's own method:
    a sum for counts and money totals; the ratio of summed numerators and denominators for rates
    and percentages (never an average of percentages); or not aggregable (a county figure of
    such an indicator is returned in its own right: reporting level "both")."""
    names = {loc.pk: loc.name for loc in expected}
    reported = [p for p in parts if p["locality_id"] in names]
    missing = tuple(sorted(name for pk, name in names.items() if pk not in {p["locality_id"] for p in reported}))
    figure = Figure(value=None, reporting=len(reported), expected=len(expected), missing=missing,
                    flags=_flags(p["quality"] for p in reported))
    if not reported:
        return figure
    if all(p["sample_base"] for p in reported):  # a survey's county base: the districts' bases together
        figure.sample_base = sum(p["sample_base"] for p in reported)
    method = indicator.aggregation
    if method == Indicator.Aggregation.SUM:
        figure.value = sum((p["value"] for p in reported if p["value"] is not None), Decimal(0))
    elif method == Indicator.Aggregation.RATIO:
        usable = [p for p in reported if p["numerator"] is not None and p["denominator"]]
        numerator = sum((p["numerator"] for p in usable), Decimal(0))
        denominator = sum((p["denominator"] for p in usable), Decimal(0))
        if denominator:
            figure.numerator, figure.denominator = numerator, denominator
            figure.value = _d(numerator / denominator * indicator.multiplier)
    return figure


def is_complete(indicator: Indicator, figure: Figure) -> bool:
    """Whether the figure exists and may be judged (rules.is_complete, by the indicator's own rule)."""
    return figure.value is not None and rules.is_complete(
        reporting=figure.reporting, expected=figure.expected, aggregation=indicator.aggregation,
        min_coverage=indicator.min_coverage,
    )


def compute_slice(indicator: Indicator, period: ReportingPeriod) -> list[IndicatorRollup]:
    """Every summary row of one indicator in one period, from approved returns only."""
    previous, year_ago = previous_period(period), year_ago_period(period)
    periods = [p for p in (period, previous, year_ago) if p is not None]
    county = Locality.objects.get(kind=Locality.Kind.COUNTY)
    districts = list(Locality.objects.filter(kind=Locality.Kind.DISTRICT).order_by("name"))
    level = indicator.reporting_level
    returns = (
        IndicatorReturn.objects.filter(indicator=indicator, period__in=periods, state=WorkflowState.APPROVED)
        .values("period_id", "locality_id", "breakdown_id", "breakdown__code", "breakdown__label",
                "breakdown__dimension__code", "breakdown__dimension__name", "value", "numerator", "denominator",
                "quality", "commentary", "ci_lower", "ci_upper", "sample_base")
    )
    returns = list(returns)
    # a breakdown's figure is as final as its area's total
    total_quality = {(r["period_id"], r["locality_id"]): r["quality"] for r in returns if not r["breakdown_id"]}
    by_key: dict[tuple, list[dict]] = defaultdict(list)
    labels = {"": ""}
    for row in returns:
        if row["breakdown_id"]:
            row["quality"] = total_quality.get((row["period_id"], row["locality_id"]), row["quality"])
        key = f"{row['breakdown__dimension__code']}:{row['breakdown__code']}" if row["breakdown_id"] else ""
        if key:
            labels[key] = f"{row['breakdown__dimension__name']}: {row['breakdown__label']}"
        by_key[(row["period_id"], key)].append(row)

    def own_figure(parts: list[dict], area: Locality) -> Figure:
        own = next((p for p in parts if p["locality_id"] == area.pk), None)
        if own is None:
            return Figure(value=None, reporting=0, expected=1, missing=(area.name,))
        return Figure(
            value=own["value"], numerator=own["numerator"], denominator=own["denominator"], reporting=1, expected=1,
            flags=_flags([own["quality"]]), commentary=own["commentary"] or "",
            published_ci=(own["ci_lower"], own["ci_upper"]) if own["ci_lower"] is not None and own["ci_upper"] is not None else None,
            sample_base=own["sample_base"],
        )

    def figures_for(period_id: int, key: str) -> dict[int, Figure]:
        parts = by_key.get((period_id, key), [])
        result: dict[int, Figure] = {}
        if level != Indicator.ReportingLevel.COUNTY:
            for district in districts:
                result[district.pk] = own_figure(parts, district)
        if level == Indicator.ReportingLevel.DISTRICT:
            result[county.pk] = aggregate(indicator, parts, districts)
        else:  # the county's figure is returned in its own right
            result[county.pk] = own_figure(parts, county)
        return result

    areas = [county] if level == Indicator.ReportingLevel.COUNTY else [*districts, county]
    keys = sorted({key for (pid, key) in by_key if pid == period.pk} | {""})
    now = timezone.now()
    rows = []
    target_cache = {area.pk: targets_for(indicator, area, [period.pk]).get(period.pk) for area in areas}
    for key in keys:
        current = figures_for(period.pk, key)
        before = figures_for(previous.pk, key) if previous else {}
        year = figures_for(year_ago.pk, key) if year_ago else {}
        for area in areas:
            figure = current[area.pk]
            if key and figure.reporting == 0 and area.kind == Locality.Kind.DISTRICT:
                continue  # a breakdown row only where the district reported it
            target = target_cache[area.pk] if not key else None
            ci = figure.ci(indicator)
            prev_figure, year_figure = before.get(area.pk), year.get(area.pk)
            complete = is_complete(indicator, figure)
            status = rules.rag_status(
                value=figure.value, target=target.target if target else None,
                tolerance_percent=target.tolerance_percent if target else None, polarity=indicator.polarity,
            ) if complete else rules.INCOMPLETE
            rows.append(IndicatorRollup(
                indicator=indicator, locality=area, period=period, breakdown_key=key, breakdown_label=labels.get(key, key),
                value=_d(figure.value), numerator=_d(figure.numerator), denominator=_d(figure.denominator),
                ci_lower=_d(ci[0]) if ci else None, ci_upper=_d(ci[1]) if ci else None,
                reporting=figure.reporting, expected=figure.expected, missing=list(figure.missing), complete=complete,
                flags=list(figure.flags), commentary=figure.commentary,
                target=target.target if target else None, tolerance_percent=target.tolerance_percent if target else None,
                status=status,
                previous_value=_d(prev_figure.value) if prev_figure else None,
                direction_previous=_direction(indicator, figure, prev_figure),
                year_ago_value=_d(year_figure.value) if year_figure else None,
                direction_year=_direction(indicator, figure, year_figure),
                computed_at=now,
            ))
    return rows


def _direction(indicator: Indicator, current: Figure, earlier: Figure | None) -> str:
    """Direction of travel, only between two figures that may both be judged: a county sum from
    3 of 12 districts against one from 12 of 12 is not a fall."""
    if earlier is None or not is_complete(indicator, current) or not is_complete(indicator, earlier):
        return "not_comparable"
    current_ci, earlier_ci = current.ci(indicator), earlier.ci(indicator)
    if indicator.is_survey and (current_ci is None or earlier_ci is None):
        return "not_comparable"  # a survey's change is judged against its own intervals, or not at all
    return rules.direction(
        current=current.value, previous=earlier.value, current_ci=current_ci, previous_ci=earlier_ci,
        polarity=indicator.polarity,
    )


UPDATE_FIELDS = [
    "breakdown_label", "value", "numerator", "denominator", "ci_lower", "ci_upper", "reporting", "expected", "missing",
    "complete", "flags", "commentary", "target", "tolerance_percent", "status", "previous_value", "direction_previous",
    "year_ago_value", "direction_year", "computed_at",
]


REBUILD_LOCK = 7470001  # one PostgreSQL advisory key (the single-bigint key space) for the whole table


def _lock(*keys: int) -> None:
    """A lock per slice for the rest of the transaction (PostgreSQL advisory lock), taken after a
    shared hold on the rebuild lock, so that a slice never overwrites a full rebuild's newer rows
    with older ones or the reverse; SQLite serialises writers by itself."""
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
    rows they have. On PostgreSQL one set-based statement does them all (performance/rollups_pg.py);
    elsewhere each slice is computed by ``compute_slice``."""
    ordered = sorted({(int(i), int(p)) for i, p in slices})
    for indicator_id, period_id in ordered:
        _lock(indicator_id, period_id)
    if connection.vendor == "postgresql":
        return rollups_pg.rollup_slices(ordered, timezone.now())["rows"]
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


# --- What a change touches, queuing, rebuilding ----------------------------------------------

def slices_touched(ret) -> list[list[int]]:
    """The slices whose rows depend on a return: its own and the periods comparing with it (of
    the same kind). None if the return's period is not of a kind its indicator is returned in
    (``periods.period_kinds_for``): the rollup keeps no rows there, as ``rebuild_all`` does not."""
    if isinstance(ret, MilestoneReturn):
        return []
    if ret.period.kind not in period_kinds_for(ret.indicator):
        return []
    periods = [ret.period, *dependent_periods(ret.period)]
    return [[ret.indicator_id, p.pk] for p in periods]


def queue_for_return(ret) -> None:
    """After the surrounding transaction commits, roll up what this return touches."""
    if isinstance(ret, MilestoneReturn):
        periods = [ret.period.pk, *[p.pk for p in dependent_periods(ret.period)]]
        _queue(slices=[], milestone_periods=periods)
    else:
        _queue(slices=slices_touched(ret), milestone_periods=[])


def queue_slices(slices: list[list[int]]) -> None:
    """After the surrounding transaction commits (or at the end of a ``deferred`` block), roll
    up these [indicator_id, period_id] slices (``services.target_changed`` queues a target's)."""
    _queue(slices=slices, milestone_periods=[])


def _queue(*, slices: list[list[int]], milestone_periods: list[int]) -> None:
    pending = _batch.get()
    if pending is not None:
        pending.update(("slice", *s) for s in slices)
        pending.update(("milestones", p) for p in milestone_periods)
        return
    from .tasks import rollup_milestones_task, rollup_slices_task

    if slices:
        transaction.on_commit(lambda: rollup_slices_task.delay(slices))
    for period_id in milestone_periods:
        transaction.on_commit(lambda period_id=period_id: rollup_milestones_task.delay(period_id))


@contextlib.contextmanager
def deferred():
    """Collect the rollups queued inside the block and run them once at its end (used by the
    demo loader and imports, which change many returns at once)."""
    pending: set = set()
    token = _batch.set(pending)
    try:
        yield pending
    finally:
        _batch.reset(token)
    _queue(
        slices=sorted([s[1], s[2]] for s in pending if s[0] == "slice"),
        milestone_periods=sorted(s[1] for s in pending if s[0] == "milestones"),
    )


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


REBUILD_CHUNK = 50_000  # slices per statement in a full rebuild on PostgreSQL


def _rebuild_indicator_rows(slices: list[list[int]]) -> int:
    if connection.vendor != "postgresql":
        return sum(rollup_slice(indicator_id, period_id) for indicator_id, period_id in slices)
    rows = 0
    for start in range(0, len(slices), REBUILD_CHUNK):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REBUILD_LOCK])
            rows += rollups_pg.rollup_slices(slices[start:start + REBUILD_CHUNK], timezone.now())["rows"]
    return rows


def rebuild_all() -> dict[str, int]:
    """Recompute every slice and every milestone position; remove rows of indicators or periods
    that no longer exist in the framework. Idempotent. On PostgreSQL the slices are computed by
    set-based statements of many slices each, under the rebuild lock (which incremental
    rollups wait for)."""
    slices = all_slices()  # ordered by indicator, so a chunk holds whole indicators
    rows = _rebuild_indicator_rows(slices)
    with connection.cursor() as cursor:  # rows of indicators or periods no longer in the framework
        if connection.vendor == "postgresql":
            cursor.execute(
                "DELETE FROM performance_indicatorrollup r WHERE NOT EXISTS (SELECT 1 FROM unnest(%s::bigint[], "
                "%s::bigint[]) AS s(i, p) WHERE s.i = r.indicator_id AND s.p = r.period_id)",
                [[s[0] for s in slices], [s[1] for s in slices]],
            )
        else:
            valid = {tuple(s) for s in slices}
            orphans = [
                pk for pk, i, p in IndicatorRollup.objects.values_list("pk", "indicator_id", "period_id") if (i, p) not in valid
            ]
            IndicatorRollup.objects.filter(pk__in=orphans).delete()
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
