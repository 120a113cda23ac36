"""Many indicator returns at once, set-based: the core that the CSV import (``imports.py``) and
the API's bulk entry (``services.indicator_returns_enter_bulk``) share.

Both load what they judge against with one query each (the slots, the returns stored for them
and their breakdown rows, and for submissions the areas' approved history and targets), judge
every return in memory with the services' own rules, and only then write, in a handful of
statements whatever the number of returns (``write``): the rows about to change are locked in
primary-key order, changed returns are written with one conditional UPDATE naming the version
each was read at (optimistic locking: a return changed meanwhile refuses the whole write with
``Changed``), and new returns and every audit event with COPY on PostgreSQL (``bulk_create``
elsewhere). Row locks are therefore held for the write alone, not for the checks.

The API's bulk entry (``indicator_returns_enter``) takes the items of ``services.
indicator_return_enter`` and stores exactly what calling it item by item, in order, would: the
same returns, breakdown rows, versions, states and audit events (tests/api/
test_bulk_set_based.py), with the same refusals, reported per item.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import NamedTuple

import orjson
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from . import permissions, rules, services
from .models import (
    BreakdownCategory,
    DataQuality,
    Indicator,
    IndicatorAssignment,
    IndicatorReturn,
    IndicatorTarget,
    ReportingPeriod,
    ReturnEvent,
    WorkflowState,
)


class Changed(Exception):
    """A return changed between the check and the write; nothing is written."""


# --- The write ---------------------------------------------------------------------------------

class Event(NamedTuple):
    """One audit event to write (its return, actor and time are the write's)."""

    action: str
    from_state: str
    to_state: str
    version: int
    changes: dict  # field: [before, after], ready for JSON
    note: str = ""


class NewReturn(NamedTuple):
    """A return (a total or a breakdown row) to create, as it is to be stored, with its events."""

    indicator_id: int
    locality_id: int
    period_id: int
    organisation_id: int
    breakdown_id: int | None
    value: Decimal | None
    numerator: Decimal | None
    denominator: Decimal | None
    commentary: str
    state: str
    version: int
    quality: str = DataQuality.FINAL
    source_released: object = None
    quality_note: str = ""
    ci_lower: Decimal | None = None
    ci_upper: Decimal | None = None
    sample_base: int | None = None
    return_reason: str = ""
    confirmed_warnings: tuple = ()
    submitted_at: object = None
    submitted_by_id: int | None = None
    events: tuple = ()


class TotalUpdate(NamedTuple):
    """A stored total to change, only if it is still at the version read (``expected``). The
    submission fields are written only when ``submitted`` (a save leaves them as stored)."""

    pk: int
    expected: int
    version: int
    state: str
    value: Decimal | None
    numerator: Decimal | None
    denominator: Decimal | None
    commentary: str
    quality: str
    source_released: object
    quality_note: str
    ci_lower: Decimal | None
    ci_upper: Decimal | None
    sample_base: int | None
    submitted: bool = False
    submitted_at: object = None
    submitted_by_id: int | None = None
    return_reason: str = ""
    confirmed_warnings: tuple = ()


class BreakdownUpdate(NamedTuple):
    """A stored breakdown row brought in line with its total: its value (if ``set_value``), its
    state, and its version moved on by ``bump`` (the total's version guards them all)."""

    pk: int
    set_value: bool
    value: Decimal | None
    state: str
    bump: int


@dataclass
class Plan:
    new: list[NewReturn] = field(default_factory=list)
    updates: list[TotalUpdate] = field(default_factory=list)
    breakdown_updates: list[BreakdownUpdate] = field(default_factory=list)
    events: list[tuple[int, Event]] = field(default_factory=list)  # (stored return's id, event)


def write(plan: Plan, *, now, actor_id: int | None, api_key_id: int | None = None) -> list[int]:
    """Write ``plan`` in a few statements; returns the ids of ``plan.new``, in order. Raises
    ``Changed`` (having written nothing the caller's transaction keeps) if a total is no longer
    at the version read."""
    writer = _write_postgresql if connection.vendor == "postgresql" else _write_orm
    return writer(plan, now=now, actor_id=actor_id, api_key_id=api_key_id)


def _write_orm(plan: Plan, *, now, actor_id, api_key_id) -> list[int]:
    for u in plan.updates:
        submission = (
            {"submitted_at": u.submitted_at, "submitted_by_id": u.submitted_by_id, "return_reason": u.return_reason,
             "confirmed_warnings": list(u.confirmed_warnings)} if u.submitted else {}
        )
        if not IndicatorReturn.objects.filter(pk=u.pk, version=u.expected).update(
            value=u.value, numerator=u.numerator, denominator=u.denominator, commentary=u.commentary,
            quality=u.quality, source_released=u.source_released, quality_note=u.quality_note, ci_lower=u.ci_lower,
            ci_upper=u.ci_upper, sample_base=u.sample_base, state=u.state, version=u.version, updated_at=now,
            **submission,
        ):
            raise Changed(u.pk)
    for b in plan.breakdown_updates:
        fields = {"value": b.value} if b.set_value else {}
        IndicatorReturn.objects.filter(pk=b.pk).update(**fields, state=b.state, version=F("version") + b.bump, updated_at=now)
    made = IndicatorReturn.objects.bulk_create([
        IndicatorReturn(
            indicator_id=n.indicator_id, locality_id=n.locality_id, period_id=n.period_id,
            organisation_id=n.organisation_id, breakdown_id=n.breakdown_id, value=n.value, numerator=n.numerator,
            denominator=n.denominator, commentary=n.commentary, state=n.state, version=n.version, quality=n.quality,
            source_released=n.source_released, quality_note=n.quality_note, ci_lower=n.ci_lower, ci_upper=n.ci_upper,
            sample_base=n.sample_base, return_reason=n.return_reason, confirmed_warnings=list(n.confirmed_warnings),
            submitted_at=n.submitted_at, submitted_by_id=n.submitted_by_id, created_at=now, updated_at=now,
        )
        for n in plan.new
    ])
    ids = [obj.pk for obj in made]
    events = [*plan.events, *((pk, e) for pk, n in zip(ids, plan.new) for e in n.events)]
    ReturnEvent.objects.bulk_create([
        ReturnEvent(indicator_return_id=pk, actor_id=actor_id, api_key_id=api_key_id, at=now, action=e.action,
                    from_state=e.from_state, to_state=e.to_state, version=e.version, changes=e.changes, note=e.note)
        for pk, e in events
    ])
    return ids


def copy_text(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
        return value
    if isinstance(value, Decimal):
        return f"{value:f}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


RETURN_COPY_FIELDS = (
    "id, created_at, updated_at, organisation_id, period_id, indicator_id, locality_id, breakdown_id, value, "
    "numerator, denominator, commentary, state, version, quality, source_released, quality_note, ci_lower, ci_upper, "
    "sample_base, return_reason, confirmed_warnings, submitted_at, submitted_by_id"
)
EVENT_COPY_FIELDS = "at, actor_id, api_key_id, indicator_return_id, action, from_state, to_state, version, changes, note"
UPDATE_COLUMNS = (
    "id, expected, version, state, value, numerator, denominator, commentary, quality, source_released, quality_note, "
    "ci_lower, ci_upper, sample_base, submitted, submitted_at, submitted_by_id, return_reason, confirmed_warnings"
)
UPDATE_TEMPLATE = (
    "(%s::bigint, %s::integer, %s::integer, %s::text, %s::numeric, %s::numeric, %s::numeric, %s::text, %s::text, "
    "%s::date, %s::text, %s::numeric, %s::numeric, %s::integer, %s::boolean, %s::timestamptz, %s::integer, %s::text, "
    "%s::jsonb)"
)


def _write_postgresql(plan: Plan, *, now, actor_id, api_key_id) -> list[int]:
    """The same writes as ``_write_orm``, ordered so that stored returns are locked for as short
    a time as can be: first COPY of the new returns (their ids drawn from the table's sequence)
    and of every event, which lock no stored row; then the stored rows to change, locked in
    primary-key order (so that two writers never wait on each other crosswise), one UPDATE ...
    FROM (VALUES ...) for the totals, naming each one's version read, and one for the breakdown
    rows. Those locks are held from there to the commit."""
    from psycopg2.extras import execute_values

    table = IndicatorReturn._meta.db_table
    dumps = orjson.dumps
    # psycopg2's own cursor, for execute_values and COPY; its errors turned into Django's
    # (IntegrityError, OperationalError), as those of Django's cursor are.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        raw = cursor.cursor
        ids: list[int] = []
        events = list(plan.events)
        if plan.new:
            raw.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(plan.new)])
            ids = [row[0] for row in raw.fetchall()]
            stamp = f"{now.isoformat()}\t{now.isoformat()}\t"
            lines = []
            append = lines.append
            text = copy_text
            for pk, n in zip(ids, plan.new):
                append(
                    f"{pk}\t{stamp}{n.organisation_id}\t{n.period_id}\t{n.indicator_id}\t{n.locality_id}\t"
                    f"{text(n.breakdown_id)}\t{text(n.value)}\t{text(n.numerator)}\t{text(n.denominator)}\t"
                    f"{text(n.commentary)}\t{n.state}\t{n.version}\t{text(n.quality)}\t{text(n.source_released)}\t"
                    f"{text(n.quality_note)}\t{text(n.ci_lower)}\t{text(n.ci_upper)}\t{text(n.sample_base)}\t"
                    f"{text(n.return_reason)}\t{text(dumps(list(n.confirmed_warnings)).decode())}\t"
                    f"{text(n.submitted_at)}\t{text(n.submitted_by_id)}\n"
                )
                events.extend((pk, e) for e in n.events)
            raw.copy_expert(f"COPY {table} ({RETURN_COPY_FIELDS}) FROM STDIN", io.StringIO("".join(lines)))
        if events:
            fixed = f"{now.isoformat()}\t{copy_text(actor_id)}\t{copy_text(api_key_id)}\t"
            body = "".join(
                f"{fixed}{pk}\t{e.action}\t{e.from_state}\t{e.to_state}\t{e.version}\t"
                f"{copy_text(dumps(e.changes).decode())}\t{copy_text(e.note)}\n"
                for pk, e in events
            )
            raw.copy_expert(f"COPY {ReturnEvent._meta.db_table} ({EVENT_COPY_FIELDS}) FROM STDIN", io.StringIO(body))
        locked = sorted({u.pk for u in plan.updates} | {b.pk for b in plan.breakdown_updates})
        if locked:  # the lock an UPDATE takes (it leaves foreign keys to the rows free), in key order
            raw.execute(f"SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE", [locked])
        if plan.updates:
            head = raw.mogrify(f"UPDATE {table} AS r SET updated_at = %s, ", [now]).decode().replace("%", "%%")
            execute_values(
                raw,
                head + "value = v.value, numerator = v.numerator, denominator = v.denominator, "
                "commentary = v.commentary, quality = v.quality, source_released = v.source_released, "
                "quality_note = v.quality_note, ci_lower = v.ci_lower, ci_upper = v.ci_upper, "
                "sample_base = v.sample_base, state = v.state, version = v.version, "
                "submitted_at = CASE WHEN v.submitted THEN v.submitted_at ELSE r.submitted_at END, "
                "submitted_by_id = CASE WHEN v.submitted THEN v.submitted_by_id ELSE r.submitted_by_id END, "
                "return_reason = CASE WHEN v.submitted THEN v.return_reason ELSE r.return_reason END, "
                "confirmed_warnings = CASE WHEN v.submitted THEN v.confirmed_warnings ELSE r.confirmed_warnings END "
                f"FROM (VALUES %s) AS v({UPDATE_COLUMNS}) WHERE r.id = v.id AND r.version = v.expected",
                [(*u[:-1], dumps(list(u.confirmed_warnings)).decode()) for u in plan.updates],
                template=UPDATE_TEMPLATE, page_size=len(plan.updates),
            )
            if raw.rowcount != len(plan.updates):
                raise Changed()
        if plan.breakdown_updates:
            head = raw.mogrify(
                f"UPDATE {table} AS r SET value = CASE WHEN v.set_value THEN v.value ELSE r.value END, "
                "state = v.state, version = r.version + v.bump, updated_at = %s FROM (VALUES ", [now],
            ).decode().replace("%", "%%")
            execute_values(
                raw, head + "%s) AS v(id, set_value, value, state, bump) WHERE r.id = v.id",
                plan.breakdown_updates, template="(%s::bigint, %s::boolean, %s::numeric, %s::text, %s::integer)",
                page_size=len(plan.breakdown_updates),
            )
    return ids


# --- What submissions are judged against, for many returns at once -------------------------------

def approved_history(period: ReportingPeriod, slots: set[tuple[int, int]]) -> dict[tuple[int, int], list[Decimal]]:
    """For each (indicator id, area id) slot, its approved values of earlier periods of the same
    kind as ``period``, oldest first: what ``services.value_history`` gives for one slot, for
    all of them in one query. The query names the slots' indicators, areas and the
    ``services.HISTORY_PERIODS`` periods it draws from, so that it reads the unique (indicator,
    area, period) index, not whole periods."""
    period_ids = [row["pk"] for row in services.history_periods(period)]
    if not period_ids or not slots:
        return {}
    latest = (
        IndicatorReturn.objects.filter(
            indicator_id__in=sorted({i for i, _ in slots}), locality_id__in=sorted({loc for _, loc in slots}),
            period_id__in=period_ids, breakdown__isnull=True, state=WorkflowState.APPROVED, value__isnull=False,
        )
        .annotate(n=Window(RowNumber(), partition_by=[F("indicator_id"), F("locality_id")],
                           order_by=F("period__start").desc()))
        .filter(n__lte=services.HISTORY_VALUES)
        .order_by("indicator_id", "locality_id", "-n")
        .values_list("indicator_id", "locality_id", "value")
    )
    history: dict[tuple[int, int], list[Decimal]] = {}
    for indicator_id, locality_id, value in latest:
        key = (indicator_id, locality_id)
        if key in slots:
            history.setdefault(key, []).append(value)
    return history


def choose_target(indicator, locality, targets: list[IndicatorTarget]) -> IndicatorTarget | None:
    """Of one indicator's targets for one period, the one ``services.targets_for`` applies to an
    area: its own, else the general one, except that a count's general target is the county
    total's and says nothing about one district."""
    general_applies = not (indicator.aggregation == indicator.Aggregation.SUM and locality.kind == "district")
    chosen = None
    for target in targets:
        if target.locality_id == locality.pk:
            return target
        if target.locality_id is None and general_applies and chosen is None:
            chosen = target
    return chosen


# --- Entering many returns by reference (the API's bulk) -------------------------------------------

@dataclass
class _Return:
    """A return (total or breakdown row) as the batch holds it: as stored, then as each item
    leaves it. Its attributes are those of ``IndicatorReturn`` the services read."""

    pk: int | None
    organisation_id: int
    state: str
    version: int
    value: Decimal | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    commentary: str = ""
    quality: str = DataQuality.FINAL
    source_released: object = None
    quality_note: str = ""
    ci_lower: Decimal | None = None
    ci_upper: Decimal | None = None
    sample_base: int | None = None
    return_reason: str = ""
    submitted_at: object = None
    submitted_by_id: int | None = None
    confirmed_warnings: list = field(default_factory=list)

    def get_state_display(self) -> str:
        return WorkflowState(self.state).label

    def __str__(self) -> str:
        return f"Return {self.pk or '(new)'}"


STORED_FIELDS = (
    "pk", "organisation_id", "state", "version", "value", "numerator", "denominator", "commentary",
    *services.QUALITY_FIELDS, "return_reason", "submitted_at", "submitted_by_id", "confirmed_warnings",
)


class _Slot:
    """One indicator, area and period named by the items: its total and breakdown rows as stored
    (what the write compares with) and as the items leave them, and the events they make."""

    __slots__ = ("indicator", "locality", "period", "total", "parts", "stored_version", "stored_parts", "events",
                 "submitted")

    def __init__(self, indicator, locality, period, total: _Return | None, parts: dict[int, _Return]):
        self.indicator, self.locality, self.period = indicator, locality, period
        self.total, self.parts = total, parts
        self.stored_version = total.version if total else None
        self.stored_parts = {category_id: replace(part) for category_id, part in parts.items()}
        self.events: list[Event] = []
        self.submitted = False

    def snapshot(self) -> tuple:
        return (replace(self.total) if self.total else None, {k: replace(v) for k, v in self.parts.items()},
                list(self.events), self.submitted)

    def restore(self, snapshot: tuple) -> None:
        self.total, self.parts, self.events, self.submitted = snapshot


class _Assignment(NamedTuple):
    """Who returns an indicator for an area (``IndicatorAssignment``, with its objects)."""

    indicator: Indicator
    locality: object
    organisation: object

    @property
    def indicator_id(self) -> int:
        return self.indicator.pk

    @property
    def locality_id(self) -> int:
        return self.locality.pk

    @property
    def organisation_id(self) -> int:
        return self.organisation.pk


class _Batch:
    """The items of one bulk entry, the data they are judged against (one query each), and the
    slots as the items leave them."""

    def __init__(self, user, items: list[dict], now):
        from localities.models import Locality
        from partnerships.models import Organisation

        self.user, self.items, self.now = user, items, now
        self.person = services._person(user)
        self.indicators = {i.code: i for i in Indicator.objects.filter(code__in={it["indicator_code"] for it in items})}
        self.localities = {loc.gss_code: loc for loc in Locality.objects.filter(gss_code__in={it["gss_code"] for it in items})}
        self.periods = {p.label: p for p in ReportingPeriod.objects.filter(label__in={it["period_label"] for it in items})}
        indicator_ids = sorted(i.pk for i in self.indicators.values())
        locality_ids = sorted(loc.pk for loc in self.localities.values())
        period_ids = sorted(p.pk for p in self.periods.values())
        self.indicators_by_id = {i.pk: i for i in self.indicators.values()}
        self.localities_by_id = {loc.pk: loc for loc in self.localities.values()}
        assigned = list(IndicatorAssignment.objects.filter(indicator_id__in=indicator_ids, locality_id__in=locality_ids)
                        .values_list("indicator_id", "locality_id", "organisation_id"))
        # Breakdown categories by indicator, keyed "dimension:category" as the API names them.
        through = Indicator.breakdown_dimensions.through
        dimensions: dict[int, set[int]] = {}
        for indicator_id, dimension_id in through.objects.filter(indicator_id__in=indicator_ids).values_list(
            "indicator_id", "breakdowndimension_id"
        ):
            dimensions.setdefault(indicator_id, set()).add(dimension_id)
        categories = list(BreakdownCategory.objects.filter(
            dimension_id__in={d for ds in dimensions.values() for d in ds}
        ).select_related("dimension"))  # in the model's order (dimension, order, label), as the services read them
        self.category_order = {c.pk: n for n, c in enumerate(categories)}
        self.categories = {c.pk: c for c in categories}
        self.keys = {
            indicator_id: {f"{c.dimension.code}:{c.code}": c.pk for c in categories if c.dimension_id in ds}
            for indicator_id, ds in dimensions.items()
        }
        # What is stored for the slots the items name (read, not locked: the write names versions).
        self.stored: dict[tuple[int, int, int], _Return] = {}
        self.stored_parts: dict[tuple[int, int, int], dict[int, _Return]] = {}
        if indicator_ids and locality_ids and period_ids:
            for indicator_id, locality_id, period_id, breakdown_id, *values in IndicatorReturn.objects.filter(
                indicator_id__in=indicator_ids, locality_id__in=locality_ids, period_id__in=period_ids,
            ).values_list("indicator_id", "locality_id", "period_id", "breakdown_id", *STORED_FIELDS):
                row = _Return(*values)
                key = (indicator_id, locality_id, period_id)
                if breakdown_id is None:
                    self.stored[key] = row
                else:
                    self.stored_parts.setdefault(key, {})[breakdown_id] = row
        # The organisations whose returns these are: the slots' (as assigned) and the stored
        # returns' (a return belongs to whoever made it, even if the slot was reassigned since).
        wanted = {organisation_id for *_, organisation_id in assigned} | {r.organisation_id for r in self.stored.values()}
        self.organisations = {o.pk: o for o in Organisation.objects.filter(pk__in=wanted)} if wanted else {}
        self.assignments = {
            (indicator_id, locality_id): _Assignment(self.indicators_by_id[indicator_id], self.localities_by_id[locality_id],
                                                     self.organisations[organisation_id])
            for indicator_id, locality_id, organisation_id in assigned
        }
        self.permitted: dict[int, str | None] = {}  # organisation id: why the user may not enter its returns
        self.slots: dict[tuple[int, int, int], _Slot] = {}
        self._judging_data()

    def _judging_data(self) -> None:
        """The approved history and targets of the slots of items that submit (one query per
        period they name, and one for all targets)."""
        by_period: dict[int, set[tuple[int, int]]] = {}
        for item in self.items:
            if item.get("submit"):
                indicator = self.indicators.get(item["indicator_code"])
                locality = self.localities.get(item["gss_code"])
                period = self.periods.get(item["period_label"])
                if indicator and locality and period:
                    by_period.setdefault(period.pk, set()).add((indicator.pk, locality.pk))
        periods = {p.pk: p for p in self.periods.values()}
        self.history = {
            (*slot, period_id): values
            for period_id, slots in by_period.items()
            for slot, values in approved_history(periods[period_id], slots).items()
        }
        self.targets: dict[tuple[int, int], list[IndicatorTarget]] = {}
        if by_period:
            indicator_ids = {i for slots in by_period.values() for i, _ in slots}
            for target in IndicatorTarget.objects.filter(indicator_id__in=indicator_ids, period_id__in=by_period):
                self.targets.setdefault((target.indicator_id, target.period_id), []).append(target)

    # --- the services' rules, on the batch's data ------------------------------------------------

    def check_can_enter(self, organisation) -> None:
        """``permissions.check_can_enter``, asked once per organisation."""
        if organisation.pk not in self.permitted:
            try:
                permissions.check_can_enter(self.user, organisation)
                self.permitted[organisation.pk] = None
            except PermissionDenied as denied:
                self.permitted[organisation.pk] = str(denied)
        if (message := self.permitted[organisation.pk]) is not None:
            raise PermissionDenied(message)

    def resolve_slot(self, code: str, gss: str, label: str):
        """``services.resolve_slot``: the assignment and period, or the same errors."""
        indicator, locality, period = self.indicators.get(code), self.localities.get(gss), self.periods.get(label)
        errors = services.slot_errors(indicator=indicator, locality=locality, period=period, indicator_code=code,
                                      gss_code=gss, period_label=label)
        if errors:
            raise ValidationError(errors)
        assignment = self.assignments.get((indicator.pk, locality.pk))
        if assignment is None:
            raise ValidationError({"indicator": f"Nobody returns {indicator.code} for {locality.name}."})
        return assignment, period

    def breakdowns_by_key(self, indicator, values: dict) -> dict[int, Decimal | None]:
        """``services.breakdowns_by_key``."""
        keys = self.keys.get(indicator.pk, {})
        unknown = [key for key in values if key not in keys]
        if unknown:
            raise ValidationError({"breakdowns": f"Not a breakdown of {indicator.code}: {', '.join(sorted(unknown))[:200]}."})
        return {keys[key]: value for key, value in values.items()}

    def slot(self, assignment, period) -> _Slot:
        key = (assignment.indicator_id, assignment.locality_id, period.pk)
        found = self.slots.get(key)
        if found is None:
            found = self.slots[key] = _Slot(
                self.indicators_by_id[assignment.indicator_id], assignment.locality, period,
                replace(self.stored[key]) if key in self.stored else None,
                {k: replace(v) for k, v in self.stored_parts.get(key, {}).items()},
            )
        return found

    def organisation(self, organisation_id: int):
        return self.organisations[organisation_id]

    # --- one item, as services.indicator_return_enter ------------------------------------------------

    def enter(self, item: dict) -> _Slot:
        assignment, period = self.resolve_slot(item["indicator_code"], item["gss_code"], item["period_label"])
        self.check_can_enter(assignment.organisation)
        sent = item["figures"]
        figures = services.IndicatorFigures(
            value=sent.value, numerator=sent.numerator, denominator=sent.denominator, commentary=sent.commentary,
            breakdowns=self.breakdowns_by_key(assignment.indicator, item.get("breakdown_values") or {}),
            quality=sent.quality,
        )
        slot = self.slot(assignment, period)
        self.save(slot, assignment, figures, item.get("expected_version"))
        if item.get("submit"):
            self.submit(slot, confirm_warnings=item.get("confirm_warnings", False))
        return slot

    def save(self, slot: _Slot, assignment, figures: services.IndicatorFigures, expected_version: int | None) -> None:
        """``services.indicator_return_save`` on the slot as the earlier items left it."""
        indicator = slot.indicator
        self.check_can_enter(assignment.organisation)
        services.check_period_open(slot.period)
        ret = slot.total
        services.check_draft_figures(indicator, figures, ret)
        values = services._return_values(indicator, figures, ret)
        if ret is None:
            ret = slot.total = _Return(pk=None, organisation_id=assignment.organisation_id,
                                       state=WorkflowState.DRAFT, version=1, **values)
            changes = services.creation_changes(values)
            changes.update(self.save_breakdowns(slot, figures.breakdowns))
            self.record(slot, ReturnEvent.Action.CREATED, from_state="", changes=changes)
            return
        self.check_can_enter(self.organisation(ret.organisation_id))
        if ret.state == WorkflowState.APPROVED:
            raise ValidationError("This return has been approved and can no longer be changed.")
        if ret.state == WorkflowState.SUBMITTED and self.user is not None:
            raise ValidationError("This return has been submitted and is waiting for approval; it cannot be changed now.")
        if expected_version is None or expected_version != ret.version:
            raise services.StaleReturnError(ret)
        from_state = ret.state
        differ = any(
            (slot.parts[c].value if c in slot.parts else None) != value for c, value in figures.breakdowns.items()
        )
        changes = services.draft_changes(ret, values, breakdowns_changed=differ)
        if changes is None:
            return  # nothing changed: no new version, no event
        self.bump(ret, {**values, "state": WorkflowState.DRAFT})
        changes.update(self.save_breakdowns(slot, figures.breakdowns))
        self.sync_breakdown_state(slot)
        self.record(slot, ReturnEvent.Action.SAVED, from_state=from_state, changes=changes)

    def save_breakdowns(self, slot: _Slot, breakdowns: dict[int, Decimal | None]) -> dict:
        """``services._save_breakdowns``: new rows at version 1 in the total's state, changed
        ones moved on a version."""
        changes = {}
        for category_id, value in breakdowns.items():
            row = slot.parts.get(category_id)
            old = row.value if row else None
            if row is None and value is None:
                continue
            if row is None:
                slot.parts[category_id] = _Return(pk=None, organisation_id=slot.total.organisation_id,
                                                  state=slot.total.state, version=1, value=value)
            elif old != value:
                row.value, row.version = value, row.version + 1
            if old != value:
                label = self.categories[category_id].label if category_id in self.categories else category_id
                changes[f"breakdown: {label}"] = (old, value)
        return changes

    @staticmethod
    def sync_breakdown_state(slot: _Slot) -> None:
        """``services._sync_breakdown_state``."""
        for row in slot.parts.values():
            row.state, row.version = slot.total.state, row.version + 1

    @staticmethod
    def bump(ret: _Return, fields: dict) -> None:
        for name, value in fields.items():
            setattr(ret, name, value)
        ret.version += 1

    def record(self, slot: _Slot, action: str, *, from_state: str, changes: dict | None = None, note: str = "") -> None:
        """``services._record``: the event, with the return's state and version after it."""
        jsonable = services._jsonable
        slot.events.append(Event(
            action=action, from_state=from_state, to_state=slot.total.state, version=slot.total.version,
            changes={k: [jsonable(a), jsonable(b)] for k, (a, b) in (changes or {}).items()}, note=note,
        ))

    def submit(self, slot: _Slot, *, confirm_warnings: bool) -> None:
        """``services.indicator_return_submit`` at the version the save left."""
        ret = slot.total
        self.check_can_enter(self.organisation(ret.organisation_id))
        figures = services.IndicatorFigures(
            value=ret.value, numerator=ret.numerator, denominator=ret.denominator, commentary=ret.commentary,
            breakdowns={c: row.value for c, row in sorted(slot.parts.items())},
            quality={name: getattr(ret, name) for name in services.QUALITY_FIELDS},
        )
        assessment = self.assess(slot, figures)
        if assessment.errors:
            raise ValidationError(assessment.errors)
        if assessment.warnings and not confirm_warnings:
            raise services.UnconfirmedWarnings(assessment.warnings)
        if assessment.commentary_required and not ret.commentary.strip():
            reason = "the figures raise a warning" if assessment.warnings else "the value is off target"
            raise ValidationError({"commentary": f"Add a commentary: {reason}. Say why, and what is being done."})
        # services._transition
        services.check_period_open(slot.period)
        if ret.state not in (WorkflowState.DRAFT, WorkflowState.RETURNED):
            raise ValidationError(
                f"A {ret.get_state_display().lower()} return cannot become {WorkflowState.SUBMITTED.label.lower()}."
            )
        from_state = ret.state
        self.bump(ret, {
            "state": WorkflowState.SUBMITTED, "submitted_at": self.now, "submitted_by_id": getattr(self.person, "pk", None),
            "return_reason": "", "confirmed_warnings": assessment.warnings if confirm_warnings else [],
        })
        slot.submitted = True
        self.sync_breakdown_state(slot)
        self.record(slot, ReturnEvent.Action.SUBMITTED, from_state=from_state,
                    note="; ".join(f"Confirmed warning: {w}" for w in assessment.warnings) if confirm_warnings else "")

    def assess(self, slot: _Slot, figures: services.IndicatorFigures) -> services.FigureAssessment:
        """``services.assess_figures``, with the history and target loaded for the batch."""
        indicator, locality, period = slot.indicator, slot.locality, slot.period
        errors = services.figure_errors(indicator, figures)
        value = services._computed_value(indicator, figures)
        warnings: list[str] = []
        if not errors:
            unit = "%" if indicator.unit == indicator.Unit.PERCENTAGE else ""
            history = self.history.get((indicator.pk, locality.pk, period.pk), [])
            if warning := rules.outlier_warning(value, history, unit_label=unit):
                warnings.append(warning)
            if indicator.aggregation == indicator.Aggregation.SUM and figures.breakdowns:
                by_dimension: dict[str, dict[str, Decimal | None]] = {}
                for category_id in sorted(figures.breakdowns, key=lambda c: self.category_order.get(c, 0)):
                    category = self.categories[category_id]
                    by_dimension.setdefault(category.dimension.name, {})[category.label] = figures.breakdowns[category_id]
                for dimension, parts in sorted(by_dimension.items()):
                    if warning := rules.breakdown_warning(value, parts, dimension):
                        warnings.append(warning)
        target = choose_target(indicator, locality, self.targets.get((indicator.pk, period.pk), []))
        status = rules.rag_status(
            value=value, target=target.target if target else None,
            tolerance_percent=target.tolerance_percent if target else None, polarity=indicator.polarity,
        )
        return services.FigureAssessment(
            errors=errors, warnings=warnings, status=status,
            commentary_required=status in (rules.AMBER, rules.RED) or bool(warnings),
        )

    # --- the write --------------------------------------------------------------------------------

    def plan(self) -> tuple[Plan, dict[tuple, int]]:
        """What to write for every slot the items changed, and where each new total is in
        ``plan.new`` (by slot key)."""
        plan, created = Plan(), {}
        for key, slot in self.slots.items():
            ret = slot.total
            if ret is None:
                continue
            if ret.pk is None:
                created[key] = len(plan.new)
                plan.new.append(self._new(slot, ret, None, events=tuple(slot.events)))
            elif ret.version != slot.stored_version:
                plan.updates.append(TotalUpdate(
                    pk=ret.pk, expected=slot.stored_version, version=ret.version, state=ret.state, value=ret.value,
                    numerator=ret.numerator, denominator=ret.denominator, commentary=ret.commentary,
                    **{name: getattr(ret, name) for name in services.QUALITY_FIELDS},
                    submitted=slot.submitted, submitted_at=ret.submitted_at, submitted_by_id=ret.submitted_by_id,
                    return_reason=ret.return_reason, confirmed_warnings=tuple(ret.confirmed_warnings),
                ))
                plan.events.extend((ret.pk, event) for event in slot.events)
            for category_id, row in slot.parts.items():
                if row.pk is None:
                    plan.new.append(self._new(slot, row, category_id))
                    continue
                stored = slot.stored_parts[category_id]
                if row.version != stored.version or row.state != stored.state or row.value != stored.value:
                    plan.breakdown_updates.append(BreakdownUpdate(
                        pk=row.pk, set_value=row.value != stored.value, value=row.value, state=row.state,
                        bump=row.version - stored.version,
                    ))
        return plan, created

    @staticmethod
    def _new(slot: _Slot, row: _Return, breakdown_id: int | None, events: tuple = ()) -> NewReturn:
        return NewReturn(
            indicator_id=slot.indicator.pk, locality_id=slot.locality.pk, period_id=slot.period.pk,
            organisation_id=row.organisation_id, breakdown_id=breakdown_id, value=row.value, numerator=row.numerator,
            denominator=row.denominator, commentary=row.commentary, state=row.state, version=row.version,
            **{name: getattr(row, name) for name in services.QUALITY_FIELDS},
            return_reason=row.return_reason, confirmed_warnings=tuple(row.confirmed_warnings),
            submitted_at=row.submitted_at, submitted_by_id=row.submitted_by_id, events=events,
        )


def _item_errors(error: Exception) -> dict:
    """An item's refusal as the bulk API reports it (as ``services.indicator_returns_enter_bulk``
    always has): a stale version, a permission refusal, or the service's validation errors."""
    if isinstance(error, services.StaleReturnError):
        return {"version": [f"The return is now version {error.current.version}; read it again."]}
    if isinstance(error, PermissionDenied):
        return {"organisation": [str(error)]}
    return error.message_dict if hasattr(error, "error_dict") else {"non_field_errors": error.messages}


def _enter_once(user, items: list[dict]) -> list[int]:
    now = timezone.now()
    with transaction.atomic():
        batch = _Batch(user, items, now)
        errors: list[tuple[int, dict]] = []
        touched: list[tuple] = []  # the slot of each item, in order
        for index, item in enumerate(items):
            slot_key = None
            try:
                assignment, period = batch.resolve_slot(item["indicator_code"], item["gss_code"], item["period_label"])
                slot_key = (assignment.indicator_id, assignment.locality_id, period.pk)
            except ValidationError:
                pass
            before = batch.slots[slot_key].snapshot() if slot_key in batch.slots else None
            try:
                batch.enter(item)
                touched.append(slot_key)
            except (services.StaleReturnError, PermissionDenied, ValidationError) as refused:
                errors.append((index, _item_errors(refused)))
                if slot_key in batch.slots:  # as the item's savepoint: the slot as before it
                    if before is None:
                        del batch.slots[slot_key]
                    else:
                        batch.slots[slot_key].restore(before)
        if errors:
            raise services.BulkErrors(errors)
        plan, created = batch.plan()
        actor = services._person(user)
        ids = write(plan, now=now, actor_id=getattr(actor, "pk", None),
                    api_key_id=user.key.pk if isinstance(user, permissions.KeyActor) else None)
    saved, seen = [], set()
    for key in touched:
        slot = batch.slots[key]
        pk = slot.total.pk or ids[created[key]]
        if pk not in seen:
            seen.add(pk)
            saved.append(pk)
    return saved


def indicator_returns_enter(*, user, items: list[dict]) -> list[int]:
    """Enter many returns at once, all or nothing, as ``services.indicator_return_enter`` would
    item by item in one transaction: each item is judged against the returns as the earlier
    items leave them; if any is refused, nothing is saved and ``services.BulkErrors`` lists
    every refused item (by index) with its errors. Returns the ids of the totals saved, in the
    items' order.

    A return changed by someone else between the check and the write refuses the write; the
    items are then checked once more against what is stored now, which names the stale ones."""
    try:
        return _enter_once(user, items)
    except (Changed, IntegrityError):
        pass
    try:
        return _enter_once(user, items)
    except Changed:
        raise services.BulkErrors(
            [], detail="Some of these returns were changed by someone else while they were being saved. Nothing "
            "was saved; read them again and send the items again.",
        ) from None
