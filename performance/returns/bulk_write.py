"""Many indicator returns written at once, set-based: the write that the CSV import
(``returns.imports``) and the API's bulk entry (``returns.bulk_entry``) share.

In a handful of statements whatever the number of returns (``write``): the rows about to
change are locked in primary-key order, changed returns are written with one conditional
UPDATE naming the version each was read at (optimistic locking: a return changed meanwhile
refuses the whole write with ``Changed``), and new returns and every audit event with COPY on
PostgreSQL (``bulk_create`` elsewhere). Row locks are held for the write alone, not for the
checks, which the callers make before."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

import orjson
from django.db import connection
from django.db.models import F
from psycopg2.extras import execute_values

from performance.models import DataQuality, IndicatorReturn, ReturnEvent


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


# NewReturn's fields from ``quality`` to ``submitted_by_id``: the tail of a COPY line
TAIL_FROM, TAIL_TO = NewReturn._fields.index("quality"), NewReturn._fields.index("submitted_by_id") + 1

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
            tails: dict[tuple, str] = {}  # the fields from quality on are mostly the same: written once each
            for pk, n in zip(ids, plan.new):
                key = n[TAIL_FROM:TAIL_TO]
                try:
                    tail = tails.get(key)
                except TypeError:  # a list where a tuple was meant: not kept, written as it is
                    key, tail = None, None
                if tail is None:
                    tail = (
                        f"{text(n.quality)}\t{text(n.source_released)}\t{text(n.quality_note)}\t{text(n.ci_lower)}\t"
                        f"{text(n.ci_upper)}\t{text(n.sample_base)}\t{text(n.return_reason)}\t"
                        f"{text(dumps(list(n.confirmed_warnings)).decode())}\t{text(n.submitted_at)}\t"
                        f"{text(n.submitted_by_id)}\n"
                    )
                    if key is not None:
                        tails[key] = tail
                append(
                    f"{pk}\t{stamp}{n.organisation_id}\t{n.period_id}\t{n.indicator_id}\t{n.locality_id}\t"
                    f"{text(n.breakdown_id)}\t{text(n.value)}\t{text(n.numerator)}\t{text(n.denominator)}\t"
                    f"{text(n.commentary)}\t{n.state}\t{n.version}\t{tail}"
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
